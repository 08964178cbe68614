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
import {
  type GenericProviderOptions,
  type ResolvedGenericOptions,
  resolveGenericOptions,
} from "./options.js";
import { sendGenericMessage } from "./send.js";
import { parseGenericWebhook, verifyGenericWebhook } from "./webhook.js";

/**
 * A provider described by configuration: a send request built from a template, webhooks
 * read through a field mapping and verified with an HMAC. Create it with {@link generic}.
 */
export class GenericProvider implements Provider {
  /** Provider name used in routes, events and consent records. */
  readonly name: string;
  /** The configured sender, in E.164 for a number. */
  readonly defaultSender: string | undefined;

  readonly #options: ResolvedGenericOptions;
  readonly #connection: ProviderConnection;

  /**
   * @param configPath - Prefix of option paths in configuration errors.
   * @throws {ConfigError} naming the first invalid option.
   */
  constructor(options: GenericProviderOptions, configPath = "generic") {
    this.#options = resolveGenericOptions(options, configPath);
    this.name = this.#options.name;
    this.defaultSender = this.#options.from;
    this.#connection = new ProviderConnection(this.#options.dispatcher, this.#options.send.url);
  }

  /**
   * Sends one message. Rejects with a `ProviderError` whose reason comes from the
   * first matching `send.errors` rule, else from the HTTP status. A network failure or
   * timeout is `transient`.
   */
  async send(message: OutboundMessage): Promise<SendResult> {
    this.#connection.assertOpen(this.name, this.name, "generic(options)");

    return sendGenericMessage(this.#options, this.#connection.dispatcher, message);
  }

  /**
   * Checks the configured HMAC over the raw body (and the URL or timestamp it covers). A GET
   * passes only under `signed: "url+body"`, the one mode that covers its query.
   */
  async verifyWebhook(request: WebhookRequest): Promise<void> {
    verifyGenericWebhook(this.#options, request);
  }

  /** Parses an inbound message, an opt-out report or a delivery report. */
  async parseWebhook(request: WebhookRequest, kind: WebhookKind): Promise<ParsedWebhook> {
    return parseGenericWebhook(this.#options, request, kind);
  }

  /**
   * Builds the configured response. A reply text is not sent, because the provider's
   * response format is unknown, so send it as a new message instead.
   */
  webhookResponse(_context: WebhookReplyContext): WebhookResponse {
    const { response } = this.#options.webhooks;

    return {
      status: response.status,
      headers: { "content-type": response.contentType },
      body: response.body,
    };
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
 * Creates a {@link GenericProvider}, validating the options once.
 *
 * @param configPath - Prefix of option paths in configuration errors, such as
 *   `providers.generic.acme`.
 * @throws {ConfigError} naming the first invalid option, such as `generic.send.url`.
 * @example
 * const provider = generic({
 *   name: "acme",
 *   from: "+14155550199",
 *   send: {
 *     url: "https://api.acme.example/v1/messages",
 *     body: { to: "{{to}}", from: "{{from}}", text: "{{body}}" },
 *     auth: { type: "bearer", token: process.env.ACME_TOKEN ?? "" },
 *     messageIdPath: "data.id",
 *   },
 *   webhooks: {
 *     inbound: { id: "id", from: "from", to: "to", text: "text" },
 *     signature: {
 *       type: "hmac",
 *       secret: process.env.ACME_WEBHOOK_SECRET ?? "",
 *       header: "x-acme-signature",
 *       algorithm: "sha256",
 *       encoding: "hex",
 *     },
 *   },
 * });
 */
export function generic(options: GenericProviderOptions, configPath?: string): GenericProvider {
  return new GenericProvider(options, configPath);
}
