import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { openPostgresStore } from "../src/stores/postgres.js";
import { type FakeTwilioApi, startFakeTwilioApi } from "../src/testing/fake-twilio.js";
import { type CliResult, makeTempDir, removeTempDir, runCli } from "./helpers/cli.js";
import { canStartPostgres, type PostgresServer, startPostgres } from "./helpers/postgres-server.js";
import { killRunningServers, launchServer, type ServerProcess } from "./helpers/server-process.js";
import { TcpProxy } from "./helpers/tcp-proxy.js";
import {
  PUBLIC_URL,
  postWebhook,
  type ServerFiles,
  type SignedWebhook,
  signedTwilioInbound,
  testNumber,
  writeTwilioServerConfig,
} from "./helpers/webhooks.js";

// The server and the CLI reach a private PostgreSQL server through a TCP proxy that the
// test cuts, as a network failure between them would.

let postgres: PostgresServer;
let proxy: TcpProxy;
let api: FakeTwilioApi;
let dir: string;
let files: ServerFiles;
let server: ServerProcess;
let nextNumber = 6000;

beforeAll(async () => {
  if (!canStartPostgres) {
    return;
  }

  postgres = await startPostgres();
  proxy = new TcpProxy(postgres.port);
  await proxy.listen();
  api = await startFakeTwilioApi();
  dir = await makeTempDir("smsgate-pg-faults-");
  files = await writeTwilioServerConfig(dir, api, {
    store: {
      type: "postgres",
      url: `postgres://postgres@127.0.0.1:${proxy.port}/postgres`,
      connectTimeoutMs: 1000,
      statementTimeoutMs: 2000,
    },
  });
  server = await launchServer(files.configPath, { cwd: dir });
});

afterAll(async () => {
  const exit = await server?.kill("SIGTERM");

  await killRunningServers();
  await proxy?.cut();
  await api?.close();
  await postgres?.stop();
  await removeTempDir(dir);

  if (canStartPostgres) {
    expect(exit?.code).toBe(0);
  }
});

function freshNumber(): string {
  nextNumber += 1;

  return testNumber(nextNumber);
}

function stopFrom(phone: string): SignedWebhook {
  const target = {
    url: `${PUBLIC_URL}/webhooks/twilio/inbound`,
    authToken: api.authToken,
    accountSid: api.accountSid,
  };

  return signedTwilioInbound(target, { from: phone, body: "STOP" });
}

function deliver(webhook: SignedWebhook) {
  return postWebhook(`${server.url}/webhooks/twilio/inbound`, webhook);
}

function send(to: string): Promise<CliResult> {
  return runCli(["send", "--to", to, "--body", "hi", "--config", files.configPath], { cwd: dir });
}

/** Reads a number's history directly from the database, past the proxy. */
async function historyLength(phone: string): Promise<number> {
  const store = await openPostgresStore({ url: postgres.url });

  try {
    return (await store.history(phone)).length;
  } finally {
    await store.close();
  }
}

function requestsTo(phone: string): number {
  return api.requests.filter((request) =>
    request.form.some(([name, value]) => name === "To" && value === phone),
  ).length;
}

describe.skipIf(!canStartPostgres)("PostgreSQL store, connection cut", () => {
  it("webhook gets 503, recorded after restore", async () => {
    const during = freshNumber();
    const duringWebhook = stopFrom(during);

    expect((await deliver(stopFrom(freshNumber()))).status).toBe(200);

    await proxy.cut();
    let rejected: Awaited<ReturnType<typeof deliver>>;
    let health: number;

    try {
      rejected = await deliver(duringWebhook);
      health = (await fetch(`${server.url}/healthz`)).status;
    } finally {
      await proxy.restore();
    }

    expect(rejected.status).toBe(503);
    expect(JSON.parse(rejected.body)).toMatchObject({ error: "store-unavailable" });
    expect(health).toBe(503);
    expect(await historyLength(during)).toBe(0);

    // The server reconnects by itself, and the provider's retry is recorded.
    expect((await deliver(duringWebhook)).status).toBe(200);
    expect(await historyLength(during)).toBe(1);
    expect((await fetch(`${server.url}/healthz`)).status).toBe(200);
  });

  it("send exits 1 and sends nothing", async () => {
    const optedOut = freshNumber();
    const subscribed = freshNumber();

    expect((await deliver(stopFrom(optedOut))).status).toBe(200);

    await proxy.cut();
    let results: CliResult[];

    try {
      results = [await send(optedOut), await send(subscribed)];
    } finally {
      await proxy.restore();
    }

    expect(results.map((result) => result.code)).toEqual([1, 1]);
    expect(requestsTo(optedOut)).toBe(0);
    expect(requestsTo(subscribed)).toBe(0);

    expect((await send(optedOut)).code).toBe(3);
    expect((await send(subscribed)).code).toBe(0);
    expect(requestsTo(optedOut)).toBe(0);
    expect(requestsTo(subscribed)).toBe(1);
  });
});
