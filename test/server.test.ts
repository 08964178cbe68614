import { mkdtemp, readFile, rm, stat, writeFile } from "node:fs/promises";
import { createServer, request as httpRequest, type IncomingHttpHeaders } from "node:http";
import { type AddressInfo, connect, type Socket } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { parseConfig, type SmsgateConfigInput } from "../src/cli/config.js";
import { devFilePath, readDevSecrets } from "../src/cli/dev.js";
import { verifyForwardSignature } from "../src/cli/forward.js";
import { createLogger } from "../src/cli/log.js";
import { loopbackFilePath } from "../src/cli/loopback.js";
import { createRuntime, type Runtime } from "../src/cli/runtime.js";
import { runServe } from "../src/cli/serve.js";
import { type RunningServer, startServer } from "../src/cli/server.js";
import { type ConfigError, isConfigError, isRecipientOptedOutError } from "../src/errors.js";
import type { Logger } from "../src/logger.js";
import { buildTwilioInbound, signTwilioRequest } from "../src/testing/twilio.js";

interface Response {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

interface RequestInput {
  method?: string;
  path: string;
  headers?: Record<string, string>;
  body?: string;
}

/** Sends one request on a fresh connection, with the path exactly as given. */
function send(port: number, input: RequestInput): Promise<Response> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(
      {
        host: "127.0.0.1",
        port,
        method: input.method ?? "GET",
        path: input.path,
        headers: input.headers,
        agent: false,
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on("data", (chunk: Buffer) => chunks.push(chunk));
        res.on("end", () =>
          resolve({
            status: res.statusCode ?? 0,
            headers: res.headers,
            body: Buffer.concat(chunks).toString("utf8"),
          }),
        );
      },
    );
    req.on("error", reject);
    req.end(input.body);
  });
}

/** Writes raw bytes and resolves with everything received until the server closes. */
function sendRaw(port: number, text: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, "127.0.0.1");
    let received = "";
    socket.setEncoding("utf8");
    socket.on("data", (chunk: string) => {
      received += chunk;
    });
    socket.on("error", (error: NodeJS.ErrnoException) =>
      error.code === "ECONNRESET" ? resolve(received) : reject(error),
    );
    socket.on("close", () => resolve(received));
    socket.write(text);
  });
}

/** Opens a connection, completes one request on it, and leaves it open (keep-alive). */
function openKeptAlive(port: number): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, "127.0.0.1");
    socket.on("error", reject);
    socket.once("data", () => resolve(socket));
    socket.write("GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n");
  });
}

interface LogEntry {
  level: string;
  object: Record<string, unknown>;
  message: string | undefined;
}

function recordingLogger(): Logger & { entries: LogEntry[] } {
  const entries: LogEntry[] = [];
  const at =
    (level: string) =>
    (object: Record<string, unknown>, message?: string): void => {
      entries.push({ level, object, message });
    };
  return { entries, debug: at("debug"), info: at("info"), warn: at("warn"), error: at("error") };
}

async function waitFor(condition: () => boolean): Promise<void> {
  for (let waited = 0; !condition(); waited += 20) {
    if (waited > 10_000) {
      throw new Error("timed out waiting for the condition");
    }
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

let directory: string;
let runtime: Runtime | undefined;
let server: RunningServer | undefined;

beforeEach(async () => {
  directory = await mkdtemp(join(tmpdir(), "smsgate-server-"));
});

afterEach(async () => {
  await server?.close();
  await runtime?.close();
  server = undefined;
  runtime = undefined;
  await rm(directory, { recursive: true, force: true });
});

async function startDev(
  input: SmsgateConfigInput = {},
  logger: Logger = recordingLogger(),
): Promise<{ runtime: Runtime; server: RunningServer; authToken: string }> {
  const config = parseConfig({ store: { type: "sqlite", path: "smsgate.db" }, ...input }, {});
  runtime = await createRuntime(config, { cwd: directory, logger });
  server = await startServer(runtime, { logger, port: 0 });
  const secrets = await readDevSecrets(join(directory, "smsgate.db"));
  return { runtime, server, authToken: secrets?.twilio.authToken ?? "" };
}

/** Builds a signed inbound webhook for the development account. */
function signedInbound(
  url: string,
  authToken: string,
  fields: { from: string; body: string; messageSid?: string },
): { body: string; headers: Record<string, string> } {
  const built = buildTwilioInbound({
    from: fields.from,
    to: "+15005550006",
    body: fields.body,
    messageSid: fields.messageSid,
    accountSid: runtime?.dev?.accountSid,
  });
  const signature = signTwilioRequest({ authToken, url, params: built.params });
  return {
    body: built.body,
    headers: {
      "content-type": "application/x-www-form-urlencoded",
      "x-twilio-signature": signature,
    },
  };
}

describe("server routing", () => {
  it("returns 404 for unknown paths", async () => {
    const { server } = await startDev();

    for (const path of ["/", "/webhooks/twilio", "/webhooks/twilio/other", "/healthz/"]) {
      const response = await send(server.port, { path });
      expect(response.status, path).toBe(404);
      expect(JSON.parse(response.body).error, path).toBe("not-found");
    }
  });

  it("returns 404 for unknown providers", async () => {
    const { server } = await startDev();

    const response = await send(server.port, {
      method: "POST",
      path: "/webhooks/vonage/inbound",
      body: "a=b",
    });

    expect(response.status).toBe(404);
    expect(response.body).toContain("vonage");
  });

  it("returns 405 with Allow", async () => {
    const { server } = await startDev();

    const put = await send(server.port, { method: "PUT", path: "/webhooks/twilio/inbound" });
    const post = await send(server.port, { method: "POST", path: "/healthz", body: "" });

    expect(put.status).toBe(405);
    expect(put.headers.allow).toBe("GET, POST");
    expect(post.status).toBe(405);
    expect(post.headers.allow).toBe("GET, HEAD");
  });

  it("returns 400 for a non-path target", async () => {
    const { server } = await startDev();

    const raw = await sendRaw(
      server.port,
      "GET * HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
    );

    expect(raw.startsWith("HTTP/1.1 400")).toBe(true);
  });

  it("echoes a request id", async () => {
    const { server } = await startDev();

    const given = await send(server.port, {
      path: "/healthz",
      headers: { "x-request-id": "abc-1" },
    });
    const generated = await send(server.port, { path: "/healthz" });

    expect(given.headers["x-request-id"]).toBe("abc-1");
    expect(generated.headers["x-request-id"]).toMatch(/^[0-9a-f-]{36}$/);
  });
});

describe("server health", () => {
  it("reports ok", async () => {
    const { server } = await startDev();

    const response = await send(server.port, { path: "/healthz" });

    expect(response.status).toBe(200);
    expect(JSON.parse(response.body)).toEqual({ status: "ok" });
  });

  it("serves HEAD without a body", async () => {
    const { server } = await startDev();

    const response = await send(server.port, { method: "HEAD", path: "/healthz" });

    expect(response.status).toBe(200);
    expect(response.body).toBe("");
  });

  it("reports a failed store", async () => {
    const logger = recordingLogger();
    const { server, runtime } = await startDev({}, logger);
    await runtime.store.close();

    const response = await send(server.port, { path: "/healthz" });

    expect(response.status).toBe(503);
    expect(JSON.parse(response.body)).toEqual({ status: "unavailable" });
    expect(logger.entries.some((entry) => entry.level === "error")).toBe(true);
  });
});

describe("server webhooks", () => {
  it("records a signed STOP", async () => {
    const { server, runtime, authToken } = await startDev();
    const url = `${server.url}/webhooks/twilio/inbound`;
    const signed = signedInbound(url, authToken, { from: "+14155550143", body: "STOP" });

    const response = await send(server.port, {
      method: "POST",
      path: "/webhooks/twilio/inbound",
      ...signed,
    });

    expect(response.status).toBe(200);
    expect(response.headers["content-type"]).toContain("xml");
    expect(await runtime.store.isOptedOut("+14155550143")).toBe(true);
    const refused = await runtime.gateway.send({ to: "+14155550143", body: "hi" }).catch((e) => e);
    expect(isRecipientOptedOutError(refused)).toBe(true);
  });

  it("verifies against publicUrl", async () => {
    const publicUrl = "https://sms.example.com/prefix";
    const { server, runtime, authToken } = await startDev({ publicUrl });
    const path = "/webhooks/twilio/inbound?b=2&a=1&name=O'hara+x";
    const signed = signedInbound(`${publicUrl}${path}`, authToken, {
      from: "+14155550144",
      body: "STOP",
    });

    const response = await send(server.port, { method: "POST", path, ...signed });

    expect(response.status).toBe(200);
    expect(await runtime.store.isOptedOut("+14155550144")).toBe(true);
  });

  it("accepts a signed GET", async () => {
    const { server, runtime, authToken } = await startDev();
    const built = buildTwilioInbound({
      from: "+14155550145",
      to: "+15005550006",
      body: "STOP",
      accountSid: runtime.dev?.accountSid,
    });
    const path = `/webhooks/twilio/inbound?${built.body}`;
    const signature = signTwilioRequest({ authToken, url: `${server.url}${path}`, params: [] });

    const response = await send(server.port, {
      path,
      headers: { "x-twilio-signature": signature },
    });

    expect(response.status).toBe(200);
    expect(await runtime.store.isOptedOut("+14155550145")).toBe(true);
  });

  it("rejects a missing signature", async () => {
    const { server } = await startDev();

    const response = await send(server.port, {
      method: "POST",
      path: "/webhooks/twilio/inbound",
      headers: { "content-type": "application/x-www-form-urlencoded" },
      body: "From=%2B14155550143&Body=STOP",
    });

    expect(response.status).toBe(401);
  });

  it("rejects a wrong signature", async () => {
    const { server, runtime } = await startDev();
    const url = `${server.url}/webhooks/twilio/inbound`;
    const signed = signedInbound(url, "not-the-token", { from: "+14155550143", body: "STOP" });

    const response = await send(server.port, {
      method: "POST",
      path: "/webhooks/twilio/inbound",
      ...signed,
    });

    expect(response.status).toBe(403);
    expect(await runtime.store.isOptedOut("+14155550143")).toBe(false);
  });

  it("returns 400 for a malformed body", async () => {
    const { server, authToken } = await startDev();
    const url = `${server.url}/webhooks/twilio/inbound`;
    const params: Array<[string, string]> = [["Body", "STOP"]];
    const signature = signTwilioRequest({ authToken, url, params });

    const response = await send(server.port, {
      method: "POST",
      path: "/webhooks/twilio/inbound",
      headers: {
        "content-type": "application/x-www-form-urlencoded",
        "x-twilio-signature": signature,
      },
      body: "Body=STOP",
    });

    expect(response.status).toBe(400);
  });
});

describe("server limits", () => {
  const small = { maxBodyBytes: 64, headersTimeoutMs: 300, requestTimeoutMs: 600 };

  it("returns 413 for a large body", async () => {
    const { server } = await startDev({ limits: small });

    const response = await send(server.port, {
      method: "POST",
      path: "/webhooks/twilio/inbound",
      headers: { "transfer-encoding": "chunked" },
      body: "x".repeat(1000),
    });

    expect(response.status).toBe(413);
    expect(response.headers.connection).toBe("close");
  });

  it("returns 413 before reading", async () => {
    const { server } = await startDev({ limits: small });

    // Only the headers are sent: a 413 here cannot have waited for the body.
    const raw = await sendRaw(
      server.port,
      "POST /webhooks/twilio/inbound HTTP/1.1\r\nHost: x\r\nContent-Length: 100000\r\n\r\n",
    );

    expect(raw.startsWith("HTTP/1.1 413")).toBe(true);
    expect(raw).toContain("payload-too-large");
  });

  it("accepts a body at the limit", async () => {
    const { server } = await startDev({ limits: small });

    const response = await send(server.port, {
      method: "POST",
      path: "/webhooks/twilio/inbound",
      headers: { "content-type": "application/x-www-form-urlencoded" },
      body: "x".repeat(64),
    });

    expect(response.status).toBe(401);
  });

  it("cuts off a client that never sends the body", async () => {
    const logger = recordingLogger();
    const { server } = await startDev({ limits: small }, logger);

    const raw = await sendRaw(
      server.port,
      "POST /webhooks/twilio/inbound HTTP/1.1\r\nHost: x\r\nContent-Length: 10\r\n\r\n",
    );

    expect(raw.startsWith("HTTP/1.1 408")).toBe(true);
    const clientError = logger.entries.find((entry) => entry.message === "Client connection error");
    expect(clientError?.object.code).toBe("ERR_HTTP_REQUEST_TIMEOUT");
  });

  it("logs oversized headers once", async () => {
    const logger = recordingLogger();
    const { server } = await startDev({}, logger);
    const header = `X-Padding: ${"a".repeat(70_000)}\r\n`;

    const raw = await sendRaw(server.port, `GET /healthz HTTP/1.1\r\nHost: x\r\n${header}\r\n`);

    expect(raw.startsWith("HTTP/1.1 431")).toBe(true);
    const errors = logger.entries.filter((entry) => entry.message === "Client connection error");
    expect(errors).toHaveLength(1);
    expect(errors[0]?.object.code).toBe("HPE_HEADER_OVERFLOW");
  });

  it("cuts off a client that never ends its headers", async () => {
    const { server } = await startDev({ limits: small });

    const raw = await sendRaw(server.port, "POST /webhooks/twilio/inbound HTTP/1.1\r\nHost: x\r\n");

    expect(raw.startsWith("HTTP/1.1 408")).toBe(true);
  });

  it("returns 400 for a broken request line", async () => {
    const { server } = await startDev();

    const raw = await sendRaw(server.port, "NOT HTTP AT ALL\r\n\r\n");

    expect(raw.startsWith("HTTP/1.1 400")).toBe(true);
  });

  it("drops connections over the limit", async () => {
    const { server } = await startDev({ limits: { maxConnections: 2 } });
    const open = await Promise.all([openKeptAlive(server.port), openKeptAlive(server.port)]);

    const refused = await sendRaw(server.port, "GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n");
    for (const socket of open) {
      socket.destroy();
    }

    expect(refused).toBe("");
  });

  it("survives 50 concurrent requests", async () => {
    const { server, runtime, authToken } = await startDev();
    const url = `${server.url}/webhooks/twilio/inbound`;

    const requests = Array.from({ length: 50 }, (_, index) => {
      const from = `+1415555${String(100 + index).padStart(4, "0")}`;
      if (index % 5 === 0) {
        return send(server.port, { path: "/nowhere" }).then((r) => [index, r, 404] as const);
      }
      const token = index % 5 === 1 ? "wrong-token" : authToken;
      const signed = signedInbound(url, token, { from, body: "STOP" });
      const expected = index % 5 === 1 ? 403 : 200;
      return send(server.port, {
        method: "POST",
        path: "/webhooks/twilio/inbound",
        ...signed,
      }).then((r) => [index, r, expected] as const);
    });
    const results = await Promise.all(requests);

    for (const [index, response, expected] of results) {
      expect(response.status, `request ${index}`).toBe(expected);
    }
    expect(await runtime.store.isOptedOut("+14155550102")).toBe(true);
    expect(await runtime.store.isOptedOut("+14155550101")).toBe(false);
    expect((await send(server.port, { path: "/healthz" })).status).toBe(200);
  });
});

describe("server logging", () => {
  it("logs one line per request", async () => {
    const logger = recordingLogger();
    const { server } = await startDev({}, logger);

    await send(server.port, { path: "/healthz", headers: { "x-request-id": "req-42" } });

    const line = logger.entries.find((entry) => entry.message === "request completed");
    expect(line?.object.req).toEqual({
      id: "req-42",
      method: "GET",
      path: "/healthz",
      route: "/healthz",
    });
    expect(line?.object.res).toEqual({ statusCode: 200 });
    expect(typeof line?.object.responseTime).toBe("number");
  });

  it("adds the request id to gateway lines", async () => {
    const logger = recordingLogger();
    const { server, authToken } = await startDev({}, logger);
    const url = `${server.url}/webhooks/twilio/inbound`;
    const signed = signedInbound(url, "wrong-token", { from: "+14155550103", body: "STOP" });

    const response = await send(server.port, {
      method: "POST",
      path: "/webhooks/twilio/inbound",
      ...signed,
      headers: { ...signed.headers, "x-request-id": "req-rejected" },
    });
    const retried = signedInbound(url, authToken, { from: "+14155550103", body: "STOP" });
    const headers = { ...retried.headers, "x-request-id": "req-first" };
    const request = { method: "POST", path: "/webhooks/twilio/inbound", ...retried, headers };

    await send(server.port, request);
    await send(server.port, { ...request, headers: { ...headers, "x-request-id": "req-again" } });

    expect(response.status).toBe(403);
    const rejection = logger.entries.find((entry) => entry.message?.includes("signature check"));
    expect(rejection?.object.req).toEqual({ id: "req-rejected" });
    expect(rejection?.object.provider).toBe("twilio");
    const duplicate = logger.entries.find((entry) => entry.message?.includes("already recorded"));
    expect(duplicate?.level).toBe("info");
    expect(duplicate?.object.req).toEqual({ id: "req-again" });
  });

  it("logs a request the client left", async () => {
    const logger = recordingLogger();
    const { server } = await startDev({}, logger);
    const socket = connect(server.port, "127.0.0.1");

    // The server sends `100 Continue` once its handler has the request.
    const continued = new Promise((resolve) => socket.once("data", resolve));
    socket.write(
      "POST /webhooks/twilio/inbound?From=%2B14155550177 HTTP/1.1\r\nHost: x\r\n" +
        "Content-Type: application/x-www-form-urlencoded\r\nContent-Length: 100\r\n" +
        "Expect: 100-continue\r\n\r\n",
    );
    await continued;
    socket.write("Body=ST");
    socket.destroy();
    await waitFor(() => logger.entries.some((entry) => entry.message === "request aborted"));

    const line = logger.entries.find((entry) => entry.message === "request aborted");
    expect(line?.level).toBe("info");
    expect(line?.object.req).toMatchObject({
      method: "POST",
      path: "/webhooks/twilio/inbound",
      route: "/webhooks/:provider/:kind",
    });
    expect(line?.object.res).toEqual({ statusCode: null });
  });

  it("logs startup without the token", async () => {
    const lines: string[] = [];
    const logger = createLogger({ destination: { write: (text) => lines.push(text) } });
    const { server, authToken } = await startDev({}, logger);
    const output = lines.join("");

    expect(output).toContain(server.url);
    expect(output).toContain(`"port":${server.port}`);
    expect(output).toContain(join(directory, "smsgate.db"));
    expect(output).toContain("POST /webhooks/:provider/inbound");
    expect(output).toContain(loopbackFilePath(join(directory, "smsgate.db")));
    expect(output).toContain(devFilePath(join(directory, "smsgate.db")));
    expect(output).toContain("smsgate simulate");
    expect(authToken).toMatch(/^[0-9a-f]{32}$/);
    expect(output).not.toContain(authToken);
  });

  it("warns when verification is off", async () => {
    const logger = recordingLogger();
    await startDev({ insecureSkipSignatureVerification: true }, logger);

    const warning = logger.entries.find(
      (entry) => entry.level === "warn" && entry.object.insecureSkipSignatureVerification,
    );
    expect(warning?.message).toContain("NOT verified");
  });

  it("masks phone numbers in request logs", async () => {
    const lines: string[] = [];
    const logger = createLogger({ destination: { write: (text) => lines.push(text) } });
    const { server, authToken } = await startDev({}, logger);
    const url = `${server.url}/webhooks/twilio/inbound`;
    const signed = signedInbound(url, authToken, { from: "+14155550199", body: "STOP" });

    await send(server.port, { method: "POST", path: "/webhooks/twilio/inbound", ...signed });
    await send(server.port, { path: "/webhooks/%2B14155550199/x" });

    const output = lines.join("");
    expect(output).not.toContain("14155550199");
    expect(output).not.toContain(signed.headers["x-twilio-signature"]);
  });
});

describe("server shutdown", () => {
  it("finishes a request in flight", async () => {
    const { server, authToken } = await startDev();
    const url = `${server.url}/webhooks/twilio/inbound`;
    const signed = signedInbound(url, authToken, { from: "+14155550150", body: "STOP" });
    let closing: Promise<void> | undefined;

    const pending = new Promise<Response>((resolve, reject) => {
      const req = httpRequest(
        {
          host: "127.0.0.1",
          port: server.port,
          method: "POST",
          path: "/webhooks/twilio/inbound",
          headers: { ...signed.headers, "content-length": Buffer.byteLength(signed.body) },
          agent: false,
        },
        (res) => {
          const chunks: Buffer[] = [];
          res.on("data", (chunk: Buffer) => chunks.push(chunk));
          res.on("end", () =>
            resolve({ status: res.statusCode ?? 0, headers: res.headers, body: "" }),
          );
        },
      );
      req.on("error", reject);
      req.flushHeaders();
      req.write(signed.body.slice(0, 10));
      setTimeout(() => {
        closing = server.close();
        setTimeout(() => req.end(signed.body.slice(10)), 50);
      }, 50);
    });

    const response = await pending;
    await closing;

    expect(response.status).toBe(200);
    expect(response.headers.connection).toBe("close");
    await expect(send(server.port, { path: "/healthz" })).rejects.toThrow(/ECONNREFUSED/);
  });
});

describe("server shutdown with unfinished headers", () => {
  it("closes the connection without waiting", async () => {
    const config = parseConfig({ store: { type: "sqlite", path: "smsgate.db" } }, {});
    runtime = await createRuntime(config, { cwd: directory });
    // Without the early close, close() would wait for this deadline, past the test's limit.
    server = await startServer(runtime, { port: 0, shutdownTimeoutMs: 60_000 });
    const socket = connect(server.port, "127.0.0.1");
    const ended = new Promise((resolve) => socket.once("close", resolve));

    await new Promise<void>((resolve) => socket.once("connect", resolve));
    socket.write("GET /hea");
    await new Promise((resolve) => setTimeout(resolve, 50));
    await server.close();
    await ended;

    expect(socket.destroyed).toBe(true);
  });
});

describe("createRuntime development mode", () => {
  it("creates and reuses the dev token", async () => {
    const config = parseConfig({ store: { type: "sqlite", path: "data/dev.db" } }, {});
    const first = await createRuntime(config, { cwd: directory });
    await first.close();
    const second = await createRuntime(config, { cwd: directory });
    await second.close();

    const path = devFilePath(join(directory, "data/dev.db"));
    expect(first.dev?.secretsCreated).toBe(true);
    expect(second.dev?.secretsCreated).toBe(false);
    expect(second.dev?.secretsPath).toBe(path);
    expect(second.dev?.accountSid).toBe(first.dev?.accountSid);
    expect((await stat(path)).mode & 0o777).toBe(0o600);
    const secrets = JSON.parse(await readFile(path, "utf8"));
    expect(secrets.twilio.accountSid).toMatch(/^AC[0-9a-f]{32}$/);
    expect(secrets.twilio.authToken).toMatch(/^[0-9a-f]{32}$/);
  });

  it("sends to the loopback file", async () => {
    const config = parseConfig({ store: { type: "sqlite", path: "loop.db" } }, {});
    runtime = await createRuntime(config, { cwd: directory });

    const result = await runtime.gateway.send({ to: "+14155550143", body: "Hello" });

    expect(runtime.providers.map((provider) => provider.name)).toEqual(["twilio"]);
    expect(result.status).toBe("sent");
    expect(result.messageId).toMatch(/^LB[0-9a-f]{32}$/);
    const text = await readFile(loopbackFilePath(join(directory, "loop.db")), "utf8");
    const record = JSON.parse(text.trim());
    expect(record.messageId).toBe(result.messageId);
    expect(record.to).toBe("+14155550143");
    expect(record.body).toBe("Hello");
    expect(Number.isNaN(Date.parse(record.sentAt))).toBe(false);
  });

  it("warns of a new store beside old dev files", async () => {
    const config = parseConfig({ store: { type: "sqlite", path: "kept.db" } }, {});
    const firstLogger = recordingLogger();
    const first = await createRuntime(config, {
      cwd: directory,
      logger: firstLogger,
      createStore: true,
    });
    await first.close();
    expect(firstLogger.entries.filter((entry) => entry.level === "warn")).toEqual([]);
    for (const suffix of ["", "-wal", "-shm"]) {
      await rm(join(directory, `kept.db${suffix}`), { force: true });
    }
    const logger = recordingLogger();

    runtime = await createRuntime(config, { cwd: directory, logger, createStore: true });

    const warning = logger.entries.find((entry) => entry.level === "warn");
    expect(warning?.message).toContain("Created a new, empty store");
    expect(warning?.object.leftoverFiles).toEqual([devFilePath(join(directory, "kept.db"))]);
  });

  it("keeps dev files beside the default path", async () => {
    const config = parseConfig({ store: { type: "memory" } }, {});
    runtime = await createRuntime(config, { cwd: directory });

    expect(runtime.storePath).toBeUndefined();
    expect(runtime.dev?.secretsPath).toBe(devFilePath(join(directory, "smsgate.db")));
  });

  it("uses a configured provider", async () => {
    const config = parseConfig(
      {
        store: { type: "memory" },
        providers: {
          twilio: {
            accountSid: "AC0123456789abcdef0123456789abcdef",
            authToken: "token",
            apiBaseUrl: "http://127.0.0.1:9",
          },
        },
      },
      {},
    );
    runtime = await createRuntime(config, { cwd: directory });

    expect(runtime.dev).toBeUndefined();
    expect(runtime.providers.map((provider) => provider.name)).toEqual(["twilio"]);
    expect(await readDevSecrets(join(directory, "smsgate.db"))).toBeUndefined();
  });
});

const threeProviders: SmsgateConfigInput["providers"] = {
  plivo: { authId: "MA0123456789ABCDEFGH", authToken: "plivo-token", from: "+14155550199" },
  vonage: { apiKey: "a1b2c3d4", apiSecret: "api-secret", signatureSecret: "sig-secret" },
  twilio: { accountSid: "AC0123456789abcdef0123456789abcdef", authToken: "twilio-token" },
};

describe("createRuntime providers", () => {
  it("builds twilio, vonage, plivo in order", async () => {
    const config = parseConfig({ store: { type: "memory" }, providers: threeProviders }, {});
    runtime = await createRuntime(config, { cwd: directory });

    expect(runtime.dev).toBeUndefined();
    expect(runtime.providers.map((provider) => provider.name)).toEqual([
      "twilio",
      "vonage",
      "plivo",
    ]);
  });

  it("names the option a provider rejects", async () => {
    const config = parseConfig(
      {
        store: { type: "memory" },
        providers: { vonage: { apiSecret: "s", signatureSecret: "x" } },
      },
      {},
    );
    const error = await createRuntime(config, { cwd: directory }).catch((e: unknown) => e);

    expect(isConfigError(error)).toBe(true);
    expect((error as ConfigError).path).toBe("providers.vonage.apiKey");
  });

  it("warns about a missing plivo token", async () => {
    const logger = recordingLogger();
    const config = parseConfig(
      {
        store: { type: "memory" },
        insecureSkipSignatureVerification: true,
        providers: {
          vonage: { apiKey: "a1b2c3d4", apiSecret: "api-secret" },
          plivo: { authId: "MA0123456789ABCDEFGH", from: "+14155550199" },
        },
      },
      {},
    );
    runtime = await createRuntime(config, { cwd: directory, logger });

    const warning = logger.entries.find((entry) => entry.level === "warn");

    expect(runtime.providers.map((provider) => provider.name)).toEqual(["vonage", "plivo"]);
    expect(warning?.object.option).toBe("providers.plivo.authToken");
    expect(warning?.message).toContain("sends through Plivo will fail");
  });

  it("logs every provider and route", async () => {
    const logger = recordingLogger();
    const config = parseConfig({ store: { type: "memory" }, providers: threeProviders }, {});
    runtime = await createRuntime(config, { cwd: directory, logger });
    server = await startServer(runtime, { logger, port: 0 });

    const first = logger.entries[0];
    const urls = logger.entries.map((entry) => entry.object.inbound);

    expect(first?.object.providers).toEqual(["twilio", "vonage", "plivo"]);
    expect(first?.object.routes).toContain("GET /webhooks/:provider/inbound");
    expect(first?.object.routes).toContain("POST /webhooks/:provider/status");
    expect(first?.message).toContain("twilio, vonage, plivo");
    expect(urls).toContain(`${server.url}/webhooks/vonage/inbound`);
    expect(urls).toContain(`${server.url}/webhooks/plivo/inbound`);
  });
});

describe("runServe", () => {
  it("forwards a STOP and shuts down", async () => {
    const received: Array<{ headers: IncomingHttpHeaders; body: string }> = [];
    const app = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on("data", (chunk: Buffer) => chunks.push(chunk));
      req.on("end", () => {
        received.push({ headers: req.headers, body: Buffer.concat(chunks).toString("utf8") });
        res.writeHead(200).end();
      });
    });
    await new Promise<void>((resolve) => app.listen(0, "127.0.0.1", resolve));
    const appPort = (app.address() as AddressInfo).port;
    const storePath = join(directory, "serve.db");
    const configFile = join(directory, "smsgate.config.json");
    await writeFile(
      configFile,
      JSON.stringify({
        listen: { port: 0 },
        store: { type: "sqlite", path: storePath },
        // biome-ignore lint/suspicious/noTemplateCurlyInString: a configuration reference
        forward: { url: `http://127.0.0.1:${appPort}/events`, secret: "${FORWARD_SECRET}" },
      }),
    );
    const output: string[] = [];
    const io = {
      stdout: { write: (text: string) => output.push(text) },
      stderr: { write: (text: string) => output.push(text) },
      env: { FORWARD_SECRET: "serve-secret" },
    };
    const controller = new AbortController();
    let listening: (server: RunningServer) => void = () => {};
    const started = new Promise<RunningServer>((resolve) => {
      listening = resolve;
    });

    const exit = runServe(["--config", configFile], io, {
      shutdownSignal: controller.signal,
      onListening: listening,
    });
    const running = await started;
    const secrets = await readDevSecrets(storePath);
    const built = buildTwilioInbound({
      from: "+14155550160",
      to: "+15005550006",
      body: "STOP",
      accountSid: secrets?.twilio.accountSid,
    });
    const url = `${running.url}/webhooks/twilio/inbound`;
    const signature = signTwilioRequest({
      authToken: secrets?.twilio.authToken ?? "",
      url,
      params: built.params,
    });
    const response = await send(running.port, {
      method: "POST",
      path: "/webhooks/twilio/inbound",
      headers: {
        "content-type": "application/x-www-form-urlencoded",
        "x-twilio-signature": signature,
      },
      body: built.body,
    });
    await waitFor(() => received.some((r) => r.headers["x-smsgate-event-type"] === "opt-out"));
    controller.abort();
    const code = await exit;
    await new Promise<void>((resolve) => app.close(() => resolve()));

    expect(response.status).toBe(200);
    const optOut = received.find((r) => r.headers["x-smsgate-event-type"] === "opt-out");
    const header = optOut?.headers["x-smsgate-signature"] as string;
    expect(verifyForwardSignature("serve-secret", header, optOut?.body ?? "")).toBe(true);
    expect(JSON.parse(optOut?.body ?? "{}").data.action).toBe("opt-out");
    expect(code).toBe(0);
    expect(output.join("")).toContain("Forwarding every webhook event");
    expect(output.join("")).toContain("Shutdown complete");
    expect(output.join("")).not.toContain("serve-secret");
  });

  it("exits 2 for an invalid configuration", async () => {
    const configFile = join(directory, "bad.json");
    await writeFile(configFile, JSON.stringify({ listen: { port: "x" } }));
    const errors: string[] = [];
    const io = { stdout: { write: () => true }, stderr: { write: (t: string) => errors.push(t) } };

    const code = await runServe(["--config", configFile], io);

    expect(code).toBe(2);
    expect(errors.join("")).toContain(
      'invalid configuration: listen.port: must be a number (received the string "x")',
    );
  });

  it("exits 1 when the port is taken", async () => {
    const blocker = createServer();
    await new Promise<void>((resolve) => blocker.listen(0, "127.0.0.1", resolve));
    const port = (blocker.address() as AddressInfo).port;
    const configFile = join(directory, "taken.json");
    await writeFile(
      configFile,
      JSON.stringify({
        listen: { port },
        store: { type: "sqlite", path: join(directory, "t.db") },
      }),
    );
    const errors: string[] = [];
    const io = { stdout: { write: () => true }, stderr: { write: (t: string) => errors.push(t) } };

    const code = await runServe(["--config", configFile], io);
    await new Promise<void>((resolve) => blocker.close(() => resolve()));

    expect(code).toBe(1);
    expect(errors.join("")).toContain(
      `Cannot listen on 127.0.0.1:${port}: the port is already in use by another process ` +
        "(EADDRINUSE); stop that process, or set listen.port to a free port (0 picks one)",
    );
  });

  it("exits 2 for a host that is not an address", async () => {
    // The host fails validation, so the server never looks it up or listens.
    const configFile = join(directory, "bad-host.json");
    await writeFile(configFile, JSON.stringify({ listen: { host: "999.1.1.1", port: 0 } }));
    const errors: string[] = [];
    const io = { stdout: { write: () => true }, stderr: { write: (t: string) => errors.push(t) } };

    const code = await runServe(["--config", configFile], io);

    expect(code).toBe(2);
    expect(errors.join("")).toContain(
      'invalid configuration: listen.host: "999.1.1.1" is not a valid IPv4 address',
    );
  });

  it("rejects unknown options", async () => {
    const io = { stdout: { write: () => true }, stderr: { write: () => true } };

    await expect(runServe(["--port", "1"], io)).rejects.toThrow(
      'unknown option --port for "smsgate serve"',
    );
    await expect(runServe(["extra"], io)).rejects.toThrow('unexpected argument "extra"');
    await expect(runServe(["--config", " "], io)).rejects.toThrow(/--config/);
  });
});
