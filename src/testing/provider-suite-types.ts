import type { ProviderErrorReason } from "../errors.js";
import type {
  ConsentIntent,
  DeliveryStatus,
  OutboundMessage,
  Provider,
  WebhookRequest,
} from "../provider.js";
import type { RecordedRequest } from "./fake-api.js";

/** The normalised fields an inbound fixture must parse to. */
export interface ExpectedInbound {
  messageId: string;
  /** `from.value` of the message, such as `+14155550100`. */
  from: string;
  /** `to.value` of the message. */
  to: string;
  text: string;
  /** The provider's own flag. Absent means the message must carry none. */
  providerIntent?: ConsentIntent | undefined;
}

/** The normalised fields a status fixture must parse to. */
export interface ExpectedReport {
  messageId: string;
  status: DeliveryStatus;
  /** The provider's error code. Absent means the report must carry none. */
  errorCode?: string | undefined;
  /** The normalised reason. Absent means the report must carry none. */
  reason?: ProviderErrorReason | undefined;
  /** `to.value`, the recipient of the message, checked when given. */
  to?: string | undefined;
  /** `from.value`, the sender of the message, checked when given. */
  from?: string | undefined;
}

/** A recorded inbound webhook, unsigned, with the fields it must parse to. */
export interface InboundFixture {
  /** Short label used in assertion messages, such as `STOP reply`. */
  name: string;
  kind: "inbound";
  request: WebhookRequest;
  expected: ExpectedInbound;
}

/** A recorded status webhook, unsigned, with the fields it must parse to. */
export interface StatusFixture {
  name: string;
  kind: "status";
  request: WebhookRequest;
  expected: ExpectedReport;
}

/** One recorded webhook of either kind. */
export type WebhookFixture = InboundFixture | StatusFixture;

/**
 * Ways to break a signed webhook. Each takes a request that `sign` produced (or, for
 * `staleTimestamp`, an unsigned fixture) and returns the broken request.
 */
export interface WebhookAttacks {
  /** The signed request with its body changed after signing. */
  tamperedBody(signed: WebhookRequest): WebhookRequest;
  /** The signed request without its signature (a header, or a body field). */
  missingSignature(signed: WebhookRequest): WebhookRequest;
  /**
   * The signed request delivered to another URL. Leave it out only when the scheme does
   * not cover the URL; the suite then checks that a moved request still verifies.
   */
  wrongUrl?: ((signed: WebhookRequest) => WebhookRequest) | undefined;
  /**
   * The unsigned fixture signed with a timestamp outside the accepted window. Leave it out
   * only when the scheme has no timestamp; the suite then checks that a request verifies
   * a day after it was signed.
   */
  staleTimestamp?: ((unsigned: WebhookRequest) => WebhookRequest) | undefined;
}

/** The documented error codes of status webhooks and how to produce one. */
export interface ErrorCodeCases {
  /** Each documented code and the reason it must map to. */
  reasons: Readonly<Record<string, ProviderErrorReason>>;
  /** Builds an unsigned status webhook that reports a failure with this code. */
  statusWebhook(code: string): WebhookRequest;
  /** A code the provider does not document. @default "987654" */
  unknownCode?: string | undefined;
}

/** A send and what the fake API must have received for it. */
export interface SendExpectation {
  message: OutboundMessage;
  /** HTTP method of the API request, such as `POST`. */
  method: string;
  /** Path and query of the API request, such as `/v2/messages`. */
  path: string;
  /** Headers the request must carry, names in lower case, values exact. */
  headers?: Readonly<Record<string, string>> | undefined;
  /**
   * Body fields the request must carry: form field names for a form body, dotted paths
   * (`messages.0.to`) for a JSON body. Values are compared as text.
   */
  body?: Readonly<Record<string, string>> | undefined;
  /** Returns the message id the fake API assigned, read after the send. */
  messageId(): string | undefined;
  /** The status the send result must carry. */
  status: DeliveryStatus;
}

/** A send the fake API refuses, and the error the provider must raise. */
export interface SendRefusal {
  name: string;
  message: OutboundMessage;
  reason: ProviderErrorReason;
  /** The provider's code the error must keep, when the API sends one. */
  providerCode?: string | undefined;
}

/** A provider module under test, built by the factory of {@link describeProvider}. */
export interface ProviderUnderTest {
  /** The provider, built against the fake API. */
  provider: Provider;
  /** The fake API the provider sends to, with the requests it received so far. */
  api: { readonly requests: readonly RecordedRequest[] };
  /** Stops the fake API and closes the provider. The suite calls it after every test. */
  close(): Promise<void>;
  /** Recorded webhooks: at least one inbound and one status webhook. */
  fixtures: readonly WebhookFixture[];
  /** Signs an unsigned request as the provider would, with the module's own test signer. */
  sign(request: WebhookRequest): WebhookRequest;
  attacks: WebhookAttacks;
  errorCodes: ErrorCodeCases;
  sendExpectation: SendExpectation;
  /** Sends the fake API refuses, such as an opted-out recipient. */
  refusals?: readonly SendRefusal[] | undefined;
}

/** Creates one provider under test, with its fake API started. Called once per test. */
export type ProviderFactory = () => Promise<ProviderUnderTest>;
