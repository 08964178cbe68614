/**
 * The PostgreSQL consent store (pg), for several stateless smsgate servers that share one
 * database. Every server opens the store on the same database and schema.
 *
 * Each call is one transaction, or one statement, with the isolation level READ COMMITTED.
 * A write's promise resolves after its COMMIT returns. With `synchronous_commit` at the
 * server default `on`, that is after the commit is flushed to the server's disk, so an
 * acknowledged webhook survives a crash of the server. The store does not change that
 * setting; a server or role configured with `off` can lose the last commits on a crash.
 *
 * Concurrency: recording is idempotent across servers, because the receipt and event ids
 * are unique keys and a second transaction with the same id waits for the first, then
 * writes nothing. The derived state moves forward only with an upsert that compares
 * (occurredAt, commit sequence), so a late older event never overrides a newer one, also
 * when two servers commit for the same phone at once. The outbox is claimed with
 * `FOR UPDATE SKIP LOCKED`, so servers share it and never deliver a message twice at once.
 *
 * @module
 */

import type { Pool } from "pg";
import { numberNeedle } from "../consent/erasure.js";
import { replaceNul } from "../consent/nul.js";
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
import { isStoreError } from "../errors.js";
import { createPool, runTransaction } from "./postgres/connection.js";
import { closedStoreError, describeTarget, openError, toStoreError } from "./postgres/errors.js";
import { migrate, readSchemaVersion } from "./postgres/migrations.js";
import { PostgresNonces } from "./postgres/nonces.js";
import {
  type ConnectionTarget,
  type PostgresStoreOptions,
  parsePostgresOptions,
  type ResolvedPostgresOptions,
  readConnectionTarget,
} from "./postgres/options.js";
import { PostgresQueries, type ReceiptSnapshot } from "./postgres/queries.js";
import { rowToEvent } from "./postgres/rows.js";
import { KeyedSerialQueue } from "./postgres/serial.js";
import { PostgresSettings } from "./postgres/settings.js";
import { buildSql } from "./postgres/sql.js";

export {
  isStoreMissingError,
  SCHEMA_VERSION,
  StoreMissingError,
} from "./postgres/migrations.js";
export type { PostgresStoreOptions } from "./postgres/options.js";

/** Rows per page of {@link PostgresOptOutStore.listOptedOut}. */
export const LIST_PAGE_SIZE = 500;

/** The settings in effect on a store's connections, read back from the server. */
export interface PostgresStoreDiagnostics {
  /** Server and database, as `host:port/database (schema name)`, without the password. */
  target: string;
  schema: string;
  schemaVersion: number;
  /** `on` unless the server or the role changed it. */
  synchronousCommit: string;
  /** As the server shows it, such as `10s`. */
  statementTimeout: string;
  applicationName: string;
  serverVersion: string;
}

interface StoreSetup {
  pool: Pool;
  ownsPool: boolean;
  options: ResolvedPostgresOptions;
  label: string;
}

function targetOfPool(pool: Pool): ConnectionTarget | undefined {
  try {
    return readConnectionTarget(pool.options);
  } catch {
    return undefined;
  }
}

/**
 * Copies a receipt to write, with its events as recorded at `recordedAt`. Its strings have
 * U+0000 replaced (see {@link replaceNul}), because PostgreSQL's `text` cannot store it.
 */
function snapshotReceipt(receipt: WebhookReceipt, recordedAt: Date): ReceiptSnapshot {
  const groupKey = receipt.completesPartGroup;

  return {
    id: replaceNul(receipt.id),
    provider: replaceNul(receipt.provider),
    receivedAt: new Date(receipt.receivedAt.getTime()),
    events: receipt.events.map((event) => copyConsentEvent(event, recordedAt)),
    outbox: receipt.outbox.map(({ id, type, payload }) => ({
      id: replaceNul(id),
      type: replaceNul(type),
      payload: replaceNul(payload),
    })),
    completesPartGroup: groupKey === undefined ? undefined : replaceNul(groupKey),
    statuses: (receipt.statuses ?? []).map((update) => ({
      ...update,
      provider: replaceNul(update.provider),
      messageId: replaceNul(update.messageId),
      status: replaceNul(update.status),
      occurredAt: new Date(update.occurredAt.getTime()),
    })),
  };
}

/** Copies a message part to write, with U+0000 replaced in its strings. */
function snapshotPart(part: MessagePartInput): MessagePartInput {
  return {
    ...part,
    groupKey: replaceNul(part.groupKey),
    partId: replaceNul(part.partId),
    payload: replaceNul(part.payload),
    receivedAt: new Date(part.receivedAt.getTime()),
  };
}

/**
 * A consent store, forwarding outbox, multipart buffer and delivery-status table in one
 * PostgreSQL schema. Open it with {@link openPostgresStore}.
 */
export class PostgresOptOutStore
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
  /** The schema that contains the store's tables. */
  readonly schema: string;
  readonly #pool: Pool;
  readonly #ownsPool: boolean;
  readonly #label: string;
  readonly #quotedSchema: string;
  readonly #queries: PostgresQueries;
  readonly #nonces: PostgresNonces;
  readonly #settings: PostgresSettings;
  readonly #partQueue = new KeyedSerialQueue();
  readonly #pending = new Set<Promise<unknown>>();
  #closing: Promise<void> | undefined;

  private constructor(setup: StoreSetup) {
    this.schema = setup.options.schema;
    this.#pool = setup.pool;
    this.#ownsPool = setup.ownsPool;
    this.#label = setup.label;
    this.#quotedSchema = setup.options.quotedSchema;
    this.#queries = new PostgresQueries(setup.pool, buildSql(setup.options.quotedSchema));
    this.#nonces = new PostgresNonces(setup.options.quotedSchema);
    this.#settings = new PostgresSettings(setup.options.quotedSchema);
  }

  /**
   * Opens the store; see {@link openPostgresStore}.
   *
   * @throws {ConfigError} for invalid options.
   * @throws {StoreError} when the database cannot be reached or has a newer schema.
   */
  static async open(options: PostgresStoreOptions): Promise<PostgresOptOutStore> {
    const resolved = parsePostgresOptions(options);
    const target =
      resolved.url === undefined
        ? targetOfPool(resolved.pool as Pool)
        : readConnectionTarget({ connectionString: resolved.url });
    const label = `${describeTarget(target)} (schema ${resolved.schema})`;
    const ownsPool = resolved.pool === undefined;
    const pool = resolved.pool ?? createPool(resolved, label);

    try {
      await migrate(pool, resolved.schema, resolved.quotedSchema, label, resolved.create);
    } catch (error) {
      if (ownsPool) {
        await pool.end().catch(() => undefined);
      }

      throw isStoreError(error) ? error : openError(target, resolved.schema, error);
    }

    return new PostgresOptOutStore({ pool, ownsPool, options: resolved, label });
  }

  /** Appends an event unless one with the same id exists, and resolves once committed. */
  async record(event: ConsentEvent): Promise<RecordResult> {
    this.#assertOpen("record");
    validateConsentEvent(event);
    const snapshot = copyConsentEvent(event, new Date());

    const recorded = await this.#run("record", () => this.#queries.recordEvent(snapshot));
    return { recorded };
  }

  /** Checks whether the number is opted out in `scope` (default `*`). */
  async isOptedOut(phone: string, scope?: string): Promise<boolean> {
    this.#assertOpen("isOptedOut");
    validatePhone(phone);
    const resolved = resolveScope(scope);

    return this.#run("isOptedOut", () => this.#queries.isOptedOut(phone, resolved));
  }

  /** Returns the numbers among `phones` that are opted out in `scope`, in one query. */
  async filterOptedOut(phones: readonly string[], scope?: string): Promise<Set<string>> {
    this.#assertOpen("filterOptedOut");
    validatePhoneList(phones);
    const resolved = resolveScope(scope);

    if (phones.length === 0) {
      return new Set();
    }

    return this.#run("filterOptedOut", () => this.#queries.filterOptedOut(phones, resolved));
  }

  /** Reads the current state of one number in `scope` (default `*`). */
  async getState(phone: string, scope?: string): Promise<ConsentState> {
    this.#assertOpen("getState");
    validatePhone(phone);
    const resolved = resolveScope(scope);

    const row = await this.#run("getState", () => this.#queries.decidingEvent(phone, resolved));
    return {
      phone,
      optedOut: row?.action === "opt-out",
      scope: resolved,
      lastEvent: row === undefined ? undefined : rowToEvent(row),
    };
  }

  /**
   * Returns every event of a number in commit sequence order. The sequence is taken when
   * an event is inserted, so two events that servers commit at the same moment may be
   * listed in the order they were inserted rather than committed.
   */
  async history(phone: string): Promise<ConsentEvent[]> {
    this.#assertOpen("history");
    validatePhone(phone);

    const rows = await this.#run("history", () => this.#queries.history(phone));
    return rows.map(rowToEvent);
  }

  /**
   * Streams the state of every opted-out number in `scope` (default `*`), ordered by phone
   * in byte order. Rows are read in pages of {@link LIST_PAGE_SIZE} after the last phone of
   * the previous page, each page in its own query, so a page may see writes committed
   * after the previous page was read.
   */
  async *listOptedOut(scope?: string): AsyncIterable<ConsentState> {
    this.#assertOpen("listOptedOut");
    const resolved = resolveScope(scope);
    let after = "";

    for (;;) {
      const rows = await this.#run("listOptedOut", () =>
        this.#queries.listOptedOut(resolved, after, LIST_PAGE_SIZE),
      );
      for (const row of rows) {
        yield {
          phone: row.list_phone,
          optedOut: true,
          scope: resolved,
          lastEvent: rowToEvent(row),
        };
      }

      const last = rows.at(-1);
      if (last === undefined || rows.length < LIST_PAGE_SIZE) {
        return;
      }

      after = last.list_phone;
    }
  }

  /**
   * Streams every number that has events, with the deciding event of each of its
   * senders, ordered by phone in byte order. It pages as {@link listOptedOut} does.
   */
  listSenderStates(): AsyncIterable<SenderStates> {
    this.#assertOpen("listSenderStates");

    const readPage = async (after: string) => {
      const rows = await this.#run("listSenderStates", () =>
        this.#queries.listSenderStates(after, LIST_PAGE_SIZE),
      );

      return rows.map(rowToEvent);
    };

    return pagesOfSenderStates(readPage, LIST_PAGE_SIZE);
  }

  /**
   * Commits a webhook's receipt, events, outbox messages and statuses in one transaction.
   * An event or outbox message whose id is stored already is skipped.
   */
  async commitWebhook(receipt: WebhookReceipt): Promise<CommitResult> {
    this.#assertOpen("commitWebhook");
    validateWebhookReceipt(receipt);
    const snapshot = snapshotReceipt(receipt, new Date());

    const nonce = receipt.nonce && {
      ...receipt.nonce,
      value: replaceNul(receipt.nonce.value),
      requestHash: replaceNul(receipt.nonce.requestHash),
    };

    return this.#run("commitWebhook", () =>
      runTransaction(this.#pool, (client) =>
        this.#nonces.guard(client, snapshot.provider, nonce, () =>
          this.#queries.commitReceipt(client, snapshot),
        ),
      ),
    );
  }

  /** Returns the request hash stored with a provider's nonce, if it was committed. */
  async findNonce(provider: string, nonce: string): Promise<string | undefined> {
    this.#assertOpen("findNonce");
    validateNonceQuery(provider, nonce);

    return this.#run("findNonce", () =>
      this.#nonces.find(this.#pool, replaceNul(provider), replaceNul(nonce)),
    );
  }

  /** Reads whether the store contains erased numbers, and the kept pseudonym key check. */
  async pseudonymKeyStatus(): Promise<PseudonymKeyStatus> {
    this.#assertOpen("pseudonymKeyStatus");

    return this.#run("pseudonymKeyStatus", () => this.#settings.pseudonymKeyStatus(this.#pool));
  }

  /** Keeps the pseudonym key check value unless one is kept, and returns the kept one. */
  async keepPseudonymKeyCheck(keyCheck: string): Promise<string> {
    this.#assertOpen("keepPseudonymKeyCheck");
    validateKeyCheck(keyCheck);

    return this.#run("keepPseudonymKeyCheck", () =>
      this.#settings.keepPseudonymKeyCheck(this.#pool, keyCheck),
    );
  }

  /**
   * Proves that the database takes writes now by rewriting one row.
   *
   * @throws {StoreError} when the write fails, such as on a lost connection or a server in
   *   recovery.
   */
  async checkHealth(): Promise<void> {
    this.#assertOpen("checkHealth");

    await this.#run("checkHealth", () => this.#nonces.touchHealth(this.#pool));
  }

  /**
   * Stores a part of a multipart message unless stored already, and resolves with its group
   * once committed. Calls for one group on one store run one after another, in call order.
   */
  async addMessagePart(part: MessagePartInput): Promise<MessagePartGroup> {
    this.#assertOpen("addMessagePart");
    validateMessagePart(part);
    const snapshot = snapshotPart(part);

    return this.#run("addMessagePart", () =>
      this.#partQueue.run(snapshot.groupKey, () =>
        runTransaction(this.#pool, (client) => this.#queries.addMessagePart(client, snapshot)),
      ),
    );
  }

  /**
   * Moves a number's events to its pseudonym without their texts and deletes the parts
   * and outbox messages that contain the number, in one transaction.
   */
  async forget(phone: string, pseudonym: string): Promise<ErasureResult> {
    this.#assertOpen("forget");
    validateErasure(phone, pseudonym);
    const needle = numberNeedle(phone);

    const events = await this.#run("forget", () =>
      runTransaction(this.#pool, (client) =>
        this.#queries.forget(client, phone, pseudonym, needle),
      ),
    );
    return { events };
  }

  /** Groups not yet completed whose first part arrived at or before `before`, oldest first. */
  async stalePartGroups(before: Date, limit: number): Promise<MessagePartGroup[]> {
    this.#assertOpen("stalePartGroups");
    validateStalePartQuery(before, limit);

    return this.#run("stalePartGroups", () => this.#queries.stalePartGroups(before, limit));
  }

  /** Reads the last delivery status stored for a message, if any. */
  async deliveryStatus(provider: string, messageId: string): Promise<StoredStatus | undefined> {
    this.#assertOpen("deliveryStatus");
    validateStatusQuery(provider, messageId);

    return this.#run("deliveryStatus", () =>
      this.#queries.deliveryStatus(replaceNul(provider), replaceNul(messageId)),
    );
  }

  /**
   * Claims up to `limit` due messages in creation order and leases them for `leaseMs`,
   * measured on the database server's clock. Messages that another server is claiming at
   * the same moment are skipped, not waited for.
   */
  async claimOutbox(limit: number, leaseMs: number): Promise<OutboxEntry[]> {
    this.#assertOpen("claimOutbox");
    validateOutboxClaim(limit, leaseMs);

    return this.#run("claimOutbox", () => this.#queries.claimOutbox(limit, leaseMs));
  }

  /** Deletes a delivered message. An unknown id is ignored. */
  async completeOutbox(id: string): Promise<void> {
    this.#assertOpen("completeOutbox");
    validateOutboxId(id);

    await this.#run("completeOutbox", () => this.#queries.completeOutbox(replaceNul(id)));
  }

  /** Releases a message's lease and schedules it for `notBefore`. Ignores an unknown id. */
  async retryOutbox(id: string, notBefore: Date, error: string): Promise<void> {
    this.#assertOpen("retryOutbox");
    validateOutboxRetry(id, notBefore, error);

    await this.#run("retryOutbox", () =>
      this.#queries.retryOutbox(replaceNul(id), notBefore, replaceNul(error)),
    );
  }

  /** Reads back the settings in effect on one of the store's connections. */
  async diagnostics(): Promise<PostgresStoreDiagnostics> {
    this.#assertOpen("diagnostics");

    return this.#run("diagnostics", async () => {
      const settings = await this.#pool.query(
        `SELECT current_setting('synchronous_commit') AS synchronous_commit,
          current_setting('statement_timeout') AS statement_timeout,
          current_setting('application_name') AS application_name,
          current_setting('server_version') AS server_version`,
      );
      const row = settings.rows[0];

      return {
        target: this.#label,
        schema: this.schema,
        schemaVersion: await readSchemaVersion(this.#pool, this.#quotedSchema),
        synchronousCommit: String(row?.synchronous_commit),
        statementTimeout: String(row?.statement_timeout),
        applicationName: String(row?.application_name),
        serverVersion: String(row?.server_version),
      };
    });
  }

  /**
   * Waits for the calls in progress, then ends the pool the store created. A pool given as
   * `options.pool` is left open. Later calls reject with a `StoreError`, and calling
   * `close()` again returns the same promise.
   */
  close(): Promise<void> {
    this.#closing ??= this.#drainAndEnd();

    return this.#closing;
  }

  async #drainAndEnd(): Promise<void> {
    await Promise.allSettled([...this.#pending]);

    if (!this.#ownsPool) {
      return;
    }

    try {
      await this.#pool.end();
    } catch (error) {
      throw toStoreError("close", this.#label, error);
    }
  }

  #assertOpen(operation: string): void {
    if (this.#closing !== undefined) {
      throw closedStoreError(operation, this.#label);
    }
  }

  // Runs one call, keeps it in #pending until it settles, and wraps its failure.
  async #run<T>(operation: string, work: () => Promise<T>): Promise<T> {
    const pending = work();
    this.#pending.add(pending);

    try {
      return await pending;
    } catch (error) {
      throw toStoreError(operation, this.#label, error);
    } finally {
      this.#pending.delete(pending);
    }
  }
}

/**
 * Opens a PostgreSQL consent store. The options are validated, a pool is created for
 * `url` (or `pool` is used), and the schema is created when missing and migrated to
 * {@link SCHEMA_VERSION} under an advisory lock, so servers that start together migrate once.
 *
 * @throws {ConfigError} naming the invalid option.
 * @throws {StoreError} when the database cannot be reached, naming its host and port but
 *   never the password, or when the schema has a newer version.
 * @example
 * ```ts
 * const store = await openPostgresStore({ url: process.env.DATABASE_URL ?? "" });
 * if (await store.isOptedOut("+12025550143")) {
 *   // do not send
 * }
 * await store.close();
 * ```
 */
export function openPostgresStore(options: PostgresStoreOptions): Promise<PostgresOptOutStore> {
  return PostgresOptOutStore.open(options);
}
