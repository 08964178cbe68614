import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { makeTempDir, parseJsonLines, removeTempDir } from "./helpers/cli.js";
import { hostileBody, webhookHeaderNames } from "./helpers/hostile.js";
import {
  type ProviderApis,
  startProviderApis,
  writeProvidersServerConfig,
} from "./helpers/providers.js";
import { killRunningServers, launchServer, type ServerProcess } from "./helpers/server-process.js";
import { type RawExchange, rawExchange, responseStatus } from "./helpers/webhooks.js";

// Hostile requests sent over raw TCP to the built server. Whatever arrives, the server
// responds with a 4xx (or 2xx), never a 5xx, stays up, and closes each exchange within the
// time limits configured below.

let apis: ProviderApis;
let dir: string;
let server: ServerProcess;
let insecureServer: ServerProcess;
let receiver: Server;

const limits = { maxBodyBytes: 65_536, headersTimeoutMs: 400, requestTimeoutMs: 800 };

/** Starts an application that accepts every forwarded event. */
async function startReceiver(): Promise<string> {
  receiver = createServer((request, response) => {
    request.resume();
    request.on("end", () => response.writeHead(200).end());
  });
  await new Promise<void>((resolve) => receiver.listen(0, "127.0.0.1", resolve));

  return `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/events`;
}

beforeAll(async () => {
  apis = await startProviderApis();
  dir = await makeTempDir("smsgate-fuzz-server-");

  const secure = await writeProvidersServerConfig(`${dir}/secure`, apis, { limits });
  // Without signature checks, hostile bodies reach the parsers, the store and the outbox.
  const insecure = await writeProvidersServerConfig(`${dir}/insecure`, apis, {
    limits,
    insecureSkipSignatureVerification: true,
    forward: { url: await startReceiver(), secret: "fuzz-forward-secret" },
  });

  [server, insecureServer] = await Promise.all([
    launchServer(secure.configPath, { cwd: dir }),
    launchServer(insecure.configPath, { cwd: dir }),
  ]);
});

afterAll(async () => {
  const exits = await Promise.all([server?.kill("SIGTERM"), insecureServer?.kill("SIGTERM")]);

  await killRunningServers();
  await new Promise((resolve) => receiver?.close(resolve));
  await apis?.close();
  await removeTempDir(dir);
  expect(exits.map((exit) => exit?.code)).toEqual([0, 0]);
});

const runs = { numRuns: 200 };

// Longer than the request time limit, so that every exchange ends on the server's side.
const exchangeLimitMs = 4000;

const paths = fc.constantFrom(
  "/webhooks/twilio/inbound",
  "/webhooks/twilio/status",
  "/webhooks/vonage/inbound",
  "/webhooks/vonage/status",
  "/webhooks/plivo/inbound",
  "/webhooks/plivo/status",
  "/webhooks/unknown/inbound",
  "/webhooks/twilio/other",
  "/healthz",
  "/",
  "/webhooks/twilio/inbound?Body=STOP&From=%2B12025550143",
  "/webhooks/%2e%2e/inbound",
  "*",
  "http://evil.example/webhooks/twilio/inbound",
);

const methods = fc.constantFrom("POST", "GET", "HEAD", "PUT", "DELETE", "OPTIONS", "PATCH", "BREW");

/** A header line: known names with any Latin-1 value, or any bytes at all. */
const headerLine = fc.oneof(
  fc
    .tuple(
      fc.constantFrom(
        ...webhookHeaderNames,
        "host",
        "content-length",
        "transfer-encoding",
        "expect",
      ),
      fc.string({
        unit: fc.integer({ min: 0, max: 0xff }).map((code) => String.fromCharCode(code)),
        maxLength: 60,
      }),
    )
    .map(([name, value]) => `${name}: ${value}`),
  fc.string({ unit: "binary-ascii", maxLength: 60 }),
);

/** A well-framed request with a hostile target, headers and body. */
const framedRequest = fc
  .record({
    method: methods,
    path: paths,
    headers: fc.array(headerLine, { maxLength: 6 }),
    body: hostileBody,
  })
  .map(({ method, path, headers, body }) => {
    const head = [
      `${method} ${path} HTTP/1.1`,
      "Host: 127.0.0.1",
      "Connection: close",
      ...headers,
      `Content-Length: ${body.length}`,
      "",
      "",
    ].join("\r\n");

    return Buffer.concat([Buffer.from(head, "latin1"), Buffer.from(body)]);
  });

/** A well-formed request whose only hostile part is the body. */
const cleanRequest = fc
  .record({
    path: paths.filter((path) => path.startsWith("/webhooks/")),
    type: fc.constantFrom("application/x-www-form-urlencoded", "application/json", "text/plain"),
    body: hostileBody,
  })
  .map(({ path, type, body }) => {
    const head =
      `POST ${path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n` +
      `Content-Type: ${type}\r\nContent-Length: ${body.length}\r\n\r\n`;

    return Buffer.concat([Buffer.from(head, "latin1"), Buffer.from(body)]);
  });

/** Checks that the server responded below 500, or closed a request it could not read. */
function expectNoServerError(exchange: RawExchange): void {
  const status = responseStatus(exchange);

  expect(exchange.closed, "the server neither answered nor closed in time").toBe(true);

  if (status !== undefined) {
    expect(status, exchange.response.slice(0, 300)).toBeLessThan(500);
  }
}

async function expectServerHealthy(target = server): Promise<void> {
  const health = await fetch(`${target.url}/healthz`);

  expect(health.status).toBe(200);

  const errors = parseJsonLines(target.stdout()).filter(
    (line) => (line.level as number) >= 50 || line.status === 500,
  );

  expect(errors).toEqual([]);
}

describe("server under hostile requests", () => {
  it("well-framed hostile requests get 4xx", async () => {
    await fc.assert(
      fc.asyncProperty(cleanRequest, async (request) => {
        const exchange = await rawExchange(server.port, [request], { timeoutMs: exchangeLimitMs });
        const status = responseStatus(exchange);

        expect(status, exchange.response.slice(0, 300)).toBeGreaterThanOrEqual(400);
        expect(status, exchange.response.slice(0, 300)).toBeLessThan(500);
      }),
      runs,
    );

    await expectServerHealthy();
  });

  it("hostile framing and headers: no 5xx", async () => {
    await fc.assert(
      fc.asyncProperty(framedRequest, async (request) => {
        expectNoServerError(
          await rawExchange(server.port, [request], { timeoutMs: exchangeLimitMs }),
        );
      }),
      runs,
    );

    await expectServerHealthy();
  });

  it("random bytes: no 5xx", async () => {
    await fc.assert(
      fc.asyncProperty(fc.uint8Array({ minLength: 1, maxLength: 512 }), async (bytes) => {
        const request = Buffer.concat([Buffer.from(bytes), Buffer.from("\r\n\r\n")]);

        expectNoServerError(
          await rawExchange(server.port, [request], { timeoutMs: exchangeLimitMs }),
        );
      }),
      { numRuns: 100 },
    );

    await expectServerHealthy();
  });
});

describe("server without signature checks", () => {
  it("hostile bodies get 2xx or 4xx", async () => {
    await fc.assert(
      fc.asyncProperty(cleanRequest, async (request) => {
        const exchange = await rawExchange(insecureServer.port, [request], {
          timeoutMs: exchangeLimitMs,
        });
        const status = responseStatus(exchange);

        expect(status, exchange.response.slice(0, 300)).toBeDefined();
        expect(status, exchange.response.slice(0, 300)).toBeLessThan(500);
      }),
      runs,
    );

    await expectServerHealthy(insecureServer);
  });

  it("deeply nested JSON gets 400", async () => {
    const depth = 20_000;
    const body =
      `{"message_uuid":"aaaaaaaa-bbbb-4ccc-8ddd-eeeeeeeeeeee","channel":"sms",` +
      `"from":"12025550143","to":"12025550100","text":"STOP","message_type":"text",` +
      `"context":${"[".repeat(depth)}${"]".repeat(depth)}}`;
    const request =
      "POST /webhooks/vonage/inbound HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n" +
      `Content-Type: application/json\r\nContent-Length: ${body.length}\r\n\r\n${body}`;
    const exchange = await rawExchange(insecureServer.port, [request], {
      timeoutMs: exchangeLimitMs,
    });

    expect(responseStatus(exchange)).toBe(400);
    await expectServerHealthy(insecureServer);
  });
});
