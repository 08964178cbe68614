/**
 * The SQL work of the PostgreSQL store, one method per read or write. Callers validate the
 * arguments and wrap the errors. Reads and single-statement writes run on the pool, and the
 * methods that take a client run inside a transaction of `runTransaction`.
 */

import type { Pool, PoolClient } from "pg";
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
import { Rollback, retryConflicts } from "./connection.js";
import {
  type EventRow,
  eventColumnArrays,
  type ListRow,
  type OutboxRow,
  type PartGroupRow,
  rowToPartGroup,
} from "./rows.js";
import type { StoreSql } from "./sql.js";

/** A webhook receipt as it will be written, copied from the caller's object. */
export interface ReceiptSnapshot {
  id: string;
  provider: string;
  receivedAt: Date;
  events: ConsentEvent[];
  outbox: OutboxMessage[];
  completesPartGroup: string | undefined;
  statuses: StatusUpdate[];
}

type Queryable = Pool | PoolClient;

/** Events per insert statement of one receipt. */
export const EVENT_CHUNK_SIZE = 5000;

function statusKey(update: StatusUpdate): string {
  return `${update.provider}\u0000${update.messageId}`;
}

// Indexes of `statuses` ordered by message, keeping the given order within one message, so
// that transactions lock status rows in one order.
function statusWriteOrder(statuses: readonly StatusUpdate[]): number[] {
  const keys = statuses.map(statusKey);
  const order = statuses.map((_, index) => index);

  return order.sort((a, b) => {
    const left = keys[a] ?? "";
    const right = keys[b] ?? "";

    if (left === right) {
      return a - b;
    }

    return left < right ? -1 : 1;
  });
}

/** The statements of one store, bound to its pool. */
export class PostgresQueries {
  readonly #pool: Pool;
  readonly #sql: StoreSql;

  constructor(pool: Pool, sql: StoreSql) {
    this.#pool = pool;
    this.#sql = sql;
  }

  /**
   * Appends events unless their ids exist and moves the derived state forward, in one
   * statement. Returns how many events were new.
   */
  async insertEvents(
    db: Queryable,
    events: readonly ConsentEvent[],
    receiptId: string | null,
  ): Promise<number> {
    const parameters = [...eventColumnArrays(events), receiptId];
    const result = await db.query<{ inserted: number }>(this.#sql.insertEvents, parameters);

    return result.rows[0]?.inserted ?? 0;
  }

  /** Records one event in its own single-statement transaction. */
  async recordEvent(event: ConsentEvent): Promise<boolean> {
    const inserted = await retryConflicts(() => this.insertEvents(this.#pool, [event], null));
    return inserted > 0;
  }

  /**
   * Writes a receipt with its events, outbox messages and statuses. The receipt id is
   * inserted first: a concurrent transaction with the same id waits on its unique key until
   * this one ends, then finds the conflict and writes nothing. A receipt for a part group
   * that is complete already rolls back.
   */
  async commitReceipt(
    client: PoolClient,
    receipt: ReceiptSnapshot,
  ): Promise<CommitResult | Rollback<CommitResult>> {
    const { id, provider, receivedAt } = receipt;
    const inserted = await client.query(this.#sql.insertReceipt, [id, provider, receivedAt]);
    if (inserted.rowCount === 0) {
      return { duplicate: true };
    }

    if (receipt.completesPartGroup !== undefined) {
      const parameters = [receipt.completesPartGroup, receivedAt];
      const completed = await client.query(this.#sql.completePartGroup, parameters);
      if (completed.rowCount === 0) {
        return new Rollback({ duplicate: true });
      }
    }

    // Large receipts, such as an import, are written in chunks, so that no statement
    // carries more than a few thousand rows or runs into the statement time-out.
    for (let start = 0; start < receipt.events.length; start += EVENT_CHUNK_SIZE) {
      const chunk = receipt.events.slice(start, start + EVENT_CHUNK_SIZE);
      await this.insertEvents(client, chunk, id);
    }

    await this.#insertOutbox(client, receipt.outbox, id);

    if (receipt.statuses.length === 0) {
      return { duplicate: false };
    }

    return { duplicate: false, advanced: await this.#advanceStatuses(client, receipt.statuses) };
  }

  async #insertOutbox(client: PoolClient, outbox: OutboxMessage[], receiptId: string) {
    if (outbox.length === 0) {
      return;
    }

    await client.query(this.#sql.insertOutbox, [
      outbox.map((message) => message.id),
      outbox.map((message) => message.type),
      outbox.map((message) => message.payload),
      receiptId,
    ]);
  }

  async #advanceStatuses(client: PoolClient, statuses: StatusUpdate[]): Promise<boolean[]> {
    const advanced = statuses.map(() => false);

    for (const index of statusWriteOrder(statuses)) {
      const update = statuses[index] as StatusUpdate;
      const { provider, messageId, status, rank, occurredAt } = update;
      const parameters = [provider, messageId, status, rank, occurredAt];

      const result = await client.query(this.#sql.advanceStatus, parameters);
      advanced[index] = result.rowCount === 1;
    }

    return advanced;
  }

  /** Reads the last status stored for a message. */
  async deliveryStatus(provider: string, messageId: string): Promise<StoredStatus | undefined> {
    const result = await this.#pool.query<{ status: string; rank: number; occurred_at: Date }>(
      this.#sql.deliveryStatus,
      [provider, messageId],
    );
    const row = result.rows[0];

    return row === undefined
      ? undefined
      : { status: row.status, rank: row.rank, occurredAt: row.occurred_at };
  }

  /**
   * Stores a part unless stored already. The group row is locked first, so parts of one
   * group that arrive at several servers at once are applied one after another.
   */
  async addMessagePart(client: PoolClient, part: MessagePartInput): Promise<MessagePartGroup> {
    const { groupKey, index, total, partId, payload, receivedAt } = part;
    await client.query(this.#sql.insertPartGroup, [groupKey, total, receivedAt]);
    const locked = await client.query<{ total: number; completed_at: Date | null }>(
      this.#sql.lockPartGroup,
      [groupKey],
    );
    let group = locked.rows[0] ?? { total, completed_at: null };

    const completedAt = group.completed_at;
    if (completedAt !== null && (await this.#startsAnew(client, part, completedAt))) {
      await client.query(this.#sql.deleteParts, [groupKey]);
      await client.query(this.#sql.restartPartGroup, [groupKey, total, receivedAt]);
      group = { total, completed_at: null };
    }

    // A part is kept only while its group waits, and only when its index fits the group.
    if (group.completed_at === null && index <= group.total) {
      const parameters = [groupKey, index, partId, payload, receivedAt];
      await client.query(this.#sql.insertPart, parameters);
    }

    const stored = await client.query<PartGroupRow>(this.#sql.partGroup, [groupKey]);
    return rowToPartGroup(stored.rows[0] as PartGroupRow);
  }

  // A completed group starts anew for another message that reuses its reference.
  async #startsAnew(client: PoolClient, part: MessagePartInput, completedAt: Date) {
    const stored = await client.query<{ part_id: string }>(this.#sql.partAt, [
      part.groupKey,
      part.index,
    ]);
    const storedId = stored.rows[0]?.part_id;

    if (storedId !== undefined) {
      return storedId !== part.partId;
    }

    return part.receivedAt.getTime() - completedAt.getTime() > partGroupReuseAfterMs;
  }

  /** Reads up to `limit` waiting groups whose first part arrived at or before `before`. */
  async stalePartGroups(before: Date, limit: number): Promise<MessagePartGroup[]> {
    const parameters = [before, limit];
    const result = await this.#pool.query<PartGroupRow>(this.#sql.stalePartGroups, parameters);

    return result.rows.map(rowToPartGroup);
  }

  /** Checks whether the phone is opted out in `scope`. */
  async isOptedOut(phone: string, scope: string): Promise<boolean> {
    const result =
      scope === ALL_SENDERS
        ? await this.#pool.query(this.#sql.isOptedOutAny, [phone])
        : await this.#pool.query(this.#sql.isOptedOutSender, [phone, scope]);

    return result.rows[0]?.opted_out === true;
  }

  /** Returns the opted-out phones among `phones`, in one query over an array parameter. */
  async filterOptedOut(phones: readonly string[], scope: string): Promise<Set<string>> {
    const unique = [...new Set(phones)];
    const result =
      scope === ALL_SENDERS
        ? await this.#pool.query<{ phone: string }>(this.#sql.filterAny, [unique])
        : await this.#pool.query<{ phone: string }>(this.#sql.filterSender, [unique, scope]);

    return new Set(result.rows.map((row) => row.phone));
  }

  /** Reads the event that decides the phone's state in `scope`, if any. */
  async decidingEvent(phone: string, scope: string): Promise<EventRow | undefined> {
    const result =
      scope === ALL_SENDERS
        ? await this.#pool.query<EventRow>(this.#sql.stateAny, [phone])
        : await this.#pool.query<EventRow>(this.#sql.stateSender, [phone, scope]);

    return result.rows[0];
  }

  /** Reads every event of the phone in commit sequence order. */
  async history(phone: string): Promise<EventRow[]> {
    return (await this.#pool.query<EventRow>(this.#sql.history, [phone])).rows;
  }

  /** Reads up to `limit` deciding opt-out events of phones after `after`, by phone. */
  async listOptedOut(scope: string, after: string, limit: number): Promise<ListRow[]> {
    const result =
      scope === ALL_SENDERS
        ? await this.#pool.query<ListRow>(this.#sql.listAny, [after, limit])
        : await this.#pool.query<ListRow>(this.#sql.listSender, [after, scope, limit]);

    return result.rows;
  }

  /** Reads the sender rows of up to `limit` phones after `after`. */
  async listSenderStates(after: string, limit: number): Promise<EventRow[]> {
    return (await this.#pool.query<EventRow>(this.#sql.listSenderStates, [after, limit])).rows;
  }

  /** Leases up to `limit` due messages for `leaseMs`, in creation order. */
  async claimOutbox(limit: number, leaseMs: number): Promise<OutboxEntry[]> {
    const result = await this.#pool.query<OutboxRow>(this.#sql.claimOutbox, [limit, leaseMs]);

    return result.rows.map((row) => ({
      id: row.id,
      type: row.type,
      payload: row.payload,
      attempts: row.attempts,
      createdAt: row.created_at,
    }));
  }

  /**
   * Moves a phone's events and derived rows to its pseudonym and deletes or rewrites the
   * rows that contain the number. Returns the number of events moved.
   */
  async forget(
    client: PoolClient,
    phone: string,
    pseudonym: string,
    needle: string,
  ): Promise<number> {
    const sql = this.#sql;
    const moved = await client.query(sql.eraseEvents, [phone, pseudonym]);

    await client.query(sql.eraseSenderState, [phone, pseudonym]);
    await client.query(sql.erasePhoneState, [phone, pseudonym]);
    await client.query(sql.rebuildSenderState, [pseudonym]);
    await client.query(sql.rebuildPhoneState, [pseudonym]);

    await client.query(sql.eraseParts, [needle]);
    await client.query(sql.erasePartGroups, [needle]);
    await client.query(sql.eraseOutbox, [needle]);

    await client.query(sql.copyReceipts, [phone, pseudonym]);
    await client.query(sql.moveEventReceipts, [phone, pseudonym]);
    await client.query(sql.moveOutboxReceipts, [phone, pseudonym]);
    await client.query(sql.eraseReceipts, [phone]);

    return moved.rowCount ?? 0;
  }

  /** Deletes one outbox message. */
  async completeOutbox(id: string): Promise<void> {
    await this.#pool.query(this.#sql.completeOutbox, [id]);
  }

  /** Releases a message's lease and sets its next attempt time and last error. */
  async retryOutbox(id: string, notBefore: Date, error: string): Promise<void> {
    await this.#pool.query(this.#sql.retryOutbox, [id, notBefore, error]);
  }
}
