import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import Database from "better-sqlite3";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import type { ConsentEvent, WebhookReceipt } from "../src/consent/types.js";
import { isConfigError, isInvalidConsentEventError, isStoreError } from "../src/errors.js";
import { migrations } from "../src/stores/sqlite/migrations.js";
import { toJsonArrayChunks } from "../src/stores/sqlite/statements.js";
import { MAX_GROUP_COMMIT_SIZE, openSqliteStore, SCHEMA_VERSION } from "../src/stores/sqlite.js";
import { describeOptOutStore } from "../src/testing/store-suite.js";

function makeTempDir(): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), "smsgate-sqlite-"));
}

describeOptOutStore("SqliteOptOutStore", async () => {
  const directory = makeTempDir();
  const store = openSqliteStore({ path: path.join(directory, "consent.db") });

  return {
    store,
    cleanup: async () => fs.rmSync(directory, { recursive: true, force: true }),
  };
});

describeOptOutStore("SqliteOptOutStore in memory", async () => ({
  store: openSqliteStore({ path: ":memory:" }),
}));

let counter = 0;

function stopEvent(phone: string, fields: Partial<ConsentEvent> = {}): ConsentEvent {
  counter += 1;
  return {
    id: `sqlite-test:${counter}`,
    phone,
    action: "opt-out",
    sender: "+12025550100",
    source: "keyword",
    occurredAt: new Date("2025-01-15T10:00:00Z"),
    ...fields,
  };
}

function receipt(id: string, fields: Partial<WebhookReceipt> = {}): WebhookReceipt {
  return { id, provider: "twilio", events: [], outbox: [], receivedAt: new Date(), ...fields };
}

async function rejection(promise: Promise<unknown>): Promise<unknown> {
  return promise.then(
    () => undefined,
    (error: unknown) => error,
  );
}

function catchSync(work: () => unknown): unknown {
  try {
    work();
  } catch (error) {
    return error;
  }

  return undefined;
}

describe("SqliteOptOutStore on disk", () => {
  let directory: string;
  let file: string;
  const opened: Array<{ close: () => unknown }> = [];

  function open(options: { busyTimeoutMs?: number; readonly?: boolean; create?: boolean } = {}) {
    const store = openSqliteStore({ path: file, ...options });
    opened.push(store);
    return store;
  }

  function rawConnection(): Database.Database {
    const db = new Database(file);
    opened.push(db);
    return db;
  }

  beforeEach(() => {
    directory = makeTempDir();
    file = path.join(directory, "consent.db");
  });

  afterEach(async () => {
    for (const handle of opened.splice(0).reverse()) {
      await handle.close();
    }

    fs.rmSync(directory, { recursive: true, force: true });
  });

  it("names a deleted WAL file at open", async () => {
    const server = open();
    for (const phone of ["+12025550131", "+12025550132", "+12025550133"]) {
      await server.record(stopEvent(phone));
    }
    fs.rmSync(`${file}-wal`);

    const error = catchSync(() => open());

    expect(isStoreError(error)).toBe(true);
    expect((error as Error).message).toContain("SQLITE_IOERR_SHORT_READ");
    expect((error as Error).message).toContain("deleted, truncated or replaced");
    expect((error as Error).message).toContain("start the server again");
  });

  it("sets WAL and synchronous FULL", async () => {
    const store = open({ busyTimeoutMs: 1234 });

    const settings = await store.diagnostics();

    expect(settings.journalMode).toBe("wal");
    expect(settings.synchronous).toBe(2);
    expect(settings.busyTimeoutMs).toBe(1234);
    expect(settings.foreignKeys).toBe(true);
    expect(settings.schemaVersion).toBe(SCHEMA_VERSION);
  });

  it("defaults busy timeout to 5000", async () => {
    expect((await open().diagnostics()).busyTimeoutMs).toBe(5000);
  });

  it("creates a missing parent directory", async () => {
    file = path.join(directory, "nested", "deeper", "consent.db");

    const store = open();
    await store.record(stopEvent("+12025550143"));

    expect(fs.existsSync(file)).toBe(true);
  });

  it("two instances share one file", async () => {
    const first = open();
    const second = open();
    const event = stopEvent("+12025550143");

    const results = await Promise.all([first.record(event), second.record(event)]);

    expect(results.filter((result) => result.recorded)).toHaveLength(1);
    expect(await second.isOptedOut(event.phone)).toBe(true);
    expect(await first.history(event.phone)).toHaveLength(1);
    expect(await second.history(event.phone)).toHaveLength(1);
  });

  it("two instances commit a receipt once", async () => {
    const first = open();
    const second = open();
    const webhook = receipt("twilio:AC1:SM1", {
      events: [stopEvent("+12025550143")],
      outbox: [{ id: "m1", type: "inbound", payload: "{}" }],
    });

    const results = await Promise.all([
      first.commitWebhook(structuredClone(webhook)),
      second.commitWebhook(structuredClone(webhook)),
    ]);

    expect(results.filter((result) => !result.duplicate)).toHaveLength(1);
    expect(await first.claimOutbox(10, 60_000)).toHaveLength(1);
    expect(await second.claimOutbox(10, 60_000)).toEqual([]);
  });

  it("reopening keeps everything", async () => {
    const first = open();
    const event = stopEvent("+12025550143", { messageId: "SM1", keyword: "STOP" });
    await first.record(event);
    await first.commitWebhook(
      receipt("r1", { outbox: [{ id: "m1", type: "inbound", payload: '{"a":1}' }] }),
    );
    await first.close();

    const second = open();

    expect(await second.isOptedOut(event.phone)).toBe(true);
    expect(await second.history(event.phone)).toMatchObject([event]);
    expect(await second.commitWebhook(receipt("r1"))).toEqual({ duplicate: true });
    expect((await second.claimOutbox(10, 60_000)).map((entry) => entry.payload)).toEqual([
      '{"a":1}',
    ]);
  });

  it("locked database rejects, then recovers", async () => {
    const store = open({ busyTimeoutMs: 50 });
    await store.record(stopEvent("+12025550143"));
    const locker = rawConnection();
    locker.exec("BEGIN EXCLUSIVE");

    const error = await rejection(store.record(stopEvent("+12025550144")));
    const readWhileLocked = await store.isOptedOut("+12025550143");
    locker.exec("COMMIT");
    const retried = await store.record(stopEvent("+12025550144"));

    expect(isStoreError(error)).toBe(true);
    expect((error as Error).message).toContain("record failed");
    expect((error as Error).message).toContain("busyTimeoutMs");
    expect((error as { cause?: { code?: string } }).cause?.code).toMatch(/^SQLITE_BUSY/);
    expect(readWhileLocked).toBe(true);
    expect(retried).toEqual({ recorded: true });
    expect(await store.isOptedOut("+12025550144")).toBe(true);
  });

  it("locked database fails a whole batch", async () => {
    const store = open({ busyTimeoutMs: 20 });
    await store.record(stopEvent("+12025550140"));
    const locker = rawConnection();
    locker.exec("BEGIN EXCLUSIVE");

    const phones = ["+12025550141", "+12025550142", "+12025550143"];
    const results = await Promise.allSettled(phones.map((phone) => store.record(stopEvent(phone))));
    locker.exec("COMMIT");

    for (const result of results) {
      expect(result.status).toBe("rejected");
      expect(isStoreError((result as PromiseRejectedResult).reason)).toBe(true);
    }
    expect(await store.filterOptedOut(phones)).toEqual(new Set());
  });

  it("a failing write fails alone", async () => {
    const store = open();
    await store.record(stopEvent("+12025550140"));
    const db = rawConnection();
    db.exec(`CREATE TRIGGER reject_test_phone BEFORE INSERT ON consent_events
      WHEN NEW.phone = '+12025550666' BEGIN SELECT RAISE(ABORT, 'test phone rejected'); END`);

    const results = await Promise.allSettled([
      store.record(stopEvent("+12025550141")),
      store.record(stopEvent("+12025550666")),
      store.commitWebhook(receipt("r1", { events: [stopEvent("+12025550142")] })),
    ]);

    expect(results[0]).toEqual({ status: "fulfilled", value: { recorded: true } });
    expect(results[1]?.status).toBe("rejected");
    const reason = (results[1] as PromiseRejectedResult).reason;
    expect(isStoreError(reason)).toBe(true);
    expect(reason.message).toContain("test phone rejected");
    expect(results[2]).toEqual({ status: "fulfilled", value: { duplicate: false } });
    expect(await store.isOptedOut("+12025550141")).toBe(true);
    expect(await store.isOptedOut("+12025550142")).toBe(true);
    expect(await store.history("+12025550666")).toEqual([]);
  });

  it("failed receipt writes nothing", async () => {
    const store = open();
    await store.record(stopEvent("+12025550140"));
    const db = rawConnection();
    db.exec(`CREATE TRIGGER reject_outbox BEFORE INSERT ON outbox
      BEGIN SELECT RAISE(ABORT, 'outbox full'); END`);
    const webhook = receipt("r1", {
      events: [stopEvent("+12025550143")],
      outbox: [{ id: "m1", type: "inbound", payload: "{}" }],
    });

    const error = await rejection(store.commitWebhook(webhook));
    db.exec("DROP TRIGGER reject_outbox");
    const history = await store.history("+12025550143");
    const retry = await store.commitWebhook(webhook);

    expect(isStoreError(error)).toBe(true);
    expect((error as Error).message).toContain("commitWebhook failed");
    expect((error as { cause?: unknown }).cause).toBeInstanceOf(Error);
    expect(history).toEqual([]);
    expect(retry).toEqual({ duplicate: false });
    expect(await store.isOptedOut("+12025550143")).toBe(true);
  });

  it("commits more writes than one batch", async () => {
    const store = open();
    const count = MAX_GROUP_COMMIT_SIZE * 2 + 17;
    const events = Array.from({ length: count }, (_, index) =>
      stopEvent("+12025550143", { occurredAt: new Date(Date.UTC(2025, 0, 1, 0, 0, index)) }),
    );

    const results = await Promise.all(events.map((event) => store.record(event)));
    const history = await store.history("+12025550143");

    expect(results.every((result) => result.recorded)).toBe(true);
    expect(history.map((event) => event.id)).toEqual(events.map((event) => event.id));
  });

  it("close waits for queued writes", async () => {
    const store = open();

    const pending = store.record(stopEvent("+12025550143"));
    await store.close();
    await store.close();
    const reopened = open();

    expect(await pending).toEqual({ recorded: true });
    expect(await reopened.isOptedOut("+12025550143")).toBe(true);
  });

  it("migrates once and reopens as no-op", async () => {
    await open().close();
    const db = rawConnection();
    const version = db.pragma("user_version", { simple: true });
    const cookie = db.pragma("schema_version", { simple: true });
    const tables = db
      .prepare("SELECT name FROM sqlite_schema WHERE type = 'table' ORDER BY name")
      .pluck()
      .all();

    await open().close();

    expect(version).toBe(SCHEMA_VERSION);
    expect(tables).toEqual([
      "consent_events",
      "consent_state",
      "message_part_groups",
      "message_parts",
      "message_statuses",
      "outbox",
      "store_health",
      "store_settings",
      "webhook_nonces",
      "webhook_receipts",
    ]);
    expect(db.pragma("schema_version", { simple: true })).toBe(cookie);
    expect(db.pragma("user_version", { simple: true })).toBe(SCHEMA_VERSION);
  });

  it("migrates a version 1 file", async () => {
    const db = rawConnection();
    db.exec(migrations[0]?.sql ?? "");
    db.pragma("user_version = 1");
    db.prepare(
      `INSERT INTO consent_events (id, phone, action, sender, source, occurred_at, recorded_at)
        VALUES ('old', '+12025550143', 'opt-out', '*', 'manual', 1, 1)`,
    ).run();
    db.prepare(
      `INSERT INTO consent_by_phone (phone, action, occurred_at, seq)
        VALUES ('+12025550143', 'opt-out', 1, 1)`,
    ).run();

    const store = open();
    const group = await store.addMessagePart({
      groupKey: "g1",
      index: 1,
      total: 2,
      partId: "p1",
      payload: "{}",
      receivedAt: new Date(),
    });

    expect(await store.isOptedOut("+12025550143")).toBe(true);
    expect(group.parts).toHaveLength(1);
    expect(await store.findNonce("test", "n-1")).toBeUndefined();
    await expect(store.checkHealth()).resolves.toBeUndefined();
    expect(db.pragma("user_version", { simple: true })).toBe(SCHEMA_VERSION);
    await store.close();
  });

  it("rejects a directory under procfs", () => {
    const error = catchSync(() => openSqliteStore({ path: "/proc/smsgate-missing/consent.db" }));

    expect(isStoreError(error)).toBe(true);
    expect((error as Error).message).toContain("/proc/smsgate-missing");
  });

  it("rejects a newer schema version", async () => {
    await open().close();
    const db = rawConnection();
    db.pragma(`user_version = ${SCHEMA_VERSION + 1}`);

    const error = catchSync(() => open());

    expect(isStoreError(error)).toBe(true);
    expect((error as Error).message).toContain(`schema version ${SCHEMA_VERSION + 1}`);
    expect((error as Error).message).toContain(`versions 1 to ${SCHEMA_VERSION}`);
  });

  it("rejects an uncreatable directory", () => {
    const blocker = path.join(directory, "not-a-directory");
    fs.writeFileSync(blocker, "");
    file = path.join(blocker, "sub", "consent.db");

    const error = catchSync(() => open());

    expect(isStoreError(error)).toBe(true);
    expect((error as Error).message).toContain(file);
    expect((error as Error).message).toContain("Create the directory");
  });

  it("rejects a directory as path", () => {
    file = directory;

    const error = catchSync(() => open());

    expect(isStoreError(error)).toBe(true);
    expect((error as Error).message).toContain(directory);
  });

  it("rejects a device as path", () => {
    const journals = ["/dev/null-journal", "/dev/null-wal"].filter((name) => !fs.existsSync(name));

    const error = catchSync(() => openSqliteStore({ path: "/dev/null" }));

    expect(isStoreError(error)).toBe(true);
    expect((error as Error).message).toContain("/dev/null: it is not a regular file");
    // SQLite would have created its journal beside the device.
    expect(journals.filter((name) => fs.existsSync(name))).toEqual([]);
  });

  it("rejects a file that is not SQLite", () => {
    fs.writeFileSync(file, "this is not a database, only some text that is long enough");

    const error = catchSync(() => open());

    expect(isStoreError(error)).toBe(true);
    expect((error as Error).message).toContain(file);
  });

  it("read-only store reads but never writes", async () => {
    const writer = open();
    await writer.record(stopEvent("+12025550143"));
    const reader = open({ readonly: true });

    const error = await rejection(reader.record(stopEvent("+12025550144")));

    expect(await reader.isOptedOut("+12025550143")).toBe(true);
    expect(isStoreError(error)).toBe(true);
    expect((error as Error).message).toContain("read-only");
  });

  it("read-only store needs an existing file", () => {
    const error = catchSync(() => open({ readonly: true }));

    expect(isStoreError(error)).toBe(true);
    expect(fs.existsSync(file)).toBe(false);
  });

  it("create false rejects a missing file", () => {
    file = path.join(directory, "missing", "consent.db");

    const error = catchSync(() => open({ create: false }));

    expect(isStoreError(error)).toBe(true);
    expect((error as Error).message).toBe(
      `Cannot open the SQLite store ${file}: no database file exists there. Check the ` +
        "path, or open the store once with create: true to create it.",
    );
    expect(fs.existsSync(path.join(directory, "missing"))).toBe(false);
  });

  it("create false opens an existing file", async () => {
    await open().record(stopEvent("+12025550143"));

    const store = open({ create: false });

    expect(await store.isOptedOut("+12025550143")).toBe(true);
  });

  it("creates a new file with mode 0600", async () => {
    const store = open();
    await store.record(stopEvent("+12025550143"));

    // SQLite gives the WAL and shared-memory files the mode of the database file.
    for (const name of [file, `${file}-wal`, `${file}-shm`]) {
      expect(fs.statSync(name).mode & 0o777, name).toBe(0o600);
    }
  });

  it("keeps the mode of an existing file", async () => {
    await open().close();
    fs.chmodSync(file, 0o640);

    const store = open();
    await store.record(stopEvent("+12025550143"));

    expect(fs.statSync(file).mode & 0o777).toBe(0o640);
    expect(fs.statSync(`${file}-wal`).mode & 0o777).toBe(0o640);
  });

  it("invalid event rejects before writing", async () => {
    const store = open();
    const event = { ...stopEvent("+12025550143"), id: "" };

    const error = await rejection(store.record(event));

    expect(isInvalidConsentEventError(error)).toBe(true);
    expect(await store.history("+12025550143")).toEqual([]);
  });

  it("closed connection rejects with StoreError", async () => {
    const store = open();
    await store.close();

    const error = await rejection(store.isOptedOut("+12025550143"));

    expect(isStoreError(error)).toBe(true);
    expect((error as Error).message).toContain("isOptedOut");
    expect((error as Error).message).toContain("closed");
  });
});

describe("openSqliteStore options", () => {
  const cases: Array<[string, unknown]> = [
    ["path", { path: "" }],
    ["path", { path: 42 }],
    ["busyTimeoutMs", { path: "x.db", busyTimeoutMs: -1 }],
    ["busyTimeoutMs", { path: "x.db", busyTimeoutMs: 2.5 }],
    ["readonly", { path: "x.db", readonly: "yes" }],
    ["create", { path: "x.db", create: "no" }],
    ["busyTimeout", { path: "x.db", busyTimeout: 100 }],
    ["options", undefined],
  ];

  for (const [option, input] of cases) {
    it(`rejects invalid ${option}`, () => {
      const error = catchSync(() => openSqliteStore(input as { path: string }));

      expect(isConfigError(error)).toBe(true);
      expect((error as { path: string }).path).toBe(option);
    });
  }
});

describe("toJsonArrayChunks", () => {
  it("keeps small input in one chunk", () => {
    expect(toJsonArrayChunks(["+1", "+2"])).toEqual(['["+1","+2"]']);
  });

  it("splits input at the byte limit", () => {
    const phones = Array.from({ length: 100 }, (_, index) => `+1202555${1000 + index}`);

    const chunks = toJsonArrayChunks(phones, 500);

    expect(chunks.length).toBeGreaterThan(1);
    expect(chunks.every((chunk) => Buffer.byteLength(chunk) <= 500)).toBe(true);
    expect(chunks.flatMap((chunk) => JSON.parse(chunk) as string[])).toEqual(phones);
  });

  it("gives an oversized value its own chunk", () => {
    const long = "x".repeat(200);

    const chunks = toJsonArrayChunks(["+1", long, "+2"], 100);

    expect(chunks.map((chunk) => JSON.parse(chunk))).toEqual([["+1"], [long], ["+2"]]);
  });
});
