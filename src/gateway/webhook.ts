import type { ConsentEvent, OutboxMessage, WebhookReceipt } from "../consent/types.js";
import {
  isInvalidRequestError,
  isWebhookParseError,
  isWebhookVerificationError,
} from "../errors.js";
import {
  deliveryStatusRank,
  type ParsedWebhook,
  type Provider,
  type WebhookKind,
  type WebhookRequest,
  type WebhookResponse,
} from "../provider.js";
import { decideInbound, type InboundDecision, reportEvent } from "./consent.js";
import { checkWebhookNonce, noNonce, readsNonce } from "./nonce.js";
import type { ResolvedGatewayOptions } from "./options.js";
import { type Assembly, assembleInbound, wholeMessages } from "./parts.js";

/** A verified, parsed and classified webhook, ready to commit. */
export interface WebhookPlan {
  provider: Provider;
  kind: WebhookKind;
  parsed: ParsedWebhook;
  decisions: InboundDecision[];
  receipt: WebhookReceipt;
}

/** The response to a webhook rejected before anything is committed. */
export interface EarlyAnswer {
  response: WebhookResponse;
}

/** Builds a response with a small JSON body, for errors the provider should see. */
export function jsonAnswer(status: number, error: string, message: string): WebhookResponse {
  return {
    status,
    headers: { "content-type": "application/json; charset=utf-8" },
    body: JSON.stringify({ error, message }),
  };
}

/**
 * Verifies, parses and classifies a webhook. Returns an early response for an unknown
 * provider (404), a bad signature (401 missing, 403 wrong) or a malformed body (400).
 */
export async function planWebhook(
  options: ResolvedGatewayOptions,
  providerName: string,
  request: WebhookRequest,
  kind: WebhookKind,
): Promise<WebhookPlan | EarlyAnswer> {
  const provider = options.providers.get(providerName);

  if (!provider) {
    return { response: jsonAnswer(404, "unknown-provider", `No provider "${providerName}"`) };
  }

  const rejection = await verify(options, provider, request);

  if (rejection) {
    return { response: rejection };
  }

  // The nonce is checked before anything is stored, multipart parts included.
  const nonceCheck = readsNonce(options, provider)
    ? await checkWebhookNonce(options, provider, request, jsonAnswer)
    : noNonce;

  if ("response" in nonceCheck) {
    return nonceCheck;
  }

  let parsed: ParsedWebhook;

  try {
    parsed = await provider.parseWebhook(request, kind);
  } catch (error) {
    return { response: parseFailure(options, provider, error) };
  }

  let assembly: Assembly;

  try {
    assembly =
      wholeMessages(parsed.inbound) ?? (await assembleInbound(options.store, parsed.inbound));
  } catch (error) {
    return { response: partFailure(options, provider, error) };
  }

  const plan = planParsed(
    options,
    provider,
    kind,
    { ...parsed, inbound: assembly.messages },
    assembly,
  );

  if (nonceCheck.nonce !== undefined) {
    plan.receipt.nonce = nonceCheck.nonce;
  }

  return plan;
}

/** Classifies parsed (and reassembled) messages and builds the receipt to commit. */
export function planParsed(
  options: ResolvedGatewayOptions,
  provider: Provider,
  kind: WebhookKind,
  parsed: ParsedWebhook,
  assembly: Omit<Assembly, "messages">,
): WebhookPlan {
  const decisions = parsed.inbound.map((message) => decideInbound(message, options.keywords));
  const receipt = buildReceipt(options, provider, kind, parsed, decisions);

  // A webhook carries one message, so a webhook with a part is identified by that part,
  // or by its whole message once the part completed it.
  if (assembly.receiptId !== undefined) {
    receipt.id = assembly.receiptId;
  }

  receipt.completesPartGroup = assembly.completesPartGroup;
  logUnrecorded(options, provider, parsed, decisions);

  return { provider, kind, parsed, decisions, receipt };
}

/**
 * Logs the parts of a webhook about consent that change nothing, so that they can be found.
 * One is a reply that mentions a keyword inside a sentence, which waits for a person to
 * review it. The other is a report of an opt-out without the recipient's number, which
 * cannot be recorded.
 */
function logUnrecorded(
  options: ResolvedGatewayOptions,
  provider: Provider,
  parsed: ParsedWebhook,
  decisions: InboundDecision[],
): void {
  for (const { message, classification, review } of decisions) {
    if (review) {
      options.logger.info(
        { provider: provider.name, messageId: message.messageId, keyword: classification.keyword },
        "reply mentions a keyword but is not read as one: nothing changed, review it",
      );
    }
  }

  for (const report of parsed.reports) {
    if (report.reason === "opted-out" && report.to === undefined) {
      options.logger.warn(
        { provider: provider.name, messageId: report.messageId, errorCode: report.errorCode },
        "delivery report says the recipient opted out but has no recipient number: not recorded",
      );
    }
  }
}

/** Builds the response to a committed webhook in the provider's format, with any reply. */
export function acceptedAnswer(
  options: ResolvedGatewayOptions,
  plan: WebhookPlan,
  duplicate: boolean,
): WebhookResponse {
  const replyText = duplicate ? undefined : confirmationText(options, plan.decisions);
  const message = plan.decisions[0]?.message;

  return plan.provider.webhookResponse({ kind: plan.kind, replyText, message });
}

async function verify(
  options: ResolvedGatewayOptions,
  provider: Provider,
  request: WebhookRequest,
): Promise<WebhookResponse | undefined> {
  if (options.insecureSkipSignatureVerification) {
    return undefined;
  }

  try {
    await provider.verifyWebhook(request);

    return undefined;
  } catch (error) {
    if (isWebhookVerificationError(error)) {
      const status = error.failure === "missing-signature" ? 401 : 403;

      options.logger.warn(
        // The query of a GET webhook contains its fields, phone numbers and text included.
        { provider: provider.name, failure: error.failure, url: request.url.split("?")[0] },
        "webhook rejected: signature check failed",
      );

      return jsonAnswer(status, error.failure, error.message);
    }

    // A verifier that fails in any other way must not let the request through.
    options.logger.error(
      { provider: provider.name, err: error },
      "webhook rejected: signature verifier failed",
    );

    return jsonAnswer(403, "invalid-signature", "The signature could not be verified");
  }
}

/**
 * The log fields of a webhook rejected for its content: the reason and code, without the
 * stack, which says nothing about a request that was expected to fail and would make each
 * line of a flood of bad requests long.
 */
function rejectionContext(
  provider: Provider,
  error: { message: string; code: string },
): Record<string, unknown> {
  return { provider: provider.name, reason: error.message, code: error.code };
}

function partFailure(
  options: ResolvedGatewayOptions,
  provider: Provider,
  error: unknown,
): WebhookResponse {
  if (isInvalidRequestError(error)) {
    options.logger.warn(rejectionContext(provider, error), "webhook rejected: bad part");

    return jsonAnswer(400, "invalid-webhook", error.message);
  }

  options.logger.error(
    { provider: provider.name, err: error },
    "webhook not acknowledged: a message part could not be stored",
  );

  return jsonAnswer(503, "store-unavailable", "The message part could not be stored; retry later");
}

function parseFailure(
  options: ResolvedGatewayOptions,
  provider: Provider,
  error: unknown,
): WebhookResponse {
  if (isWebhookParseError(error)) {
    options.logger.warn(rejectionContext(provider, error), "webhook rejected: malformed");

    return jsonAnswer(400, "invalid-webhook", error.message);
  }

  options.logger.error({ provider: provider.name, err: error }, "webhook parser failed");

  return jsonAnswer(400, "invalid-webhook", "The webhook body could not be parsed");
}

/**
 * Identifies the webhook across redeliveries: the inbound message ids, or the message id
 * with its status and error code for a delivery report, so each status counts once.
 */
function receiptId(provider: Provider, kind: WebhookKind, parsed: ParsedWebhook): string {
  let id = `${provider.name}:${kind}`;

  for (const message of parsed.inbound) {
    id += `|${message.accountId ?? "-"}:${message.messageId}`;
  }

  for (const report of parsed.reports) {
    id +=
      `|${report.accountId ?? "-"}:${report.messageId}:${report.providerStatus}:` +
      (report.errorCode ?? "");
  }

  return id;
}

function buildReceipt(
  options: ResolvedGatewayOptions,
  provider: Provider,
  kind: WebhookKind,
  parsed: ParsedWebhook,
  decisions: InboundDecision[],
): WebhookReceipt {
  const id = receiptId(provider, kind, parsed);
  const events = receiptEvents(parsed, decisions);
  const outbox = options.forwardEvents ? outboxMessages(id, parsed, decisions) : [];
  const statuses = parsed.reports.map((report) => ({
    provider: report.provider,
    messageId: report.messageId,
    status: report.status,
    rank: deliveryStatusRank(report.status),
    occurredAt: report.providerTime ?? report.receivedAt,
  }));

  return { id, provider: provider.name, events, outbox, receivedAt: new Date(), statuses };
}

/** Lists the consent events of the decisions, then those of the delivery reports. */
function receiptEvents(parsed: ParsedWebhook, decisions: InboundDecision[]): ConsentEvent[] {
  const events: ConsentEvent[] = [];

  for (const decision of decisions) {
    if (decision.event) {
      events.push(decision.event);
    }
  }

  for (const report of parsed.reports) {
    const event = reportEvent(report);

    if (event) {
      events.push(event);
    }
  }

  return events;
}

function outboxMessages(
  receiptId: string,
  parsed: ParsedWebhook,
  decisions: InboundDecision[],
): OutboxMessage[] {
  const entries: Array<[string, unknown]> = [];

  for (const decision of decisions) {
    entries.push([
      "inbound",
      { message: decision.message, classification: decision.classification },
    ]);

    if (decision.event) {
      entries.push([decision.event.action, decision.event]);
    }

    if (decision.review) {
      entries.push(["review", decision]);
    }

    if (decision.help) {
      entries.push(["help", decision.message]);
    }
  }

  for (const report of parsed.reports) {
    entries.push(["delivery-report", report]);

    const event = reportEvent(report);

    if (event) {
      entries.push([event.action, event]);
    }
  }

  return entries.map(([type, data], index) => ({
    id: `${receiptId}#${index}`,
    type,
    payload: JSON.stringify(data),
  }));
}

function confirmationText(
  options: ResolvedGatewayOptions,
  decisions: InboundDecision[],
): string | undefined {
  for (const decision of decisions) {
    if (decision.event?.action === "opt-out" && options.replies.optOut) {
      return options.replies.optOut;
    }

    if (decision.event?.action === "opt-in" && options.replies.optIn) {
      return options.replies.optIn;
    }

    if (decision.help && options.replies.help) {
      return options.replies.help;
    }
  }

  return undefined;
}
