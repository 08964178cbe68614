import { ProviderConnection } from "../../src/http/provider-connection.js";
import { parseSenderIdentity } from "../../src/phone/sender.js";
import type {
  OutboundMessage,
  ParsedWebhook,
  Provider,
  SendResult,
  WebhookKind,
  WebhookReplyContext,
  WebhookRequest,
  WebhookResponse,
} from "../../src/provider.js";
import { sendVonageMessage } from "./messages-api.js";
import { type ResolvedVonageOptions, resolveVonageOptions, type VonageOptions } from "./options.js";
import { sendVonageSms, type VonageOutboundMessage } from "./send.js";
import {
  parseVonageWebhook,
  verifyVonageWebhook,
  vonageWebhookNonce,
  vonageWebhookResponse,
} from "./webhook.js";

/**
 * The Vonage provider: sends through the SMS API or the Messages API, and reads the
 * webhooks of both (inbound SMS, delivery receipts, Messages API inbound and status),
 * signed with the SMS API `sig` or a Messages API JWT. Create it with {@link vonage}.
 */
export class VonageProvider implements Provider {
  /** Provider name used in routes, events and consent records. */
  readonly name = "vonage";
  /** The API messages are sent with. */
  readonly api: "sms" | "messages";
  /** The configured sender as an identity value (`+14155550100`, `AcmeInc`), if any. */
  readonly defaultSender: string | undefined;

  readonly #options: ResolvedVonageOptions;
  readonly #connection: ProviderConnection;

  /**
   * @param configPath - Prefix of option paths in configuration errors.
   * @throws {ConfigError} naming the first invalid option.
   */
  constructor(options: VonageOptions, configPath = "vonage") {
    this.#options = resolveVonageOptions(options, configPath);
    this.api = this.#options.api;
    this.defaultSender = this.#options.from;
    this.#connection = new ProviderConnection(this.#options.dispatcher, this.#options.apiBaseUrl);
  }

  /**
   * Sends one message with the configured API. Rejects with a `ProviderError`:
   * `invalid-recipient` for SMS API status 7, `transient` for a network failure, and so
   * on. Vonage reports an opted-out recipient only later, in the delivery receipt.
   */
  async send(message: VonageOutboundMessage): Promise<SendResult> {
    this.#connection.assertOpen(this.name, "Vonage", "vonage(options)");

    return this.#options.api === "sms"
      ? sendVonageSms(this.#options, this.#connection.dispatcher, message)
      : sendVonageMessage(this.#options, this.#connection.dispatcher, message);
  }

  /**
   * Vonage blocks an opted-out person per sending number (Opt-Out Assist), so the scope is
   * the sender, written as inbound webhooks write it: a number in E.164 form.
   */
  consentScopes(message: OutboundMessage): string[] {
    const sender = message.from || this.#options.from;

    return sender === undefined ? [] : [senderIdentityValue(sender)];
  }

  /** Checks the SMS API `sig` or the Messages API JWT, whichever the request carries. */
  async verifyWebhook(request: WebhookRequest): Promise<void> {
    verifyVonageWebhook(request, {
      signatureSecret: this.#options.signatureSecret,
      signatureMethod: this.#options.signatureMethod,
      toleranceSeconds: this.#options.signatureToleranceSeconds,
      now: this.#options.clock(),
    });
  }

  /** Returns the `jti` of a Messages API JWT, or the `nonce` of a signed SMS API webhook. */
  webhookNonce(request: WebhookRequest): string | undefined {
    return vonageWebhookNonce(request);
  }

  /** Parses an inbound message, a delivery receipt or a Messages API status. */
  async parseWebhook(request: WebhookRequest, kind: WebhookKind): Promise<ParsedWebhook> {
    return parseVonageWebhook(request, kind, {
      optOutErrorCodes: this.#options.optOutErrorCodes,
    });
  }

  /**
   * Builds the empty 204 response Vonage expects. Vonage cannot take a reply in the
   * response, so `replyText` is not sent. Send it as a new message instead.
   */
  webhookResponse(_context: WebhookReplyContext): WebhookResponse {
    return vonageWebhookResponse();
  }

  /**
   * Closes the connection pool the provider opened, after requests in flight finish. A
   * dispatcher passed in the options is left open for its owner. Calling it again returns
   * the same promise.
   */
  close(): Promise<void> {
    return this.#connection.close();
  }
}

// Senders from the gateway are already identity values. A number given in Vonage's own
// form (`14155550100`) becomes E.164, and a value that does not parse is kept as given.
function senderIdentityValue(sender: string): string {
  try {
    return parseSenderIdentity(sender, { internationalDigits: true }).value;
  } catch {
    return sender;
  }
}

/**
 * Creates a {@link VonageProvider}, validating the options once.
 *
 * @param configPath - Prefix of option paths in configuration errors.
 * @throws {ConfigError} naming the first invalid option, such as `vonage.apiKey`.
 * @example
 * const provider = vonage({
 *   apiKey: process.env.VONAGE_API_KEY ?? "",
 *   apiSecret: process.env.VONAGE_API_SECRET ?? "",
 *   signatureSecret: process.env.VONAGE_SIGNATURE_SECRET ?? "",
 *   from: "+14155550100",
 * });
 */
export function vonage(options: VonageOptions, configPath?: string): VonageProvider {
  return new VonageProvider(options, configPath);
}
