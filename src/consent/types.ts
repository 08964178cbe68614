/** Whether an event withdraws or gives consent. */
export type ConsentAction = "opt-out" | "opt-in";

/**
 * How consent changed: a keyword in a reply, the provider's own flag on a reply, a provider
 * refusing a send, an operator's edit, or an import.
 */
export type ConsentSource = "keyword" | "provider-flag" | "provider-refusal" | "manual" | "import";

/** The scope value that means "every sender". */
export const ALL_SENDERS = "*";

/**
 * One entry of the append-only consent log. Current state is derived from these entries,
 * so no change is ever lost.
 */
export interface ConsentEvent {
  /** Idempotency key: recording the same id twice stores one event. */
  id: string;
  /**
   * The person, in the canonical form that `validateConsentEvent` checks: an E.164 number
   * (`+12025550143`), a short code, an erasure pseudonym, or a channel address or sender ID
   * as the provider sent it. Never another spelling of a number, such as `+1 202-555-0143`.
   */
  phone: string;
  action: ConsentAction;
  /**
   * The sender the person replied to or was refused by (messaging service id, else the
   * sending number), in the same canonical form as `phone`, or `*` for every sender.
   */
  sender: string;
  source: ConsentSource;
  /** Provider name, for events learned from a provider. */
  provider?: string | undefined;
  /** The provider's message id of the reply or refused message. */
  messageId?: string | undefined;
  /** The provider's error code, for refusals (`21610`). */
  providerCode?: string | undefined;
  /** The reply text, as received. */
  text?: string | undefined;
  /** The keyword or phrase that matched (`STOP`, `remove me`). */
  keyword?: string | undefined;
  /** An operator's note, for manual changes and imports. */
  note?: string | undefined;
  /**
   * When the change happened: the provider's event time when the webhook carries one,
   * else the time it was received. Current state follows this time. A store records a
   * time after its clock (at most 5 minutes after, or it rejects the event) as the time of
   * recording, so an event dated ahead never outvotes one recorded later. The stored and
   * returned event carries that time.
   */
  occurredAt: Date;
  /** Set by the store: when the event was committed. */
  recordedAt?: Date | undefined;
}

/** Current consent of one number, derived from its events. */
export interface ConsentState {
  phone: string;
  optedOut: boolean;
  /** The scope that was read: a sender identity or `*`. */
  scope: string;
  /** The event that decides the state, if there is one. */
  lastEvent?: ConsentEvent | undefined;
}

/** The result of {@link OptOutStore.record}. */
export interface RecordResult {
  /** False when an event with the same id was already stored. */
  recorded: boolean;
}

/** A message for the forwarding outbox, written in the same transaction as its webhook. */
export interface OutboxMessage {
  /** Unique id, also sent to the receiving app so it can deduplicate. */
  id: string;
  /** Event type, such as `inbound`, `delivery-report`, `opt-out`. */
  type: string;
  /** JSON text of the event. */
  payload: string;
}

/** An outbox message claimed for delivery. */
export interface OutboxEntry extends OutboxMessage {
  attempts: number;
  createdAt: Date;
}

/** Everything one webhook produces, committed atomically by {@link OptOutStore.commitWebhook}. */
export interface WebhookReceipt {
  /** Identifies the webhook across redeliveries (`twilio:AC…:SM…`). */
  id: string;
  provider: string;
  events: ConsentEvent[];
  outbox: OutboxMessage[];
  receivedAt: Date;
  /**
   * The multipart group this receipt delivers, marked complete in the same transaction so
   * that later parts of it are ignored. A receipt for a group that is complete already is
   * a duplicate, so a message is delivered once even when its last part and its time-out
   * race.
   */
  completesPartGroup?: string | undefined;
  /** Delivery statuses the webhook reports; a status is kept only when it is newer. */
  statuses?: StatusUpdate[] | undefined;
  /**
   * The nonce the provider signed the webhook with, kept by a {@link NonceStore} in the
   * same transaction, so that it counts as seen only once the webhook has committed.
   */
  nonce?: WebhookNonce | undefined;
}

/** A webhook's signed nonce and a hash of the request that carried it. */
export interface WebhookNonce {
  /** The nonce as the provider sent it. */
  value: string;
  /**
   * Hex SHA-256 of the request's method, URL and body. A repeat of the same request has
   * the same hash; another request that reuses the nonce does not.
   */
  requestHash: string;
}

/** A delivery status a webhook reports for a sent message. */
export interface StatusUpdate {
  provider: string;
  messageId: string;
  /** Normalised status, such as `delivered`. */
  status: string;
  /** Order of the status; see `deliveryStatusRank`. A lower or equal rank is stale. */
  rank: number;
  occurredAt: Date;
}

/** The last delivery status stored for a message. */
export interface StoredStatus {
  status: string;
  rank: number;
  occurredAt: Date;
}

/** The result of {@link OptOutStore.commitWebhook}. */
export interface CommitResult {
  /** True when a webhook with the same id was committed before; nothing was written. */
  duplicate: boolean;
  /**
   * For each entry of `receipt.statuses`, whether it moved its message forward. Absent for
   * a duplicate, for a receipt without statuses, and for a store that does not keep them.
   */
  advanced?: boolean[] | undefined;
  /**
   * True when the receipt's nonce was committed before with another request, so this one
   * is a replay: nothing was written. Only a {@link NonceStore} sets it.
   */
  replayed?: boolean | undefined;
}

/**
 * The consent store contract. Implementations must make `record` and `commitWebhook`
 * idempotent and atomic, and must reject with a `StoreError` when the backend fails.
 * Reads reject a phone or scope that is not a canonical identity, such as
 * `+1 202-555-0143`, with an `InvalidRequestError`, because no event is stored under it.
 */
export interface OptOutStore {
  /**
   * Appends an event unless one with the same id exists. Rejects with an
   * `InvalidConsentEventError` and writes nothing when `validateConsentEvent` rejects the
   * event, such as one whose `phone` is not in canonical form or whose `occurredAt` is more
   * than 5 minutes ahead of the clock. An `occurredAt` after the clock but within those 5
   * minutes is recorded as the time of recording.
   */
  record(event: ConsentEvent): Promise<RecordResult>;

  /**
   * Whether the number is opted out. With scope `*` (the default) the newest event from any
   * sender decides; with a sender, the newest event of that sender or of `*` decides.
   */
  isOptedOut(phone: string, scope?: string): Promise<boolean>;

  /** Returns the numbers among `phones` that are opted out, in one call. */
  filterOptedOut(phones: readonly string[], scope?: string): Promise<Set<string>>;

  /** Current state of one number in a scope. */
  getState(phone: string, scope?: string): Promise<ConsentState>;

  /** Every event of a number, oldest first (commit order). */
  history(phone: string): Promise<ConsentEvent[]>;

  /** Current state of every number that is opted out in a scope. */
  listOptedOut(scope?: string): AsyncIterable<ConsentState>;

  /**
   * Commits a webhook's receipt, its consent events and its outbox messages in one
   * transaction. A second receipt with the same id writes nothing and reports a duplicate.
   * A receipt that `validateWebhookReceipt` rejects writes nothing, not even its id.
   */
  commitWebhook(receipt: WebhookReceipt): Promise<CommitResult>;

  /** Releases connections and file handles. */
  close(): Promise<void>;
}

/** A store that also delivers the forwarding outbox. */
export interface OutboxStore {
  /**
   * Claims up to `limit` messages that are due, hiding each from other claimers for
   * `leaseMs` milliseconds.
   */
  claimOutbox(limit: number, leaseMs: number): Promise<OutboxEntry[]>;

  /** Deletes a delivered message. */
  completeOutbox(id: string): Promise<void>;

  /** Schedules another attempt for a message that failed. */
  retryOutbox(id: string, notBefore: Date, error: string): Promise<void>;
}

/**
 * Time after which a completed multipart group may start anew with a part it never had:
 * later than any redelivery of the old message, sooner than a sender reuses a reference.
 */
export const partGroupReuseAfterMs = 60 * 60 * 1000;

/** One part of a multipart inbound message, kept until the rest arrive. */
export interface MessagePartInput {
  /** Identifies the message: provider, sender, recipient and the provider's reference. */
  groupKey: string;
  /** Position of the part, from 1. */
  index: number;
  /** Number of parts the message has. */
  total: number;
  /** The provider's id of this part; a repeat of the part has the same id. */
  partId: string;
  /** JSON text of the part's `InboundMessage`. */
  payload: string;
  receivedAt: Date;
}

/** The stored parts of one multipart message. */
export interface MessagePartGroup {
  groupKey: string;
  /** Number of parts, as the first stored part gave it. */
  total: number;
  /** Stored parts, in part order, each once. */
  parts: Array<{ index: number; partId: string; payload: string }>;
  firstReceivedAt: Date;
  /** True once a receipt delivered the message; later parts are then ignored. */
  completed: boolean;
}

/**
 * A store that keeps the parts of multipart messages, so that a restart or a second server
 * loses none of them.
 */
export interface PartStore {
  /**
   * Stores a part unless that part of the group is stored already, and returns the group.
   * Providers reuse references, so a part for a completed group starts the group anew when
   * it is another message: its `partId` differs from the stored part at its index, or its
   * index was never stored and the group completed over {@link partGroupReuseAfterMs} ago.
   */
  addMessagePart(part: MessagePartInput): Promise<MessagePartGroup>;

  /** Groups not yet completed whose first part arrived at or before `before`, oldest first. */
  stalePartGroups(before: Date, limit: number): Promise<MessagePartGroup[]>;
}

/** A store that keeps the latest delivery status of each sent message. */
export interface StatusStore {
  /** The last status stored for a message, if any. */
  deliveryStatus(provider: string, messageId: string): Promise<StoredStatus | undefined>;
}

/**
 * A store that remembers the signed nonces of committed webhooks, so that a nonce copied
 * from a genuine request cannot authenticate another one. Its `commitWebhook` writes the
 * receipt's nonce in the same transaction, also for a duplicate receipt, and writes nothing
 * and reports `replayed` when the nonce is stored with another request hash.
 */
export interface NonceStore {
  /** The request hash stored with a provider's nonce, if the nonce was committed. */
  findNonce(provider: string, nonce: string): Promise<string | undefined>;
}

/** Whether a store contains erased numbers, and the check value of the key that made them. */
export interface PseudonymKeyStatus {
  /** True when an event of the store belongs to a pseudonym. */
  erased: boolean;
  /** The value {@link PseudonymKeyStore.keepPseudonymKeyCheck} kept, if any. */
  keyCheck: string | undefined;
}

/**
 * A store that remembers a check value of the pseudonym key, so that a server started with
 * another key, or none, is stopped before it sends to numbers whose erased opt-outs it can
 * no longer find.
 */
export interface PseudonymKeyStore {
  /** Reads whether the store contains erased numbers, and the kept key check value. */
  pseudonymKeyStatus(): Promise<PseudonymKeyStatus>;

  /**
   * Keeps `keyCheck` unless a value is kept already, and returns the kept value, so that
   * the caller can compare it with its own.
   */
  keepPseudonymKeyCheck(keyCheck: string): Promise<string>;
}

/** A store that can prove, on request, that it takes writes now. */
export interface HealthCheckStore {
  /**
   * Writes and commits a small health record. Rejects with a `StoreError` when the
   * backend cannot take writes, such as on a full disk or a lost connection.
   */
  checkHealth(): Promise<void>;
}

/** The result of {@link ErasureStore.forget}. */
export interface ErasureResult {
  /** Number of events moved from the phone to its pseudonym. */
  events: number;
}

/** The deciding events of one number, one per sender that has events. */
export interface SenderStates {
  phone: string;
  /** The newest event of each sender, `*` included, in consent order (oldest first). */
  events: ConsentEvent[];
}

/**
 * A store that lists the deciding event of every sender of a number, so that an export
 * carries the opt-outs of single senders and not only the state over every sender.
 */
export interface SenderStateStore {
  /**
   * Streams, ordered by phone, every number that has events. Each comes with the deciding
   * events of all its senders, opt-outs and opt-ins, so that importing them rebuilds the
   * number's state for every scope.
   */
  listSenderStates(): AsyncIterable<SenderStates>;
}

/**
 * A store that can erase a person's data on request while keeping their block, by moving
 * their events to a keyed pseudonym of the number.
 */
export interface ErasureStore {
  /**
   * Moves every event of `phone` to `pseudonym` with its `text`, `keyword`, `note` and
   * `messageId` cleared, moves the derived state with them, deletes the waiting and
   * completed multipart parts and the undelivered outbox messages that contain the number,
   * and replaces the number in webhook receipt ids with the pseudonym. Everything happens
   * in one transaction.
   */
  forget(phone: string, pseudonym: string): Promise<ErasureResult>;
}
