import { ProviderConnection } from "../../src/http/provider-connection.js";
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
import { type ResolvedTwilioOptions, resolveTwilioOptions, type TwilioOptions } from "./options.js";
import { sendTwilioMessage } from "./send.js";
import { twimlResponse } from "./twiml.js";
import { parseTwilioWebhook, verifyTwilioWebhook } from "./webhook.js";

const serviceSidPattern = /^MG[0-9a-fA-F]{32}$/;

/**
 * The Twilio Programmable Messaging provider: sends through the Messages API and reads
 * inbound and status webhooks signed with `X-Twilio-Signature`. Create it with
 * {@link twilio}.
 */
export class TwilioProvider implements Provider {
  /** Provider name used in routes, events and consent records. */
  readonly name = "twilio";
  /** The account messages are sent from. */
  readonly accountSid: string;
  /** The configured Messaging Service, when there is one. */
  readonly messagingServiceSid: string | undefined;
  /** The Messaging Service when one is configured, else the configured number. */
  readonly defaultSender: string | undefined;

  readonly #options: ResolvedTwilioOptions;
  readonly #connection: ProviderConnection;

  /**
   * @param configPath - Prefix of option paths in configuration errors.
   * @throws {ConfigError} naming the first invalid option.
   */
  constructor(options: TwilioOptions, configPath = "twilio") {
    this.#options = resolveTwilioOptions(options, configPath);
    this.accountSid = this.#options.accountSid;
    this.messagingServiceSid = this.#options.messagingServiceSid;
    this.defaultSender = this.#options.messagingServiceSid ?? this.#options.from;
    this.#connection = new ProviderConnection(this.#options.dispatcher, this.#options.apiBaseUrl);
  }

  /**
   * Sends one message. Rejects with a `ProviderError`: reason `opted-out` for Twilio
   * 21610, `transient` for a network failure or timeout, and so on.
   */
  async send(message: OutboundMessage): Promise<SendResult> {
    this.#connection.assertOpen(this.name, "Twilio", "twilio(options)");

    return sendTwilioMessage(this.#options, this.#connection.dispatcher, message);
  }

  /**
   * Twilio blocks a person per Messaging Service when the message goes through one, and per
   * sending number otherwise, so the service comes first.
   */
  consentScopes(message: OutboundMessage): string[] {
    const sender = message.from || this.#options.from;

    if (sender !== undefined && serviceSidPattern.test(sender)) {
      return [sender];
    }

    const service = this.#options.messagingServiceSid;
    const scopes = service === undefined ? [] : [service];

    return sender === undefined ? scopes : [...scopes, sender];
  }

  /** Checks `X-Twilio-Signature` over `request.url` and the raw body. */
  async verifyWebhook(request: WebhookRequest): Promise<void> {
    verifyTwilioWebhook(request, this.#options.authToken);
  }

  /** Parses an inbound message or a status callback. */
  async parseWebhook(request: WebhookRequest, kind: WebhookKind): Promise<ParsedWebhook> {
    return parseTwilioWebhook(request, kind, { authToken: this.#options.authToken });
  }

  /** Builds the TwiML response. Status callbacks get an empty `<Response/>`. */
  webhookResponse(context: WebhookReplyContext): WebhookResponse {
    return twimlResponse(context.kind === "inbound" ? context.replyText : undefined);
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

/**
 * Creates a {@link TwilioProvider}, validating the options once.
 *
 * @param configPath - Prefix of option paths in configuration errors.
 * @throws {ConfigError} naming the first invalid option, such as `twilio.accountSid`.
 * @example
 * const provider = twilio({
 *   accountSid: process.env.TWILIO_ACCOUNT_SID ?? "",
 *   authToken: process.env.TWILIO_AUTH_TOKEN ?? "",
 *   from: "+15017122661",
 * });
 */
export function twilio(options: TwilioOptions, configPath?: string): TwilioProvider {
  return new TwilioProvider(options, configPath);
}
