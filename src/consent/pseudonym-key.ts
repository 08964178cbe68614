/**
 * The check that the pseudonym key in use is the one that made a store's erased numbers.
 * Without it, a server started with another key, or none, would compute other pseudonyms,
 * find none of the erased opt-outs, and send to those numbers again.
 */

import { ConfigError } from "../errors.js";
import { pseudonymKeyCheck } from "./erasure.js";
import type { OptOutStore, PseudonymKeyStore } from "./types.js";

/** Checks whether a store implements {@link PseudonymKeyStore}. */
export function isPseudonymKeyStore(store: OptOutStore): store is OptOutStore & PseudonymKeyStore {
  const candidate = store as Partial<PseudonymKeyStore>;

  return (
    typeof candidate.pseudonymKeyStatus === "function" &&
    typeof candidate.keepPseudonymKeyCheck === "function"
  );
}

const keyPath = "privacy.pseudonymKey";

const lostKeyHint =
  "If that key is lost for good, privacy.ignoreLostPseudonymKey: true starts anyway, " +
  "without enforcing those opt-outs";

/**
 * Checks that `key` is the pseudonym key that made the store's erased numbers. A store
 * without erased numbers and without a kept check value passes with any key or none. A
 * store that does not implement {@link PseudonymKeyStore} is not checked.
 *
 * A store with erased numbers but no kept check value, such as one that received them by
 * import or erased them before stores kept the value, keeps the check value of `key` from
 * then on. A later start with another key is then stopped.
 *
 * @throws {ConfigError} at `privacy.pseudonymKey` when the store contains erased numbers and
 *   `key` is missing, or when `key` differs from the key whose check value the store kept.
 */
export async function verifyPseudonymKey(
  store: OptOutStore,
  key: string | undefined,
): Promise<void> {
  if (!isPseudonymKeyStore(store)) {
    return;
  }

  const status = await store.pseudonymKeyStatus();

  if (key === undefined) {
    if (status.erased || status.keyCheck !== undefined) {
      throw new ConfigError(
        keyPath,
        "is missing, but the store holds numbers erased by optout forget. Without the key " +
          `their opt-outs are not enforced: set it to the key that optout forget used. ${lostKeyHint}`,
      );
    }

    return;
  }

  if (status.keyCheck === undefined) {
    if (status.erased) {
      await keepPseudonymKey(store, key);
    }

    return;
  }

  if (status.keyCheck !== pseudonymKeyCheck(key)) {
    throw keyMismatch();
  }
}

/**
 * Keeps the check value of `key` in the store before the first erasure, and checks it
 * against a kept value.
 *
 * @throws {ConfigError} at `privacy.pseudonymKey` when the store kept the check value of
 *   another key.
 */
export async function keepPseudonymKey(store: OptOutStore, key: string): Promise<void> {
  if (!isPseudonymKeyStore(store)) {
    return;
  }

  const own = pseudonymKeyCheck(key);
  const kept = await store.keepPseudonymKeyCheck(own);

  if (kept !== own) {
    throw keyMismatch();
  }
}

function keyMismatch(): ConfigError {
  return new ConfigError(
    keyPath,
    "differs from the key that made the store's erased numbers, so their opt-outs would " +
      `not be enforced. Set it to the key that optout forget used. ${lostKeyHint}`,
  );
}
