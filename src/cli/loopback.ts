/**
 * The provider of development mode. It is named `twilio` and reads webhooks with a real
 * Twilio provider keyed with the development token, so consent records look exactly like
 * those of a real Twilio account. Its sends are appended to a JSON Lines file instead of
 * being delivered.
 */

import { randomBytes } from "node:crypto";
import { appendFile } from "node:fs/promises";
import { type TwilioProvider, twilio } from "../../providers/twilio/index.js";
import type {
  OutboundMessage,
  ParsedWebhook,
  Provider,
  SendResult,
  WebhookKind,
  WebhookReplyContext,
  WebhookRequest,
  WebhookResponse,
} from "../provider.js";
import type { DevSecrets } from "./dev.js";

/** Returns the file the loopback provider appends sent messages to. */
export function loopbackFilePath(storePath: string): string {
  return `${storePath}.loopback.jsonl`;
}

/** One line of the loopback file. */
export interface LoopbackRecord {
  /** `LB` followed by 32 hex digits. */
  messageId: string;
  to: string;
  /** The sender the message asked for, or null when it named none. */
  from: string | null;
  body: string;
  /** ISO 8601 time of the send. */
  sentAt: string;
  /** Present only when the message had attachments. */
  mediaUrls?: readonly string[];
}

/** Options of {@link createLoopbackProvider}. */
export interface LoopbackOptions {
  /** The store's database path; the loopback file is kept beside it. */
  storePath: string;
  /** The development secrets; webhooks are verified with this token. */
  secrets: DevSecrets;
}

/** A provider that records sends in a file and reads webhooks as Twilio does. */
export class LoopbackProvider implements Provider {
  /** `twilio`, so that routes and consent records match a real Twilio setup. */
  readonly name = "twilio";
  /** The JSON Lines file sends are appended to. */
  readonly filePath: string;
  readonly #twilio: TwilioProvider;

  constructor(options: LoopbackOptions) {
    this.filePath = loopbackFilePath(options.storePath);
    this.#twilio = twilio(options.secrets.twilio, "development secrets twilio");
  }

  /** Appends the message to {@link filePath} and reports it as sent. */
  async send(message: OutboundMessage): Promise<SendResult> {
    const record: LoopbackRecord = {
      messageId: `LB${randomBytes(16).toString("hex")}`,
      to: message.to,
      from: message.from ?? null,
      body: message.body,
      sentAt: new Date().toISOString(),
    };
    if (message.mediaUrls && message.mediaUrls.length > 0) {
      record.mediaUrls = [...message.mediaUrls];
    }

    // Each line goes out in one append call, so senders in other processes sharing the
    // file (the server and `smsgate send`) do not interleave lines on a local disk.
    await appendFile(this.filePath, `${JSON.stringify(record)}\n`, { mode: 0o600 });

    return {
      provider: this.name,
      messageId: record.messageId,
      status: "sent",
      to: message.to,
      from: message.from,
      raw: record,
    };
  }

  verifyWebhook(request: WebhookRequest): Promise<void> {
    return this.#twilio.verifyWebhook(request);
  }

  parseWebhook(request: WebhookRequest, kind: WebhookKind): Promise<ParsedWebhook> {
    return this.#twilio.parseWebhook(request, kind);
  }

  webhookResponse(context: WebhookReplyContext): WebhookResponse {
    return this.#twilio.webhookResponse(context);
  }

  close(): Promise<void> {
    return this.#twilio.close();
  }
}

/**
 * Creates the loopback provider of development mode.
 *
 * @throws {ConfigError} when the development secrets are not valid Twilio credentials.
 */
export function createLoopbackProvider(options: LoopbackOptions): LoopbackProvider {
  return new LoopbackProvider(options);
}
