import {
  type OutboundMessage,
  type ParsedWebhook,
  type Provider,
  ProviderError,
  type SendResult,
  type WebhookKind,
  type WebhookReplyContext,
  type WebhookRequest,
  type WebhookResponse,
} from "smsgate";
import { type ResolvedTelnyxOptions, resolveTelnyxOptions, type TelnyxOptions } from "./options.js";
import { sendTelnyxMessage } from "./send.js";
import { verifyTelnyxSignature } from "./signature.js";
import { parseTelnyxWebhook } from "./webhook.js";

/**
 * The Telnyx messaging provider: sends through API v2 and reads `message.received`,
 * `message.sent` and `message.finalized` webhooks signed with Ed25519. Create it with
 * {@link telnyx}.
 */
export class TelnyxProvider implements Provider {
  /** Provider name used in routes, events and consent records. */
  readonly name = "telnyx";
  /** The configured sender, if any. */
  readonly defaultSender: string | undefined;

  readonly #options: ResolvedTelnyxOptions;
  #closed = false;

  /** @throws {ConfigError} naming the first invalid option. */
  constructor(options: TelnyxOptions, configPath = "telnyx") {
    this.#options = resolveTelnyxOptions(options, configPath);
    this.defaultSender = this.#options.from;
  }

  /**
   * Sends one message. Rejects with a `ProviderError`: reason `opted-out` for code
   * 40300, `transient` for a network failure or timeout, and so on.
   */
  async send(message: OutboundMessage): Promise<SendResult> {
    if (this.#closed) {
      throw new ProviderError("The Telnyx provider is closed, so create a new one to send", {
        provider: this.name,
        reason: "unknown",
      });
    }

    return sendTelnyxMessage(this.#options, message);
  }

  /** Checks `telnyx-signature-ed25519` over `telnyx-timestamp` and the raw body. */
  async verifyWebhook(request: WebhookRequest): Promise<void> {
    verifyTelnyxSignature(request, {
      publicKey: this.#options.publicKey,
      toleranceSeconds: this.#options.toleranceSeconds,
      now: this.#options.clock(),
    });
  }

  /** Parses a message or delivery event; the event type decides, not the route. */
  async parseWebhook(request: WebhookRequest, _kind: WebhookKind): Promise<ParsedWebhook> {
    return parseTelnyxWebhook(request);
  }

  /**
   * Builds an empty 200, because Telnyx reads only the status. A reply text is not sent;
   * send it as a new message instead.
   */
  webhookResponse(_context: WebhookReplyContext): WebhookResponse {
    return { status: 200, headers: {}, body: "" };
  }

  /** Stops sending. `fetch` keeps no pool of its own to close. */
  async close(): Promise<void> {
    this.#closed = true;
  }
}

/**
 * Creates a {@link TelnyxProvider}, validating the options once.
 *
 * @throws {ConfigError} naming the first invalid option, such as `telnyx.publicKey`.
 */
export function telnyx(options: TelnyxOptions, configPath?: string): TelnyxProvider {
  return new TelnyxProvider(options, configPath);
}
