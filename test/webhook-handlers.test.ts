import { createServer, request as httpRequest, type Server } from "node:http";
import { type AddressInfo, connect } from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import { twilio } from "../providers/twilio/index.js";
import { MemoryOptOutStore } from "../src/consent/memory.js";
import { isConfigError } from "../src/errors.js";
import { Gateway } from "../src/gateway/gateway.js";
import { createFetchHandler } from "../src/http/fetch.js";
import { createNodeHandler, type NodeHandlerOptions } from "../src/http/node-handler.js";
import type { Logger } from "../src/logger.js";
import { buildTwilioInbound, signTwilioRequest } from "../src/testing/twilio.js";

const authToken = "test-twilio-auth-token-0031";
const accountSid = "AC00000000000000000000000000000031";
const ownNumber = "+12025550100";
const publicUrl = "https://sms.example.com/hooks";

interface Answer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

let server: Server | undefined;

afterEach(async () => {
  server?.closeAllConnections();
  await new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve()));
  server = undefined;
});

function setup(options: NodeHandlerOptions = { publicUrl }) {
  const store = new MemoryOptOutStore();
  const gateway = new Gateway({ providers: [twilio({ accountSid, authToken })], store });

  return { store, gateway, listener: createNodeHandler(gateway, options) };
}

async function listen(listener: ReturnType<typeof createNodeHandler>): Promise<number> {
  const created = createServer((req, res) => {
    void listener(req, res);
  });

  server = created;
  await new Promise<void>((resolve) => created.listen(0, "127.0.0.1", resolve));
  return (created.address() as AddressInfo).port;
}

/** Builds a signed Twilio STOP for `path` (with its query) under `base`. */
function signedStop(base: string, path: string, from: string) {
  const { params, body } = buildTwilioInbound({ from, to: ownNumber, body: "STOP", accountSid });
  const signature = signTwilioRequest({ authToken, url: `${base}${path}`, params });

  return {
    body,
    headers: {
      "content-type": "application/x-www-form-urlencoded",
      "x-twilio-signature": signature,
    },
  };
}

function send(
  port: number,
  input: { method?: string; path: string; headers?: Record<string, string>; body?: string },
): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(
      { host: "127.0.0.1", port, method: input.method ?? "POST", path: input.path, agent: false },
      (res) => {
        let body = "";
        res.setEncoding("utf8");
        res.on("data", (chunk: string) => {
          body += chunk;
        });
        res.on("end", () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
      },
    );

    req.on("error", reject);
    for (const [name, value] of Object.entries(input.headers ?? {})) {
      req.setHeader(name, value);
    }
    req.end(input.body);
  });
}

function recordingLogger(): Logger & { lines: Array<{ level: string; message?: string }> } {
  const lines: Array<{ level: string; message?: string }> = [];
  const at = (level: string) => (_: Record<string, unknown>, message?: string) => {
    lines.push({ level, message });
  };

  return { lines, debug: at("debug"), info: at("info"), warn: at("warn"), error: at("error") };
}

describe("createNodeHandler", () => {
  it("records a signed STOP", async () => {
    const { store, listener } = setup();
    const port = await listen(listener);
    const path = "/webhooks/twilio/inbound?tag=O'hara+x";

    const answer = await send(port, { path, ...signedStop(publicUrl, path, "+12025550141") });

    expect(answer.status).toBe(200);
    expect(answer.headers["content-type"]).toContain("text/xml");
    expect(await store.isOptedOut("+12025550141")).toBe(true);
  });

  it("drops trailing slashes of publicUrl", async () => {
    const { store, listener } = setup({ publicUrl: `${publicUrl}//` });
    const port = await listen(listener);
    const path = "/webhooks/twilio/inbound";

    const answer = await send(port, { path, ...signedStop(publicUrl, path, "+12025550142") });

    expect(answer.status).toBe(200);
    expect(await store.isOptedOut("+12025550142")).toBe(true);
  });

  it("signs over the Host header without publicUrl", async () => {
    const { store, listener } = setup({});
    const port = await listen(listener);
    const path = "/webhooks/twilio/inbound";
    const signed = signedStop(`http://127.0.0.1:${port}`, path, "+12025550143");

    const answer = await send(port, { path, ...signed });

    expect(answer.status).toBe(200);
    expect(await store.isOptedOut("+12025550143")).toBe(true);
  });

  it("trusts forwarded headers of a listed proxy", async () => {
    // A tunnel ends TLS and forwards plain HTTP, and Twilio signed the public https URL.
    const path = "/webhooks/twilio/inbound";
    const signed = signedStop("https://sms.example.com", path, "+12025550147");
    const forwarded = {
      ...signed.headers,
      host: "sms.example.com",
      "x-forwarded-proto": "https",
    };
    const trusting = setup({ trustProxy: ["127.0.0.1"] });
    const untrusting = setup({ trustProxy: ["10.0.0.1"] });

    const accepted = await send(await listen(trusting.listener), {
      path,
      body: signed.body,
      headers: forwarded,
    });
    server?.closeAllConnections();
    server?.close();
    const rejected = await send(await listen(untrusting.listener), {
      path,
      body: signed.body,
      headers: forwarded,
    });

    expect(accepted.status).toBe(200);
    expect(await trusting.store.isOptedOut("+12025550147")).toBe(true);
    expect(rejected.status).toBe(403);
    expect(await untrusting.store.isOptedOut("+12025550147")).toBe(false);
  });

  it("rejects a wrong signature with 403", async () => {
    const { store, listener } = setup();
    const port = await listen(listener);
    const path = "/webhooks/twilio/inbound";
    const signed = signedStop("https://other.example.com", path, "+12025550144");

    const answer = await send(port, { path, ...signed });

    expect(answer.status).toBe(403);
    expect(await store.isOptedOut("+12025550144")).toBe(false);
  });

  it("answers 404 off the webhook routes", async () => {
    const port = await listen(setup().listener);

    const answer = await send(port, { method: "GET", path: "/webhooks/twilio/other" });

    expect(answer.status).toBe(404);
    expect(JSON.parse(answer.body)).toMatchObject({ error: "not-found" });
  });

  it("answers 404 for an unknown provider", async () => {
    const port = await listen(setup().listener);

    const answer = await send(port, { path: "/webhooks/nobody/inbound", body: "a=1" });

    expect(answer.status).toBe(404);
    expect(JSON.parse(answer.body)).toMatchObject({ error: "unknown-provider" });
  });

  it("answers 405 with Allow for PUT", async () => {
    const port = await listen(setup().listener);

    const answer = await send(port, { method: "PUT", path: "/webhooks/twilio/inbound" });

    expect(answer.status).toBe(405);
    expect(answer.headers.allow).toBe("GET, POST");
    expect(JSON.parse(answer.body)).toMatchObject({ error: "method-not-allowed" });
  });

  it("answers 413 and closes for a large body", async () => {
    const logger = recordingLogger();
    const { store, listener } = setup({ publicUrl, maxBodyBytes: 100, logger });
    const port = await listen(listener);
    const path = "/webhooks/twilio/inbound";
    const signed = signedStop(publicUrl, path, "+12025550145");

    const answer = await send(port, { path, ...signed });

    expect(answer.status).toBe(413);
    expect(answer.headers.connection).toBe("close");
    expect(JSON.parse(answer.body)).toMatchObject({ error: "payload-too-large" });
    expect(await store.isOptedOut("+12025550145")).toBe(false);
    expect(logger.lines).toEqual([{ level: "warn", message: "Webhook rejected: body too large" }]);
  });

  it("answers 415 for a compressed body", async () => {
    const { store, listener } = setup();
    const port = await listen(listener);
    const path = "/webhooks/twilio/inbound";
    const signed = signedStop(publicUrl, path, "+12025550148");

    const answer = await send(port, {
      path,
      body: signed.body,
      headers: { ...signed.headers, "content-encoding": "gzip" },
    });

    expect(answer.status).toBe(415);
    expect(answer.headers.connection).toBe("close");
    expect(JSON.parse(answer.body)).toMatchObject({ error: "unsupported-content-encoding" });
    expect(await store.isOptedOut("+12025550148")).toBe(false);
  });

  it("reads a body marked identity", async () => {
    const { store, listener } = setup();
    const port = await listen(listener);
    const path = "/webhooks/twilio/inbound";
    const signed = signedStop(publicUrl, path, "+12025550149");

    const answer = await send(port, {
      path,
      body: signed.body,
      headers: { ...signed.headers, "content-encoding": "Identity" },
    });

    expect(answer.status).toBe(200);
    expect(await store.isOptedOut("+12025550149")).toBe(true);
  });

  it("logs a client that left mid-body", async () => {
    const logger = recordingLogger();
    const { listener } = setup({ publicUrl, logger });
    let settled: Promise<void> | undefined;
    const created = createServer((req, res) => {
      settled = listener(req, res);
    });

    server = created;
    await new Promise<void>((resolve) => created.listen(0, "127.0.0.1", resolve));
    const socket = connect((created.address() as AddressInfo).port, "127.0.0.1");
    const continued = new Promise((resolve) => socket.once("data", resolve));

    socket.write(
      "POST /webhooks/twilio/inbound HTTP/1.1\r\nHost: x\r\nContent-Length: 50\r\n" +
        "Expect: 100-continue\r\n\r\n",
    );
    await continued;
    socket.write("Body=ST");
    socket.destroy();

    await expect(settled).resolves.toBeUndefined();
    expect(logger.lines).toEqual([
      { level: "warn", message: "Client went away before the webhook body was read" },
    ]);
  });

  it("rejects invalid options", () => {
    const gateway = setup().gateway;
    const invalid: Array<[unknown, string]> = [
      [{ maxBodyBytes: 0 }, "maxBodyBytes"],
      [{ maxBodyBytes: 1.5 }, "maxBodyBytes"],
      [{ maxBodyBytes: Number.NaN }, "maxBodyBytes"],
      [{ publicUrl: "sms.example.com" }, "publicUrl"],
      [{ publicUrl: "https://sms.example.com/hooks?x=1" }, "publicUrl"],
      [{ publicUrl: "ftp://sms.example.com" }, "publicUrl"],
      [{ trustProxy: "127.0.0.1" }, "trustProxy"],
      [{ trustProxy: ["bogus"] }, "trustProxy[0]"],
      [{ trustProxy: ["10.0.0.1", null] }, "trustProxy[1]"],
      [{ trustProxy: ["10.0.0.0/33"] }, "trustProxy[0]"],
      [{ logger: 5 }, "logger"],
      [{ logger: {} }, "logger"],
      [null, "options"],
    ];

    for (const [options, path] of invalid) {
      let caught: unknown;
      try {
        createNodeHandler(gateway, options as NodeHandlerOptions);
      } catch (error) {
        caught = error;
      }

      expect(isConfigError(caught), JSON.stringify(options)).toBe(true);
      expect((caught as { path: string }).path).toBe(path);
    }
  });

  it("rejects a missing gateway", () => {
    let caught: unknown;
    try {
      createNodeHandler(null as unknown as Gateway, { publicUrl });
    } catch (error) {
      caught = error;
    }

    expect(isConfigError(caught)).toBe(true);
    expect((caught as { path: string }).path).toBe("gateway");
  });

  it("resolves when the logger throws", async () => {
    const throwing = () => {
      throw new Error("logger down");
    };
    const logger = { debug: throwing, info: throwing, warn: throwing, error: throwing };
    const { listener } = setup({ publicUrl, logger });
    let settled: Promise<void> | undefined;
    const created = createServer((req, res) => {
      settled = listener(req, res);
    });

    server = created;
    await new Promise<void>((resolve) => created.listen(0, "127.0.0.1", resolve));
    const socket = connect((created.address() as AddressInfo).port, "127.0.0.1");
    const continued = new Promise((resolve) => socket.once("data", resolve));

    socket.write(
      "POST /webhooks/twilio/inbound HTTP/1.1\r\nHost: x\r\nContent-Length: 50\r\n" +
        "Expect: 100-continue\r\n\r\n",
    );
    await continued;
    socket.destroy();

    await expect(settled).resolves.toBeUndefined();
  });
});

describe("createFetchHandler", () => {
  function fetchSetup(maxBodyBytes?: number) {
    const store = new MemoryOptOutStore();
    const gateway = new Gateway({ providers: [twilio({ accountSid, authToken })], store });

    return { store, handler: createFetchHandler(gateway, { publicUrl, maxBodyBytes }) };
  }

  function post(path: string, signed: ReturnType<typeof signedStop>): Request {
    return new Request(`http://internal:8080${path}`, {
      method: "POST",
      headers: signed.headers,
      body: signed.body,
    });
  }

  it("records a signed STOP", async () => {
    const { store, handler } = fetchSetup();
    const path = "/webhooks/twilio/inbound";

    const response = await handler(post(path, signedStop(publicUrl, path, "+12025550146")));

    expect(response.status).toBe(200);
    expect(await store.isOptedOut("+12025550146")).toBe(true);
  });

  it("answers 404 off the webhook routes", async () => {
    const { handler } = fetchSetup();

    const response = await handler(new Request("http://internal/healthz"));

    expect(response.status).toBe(404);
  });

  it("answers 405 for PUT", async () => {
    const { handler } = fetchSetup();

    const response = await handler(
      new Request("http://internal/webhooks/twilio/inbound", { method: "PUT", body: "a=1" }),
    );

    expect(response.status).toBe(405);
    expect(response.headers.get("allow")).toBe("GET, POST");
  });

  it("answers 413 for a large body", async () => {
    const { store, handler } = fetchSetup(100);
    const path = "/webhooks/twilio/inbound";

    const response = await handler(post(path, signedStop(publicUrl, path, "+12025550147")));

    expect(response.status).toBe(413);
    expect(await store.isOptedOut("+12025550147")).toBe(false);
  });
});
