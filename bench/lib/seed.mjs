/**
 * Seeds an SQLite consent store with opted-out numbers. `openSqliteStore` creates and
 * migrates the file, so the schema is the store's own. The rows are then written with direct
 * SQL on that schema, in one transaction of prepared inserts: one opt-out event per number
 * in `consent_events`, and its deciding rows in `consent_state`: one for its sender and one
 * for every sender (sender '').
 * These are the rows the store's `record()` writes, without its disk flush per group of 256
 * events, which would make a 10M store take hours to seed.
 */

import Database from "better-sqlite3";
import { openSqliteStore } from "smsgate/stores/sqlite";
import { optedOutPhone } from "./data.mjs";

/** The sender every seeded opt-out was sent to. */
export const seededSender = "+12025550100";

/** Creates the store at `path` and writes `count` opt-outs. Returns the seconds it took. */
export async function seedStore(path, count) {
  const started = performance.now();
  const store = openSqliteStore({ path });

  await store.close();

  const db = new Database(path);

  try {
    // Setup only: a rollback journal and a large cache make one big transaction fast. The
    // store switches the file back to WAL with synchronous = FULL when it opens it.
    db.pragma("journal_mode = DELETE");
    db.pragma("cache_size = -262144");
    insertOptOuts(db, count);
  } finally {
    db.close();
  }

  return (performance.now() - started) / 1_000;
}

function insertOptOuts(db, count) {
  const insertEvent = db
    .prepare(
      `INSERT INTO consent_events
        (id, phone, action, sender, source, provider, keyword, text, occurred_at, recorded_at)
      VALUES (?, ?, 'opt-out', ?, 'keyword', 'twilio', 'STOP', 'STOP', ?, ?)
      RETURNING seq`,
    )
    .pluck();
  const insertState = db.prepare(
    `INSERT INTO consent_state (phone, sender, action, occurred_at, seq)
    VALUES (?, ?, 'opt-out', ?, ?), (?, '', 'opt-out', ?, ?)`,
  );
  const occurredAt = Date.UTC(2025, 0, 1);

  db.transaction(() => {
    for (let index = 0; index < count; index += 1) {
      const phone = optedOutPhone(index);
      const seq = insertEvent.get(`seed:${index}`, phone, seededSender, occurredAt, occurredAt);

      insertState.run(phone, seededSender, occurredAt, seq, phone, occurredAt, seq);
    }
  })();
}
