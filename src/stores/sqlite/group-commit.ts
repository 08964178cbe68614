/**
 * Group commit: writes that arrive in the same event-loop turn are committed together in one
 * transaction, because with `synchronous = FULL` every commit waits for a disk flush and the
 * flush, not the SQL, limits throughput.
 */

/** Runs `work` inside one write transaction and returns when it has committed. */
export type RunInTransaction = (work: () => void) => void;

interface PendingWrite {
  work: () => unknown;
  resolve: (value: unknown) => void;
  reject: (error: unknown) => void;
}

/** Settings of a {@link GroupCommitQueue}. */
export interface GroupCommitOptions {
  runInTransaction: RunInTransaction;
  /** Maximum writes per transaction; the rest wait for the next turn. */
  maxBatchSize: number;
  /** Whether a failure concerns the whole database, so retrying other writes is pointless. */
  isDatabaseFailure: (error: unknown) => boolean;
}

/**
 * Queues synchronous writes and commits them in batches on `setImmediate`. Each promise
 * settles only after the transaction that contains its write has committed or failed.
 */
export class GroupCommitQueue {
  readonly #options: GroupCommitOptions;
  #pending: PendingWrite[] = [];
  #scheduled = false;
  #idleWaiters: Array<() => void> = [];

  constructor(options: GroupCommitOptions) {
    this.#options = options;
  }

  /** Queues `work` and returns its result once the transaction that ran it has committed. */
  enqueue<T>(work: () => T): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      this.#pending.push({ work, resolve: resolve as (value: unknown) => void, reject });
      this.#schedule();
    });
  }

  /** Resolves when every queued write has settled. */
  drain(): Promise<void> {
    if (this.#pending.length === 0 && !this.#scheduled) {
      return Promise.resolve();
    }

    return new Promise((resolve) => {
      this.#idleWaiters.push(resolve);
    });
  }

  #schedule(): void {
    if (this.#scheduled) {
      return;
    }

    this.#scheduled = true;
    setImmediate(() => {
      this.#flush();
    });
  }

  #flush(): void {
    this.#scheduled = false;
    const batch = this.#pending.splice(0, this.#options.maxBatchSize);
    this.#commitBatch(batch);

    if (this.#pending.length > 0) {
      this.#schedule();
      return;
    }

    const waiters = this.#idleWaiters;
    this.#idleWaiters = [];
    for (const resolve of waiters) {
      resolve();
    }
  }

  #commitBatch(batch: PendingWrite[]): void {
    const results: unknown[] = [];

    try {
      this.#options.runInTransaction(() => {
        for (const write of batch) {
          results.push(write.work());
        }
      });
    } catch (error) {
      this.#commitEach(batch, error);
      return;
    }

    batch.forEach((write, index) => {
      write.resolve(results[index]);
    });
  }

  // The batch was rolled back. Each write is retried in its own transaction, so that one
  // bad write fails alone. After a failure of the database itself (locked past the busy
  // timeout, disk full) the rest fail with it instead of each waiting the busy timeout.
  #commitEach(batch: PendingWrite[], batchError: unknown): void {
    if (batch.length === 1) {
      batch[0]?.reject(batchError);
      return;
    }

    let databaseFailure: { error: unknown } | undefined;

    for (const write of batch) {
      if (databaseFailure !== undefined) {
        write.reject(databaseFailure.error);
        continue;
      }

      try {
        let result: unknown;
        this.#options.runInTransaction(() => {
          result = write.work();
        });
        write.resolve(result);
      } catch (error) {
        write.reject(error);
        if (this.#options.isDatabaseFailure(error)) {
          databaseFailure = { error };
        }
      }
    }
  }
}
