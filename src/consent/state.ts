/**
 * Pure consent logic shared by every store: validating events and arguments, ordering events
 * and deriving the current state of a number from its events. An invalid event raises an
 * {@link InvalidConsentEventError}, and any other invalid argument an `InvalidRequestError`.
 *
 * An event's position is (occurredAt, commit sequence). The event with the greatest position
 * decides the state, so a late event with an older `occurredAt` never overrides a newer one,
 * and two events with the same `occurredAt` are ordered by commit.
 */

import { InvalidConsentEventError, InvalidRequestError } from "../errors.js";
import { isPseudonym } from "./erasure.js";
import {
  clampOccurredAt,
  earliestOccurredAt,
  findOccurredAtProblem,
  latestOccurredAt,
  maxClockSkewMs,
} from "./event-time.js";
import { findIdentityProblem, isCanonicalIdentity } from "./identity.js";
import { replaceNul } from "./nul.js";
import type {
  ConsentAction,
  ConsentEvent,
  ConsentSource,
  ConsentState,
  MessagePartInput,
  OutboxMessage,
  SenderStates,
  WebhookReceipt,
} from "./types.js";
import { ALL_SENDERS } from "./types.js";

/** Every {@link ConsentAction}. */
export const consentActions: readonly ConsentAction[] = ["opt-out", "opt-in"];

/** Every {@link ConsentSource}. */
export const consentSources: readonly ConsentSource[] = [
  "keyword",
  "provider-flag",
  "provider-refusal",
  "manual",
  "import",
];

const optionalEventFields = [
  "provider",
  "messageId",
  "providerCode",
  "text",
  "keyword",
  "note",
] as const;

/** The place of an event in the consent order: its time in epoch milliseconds, then `seq`. */
export interface EventPosition {
  occurredAt: number;
  /** Commit sequence: a number that grows with every stored event. */
  seq: number;
}

/** A stored event with its commit sequence. */
export interface SequencedEvent {
  event: ConsentEvent;
  seq: number;
}

/** Compares two positions: negative when `a` is older, positive when newer, 0 when equal. */
export function compareEventPositions(a: EventPosition, b: EventPosition): number {
  if (a.occurredAt !== b.occurredAt) {
    return a.occurredAt < b.occurredAt ? -1 : 1;
  }

  return a.seq - b.seq;
}

/** Checks whether `candidate` is newer than `current`. Any event is newer than none. */
export function isNewerPosition(candidate: EventPosition, current?: EventPosition): boolean {
  return current === undefined || compareEventPositions(candidate, current) > 0;
}

/** Returns the position of a sequenced event. */
export function positionOf(stored: SequencedEvent): EventPosition {
  return { occurredAt: stored.event.occurredAt.getTime(), seq: stored.seq };
}

/**
 * Checks whether an event from `sender` takes part in reading `scope`. Scope `*` reads every
 * sender, and scope S reads the events of S and the events recorded for `*`.
 */
export function eventMatchesScope(sender: string, scope: string): boolean {
  return scope === ALL_SENDERS || sender === scope || sender === ALL_SENDERS;
}

/** Finds the event that decides `scope` among a number's events, in any order. */
export function findDecidingEvent(
  events: Iterable<SequencedEvent>,
  scope: string,
): SequencedEvent | undefined {
  let newest: SequencedEvent | undefined;

  for (const stored of events) {
    if (!eventMatchesScope(stored.event.sender, scope)) {
      continue;
    }

    if (newest === undefined || isNewerPosition(positionOf(stored), positionOf(newest))) {
      newest = stored;
    }
  }

  return newest;
}

/** Derives the state of `phone` in `scope` from its events. No event means not opted out. */
export function deriveConsentState(
  phone: string,
  events: Iterable<SequencedEvent>,
  scope: string,
): ConsentState {
  const deciding = findDecidingEvent(events, scope);

  return {
    phone,
    optedOut: deciding?.event.action === "opt-out",
    scope,
    lastEvent: deciding === undefined ? undefined : copyConsentEvent(deciding.event),
  };
}

/**
 * Returns the deciding event of each sender among `events`, in consent order. Consent order
 * keeps the newest event last, so that an import of the list in order rebuilds the same
 * state over every sender.
 */
export function decidingEventsBySender(events: Iterable<SequencedEvent>): ConsentEvent[] {
  const newest = new Map<string, SequencedEvent>();

  for (const stored of events) {
    const current = newest.get(stored.event.sender);

    if (current === undefined || isNewerPosition(positionOf(stored), positionOf(current))) {
      newest.set(stored.event.sender, stored);
    }
  }

  return [...newest.values()]
    .sort((a, b) => compareEventPositions(positionOf(a), positionOf(b)))
    .map((stored) => copyConsentEvent(stored.event));
}

/**
 * Streams the numbers of a store's `listSenderStates`, reading pages of `pageSize` numbers
 * after the last phone of the previous page. `readPage(after)` returns the events of the
 * next page, ordered by phone.
 */
export async function* pagesOfSenderStates(
  readPage: (after: string) => ConsentEvent[] | Promise<ConsentEvent[]>,
  pageSize: number,
): AsyncIterable<SenderStates> {
  let after = "";

  for (;;) {
    const numbers = groupEventsByPhone(await readPage(after));

    yield* numbers;

    const last = numbers.at(-1);
    if (last === undefined || numbers.length < pageSize) {
      return;
    }

    after = last.phone;
  }
}

/** Groups events that a store read ordered by phone into one entry per phone, in order. */
export function groupEventsByPhone(events: readonly ConsentEvent[]): SenderStates[] {
  const numbers: SenderStates[] = [];

  for (const event of events) {
    const last = numbers.at(-1);

    if (last?.phone === event.phone) {
      last.events.push(event);
    } else {
      numbers.push({ phone: event.phone, events: [event] });
    }
  }

  return numbers;
}

/**
 * Copies an event: the Dates are new objects and fields that are `undefined` are left out.
 *
 * A store passes the time of recording as `recordedAt` when it copies an event to write it.
 * That time replaces the event's own `recordedAt`, and an `occurredAt` after it becomes
 * that time, so that an event dated ahead of the clock cannot outvote one recorded later.
 * U+0000 in the id and the optional text fields becomes U+FFFD, as every store writes it
 * (see {@link replaceNul}).
 */
export function copyConsentEvent(event: ConsentEvent, recordedAt?: Date): ConsentEvent {
  const occurredAt =
    recordedAt === undefined ? event.occurredAt : clampOccurredAt(event.occurredAt, recordedAt);
  const copy: ConsentEvent = {
    id: replaceNul(event.id),
    phone: event.phone,
    action: event.action,
    sender: event.sender,
    source: event.source,
    occurredAt: new Date(occurredAt.getTime()),
  };

  for (const field of optionalEventFields) {
    const value = event[field];

    if (value !== undefined) {
      copy[field] = replaceNul(value);
    }
  }

  const stamp = recordedAt ?? event.recordedAt;
  if (stamp !== undefined) {
    copy.recordedAt = new Date(stamp.getTime());
  }

  return copy;
}

/** Shows a received value in an error message, shortened. */
export function describeValue(value: unknown): string {
  if (value instanceof Date) {
    return Number.isNaN(value.getTime()) ? "Invalid Date" : value.toISOString();
  }

  if (typeof value === "string") {
    const text = JSON.stringify(value);
    return text.length > 60 ? `${text.slice(0, 57)}..."` : text;
  }

  return value === null ? "null" : typeof value;
}

function invalidArgument(argument: string, message: string): InvalidRequestError {
  return new InvalidRequestError(`Invalid store argument ${argument}: ${message}`);
}

function isNonEmptyString(value: unknown): value is string {
  return typeof value === "string" && value.length > 0;
}

function isValidDate(value: unknown): value is Date {
  return value instanceof Date && !Number.isNaN(value.getTime());
}

function requireEventString(record: Record<string, unknown>, path: string, key: string): void {
  if (!isNonEmptyString(record[key])) {
    const received = describeValue(record[key]);
    throw new InvalidConsentEventError(
      `${path}.${key}`,
      `must be a non-empty string (received ${received})`,
    );
  }
}

/** Builds the message for an identity that is not in canonical form. */
function describeIdentityProblem(value: string, problem: string): string {
  return (
    `must be a consent identity in canonical form (received ${describeValue(value)}, which ` +
    `${problem}). Normalise a phone number with normalizePhoneNumber() and pass its e164 ` +
    "value, such as +12025550152"
  );
}

/** Checks a string field that contains a consent identity, or `*` when `allowAll` is set. */
function requireEventIdentity(
  record: Record<string, unknown>,
  path: string,
  key: "phone" | "sender",
  allowAll: boolean,
): void {
  requireEventString(record, path, key);
  const value = record[key] as string;

  if (allowAll && value === ALL_SENDERS) {
    return;
  }

  const problem = findIdentityProblem(value);
  if (problem !== undefined) {
    throw new InvalidConsentEventError(`${path}.${key}`, describeIdentityProblem(value, problem));
  }
}

function requireOneOf(
  record: Record<string, unknown>,
  path: string,
  key: string,
  allowed: readonly string[],
): void {
  const value = record[key];
  if (typeof value !== "string" || !allowed.includes(value)) {
    const choices = allowed.map((item) => `"${item}"`).join(", ");
    throw new InvalidConsentEventError(
      `${path}.${key}`,
      `must be one of ${choices} (received ${describeValue(value)})`,
    );
  }
}

/**
 * Checks an event before a store writes it. Besides the types of its fields, `phone` must
 * be a canonical identity (see `isCanonicalIdentity`) and `sender` one or `*`, because
 * the send guard reads the consent of a number under its E.164 form only. `occurredAt` must
 * lie between 1990-01-01 and 5 minutes after this machine's clock, because the newest
 * event decides and a future one would outvote every real event until its time.
 *
 * @throws {InvalidConsentEventError} naming the first invalid field.
 */
export function validateConsentEvent(
  value: unknown,
  path = "event",
): asserts value is ConsentEvent {
  if (typeof value !== "object" || value === null) {
    throw new InvalidConsentEventError(
      path,
      `must be an object (received ${describeValue(value)})`,
    );
  }

  const record = value as Record<string, unknown>;
  requireEventString(record, path, "id");
  requireEventIdentity(record, path, "phone", false);
  requireEventIdentity(record, path, "sender", true);
  requireOneOf(record, path, "action", consentActions);
  requireOneOf(record, path, "source", consentSources);

  if (!isValidDate(record.occurredAt)) {
    const received = describeValue(record.occurredAt);
    throw new InvalidConsentEventError(
      `${path}.occurredAt`,
      `must be a valid Date (received ${received})`,
    );
  }

  requireOccurredAtInRange(record.occurredAt, `${path}.occurredAt`);

  for (const key of optionalEventFields) {
    const field = record[key];
    if (field !== undefined && typeof field !== "string") {
      const received = describeValue(field);
      throw new InvalidConsentEventError(
        `${path}.${key}`,
        `must be a string or undefined (received ${received})`,
      );
    }
  }

  const note = record.note as string | undefined;
  if (note !== undefined && isTooLongNote(note)) {
    throw new InvalidConsentEventError(
      `${path}.note`,
      `must be at most ${MAX_NOTE_LENGTH} characters (received ${characterCount(note)}), ` +
        "so that an export of the store can be imported again; shorten it",
    );
  }
}

/** Checks whether a note has more than {@link MAX_NOTE_LENGTH} characters. */
export function isTooLongNote(note: string): boolean {
  // A character is at most 2 UTF-16 code units, so most notes need no count.
  return note.length > MAX_NOTE_LENGTH && characterCount(note) > MAX_NOTE_LENGTH;
}

/** Counts the characters (Unicode code points) of a text, an emoji as one. */
export function characterCount(text: string): number {
  let count = 0;

  for (const _ of text) {
    count += 1;
  }

  return count;
}

/**
 * Longest `note` of a consent event, in characters. `optout export` writes notes into CSV
 * records, which `optout import` reads up to 65,536 UTF-16 code units each, so a longer note
 * would make an export that cannot be imported.
 */
export const MAX_NOTE_LENGTH = 4096;

function requireOccurredAtInRange(time: Date, field: string): void {
  const now = new Date();
  const problem = findOccurredAtProblem(time, now);

  if (problem === undefined) {
    return;
  }

  const received = time.toISOString();

  if (problem === "after-latest") {
    const minutes = maxClockSkewMs / 60_000;
    const latest = latestOccurredAt(now).toISOString();
    throw new InvalidConsentEventError(
      field,
      `is more than ${minutes} minutes in the future (received ${received}, latest accepted ` +
        `${latest}). Give the time the consent changed, and correct the clock that set it ` +
        "if it runs ahead",
    );
  }

  const earliest = earliestOccurredAt.toISOString();
  throw new InvalidConsentEventError(
    field,
    `is before ${earliest}, earlier than any SMS opt-out record (received ${received}). ` +
      "Give the time the consent changed",
  );
}

function requireArgumentString(value: unknown, argument: string): asserts value is string {
  if (!isNonEmptyString(value)) {
    throw invalidArgument(
      argument,
      `must be a non-empty string (received ${describeValue(value)})`,
    );
  }
}

function validateOutboxMessage(value: unknown, path: string): asserts value is OutboxMessage {
  if (typeof value !== "object" || value === null) {
    throw invalidArgument(path, "must be an outbox message object");
  }

  const message = value as Record<string, unknown>;
  requireArgumentString(message.id, `${path}.id`);
  requireArgumentString(message.type, `${path}.type`);

  if (typeof message.payload !== "string") {
    const received = describeValue(message.payload);
    throw invalidArgument(`${path}.payload`, `must be a string (received ${received})`);
  }
}

/**
 * Checks a webhook receipt and every event and outbox message in it.
 *
 * @throws {InvalidRequestError} for the receipt's own fields and its outbox messages.
 * @throws {InvalidConsentEventError} for an invalid event, named `receipt.events[i].field`.
 */
export function validateWebhookReceipt(value: unknown): asserts value is WebhookReceipt {
  if (typeof value !== "object" || value === null) {
    throw invalidArgument("receipt", "must be a webhook receipt object");
  }

  const receipt = value as Record<string, unknown>;
  requireArgumentString(receipt.id, "receipt.id");
  requireArgumentString(receipt.provider, "receipt.provider");

  if (!isValidDate(receipt.receivedAt)) {
    const received = describeValue(receipt.receivedAt);
    throw invalidArgument("receipt.receivedAt", `must be a valid Date (received ${received})`);
  }

  if (!Array.isArray(receipt.events)) {
    throw invalidArgument("receipt.events", "must be an array of consent events");
  }

  if (!Array.isArray(receipt.outbox)) {
    throw invalidArgument("receipt.outbox", "must be an array of outbox messages");
  }

  receipt.events.forEach((event, index) => {
    validateConsentEvent(event, `receipt.events[${index}]`);
  });
  receipt.outbox.forEach((message, index) => {
    validateOutboxMessage(message, `receipt.outbox[${index}]`);
  });

  if (receipt.completesPartGroup !== undefined) {
    requireArgumentString(receipt.completesPartGroup, "receipt.completesPartGroup");
  }

  if (receipt.statuses !== undefined) {
    validateStatusUpdates(receipt.statuses);
  }

  if (receipt.nonce !== undefined) {
    validateWebhookNonce(receipt.nonce);
  }
}

const HEX_SHA256 = /^[0-9a-f]{64}$/;

function validateWebhookNonce(value: unknown): void {
  if (typeof value !== "object" || value === null) {
    throw invalidArgument("receipt.nonce", "must be an object with value and requestHash");
  }

  const nonce = value as Record<string, unknown>;
  requireArgumentString(nonce.value, "receipt.nonce.value");

  if (typeof nonce.requestHash !== "string" || !HEX_SHA256.test(nonce.requestHash)) {
    throw invalidArgument(
      "receipt.nonce.requestHash",
      `must be a hex SHA-256 of 64 lowercase digits (received ${describeValue(nonce.requestHash)})`,
    );
  }
}

function validateStatusUpdates(value: unknown): void {
  if (!Array.isArray(value)) {
    throw invalidArgument("receipt.statuses", "must be an array of status updates");
  }

  value.forEach((update: Record<string, unknown>, index) => {
    const path = `receipt.statuses[${index}]`;

    if (typeof update !== "object" || update === null) {
      throw invalidArgument(path, "must be a status update object");
    }

    requireArgumentString(update.provider, `${path}.provider`);
    requireArgumentString(update.messageId, `${path}.messageId`);
    requireArgumentString(update.status, `${path}.status`);

    if (typeof update.rank !== "number" || !Number.isFinite(update.rank)) {
      throw invalidArgument(`${path}.rank`, "must be a finite number");
    }

    if (!isValidDate(update.occurredAt)) {
      throw invalidArgument(`${path}.occurredAt`, "must be a valid Date");
    }
  });
}

function requireArgumentIdentity(value: unknown, argument: string): asserts value is string {
  requireArgumentString(value, argument);
  const problem = findIdentityProblem(value);

  if (problem !== undefined) {
    throw invalidArgument(argument, describeIdentityProblem(value, problem));
  }
}

/**
 * Checks a phone argument of a read: a canonical identity (see `isCanonicalIdentity`),
 * because the store keeps every event under that form only.
 */
export function validatePhone(value: unknown, argument = "phone"): asserts value is string {
  requireArgumentIdentity(value, argument);
}

/**
 * Checks the arguments of `forget`: a number in canonical form that is no pseudonym, and a
 * pseudonym.
 */
export function validateErasure(phone: unknown, pseudonym: unknown): asserts phone is string {
  if (typeof phone !== "string" || phone === "" || isPseudonym(phone)) {
    throw new InvalidRequestError(
      "Invalid store argument phone: must be a phone number that is not a pseudonym",
    );
  }

  if (typeof pseudonym !== "string" || !isPseudonym(pseudonym)) {
    throw new InvalidRequestError(
      "Invalid store argument pseudonym: must be erased: followed by 64 hex digits",
    );
  }

  validatePhone(phone);
}

/** Checks the phones of a bulk read: an array of canonical identities. */
export function validatePhoneList(value: unknown): asserts value is readonly string[] {
  if (!Array.isArray(value)) {
    throw invalidArgument("phones", "must be an array of phone strings");
  }

  value.forEach((phone, index) => {
    // The argument name is built only for a bad element, because a list can hold millions.
    if (!isCanonicalIdentity(phone)) {
      requireArgumentIdentity(phone, `phones[${index}]`);
    }
  });
}

/** Returns the scope to read: `*` when none is given, else the sender, a canonical identity. */
export function resolveScope(scope: unknown): string {
  if (scope === undefined || scope === ALL_SENDERS) {
    return ALL_SENDERS;
  }

  requireArgumentIdentity(scope, "scope");
  return scope;
}

function requirePositiveInteger(value: unknown, argument: string): void {
  if (typeof value !== "number" || !Number.isSafeInteger(value) || value < 1) {
    throw invalidArgument(argument, `must be a positive integer (received ${String(value)})`);
  }
}

/** Checks the arguments of `claimOutbox`: both positive integers. */
export function validateOutboxClaim(limit: unknown, leaseMs: unknown): void {
  requirePositiveInteger(limit, "limit");
  requirePositiveInteger(leaseMs, "leaseMs");
}

/** Checks the message id given to `completeOutbox` or `retryOutbox`. */
export function validateOutboxId(id: unknown): asserts id is string {
  requireArgumentString(id, "id");
}

/** Checks the arguments of `retryOutbox`. */
export function validateOutboxRetry(id: unknown, notBefore: unknown, error: unknown): void {
  validateOutboxId(id);

  if (!isValidDate(notBefore)) {
    const received = describeValue(notBefore);
    throw invalidArgument("notBefore", `must be a valid Date (received ${received})`);
  }

  if (typeof error !== "string") {
    throw invalidArgument("error", `must be a string (received ${typeof error})`);
  }
}

/** Most parts one concatenated SMS can have: the part count is one octet. */
export const maxMessageParts = 255;

/** Checks a part given to `addMessagePart`. */
export function validateMessagePart(value: unknown): asserts value is MessagePartInput {
  if (typeof value !== "object" || value === null) {
    throw invalidArgument("part", "must be a message part object");
  }

  const part = value as Record<string, unknown>;
  requireArgumentString(part.groupKey, "part.groupKey");
  requireArgumentString(part.partId, "part.partId");
  requirePositiveInteger(part.index, "part.index");
  requirePositiveInteger(part.total, "part.total");

  if ((part.total as number) > maxMessageParts) {
    throw invalidArgument("part.total", `must be at most ${maxMessageParts}`);
  }

  if ((part.index as number) > (part.total as number)) {
    throw invalidArgument("part.index", "must not be larger than part.total");
  }

  if (typeof part.payload !== "string") {
    throw invalidArgument("part.payload", "must be the JSON text of the part");
  }

  if (!isValidDate(part.receivedAt)) {
    throw invalidArgument("part.receivedAt", "must be a valid Date");
  }
}

/** Checks the arguments of `stalePartGroups`. */
export function validateStalePartQuery(before: unknown, limit: unknown): void {
  if (!isValidDate(before)) {
    throw invalidArgument("before", "must be a valid Date");
  }

  requirePositiveInteger(limit, "limit");
}

/** Checks the arguments of `deliveryStatus`: both non-empty strings. */
export function validateStatusQuery(provider: unknown, messageId: unknown): void {
  requireArgumentString(provider, "provider");
  requireArgumentString(messageId, "messageId");
}

/** Validates the argument of `PseudonymKeyStore.keepPseudonymKeyCheck`: 64 hex digits. */
export function validateKeyCheck(keyCheck: unknown): void {
  if (typeof keyCheck !== "string" || !HEX_SHA256.test(keyCheck)) {
    throw invalidArgument(
      "keyCheck",
      `must be a hex SHA-256 of 64 lowercase digits (received ${describeValue(keyCheck)})`,
    );
  }
}

/** Validates the arguments of `NonceStore.findNonce`. */
export function validateNonceQuery(provider: unknown, nonce: unknown): void {
  requireArgumentString(provider, "provider");
  requireArgumentString(nonce, "nonce");
}
