import type { ProviderErrorReason } from "./errors.js";

/**
 * The kind of a sender or recipient identity. Only `e164` values are phone numbers in
 * international form; the others are kept exactly as the provider sent them.
 */
export type SenderKind = "e164" | "shortcode" | "alphanumeric" | "service" | "channel";

/** A sender or recipient: a phone number, short code, alphanumeric ID or messaging service. */
export interface SenderIdentity {
  kind: SenderKind;
  /** `+14155550100`, `55501`, `ACME`, `MG…`, or `whatsapp:+1…`. */
  value: string;
  /** ISO 3166 region, when known (for a short code, the region of the other party). */
  country?: string | undefined;
}

/** A message handed to {@link Provider.send} after the send guard has passed it. */
export interface OutboundMessage {
  /** Recipient in E.164 form, or a short code. */
  to: string;
  /** Sending number, short code or alphanumeric ID; the provider's default when absent. */
  from?: string | undefined;
  body: string;
  mediaUrls?: readonly string[] | undefined;
  /** URL the provider posts delivery reports for this message to. */
  statusCallbackUrl?: string | undefined;
}

/** Normalised delivery states, in the order a message moves through them. */
export const deliveryStatuses = [
  "unknown",
  "accepted",
  "queued",
  "sending",
  "sent",
  "delivered",
  "read",
  "undelivered",
  "failed",
  "canceled",
] as const;

/** One of {@link deliveryStatuses}. */
export type DeliveryStatus = (typeof deliveryStatuses)[number];

const statusRanks: Readonly<Record<DeliveryStatus, number>> = {
  unknown: 0,
  accepted: 1,
  queued: 2,
  sending: 3,
  sent: 4,
  delivered: 5,
  undelivered: 5,
  failed: 5,
  canceled: 5,
  read: 6,
};

/**
 * Orders delivery statuses so that a late callback never moves a message backwards.
 * Final outcomes share one rank, so the first one reported stays; only `read` follows.
 */
export function deliveryStatusRank(status: DeliveryStatus): number {
  return statusRanks[status] ?? 0;
}

/** The provider's acceptance of a message. */
export interface SendResult {
  provider: string;
  messageId: string;
  status: DeliveryStatus;
  to: string;
  /** The sender the provider used, when its response names it. */
  from?: string | undefined;
  /** Number of billed segments, when the response gives it. */
  segments?: number | undefined;
  /** The provider's response body as parsed JSON. */
  raw: unknown;
}

/** A webhook as it reached the server: the public URL, headers and the raw body bytes. */
export interface WebhookRequest {
  method: string;
  /**
   * The URL the provider called, as it would have been configured at the provider:
   * the public origin and prefix followed by the path and query as received.
   */
  url: string;
  headers: Headers;
  body: Uint8Array;
}

/** The HTTP response a provider expects for a webhook. */
export interface WebhookResponse {
  status: number;
  headers: Record<string, string>;
  body: string;
}

/** The route a webhook arrived on. */
export type WebhookKind = "inbound" | "status";

/** Consent intent as a provider flags it, or as the keyword classifier reads it. */
export type ConsentIntent = "opt-out" | "opt-in" | "help";

/** One attachment of an inbound message. */
export interface InboundMedia {
  url: string;
  contentType?: string | undefined;
}

/** Fields of one part of a multipart (concatenated) inbound SMS. */
export interface MessagePart {
  /** Reference shared by all parts, unique per sender. */
  reference: string;
  total: number;
  /** Position of this part, from 1. */
  index: number;
}

/** A message a person sent, normalised across providers. */
export interface InboundMessage {
  provider: string;
  messageId: string;
  /** The provider account the message belongs to (Twilio `AccountSid`), when given. */
  accountId?: string | undefined;
  from: SenderIdentity;
  to: SenderIdentity;
  /** Messaging service (Twilio `MessagingServiceSid`) the receiving number belongs to. */
  serviceId?: string | undefined;
  text: string;
  receivedAt: Date;
  /** Time the provider gives for sending the message, when the webhook carries one. */
  providerTime?: Date | undefined;
  media: InboundMedia[];
  segments?: number | undefined;
  /** The provider's own opt-out, opt-in or help flag (Twilio `OptOutType`). */
  providerIntent?: ConsentIntent | undefined;
  /** Set when this is one part of a longer message. */
  part?: MessagePart | undefined;
  /**
   * True for a multipart message delivered after waiting without all of its parts; `text`
   * is then the parts that arrived, in order.
   */
  incomplete?: boolean | undefined;
  /** Every field of the webhook; form fields keep repeated keys as arrays and empty values. */
  raw: Record<string, unknown>;
}

/** A status update for a message that was sent, normalised across providers. */
export interface DeliveryReport {
  provider: string;
  messageId: string;
  accountId?: string | undefined;
  status: DeliveryStatus;
  /** The provider's status value, unchanged. */
  providerStatus: string;
  errorCode?: string | undefined;
  /** Normalised reason for `errorCode`. */
  reason?: ProviderErrorReason | undefined;
  to?: SenderIdentity | undefined;
  from?: SenderIdentity | undefined;
  serviceId?: string | undefined;
  receivedAt: Date;
  providerTime?: Date | undefined;
  raw: Record<string, unknown>;
}

/** Everything a webhook carried. */
export interface ParsedWebhook {
  inbound: InboundMessage[];
  reports: DeliveryReport[];
}

/** Context the gateway gives a provider when it builds the webhook response. */
export interface WebhookReplyContext {
  kind: WebhookKind;
  /** Text to send back to the person in the same response, when the provider supports it. */
  replyText?: string | undefined;
  /** The inbound message the reply is for, when there is one. */
  message?: InboundMessage | undefined;
}

/**
 * The contract every provider module implements. A provider is constructed with its own
 * configuration (credentials, API base URL) and keeps no consent state.
 */
export interface Provider {
  /** Short lowercase name used in routes, events and consent records (`twilio`). */
  readonly name: string;

  /**
   * The sender used when a message names none: for Twilio the messaging service, else the
   * configured number.
   */
  readonly defaultSender?: string | undefined;

  /**
   * The sender identities whose opt-outs apply to this message. The first is the one the
   * provider itself blocks under: Twilio blocks per messaging service when one is used, else
   * per number. Defaults to the message's `from`, else {@link Provider.defaultSender}.
   */
  consentScopes?(message: OutboundMessage): string[];

  /**
   * Sends one message. Resolves with the provider's acceptance or rejects with a
   * `ProviderError` whose `reason` says why it was refused.
   */
  send(message: OutboundMessage): Promise<SendResult>;

  /**
   * Checks the webhook's signature over the raw body and the public URL. Rejects with a
   * `WebhookVerificationError` when the signature is missing, wrong or stale.
   */
  verifyWebhook(request: WebhookRequest): Promise<void>;

  /**
   * The nonce that the webhook's verified signature covers, for providers that send one.
   * The gateway calls it after `verifyWebhook` succeeded and rejects a request whose nonce
   * was committed before with another request, because a signature that does not cover
   * the whole request (Plivo V2) could otherwise authenticate a forged body. Returns
   * `undefined` when the request carries no nonce; throws nothing.
   */
  webhookNonce?(request: WebhookRequest): string | undefined;

  /**
   * Parses a verified webhook. Rejects with a `WebhookParseError` for a malformed body;
   * throws nothing else on any input.
   */
  parseWebhook(request: WebhookRequest, kind: WebhookKind): Promise<ParsedWebhook>;

  /** Builds the response the provider expects, such as TwiML for Twilio. */
  webhookResponse(context: WebhookReplyContext): WebhookResponse;

  /** Releases connection pools. */
  close?(): Promise<void>;
}
