/**
 * The outbox worker: posts every event the gateway wrote to the store's outbox to the
 * application at `forward.url`, retrying until the application accepts it.
 *
 * ## What the application receives
 *
 * One `POST` per event, with this JSON body (UTF-8):
 *
 * ```json
 * { "id": "…", "type": "inbound", "data": { … }, "attempt": 1 }
 * ```
 *
 * - `id` is unique per event and stays the same on every attempt, so use it to ignore
 *   repeats: delivery is at least once.
 * - `type` is the event type (`inbound`, `delivery-report`, `opt-out`, `opt-in`, ...).
 * - `data` is the event itself; `attempt` counts from 1.
 *
 * Headers: `content-type: application/json`, `x-smsgate-event-id` (the id),
 * `x-smsgate-event-type` (the type) and `x-smsgate-signature: t=<unix seconds>,v1=<hex>`.
 *
 * ## Checking the signature, in any language
 *
 * 1. Split the header on `,` and each part on the first `=`. Take `t` and every `v1`
 *    (more than one `v1` may appear; ignore keys you do not know).
 * 2. Compute HMAC-SHA256 with the shared secret as key over the bytes of
 *    `<t>.<raw body>`: the decimal `t`, a full stop, then the request body exactly as
 *    received, before any JSON parsing.
 * 3. Hex-encode the digest (lowercase) and compare it with each `v1` in constant time.
 * 4. Reject the request unless one matches and `t` is within five minutes of your
 *    clock, so that a captured request cannot be replayed later.
 *
 * Respond with any 2xx status once the event is stored. Any other status, a timeout or a
 * connection error makes smsgate try again after 1 s, 2 s, 4 s and so on, up to 5 minutes
 * between attempts (each delay varied by up to a quarter, and at least the `Retry-After`
 * of a response), until `maxAttempts`.
 *
 * @module
 */

import { type Dispatcher, request } from "undici";
import type { OutboxEntry, OutboxStore } from "../consent/types.js";
import { signForwardBody } from "../http/forward-signature.js";
import type { Logger } from "../logger.js";

export { signForwardBody, verifyForwardSignature } from "../http/forward-signature.js";

/** Options of {@link startForwarder}. */
export interface ForwarderOptions {
  /** URL the events are posted to. */
  url: string;
  /** HMAC-SHA256 key of the `x-smsgate-signature` header. */
  secret: string;
  /** Attempts per event before it is left in the outbox and reported as failed. */
  maxAttempts: number;
  /** Time allowed for one post, in milliseconds. */
  timeoutMs: number;
  logger: Logger;
  /** undici dispatcher for the posts, such as an `Agent` with custom TLS settings. */
  dispatcher?: Dispatcher | undefined;
  /** How often the outbox is checked without a poke, in milliseconds. @default 500 */
  intervalMs?: number | undefined;
  /** Entries claimed and posted at once. @default 10 */
  batchSize?: number | undefined;
}

/** A running outbox worker. */
export interface Forwarder {
  /** Checks the outbox now, such as right after a webhook was committed. */
  poke(): void;
  /** Stops claiming and resolves once the posts in flight have finished. */
  stop(): Promise<void>;
}

const firstRetryMs = 1000;
const maxRetryMs = 5 * 60 * 1000;

// OutboxStore has no state for an event that ran out of attempts, so such an event is
// rescheduled to this date: it stays stored, unsent, and is not claimed again.
// NOTE: moving it back into the queue takes an edit of the store by hand.
const parkedUntil = new Date("9999-12-31T23:59:59.000Z");

/**
 * Returns the delay before attempt `failedAttempts + 1`: 1 s after the first failure,
 * doubling each time up to 5 minutes, varied at random by up to a quarter either way,
 * and never shorter than `minimumMs` (a `Retry-After`), capped at 5 minutes.
 */
export function retryDelayMs(
  failedAttempts: number,
  minimumMs = 0,
  random: () => number = Math.random,
): number {
  const exponent = Math.min(Math.max(failedAttempts - 1, 0), 30);
  const base = Math.min(firstRetryMs * 2 ** exponent, maxRetryMs);
  const jittered = base * (0.75 + random() * 0.5);

  return Math.round(Math.min(Math.max(jittered, minimumMs), maxRetryMs));
}

/** Builds the JSON body of one post; throws when the stored payload is not JSON. */
function forwardBody(entry: OutboxEntry, attempt: number): string {
  const data: unknown = JSON.parse(entry.payload);
  return JSON.stringify({ id: entry.id, type: entry.type, data, attempt });
}

type PostOutcome = { ok: true } | { ok: false; error: string; retryAfterMs: number };

/** Reads `Retry-After` (seconds or an HTTP date) as milliseconds from now. */
function retryAfterMs(value: string | string[] | undefined): number {
  const text = Array.isArray(value) ? value[0] : value;
  if (text === undefined) {
    return 0;
  }

  if (/^\d+$/.test(text.trim())) {
    return Number(text.trim()) * 1000;
  }

  const date = Date.parse(text);
  return Number.isNaN(date) ? 0 : Math.max(date - Date.now(), 0);
}

function describeError(error: unknown): string {
  if (!(error instanceof Error)) {
    return String(error);
  }

  const code = (error as { code?: unknown }).code;
  const cause = error.cause instanceof Error ? `: ${error.cause.message}` : "";
  return `${typeof code === "string" ? `${code} ` : ""}${error.message}${cause}`;
}

class OutboxForwarder implements Forwarder {
  readonly #store: OutboxStore;
  readonly #options: ForwarderOptions;
  readonly #timer: NodeJS.Timeout;
  readonly #batchSize: number;
  readonly #leaseMs: number;
  #running: Promise<void> | undefined;
  #pokedWhileRunning = false;
  #stopped = false;
  #claimFailures = 0;
  #lastClaimErrorLog = 0;

  constructor(store: OutboxStore, options: ForwarderOptions) {
    this.#store = store;
    this.#options = options;
    this.#batchSize = options.batchSize ?? 10;
    // The lease outlasts one post and the store write after it, so no other worker
    // claims an entry while it is in flight.
    this.#leaseMs = options.timeoutMs * 2 + 5000;
    this.#timer = setInterval(() => this.poke(), options.intervalMs ?? 500);
    this.#timer.unref();
  }

  poke(): void {
    if (this.#stopped) {
      return;
    }

    if (this.#running) {
      this.#pokedWhileRunning = true;
      return;
    }

    this.#running = this.#drain().finally(() => {
      this.#running = undefined;
      if (this.#pokedWhileRunning) {
        this.#pokedWhileRunning = false;
        this.poke();
      }
    });
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    clearInterval(this.#timer);

    while (this.#running) {
      await this.#running;
    }
  }

  /** Claims and posts batches until the outbox has nothing due. */
  async #drain(): Promise<void> {
    while (!this.#stopped) {
      const entries = await this.#claim();
      if (entries.length === 0) {
        return;
      }

      await Promise.all(entries.map((entry) => this.#deliver(entry)));

      if (entries.length < this.#batchSize) {
        return;
      }
    }
  }

  async #claim(): Promise<OutboxEntry[]> {
    try {
      const entries = await this.#store.claimOutbox(this.#batchSize, this.#leaseMs);
      if (this.#claimFailures > 0) {
        this.#options.logger.info(
          { failures: this.#claimFailures },
          "Reading the forwarding outbox works again",
        );
        this.#claimFailures = 0;
      }

      return entries;
    } catch (error) {
      this.#reportClaimFailure(error);
      return [];
    }
  }

  /** Logs a failed claim at most once a minute, with the count of failures. */
  #reportClaimFailure(error: unknown): void {
    this.#claimFailures += 1;
    const now = Date.now();
    if (this.#claimFailures > 1 && now - this.#lastClaimErrorLog < 60_000) {
      return;
    }

    this.#lastClaimErrorLog = now;
    this.#options.logger.error(
      { err: error, failures: this.#claimFailures },
      "Reading the forwarding outbox failed; retrying",
    );
  }

  async #deliver(entry: OutboxEntry): Promise<void> {
    // Stores count a claim as an attempt, so `attempts` includes this one.
    const attempt = Math.max(entry.attempts, 1);
    const context = { eventId: entry.id, eventType: entry.type, attempt };

    let body: string;
    try {
      body = forwardBody(entry, attempt);
    } catch (error) {
      this.#options.logger.error(
        { ...context, err: error },
        "Outbox event payload is not valid JSON; it stays in the outbox unsent",
      );
      await this.#reschedule(entry, parkedUntil, "payload is not valid JSON");
      return;
    }

    const outcome = await this.#post(entry, body);
    if (outcome.ok) {
      await this.#complete(entry, context);
      return;
    }

    await this.#handleFailure(entry, attempt, outcome);
  }

  async #complete(entry: OutboxEntry, context: Record<string, unknown>): Promise<void> {
    try {
      await this.#store.completeOutbox(entry.id);
      this.#options.logger.debug(context, "Forwarded event");
    } catch (error) {
      // The lease runs out and the event is posted again; the id lets the app skip it.
      this.#options.logger.error(
        { ...context, err: error },
        "Forwarded event, but removing it from the outbox failed; it will be posted again",
      );
    }
  }

  async #handleFailure(
    entry: OutboxEntry,
    attempt: number,
    outcome: { error: string; retryAfterMs: number },
  ): Promise<void> {
    const context = { eventId: entry.id, eventType: entry.type, attempt, error: outcome.error };
    if (attempt >= this.#options.maxAttempts) {
      this.#options.logger.error(
        { ...context, maxAttempts: this.#options.maxAttempts },
        "Forwarding failed on the last attempt; the event stays in the outbox unsent",
      );
      await this.#reschedule(entry, parkedUntil, outcome.error);
      return;
    }

    const delay = retryDelayMs(attempt, outcome.retryAfterMs);
    this.#options.logger.warn({ ...context, retryInMs: delay }, "Forwarding failed; will retry");
    await this.#reschedule(entry, new Date(Date.now() + delay), outcome.error);
  }

  async #reschedule(entry: OutboxEntry, notBefore: Date, error: string): Promise<void> {
    try {
      await this.#store.retryOutbox(entry.id, notBefore, error);
    } catch (storeError) {
      this.#options.logger.error(
        { eventId: entry.id, err: storeError },
        "Scheduling a forwarding retry failed; the event is retried when its lease ends",
      );
    }
  }

  async #post(entry: OutboxEntry, body: string): Promise<PostOutcome> {
    const { url, secret, timeoutMs, dispatcher } = this.#options;
    const headers = {
      "content-type": "application/json",
      "user-agent": "smsgate-forwarder",
      "x-smsgate-event-id": entry.id,
      "x-smsgate-event-type": entry.type,
      "x-smsgate-signature": signForwardBody(secret, body),
    };

    try {
      const response = await request(url, {
        method: "POST",
        headers,
        body,
        signal: AbortSignal.timeout(timeoutMs),
        ...(dispatcher ? { dispatcher } : {}),
      });
      await response.body.dump();

      if (response.statusCode >= 200 && response.statusCode < 300) {
        return { ok: true };
      }

      const wait = retryAfterMs(response.headers["retry-after"]);
      return { ok: false, error: `HTTP ${response.statusCode}`, retryAfterMs: wait };
    } catch (error) {
      return { ok: false, error: describeError(error), retryAfterMs: 0 };
    }
  }
}

/**
 * Starts the outbox worker. It claims due entries every `intervalMs` and on
 * {@link Forwarder.poke}, posts each one signed with `secret`, deletes it after a 2xx
 * response and reschedules it with exponential backoff otherwise. An event that fails
 * `maxAttempts` times is logged as an error and kept in the outbox; none is deleted unsent.
 */
export function startForwarder(store: OutboxStore, options: ForwarderOptions): Forwarder {
  const forwarder = new OutboxForwarder(store, options);
  forwarder.poke();
  return forwarder;
}
