/**
 * An in-memory consent store for tests, development and single short-lived processes.
 * It follows the same semantics as the durable stores, but everything is lost when the
 * process exits, so it must not back a production gateway.
 */

import { StoreError } from "../errors.js";
import { numberNeedle, pseudonymPrefix, scrubEvent } from "./erasure.js";
import {
  copyConsentEvent,
  decidingEventsBySender,
  deriveConsentState,
  resolveScope,
  type SequencedEvent,
  validateConsentEvent,
  validateErasure,
  validateKeyCheck,
  validateMessagePart,
  validateNonceQuery,
  validateOutboxClaim,
  validateOutboxId,
  validateOutboxRetry,
  validatePhone,
  validatePhoneList,
  validateStalePartQuery,
  validateStatusQuery,
  validateWebhookReceipt,
} from "./state.js";
import {
  type CommitResult,
  type ConsentEvent,
  type ConsentState,
  type ErasureResult,
  type ErasureStore,
  type HealthCheckStore,
  type MessagePartGroup,
  type MessagePartInput,
  type NonceStore,
  type OptOutStore,
  type OutboxEntry,
  type OutboxMessage,
  type OutboxStore,
  type PartStore,
  type PseudonymKeyStatus,
  type PseudonymKeyStore,
  partGroupReuseAfterMs,
  type RecordResult,
  type SenderStateStore,
  type SenderStates,
  type StatusStore,
  type StatusUpdate,
  type StoredStatus,
  type WebhookReceipt,
} from "./types.js";

interface PartGroupRow {
  total: number;
  parts: Map<number, { partId: string; payload: string }>;
  firstReceivedAt: number;
  /** Epoch milliseconds of completion; undefined while the group waits. */
  completedAt: number | undefined;
}

interface OutboxRow {
  message: OutboxMessage;
  createdAt: number;
  notBefore: number;
  leaseExpiresAt: number;
  attempts: number;
  lastError: string | undefined;
}

/**
 * Keeps the consent log, webhook receipts and outbox in process memory.
 *
 * @example
 * ```ts
 * const store = new MemoryOptOutStore();
 * await store.record(event);
 * await store.isOptedOut("+12025550143"); // true after an opt-out
 * ```
 */
export class MemoryOptOutStore
  implements
    OptOutStore,
    OutboxStore,
    PartStore,
    StatusStore,
    ErasureStore,
    NonceStore,
    HealthCheckStore,
    PseudonymKeyStore,
    SenderStateStore
{
  readonly #eventIds = new Set<string>();
  readonly #eventsByPhone = new Map<string, SequencedEvent[]>();
  readonly #receiptIds = new Set<string>();
  readonly #outbox = new Map<string, OutboxRow>();
  readonly #partGroups = new Map<string, PartGroupRow>();
  readonly #statuses = new Map<string, StoredStatus>();
  /** Request hash by provider and nonce, keyed `provider\nnonce`. */
  readonly #nonces = new Map<string, string>();
  #pseudonymKeyCheck: string | undefined;
  #nextSeq = 1;
  #closed = false;

  /** Appends an event unless one with the same id exists. */
  async record(event: ConsentEvent): Promise<RecordResult> {
    this.#assertOpen("record");
    validateConsentEvent(event);

    return { recorded: this.#append(event) };
  }

  /** Checks whether the number is opted out in `scope` (default `*`). */
  async isOptedOut(phone: string, scope?: string): Promise<boolean> {
    return (await this.getState(phone, scope)).optedOut;
  }

  /** Returns the numbers among `phones` that are opted out in `scope`. */
  async filterOptedOut(phones: readonly string[], scope?: string): Promise<Set<string>> {
    this.#assertOpen("filterOptedOut");
    validatePhoneList(phones);
    const resolved = resolveScope(scope);

    const optedOut = new Set<string>();
    for (const phone of phones) {
      if (this.#state(phone, resolved).optedOut) {
        optedOut.add(phone);
      }
    }

    return optedOut;
  }

  /** Reads the current state of one number in `scope` (default `*`). */
  async getState(phone: string, scope?: string): Promise<ConsentState> {
    this.#assertOpen("getState");
    validatePhone(phone);

    return this.#state(phone, resolveScope(scope));
  }

  /** Returns every event of a number, oldest first in commit order. */
  async history(phone: string): Promise<ConsentEvent[]> {
    this.#assertOpen("history");
    validatePhone(phone);

    const events = this.#eventsByPhone.get(phone) ?? [];
    return events.map((stored) => copyConsentEvent(stored.event));
  }

  /** Streams the state of every opted-out number in `scope` (default `*`), by phone. */
  async *listOptedOut(scope?: string): AsyncIterable<ConsentState> {
    this.#assertOpen("listOptedOut");
    const resolved = resolveScope(scope);
    const phones = [...this.#eventsByPhone.keys()].sort();

    for (const phone of phones) {
      const state = this.#state(phone, resolved);
      if (state.optedOut) {
        yield state;
      }
    }
  }

  /** Streams every number that has events, with each sender's deciding event, by phone. */
  async *listSenderStates(): AsyncIterable<SenderStates> {
    this.#assertOpen("listSenderStates");
    const phones = [...this.#eventsByPhone.keys()].sort();

    for (const phone of phones) {
      const events = decidingEventsBySender(this.#eventsByPhone.get(phone) ?? []);

      if (events.length > 0) {
        yield { phone, events };
      }
    }
  }

  /**
   * Commits a webhook's receipt, events and outbox messages, all or nothing. An event or
   * outbox message whose id is stored already is skipped.
   */
  async commitWebhook(receipt: WebhookReceipt): Promise<CommitResult> {
    this.#assertOpen("commitWebhook");
    validateWebhookReceipt(receipt);

    // Validation ran first and nothing below can fail, so the commit is all or nothing.
    if (this.#isReplayed(receipt)) {
      return { duplicate: false, replayed: true };
    }

    this.#keepNonce(receipt);

    if (this.#receiptIds.has(receipt.id) || this.#isCompleted(receipt.completesPartGroup)) {
      return { duplicate: true };
    }

    this.#receiptIds.add(receipt.id);
    if (receipt.completesPartGroup !== undefined) {
      this.#completePartGroup(receipt.completesPartGroup, receipt.receivedAt.getTime());
    }

    for (const event of receipt.events) {
      this.#append(event);
    }

    const now = Date.now();
    for (const message of receipt.outbox) {
      this.#enqueueOutbox(message, now);
    }

    if (receipt.statuses === undefined || receipt.statuses.length === 0) {
      return { duplicate: false };
    }

    return { duplicate: false, advanced: receipt.statuses.map((u) => this.#advanceStatus(u)) };
  }

  /** Returns the request hash stored with a provider's nonce, if it was committed. */
  async findNonce(provider: string, nonce: string): Promise<string | undefined> {
    this.#assertOpen("findNonce");
    validateNonceQuery(provider, nonce);

    return this.#nonces.get(nonceKey(provider, nonce));
  }

  /** Reads whether the store contains erased numbers, and the kept pseudonym key check. */
  async pseudonymKeyStatus(): Promise<PseudonymKeyStatus> {
    this.#assertOpen("pseudonymKeyStatus");

    const erased = [...this.#eventsByPhone.keys()].some((phone) =>
      phone.startsWith(pseudonymPrefix),
    );

    return { erased, keyCheck: this.#pseudonymKeyCheck };
  }

  /** Keeps the pseudonym key check value unless one is kept, and returns the kept one. */
  async keepPseudonymKeyCheck(keyCheck: string): Promise<string> {
    this.#assertOpen("keepPseudonymKeyCheck");
    validateKeyCheck(keyCheck);

    this.#pseudonymKeyCheck ??= keyCheck;

    return this.#pseudonymKeyCheck;
  }

  /** Resolves while the store is open: process memory always takes writes. */
  async checkHealth(): Promise<void> {
    this.#assertOpen("checkHealth");
  }

  #isReplayed(receipt: WebhookReceipt): boolean {
    if (receipt.nonce === undefined) {
      return false;
    }

    const stored = this.#nonces.get(nonceKey(receipt.provider, receipt.nonce.value));

    return stored !== undefined && stored !== receipt.nonce.requestHash;
  }

  #keepNonce(receipt: WebhookReceipt): void {
    if (receipt.nonce !== undefined) {
      this.#nonces.set(nonceKey(receipt.provider, receipt.nonce.value), receipt.nonce.requestHash);
    }
  }

  /** Claims up to `limit` due messages in creation order and leases them for `leaseMs`. */
  async claimOutbox(limit: number, leaseMs: number): Promise<OutboxEntry[]> {
    this.#assertOpen("claimOutbox");
    validateOutboxClaim(limit, leaseMs);

    const now = Date.now();
    const claimed: OutboxEntry[] = [];
    for (const row of this.#outbox.values()) {
      if (claimed.length >= limit) {
        break;
      }

      if (row.notBefore <= now && row.leaseExpiresAt <= now) {
        row.leaseExpiresAt = now + leaseMs;
        row.attempts += 1;
        claimed.push({
          ...row.message,
          attempts: row.attempts,
          createdAt: new Date(row.createdAt),
        });
      }
    }

    return claimed;
  }

  /** Deletes a delivered message. An unknown id is ignored. */
  async completeOutbox(id: string): Promise<void> {
    this.#assertOpen("completeOutbox");
    validateOutboxId(id);

    this.#outbox.delete(id);
  }

  /** Releases a message's lease and schedules it for `notBefore`. Ignores an unknown id. */
  async retryOutbox(id: string, notBefore: Date, error: string): Promise<void> {
    this.#assertOpen("retryOutbox");
    validateOutboxRetry(id, notBefore, error);

    const row = this.#outbox.get(id);
    if (row !== undefined) {
      row.notBefore = notBefore.getTime();
      row.leaseExpiresAt = 0;
      row.lastError = error;
    }
  }

  /** Stores a part unless that part of the group is stored already, and returns the group. */
  async addMessagePart(part: MessagePartInput): Promise<MessagePartGroup> {
    this.#assertOpen("addMessagePart");
    validateMessagePart(part);

    let group = this.#partGroups.get(part.groupKey);
    if (group === undefined || startsAnew(group, part)) {
      group = {
        total: part.total,
        parts: new Map(),
        firstReceivedAt: part.receivedAt.getTime(),
        completedAt: undefined,
      };
      this.#partGroups.set(part.groupKey, group);
    }

    const fits = !group.parts.has(part.index) && part.index <= group.total;
    if (group.completedAt === undefined && fits) {
      group.parts.set(part.index, { partId: part.partId, payload: part.payload });
    }

    return partGroupOf(part.groupKey, group);
  }

  /** Groups not yet completed whose first part arrived at or before `before`, oldest first. */
  async stalePartGroups(before: Date, limit: number): Promise<MessagePartGroup[]> {
    this.#assertOpen("stalePartGroups");
    validateStalePartQuery(before, limit);

    return [...this.#partGroups.entries()]
      .filter(
        ([, group]) => group.completedAt === undefined && group.firstReceivedAt <= before.getTime(),
      )
      .sort(([, a], [, b]) => a.firstReceivedAt - b.firstReceivedAt)
      .slice(0, limit)
      .map(([key, group]) => partGroupOf(key, group));
  }

  /**
   * Moves a number's events to its pseudonym without their texts, and deletes the parts
   * and undelivered outbox messages that contain the number. Nothing below can fail after
   * validation, so the change is all or nothing.
   */
  async forget(phone: string, pseudonym: string): Promise<ErasureResult> {
    this.#assertOpen("forget");
    validateErasure(phone, pseudonym);

    const moved = this.#eventsByPhone.get(phone) ?? [];
    const kept = this.#eventsByPhone.get(pseudonym) ?? [];
    const scrubbed = moved.map(({ event, seq }) => ({ event: scrubEvent(event, pseudonym), seq }));
    this.#eventsByPhone.set(
      pseudonym,
      [...kept, ...scrubbed].sort((a, b) => a.seq - b.seq),
    );
    this.#eventsByPhone.delete(phone);

    this.#forgetParts(phone);
    this.#forgetReceipts(phone, pseudonym);

    const needle = numberNeedle(phone);
    for (const [id, row] of this.#outbox) {
      if (row.message.payload.includes(needle)) {
        this.#outbox.delete(id);
      }
    }

    return { events: moved.length };
  }

  #forgetParts(phone: string): void {
    const needle = numberNeedle(phone);

    for (const [key, group] of this.#partGroups) {
      if (key.includes(needle)) {
        this.#partGroups.delete(key);
        continue;
      }

      for (const [index, part] of group.parts) {
        if (part.payload.includes(needle)) {
          group.parts.delete(index);
        }
      }
    }
  }

  #forgetReceipts(phone: string, pseudonym: string): void {
    for (const id of [...this.#receiptIds]) {
      if (id.includes(phone)) {
        this.#receiptIds.delete(id);
        this.#receiptIds.add(id.replaceAll(phone, pseudonym));
      }
    }
  }

  /** Marks the store closed; every later call rejects with a `StoreError`. */
  async close(): Promise<void> {
    this.#closed = true;
  }

  #assertOpen(operation: string): void {
    if (this.#closed) {
      throw new StoreError(
        `Memory store: ${operation} failed because the store is closed. Create a new store.`,
      );
    }
  }

  #append(event: ConsentEvent): boolean {
    if (this.#eventIds.has(event.id)) {
      return false;
    }

    const stored = { event: copyConsentEvent(event, new Date()), seq: this.#nextSeq };
    this.#nextSeq += 1;
    this.#eventIds.add(event.id);

    const events = this.#eventsByPhone.get(event.phone);
    if (events === undefined) {
      this.#eventsByPhone.set(event.phone, [stored]);
    } else {
      events.push(stored);
    }

    return true;
  }

  #state(phone: string, scope: string): ConsentState {
    return deriveConsentState(phone, this.#eventsByPhone.get(phone) ?? [], scope);
  }

  /** Returns the last status stored for a message, if any. */
  async deliveryStatus(provider: string, messageId: string): Promise<StoredStatus | undefined> {
    this.#assertOpen("deliveryStatus");
    validateStatusQuery(provider, messageId);

    const stored = this.#statuses.get(statusKey(provider, messageId));

    return stored === undefined
      ? undefined
      : { ...stored, occurredAt: new Date(stored.occurredAt) };
  }

  #advanceStatus(update: StatusUpdate): boolean {
    const key = statusKey(update.provider, update.messageId);
    const stored = this.#statuses.get(key);

    if (stored !== undefined && stored.rank >= update.rank) {
      return false;
    }

    this.#statuses.set(key, {
      status: update.status,
      rank: update.rank,
      occurredAt: new Date(update.occurredAt.getTime()),
    });

    return true;
  }

  #isCompleted(key: string | undefined): boolean {
    return key !== undefined && this.#partGroups.get(key)?.completedAt !== undefined;
  }

  #completePartGroup(key: string, receivedAt: number): void {
    const group = this.#partGroups.get(key);

    if (group === undefined) {
      this.#partGroups.set(key, {
        total: 0,
        parts: new Map(),
        firstReceivedAt: receivedAt,
        completedAt: Date.now(),
      });
    } else {
      group.completedAt ??= Date.now();
    }
  }

  #enqueueOutbox(message: OutboxMessage, now: number): void {
    if (this.#outbox.has(message.id)) {
      return;
    }

    this.#outbox.set(message.id, {
      message: { id: message.id, type: message.type, payload: message.payload },
      createdAt: now,
      notBefore: now,
      leaseExpiresAt: 0,
      attempts: 0,
      lastError: undefined,
    });
  }
}

function partGroupOf(groupKey: string, group: PartGroupRow): MessagePartGroup {
  const parts = [...group.parts.entries()]
    .sort(([a], [b]) => a - b)
    .map(([index, stored]) => ({ index, ...stored }));

  return {
    groupKey,
    total: group.total,
    parts,
    firstReceivedAt: new Date(group.firstReceivedAt),
    completed: group.completedAt !== undefined,
  };
}

function startsAnew(group: PartGroupRow, part: MessagePartInput): boolean {
  if (group.completedAt === undefined) {
    return false;
  }

  const stored = group.parts.get(part.index);

  if (stored !== undefined) {
    return stored.partId !== part.partId;
  }

  return part.receivedAt.getTime() - group.completedAt > partGroupReuseAfterMs;
}

function statusKey(provider: string, messageId: string): string {
  return `${provider}\u0000${messageId}`;
}

/** Builds the key of a provider's nonce in the nonce map. */
function nonceKey(provider: string, nonce: string): string {
  return `${provider}\n${nonce}`;
}
