/**
 * The embedded SQLite consent store (better-sqlite3), the default store of smsgate.
 *
 * Durability: the file is in WAL mode with `synchronous = FULL`. better-sqlite3 12 would
 * start a WAL connection at NORMAL, where the last commits can be lost on power failure, so
 * FULL is set explicitly. A write's promise resolves only after its transaction is on disk,
 * so a webhook acknowledged after the write survives a crash or power loss.
 *
 * Several processes may open the same file, such as a server and the CLI. Readers do not
 * wait for a writer, and a writer waits up to `busyTimeoutMs` for another writer's lock.
 * Foreign keys are enforced.
 *
 * Writes that arrive in the same event-loop turn share one transaction (group commit), so
 * one disk flush acknowledges up to 256 of them.
 *
 * @module
 */

import type { Database } from "better-sqlite3";
import { numberNeedle } from "../consent/erasure.js";
import {
  copyConsentEvent,
  pagesOfSenderStates,
  resolveScope,
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
} from "../consent/state.js";
import type {
  CommitResult,
  ConsentEvent,
  ConsentState,
  ErasureResult,
  ErasureStore,
  HealthCheckStore,
  MessagePartGroup,
  MessagePartInput,
  NonceStore,
  OptOutStore,
  OutboxEntry,
  OutboxStore,
  PartStore,
  PseudonymKeyStatus,
  PseudonymKeyStore,
  RecordResult,
  SenderStateStore,
  SenderStates,
  StatusStore,
  StoredStatus,
  WebhookReceipt,
} from "../consent/types.js";
import {
  closedStoreError,
  isDatabaseFailure,
  readonlyStoreError,
  toStoreError,
} from "./sqlite/errors.js";
import { assertSameFiles, readStoreFiles } from "./sqlite/file-identity.js";
import { GroupCommitQueue } from "./sqlite/group-commit.js";
import { NonceQueries } from "./sqlite/nonces.js";
import {
  openDatabase,
  parseSqliteOptions,
  readDiagnostics,
  type SqliteStoreDiagnostics,
  type SqliteStoreOptions,
} from "./sqlite/open.js";
import { ConsentQueries, type ReceiptSnapshot } from "./sqlite/queries.js";
import { SettingsQueries } from "./sqlite/settings.js";
import { rowToEvent } from "./sqlite/statements.js";

export { SCHEMA_VERSION } from "./sqlite/migrations.js";
export type { SqliteStoreDiagnostics, SqliteStoreOptions } from "./sqlite/open.js";

/** Maximum writes committed in one transaction. */
export const MAX_GROUP_COMMIT_SIZE = 256;

const LIST_PAGE_SIZE = 500;

/**
 * A consent store and forwarding outbox in one SQLite file. Open it with
 * {@link openSqliteStore}.
 */
export class SqliteOptOutStore
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
  /** The database file, as given. */
  readonly path: string;
  readonly #db: Database;
  readonly #queries: ConsentQueries;
  readonly #nonces: NonceQueries;
  readonly #settings: SettingsQueries;
  readonly #queue: GroupCommitQueue;
  readonly #immediate: (work: () => void) => void;
  #closing: Promise<void> | undefined;

  private constructor(db: Database, path: string) {
    this.path = path;
    this.#db = db;
    this.#queries = new ConsentQueries(db);
    this.#nonces = new NonceQueries(db);
    this.#settings = new SettingsQueries(db);

    const transaction = db.transaction((work: () => void) => work());
    const files = db.readonly || db.memory ? undefined : readStoreFiles(path);

    this.#immediate = (work) => {
      if (files !== undefined) {
        assertSameFiles(files);
      }

      transaction.immediate(work);
    };
    this.#queue = new GroupCommitQueue({
      runInTransaction: this.#immediate,
      maxBatchSize: MAX_GROUP_COMMIT_SIZE,
      isDatabaseFailure,
    });
  }

  /**
   * Opens the store; see {@link openSqliteStore}.
   *
   * @throws {ConfigError} for invalid options.
   * @throws {StoreError} when opening fails.
   */
  static open(options: SqliteStoreOptions): SqliteOptOutStore {
    const resolved = parseSqliteOptions(options);
    const db = openDatabase(resolved);

    try {
      return new SqliteOptOutStore(db, resolved.path);
    } catch (error) {
      db.close();
      throw toStoreError("open", resolved.path, error);
    }
  }

  /** Appends an event unless one with the same id exists, and resolves once it is on disk. */
  async record(event: ConsentEvent): Promise<RecordResult> {
    this.#assertWritable("record");
    validateConsentEvent(event);
    const snapshot = copyConsentEvent(event, new Date());

    const recorded = await this.#write("record", () => this.#queries.insertEvent(snapshot, null));
    return { recorded };
  }

  /** Checks whether the number is opted out in `scope` (default `*`). */
  async isOptedOut(phone: string, scope?: string): Promise<boolean> {
    this.#assertOpen("isOptedOut");
    validatePhone(phone);
    const resolved = resolveScope(scope);

    return this.#read("isOptedOut", () => this.#queries.isOptedOut(phone, resolved));
  }

  /** Returns the numbers among `phones` that are opted out in `scope`, in one query. */
  async filterOptedOut(phones: readonly string[], scope?: string): Promise<Set<string>> {
    this.#assertOpen("filterOptedOut");
    validatePhoneList(phones);
    const resolved = resolveScope(scope);

    if (phones.length === 0) {
      return new Set();
    }

    return this.#read("filterOptedOut", () => this.#queries.filterOptedOut(phones, resolved));
  }

  /** Reads the current state of one number in `scope` (default `*`). */
  async getState(phone: string, scope?: string): Promise<ConsentState> {
    this.#assertOpen("getState");
    validatePhone(phone);
    const resolved = resolveScope(scope);

    const row = this.#read("getState", () => this.#queries.decidingEvent(phone, resolved));
    return {
      phone,
      optedOut: row?.action === "opt-out",
      scope: resolved,
      lastEvent: row === undefined ? undefined : rowToEvent(row),
    };
  }

  /** Returns every event of a number, oldest first in commit order. */
  async history(phone: string): Promise<ConsentEvent[]> {
    this.#assertOpen("history");
    validatePhone(phone);

    return this.#read("history", () => this.#queries.history(phone)).map(rowToEvent);
  }

  /**
   * Streams the state of every opted-out number in `scope` (default `*`), ordered by phone.
   * Rows are read in pages of 500 by phone, each page in its own read, so that the
   * connection serves other calls between pages. A page may therefore see writes committed
   * after the previous page was read.
   */
  async *listOptedOut(scope?: string): AsyncIterable<ConsentState> {
    this.#assertOpen("listOptedOut");
    const resolved = resolveScope(scope);
    let after = "";

    for (;;) {
      const rows = this.#read("listOptedOut", () =>
        this.#queries.listOptedOut(resolved, after, LIST_PAGE_SIZE),
      );
      for (const row of rows) {
        yield { phone: row.phone, optedOut: true, scope: resolved, lastEvent: rowToEvent(row) };
      }

      const last = rows.at(-1);
      if (last === undefined || rows.length < LIST_PAGE_SIZE) {
        return;
      }

      after = last.phone;
    }
  }

  /**
   * Streams every number that has events, with the deciding event of each of its
   * senders, ordered by phone. It pages as {@link listOptedOut} does.
   */
  listSenderStates(): AsyncIterable<SenderStates> {
    this.#assertOpen("listSenderStates");

    const readPage = (after: string) =>
      this.#read("listSenderStates", () =>
        this.#queries.listSenderStates(after, LIST_PAGE_SIZE).map(rowToEvent),
      );

    return pagesOfSenderStates(readPage, LIST_PAGE_SIZE);
  }

  /**
   * Commits a webhook's receipt, events and outbox messages in one transaction. An event or
   * outbox message whose id is stored already is skipped.
   */
  async commitWebhook(receipt: WebhookReceipt): Promise<CommitResult> {
    this.#assertWritable("commitWebhook");
    validateWebhookReceipt(receipt);
    const recordedAt = new Date();
    const snapshot: ReceiptSnapshot = {
      id: receipt.id,
      provider: receipt.provider,
      receivedAt: receipt.receivedAt.getTime(),
      events: receipt.events.map((event) => copyConsentEvent(event, recordedAt)),
      outbox: receipt.outbox.map(({ id, type, payload }) => ({ id, type, payload })),
      completesPartGroup: receipt.completesPartGroup,
      statuses: (receipt.statuses ?? []).map((update) => ({
        ...update,
        occurredAt: new Date(update.occurredAt.getTime()),
      })),
    };

    const nonce = receipt.nonce && { ...receipt.nonce };

    return this.#write("commitWebhook", () =>
      this.#nonces.guard(snapshot.provider, nonce, () => this.#queries.insertReceipt(snapshot)),
    );
  }

  /** Returns the request hash stored with a provider's nonce, if it was committed. */
  async findNonce(provider: string, nonce: string): Promise<string | undefined> {
    this.#assertOpen("findNonce");
    validateNonceQuery(provider, nonce);

    return this.#read("findNonce", () => this.#nonces.find(provider, nonce));
  }

  /** Reads whether the store contains erased numbers, and the kept pseudonym key check. */
  async pseudonymKeyStatus(): Promise<PseudonymKeyStatus> {
    this.#assertOpen("pseudonymKeyStatus");

    return this.#read("pseudonymKeyStatus", () => this.#settings.pseudonymKeyStatus());
  }

  /** Keeps the pseudonym key check value unless one is kept, and returns the kept one. */
  async keepPseudonymKeyCheck(keyCheck: string): Promise<string> {
    this.#assertWritable("keepPseudonymKeyCheck");
    validateKeyCheck(keyCheck);

    return this.#write("keepPseudonymKeyCheck", () =>
      this.#settings.keepPseudonymKeyCheck(keyCheck),
    );
  }

  /**
   * Proves that the file takes writes now: rewrites one row through the group commit and
   * resolves once it is on disk.
   *
   * @throws {StoreError} when the write fails, such as on a full disk or a lock held past
   *   the busy timeout.
   */
  async checkHealth(): Promise<void> {
    this.#assertWritable("checkHealth");

    await this.#write("checkHealth", () => this.#nonces.touchHealth());
  }

  /**
   * Stores a part of a multipart message unless stored already, and resolves with its group
   * once the part is on disk.
   */
  async addMessagePart(part: MessagePartInput): Promise<MessagePartGroup> {
    this.#assertWritable("addMessagePart");
    validateMessagePart(part);
    const snapshot = { ...part, receivedAt: new Date(part.receivedAt.getTime()) };

    return this.#write("addMessagePart", () => this.#queries.addMessagePart(snapshot));
  }

  /** Groups not yet completed whose first part arrived at or before `before`, oldest first. */
  async stalePartGroups(before: Date, limit: number): Promise<MessagePartGroup[]> {
    this.#assertOpen("stalePartGroups");
    validateStalePartQuery(before, limit);

    return this.#read("stalePartGroups", () => this.#queries.stalePartGroups(before, limit));
  }

  /** Returns the last delivery status stored for a message, if any. */
  async deliveryStatus(provider: string, messageId: string): Promise<StoredStatus | undefined> {
    this.#assertOpen("deliveryStatus");
    validateStatusQuery(provider, messageId);

    return this.#read("deliveryStatus", () => this.#queries.deliveryStatus(provider, messageId));
  }

  /**
   * Moves a number's events to its pseudonym without their texts and deletes the parts
   * and outbox messages that contain the number, in one transaction.
   */
  async forget(phone: string, pseudonym: string): Promise<ErasureResult> {
    this.#assertWritable("forget");
    validateErasure(phone, pseudonym);
    const needle = numberNeedle(phone);

    const events = await this.#write("forget", () =>
      this.#queries.forget(phone, pseudonym, needle),
    );
    return { events };
  }

  /** Claims up to `limit` due messages in creation order and leases them for `leaseMs`. */
  async claimOutbox(limit: number, leaseMs: number): Promise<OutboxEntry[]> {
    this.#assertWritable("claimOutbox");
    validateOutboxClaim(limit, leaseMs);

    let claimed: OutboxEntry[] = [];
    this.#writeNow("claimOutbox", () => {
      claimed = this.#queries.claimOutbox(limit, leaseMs);
    });

    return claimed;
  }

  /** Deletes a delivered message. An unknown id is ignored. */
  async completeOutbox(id: string): Promise<void> {
    this.#assertWritable("completeOutbox");
    validateOutboxId(id);

    this.#writeNow("completeOutbox", () => this.#queries.completeOutbox(id));
  }

  /** Releases a message's lease and schedules it for `notBefore`. Ignores an unknown id. */
  async retryOutbox(id: string, notBefore: Date, error: string): Promise<void> {
    this.#assertWritable("retryOutbox");
    validateOutboxRetry(id, notBefore, error);

    this.#writeNow("retryOutbox", () => this.#queries.retryOutbox(id, notBefore, error));
  }

  /** Reads back the settings in effect on this store's connection. */
  async diagnostics(): Promise<SqliteStoreDiagnostics> {
    this.#assertOpen("diagnostics");

    return this.#read("diagnostics", () => readDiagnostics(this.#db, this.path));
  }

  /**
   * Waits for queued writes, then closes the connection. Later calls reject with a
   * `StoreError`; calling `close()` again returns the same promise.
   */
  close(): Promise<void> {
    this.#closing ??= this.#queue.drain().then(() => {
      try {
        this.#db.close();
      } catch (error) {
        throw toStoreError("close", this.path, error);
      }
    });

    return this.#closing;
  }

  #assertOpen(operation: string): void {
    if (this.#closing !== undefined) {
      throw closedStoreError(operation, this.path);
    }
  }

  #assertWritable(operation: string): void {
    this.#assertOpen(operation);

    if (this.#db.readonly) {
      throw readonlyStoreError(operation, this.path);
    }
  }

  #read<T>(operation: string, work: () => T): T {
    this.#assertOpen(operation);

    try {
      return work();
    } catch (error) {
      throw toStoreError(operation, this.path, error);
    }
  }

  // A write outside the group-commit queue, in its own transaction.
  #writeNow(operation: string, work: () => void): void {
    try {
      this.#immediate(work);
    } catch (error) {
      throw toStoreError(operation, this.path, error);
    }
  }

  // Queues a write for group commit. It settles after its transaction.
  async #write<T>(operation: string, work: () => T): Promise<T> {
    try {
      return await this.#queue.enqueue(work);
    } catch (error) {
      throw toStoreError(operation, this.path, error);
    }
  }
}

/**
 * Opens (and creates, when missing) an SQLite consent store. The options are validated, the
 * parent directory is created, and the schema is migrated to {@link SCHEMA_VERSION}.
 *
 * @throws {ConfigError} naming the invalid option.
 * @throws {StoreError} when the file cannot be opened or has a newer schema version.
 * @example
 * ```ts
 * const store = openSqliteStore({ path: "./data/consent.db" });
 * if (await store.isOptedOut("+12025550143")) {
 *   // do not send
 * }
 * ```
 */
export function openSqliteStore(options: SqliteStoreOptions): SqliteOptOutStore {
  return SqliteOptOutStore.open(options);
}
