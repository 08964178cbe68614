/**
 * The signed nonces of committed webhooks, and the row the health check rewrites. Both are
 * written inside the caller's write transaction.
 */

import type { Database, Statement } from "better-sqlite3";
import type { CommitResult, WebhookNonce } from "../../consent/types.js";

/** Reads and keeps webhook nonces on one connection. */
export class NonceQueries {
  readonly #find: Statement;
  readonly #insert: Statement;
  readonly #health: Statement;

  constructor(db: Database) {
    this.#find = db
      .prepare("SELECT request_hash FROM webhook_nonces WHERE provider = ? AND nonce = ?")
      .pluck();
    this.#insert = db.prepare(
      "INSERT INTO webhook_nonces (provider, nonce, request_hash, committed_at) VALUES (?, ?, ?, ?)",
    );
    this.#health = db.prepare(
      "INSERT INTO store_health (id, checked_at) VALUES (1, ?) " +
        "ON CONFLICT (id) DO UPDATE SET checked_at = excluded.checked_at",
    );
  }

  /** Returns the request hash stored with a provider's nonce, if any. */
  find(provider: string, nonce: string): string | undefined {
    return this.#find.get(provider, nonce) as string | undefined;
  }

  /**
   * Runs `commit` unless the nonce is stored with another request hash, and keeps a new
   * nonce even when `commit` finds a duplicate receipt. Call it inside a write transaction,
   * so that a rolled-back commit leaves the nonce unseen.
   */
  guard(
    provider: string,
    nonce: WebhookNonce | undefined,
    commit: () => CommitResult,
  ): CommitResult {
    if (nonce === undefined) {
      return commit();
    }

    const stored = this.find(provider, nonce.value);

    if (stored !== undefined && stored !== nonce.requestHash) {
      return { duplicate: false, replayed: true };
    }

    if (stored === undefined) {
      this.#insert.run(provider, nonce.value, nonce.requestHash, Date.now());
    }

    return commit();
  }

  /** Rewrites the health row. Call it inside a write transaction. */
  touchHealth(): void {
    this.#health.run(Date.now());
  }
}
