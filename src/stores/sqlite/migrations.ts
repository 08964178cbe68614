/**
 * The schema of the SQLite store and the ordered migrations that build it. The version is
 * stored in `PRAGMA user_version`. Pending migrations run in order, in one transaction.
 */

import type { Database } from "better-sqlite3";
import { StoreError } from "../../errors.js";

/** One step of the schema. A released migration is never edited, so add a new one. */
export interface Migration {
  version: number;
  description: string;
  sql: string;
}

// Times are epoch milliseconds. `seq` is the commit order of events.
// consent_by_sender stores the deciding event per (phone, sender), for per-sender scopes.
// consent_by_phone stores the deciding event per phone over every sender, so that the `*`
// reading on the send path is one primary-key lookup.
const initialSchema = `
CREATE TABLE webhook_receipts (
  id TEXT PRIMARY KEY,
  provider TEXT NOT NULL,
  received_at INTEGER NOT NULL,
  committed_at INTEGER NOT NULL
) WITHOUT ROWID;

CREATE TABLE consent_events (
  seq INTEGER PRIMARY KEY,
  id TEXT NOT NULL UNIQUE,
  phone TEXT NOT NULL,
  action TEXT NOT NULL CHECK (action IN ('opt-out', 'opt-in')),
  sender TEXT NOT NULL,
  source TEXT NOT NULL,
  provider TEXT,
  message_id TEXT,
  provider_code TEXT,
  text TEXT,
  keyword TEXT,
  note TEXT,
  occurred_at INTEGER NOT NULL,
  recorded_at INTEGER NOT NULL,
  receipt_id TEXT REFERENCES webhook_receipts (id)
);

CREATE INDEX consent_events_by_phone ON consent_events (phone, seq);

CREATE TABLE consent_by_sender (
  phone TEXT NOT NULL,
  sender TEXT NOT NULL,
  action TEXT NOT NULL,
  occurred_at INTEGER NOT NULL,
  seq INTEGER NOT NULL REFERENCES consent_events (seq),
  PRIMARY KEY (phone, sender)
) WITHOUT ROWID;

CREATE INDEX consent_by_sender_by_action ON consent_by_sender (action, sender, phone);

CREATE TABLE consent_by_phone (
  phone TEXT PRIMARY KEY,
  action TEXT NOT NULL,
  occurred_at INTEGER NOT NULL,
  seq INTEGER NOT NULL REFERENCES consent_events (seq)
) WITHOUT ROWID;

CREATE INDEX consent_by_phone_by_action ON consent_by_phone (action, phone);

CREATE TABLE outbox (
  seq INTEGER PRIMARY KEY,
  id TEXT NOT NULL UNIQUE,
  receipt_id TEXT NOT NULL REFERENCES webhook_receipts (id),
  type TEXT NOT NULL,
  payload TEXT NOT NULL,
  created_at INTEGER NOT NULL,
  not_before INTEGER NOT NULL,
  lease_expires_at INTEGER NOT NULL DEFAULT 0,
  attempts INTEGER NOT NULL DEFAULT 0,
  last_error TEXT
);

CREATE INDEX outbox_due ON outbox (not_before, seq);
`;

// Parts of multipart messages wait here for the rest. A group is marked completed when a
// receipt delivers it, and its parts stay, so that a late repeat of a part is recognised.
const messageParts = `
CREATE TABLE message_part_groups (
  group_key TEXT PRIMARY KEY,
  total INTEGER NOT NULL,
  first_received_at INTEGER NOT NULL,
  completed_at INTEGER
) WITHOUT ROWID;

CREATE INDEX message_part_groups_pending ON message_part_groups (first_received_at)
  WHERE completed_at IS NULL;

CREATE TABLE message_parts (
  group_key TEXT NOT NULL REFERENCES message_part_groups (group_key),
  part_index INTEGER NOT NULL,
  part_id TEXT NOT NULL,
  payload TEXT NOT NULL,
  received_at INTEGER NOT NULL,
  PRIMARY KEY (group_key, part_index)
) WITHOUT ROWID;
`;

// The latest delivery status of each sent message; a status with a lower or equal rank does
// not replace it, so callbacks that race never move a message backwards.
const messageStatuses = `
CREATE TABLE message_statuses (
  provider TEXT NOT NULL,
  message_id TEXT NOT NULL,
  status TEXT NOT NULL,
  rank INTEGER NOT NULL,
  occurred_at INTEGER NOT NULL,
  PRIMARY KEY (provider, message_id)
) WITHOUT ROWID;
`;

// The signed nonces of committed webhooks, each with a hash of the request that carried it.
// One row that a health check rewrites to prove that the file takes writes. Settings, such
// as the check value of the pseudonym key.
const noncesAndHealth = `
CREATE TABLE webhook_nonces (
  provider TEXT NOT NULL,
  nonce TEXT NOT NULL,
  request_hash TEXT NOT NULL,
  committed_at INTEGER NOT NULL,
  PRIMARY KEY (provider, nonce)
) WITHOUT ROWID;

CREATE TABLE store_health (
  id INTEGER PRIMARY KEY CHECK (id = 1),
  checked_at INTEGER NOT NULL
);

CREATE TABLE store_settings (
  name TEXT PRIMARY KEY,
  value TEXT NOT NULL
) WITHOUT ROWID;
`;

// consent_state replaces consent_by_sender and consent_by_phone. It stores the deciding event
// per (phone, sender), and per phone over every sender under the reserved sender '', which
// no event can have (a sender must be non-empty). Both rows of a phone sort next to each
// other, so an opt-out usually changes one leaf page of one B-tree where it changed four
// B-trees before: the two tables and their action indexes. The listings read this table in
// primary-key order instead of the action indexes.
const oneStateTable = `
CREATE TABLE consent_state (
  phone TEXT NOT NULL,
  sender TEXT NOT NULL,
  action TEXT NOT NULL,
  occurred_at INTEGER NOT NULL,
  seq INTEGER NOT NULL REFERENCES consent_events (seq),
  PRIMARY KEY (phone, sender)
) WITHOUT ROWID;

INSERT INTO consent_state (phone, sender, action, occurred_at, seq)
  SELECT phone, sender, action, occurred_at, seq FROM consent_by_sender;

INSERT INTO consent_state (phone, sender, action, occurred_at, seq)
  SELECT phone, '', action, occurred_at, seq FROM consent_by_phone;

DROP TABLE consent_by_sender;
DROP TABLE consent_by_phone;
`;

/** Every migration, in order. The last version is {@link SCHEMA_VERSION}. */
export const migrations: readonly Migration[] = [
  { version: 1, description: "consent log, derived state, receipts, outbox", sql: initialSchema },
  { version: 2, description: "parts of multipart messages", sql: messageParts },
  { version: 3, description: "latest delivery status of sent messages", sql: messageStatuses },
  { version: 4, description: "webhook nonces, health check row, settings", sql: noncesAndHealth },
  {
    version: 5,
    description: "one table of deciding events per sender and phone",
    sql: oneStateTable,
  },
];

/** The schema version this code creates and reads. */
export const SCHEMA_VERSION = migrations.length;

/** Reads the schema version stored in the database file. */
export function readSchemaVersion(db: Database): number {
  return db.pragma("user_version", { simple: true }) as number;
}

function newerVersionError(path: string, found: number): StoreError {
  return new StoreError(
    `SQLite store ${path} has schema version ${found}, but this version of smsgate knows ` +
      `versions 1 to ${SCHEMA_VERSION}. Upgrade smsgate to open it.`,
  );
}

/**
 * Brings the schema to {@link SCHEMA_VERSION}. A database at that version is left untouched.
 *
 * @throws {StoreError} when the file has a newer version, or an older one and is read-only.
 */
export function migrate(db: Database, path: string): void {
  const found = readSchemaVersion(db);
  if (found > SCHEMA_VERSION) {
    throw newerVersionError(path, found);
  }

  if (found === SCHEMA_VERSION) {
    return;
  }

  if (db.readonly) {
    throw new StoreError(
      `SQLite store ${path} has schema version ${found} and needs version ${SCHEMA_VERSION}, ` +
        "but it was opened read-only. Open it once without readonly to migrate it.",
    );
  }

  applyMigrations(db, path);
}

function applyMigrations(db: Database, path: string): void {
  const run = db.transaction(() => {
    // Another process may have migrated the file after the first read, so the version is
    // read again now that this transaction has the write lock.
    const current = readSchemaVersion(db);
    if (current > SCHEMA_VERSION) {
      throw newerVersionError(path, current);
    }

    for (const migration of migrations) {
      if (migration.version > current) {
        db.exec(migration.sql);
      }
    }

    db.pragma(`user_version = ${SCHEMA_VERSION}`);
  });

  run.immediate();
}
