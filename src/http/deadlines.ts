/**
 * Time limits of many concurrent operations on one timer. A CPU profile of
 * `bench/processes/sender.mjs` on a 2-core VM (Node 20) spent about 2 µs per request on an
 * `AbortController` with its own `setTimeout` and on the abort listener undici adds to its
 * signal. The whole send cost about 90 µs there. Every operation in a queue has the same
 * duration, so operations expire in the order they started, and only the oldest needs a
 * timer.
 *
 * @module
 */

/** An operation with a time limit, linked into a {@link DeadlineQueue} while it runs. */
export abstract class TimedOperation {
  /** `performance.now()` value at which the operation expires. */
  deadline = 0;
  /** Older neighbour in the queue. */
  older: TimedOperation | undefined = undefined;
  /** Newer neighbour in the queue. */
  newer: TimedOperation | undefined = undefined;
  /** Whether the operation is in a queue, which it leaves when it ends or expires. */
  queued = false;

  /** Ends the operation because its time limit passed. The queue removes it first. */
  abstract expire(): void;
}

/**
 * Operations with the same time limit, oldest first. Adding and removing an operation takes
 * constant time. One unreferenced timer, armed for the oldest deadline, expires operations,
 * so the queue never keeps the process alive. An operation expires no earlier than
 * `timeoutMs` after it was added and, apart from event-loop delays, within about a
 * millisecond after that.
 */
export class DeadlineQueue {
  /** Time limit of each operation, in milliseconds. */
  readonly timeoutMs: number;
  #oldest: TimedOperation | undefined;
  #newest: TimedOperation | undefined;
  #timer: NodeJS.Timeout | undefined;

  /** @param timeoutMs - Time limit of each operation, in milliseconds; at least 1. */
  constructor(timeoutMs: number) {
    this.timeoutMs = timeoutMs;
  }

  /** Starts the time limit of `operation`, which must not be queued already. */
  add(operation: TimedOperation): void {
    operation.deadline = performance.now() + this.timeoutMs;
    operation.older = this.#newest;
    operation.newer = undefined;
    operation.queued = true;

    if (this.#newest === undefined) {
      this.#oldest = operation;
    } else {
      this.#newest.newer = operation;
    }

    this.#newest = operation;

    // A queued operation always has a timer armed for the oldest deadline or earlier.
    if (this.#timer === undefined) {
      this.#arm(this.timeoutMs);
    }
  }

  /** Stops the time limit of `operation`; an operation that is not queued is ignored. */
  remove(operation: TimedOperation): void {
    if (!operation.queued) {
      return;
    }

    if (operation.older === undefined) {
      this.#oldest = operation.newer;
    } else {
      operation.older.newer = operation.newer;
    }

    if (operation.newer === undefined) {
      this.#newest = operation.older;
    } else {
      operation.newer.older = operation.older;
    }

    operation.older = undefined;
    operation.newer = undefined;
    operation.queued = false;
  }

  #arm(delayMs: number): void {
    this.#timer = setTimeout(this.#expireDue, delayMs);
    this.#timer.unref();
  }

  /**
   * Expires every operation whose deadline has passed and arms the timer for the next one.
   * The timer stays armed for a deadline that was removed, and then fires early, which
   * costs one call and expires nothing.
   */
  readonly #expireDue = (): void => {
    this.#timer = undefined;

    const now = performance.now();
    let oldest = this.#oldest;

    while (oldest !== undefined && oldest.deadline <= now) {
      this.remove(oldest);
      oldest.expire();
      oldest = this.#oldest;
    }

    if (oldest !== undefined && this.#timer === undefined) {
      this.#arm(Math.max(1, Math.ceil(oldest.deadline - now)));
    }
  };
}
