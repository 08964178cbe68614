/**
 * Pseudonyms for erased numbers, and the consent rule that joins a number with its
 * pseudonym: the newer of the two deciding events wins.
 */

import { createHmac } from "node:crypto";
import type { ConsentEvent, ConsentState, ErasureStore, OptOutStore } from "./types.js";

/** The prefix of every pseudonym. */
export const pseudonymPrefix = "erased:";

/** Minimum length of a pseudonym key, in characters. */
export const minPseudonymKeyLength = 32;

const pseudonymPattern = /^erased:[0-9a-f]{64}$/;

/** Computes the pseudonym of a number: `erased:` and the hex HMAC-SHA256 of the number. */
export function pseudonymOf(key: string, phone: string): string {
  const digest = createHmac("sha256", key).update(phone, "utf8").digest("hex");

  return `${pseudonymPrefix}${digest}`;
}

/**
 * Computes the value a store keeps to recognise the pseudonym key later: the hex
 * HMAC-SHA256 of a fixed text, which reveals nothing about the key or any number.
 */
export function pseudonymKeyCheck(key: string): string {
  return createHmac("sha256", key).update("smsgate pseudonym key check", "utf8").digest("hex");
}

/** Checks whether a value has the form of a pseudonym. */
export function isPseudonym(value: string): boolean {
  return pseudonymPattern.test(value);
}

/** Checks whether a store implements {@link ErasureStore}. */
export function isErasureStore(store: OptOutStore): store is OptOutStore & ErasureStore {
  return typeof (store as Partial<ErasureStore>).forget === "function";
}

/** Copies an event to its pseudonym, without the fields that can identify the person. */
export function scrubEvent(event: ConsentEvent, pseudonym: string): ConsentEvent {
  const { text: _text, keyword: _keyword, note: _note, messageId: _messageId, ...kept } = event;

  return { ...kept, phone: pseudonym };
}

function eventTime(event: ConsentEvent | undefined): [number, number] {
  if (event === undefined) {
    return [Number.NEGATIVE_INFINITY, Number.NEGATIVE_INFINITY];
  }

  return [event.occurredAt.getTime(), event.recordedAt?.getTime() ?? 0];
}

/**
 * Picks the state whose deciding event is newer: by `occurredAt`, then by `recordedAt`.
 * When both are equal the number's own state wins.
 */
export function newerState(own: ConsentState, erased: ConsentState): ConsentState {
  const [ownTime, ownRecorded] = eventTime(own.lastEvent);
  const [erasedTime, erasedRecorded] = eventTime(erased.lastEvent);

  if (erasedTime !== ownTime) {
    return erasedTime > ownTime ? erased : own;
  }

  return erasedRecorded > ownRecorded ? erased : own;
}

/**
 * Reads the consent of a number together with its pseudonym. `erased` is true when the
 * pseudonym's events decide.
 */
export async function readJoinedState(
  store: OptOutStore,
  phone: string,
  pseudonym: string,
  scope: string,
): Promise<ConsentState & { erased: boolean }> {
  const own = await store.getState(phone, scope);
  const erased = await store.getState(pseudonym, scope);
  const decided = newerState(own, erased);

  return {
    ...own,
    optedOut: decided.optedOut,
    lastEvent: decided.lastEvent,
    erased: decided === erased,
  };
}

/**
 * Returns the substring that marks the number in stored JSON and ids: the digits of an
 * E.164 number without `+`, which also matches providers that write numbers without it,
 * or the value itself for a short code or sender id.
 */
export function numberNeedle(phone: string): string {
  return /^\+\d{6,15}$/.test(phone) ? phone.slice(1) : phone;
}
