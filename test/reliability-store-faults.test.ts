import { execFileSync } from "node:child_process";
import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import Database from "better-sqlite3";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { type FakeTwilioApi, startFakeTwilioApi } from "../src/testing/fake-twilio.js";
import { type CliResult, makeTempDir, removeTempDir, runCli, writeConfig } from "./helpers/cli.js";
import { killRunningServers, launchServer, type ServerProcess } from "./helpers/server-process.js";
import {
  BUSINESS_NUMBER,
  PUBLIC_URL,
  postWebhook,
  readHistories,
  type ServerFiles,
  type SignedWebhook,
  signedTwilioInbound,
  testNumber,
  writeTwilioServerConfig,
} from "./helpers/webhooks.js";

// The store fails under a running server in two real ways: another connection holds the
// write lock past `store.busyTimeoutMs`, and the kernel refuses writes past the server's
// file size limit (RLIMIT_FSIZE, set on the running process with prlimit). The second
// simulates a full disk: the write fails with EFBIG instead of ENOSPC, so SQLite
// reports SQLITE_IOERR_WRITE instead of SQLITE_FULL, and the server handles both the same.

let api: FakeTwilioApi;
let dir: string;
let files: ServerFiles;
let server: ServerProcess;
let nextNumber = 2000;

beforeAll(async () => {
  api = await startFakeTwilioApi();
  dir = await makeTempDir("smsgate-faults-");
  files = await writeTwilioServerConfig(dir, api, {
    store: { type: "sqlite", path: join(dir, "smsgate.db"), busyTimeoutMs: 100 },
  });
  server = await launchServer(files.configPath, { cwd: dir });
});

afterEach(() => {
  expect(server.stdout()).not.toContain('"status":500');
});

afterAll(async () => {
  const exit = await server?.kill("SIGTERM");

  await killRunningServers();
  await api?.close();
  await removeTempDir(dir);
  expect(exit?.code).toBe(0);
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

function send(to: string, configPath = files.configPath): Promise<CliResult> {
  return runCli(["send", "--to", to, "--body", "hi", "--config", configPath], { cwd: dir });
}

async function historyLength(phone: string): Promise<number> {
  return (await readHistories(files.dbPath, [phone])).get(phone)?.length ?? 0;
}

function messagesTo(phone: string): number {
  return api.messages.filter((message) => message.to === phone).length;
}

/** Counts the requests that reached the fake API for a recipient, rejected ones included. */
function requestsTo(phone: string): number {
  return api.requests.filter((request) =>
    request.form.some(([name, value]) => name === "To" && value === phone),
  ).length;
}

/** Opens a second connection that holds the write lock until `release()`. */
function holdWriteLock(): { release(): void } {
  const holder = new Database(files.dbPath);

  holder.exec("BEGIN EXCLUSIVE");

  return {
    release() {
      holder.exec("ROLLBACK");
      holder.close();
    },
  };
}

const hasPrlimit = (() => {
  try {
    execFileSync("prlimit", ["--version"], { stdio: "ignore" });
    return true;
  } catch {
    return false;
  }
})();

/** Sets the soft file size limit of the running server, in bytes, or lifts it. */
function limitServerFileSize(bytes: number | "unlimited"): void {
  execFileSync("prlimit", ["--pid", String(server.pid), `--fsize=${bytes}:unlimited`]);
}

describe("store locked by another connection", () => {
  it("webhook gets 503, recorded after release", async () => {
    const before = freshNumber();
    const during = freshNumber();
    const duringWebhook = stopFrom(during);

    expect((await deliver(stopFrom(before))).status).toBe(200);

    const lock = holdWriteLock();
    let rejected: Awaited<ReturnType<typeof deliver>>;

    try {
      rejected = await deliver(duringWebhook);
      expect(await historyLength(during)).toBe(0);
    } finally {
      lock.release();
    }

    expect(rejected.status).toBe(503);
    expect(JSON.parse(rejected.body)).toMatchObject({ error: "store-unavailable" });
    expect(await server.waitForStdout("SQLITE_BUSY")).toContain("SQLITE_BUSY");

    // The provider retries the same bytes, and the server has recovered by itself.
    expect((await deliver(duringWebhook)).status).toBe(200);
    expect(await historyLength(during)).toBe(1);
    expect((await deliver(stopFrom(freshNumber()))).status).toBe(200);
  });

  it("send under lock uses committed consent", async () => {
    const optedOut = freshNumber();
    const subscribed = freshNumber();

    expect((await deliver(stopFrom(optedOut))).status).toBe(200);

    const lock = holdWriteLock();
    let rejected: CliResult;
    let sent: CliResult;

    try {
      // SQLite in WAL mode lets readers work while another connection writes, so the guard
      // still reads every committed opt-out.
      rejected = await send(optedOut);
      sent = await send(subscribed);
    } finally {
      lock.release();
    }

    expect(rejected.code).toBe(3);
    expect(messagesTo(optedOut)).toBe(0);
    expect(sent.code).toBe(0);
    expect(messagesTo(subscribed)).toBe(1);
  });

  it("provider refusal under lock is learned again", async () => {
    // The fake API refuses this test-credential number with 21610 (unsubscribed).
    const unsubscribedAtProvider = "+15005550004";
    const lock = holdWriteLock();
    let first: CliResult;

    try {
      first = await send(unsubscribedAtProvider);
    } finally {
      lock.release();
    }

    expect(first.code).toBe(3);
    expect(first.stderr).toContain("Recording the opt-out failed");
    expect(await historyLength(unsubscribedAtProvider)).toBe(0);

    // The provider keeps refusing, so the next send records the opt-out, and the one after
    // is rejected before it reaches the provider.
    const second = await send(unsubscribedAtProvider);

    expect(second.code).toBe(3);
    expect(await historyLength(unsubscribedAtProvider)).toBe(1);
    expect(requestsTo(unsubscribedAtProvider)).toBe(2);

    const third = await send(unsubscribedAtProvider);

    expect(third.code).toBe(3);
    expect(requestsTo(unsubscribedAtProvider)).toBe(2);
  });
});

describe.skipIf(!hasPrlimit)("store writes failing (file size limit)", () => {
  it("webhook and health check get 503, recovered after", async () => {
    const during = freshNumber();
    const duringWebhook = stopFrom(during);

    expect((await deliver(stopFrom(freshNumber()))).status).toBe(200);

    // Every SQLite file of the server is larger than 4 KiB, so each write past that fails.
    limitServerFileSize(4096);
    let rejected: Awaited<ReturnType<typeof deliver>>;
    let health: number;

    try {
      rejected = await deliver(duringWebhook);
      health = (await fetch(`${server.url}/healthz`)).status;
    } finally {
      limitServerFileSize("unlimited");
    }

    expect(rejected.status).toBe(503);
    expect(JSON.parse(rejected.body)).toMatchObject({ error: "store-unavailable" });
    expect(await server.waitForStdout("SQLITE_IOERR_WRITE")).toContain("SQLITE_IOERR_WRITE");
    expect(await historyLength(during)).toBe(0);
    // The health check commits a write too, so it fails while reads still work.
    expect(health).toBe(503);

    expect((await fetch(`${server.url}/healthz`)).status).toBe(200);
    expect((await deliver(duringWebhook)).status).toBe(200);
    expect(await historyLength(during)).toBe(1);
    expect((await deliver(stopFrom(freshNumber()))).status).toBe(200);
  });
});

describe("store that cannot be read", () => {
  it("send exits 1, nothing sent", async () => {
    const damaged = join(dir, "damaged.db");
    const recipient = freshNumber();

    await writeFile(damaged, Buffer.alloc(8192, 0x5a));

    const configPath = await writeConfig(join(dir, "damaged"), {
      store: { type: "sqlite", path: damaged },
      providers: {
        twilio: {
          accountSid: api.accountSid,
          authToken: api.authToken,
          from: BUSINESS_NUMBER,
          apiBaseUrl: api.url,
        },
      },
    });
    const result = await send(recipient, configPath);

    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/SQLITE_NOTADB|not a database/);
    expect(messagesTo(recipient)).toBe(0);
  });
});
