import type { CountryCode } from "libphonenumber-js";
import type { ConsentEvent, OptOutStore } from "../consent/types.js";
import type { KeywordClassification, KeywordOptions } from "../keywords/index.js";
import type { Logger } from "../logger.js";
import type {
  DeliveryReport,
  InboundMessage,
  Provider,
  SendResult,
  WebhookKind,
} from "../provider.js";

/** The rule by which consent checks read the log. */
export type OptOutScope = "global" | "sender";

/** Options of {@link Gateway}; validated once at construction. */
export interface GatewayOptions {
  /** Providers by name; the first one is used when a send names none. */
  providers: readonly Provider[];
  /** The store that keeps consent. */
  store: OptOutStore;
  /**
   * Region for numbers written without a country code. No region is assumed when absent,
   * so such numbers are rejected.
   */
  defaultRegion?: CountryCode | undefined;
  /**
   * `global`: an opt-out from any sender blocks every sender. `sender`: it blocks only the
   * sender it was sent to (or refused by).
   * @default "global"
   */
  optOutScope?: OptOutScope | undefined;
  /** Keyword classifier settings. */
  keywords?: KeywordOptions | undefined;
  /**
   * Origin (and optional path prefix) the providers call, such as `https://sms.example.com`.
   * When set, sends ask for delivery reports at `{publicUrl}/webhooks/{provider}/status`.
   */
  publicUrl?: string | undefined;
  /**
   * Texts sent back in the webhook response after a consent change. Absent by default, because
   * Twilio, Vonage and Plivo send their own confirmations.
   */
  replies?: { optOut?: string; optIn?: string; help?: string } | undefined;
  /** Write every webhook event to the store's outbox for forwarding. @default false */
  forwardEvents?: boolean | undefined;
  /**
   * Accept webhooks without checking their signature. Anyone who can reach the server can
   * then opt numbers in or out. @default false
   */
  insecureSkipSignatureVerification?: boolean | undefined;
  /** Receives diagnostics; nothing is logged by default. */
  logger?: Logger | undefined;
  /**
   * Key of the pseudonyms that erased numbers are kept under, at least 32 characters. When
   * set, the send guard also reads the recipient's pseudonym, so an erased number that
   * opted out stays blocked until the person opts in again.
   */
  pseudonymKey?: string | undefined;
}

/** A message the caller passes to {@link Gateway.send}. */
export interface SendRequest {
  /** Recipient in any form the normaliser accepts (E.164 recommended), or a short code. */
  to: string;
  body: string;
  /** Sender; the provider's configured default when absent. */
  from?: string | undefined;
  /** Provider name; the first configured provider when absent. */
  provider?: string | undefined;
  mediaUrls?: readonly string[] | undefined;
}

/** The outcome of one recipient in {@link Gateway.sendMany}. */
export type BulkSendResult =
  | { to: string; status: "sent"; result: SendResult }
  | { to: string; status: "opted-out" }
  | { to: string; status: "failed"; error: Error };

/** A reply the classifier could not decide, for a person to look at. */
export interface ReviewItem {
  message: InboundMessage;
  classification: KeywordClassification;
}

/** Events the gateway emits after the webhook that caused them was committed. */
export interface GatewayEvents {
  /** Every inbound message, with its classification. */
  inbound: [message: InboundMessage, classification: KeywordClassification];
  /**
   * A delivery report that moved its message forward. A report that arrives after a newer
   * one of the same message (`delivered` after `read`, `sent` after `failed`) is not emitted.
   */
  report: [report: DeliveryReport];
  /** A consent event was recorded with action `opt-out`. */
  "opt-out": [event: ConsentEvent];
  /** A consent event was recorded with action `opt-in`. */
  "opt-in": [event: ConsentEvent];
  /** A person asked for help. */
  help: [message: InboundMessage];
  /** A reply that mentions a keyword inside a sentence; nothing was changed. */
  review: [item: ReviewItem];
}

/** Options for one call of {@link Gateway.handleWebhook}. */
export interface HandleWebhookOptions {
  /** The route the webhook came in on: an incoming message or a delivery report. */
  kind: WebhookKind;
  /**
   * Logger for the lines about this webhook, such as a child logger that carries the
   * request id. The gateway's logger is used when absent.
   */
  logger?: Logger | undefined;
}
