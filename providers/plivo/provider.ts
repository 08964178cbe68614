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
import { type PlivoOptions, type ResolvedPlivoOptions, resolvePlivoOptions } from "./options.js";
import { resolveSender, sendPlivoMessage, toPlivoAddress } from "./send.js";
import { parsePlivoWebhook, plivoWebhookNonce, verifyPlivoWebhook } from "./webhook.js";
import { plivoXmlResponse } from "./xml.js";

/**
 * Context of a Plivo webhook answer. A reply in the response needs `message`, because
 * Plivo's `<Message>` must name its `src` and `dst`; without it the response is empty.
 */
export type PlivoReplyContext = WebhookReplyContext;

/**
 * The Plivo SMS provider: sends through the Message API and reads inbound messages and
 * status callbacks signed with `X-Plivo-Signature-V3` or `-V2`. Create it with
 * {@link plivo}.
 */
export class PlivoProvider implements Provider {
  /** Provider name used in routes, events and consent records. */
  readonly name = "plivo";
  /** The account messages are sent from. */
  readonly authId: string;
  /** The configured sender, in E.164 for a number. */
  readonly defaultSender: string;

  readonly #options: ResolvedPlivoOptions;
  readonly #connection: ProviderConnection;

  /**
   * @param configPath - Prefix of option paths in configuration errors.
   * @throws {ConfigError} naming the first invalid option.
   */
  constructor(options: PlivoOptions, configPath = "plivo") {
    this.#options = resolvePlivoOptions(options, configPath);
    this.authId = this.#options.authId;
    this.defaultSender = this.#options.from;
    this.#connection = new ProviderConnection(this.#options.dispatcher, this.#options.apiBaseUrl);
  }

  /**
   * Sends one message. Rejects with a `ProviderError`: reason `invalid-recipient`
   * for a number Plivo lists as invalid, `transient` for a network failure or timeout,
   * and so on. Plivo reports an opted-out recipient only later, as `ErrorCode` 200 in a
   * status callback.
   */
  async send(message: OutboundMessage): Promise<SendResult> {
    this.#connection.assertOpen(this.name, "Plivo", "plivo(options)");

    return sendPlivoMessage(this.#options, this.#connection.dispatcher, message);
  }

  /**
   * Plivo blocks an opted-out person per sending number, so the one scope is the sender:
   * `message.from` (normalised to E.164) or the configured `from`. A `from` that is not a
   * sender is returned as given, and `send` rejects it.
   */
  consentScopes(message: OutboundMessage): string[] {
    try {
      return [resolveSender(this.#options, message)];
    } catch {
      return [message.from ?? this.#options.from];
    }
  }

  /** Checks the V3 signature when present, else V2, over `request.url` and the body. */
  async verifyWebhook(request: WebhookRequest): Promise<void> {
    verifyPlivoWebhook(request, {
      authToken: this.#options.authToken,
      mainAccountAuthToken: this.#options.mainAccountAuthToken,
      requireV3Signature: this.#options.requireV3Signature,
    });
  }

  /** Returns the nonce of the signature `verifyWebhook` checks: V3 when present, else V2. */
  webhookNonce(request: WebhookRequest): string | undefined {
    return plivoWebhookNonce(request);
  }

  /** Parses an inbound message or a status callback. */
  async parseWebhook(request: WebhookRequest, kind: WebhookKind): Promise<ParsedWebhook> {
    return parsePlivoWebhook(request, kind);
  }

  /**
   * Builds the Plivo XML response. An inbound reply goes from the number that received
   * the message back to its sender, and needs `context.message`. Status callbacks and
   * contexts without a message get an empty `<Response/>`.
   */
  webhookResponse(context: PlivoReplyContext): WebhookResponse {
    const message = context.message;

    if (context.kind !== "inbound" || !context.replyText || message === undefined) {
      return plivoXmlResponse();
    }

    return plivoXmlResponse({
      text: context.replyText,
      src: toPlivoAddress(message.to.value),
      dst: toPlivoAddress(message.from.value),
    });
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
 * Creates a {@link PlivoProvider}, validating the options once.
 *
 * @param configPath - Prefix of option paths in configuration errors.
 * @throws {ConfigError} naming the first invalid option, such as `plivo.authId`.
 * @example
 * const provider = plivo({
 *   authId: process.env.PLIVO_AUTH_ID ?? "",
 *   authToken: process.env.PLIVO_AUTH_TOKEN ?? "",
 *   from: "+14155550199",
 * });
 */
export function plivo(options: PlivoOptions, configPath?: string): PlivoProvider {
  return new PlivoProvider(options, configPath);
}
