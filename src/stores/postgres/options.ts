/** Validates the PostgreSQL store's options and quotes its schema name. */

import pg, { type ClientConfig, type Pool } from "pg";
import { z } from "zod";
import { ConfigError } from "../../errors.js";
import { isLogger, type Logger, silentLogger } from "../../logger.js";
import {
  applicationNameField,
  maxConnectionsField,
  schemaNameField,
  timeoutMsField,
} from "./fields.js";

// The settings that a store applies to the connections of the pool it creates. A pool given
// by the caller keeps its own settings, so these are rejected next to `pool`.
const connectionOptionKeys = [
  "maxConnections",
  "connectTimeoutMs",
  "statementTimeoutMs",
  "applicationName",
] as const;

function isPool(value: unknown): value is Pool {
  if (typeof value !== "object" || value === null) {
    return false;
  }

  const candidate = value as Record<string, unknown>;
  return ["connect", "query", "on", "end"].every((key) => typeof candidate[key] === "function");
}

/**
 * Reads the server, database and user that pg would connect to for `config`, with pg's own
 * parser. It accepts connection strings that `URL` rejects, such as
 * `postgres://user@/db?host=/run/postgresql`. Settings that the config leaves out come from
 * the PG* environment variables and pg's defaults, as when pg connects. Nothing connects.
 */
export function readConnectionTarget(config: ClientConfig): ConnectionTarget {
  const client = new pg.Client(config);

  return { host: client.host, port: client.port, database: client.database, user: client.user };
}

function canParseConnectionString(url: string): boolean {
  try {
    readConnectionTarget({ connectionString: url });
    return true;
  } catch {
    return false;
  }
}

const maxQuotedUrlLength = 80;

/** Quotes a connection URL for a message, with its password replaced by `***`. */
function quoteConnectionUrl(value: unknown): string {
  const text = String(value).replace(/^([a-z]+:\/\/[^/@:]*):[^/@]*@/i, "$1:***@");
  const cut = text.length > maxQuotedUrlLength ? `${text.slice(0, maxQuotedUrlLength)}…` : text;

  return JSON.stringify(cut);
}

const urlExample = "such as postgres://user:password@127.0.0.1:5432/database";

const urlSchema = z
  .string({ error: "must be a postgres:// connection string" })
  .refine((value) => /^postgres(ql)?:\/\/./.test(value), {
    error: (issue) =>
      `must start with postgres:// or postgresql:// (received ${quoteConnectionUrl(issue.input)}), ${urlExample}`,
  })
  .refine(canParseConnectionString, {
    error: (issue) =>
      `is not a valid connection URL (received ${quoteConnectionUrl(issue.input)}); write it ${urlExample}`,
  });

const optionsSchema = z.strictObject({
  url: urlSchema.optional(),
  pool: z.custom<Pool>(isPool, { error: "must be a pg.Pool" }).optional(),
  schema: schemaNameField.default("smsgate"),
  maxConnections: maxConnectionsField.default(10),
  connectTimeoutMs: timeoutMsField.default(5000),
  statementTimeoutMs: timeoutMsField.default(10_000),
  create: z.boolean({ error: "must be true or false" }).default(true),
  applicationName: applicationNameField.default("smsgate"),
  logger: z
    .custom<Logger>(isLogger, { error: "must have debug, info, warn and error methods" })
    .default(silentLogger),
});

/** The server, database and user that a store connects to, without the password. */
export interface ConnectionTarget {
  /** A host name, an IP address, or the directory of a Unix socket. */
  host: string | undefined;
  port: number | undefined;
  database: string | undefined;
  user: string | undefined;
}

/** Options of `openPostgresStore`. Give exactly one of `url` and `pool`. */
export interface PostgresStoreOptions {
  /**
   * The connection string, such as `postgres://user:password@db.internal:5432/app`. Query
   * parameters of the string (`sslmode`, `application_name`, ...) take precedence over the
   * options below, because pg applies them last.
   */
  url?: string;
  /**
   * An existing pg pool to run on instead of `url`. The store leaves it open on `close()`,
   * and its own settings (size, timeouts, error listener) stay the caller's.
   */
  pool?: Pool;
  /**
   * The schema that contains the store's tables, created when missing unless `create` is
   * false. Servers that share consent use the same schema.
   * @default "smsgate"
   */
  schema?: string;
  /**
   * Creates the schema and its tables when they are missing. With `false`, a schema that is
   * missing or has no smsgate tables rejects with a `StoreMissingError` and nothing is
   * created, so a mistyped or dropped schema cannot open an empty store that has none of
   * the recorded opt-outs. An existing store of an older version is still migrated.
   * @default true
   */
  create?: boolean;
  /**
   * Size of the pool the store creates.
   * @default 10
   */
  maxConnections?: number;
  /**
   * How long to wait for a connection, new or from the pool, in milliseconds.
   * @default 5000
   */
  connectTimeoutMs?: number;
  /**
   * Server-side limit of one statement, lock waits included, in milliseconds. It also
   * limits how long a transaction may stay idle, and the client gives up on a statement
   * that has no response 1000 ms after this limit.
   * @default 10000
   */
  statementTimeoutMs?: number;
  /**
   * The `application_name` the server shows in `pg_stat_activity`.
   * @default "smsgate"
   */
  applicationName?: string;
  /**
   * Receives a warning when an idle connection of the store's own pool fails, for example
   * when the server restarts. Nothing is logged by default.
   */
  logger?: Logger;
}

/** The options after validation, with defaults applied. */
export type ResolvedPostgresOptions = z.output<typeof optionsSchema> & {
  /** The schema name in double quotes, ready to put into SQL text. */
  quotedSchema: string;
};

/** Quotes a validated identifier for SQL text, doubling any double quote in it. */
export function quoteIdentifier(name: string): string {
  return `"${name.replaceAll('"', '""')}"`;
}

// A connection string may contain a password, so its value is never shown.
function describeReceived(path: string, input: unknown): string {
  if (path === "url" || typeof input !== "object" || input === null) {
    return "";
  }

  const value = (input as Record<string, unknown>)[path];
  const received =
    typeof value === "string" || typeof value === "number" || typeof value === "boolean"
      ? JSON.stringify(value)
      : typeof value;

  return ` (received ${received})`;
}

function rejectUnknownKeys(issue: z.ZodError["issues"][number] | undefined): never {
  const keys = issue?.code === "unrecognized_keys" ? issue.keys.join(", ") : "";
  if (keys !== "") {
    throw new ConfigError(
      keys,
      "is not an option of the PostgreSQL store. Remove it or correct its spelling",
    );
  }

  throw new ConfigError("options", "must be an object with a url or a pool");
}

function checkConnectionSource(input: Record<string, unknown>): void {
  if (input.url !== undefined && input.pool !== undefined) {
    throw new ConfigError("pool", "cannot be combined with url. Give one of them");
  }

  if (input.url === undefined && input.pool === undefined) {
    throw new ConfigError("url", "is missing. Give a postgres:// connection string or a pool");
  }

  if (input.pool === undefined) {
    return;
  }

  const clash = connectionOptionKeys.find((key) => input[key] !== undefined);
  if (clash !== undefined) {
    throw new ConfigError(
      clash,
      "applies only to the pool the store creates from url. Configure the given pool instead",
    );
  }
}

/**
 * Validates the options of `openPostgresStore`.
 *
 * @throws {ConfigError} naming the first invalid option.
 */
export function parsePostgresOptions(input: unknown): ResolvedPostgresOptions {
  const result = optionsSchema.safeParse(input);
  if (!result.success) {
    const issue = result.error.issues[0];
    if (issue === undefined || issue.path.length === 0) {
      rejectUnknownKeys(issue);
    }

    const path = issue.path.join(".");
    throw new ConfigError(path, `${issue.message}${describeReceived(path, input)}`);
  }

  checkConnectionSource(input as Record<string, unknown>);

  return { ...result.data, quotedSchema: quoteIdentifier(result.data.schema) };
}
