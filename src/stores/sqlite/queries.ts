/**
 * The synchronous SQL work of the SQLite store. Callers validate arguments, wrap errors and
 * run the writes inside a transaction.
 */

import type { Database } from "better-sqlite3";
import type {
  CommitResult,
  ConsentEvent,
  MessagePartGroup,
  MessagePartInput,
  OutboxEntry,
  OutboxMessage,
  StatusUpdate,
  StoredStatus,
} from "../../consent/types.js";
import { ALL_SENDERS, partGroupReuseAfterMs } from "../../consent/types.js";
import {
  type EventRow,
  insertEventRow,
  type OutboxRow,
  type PartGroupRow,
  type PartRow,
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
  completesPartGroup: string | undefined;
  statuses: StatusUpdate[];
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
    const seq = insertEventRow(this.#statements.insertEvent, event, Date.now(), receiptId);
    if (seq === undefined) {
      return false;
    }

    const { phone, sender, action } = event;
    const occurredAt = event.occurredAt.getTime();

    this.#statements.upsertState.run(
      phone,
      sender,
      action,
      occurredAt,
      seq,
      phone,
      action,
      occurredAt,
      seq,
    );
    return true;
  }

  /**
   * Writes a receipt with its events and outbox messages. Call it inside a write
   * transaction. The receipt id is inserted first, so a redelivery finds it and writes nothing.
   */
  insertReceipt(receipt: ReceiptSnapshot): CommitResult {
    const committedAt = Date.now();
    const { id, provider, receivedAt } = receipt;

    if (this.#isCompleted(receipt.completesPartGroup)) {
      return { duplicate: true };
    }

    const inserted = this.#statements.insertReceipt.run(id, provider, receivedAt, committedAt);
    if (inserted.changes === 0) {
      return { duplicate: true };
    }

    for (const event of receipt.events) {
      this.insertEvent(event, id);
    }

    for (const message of receipt.outbox) {
      this.#statements.insertOutbox.run({ ...message, receiptId: id, createdAt: committedAt });
    }

    if (receipt.completesPartGroup !== undefined) {
      const groupKey = receipt.completesPartGroup;

      this.#statements.completePartGroup.run({ groupKey, completedAt: committedAt });
    }

    if (receipt.statuses.length === 0) {
      return { duplicate: false };
    }

    const advanced = receipt.statuses.map((update) => {
      const { provider: owner, messageId, status, rank } = update;
      const occurredAt = update.occurredAt.getTime();

      return (
        this.#statements.advanceStatus.run({ provider: owner, messageId, status, rank, occurredAt })
          .changes > 0
      );
    });

    return { duplicate: false, advanced };
  }

  /** Reads the last status stored for a message. */
  deliveryStatus(provider: string, messageId: string): StoredStatus | undefined {
    const row = this.#statements.deliveryStatus.get(provider, messageId) as
      | { status: string; rank: number; occurred_at: number }
      | undefined;

    if (row === undefined) {
      return undefined;
    }

    return { status: row.status, rank: row.rank, occurredAt: new Date(row.occurred_at) };
  }

  /** Stores a part unless stored already. Call it inside a write transaction. */
  addMessagePart(part: MessagePartInput): MessagePartGroup {
    const parameters = {
      groupKey: part.groupKey,
      index: part.index,
      total: part.total,
      partId: part.partId,
      payload: part.payload,
      receivedAt: part.receivedAt.getTime(),
    };
    const existing = this.#statements.partGroup.get(part.groupKey) as PartGroupRow | undefined;

    if (existing !== undefined && this.#startsAnew(existing, part)) {
      this.#statements.deleteParts.run(part.groupKey);
      this.#statements.restartPartGroup.run(parameters);
    }

    this.#statements.insertPartGroup.run(parameters);
    this.#statements.insertPart.run(parameters);

    return this.#readPartGroup(this.#statements.partGroup.get(part.groupKey) as PartGroupRow);
  }

  #isCompleted(groupKey: string | undefined): boolean {
    if (groupKey === undefined) {
      return false;
    }

    const group = this.#statements.partGroup.get(groupKey) as PartGroupRow | undefined;

    return group !== undefined && group.completed_at !== null;
  }

  // A completed group starts anew for another message that reuses its reference.
  #startsAnew(group: PartGroupRow, part: MessagePartInput): boolean {
    if (group.completed_at === null) {
      return false;
    }

    const storedId = this.#statements.partAt.get(part.groupKey, part.index) as string | undefined;

    if (storedId !== undefined) {
      return storedId !== part.partId;
    }

    return part.receivedAt.getTime() - group.completed_at > partGroupReuseAfterMs;
  }

  /** Reads up to `limit` waiting groups whose first part arrived at or before `before`. */
  stalePartGroups(before: Date, limit: number): MessagePartGroup[] {
    const rows = this.#statements.stalePartGroups.all({
      before: before.getTime(),
      limit,
    }) as PartGroupRow[];

    return rows.map((row) => this.#readPartGroup(row));
  }

  #readPartGroup(row: PartGroupRow): MessagePartGroup {
    const parts = this.#statements.parts.all(row.group_key) as PartRow[];

    return {
      groupKey: row.group_key,
      total: row.total,
      parts: parts.map((part) => ({
        index: part.part_index,
        partId: part.part_id,
        payload: part.payload,
      })),
      firstReceivedAt: new Date(row.first_received_at),
      completed: row.completed_at !== null,
    };
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

    if (chunks.length === 1) {
      return new Set(this.#filterChunk(chunks[0] as string, scope));
    }

    const optedOut = new Set<string>();
    const readChunks = () => {
      for (const chunk of chunks) {
        for (const phone of this.#filterChunk(chunk, scope)) {
          optedOut.add(phone);
        }
      }
    };

    this.#db.transaction(readChunks)();

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

  /** Reads the sender rows of up to `limit` phones after `after`. */
  listSenderStates(after: string, limit: number): EventRow[] {
    return this.#statements.listSenderStates.all({ after, limit }) as EventRow[];
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

  /**
   * Moves a phone's events and derived rows to its pseudonym and deletes or rewrites the
   * rows that contain the number. Call it inside a write transaction. Returns the number of
   * events moved.
   */
  forget(phone: string, pseudonym: string, needle: string): number {
    const statements = this.#statements;
    const names = { phone, pseudonym };
    const moved = statements.eraseEvents.run(names).changes;

    statements.eraseState.run(names);
    statements.rebuildSenderState.run({ pseudonym });
    statements.rebuildPhoneState.run({ pseudonym });

    statements.eraseParts.run({ needle });
    statements.erasePartGroups.run({ needle });
    statements.eraseOutbox.run({ needle });

    statements.copyReceipts.run(names);
    statements.moveEventReceipts.run(names);
    statements.moveOutboxReceipts.run(names);
    statements.eraseReceipts.run({ phone });

    return moved;
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
