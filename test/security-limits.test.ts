import { connect, type Socket } from "node:net";
import autocannon from "autocannon";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type FakeTwilioApi, startFakeTwilioApi } from "../src/testing/fake-twilio.js";
import { buildTwilioInbound, signTwilioRequest } from "../src/testing/twilio.js";
import { makeTempDir, parseJsonLines, removeTempDir } from "./helpers/cli.js";
import { killRunningServers, launchServer, type ServerProcess } from "./helpers/server-process.js";
import {
  BUSINESS_NUMBER,
  PUBLIC_URL,
  rawExchange,
  readHistories,
  responseStatus,
  type ServerFiles,
  signedTwilioInbound,
  testNumber,
  writeTwilioServerConfig,
} from "./helpers/webhooks.js";

const limits = {
  maxBodyBytes: 4096,
  headersTimeoutMs: 500,
  requestTimeoutMs: 1000,
  maxConnections: 16,
};

let api: FakeTwilioApi;
let dir: string;
let files: ServerFiles;
let server: ServerProcess;

beforeAll(async () => {
  api = await startFakeTwilioApi();
  dir = await makeTempDir("smsgate-limits-");
  files = await writeTwilioServerConfig(dir, api, { limits });
  server = await launchServer(files.configPath, { cwd: dir });
});

afterAll(async () => {
  const exit = await server?.kill("SIGTERM");

  await killRunningServers();
  await api?.close();
  await removeTempDir(dir);
  expect(exit?.code).toBe(0);
});

const inboundPath = "/webhooks/twilio/inbound";
const target = () => ({
  url: `${PUBLIC_URL}${inboundPath}`,
  authToken: api.authToken,
  accountSid: api.accountSid,
});

function requestHead(length: number, extra = ""): string {
  return (
    `POST ${inboundPath} HTTP/1.1\r\nHost: 127.0.0.1\r\n` +
    `Content-Type: application/x-www-form-urlencoded\r\n${extra}Content-Length: ${length}\r\n\r\n`
  );
}

async function historyLength(phone: string): Promise<number> {
  return (await readHistories(files.dbPath, [phone])).get(phone)?.length ?? 0;
}

async function expectHealthy(): Promise<void> {
  expect((await fetch(`${server.url}/healthz`)).status).toBe(200);
}

describe("slow clients", () => {
  it("unfinished headers get 408", async () => {
    const exchange = await rawExchange(server.port, [
      `POST ${inboundPath} HTTP/1.1\r\nHost: x\r\n`,
    ]);

    expect(exchange.closed).toBe(true);
    expect(responseStatus(exchange)).toBe(408);
  });

  it("dribbled headers cut at the limit", async () => {
    // One byte every 50 ms would take over 4 s; the header limit is 0.5 s.
    const head = requestHead(0);
    const exchange = await rawExchange(server.port, [...head], { pauseMs: 50, timeoutMs: 4000 });

    expect(exchange.closed).toBe(true);
    expect(responseStatus(exchange)).toBe(408);
  });

  it("unfinished body gets 408, nothing stored", async () => {
    const phone = testNumber(5000);
    const stop = signedTwilioInbound(target(), { from: phone, body: "STOP" });
    const partial = stop.body.slice(0, stop.body.length - 10);
    const head = requestHead(
      Buffer.byteLength(stop.body),
      `X-Twilio-Signature: ${stop.headers["x-twilio-signature"]}\r\n`,
    );
    const exchange = await rawExchange(server.port, [head, partial]);

    expect(exchange.closed).toBe(true);
    expect(responseStatus(exchange)).toBe(408);
    expect(await historyLength(phone)).toBe(0);
  });
});

describe("large bodies", () => {
  it("declared oversize body gets 413", async () => {
    const exchange = await rawExchange(server.port, [requestHead(limits.maxBodyBytes + 1)]);

    expect(responseStatus(exchange)).toBe(413);
    expect(exchange.closed).toBe(true);
  });

  it("chunked oversize body gets 413, nothing stored", async () => {
    const phone = testNumber(5001);
    const padding = [["Padding", "x".repeat(limits.maxBodyBytes)] as [string, string]];
    const built = buildTwilioInbound({
      from: phone,
      to: BUSINESS_NUMBER,
      body: "STOP",
      accountSid: api.accountSid,
      extra: padding,
    });
    const signature = signTwilioRequest({
      authToken: api.authToken,
      url: target().url,
      params: built.params,
    });
    const head =
      `POST ${inboundPath} HTTP/1.1\r\nHost: 127.0.0.1\r\nTransfer-Encoding: chunked\r\n` +
      `Content-Type: application/x-www-form-urlencoded\r\nX-Twilio-Signature: ${signature}\r\n\r\n`;
    const chunks = built.body.match(/[\s\S]{1,1000}/g) ?? [];
    const framed = chunks.map((chunk) => `${chunk.length.toString(16)}\r\n${chunk}\r\n`);
    const exchange = await rawExchange(server.port, [head, ...framed, "0\r\n\r\n"]);

    expect(responseStatus(exchange)).toBe(413);
    expect(await historyLength(phone)).toBe(0);
  });
});

describe("compressed bodies", () => {
  it("gzip body gets 415, nothing stored", async () => {
    const phone = testNumber(5002);
    const built = buildTwilioInbound({
      from: phone,
      to: BUSINESS_NUMBER,
      body: "STOP",
      accountSid: api.accountSid,
    });
    const signature = signTwilioRequest({
      authToken: api.authToken,
      url: target().url,
      params: built.params,
    });
    const head =
      `POST ${inboundPath} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Encoding: gzip\r\n` +
      `Content-Length: ${built.body.length}\r\nX-Twilio-Signature: ${signature}\r\n` +
      "Content-Type: application/x-www-form-urlencoded\r\n\r\n";
    const exchange = await rawExchange(server.port, [head, built.body]);

    expect(responseStatus(exchange)).toBe(415);
    expect(exchange.response).toContain('"error":"unsupported-content-encoding"');
    expect(exchange.closed).toBe(true);
    expect(await historyLength(phone)).toBe(0);
  });
});

/** Opens a keep-alive connection, completes one request on it and leaves it open. */
function openIdleConnection(port: number): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, "127.0.0.1");

    socket.once("error", reject);
    socket.once("data", () => resolve(socket));
    socket.write("GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n");
  });
}

describe("connection limit", () => {
  it("drops connections over the limit", async () => {
    const idle = await Promise.all(
      Array.from({ length: limits.maxConnections }, () => openIdleConnection(server.port)),
    );
    let dropped: Awaited<ReturnType<typeof rawExchange>>;

    try {
      dropped = await rawExchange(server.port, ["GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n"]);
    } finally {
      for (const socket of idle) {
        socket.destroy();
      }
    }

    expect(dropped.closed).toBe(true);
    expect(dropped.response).toBe("");

    // Node counts a connection until its close is processed, so this may take a moment.
    for (let attempt = 0; attempt < 50; attempt += 1) {
      const retry = await rawExchange(server.port, [
        "GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
      ]);

      if (responseStatus(retry) === 200) {
        return;
      }

      await new Promise((resolve) => setTimeout(resolve, 50));
    }

    throw new Error("the server did not accept connections again after the others closed");
  });
});

describe("load", () => {
  it("answers every request, loses no STOP", async () => {
    const phones = Array.from({ length: 200 }, (_, index) => testNumber(5100 + index));
    const acknowledged: Array<{ phone: string; messageSid: string }> = [];
    let next = 0;

    const result = await autocannon({
      url: server.url,
      connections: 8,
      duration: 3,
      timeout: 10,
      requests: [
        {
          method: "POST",
          path: inboundPath,
          setupRequest(request, context) {
            next += 1;

            const phone = phones[next % phones.length] as string;
            const webhook = signedTwilioInbound(target(), { from: phone, body: "STOP" });

            context.sent = { phone, messageSid: webhook.messageSid };

            return { ...request, headers: webhook.headers, body: webhook.body };
          },
          onResponse(status, _body, context) {
            if (status === 200) {
              acknowledged.push(context.sent as { phone: string; messageSid: string });
            }
          },
        },
      ],
    });

    expect(result.errors).toBe(0);
    expect(result.timeouts).toBe(0);
    expect(result.non2xx).toBe(0);
    expect(acknowledged.length).toBeGreaterThan(0);

    const histories = await readHistories(files.dbPath, phones);
    const stored = new Set(
      [...histories.values()].flat().map((event) => `${event.phone} ${event.messageId}`),
    );
    const missing = acknowledged.filter((sent) => !stored.has(`${sent.phone} ${sent.messageSid}`));

    expect(missing).toEqual([]);
    await expectHealthy();

    const failures = parseJsonLines(server.stdout()).filter((line) => (line.level as number) >= 50);

    expect(failures).toEqual([]);
  });
});
