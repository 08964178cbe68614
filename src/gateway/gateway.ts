import { EventEmitter } from "node:events";
import { describeValue } from "../consent/state.js";
import type { ConsentEvent, MessagePartGroup } from "../consent/types.js";
import {
  InvalidRequestError,
  isInvalidConsentEventError,
  isInvalidRequestError,
  redactPhone,
} from "../errors.js";
import { isLogger, type Logger } from "../logger.js";
import type { Provider, SendResult, WebhookRequest, WebhookResponse } from "../provider.js";
import { sendMany } from "./bulk.js";
import { replayedAnswer } from "./nonce.js";
import { type ResolvedGatewayOptions, resolveGatewayOptions } from "./options.js";
import { hasPartStore, joinParts, partReceiptId } from "./parts.js";
import { executeSend, prepareSend } from "./send.js";
import type {
  BulkSendResult,
  GatewayEvents,
  GatewayOptions,
  HandleWebhookOptions,
  SendRequest,
} from "./types.js";
import {
  acceptedAnswer,
  jsonAnswer,
  planParsed,
  planWebhook,
  type WebhookPlan,
} from "./webhook.js";

/**
 * The result of committing a webhook, shared with redeliveries that arrive while it runs.
 * `invalid` is set when the store rejected the receipt's content, which no retry can change.
 */
type CommitOutcome =
  | { ok: true; duplicate: boolean; replayed?: boolean }
  | { ok: false; invalid?: { message: string } };

/** A commit in progress, with the nonce its request carried. */
interface PendingCommit {
  outcome: Promise<CommitOutcome>;
  nonce: string | undefined;
}

/**
 * Sends messages through the consent guard and turns provider webhooks into consent
 * events. Emits {@link GatewayEvents} after the webhook that caused them was committed.
 *
 * @example
 * ```ts
 * const gateway = new Gateway({ providers: [twilio(options)], store: openSqliteStore({ path }) });
 * await gateway.send({ to: "+14155550100", body: "Your code is 1234" });
 * ```
 */
export class Gateway extends EventEmitter<GatewayEvents> {
  readonly #options: ResolvedGatewayOptions;
  /** Commits in progress by receipt id, so a concurrent copy waits for the first one. */
  readonly #inFlight = new Map<string, PendingCommit>();

  constructor(options: GatewayOptions) {
    super();
    this.#options = resolveGatewayOptions(options);
  }

  /** Returns the provider with this name, if configured. */
  provider(name: string): Provider | undefined {
    return this.#options.providers.get(name);
  }

  /**
   * Sends one message unless the recipient opted out.
   *
   * @throws `InvalidPhoneNumberError` when `to` is not a valid number or short code.
   * @throws `RecipientOptedOutError` when the recipient opted out; the provider is not called.
   * @throws `ConsentCheckError` when the store cannot be read; nothing is sent.
   * @throws `ProviderError` when the provider refuses. An `opted-out` refusal is recorded
   * first, so the next send is refused locally.
   */
  async send(request: SendRequest): Promise<SendResult> {
    const prepared = prepareSend(this.#options, request);

    return executeSend(this.#options, prepared, (event) => this.#recordRefusal(event));
  }

  /**
   * Sends to many recipients, checking all of them against the store in one call per scope.
   * Returns one result per request, in order, and throws for none of them.
   *
   * @throws `InvalidRequestError` when `requests` is not an array or `concurrency` is not a
   *   whole number of at least 1; nothing is sent.
   */
  async sendMany(
    requests: readonly SendRequest[],
    options: { concurrency?: number } = {},
  ): Promise<BulkSendResult[]> {
    const concurrency = checkBulkArguments(requests, options);

    return sendMany(this.#options, requests, concurrency, (event) => this.#recordRefusal(event));
  }

  /**
   * Runs a webhook through verification, parsing, classification and a durable commit, and
   * returns the HTTP response. Never throws: a bad signature gives 401 or 403, a malformed body
   * or content that the store rejects as invalid 400, an unknown provider 404, a store
   * failure 503 so that the provider retries, and a call without `options.kind` 500.
   */
  async handleWebhook(
    providerName: string,
    request: WebhookRequest,
    options: HandleWebhookOptions,
  ): Promise<WebhookResponse> {
    const invalid = invalidCall(request, options);

    if (invalid !== undefined) {
      this.#options.logger.error({ provider: providerName }, invalid);
      return jsonAnswer(500, "invalid-call", invalid);
    }

    const resolved = this.#withLogger(options.logger);

    try {
      const plan = await planWebhook(resolved, providerName, request, options.kind);

      if ("response" in plan) {
        return plan.response;
      }

      const outcome = await this.#commitOnce(plan, resolved.logger);

      if (!outcome.ok) {
        return outcome.invalid === undefined
          ? jsonAnswer(503, "store-unavailable", "The event could not be stored; retry later")
          : jsonAnswer(400, "invalid-webhook", outcome.invalid.message);
      }

      if (outcome.replayed) {
        return replayedAnswer(resolved, plan.provider, jsonAnswer);
      }

      if (outcome.duplicate) {
        logDuplicate(resolved.logger, plan);
      }

      return acceptedAnswer(resolved, plan, outcome.duplicate);
    } catch (error) {
      resolved.logger.error({ err: error, provider: providerName }, "webhook failed");

      return jsonAnswer(500, "internal-error", "The webhook could not be processed");
    }
  }

  /** The gateway's options with the logger of one webhook call, when it has one. */
  #withLogger(logger: Logger | undefined): ResolvedGatewayOptions {
    return logger === undefined ? this.#options : { ...this.#options, logger };
  }

  /**
   * Delivers multipart messages whose first part arrived more than `olderThanMs` ago and
   * whose other parts never came: each is classified on the text that arrived, flagged
   * `incomplete`, so that an opt-out in it is still honoured. Returns how many were
   * delivered. Servers call it on a timer; a store failure rejects, and the next call
   * retries.
   */
  async flushIncompleteMessages(olderThanMs: number, limit = 100): Promise<number> {
    const { store } = this.#options;

    if (!hasPartStore(store)) {
      return 0;
    }

    const groups = await store.stalePartGroups(new Date(Date.now() - olderThanMs), limit);
    let delivered = 0;

    for (const group of groups) {
      const plan = this.#incompletePlan(group);

      if (plan && (await this.#commitOnce(plan, this.#options.logger)).ok) {
        delivered += 1;
        this.#options.logger.warn(
          {
            provider: plan.provider.name,
            messageId: plan.parsed.inbound[0]?.messageId,
            parts: group.parts.length,
            total: group.total,
          },
          "multipart message delivered with parts missing",
        );
      }
    }

    return delivered;
  }

  /** Closes every provider's connections. The store is the caller's to close. */
  async close(): Promise<void> {
    await Promise.all([...this.#options.providers.values()].map((provider) => provider.close?.()));
  }

  /**
   * Commits a webhook's receipt once. A copy that arrives while the first is committing
   * waits for that commit and shares its outcome, so side effects happen once. A copy that
   * carries another nonce commits after it, as a duplicate, so that its nonce is kept too.
   * A copy of a request that was rejected as a replay commits after it as well.
   */
  #commitOnce(plan: WebhookPlan, logger: Logger): Promise<CommitOutcome> {
    const nonce = plan.receipt.nonce?.value;
    const pending = this.#inFlight.get(plan.receipt.id);

    if (pending === undefined) {
      return this.#commitTracked(plan, nonce, logger);
    }

    return this.#commitAfter(pending, plan, nonce, logger);
  }

  async #commitAfter(
    pending: PendingCommit,
    plan: WebhookPlan,
    nonce: string | undefined,
    logger: Logger,
  ): Promise<CommitOutcome> {
    const outcome = await pending.outcome;

    if (!outcome.ok) {
      return outcome;
    }

    if (!outcome.replayed && pending.nonce === nonce) {
      return { ok: true, duplicate: true };
    }

    return this.#commitTracked(plan, nonce, logger);
  }

  /**
   * Commits and keeps the commit in the in-flight map until it settles. The entry is
   * removed by a reaction registered before the caller's, so a caller that resumes after
   * the commit finds it removed.
   */
  #commitTracked(
    plan: WebhookPlan,
    nonce: string | undefined,
    logger: Logger,
  ): Promise<CommitOutcome> {
    const { id } = plan.receipt;
    const outcome = this.#commit(plan, logger);
    const entry = { outcome, nonce };
    const untrack = (): void => {
      if (this.#inFlight.get(id) === entry) {
        this.#inFlight.delete(id);
      }
    };

    this.#inFlight.set(id, entry);
    outcome.then(untrack, untrack);

    return outcome;
  }

  async #commit(plan: WebhookPlan, logger: Logger): Promise<CommitOutcome> {
    try {
      const result = await this.#options.store.commitWebhook(plan.receipt);
      const { duplicate, advanced } = result;

      if (result.replayed) {
        return { ok: true, duplicate: false, replayed: true };
      }

      if (!duplicate) {
        this.#emitPlan(plan, advanced);
      }

      return { ok: true, duplicate };
    } catch (error) {
      const context = { err: error, provider: plan.provider.name, receipt: plan.receipt.id };

      // A retry of the same request would be rejected again, so the provider gets a 400
      // instead of a 503 that it would retry until it gives up.
      if (isInvalidConsentEventError(error) || isInvalidRequestError(error)) {
        logger.warn(context, "webhook rejected: the store rejected its content");

        return { ok: false, invalid: { message: error.message } };
      }

      logger.error(context, "webhook not acknowledged: the store failed");

      return { ok: false };
    }
  }

  #emitPlan(plan: WebhookPlan, advanced: boolean[] | undefined): void {
    for (const decision of plan.decisions) {
      this.#emitSafely("inbound", decision.message, decision.classification);

      if (decision.help) {
        this.#emitSafely("help", decision.message);
      }

      if (decision.review) {
        this.#emitSafely("review", {
          message: decision.message,
          classification: decision.classification,
        });
      }
    }

    // A report that arrives after a newer one of the same message is stale, as the store
    // reports, and it is not emitted. Its opt-out, if it carries one, is still recorded.
    plan.parsed.reports.forEach((report, index) => {
      if (advanced?.[index] !== false) {
        this.#emitSafely("report", report);
      }
    });

    for (const event of plan.receipt.events) {
      this.#emitSafely(event.action, event);
    }
  }

  #incompletePlan(group: MessagePartGroup): WebhookPlan | undefined {
    const message = joinParts(group);
    const provider = this.#options.providers.get(message.provider);

    if (!provider) {
      this.#options.logger.warn(
        { provider: message.provider, group: group.groupKey },
        "message parts of an unconfigured provider were left waiting",
      );

      return undefined;
    }

    return planParsed(
      this.#options,
      provider,
      "inbound",
      { inbound: [message], reports: [] },
      { completesPartGroup: group.groupKey, receiptId: partReceiptId(group) },
    );
  }

  /** Records an opt-out learned from a refusal, as a receipt so it is forwarded too. */
  async #recordRefusal(event: ConsentEvent): Promise<void> {
    const outbox = this.#options.forwardEvents
      ? [{ id: `${event.id}#0`, type: event.action, payload: JSON.stringify(event) }]
      : [];

    try {
      await this.#options.store.commitWebhook({
        id: event.id,
        provider: event.provider ?? "unknown",
        events: [event],
        outbox,
        receivedAt: event.occurredAt,
      });
      this.#emitSafely("opt-out", event);
    } catch (error) {
      // NOTE: the refusal is still raised to the caller, and the provider keeps refusing,
      // so the next send learns the opt-out again.
      this.#options.logger.error(
        { err: error, phone: redactPhone(event.phone), provider: event.provider },
        "opt-out from a provider refusal could not be recorded",
      );
    }
  }

  /** Emits an event; a listener that throws is logged and does not affect the webhook. */
  #emitSafely<K extends keyof GatewayEvents>(name: K, ...args: GatewayEvents[K]): void {
    try {
      // @ts-expect-error -- TypeScript cannot relate a generic key to the rest tuple here.
      this.emit(name, ...args);
    } catch (error) {
      this.#options.logger.error({ err: error, event: name }, "gateway event listener failed");
    }
  }
}

/** Default number of sends that `sendMany` runs at a time. */
const defaultBulkConcurrency = 8;

/** Checks the arguments of `sendMany` and returns the concurrency to use. */
function checkBulkArguments(requests: unknown, options: { concurrency?: unknown }): number {
  if (!Array.isArray(requests)) {
    const type = requests === null ? "null" : typeof requests;

    throw new InvalidRequestError(`sendMany() needs an array of send requests (received ${type})`);
  }

  const concurrency = options?.concurrency ?? defaultBulkConcurrency;

  if (typeof concurrency !== "number" || !Number.isInteger(concurrency) || concurrency < 1) {
    throw new InvalidRequestError(
      `sendMany() option concurrency must be a whole number of at least 1 (received ` +
        `${typeof concurrency === "number" ? String(concurrency) : typeof concurrency}); ` +
        `omit it to send ${defaultBulkConcurrency} at a time`,
    );
  }

  return concurrency;
}

/**
 * Checks the request and options of a `handleWebhook()` call, which callers in JavaScript
 * can leave out or get wrong, and returns what is wrong with them.
 */
function invalidCall(
  request: WebhookRequest | undefined,
  options: HandleWebhookOptions | undefined,
): string | undefined {
  const problem = requestProblem(request);

  if (problem !== undefined) {
    return (
      `handleWebhook() needs a request with method, url, headers (a Headers object) and ` +
      `body (a Uint8Array of the raw bytes), but ${problem}`
    );
  }

  const kind = (options as Partial<HandleWebhookOptions> | undefined)?.kind;

  if (kind !== "inbound" && kind !== "status") {
    return (
      'handleWebhook() needs options.kind, "inbound" or "status", from the route ' +
      `(received ${describeValue(kind)})`
    );
  }

  const logger = options?.logger;

  if (logger !== undefined && !isLogger(logger)) {
    return (
      "handleWebhook() options.logger must have the methods debug, info, warn and error, as " +
      "a pino logger has; omit it to use the gateway's logger"
    );
  }

  return undefined;
}

/** Describes what the request of a `handleWebhook()` call lacks, or returns undefined. */
function requestProblem(request: unknown): string | undefined {
  if (typeof request !== "object" || request === null) {
    return `received ${describeValue(request)}`;
  }

  const { method, url, headers, body } = request as Partial<Record<string, unknown>>;

  if (typeof method !== "string" || typeof url !== "string") {
    return "its method or url is not a string";
  }

  if (typeof (headers as Headers | undefined)?.get !== "function") {
    return "its headers have no get() method";
  }

  return body instanceof Uint8Array ? undefined : "its body is not a Uint8Array";
}

/**
 * Logs a webhook whose receipt was committed before, a redelivery or a copy that arrived
 * at the same time, so that a reply which changed nothing can be traced. The line names the
 * message ids, never the phone numbers.
 */
function logDuplicate(logger: Logger, plan: WebhookPlan): void {
  const { inbound, reports } = plan.parsed;
  const messageIds = [...inbound, ...reports].map((item) => item.messageId);

  logger.info(
    { provider: plan.provider.name, kind: plan.kind, messageIds },
    "webhook already recorded: nothing changed",
  );
}
