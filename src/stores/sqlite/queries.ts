/**
 * The synchronous SQL work of the SQLite store. Callers validate arguments, wrap errors and
 * run the writes inside a transaction.
 */

import type { Database } from "better-sqlite3";
import type {
  CommitResult,
  ConsentEvent,
  OutboxEntry,
  OutboxMessage,
} from "../../consent/types.js";
import { ALL_SENDERS } from "../../consent/types.js";
import {
  type EventRow,
  eventParameters,
  type OutboxRow,
  prepareStatements,
  type Statements,
  toJsonArrayChunks,
} from "./statements.js";

/** A webhook receipt as it will be written, copied from the caller's object. */
export interface ReceiptSnapshot {
  id: string;
  provider: string;
  receivedAt: number;
  events: ConsentEvent[];
  outbox: OutboxMessage[];
}

/** The statements of one connection, with one method per read or write. */
export class ConsentQueries {
  readonly #db: Database;
  readonly #statements: Statements;

  constructor(db: Database) {
    this.#db = db;
    this.#statements = prepareStatements(db);
  }

  /**
   * Appends an event unless its id exists. Call it inside a write transaction. The derived
   * rows change only when the event is newer than the one that decides them.
   */
  insertEvent(event: ConsentEvent, receiptId: string | null): boolean {
    const parameters = eventParameters(event, Date.now(), receiptId);
    const seq = this.#statements.insertEvent.get(parameters) as number | undefined;
    if (seq === undefined) {
      return false;
    }

    const state = { ...parameters, seq };
    this.#statements.upsertSenderState.run(state);
    this.#statements.upsertPhoneState.run(state);
    return true;
  }

  /**
   * Writes a receipt with its events and outbox messages. Call it inside a write
   * transaction. The receipt id is inserted first, so a redelivery finds it and writes nothing.
   */
  insertReceipt(receipt: ReceiptSnapshot): CommitResult {
    const committedAt = Date.now();
    const { id, provider, receivedAt } = receipt;
    const inserted = this.#statements.insertReceipt.run({ id, provider, receivedAt, committedAt });
    if (inserted.changes === 0) {
      return { duplicate: true };
    }

    for (const event of receipt.events) {
      this.insertEvent(event, id);
    }

    for (const message of receipt.outbox) {
      this.#statements.insertOutbox.run({ ...message, receiptId: id, createdAt: committedAt });
    }

    return { duplicate: false };
  }

  /** Checks whether the phone is opted out in `scope`. */
  isOptedOut(phone: string, scope: string): boolean {
    if (scope === ALL_SENDERS) {
      return this.#statements.isOptedOutAny.get(phone) === 1;
    }

    return this.#statements.isOptedOutSender.get({ phone, scope }) === 1;
  }

  /**
   * Returns the opted-out phones among `phones`. It runs one query over a JSON array, or one
   * per chunk inside one read transaction when the array is too long for one parameter.
   */
  filterOptedOut(phones: readonly string[], scope: string): Set<string> {
    const chunks = toJsonArrayChunks(phones);
    const optedOut = new Set<string>();
    const readChunks = () => {
      for (const chunk of chunks) {
        for (const phone of this.#filterChunk(chunk, scope)) {
          optedOut.add(phone);
        }
      }
    };

    if (chunks.length === 1) {
      readChunks();
    } else {
      this.#db.transaction(readChunks)();
    }

    return optedOut;
  }

  #filterChunk(phonesJson: string, scope: string): string[] {
    const { filterAny, filterSender } = this.#statements;
    const rows =
      scope === ALL_SENDERS
        ? filterAny.all(phonesJson)
        : filterSender.all({ phones: phonesJson, scope });

    return rows as string[];
  }

  /** Reads the event that decides the phone's state in `scope`, if any. */
  decidingEvent(phone: string, scope: string): EventRow | undefined {
    const { stateAny, stateSender } = this.#statements;
    const row = scope === ALL_SENDERS ? stateAny.get(phone) : stateSender.get({ phone, scope });

    return row as EventRow | undefined;
  }

  /** Reads every event of the phone in commit order. */
  history(phone: string): EventRow[] {
    return this.#statements.history.all(phone) as EventRow[];
  }

  /** Reads up to `limit` deciding opt-out events of phones after `after`, by phone. */
  listOptedOut(scope: string, after: string, limit: number): EventRow[] {
    const { listAny, listSender } = this.#statements;
    const page = { after, limit, scope };

    return (scope === ALL_SENDERS ? listAny.all(page) : listSender.all(page)) as EventRow[];
  }

  /** Leases up to `limit` due messages. Call it inside a write transaction. */
  claimOutbox(limit: number, leaseMs: number): OutboxEntry[] {
    const now = Date.now();
    const parameters = { now, leaseExpiresAt: now + leaseMs, limit };
    const rows = this.#statements.claimOutbox.all(parameters) as OutboxRow[];

    // RETURNING gives no order, so the rows are sorted back into creation order.
    rows.sort((a, b) => a.seq - b.seq);
    return rows.map((row) => ({
      id: row.id,
      type: row.type,
      payload: row.payload,
      attempts: row.attempts,
      createdAt: new Date(row.created_at),
    }));
  }

  /** Deletes one outbox message. */
  completeOutbox(id: string): void {
    this.#statements.completeOutbox.run(id);
  }

  /** Releases a message's lease and sets its next attempt time and last error. */
  retryOutbox(id: string, notBefore: Date, error: string): void {
    this.#statements.retryOutbox.run({ id, notBefore: notBefore.getTime(), error });
  }
}
