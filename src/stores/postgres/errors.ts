/** Turns pg failures into `StoreError`s that name the operation and a next step. */

import { StoreError } from "../../errors.js";
import type { ConnectionTarget } from "./options.js";

// SQLSTATE codes (or their two-character classes) with the step that usually fixes them,
// checked against errcodes.txt of PostgreSQL 15. The first matching prefix wins.
const sqlStateHints: ReadonlyArray<readonly [string, string]> = [
  [
    "57014",
    "The statement was canceled, usually because it ran longer than statementTimeoutMs. " +
      "Retry, or raise statementTimeoutMs (store.statementTimeoutMs in the configuration " +
      "file).",
  ],
  ["40P01", "The transaction was rolled back to resolve a deadlock. Retry the operation."],
  ["40001", "The transaction was rolled back by a concurrent update. Retry the operation."],
  ["25006", "The server is a read-only standby. Connect to the primary server."],
  [
    "42501",
    "The database user lacks a privilege on the store's schema. Grant it, or use " +
      "another schema.",
  ],
  ["3D000", "The database does not exist. Create it, or correct the database in the url."],
  [
    "53300",
    "The server has no free connection slot. Lower maxConnections, or raise " +
      "max_connections on the server.",
  ],
  ["25P03", "The transaction stayed idle longer than statementTimeoutMs. Retry the operation."],
  ["57P01", "The server is shutting down. Retry when it accepts connections again."],
  ["57P02", "The server is shutting down. Retry when it accepts connections again."],
  ["57P03", "The server is starting up or shutting down. Retry when it accepts connections."],
  ["08", "The connection to the server failed. Check that it is running and reachable."],
  ["28", "The server rejected the credentials. Check the user and password of the url."],
  ["53", "The server ran out of a resource (disk, memory or connections). Check the server."],
];

// Errors of the Node socket layer, which reach the store through pg.
const socketCodes = new Set([
  "ECONNREFUSED",
  "ECONNRESET",
  "ETIMEDOUT",
  "EHOSTUNREACH",
  "ENETUNREACH",
  "ENOTFOUND",
  "EAI_AGAIN",
  "EPIPE",
]);

const unreachableHint =
  "The server cannot be reached. Check that PostgreSQL is running and reachable, then retry.";

/** Returns the SQLSTATE of an error the server sent, such as `40P01`. */
export function sqlState(error: unknown): string | undefined {
  if (typeof error !== "object" || error === null || !("severity" in error)) {
    return undefined;
  }

  const code = (error as { code?: unknown }).code;
  return typeof code === "string" && /^[0-9A-Z]{5}$/.test(code) ? code : undefined;
}

/**
 * Checks whether the server reported the error, so that the connection is still in step
 * with it and may be reused after a rollback. Socket errors and client time-outs are not.
 */
export function isServerError(error: unknown): boolean {
  return sqlState(error) !== undefined;
}

/** Checks whether a transaction failed only because of a concurrent one, so a retry is safe. */
export function isRetryableTransactionError(error: unknown): boolean {
  const code = sqlState(error);
  return code === "40P01" || code === "40001";
}

function socketCode(error: unknown): string | undefined {
  if (typeof error !== "object" || error === null) {
    return undefined;
  }

  const code = (error as { code?: unknown }).code;
  if (typeof code === "string" && socketCodes.has(code)) {
    return code;
  }

  // Node reports a failed connection to several addresses as one AggregateError.
  if (error instanceof AggregateError) {
    return error.errors.map(socketCode).find((found) => found !== undefined);
  }

  return undefined;
}

// pg and pg-pool raise plain Errors without a code when a connection is lost or times out.
function isConnectionLoss(message: string): boolean {
  return /terminated|timeout|not queryable|connection/i.test(message);
}

function hintFor(error: unknown, message: string): string {
  const code = sqlState(error);
  if (code !== undefined) {
    const match = sqlStateHints.find(([prefix]) => code.startsWith(prefix));
    return match === undefined ? "" : ` ${match[1]}`;
  }

  if (socketCode(error) !== undefined || isConnectionLoss(message)) {
    return ` ${unreachableHint}`;
  }

  return "";
}

function detailOf(error: unknown): string {
  if (error instanceof AggregateError && error.message === "") {
    return error.errors.map(detailOf).join("; ");
  }

  const message = error instanceof Error ? error.message : String(error);
  const code = sqlState(error) ?? socketCode(error);

  return code === undefined || message.includes(code) ? message : `${message} (${code})`;
}

/** Describes a connection target for messages: `host:port/database`, never the password. */
export function describeTarget(target: ConnectionTarget | undefined): string {
  if (target === undefined) {
    return "the given pool";
  }

  const host = target.host?.includes(":") ? `[${target.host}]` : (target.host ?? "localhost");
  return `${host}:${target.port ?? 5432}/${target.database ?? target.user ?? ""}`;
}

/** Wraps a failure of `operation` on the store named `store`, keeping it as the cause. */
export function toStoreError(operation: string, store: string, error: unknown): StoreError {
  const detail = detailOf(error);

  return new StoreError(
    `PostgreSQL store ${store}: ${operation} failed: ${detail}.${hintFor(error, detail)}`,
    { cause: error },
  );
}

/** Creates the error for a call made after `close()`. */
export function closedStoreError(operation: string, store: string): StoreError {
  return new StoreError(
    `PostgreSQL store ${store}: ${operation} failed because the store is closed. ` +
      "Open it again with openPostgresStore().",
  );
}

/** Creates the error for a store whose first connection, at open, failed. */
export function openError(
  target: ConnectionTarget | undefined,
  schema: string,
  error: unknown,
): StoreError {
  const where = describeTarget(target);
  const user = target?.user === undefined ? "" : ` as user ${target.user}`;
  const detail = detailOf(error);
  const hint =
    hintFor(error, detail) ||
    " Check the url, and that the server is running and accepts connections from here.";

  return new StoreError(
    `Cannot open the PostgreSQL store at ${where} (schema ${schema})${user}: ${detail}.${hint}`,
    { cause: error },
  );
}
