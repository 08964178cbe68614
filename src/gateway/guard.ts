/**
 * The consent reads of the send guard. With a pseudonym key, a recipient is read together
 * with its pseudonym, and the newer of the two deciding events decides, so an erased number
 * stays blocked until the person opts in again.
 */

import { pseudonymOf, readJoinedState } from "../consent/erasure.js";
import type { OptOutStore } from "../consent/types.js";

/**
 * Checks whether `phone` is opted out in `scope`, reading its pseudonym when a key is set.
 * Without a key it returns the store's own promise, so an error the store throws instead of
 * rejecting reaches the caller as a throw.
 */
export function isBlocked(
  store: OptOutStore,
  phone: string,
  scope: string,
  pseudonymKey: string | undefined,
): Promise<boolean> {
  if (pseudonymKey === undefined) {
    return store.isOptedOut(phone, scope);
  }

  return isBlockedWithPseudonym(store, phone, scope, pseudonymKey);
}

async function isBlockedWithPseudonym(
  store: OptOutStore,
  phone: string,
  scope: string,
  pseudonymKey: string,
): Promise<boolean> {
  const pseudonym = pseudonymOf(pseudonymKey, phone);
  const optedOut = await store.filterOptedOut([phone, pseudonym], scope);

  // Both opted out, or neither: no need to compare their events.
  if (optedOut.has(phone) === optedOut.has(pseudonym)) {
    return optedOut.has(phone);
  }

  return (await readJoinedState(store, phone, pseudonym, scope)).optedOut;
}

/**
 * Returns the numbers among `phones` that are opted out in `scope`, with one bulk read of
 * the numbers and their pseudonyms when a key is set.
 */
export async function filterBlocked(
  store: OptOutStore,
  phones: readonly string[],
  scope: string,
  pseudonymKey: string | undefined,
): Promise<Set<string>> {
  if (pseudonymKey === undefined) {
    return store.filterOptedOut(phones, scope);
  }

  const pseudonyms = new Map(phones.map((phone) => [phone, pseudonymOf(pseudonymKey, phone)]));
  const optedOut = await store.filterOptedOut([...phones, ...pseudonyms.values()], scope);
  const blocked = new Set<string>();

  for (const [phone, pseudonym] of pseudonyms) {
    const own = optedOut.has(phone);

    if (own === optedOut.has(pseudonym)) {
      if (own) blocked.add(phone);
      continue;
    }

    if ((await readJoinedState(store, phone, pseudonym, scope)).optedOut) {
      blocked.add(phone);
    }
  }

  return blocked;
}
