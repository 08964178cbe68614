/**
 * The SQL text of the PostgreSQL store. Every value is a bound parameter. The only text put
 * into SQL is the schema name, validated and quoted by `parsePostgresOptions`.
 */

const eventColumns = `e.id, e.phone, e.action, e.sender, e.source, e.provider,
  e.message_id, e.provider_code, e.text, e.keyword, e.note, e.occurred_at, e.recorded_at`;

// Inserts the events of $1..$12 (one array per column, in event order) for receipt $13, and
// moves the derived state forward in the same statement. A row of the derived state changes
// only when the new event is newer in consent order, (occurred_at, seq). ON CONFLICT DO
// UPDATE locks the row and checks the WHERE against its latest committed version, so two
// transactions that write the same phone at once still end on the newer event. Rows are
// written in key order, so that transactions lock them in one order and do not deadlock.
function insertEvents(schema: string): string {
  return `WITH input AS (
    SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[],
      $6::text[], $7::text[], $8::text[], $9::text[], $10::text[], $11::text[],
      $12::timestamptz[])
      WITH ORDINALITY AS u(id, phone, action, sender, source, provider, message_id,
        provider_code, text, keyword, note, occurred_at, position)
  ), inserted AS (
    INSERT INTO ${schema}.consent_events (id, phone, action, sender, source, provider,
      message_id, provider_code, text, keyword, note, occurred_at, recorded_at, receipt_id)
    SELECT id, phone, action, sender, source, provider, message_id, provider_code, text,
      keyword, note, occurred_at, now(), $13::text
    FROM input ORDER BY position
    ON CONFLICT (id) DO NOTHING
    RETURNING seq, phone, sender, action, occurred_at
  ), sender_state AS (
    INSERT INTO ${schema}.consent_by_sender AS s (phone, sender, action, occurred_at, seq)
    SELECT DISTINCT ON (phone, sender) phone, sender, action, occurred_at, seq
    FROM inserted ORDER BY phone, sender, occurred_at DESC, seq DESC
    ON CONFLICT (phone, sender) DO UPDATE
      SET action = excluded.action, occurred_at = excluded.occurred_at, seq = excluded.seq
      WHERE (excluded.occurred_at, excluded.seq) > (s.occurred_at, s.seq)
  ), phone_state AS (
    INSERT INTO ${schema}.consent_by_phone AS p (phone, action, occurred_at, seq)
    SELECT DISTINCT ON (phone) phone, action, occurred_at, seq
    FROM inserted ORDER BY phone, occurred_at DESC, seq DESC
    ON CONFLICT (phone) DO UPDATE
      SET action = excluded.action, occurred_at = excluded.occurred_at, seq = excluded.seq
      WHERE (excluded.occurred_at, excluded.seq) > (p.occurred_at, p.seq)
  )
  SELECT count(*)::integer AS inserted FROM inserted`;
}

// One arm of the listing for a sender scope: opted-out rows of one sender value whose phone
// has no newer row in the scope, in phone order from the partial index.
function listSenderArm(schema: string, sender: string): string {
  return `(SELECT s.phone AS list_phone, ${eventColumns}
    FROM ${schema}.consent_by_sender AS s
    JOIN ${schema}.consent_events AS e ON e.seq = s.seq
    WHERE s.action = 'opt-out' AND s.sender = ${sender} AND s.phone > $1
      AND NOT EXISTS (SELECT 1 FROM ${schema}.consent_by_sender AS n
        WHERE n.phone = s.phone AND n.sender IN ($2, '*')
          AND (n.occurred_at, n.seq) > (s.occurred_at, s.seq))
    ORDER BY s.phone LIMIT $3)`;
}

function partGroupSelect(schema: string): string {
  return `SELECT g.group_key, g.total, g.first_received_at, g.completed_at,
      coalesce(json_agg(json_build_object('index', p.part_index, 'partId', p.part_id,
          'payload', p.payload) ORDER BY p.part_index)
        FILTER (WHERE p.part_index IS NOT NULL), '[]'::json) AS parts
    FROM ${schema}.message_part_groups AS g
    LEFT JOIN ${schema}.message_parts AS p ON p.group_key = g.group_key`;
}

// Erasure of one number: $1 the phone, $2 its pseudonym, $3 the substring that marks the
// number in JSON payloads and keys (see `numberNeedle`). The derived rows of the pseudonym
// are rebuilt from its events, because it may have events from an earlier erasure.
function erasureSql(schema: string) {
  return {
    eraseEvents: `UPDATE ${schema}.consent_events SET phone = $2, text = NULL,
        keyword = NULL, note = NULL, message_id = NULL
      WHERE phone = $1`,
    eraseSenderState: `DELETE FROM ${schema}.consent_by_sender WHERE phone IN ($1, $2)`,
    erasePhoneState: `DELETE FROM ${schema}.consent_by_phone WHERE phone IN ($1, $2)`,
    rebuildSenderState: `INSERT INTO ${schema}.consent_by_sender
        (phone, sender, action, occurred_at, seq)
      SELECT DISTINCT ON (sender) phone, sender, action, occurred_at, seq
      FROM ${schema}.consent_events WHERE phone = $1
      ORDER BY sender, occurred_at DESC, seq DESC`,
    rebuildPhoneState: `INSERT INTO ${schema}.consent_by_phone (phone, action, occurred_at, seq)
      SELECT phone, action, occurred_at, seq FROM ${schema}.consent_events WHERE phone = $1
      ORDER BY occurred_at DESC, seq DESC LIMIT 1`,
    eraseParts: `DELETE FROM ${schema}.message_parts
      WHERE strpos(group_key, $1) > 0 OR strpos(payload, $1) > 0`,
    erasePartGroups: `DELETE FROM ${schema}.message_part_groups WHERE strpos(group_key, $1) > 0`,
    eraseOutbox: `DELETE FROM ${schema}.outbox WHERE strpos(payload, $1) > 0`,
    copyReceipts: `INSERT INTO ${schema}.webhook_receipts
        (id, provider, received_at, committed_at)
      SELECT replace(id, $1, $2), provider, received_at, committed_at
      FROM ${schema}.webhook_receipts WHERE strpos(id, $1) > 0
      ON CONFLICT (id) DO NOTHING`,
    moveEventReceipts: `UPDATE ${schema}.consent_events SET receipt_id = replace(receipt_id, $1, $2)
      WHERE strpos(receipt_id, $1) > 0`,
    moveOutboxReceipts: `UPDATE ${schema}.outbox SET receipt_id = replace(receipt_id, $1, $2)
      WHERE strpos(receipt_id, $1) > 0`,
    eraseReceipts: `DELETE FROM ${schema}.webhook_receipts WHERE strpos(id, $1) > 0`,
  } as const;
}

/** Builds every statement of the store for the quoted schema name `schema`. */
export function buildSql(schema: string) {
  return {
    ...erasureSql(schema),
    insertEvents: insertEvents(schema),
    insertReceipt: `INSERT INTO ${schema}.webhook_receipts
        (id, provider, received_at, committed_at)
      VALUES ($1, $2, $3, now())
      ON CONFLICT (id) DO NOTHING
      RETURNING id`,
    insertOutbox: `INSERT INTO ${schema}.outbox
        (id, receipt_id, type, payload, created_at, not_before)
      SELECT id, $4::text, type, payload, now(), now()
      FROM unnest($1::text[], $2::text[], $3::text[])
        WITH ORDINALITY AS u(id, type, payload, position)
      ORDER BY position
      ON CONFLICT (id) DO NOTHING`,
    // Returns no row when the group was completed already, by this or another server.
    completePartGroup: `INSERT INTO ${schema}.message_part_groups AS g
        (group_key, total, first_received_at, completed_at)
      VALUES ($1, 0, $2, now())
      ON CONFLICT (group_key) DO UPDATE SET completed_at = excluded.completed_at
        WHERE g.completed_at IS NULL
      RETURNING group_key`,
    // Changes a row only for a higher rank, so racing callbacks never move a status back.
    advanceStatus: `INSERT INTO ${schema}.message_statuses AS m
        (provider, message_id, status, rank, occurred_at)
      VALUES ($1, $2, $3, $4, $5)
      ON CONFLICT (provider, message_id) DO UPDATE
        SET status = excluded.status, rank = excluded.rank, occurred_at = excluded.occurred_at
        WHERE excluded.rank > m.rank`,
    deliveryStatus: `SELECT status, rank, occurred_at FROM ${schema}.message_statuses
      WHERE provider = $1 AND message_id = $2`,
    isOptedOutAny: `SELECT action = 'opt-out' AS opted_out FROM ${schema}.consent_by_phone
      WHERE phone = $1`,
    isOptedOutSender: `SELECT action = 'opt-out' AS opted_out FROM ${schema}.consent_by_sender
      WHERE phone = $1 AND sender IN ($2, '*')
      ORDER BY occurred_at DESC, seq DESC LIMIT 1`,
    filterAny: `SELECT phone FROM ${schema}.consent_by_phone
      WHERE phone = ANY ($1::text[]) AND action = 'opt-out'`,
    filterSender: `SELECT d.phone FROM (
        SELECT DISTINCT ON (s.phone) s.phone, s.action FROM ${schema}.consent_by_sender AS s
        WHERE s.phone = ANY ($1::text[]) AND s.sender IN ($2, '*')
        ORDER BY s.phone, s.occurred_at DESC, s.seq DESC
      ) AS d
      WHERE d.action = 'opt-out'`,
    stateAny: `SELECT ${eventColumns} FROM ${schema}.consent_by_phone AS s
      JOIN ${schema}.consent_events AS e ON e.seq = s.seq
      WHERE s.phone = $1`,
    stateSender: `SELECT ${eventColumns} FROM ${schema}.consent_by_sender AS s
      JOIN ${schema}.consent_events AS e ON e.seq = s.seq
      WHERE s.phone = $1 AND s.sender IN ($2, '*')
      ORDER BY s.occurred_at DESC, s.seq DESC LIMIT 1`,
    history: `SELECT ${eventColumns} FROM ${schema}.consent_events AS e
      WHERE e.phone = $1 ORDER BY e.seq`,
    listAny: `SELECT s.phone AS list_phone, ${eventColumns}
      FROM ${schema}.consent_by_phone AS s
      JOIN ${schema}.consent_events AS e ON e.seq = s.seq
      WHERE s.action = 'opt-out' AND s.phone > $1
      ORDER BY s.phone LIMIT $2`,
    // Two arms, one per sender value, each read in phone order and merged. A phone with
    // opted-out rows in both arms is listed once, by its newest row.
    listSender: `SELECT * FROM (${listSenderArm(schema, "$2")}
      UNION ALL ${listSenderArm(schema, "'*'")}) AS page
      ORDER BY list_phone LIMIT $3`,
    // The deciding row of every sender of the next $2 phones after $1, in consent order per
    // phone. Every phone with events has a row in consent_by_phone.
    listSenderStates: `SELECT ${eventColumns}
      FROM ${schema}.consent_by_sender AS s
      JOIN ${schema}.consent_events AS e ON e.seq = s.seq
      WHERE s.phone IN (SELECT b.phone FROM ${schema}.consent_by_phone AS b
        WHERE b.phone > $1 ORDER BY b.phone LIMIT $2)
      ORDER BY s.phone, s.occurred_at, s.seq`,
    // SKIP LOCKED passes over rows that another server is claiming at this moment, so
    // claimers do not wait for each other, and a message is leased to one claimer at a time.
    claimOutbox: `WITH due AS (
        SELECT seq FROM ${schema}.outbox
        WHERE not_before <= now() AND lease_expires_at <= now()
        ORDER BY seq LIMIT $1
        FOR UPDATE SKIP LOCKED
      ), claimed AS (
        UPDATE ${schema}.outbox AS o
        SET lease_expires_at = now() + $2::double precision * interval '1 millisecond',
          attempts = o.attempts + 1
        FROM due WHERE o.seq = due.seq
        RETURNING o.seq, o.id, o.type, o.payload, o.created_at, o.attempts
      )
      SELECT id, type, payload, created_at, attempts FROM claimed ORDER BY seq`,
    completeOutbox: `DELETE FROM ${schema}.outbox WHERE id = $1`,
    retryOutbox: `UPDATE ${schema}.outbox
      SET not_before = $2, lease_expires_at = '-infinity', last_error = $3
      WHERE id = $1`,
    insertPartGroup: `INSERT INTO ${schema}.message_part_groups
        (group_key, total, first_received_at)
      VALUES ($1, $2, $3)
      ON CONFLICT (group_key) DO NOTHING`,
    lockPartGroup: `SELECT total, completed_at FROM ${schema}.message_part_groups
      WHERE group_key = $1 FOR UPDATE`,
    partAt: `SELECT part_id FROM ${schema}.message_parts
      WHERE group_key = $1 AND part_index = $2`,
    deleteParts: `DELETE FROM ${schema}.message_parts WHERE group_key = $1`,
    restartPartGroup: `UPDATE ${schema}.message_part_groups
      SET total = $2, first_received_at = $3, completed_at = NULL
      WHERE group_key = $1`,
    insertPart: `INSERT INTO ${schema}.message_parts
        (group_key, part_index, part_id, payload, received_at)
      VALUES ($1, $2, $3, $4, $5)
      ON CONFLICT (group_key, part_index) DO NOTHING`,
    partGroup: `${partGroupSelect(schema)}
      WHERE g.group_key = $1
      GROUP BY g.group_key`,
    stalePartGroups: `${partGroupSelect(schema)}
      WHERE g.completed_at IS NULL AND g.first_received_at <= $1
      GROUP BY g.group_key
      ORDER BY g.first_received_at, g.group_key LIMIT $2`,
  } as const;
}

/** Every statement of one store. */
export type StoreSql = ReturnType<typeof buildSql>;
