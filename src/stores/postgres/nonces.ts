/**
 * The signed nonces of committed webhooks, and the row the health check rewrites, in the
 * PostgreSQL store. The writes run inside the caller's transaction.
 */

import type { Pool, PoolClient } from "pg";
import type { CommitResult, WebhookNonce } from "../../consent/types.js";
import type { Rollback } from "./connection.js";

type Queryable = Pool | PoolClient;

/** Reads and keeps webhook nonces in one schema. */
export class PostgresNonces {
  readonly #find: string;
  readonly #insert: string;
  readonly #health: string;

  /** @param schema - The quoted schema name. */
  constructor(schema: string) {
    this.#find = `SELECT request_hash FROM ${schema}.webhook_nonces
      WHERE provider = $1 AND nonce = $2`;
    this.#insert = `INSERT INTO ${schema}.webhook_nonces
        (provider, nonce, request_hash, committed_at)
      VALUES ($1, $2, $3, now())
      ON CONFLICT (provider, nonce) DO NOTHING`;
    this.#health = `INSERT INTO ${schema}.store_health (id, checked_at) VALUES (1, now())
      ON CONFLICT (id) DO UPDATE SET checked_at = excluded.checked_at`;
  }

  /** Returns the request hash stored with a provider's nonce, if any. */
  async find(db: Queryable, provider: string, nonce: string): Promise<string | undefined> {
    const result = await db.query<{ request_hash: string }>(this.#find, [provider, nonce]);

    return result.rows[0]?.request_hash;
  }

  /**
   * Runs `commit` unless the nonce is stored with another request hash, and keeps a new
   * nonce even when `commit` finds a duplicate receipt. The insert waits for a transaction
   * that is inserting the same nonce, so two requests with one nonce never both commit.
   */
  async guard(
    client: PoolClient,
    provider: string,
    nonce: WebhookNonce | undefined,
    commit: () => Promise<CommitResult | Rollback<CommitResult>>,
  ): Promise<CommitResult | Rollback<CommitResult>> {
    if (nonce === undefined) {
      return commit();
    }

    const parameters = [provider, nonce.value, nonce.requestHash];
    const inserted = await client.query(this.#insert, parameters);

    if (inserted.rowCount === 0) {
      const stored = await this.find(client, provider, nonce.value);

      if (stored !== nonce.requestHash) {
        return { duplicate: false, replayed: true };
      }
    }

    return commit();
  }

  /** Rewrites the health row. */
  async touchHealth(db: Queryable): Promise<void> {
    await db.query(this.#health);
  }
}
