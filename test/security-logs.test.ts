import { randomBytes } from "node:crypto";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { encodeForm } from "../src/http/form.js";
import { buildTwilioInbound } from "../src/testing/twilio.js";
import {
  type CliResult,
  makeTempDir,
  parseJsonLines,
  removeTempDir,
  runCli,
  writeConfig,
} from "./helpers/cli.js";
import {
  type ProviderApis,
  providersConfig,
  startProviderApis,
  VONAGE_SIGNATURE_SECRET,
  writeProvidersServerConfig,
} from "./helpers/providers.js";
import { killRunningServers, launchServer, type ServerProcess } from "./helpers/server-process.js";
import { BUSINESS_NUMBER, PUBLIC_URL, rawExchange, testNumber } from "./helpers/webhooks.js";

// One full run of the server and the CLI: webhooks of every provider, sends, forwarding,
// bad signatures, requests the HTTP parser rejects and failed starts. Every log line is
// then searched for secrets, full phone numbers and message text.

const secrets = {
  twilioAuthToken: `twilio${randomBytes(16).toString("hex")}`,
  vonageApiSecret: `vonage${randomBytes(12).toString("hex")}`,
  plivoAuthToken: `plivo${randomBytes(16).toString("hex")}`,
  forwardSecret: `forward${randomBytes(16).toString("hex")}`,
};

/** Values the test itself sends in headers: each must stay out of the logs. */
const sentHeaderValues = {
  forgedSignature: `forgedsig${randomBytes(8).toString("hex")}`,
  authorization: `Basic ${Buffer.from(`intruder:${randomBytes(8).toString("hex")}`).toString("base64")}`,
  cookie: `session${randomBytes(8).toString("hex")}`,
};

/** Message texts; each contains a marker word that must stay out of the logs. */
const markers = Array.from(
  { length: 11 },
  (_, index) => `marker${index}${randomBytes(4).toString("hex")}`,
);
const people = Array.from({ length: 10 }, (_, index) => testNumber(7000 + index));

const marker = (index: number) => markers[index] as string;
const person = (index: number) => people[index] as string;

let apis: ProviderApis;
let dir: string;
let configPath: string;
let server: ServerProcess;
let receiver: Server;
const forwardedBodies: string[] = [];
/** CLI runs; the output of `serve` runs is log lines, that of other commands is not. */
const cliResults: Array<CliResult & { serve: boolean }> = [];

async function startReceiver(): Promise<string> {
  receiver = createServer((request, response) => {
    let body = "";

    request.setEncoding("utf8").on("data", (chunk: string) => {
      body += chunk;
    });
    request.on("end", () => {
      forwardedBodies.push(body);
      response.writeHead(200).end();
    });
  });
  await new Promise<void>((resolve) => receiver.listen(0, "127.0.0.1", resolve));

  return `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/events`;
}

async function cli(...args: string[]): Promise<CliResult> {
  const result = await runCli([...args, "--config", configPath], { cwd: dir });

  cliResults.push({ ...result, serve: false });

  return result;
}

function simulate(provider: string, from: string, text: string): Promise<CliResult> {
  const url = `${server.url}/webhooks/${provider}/inbound`;

  return cli(
    "simulate",
    provider,
    "inbound",
    "--url",
    url,
    "--from",
    from,
    "--to",
    BUSINESS_NUMBER,
    "--body",
    text,
  );
}

/** Builds a Twilio POST with a wrong signature and with credentials in its headers. */
function badlySignedRequest(phone: string, text: string): string {
  const body = encodeForm(
    buildTwilioInbound({
      from: phone,
      to: BUSINESS_NUMBER,
      body: text,
      accountSid: apis.twilio.accountSid,
    }).params,
  );

  return (
    "POST /webhooks/twilio/inbound HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n" +
    "Content-Type: application/x-www-form-urlencoded\r\n" +
    `X-Twilio-Signature: ${sentHeaderValues.forgedSignature}\r\n` +
    `Authorization: ${sentHeaderValues.authorization}\r\nCookie: ${sentHeaderValues.cookie}\r\n` +
    `Content-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`
  );
}

/** Drives every path that logs, in the order a busy day might. */
async function fullRun(): Promise<void> {
  await simulate("twilio", person(0), "STOP");
  await simulate("twilio", person(1), `Lunch tomorrow? ${marker(0)}`);
  await simulate("vonage", person(2), `STOP ${marker(1)}`);
  await simulate("plivo", person(3), `Where is my order ${marker(2)}`);
  await cli("send", "--to", person(4), "--body", `Your code is ${marker(3)}`);
  await cli("send", "--to", person(5), "--body", `Hello ${marker(4)}`, "--provider", "vonage");
  await cli("send", "--to", person(6), "--body", `Hello ${marker(5)}`, "--provider", "plivo");
  await cli("send", "--to", person(0), "--body", `Refused ${marker(6)}`);
  // The fake Twilio API refuses this test number with 21610, which records an opt-out.
  await cli("send", "--to", "+15005550004", "--body", `Refused by the provider ${marker(7)}`);
  await cli("optout", "history", person(0), "--json");

  const port = server.port;
  const getQuery = encodeForm([
    ["From", person(7)],
    ["Body", marker(8)],
  ]);
  const smuggled = encodeForm([
    ["From", person(9)],
    ["Body", marker(10)],
  ]);
  const requests = [
    badlySignedRequest(person(8), `STOP ${marker(9)}`),
    `GET /webhooks/twilio/inbound?${getQuery} HTTP/1.1\r\nHost: 127.0.0.1\r\n` +
      `Connection: close\r\nX-Twilio-Signature: ${sentHeaderValues.forgedSignature}\r\n\r\n`,
    // Node's HTTP parser rejects a request with both Content-Length and chunked encoding.
    "POST /webhooks/twilio/inbound HTTP/1.1\r\nHost: 127.0.0.1\r\n" +
      `X-Twilio-Signature: ${sentHeaderValues.forgedSignature}\r\n` +
      `Authorization: ${sentHeaderValues.authorization}\r\n` +
      `Content-Length: ${smuggled.length}\r\nTransfer-Encoding: chunked\r\n\r\n${smuggled}\r\n`,
    // A control character in a header value.
    `POST /webhooks/twilio/inbound?From=${encodeURIComponent(person(9))} HTTP/1.1\r\n` +
      `X-Twilio-Signature: ${sentHeaderValues.forgedSignature}\u0001\r\n\r\n`,
    // Headers larger than Node's limit.
    `POST /webhooks/twilio/inbound HTTP/1.1\r\nX-Filler: ${"a".repeat(20_000)}\r\n` +
      `Authorization: ${sentHeaderValues.authorization}\r\n\r\n`,
  ];

  for (const request of requests) {
    await rawExchange(port, [request]);
  }
}

/** Starts servers that must fail: a port in use and an invalid configuration. */
async function failedStarts(): Promise<void> {
  const busyPort = await writeConfig(join(dir, "busy"), {
    publicUrl: PUBLIC_URL,
    listen: { host: "127.0.0.1", port: server.port },
    store: { type: "sqlite", path: join(dir, "busy", "smsgate.db") },
    providers: providersConfig(apis),
    forward: { url: "http://127.0.0.1:9/events", secret: secrets.forwardSecret },
  });
  const invalid = await writeConfig(join(dir, "invalid"), {
    providers: {
      ...providersConfig(apis),
      twilio: { accountSid: "not-a-sid", authToken: secrets.twilioAuthToken },
    },
    forward: { url: "not a url", secret: secrets.forwardSecret },
  });

  for (const path of [busyPort, invalid]) {
    cliResults.push({ ...(await runCli(["serve", "--config", path], { cwd: dir })), serve: true });
  }
}

beforeAll(async () => {
  apis = await startProviderApis(secrets);
  dir = await makeTempDir("smsgate-logs-");
  ({ configPath } = await writeProvidersServerConfig(dir, apis, {
    forward: { url: await startReceiver(), secret: secrets.forwardSecret },
    replies: { optOut: "You are unsubscribed." },
  }));
  server = await launchServer(configPath, { cwd: dir });
  await fullRun();
  await failedStarts();
  await server.kill("SIGTERM");
}, 60_000);

afterAll(async () => {
  await killRunningServers();
  await new Promise((resolve) => receiver?.close(resolve));
  await apis?.close();
  await removeTempDir(dir);
});

/**
 * Turns a log record into searchable text. A Buffer that reached the logger is serialised
 * as an object or array of byte values, so those are decoded back into text.
 */
function searchableText(value: unknown): string {
  if (typeof value === "string") {
    return value;
  }

  if (typeof value !== "object" || value === null) {
    return String(value);
  }

  const entries = Object.entries(value);
  const bytes = entries.map(([, item]) => item);
  const isByteList =
    bytes.length > 0 && bytes.every((item) => Number.isInteger(item) && item >= 0 && item <= 255);

  if (isByteList && entries.every(([key]) => /^\d+$/.test(key))) {
    return Buffer.from(bytes as number[]).toString("latin1");
  }

  return entries.map(([key, item]) => `${key}=${searchableText(item)}`).join("\n");
}

/** Collects every log line of the run: the server's output and the CLI's JSON log lines. */
function logLines(): string[] {
  const serverOutput = [server.stdout(), server.stderr()];
  const cliLogs = cliResults.flatMap((result) => [
    ...result.stderr.split("\n").filter((line) => result.serve || line.startsWith("{")),
    ...(result.serve ? [result.stdout] : []),
  ]);

  return [...serverOutput, ...cliLogs]
    .flatMap((text) => text.split("\n"))
    .filter((line) => line.trim() !== "");
}

function phoneForms(phone: string): string[] {
  const digits = phone.slice(1);

  return [phone, digits, digits.slice(1), encodeURIComponent(phone)];
}

function findLeaks(needles: Record<string, string>): string[] {
  const leaks: string[] = [];

  for (const line of logLines()) {
    const records = parseJsonLines(line);
    const text = records.length > 0 ? `${line}\n${searchableText(records[0])}` : line;

    for (const [label, needle] of Object.entries(needles)) {
      if (text.includes(needle)) {
        leaks.push(`${label} in: ${line.slice(0, 300)}`);
      }
    }
  }

  return leaks;
}

describe("log lines of a full run", () => {
  it("the run exercised every path", () => {
    const lines = logLines().join("\n");

    expect(lines).toContain("Client connection error");
    expect(lines).toContain("signature check failed");
    expect(lines).toContain("Cannot listen");
    expect(forwardedBodies.length).toBeGreaterThan(0);
    expect(apis.twilio.messages.length).toBeGreaterThan(0);
  });

  it("contain no secret", () => {
    const basic = (user: string, password: string) =>
      Buffer.from(`${user}:${password}`).toString("base64");

    expect(
      findLeaks({
        ...secrets,
        vonageSignatureSecret: VONAGE_SIGNATURE_SECRET,
        ...sentHeaderValues,
        authorizationCredentials: (sentHeaderValues.authorization.split(" ")[1] ?? "").slice(0, 16),
        twilioBasicAuth: basic(apis.twilio.accountSid, secrets.twilioAuthToken),
        plivoBasicAuth: basic(apis.plivo.authId, secrets.plivoAuthToken),
      }),
    ).toEqual([]);
  });

  it("contain no full phone number", () => {
    const needles: Record<string, string> = {};

    for (const phone of [...people, BUSINESS_NUMBER, "+15005550004"]) {
      for (const [index, form] of phoneForms(phone).entries()) {
        needles[`${phone} form ${index}`] = form;
      }
    }

    expect(findLeaks(needles)).toEqual([]);
  });

  it("contain no message text", () => {
    expect(findLeaks(Object.fromEntries(markers.map((marker) => [marker, marker])))).toEqual([]);
  });
});
