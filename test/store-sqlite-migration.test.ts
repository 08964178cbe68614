import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import Database from "better-sqlite3";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import type { ConsentState } from "../src/consent/types.js";
import { migrations } from "../src/stores/sqlite/migrations.js";
import { openSqliteStore, SCHEMA_VERSION, type SqliteOptOutStore } from "../src/stores/sqlite.js";

const APP = "+12025550100";
const OTHER = "+12025550101";

/** Phones of the version 3 file, each with a different history. */
const phones = {
  /** Opted out from APP only. */
  app: "+12025550111",
  /** Opted out from every sender by an event for `*`. */
  all: "+12025550112",
  /** Opted out from APP, then opted in at OTHER later. */
  mixed: "+12025550113",
  /** Opted out, then opted in from the same sender. */
  back: "+12025550114",
} as const;

interface OldEvent {
  phone: string;
  action: "opt-out" | "opt-in";
  sender: string;
  minute: number;
  receiptId?: string;
}

const BASE_TIME = Date.UTC(2025, 0, 15, 10, 0, 0);

const oldEvents: OldEvent[] = [
  { phone: phones.app, action: "opt-out", sender: APP, minute: 0, receiptId: "twilio:inbound|r1" },
  { phone: phones.all, action: "opt-out", sender: "*", minute: 1 },
  { phone: phones.mixed, action: "opt-out", sender: APP, minute: 2 },
  { phone: phones.mixed, action: "opt-in", sender: OTHER, minute: 3 },
  { phone: phones.back, action: "opt-out", sender: APP, minute: 4 },
  { phone: phones.back, action: "opt-in", sender: APP, minute: 5 },
];

/**
 * Writes a version 3 file with the rows the version 3 store wrote: every event, its
 * receipt, and the newest event per (phone, sender) and per phone.
 */
function writeVersion3File(file: string): void {
  const db = new Database(file);

  db.pragma("journal_mode = WAL");
  for (const migration of migrations.filter((step) => step.version <= 3)) {
    db.exec(migration.sql);
  }
  db.pragma("user_version = 3");

  const insertReceipt = db.prepare(
    `INSERT INTO webhook_receipts (id, provider, received_at, committed_at)
    VALUES (?, 'twilio', ?, ?)`,
  );
  const insertEvent = db.prepare(
    `INSERT INTO consent_events (id, phone, action, sender, source, occurred_at, recorded_at,
      receipt_id)
    VALUES (?, ?, ?, ?, 'keyword', ?, ?, ?) RETURNING seq`,
  );
  const upsertSender = db.prepare(
    `INSERT INTO consent_by_sender (phone, sender, action, occurred_at, seq) VALUES (?, ?, ?, ?, ?)
    ON CONFLICT (phone, sender) DO UPDATE SET action = excluded.action,
      occurred_at = excluded.occurred_at, seq = excluded.seq`,
  );
  const upsertPhone = db.prepare(
    `INSERT INTO consent_by_phone (phone, action, occurred_at, seq) VALUES (?, ?, ?, ?)
    ON CONFLICT (phone) DO UPDATE SET action = excluded.action,
      occurred_at = excluded.occurred_at, seq = excluded.seq`,
  );

  oldEvents.forEach((event, index) => {
    const time = BASE_TIME + event.minute * 60_000;
    const receiptId = event.receiptId ?? null;

    if (receiptId !== null) {
      insertReceipt.run(receiptId, time, time);
    }

    const { seq } = insertEvent.get(
      `old:${index}`,
      event.phone,
      event.action,
      event.sender,
      time,
      time,
      receiptId,
    ) as { seq: number };

    upsertSender.run(event.phone, event.sender, event.action, time, seq);
    upsertPhone.run(event.phone, event.action, time, seq);
  });

  db.close();
}

async function listPhones(states: AsyncIterable<ConsentState>): Promise<string[]> {
  const listed: string[] = [];

  for await (const state of states) {
    listed.push(state.phone);
  }

  return listed;
}

describe("SQLite migration from version 3", () => {
  let directory: string;
  let file: string;
  let store: SqliteOptOutStore | undefined;

  beforeEach(() => {
    directory = fs.mkdtempSync(path.join(os.tmpdir(), "smsgate-migrate-"));
    file = path.join(directory, "consent.db");
    writeVersion3File(file);
    store = openSqliteStore({ path: file });
  });

  afterEach(async () => {
    await store?.close();
    fs.rmSync(directory, { recursive: true, force: true });
  });

  function opened(): SqliteOptOutStore {
    if (store === undefined) {
      throw new Error("the store did not open");
    }

    return store;
  }

  it("replaces the state tables", () => {
    const db = new Database(file, { readonly: true });
    const tables = db
      .prepare("SELECT name FROM sqlite_schema WHERE type IN ('table', 'index') ORDER BY name")
      .pluck()
      .all();
    const version = db.pragma("user_version", { simple: true });

    db.close();
    expect(version).toBe(SCHEMA_VERSION);
    expect(tables).toContain("consent_state");
    expect(tables).not.toContain("consent_by_sender");
    expect(tables).not.toContain("consent_by_phone");
    expect(tables).not.toContain("consent_by_sender_by_action");
    expect(tables).not.toContain("consent_by_phone_by_action");
  });

  it("keeps the state of every scope", async () => {
    const migrated = opened();

    expect(await migrated.isOptedOut(phones.app)).toBe(true);
    expect(await migrated.isOptedOut(phones.app, APP)).toBe(true);
    expect(await migrated.isOptedOut(phones.app, OTHER)).toBe(false);
    expect(await migrated.isOptedOut(phones.all)).toBe(true);
    expect(await migrated.isOptedOut(phones.all, OTHER)).toBe(true);
    expect(await migrated.isOptedOut(phones.mixed)).toBe(false);
    expect(await migrated.isOptedOut(phones.mixed, APP)).toBe(true);
    expect(await migrated.isOptedOut(phones.mixed, OTHER)).toBe(false);
    expect(await migrated.isOptedOut(phones.back)).toBe(false);
    expect(await migrated.isOptedOut(phones.back, APP)).toBe(false);
  });

  it("keeps the deciding events", async () => {
    const migrated = opened();

    const any = await migrated.getState(phones.mixed);
    const app = await migrated.getState(phones.mixed, APP);

    expect(any.lastEvent?.id).toBe("old:3");
    expect(any.optedOut).toBe(false);
    expect(app.lastEvent?.id).toBe("old:2");
    expect(app.optedOut).toBe(true);
  });

  it("keeps bulk checks and listings", async () => {
    const migrated = opened();
    const all = Object.values(phones);

    expect(await migrated.filterOptedOut(all)).toEqual(new Set([phones.app, phones.all]));
    expect(await migrated.filterOptedOut(all, APP)).toEqual(
      new Set([phones.app, phones.all, phones.mixed]),
    );
    expect(await listPhones(migrated.listOptedOut())).toEqual([phones.app, phones.all]);
    expect(await listPhones(migrated.listOptedOut(APP))).toEqual([
      phones.app,
      phones.all,
      phones.mixed,
    ]);
    expect(await listPhones(migrated.listOptedOut(OTHER))).toEqual([phones.all]);
  });

  it("keeps history and receipts", async () => {
    const migrated = opened();

    const history = await migrated.history(phones.back);
    const redelivery = await migrated.commitWebhook({
      id: "twilio:inbound|r1",
      provider: "twilio",
      events: [],
      outbox: [],
      receivedAt: new Date(),
    });

    expect(history.map((event) => event.action)).toEqual(["opt-out", "opt-in"]);
    expect(redelivery).toEqual({ duplicate: true });
  });

  it("takes new events after migrating", async () => {
    const migrated = opened();
    const later = new Date(BASE_TIME + 60 * 60_000);

    await migrated.record({
      id: "new:1",
      phone: phones.mixed,
      action: "opt-out",
      sender: OTHER,
      source: "keyword",
      occurredAt: later,
    });
    await migrated.record({
      id: "new:2",
      phone: phones.app,
      action: "opt-in",
      sender: APP,
      source: "keyword",
      occurredAt: new Date(BASE_TIME - 60_000),
    });

    expect(await migrated.isOptedOut(phones.mixed)).toBe(true);
    expect(await migrated.isOptedOut(phones.mixed, OTHER)).toBe(true);
    expect((await migrated.getState(phones.mixed)).lastEvent?.id).toBe("new:1");
    expect(await migrated.isOptedOut(phones.app)).toBe(true);
    expect((await migrated.getState(phones.app)).lastEvent?.id).toBe("old:0");
  });
});
