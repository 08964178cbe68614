/** Creates the store's pool and runs transactions on it, with retries for deadlocks. */

import pg, { type Pool, type PoolClient } from "pg";
import { isSmsgateError } from "../../errors.js";
import { isRetryableTransactionError, isServerError } from "./errors.js";
import type { ResolvedPostgresOptions } from "./options.js";

/**
 * How long the client waits for a response beyond `statementTimeoutMs` before it gives up
 * on a statement, in milliseconds. The server cancels a slow statement itself, so this
 * bound matters for a connection that stopped responding, where no cancellation arrives.
 */
export const CLIENT_TIMEOUT_GRACE_MS = 1000;

/** Attempts of a transaction that the server rolled back for a deadlock or a conflict. */
export const MAX_TRANSACTION_ATTEMPTS = 3;

/** A transaction's result that rolls the transaction back instead of committing it. */
export class Rollback<T> {
  /** The value the transaction resolves with. */
  readonly value: T;

  constructor(value: T) {
    this.value = value;
  }
}

/** The body of a transaction. It returns a {@link Rollback} to undo its writes. */
export type TransactionWork<T> = (client: PoolClient) => Promise<T | Rollback<T>>;

/**
 * Creates the pool for `options.url`. Every connection carries the statement time-out and
 * the application name, and the pool's `error` event (an idle connection failed, such as
 * when the server restarts) goes to the logger instead of crashing the process. The pool
 * replaces a failed connection on the next call.
 */
export function createPool(options: ResolvedPostgresOptions, label: string): Pool {
  const pool = new pg.Pool({
    connectionString: options.url,
    max: options.maxConnections,
    connectionTimeoutMillis: options.connectTimeoutMs,
    statement_timeout: options.statementTimeoutMs,
    idle_in_transaction_session_timeout: options.statementTimeoutMs,
    query_timeout: options.statementTimeoutMs + CLIENT_TIMEOUT_GRACE_MS,
    application_name: options.applicationName,
    keepAlive: true,
  });

  pool.on("error", (error) => {
    options.logger.warn(
      { err: error, store: label },
      "PostgreSQL store: an idle connection failed, and the pool opens a new one on the next call",
    );
  });

  return pool;
}

// A checked-out client emits `error` when its connection fails. The pending query rejects
// with the same error, so the listener only keeps the emitter from throwing.
function ignoreClientError(): void {}

async function rollback(client: PoolClient, failure: unknown): Promise<unknown> {
  // After a socket error or a client time-out the connection is out of step with the
  // server, so it is discarded rather than rolled back. An error the server sent, or one
  // that the store's own code raised, leaves the connection usable.
  if (!isServerError(failure) && !isSmsgateError(failure)) {
    return failure;
  }

  try {
    await client.query("ROLLBACK");
    return undefined;
  } catch (error) {
    return error;
  }
}

async function runOnce<T>(pool: Pool, work: TransactionWork<T>): Promise<T> {
  const client = await pool.connect();
  client.on("error", ignoreClientError);
  let broken: unknown;

  try {
    await client.query("BEGIN");
    const result = await work(client);

    if (result instanceof Rollback) {
      await client.query("ROLLBACK");
      return result.value;
    }

    await client.query("COMMIT");
    return result;
  } catch (error) {
    broken = await rollback(client, error);
    throw error;
  } finally {
    client.off("error", ignoreClientError);
    client.release(broken instanceof Error ? broken : broken !== undefined);
  }
}

/**
 * Runs `run` again when the server rolled it back for a deadlock or a serialization failure,
 * up to {@link MAX_TRANSACTION_ATTEMPTS} times in all. That is safe because such a failure
 * commits nothing. `run` must be one transaction, or one statement outside a transaction.
 */
export async function retryConflicts<T>(run: () => Promise<T>): Promise<T> {
  for (let attempt = 1; ; attempt += 1) {
    try {
      return await run();
    } catch (error) {
      if (attempt >= MAX_TRANSACTION_ATTEMPTS || !isRetryableTransactionError(error)) {
        throw error;
      }
    }
  }
}

/**
 * Runs `work` in one READ COMMITTED transaction on a client of `pool`, and again after a
 * deadlock or a serialization failure (see {@link retryConflicts}). A client whose
 * connection failed is discarded, so the pool connects anew for the next call.
 */
export function runTransaction<T>(pool: Pool, work: TransactionWork<T>): Promise<T> {
  return retryConflicts(() => runOnce(pool, work));
}
