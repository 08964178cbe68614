/**
 * Settings kept in the SQLite store, such as the check value of the pseudonym key, and the
 * read that finds whether the store contains erased numbers.
 */

import type { Database, Statement } from "better-sqlite3";
import type { PseudonymKeyStatus } from "../../consent/types.js";

const keyCheckName = "pseudonym_key_check";

/** Reads and keeps the store's settings on one connection. */
export class SettingsQueries {
  readonly #read: Statement;
  readonly #keep: Statement;
  readonly #erased: Statement;

  constructor(db: Database) {
    this.#read = db.prepare("SELECT value FROM store_settings WHERE name = ?").pluck();
    this.#keep = db.prepare(
      "INSERT INTO store_settings (name, value) VALUES (?, ?) ON CONFLICT (name) DO NOTHING",
    );
    // Pseudonyms start with `erased:`, and `;` is the character after `:`.
    this.#erased = db
      .prepare(
        "SELECT 1 FROM consent_events WHERE phone >= 'erased:' AND phone < 'erased;' LIMIT 1",
      )
      .pluck();
  }

  /** Reads whether an event belongs to a pseudonym, and the kept key check value. */
  pseudonymKeyStatus(): PseudonymKeyStatus {
    return {
      erased: this.#erased.get() !== undefined,
      keyCheck: this.#read.get(keyCheckName) as string | undefined,
    };
  }

  /** Keeps the value unless one is kept, and returns the kept one. Call it in a transaction. */
  keepPseudonymKeyCheck(keyCheck: string): string {
    this.#keep.run(keyCheckName, keyCheck);

    return this.#read.get(keyCheckName) as string;
  }
}
