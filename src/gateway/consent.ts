import { findOccurredAtProblem } from "../consent/event-time.js";
import type { ConsentEvent } from "../consent/types.js";
import {
  classifyKeywords,
  type KeywordClassification,
  type KeywordOptions,
} from "../keywords/index.js";
import type { ConsentIntent, DeliveryReport, InboundMessage } from "../provider.js";

/** The pipeline's decision about one inbound message. */
export interface InboundDecision {
  message: InboundMessage;
  classification: KeywordClassification;
  /** The consent event to record, when the message changes consent. */
  event?: ConsentEvent | undefined;
  /** True when the message mentions a keyword inside a sentence and needs a person. */
  review: boolean;
  /** True when the person asked for help. */
  help: boolean;
}

/**
 * Classifies an inbound message: the provider's own flag first, because the provider may
 * have custom keywords configured, then the keyword classifier.
 */
export function decideInbound(message: InboundMessage, keywords: KeywordOptions): InboundDecision {
  const ownReading = classifyKeywords(message.text, keywords);
  const classification = message.providerIntent
    ? flaggedClassification(message.providerIntent, message.text, ownReading)
    : ownReading;
  const acts = classification.match === "exact" || classification.match === "phrase";
  const intent = acts ? classification.intent : null;
  const decision: InboundDecision = {
    message,
    classification,
    review: classification.match === "ambiguous",
    help: intent === "help",
  };

  if (intent === "opt-out" || intent === "opt-in") {
    decision.event = inboundEvent(message, intent, classification);
  }

  return decision;
}

/** Builds the opt-out a delivery report carries when the recipient opted out at the provider. */
export function reportEvent(report: DeliveryReport): ConsentEvent | undefined {
  if (report.reason !== "opted-out" || report.to === undefined) {
    return undefined;
  }

  const sender = report.serviceId ?? report.from?.value;

  return {
    id: `${report.provider}:${report.accountId ?? "-"}:${report.messageId}:refusal`,
    phone: report.to.value,
    action: "opt-out",
    sender: sender ?? "*",
    source: "provider-refusal",
    provider: report.provider,
    messageId: report.messageId,
    providerCode: report.errorCode,
    occurredAt: eventTime(report.providerTime, report.receivedAt),
  };
}

/**
 * Returns the provider's time of an event, or the time of receipt when the provider gives
 * none, a later one or one before 1990. The time of receipt is capped at this machine's
 * clock, because the server that received a message part may have a clock that runs ahead.
 * The newest event decides, so a time ahead of the clock would outvote the person's next
 * reply, and stores reject one more than 5 minutes ahead or before 1990 on every retry.
 */
function eventTime(providerTime: Date | undefined, receivedAt: Date): Date {
  const now = new Date();
  const received = receivedAt <= now ? receivedAt : now;
  const usable =
    providerTime !== undefined &&
    providerTime <= received &&
    findOccurredAtProblem(providerTime, now) === undefined;

  if (!usable) {
    return received;
  }

  return latestInSecond(providerTime, received);
}

/**
 * Returns the end of the second of a provider time in whole seconds, such as Vonage's, but
 * no later than the receipt. Such a time only places the event within that second. So the
 * events of one second keep the order they arrived in, and a STOP received after an opt-in
 * of the same second, such as one from the command line, outvotes it. A time with milliseconds
 * is returned as it is.
 */
function latestInSecond(providerTime: Date, received: Date): Date {
  const time = providerTime.getTime();

  if (time % 1000 !== 0) {
    return providerTime;
  }

  return new Date(Math.min(time + 999, received.getTime()));
}

/** Longest reply text kept as the keyword of a provider-flagged event. */
const maxFlaggedKeywordLength = 64;

/**
 * Trusts the provider's flag. The keyword is the classifier's when both agree, else the
 * reply itself, because the provider matched a keyword of its own configuration.
 */
function flaggedClassification(
  intent: ConsentIntent,
  text: string,
  ownReading: KeywordClassification,
): KeywordClassification {
  if (ownReading.intent === intent && ownReading.keyword !== undefined) {
    return { intent, match: "exact", keyword: ownReading.keyword };
  }

  const keyword = text.trim().slice(0, maxFlaggedKeywordLength).toUpperCase();

  return { intent, match: "exact", keyword: keyword || undefined };
}

function inboundEvent(
  message: InboundMessage,
  action: "opt-out" | "opt-in",
  classification: KeywordClassification,
): ConsentEvent {
  return {
    id: `${message.provider}:${message.accountId ?? "-"}:${message.messageId}:${action}`,
    phone: message.from.value,
    action,
    sender: message.serviceId ?? message.to.value,
    source: message.providerIntent ? "provider-flag" : "keyword",
    provider: message.provider,
    messageId: message.messageId,
    text: message.text,
    keyword: classification.keyword,
    occurredAt: eventTime(message.providerTime, message.receivedAt),
  };
}
