/** The prepared statements of the SQLite store, and the mapping between rows and events. */

import type { Database, Statement } from "better-sqlite3";
import type { ConsentAction, ConsentEvent, ConsentSource } from "../../consent/types.js";

/** A row of `consent_events` as read. */
export interface EventRow {
  seq: number;
  id: string;
  phone: string;
  action: string;
  sender: string;
  source: string;
  provider: string | null;
  message_id: string | null;
  provider_code: string | null;
  text: string | null;
  keyword: string | null;
  note: string | null;
  occurred_at: number;
  recorded_at: number;
}

/** A row of `message_part_groups`. */
export interface PartGroupRow {
  group_key: string;
  total: number;
  first_received_at: number;
  completed_at: number | null;
}

/** A row of `message_parts`. */
export interface PartRow {
  part_index: number;
  part_id: string;
  payload: string;
}

/** A row of `outbox` as returned by a claim. */
export interface OutboxRow {
  seq: number;
  id: string;
  type: string;
  payload: string;
  created_at: number;
  attempts: number;
}

const eventColumns = `e.seq, e.id, e.phone, e.action, e.sender, e.source, e.provider,
  e.message_id, e.provider_code, e.text, e.keyword, e.note, e.occurred_at, e.recorded_at`;

// consent_state stores the deciding event of each (phone, sender), and of each phone over
// every sender in the row whose sender is '' (see migration 5).

// The newest event of (phone, @scope) and (phone, '*'), in consent order.
const decidingSenderRow = `SELECT s.seq FROM consent_state AS s
  WHERE s.phone = @phone AND s.sender IN (@scope, '*')
  ORDER BY s.occurred_at DESC, s.seq DESC LIMIT 1`;

// Erasure of one number: @phone, its @pseudonym, and @needle, the substring that marks the
// number in JSON payloads and keys (see `numberNeedle`). The derived rows of the pseudonym
// are rebuilt from its events, because it may have events from an earlier erasure.
const erasureSql = {
  eraseEvents: `UPDATE consent_events SET phone = @pseudonym, text = NULL, keyword = NULL,
      note = NULL, message_id = NULL
    WHERE phone = @phone`,
  eraseState: "DELETE FROM consent_state WHERE phone IN (@phone, @pseudonym)",
  rebuildSenderState: `INSERT INTO consent_state (phone, sender, action, occurred_at, seq)
    SELECT phone, sender, action, occurred_at, seq FROM (
      SELECT phone, sender, action, occurred_at, seq, row_number() OVER (
        PARTITION BY sender ORDER BY occurred_at DESC, seq DESC) AS position
      FROM consent_events WHERE phone = @pseudonym)
    WHERE position = 1`,
  rebuildPhoneState: `INSERT INTO consent_state (phone, sender, action, occurred_at, seq)
    SELECT phone, '', action, occurred_at, seq FROM consent_events WHERE phone = @pseudonym
    ORDER BY occurred_at DESC, seq DESC LIMIT 1`,
  eraseParts: `DELETE FROM message_parts
    WHERE instr(group_key, @needle) > 0 OR instr(payload, @needle) > 0`,
  erasePartGroups: "DELETE FROM message_part_groups WHERE instr(group_key, @needle) > 0",
  eraseOutbox: "DELETE FROM outbox WHERE instr(payload, @needle) > 0",
  copyReceipts: `INSERT INTO webhook_receipts (id, provider, received_at, committed_at)
    SELECT replace(id, @phone, @pseudonym), provider, received_at, committed_at
    FROM webhook_receipts WHERE instr(id, @phone) > 0
    ON CONFLICT (id) DO NOTHING`,
  moveEventReceipts: `UPDATE consent_events SET receipt_id = replace(receipt_id, @phone, @pseudonym)
    WHERE instr(receipt_id, @phone) > 0`,
  moveOutboxReceipts: `UPDATE outbox SET receipt_id = replace(receipt_id, @phone, @pseudonym)
    WHERE instr(receipt_id, @phone) > 0`,
  eraseReceipts: "DELETE FROM webhook_receipts WHERE instr(id, @phone) > 0",
} as const;

const sql = {
  // The statements written for every webhook take positional parameters, which bind
  // faster than named ones. The arguments follow the order of the column list.
  insertEvent: `INSERT INTO consent_events (id, phone, action, sender, source, provider,
      message_id, provider_code, text, keyword, note, occurred_at, recorded_at, receipt_id)
    VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
    ON CONFLICT (id) DO NOTHING
    RETURNING seq`,
  // The sender's row and the phone's row over every sender, each changed only when the new
  // event is newer in consent order. Arguments: phone, sender, action, occurred_at, seq,
  // then phone, action, occurred_at and seq again for the row whose sender is ''.
  upsertState: `INSERT INTO consent_state (phone, sender, action, occurred_at, seq)
    VALUES (?, ?, ?, ?, ?), (?, '', ?, ?, ?)
    ON CONFLICT (phone, sender) DO UPDATE
      SET action = excluded.action, occurred_at = excluded.occurred_at, seq = excluded.seq
      WHERE (excluded.occurred_at, excluded.seq)
        > (consent_state.occurred_at, consent_state.seq)`,
  insertReceipt: `INSERT INTO webhook_receipts (id, provider, received_at, committed_at)
    VALUES (?, ?, ?, ?)
    ON CONFLICT (id) DO NOTHING`,
  insertOutbox: `INSERT INTO outbox (id, receipt_id, type, payload, created_at, not_before)
    VALUES (@id, @receiptId, @type, @payload, @createdAt, @createdAt)
    ON CONFLICT (id) DO NOTHING`,
  isOptedOutAny: `SELECT 1 FROM consent_state
    WHERE phone = ? AND sender = '' AND action = 'opt-out'`,
  isOptedOutSender: `SELECT s.action = 'opt-out' FROM consent_state AS s
    WHERE s.phone = @phone AND s.sender IN (@scope, '*')
    ORDER BY s.occurred_at DESC, s.seq DESC LIMIT 1`,
  // CROSS JOIN keeps json_each as the outer loop, so each phone is one primary-key lookup.
  // A phone listed twice comes back twice; the caller collects the rows in a Set.
  filterAny: `SELECT s.phone FROM json_each(?) AS j
    CROSS JOIN consent_state AS s ON s.phone = j.value AND s.sender = ''
    WHERE s.action = 'opt-out'`,
  filterSender: `SELECT j.value FROM json_each(@phones) AS j
    WHERE (SELECT s.action FROM consent_state AS s
      WHERE s.phone = j.value AND s.sender IN (@scope, '*')
      ORDER BY s.occurred_at DESC, s.seq DESC LIMIT 1) = 'opt-out'`,
  stateAny: `SELECT ${eventColumns} FROM consent_state AS s
    JOIN consent_events AS e ON e.seq = s.seq WHERE s.phone = ? AND s.sender = ''`,
  stateSender: `SELECT ${eventColumns} FROM consent_events AS e
    WHERE e.seq = (${decidingSenderRow})`,
  history: `SELECT ${eventColumns} FROM consent_events AS e WHERE e.phone = ? ORDER BY e.seq`,
  // The listings walk the primary key from @after, so a page reads the rows of its phones
  // and of the phones in between that are not opted out, and never sorts.
  listAny: `SELECT ${eventColumns} FROM consent_state AS s
    JOIN consent_events AS e ON e.seq = s.seq
    WHERE s.phone > @after AND s.sender = '' AND s.action = 'opt-out'
    ORDER BY s.phone LIMIT @limit`,
  // A phone with opted-out rows for @scope and for '*' is listed once, by its newest row.
  listSender: `SELECT ${eventColumns} FROM consent_state AS s
    JOIN consent_events AS e ON e.seq = s.seq
    WHERE s.phone > @after AND s.sender IN (@scope, '*') AND s.action = 'opt-out'
      AND NOT EXISTS (SELECT 1 FROM consent_state AS n
        WHERE n.phone = s.phone AND n.sender IN (@scope, '*')
          AND (n.occurred_at, n.seq) > (s.occurred_at, s.seq))
    ORDER BY s.phone LIMIT @limit`,
  // The deciding row of every sender of the next @limit phones after @after, in consent
  // order per phone. Every phone with events has a row with sender '', which repeats one of
  // its sender rows and is left out.
  listSenderStates: `SELECT ${eventColumns} FROM consent_state AS s
    JOIN consent_events AS e ON e.seq = s.seq
    WHERE s.sender != '' AND s.phone IN (
      SELECT b.phone FROM consent_state AS b
      WHERE b.phone > @after AND b.sender = ''
      ORDER BY b.phone LIMIT @limit)
    ORDER BY s.phone, s.occurred_at, s.seq`,
  claimOutbox: `UPDATE outbox
    SET lease_expires_at = @leaseExpiresAt, attempts = attempts + 1
    WHERE seq IN (SELECT seq FROM outbox
      WHERE not_before <= @now AND lease_expires_at <= @now
      ORDER BY seq LIMIT @limit)
    RETURNING seq, id, type, payload, created_at, attempts`,
  insertPartGroup: `INSERT INTO message_part_groups (group_key, total, first_received_at)
    VALUES (@groupKey, @total, @receivedAt)
    ON CONFLICT (group_key) DO NOTHING`,
  // A part is kept only while its group waits, and only when its index fits the group.
  insertPart: `INSERT INTO message_parts
      (group_key, part_index, part_id, payload, received_at)
    SELECT @groupKey, @index, @partId, @payload, @receivedAt FROM message_part_groups AS g
    WHERE g.group_key = @groupKey AND g.completed_at IS NULL AND @index <= g.total
    ON CONFLICT (group_key, part_index) DO NOTHING`,
  partGroup: `SELECT group_key, total, first_received_at, completed_at
    FROM message_part_groups WHERE group_key = ?`,
  parts: `SELECT part_index, part_id, payload FROM message_parts WHERE group_key = ?
    ORDER BY part_index`,
  partAt: `SELECT part_id FROM message_parts WHERE group_key = ? AND part_index = ?`,
  deleteParts: "DELETE FROM message_parts WHERE group_key = ?",
  restartPartGroup: `UPDATE message_part_groups
    SET total = @total, first_received_at = @receivedAt, completed_at = NULL
    WHERE group_key = @groupKey`,
  stalePartGroups: `SELECT group_key, total, first_received_at, completed_at
    FROM message_part_groups
    WHERE completed_at IS NULL AND first_received_at <= @before
    ORDER BY first_received_at LIMIT @limit`,
  completePartGroup: `INSERT INTO message_part_groups
      (group_key, total, first_received_at, completed_at)
    VALUES (@groupKey, 0, @completedAt, @completedAt)
    ON CONFLICT (group_key) DO UPDATE SET completed_at = excluded.completed_at
      WHERE message_part_groups.completed_at IS NULL`,
  advanceStatus: `INSERT INTO message_statuses (provider, message_id, status, rank, occurred_at)
    VALUES (@provider, @messageId, @status, @rank, @occurredAt)
    ON CONFLICT (provider, message_id) DO UPDATE
      SET status = excluded.status, rank = excluded.rank, occurred_at = excluded.occurred_at
      WHERE excluded.rank > message_statuses.rank`,
  deliveryStatus: `SELECT status, rank, occurred_at FROM message_statuses
    WHERE provider = ? AND message_id = ?`,
  completeOutbox: "DELETE FROM outbox WHERE id = ?",
  ...erasureSql,
  retryOutbox: `UPDATE outbox SET not_before = @notBefore, lease_expires_at = 0,
    last_error = @error WHERE id = @id`,
} as const;

/** Every statement of the store, prepared once when the store opens. */
export type Statements = { [Name in keyof typeof sql]: Statement };

/** Prepares every statement of the store on `db`. */
export function prepareStatements(db: Database): Statements {
  const entries = Object.entries(sql).map(([name, text]) => [name, db.prepare(text)]);
  const statements = Object.fromEntries(entries) as Statements;

  statements.insertEvent.pluck();
  statements.isOptedOutAny.pluck();
  statements.isOptedOutSender.pluck();
  statements.filterAny.pluck();
  statements.filterSender.pluck();
  statements.partAt.pluck();

  return statements;
}

/** Runs `insertEvent` for an event and returns the new row's seq, or `undefined` for a known id. */
export function insertEventRow(
  statement: Statement,
  event: ConsentEvent,
  recordedAt: number,
  receiptId: string | null,
): number | undefined {
  return statement.get(
    event.id,
    event.phone,
    event.action,
    event.sender,
    event.source,
    event.provider ?? null,
    event.messageId ?? null,
    event.providerCode ?? null,
    event.text ?? null,
    event.keyword ?? null,
    event.note ?? null,
    event.occurredAt.getTime(),
    recordedAt,
    receiptId,
  ) as number | undefined;
}

/** Turns a row of `consent_events` into an event, leaving out empty columns. */
export function rowToEvent(row: EventRow): ConsentEvent {
  const event: ConsentEvent = {
    id: row.id,
    phone: row.phone,
    action: row.action as ConsentAction,
    sender: row.sender,
    source: row.source as ConsentSource,
    occurredAt: new Date(row.occurred_at),
    recordedAt: new Date(row.recorded_at),
  };

  if (row.provider !== null) event.provider = row.provider;
  if (row.message_id !== null) event.messageId = row.message_id;
  if (row.provider_code !== null) event.providerCode = row.provider_code;
  if (row.text !== null) event.text = row.text;
  if (row.keyword !== null) event.keyword = row.keyword;
  if (row.note !== null) event.note = row.note;

  return event;
}

/**
 * Maximum length of the JSON array bound to one bulk check. SQLite rejects longer text than
 * SQLITE_MAX_LENGTH (10^9 bytes by default) and V8 limits a string to about 2^29 characters,
 * so a larger input is split into several queries.
 */
export const MAX_JSON_PARAMETER_BYTES = 2 ** 27;

/**
 * Encodes `values` as JSON arrays of at most `maxBytes` UTF-8 bytes each, in order. Almost
 * every input fits in one array.
 */
export function toJsonArrayChunks(
  values: readonly string[],
  maxBytes = MAX_JSON_PARAMETER_BYTES,
): string[] {
  const chunks: string[] = [];
  let start = 0;
  let size = 2;

  values.forEach((value, index) => {
    // Upper bound of the encoded size: quotes, comma, and at most 6 bytes per UTF-16 unit.
    const itemBytes = value.length * 6 + 3;
    if (index > start && size + itemBytes > maxBytes) {
      chunks.push(JSON.stringify(values.slice(start, index)));
      start = index;
      size = 2;
    }

    size += itemBytes;
  });

  if (start === 0 && values.length > 0) {
    chunks.push(JSON.stringify(values));
  } else if (values.length > start) {
    chunks.push(JSON.stringify(values.slice(start)));
  }

  return chunks;
}
