/**
 * The schema of the PostgreSQL store and the ordered migrations that build it. Applied
 * versions are rows of `schema_migrations`. Pending migrations run in one transaction under
 * an advisory lock, so servers that start at the same time migrate once.
 */

import type { Pool, PoolClient } from "pg";
import { isStoreError, StoreError } from "../../errors.js";
import { runTransaction } from "./connection.js";

/** One step of the schema. A released migration is never edited, so add a new one. */
export interface Migration {
  version: number;
  description: string;
  sql: string;
}

// Table names are unqualified, because the migration runs with search_path set to the schema.
// `seq` is the order in which events were inserted. consent_by_sender keeps the deciding
// event per (phone, sender) for per-sender scopes, and consent_by_phone the deciding event
// per phone over every sender, so that the `*` reading is one primary-key lookup. Phones
// use the "C" collation, so that listing pages go in byte order on every server locale.
const initialSchema = `
CREATE TABLE webhook_receipts (
  id text PRIMARY KEY,
  provider text NOT NULL,
  received_at timestamptz NOT NULL,
  committed_at timestamptz NOT NULL
);

CREATE TABLE consent_events (
  seq bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  id text NOT NULL UNIQUE,
  phone text NOT NULL,
  action text NOT NULL CHECK (action IN ('opt-out', 'opt-in')),
  sender text NOT NULL,
  source text NOT NULL,
  provider text,
  message_id text,
  provider_code text,
  text text,
  keyword text,
  note text,
  occurred_at timestamptz NOT NULL,
  recorded_at timestamptz NOT NULL,
  receipt_id text REFERENCES webhook_receipts (id)
);

CREATE INDEX consent_events_by_phone ON consent_events (phone, seq);

CREATE TABLE consent_by_sender (
  phone text COLLATE "C" NOT NULL,
  sender text NOT NULL,
  action text NOT NULL,
  occurred_at timestamptz NOT NULL,
  seq bigint NOT NULL REFERENCES consent_events (seq),
  PRIMARY KEY (phone, sender)
);

CREATE INDEX consent_by_sender_opted_out ON consent_by_sender (sender, phone)
  WHERE action = 'opt-out';

CREATE TABLE consent_by_phone (
  phone text COLLATE "C" PRIMARY KEY,
  action text NOT NULL,
  occurred_at timestamptz NOT NULL,
  seq bigint NOT NULL REFERENCES consent_events (seq)
);

CREATE INDEX consent_by_phone_opted_out ON consent_by_phone (phone)
  WHERE action = 'opt-out';

CREATE TABLE outbox (
  seq bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  id text NOT NULL UNIQUE,
  receipt_id text NOT NULL REFERENCES webhook_receipts (id),
  type text NOT NULL,
  payload text NOT NULL,
  created_at timestamptz NOT NULL,
  not_before timestamptz NOT NULL,
  lease_expires_at timestamptz NOT NULL DEFAULT '-infinity',
  attempts integer NOT NULL DEFAULT 0,
  last_error text
);

CREATE INDEX outbox_due ON outbox (not_before, seq);

CREATE TABLE message_part_groups (
  group_key text PRIMARY KEY,
  total integer NOT NULL,
  first_received_at timestamptz NOT NULL,
  completed_at timestamptz
);

CREATE INDEX message_part_groups_waiting ON message_part_groups (first_received_at)
  WHERE completed_at IS NULL;

CREATE TABLE message_parts (
  group_key text NOT NULL REFERENCES message_part_groups (group_key),
  part_index integer NOT NULL,
  part_id text NOT NULL,
  payload text NOT NULL,
  received_at timestamptz NOT NULL,
  PRIMARY KEY (group_key, part_index)
);

CREATE TABLE message_statuses (
  provider text NOT NULL,
  message_id text NOT NULL,
  status text NOT NULL,
  rank double precision NOT NULL,
  occurred_at timestamptz NOT NULL,
  PRIMARY KEY (provider, message_id)
);
`;

// The signed nonces of committed webhooks, each with a hash of the request that carried it.
// One row that a health check rewrites to prove that the database takes writes. Settings, such
// as the check value of the pseudonym key.
const noncesAndHealth = `
CREATE TABLE webhook_nonces (
  provider text NOT NULL,
  nonce text NOT NULL,
  request_hash text NOT NULL,
  committed_at timestamptz NOT NULL,
  PRIMARY KEY (provider, nonce)
);

CREATE TABLE store_health (
  id integer PRIMARY KEY CHECK (id = 1),
  checked_at timestamptz NOT NULL
);

CREATE TABLE store_settings (
  name text PRIMARY KEY,
  value text NOT NULL
);
`;

/** Every migration, in order. The last version is {@link SCHEMA_VERSION}. */
export const migrations: readonly Migration[] = [
  {
    version: 1,
    description: "consent log, derived state, receipts, outbox, message parts and statuses",
    sql: initialSchema,
  },
  { version: 2, description: "webhook nonces, health check row, settings", sql: noncesAndHealth },
];

/** The schema version this code creates and reads. */
export const SCHEMA_VERSION = migrations.length;

const versionTable = `
CREATE TABLE schema_migrations (
  version integer PRIMARY KEY,
  description text NOT NULL,
  applied_at timestamptz NOT NULL DEFAULT now()
);
`;

// Every migrator of a schema takes this lock first, so only one of them runs at a time. The
// key is a hash of the schema name, so stores in other schemas do not wait.
const lockSql = "SELECT pg_advisory_xact_lock(hashtext('smsgate.migrate.' || $1))";

const versionSql = "SELECT max(version) AS version FROM schema_migrations";

/**
 * Creates `schema` when it is missing, or raises a {@link StoreMissingError} then when
 * `create` is false, and makes it the transaction's search path.
 */
async function ensureSchema(
  client: PoolClient,
  names: { schema: string; quoted: string; label: string },
  create: boolean,
): Promise<void> {
  const { schema, quoted, label } = names;

  // CREATE SCHEMA IF NOT EXISTS needs the CREATE privilege even when the schema exists, so
  // it runs only for a missing schema, and a user without that privilege can open a
  // migrated one.
  const found = await client.query("SELECT 1 FROM pg_namespace WHERE nspname = $1", [schema]);
  if (found.rowCount === 0) {
    if (!create) {
      throw new StoreMissingError(label, schema);
    }

    await client.query(`CREATE SCHEMA ${quoted}`);
  }

  await client.query(`SET LOCAL search_path TO ${quoted}`);
}

async function readVersion(client: PoolClient, quoted: string): Promise<number | undefined> {
  const table = await client.query("SELECT to_regclass($1) IS NOT NULL AS present", [
    `${quoted}.schema_migrations`,
  ]);
  if (table.rows[0]?.present !== true) {
    return undefined;
  }

  const result = await client.query(versionSql);
  return Number(result.rows[0]?.version ?? 0);
}

async function applyMigrations(client: PoolClient, from: number): Promise<void> {
  for (const migration of migrations) {
    if (migration.version <= from) {
      continue;
    }

    await client.query(migration.sql);
    await client.query("INSERT INTO schema_migrations (version, description) VALUES ($1, $2)", [
      migration.version,
      migration.description,
    ]);
  }
}

/**
 * Raised in place of creating a store when its schema, or the schema's smsgate tables, do
 * not exist and the store was opened with `create: false`.
 */
export class StoreMissingError extends StoreError {
  /** The schema that was looked for. */
  readonly schema: string;

  constructor(label: string, schema: string) {
    super(
      `No smsgate store exists in PostgreSQL ${label}, and it was opened without creating ` +
        "one. Check the schema name, or open the store once with create: true to create it.",
    );
    this.name = "StoreMissingError";
    this.schema = schema;
  }
}

/**
 * Checks whether `error` is a {@link StoreMissingError}, also one from another loaded copy of
 * the package (its ESM or CommonJS build), as the other error guards do.
 */
export function isStoreMissingError(error: unknown): error is StoreMissingError {
  return isStoreError(error) && error.name === "StoreMissingError";
}

/**
 * Brings `schema` to {@link SCHEMA_VERSION}, creating the schema when missing unless
 * `create` is false, in one transaction under the schema's advisory lock. A schema at that
 * version is left untouched. Resolves with the version found before migrating.
 *
 * @throws {StoreError} when the schema has a newer version; nothing is changed then.
 * @throws {StoreMissingError} when `create` is false and the schema or its tables are
 *   missing; nothing is created then.
 */
export async function migrate(
  pool: Pool,
  schema: string,
  quoted: string,
  label: string,
  create = true,
): Promise<number> {
  const found = await runTransaction(pool, async (client) => {
    await client.query(lockSql, [schema]);
    await ensureSchema(client, { schema, quoted, label }, create);

    const version = await readVersion(client, quoted);
    if (version === undefined) {
      if (!create) {
        throw new StoreMissingError(label, schema);
      }

      await client.query(versionTable);
    }

    if ((version ?? 0) < SCHEMA_VERSION) {
      await applyMigrations(client, version ?? 0);
    }

    return version ?? 0;
  });

  if (found > SCHEMA_VERSION) {
    throw new StoreError(
      `PostgreSQL store ${label} has schema version ${found}, but this version of smsgate ` +
        `knows versions 1 to ${SCHEMA_VERSION}. Upgrade smsgate to open it.`,
    );
  }

  return found;
}

/** Reads the schema version of a migrated schema. */
export async function readSchemaVersion(pool: Pool, quoted: string): Promise<number> {
  const result = await pool.query(
    `SELECT max(version) AS version FROM ${quoted}.schema_migrations`,
  );
  return Number(result.rows[0]?.version ?? 0);
}
