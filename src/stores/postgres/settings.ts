/**
 * Settings kept in the PostgreSQL store, such as the check value of the pseudonym key, and
 * the read that finds whether the store contains erased numbers.
 */

import type { Pool } from "pg";
import type { PseudonymKeyStatus } from "../../consent/types.js";

const keyCheckName = "pseudonym_key_check";

/** Reads and keeps the settings of one schema. */
export class PostgresSettings {
  readonly #read: string;
  readonly #keep: string;
  readonly #erased: string;

  /** @param schema - The quoted schema name. */
  constructor(schema: string) {
    this.#read = `SELECT value FROM ${schema}.store_settings WHERE name = $1`;
    // The insert returns nothing when a value is kept already, and the select then reads it.
    this.#keep = `WITH kept AS (
        INSERT INTO ${schema}.store_settings (name, value) VALUES ($1, $2)
        ON CONFLICT (name) DO NOTHING
        RETURNING value
      )
      SELECT value FROM kept
      UNION ALL
      SELECT value FROM ${schema}.store_settings WHERE name = $1
      LIMIT 1`;
    // Pseudonyms start with `erased:`, and `;` is the character after `:`.
    this.#erased = `SELECT 1 FROM ${schema}.consent_events
      WHERE phone >= 'erased:' AND phone < 'erased;' LIMIT 1`;
  }

  /** Reads whether an event belongs to a pseudonym, and the kept key check value. */
  async pseudonymKeyStatus(pool: Pool): Promise<PseudonymKeyStatus> {
    const [erased, kept] = await Promise.all([
      pool.query(this.#erased),
      pool.query<{ value: string }>(this.#read, [keyCheckName]),
    ]);

    return { erased: (erased.rowCount ?? 0) > 0, keyCheck: kept.rows[0]?.value };
  }

  /** Keeps the value unless one is kept, and returns the kept one. */
  async keepPseudonymKeyCheck(pool: Pool, keyCheck: string): Promise<string> {
    const result = await pool.query<{ value: string }>(this.#keep, [keyCheckName, keyCheck]);
    const kept = result.rows[0]?.value;

    if (kept !== undefined) {
      return kept;
    }

    // A concurrent insert committed after this statement's snapshot was taken, so the
    // statement read neither its own row nor that one. A new statement reads it.
    const again = await pool.query<{ value: string }>(this.#read, [keyCheckName]);

    return again.rows[0]?.value ?? keyCheck;
  }
}
