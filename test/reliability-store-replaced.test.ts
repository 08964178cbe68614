import { copyFile, rename, rm } from "node:fs/promises";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { isStoreError } from "../src/errors.js";
import { openSqliteStore } from "../src/stores/sqlite.js";
import { type FakeTwilioApi, startFakeTwilioApi } from "../src/testing/fake-twilio.js";
import { makeTempDir, removeTempDir } from "./helpers/cli.js";
import { killRunningServers, launchServer, type ServerProcess } from "./helpers/server-process.js";
import {
  PUBLIC_URL,
  postWebhook,
  readHistories,
  signedTwilioInbound,
  testNumber,
  writeTwilioServerConfig,
} from "./helpers/webhooks.js";

// SQLite keeps writing to a file that was deleted or replaced under an open connection, so
// its commits succeed and are acknowledged, and the next process that opens the path finds
// another file without them. The store checks its files before every write transaction.

let dir: string | undefined;
let api: FakeTwilioApi | undefined;

afterEach(async () => {
  await killRunningServers();
  await api?.close();
  api = undefined;

  if (dir !== undefined) {
    await removeTempDir(dir);
    dir = undefined;
  }
});

function optOut(phone: string, id: string) {
  return {
    id,
    phone,
    action: "opt-out" as const,
    sender: "*",
    source: "manual" as const,
    occurredAt: new Date("2025-06-01T00:00:00Z"),
  };
}

async function rejectionOf(promise: Promise<unknown>): Promise<unknown> {
  try {
    await promise;
  } catch (error) {
    return error;
  }

  throw new Error("expected a rejection");
}

async function deleteStoreFiles(path: string): Promise<void> {
  for (const suffix of ["", "-wal", "-shm"]) {
    await rm(`${path}${suffix}`, { force: true });
  }
}

describe("SQLite store whose file is replaced", () => {
  it("rejects writes after the file is deleted", async () => {
    dir = await makeTempDir("smsgate-replaced-");
    const path = join(dir, "consent.db");
    const store = openSqliteStore({ path });

    await store.record(optOut("+12025550171", "before"));
    await deleteStoreFiles(path);

    const error = await rejectionOf(store.record(optOut("+12025550172", "after")));
    const health = await rejectionOf(store.checkHealth());
    await store.close();

    expect(isStoreError(error)).toBe(true);
    expect((error as Error).message).toContain(`${path} was deleted or replaced`);
    expect(isStoreError(health)).toBe(true);
  });

  it("rejects writes after the file is swapped", async () => {
    dir = await makeTempDir("smsgate-replaced-");
    const path = join(dir, "consent.db");
    const other = join(dir, "other.db");
    const store = openSqliteStore({ path });

    await store.record(optOut("+12025550173", "first"));
    await openSqliteStore({ path: other }).close();
    await copyFile(other, `${path}.new`);
    await rename(`${path}.new`, path);

    const error = await rejectionOf(store.record(optOut("+12025550174", "second")));
    await store.close();

    expect((error as Error).message).toContain("was deleted or replaced");
  });

  it("rejects writes after the WAL is deleted", async () => {
    dir = await makeTempDir("smsgate-replaced-");
    const path = join(dir, "consent.db");
    const store = openSqliteStore({ path });

    await store.record(optOut("+12025550175", "first"));
    await rm(`${path}-wal`);

    const error = await rejectionOf(store.record(optOut("+12025550176", "second")));
    await store.close();

    expect((error as Error).message).toContain(`${path}-wal was deleted or replaced`);
  });

  it("server answers 503 and keeps no STOP", async () => {
    api = await startFakeTwilioApi();
    dir = await makeTempDir("smsgate-replaced-");
    const files = await writeTwilioServerConfig(dir, api, {
      store: { type: "sqlite", path: join(dir, "smsgate.db") },
    });
    const server: ServerProcess = await launchServer(files.configPath, { cwd: dir });
    const target = {
      url: `${PUBLIC_URL}/webhooks/twilio/inbound`,
      authToken: api.authToken,
      accountSid: api.accountSid,
    };
    const during = signedTwilioInbound(target, { from: testNumber(3102), body: "STOP" });
    const before = signedTwilioInbound(target, { from: testNumber(3101), body: "STOP" });

    expect((await postWebhook(`${server.url}/webhooks/twilio/inbound`, before)).status).toBe(200);
    await deleteStoreFiles(files.dbPath);

    const rejected = await postWebhook(`${server.url}/webhooks/twilio/inbound`, during);
    const health = await fetch(`${server.url}/healthz`);

    expect(rejected.status).toBe(503);
    expect(JSON.parse(rejected.body)).toMatchObject({ error: "store-unavailable" });
    expect(health.status).toBe(503);
    expect(await server.waitForStdout("was deleted or replaced")).toContain("smsgate.db");

    // After a restart the provider's retry lands in the new file.
    await server.kill("SIGTERM");
    const restarted = await launchServer(files.configPath, { cwd: dir });
    const retried = await postWebhook(`${restarted.url}/webhooks/twilio/inbound`, during);

    expect(retried.status).toBe(200);
    await restarted.kill("SIGTERM");
    expect(
      (await readHistories(files.dbPath, [testNumber(3102)])).get(testNumber(3102)),
    ).toHaveLength(1);
  });
});
