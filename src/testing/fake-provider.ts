import { timingSafeEqual } from "node:crypto";
import { ProviderError, WebhookParseError, WebhookVerificationError } from "../errors.js";
import type {
  DeliveryReport,
  InboundMessage,
  MessagePart,
  OutboundMessage,
  ParsedWebhook,
  Provider,
  SendResult,
  WebhookKind,
  WebhookReplyContext,
  WebhookRequest,
  WebhookResponse,
} from "../provider.js";

/** Options of {@link FakeProvider}. */
export interface FakeProviderOptions {
  /** @default "fake" */
  name?: string;
  /** The value webhooks must carry in `x-fake-signature`. @default "fake-secret" */
  secret?: string;
  /** The sender used when a message names none. */
  defaultSender?: string;
  /**
   * Decides the outcome of each send: return nothing to accept it, or throw a
   * `ProviderError` to refuse it.
   */
  onSend?: (message: OutboundMessage) => void | Promise<void>;
}

/** Fields of a fake inbound webhook body. */
export interface FakeInbound {
  messageId: string;
  from: string;
  to: string;
  text: string;
  serviceId?: string;
  providerIntent?: InboundMessage["providerIntent"];
  providerTime?: string;
  /** Set for one part of a multipart message. */
  part?: MessagePart;
}

/** Fields of a fake status webhook body. */
export interface FakeReport {
  messageId: string;
  status: DeliveryReport["status"];
  to?: string;
  from?: string;
  errorCode?: string;
  reason?: DeliveryReport["reason"];
}

/**
 * A provider that records what it was asked to send and takes webhooks as JSON
 * (`{ "inbound": [...], "reports": [...] }`) signed by a shared secret header. For tests of
 * code built on the gateway; it reaches no network.
 */
export class FakeProvider implements Provider {
  readonly name: string;
  readonly defaultSender: string | undefined;
  /** Every message `send` accepted or refused, in call order. */
  readonly sent: OutboundMessage[] = [];
  readonly #secret: string;
  readonly #onSend: FakeProviderOptions["onSend"];
  #counter = 0;

  constructor(options: FakeProviderOptions = {}) {
    this.name = options.name ?? "fake";
    this.defaultSender = options.defaultSender;
    this.#secret = options.secret ?? "fake-secret";
    this.#onSend = options.onSend;
  }

  async send(message: OutboundMessage): Promise<SendResult> {
    this.sent.push(message);
    await this.#onSend?.(message);
    this.#counter += 1;

    return {
      provider: this.name,
      messageId: `FAKE${String(this.#counter).padStart(8, "0")}`,
      status: "queued",
      to: message.to,
      from: message.from ?? this.defaultSender,
      raw: {},
    };
  }

  async verifyWebhook(request: WebhookRequest): Promise<void> {
    const signature = request.headers.get("x-fake-signature");

    if (signature === null) {
      throw new WebhookVerificationError("missing-signature", "x-fake-signature is missing");
    }

    const expected = Buffer.from(this.#secret);
    const actual = Buffer.from(signature);

    if (expected.length !== actual.length || !timingSafeEqual(expected, actual)) {
      throw new WebhookVerificationError("invalid-signature", "x-fake-signature does not match");
    }
  }

  async parseWebhook(request: WebhookRequest, kind: WebhookKind): Promise<ParsedWebhook> {
    let body: { inbound?: FakeInbound[]; reports?: FakeReport[] };

    try {
      body = JSON.parse(Buffer.from(request.body).toString("utf8"));
    } catch (cause) {
      throw new WebhookParseError("The fake webhook body is not JSON", { cause });
    }

    const receivedAt = new Date();
    const inbound = kind === "inbound" ? (body.inbound ?? []) : [];
    const reports = kind === "status" ? (body.reports ?? []) : [];

    return {
      inbound: inbound.map((item) => this.#toInbound(item, receivedAt)),
      reports: reports.map((item) => this.#toReport(item, receivedAt)),
    };
  }

  webhookResponse(context: WebhookReplyContext): WebhookResponse {
    return {
      status: 200,
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ reply: context.replyText ?? null }),
    };
  }

  #toInbound(item: FakeInbound, receivedAt: Date): InboundMessage {
    return {
      provider: this.name,
      messageId: item.messageId,
      from: { kind: /^\+/.test(item.from) ? "e164" : "shortcode", value: item.from },
      to: { kind: /^\+/.test(item.to) ? "e164" : "shortcode", value: item.to },
      serviceId: item.serviceId,
      text: item.text,
      receivedAt,
      providerTime: item.providerTime ? new Date(item.providerTime) : undefined,
      media: [],
      providerIntent: item.providerIntent,
      part: item.part,
      raw: { ...item },
    };
  }

  #toReport(item: FakeReport, receivedAt: Date): DeliveryReport {
    return {
      provider: this.name,
      messageId: item.messageId,
      status: item.status,
      providerStatus: item.status,
      errorCode: item.errorCode,
      reason: item.reason,
      to: item.to ? { kind: "e164", value: item.to } : undefined,
      from: item.from ? { kind: "e164", value: item.from } : undefined,
      receivedAt,
      raw: { ...item },
    };
  }
}

/** Builds a `ProviderError` as the fake provider would raise it, for `onSend` callbacks. */
export function fakeRefusal(reason: ProviderError["reason"], providerCode?: string): ProviderError {
  return new ProviderError(`fake provider refused the message (${reason})`, {
    provider: "fake",
    reason,
    providerCode,
    httpStatus: 400,
  });
}
