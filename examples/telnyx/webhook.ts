import {
  type DeliveryReport,
  type InboundMedia,
  type InboundMessage,
  isWebhookParseError,
  type ParsedWebhook,
  WebhookParseError,
  type WebhookRequest,
} from "smsgate";
import { firstErrorCode, telnyxErrorReason } from "./errors.js";
import {
  asObject,
  field,
  type JsonObject,
  parseTelnyxBody,
  phoneOf,
  requireText,
  text,
  timeOf,
} from "./fields.js";
import { mapTelnyxStatus } from "./status.js";

/** Event types read as delivery reports. */
const REPORT_EVENTS = new Set(["message.sent", "message.finalized"]);

/**
 * Parses a Telnyx messaging webhook, `{"data": {"event_type", "payload", ...}}`. The
 * event type decides what it is, because Telnyx may send every event of a messaging
 * profile to one URL: `message.received` is an inbound message, `message.sent` and
 * `message.finalized` are delivery reports. Other event types carry nothing to record
 * and give an empty result, so that they are acknowledged.
 *
 * NOTE: Telnyx handles STOP on its own, and whether its inbound payload flags an opt-out
 * was not confirmed, so `providerIntent` is never set. STOP replies are classified by
 * their text, and refusals arrive as code 40300.
 *
 * @throws {WebhookParseError} for a body that is not a Telnyx event, or a message without
 *   its id or numbers. No other exception escapes, whatever the input.
 */
export function parseTelnyxWebhook(request: WebhookRequest): ParsedWebhook {
  try {
    const data = asObject(field(parseTelnyxBody(request.body), "data"));
    const eventType = requireText(data, "event_type", "data");
    const payload = asObject(field(data, "payload"));

    if (payload === undefined) {
      throw new WebhookParseError("Telnyx webhook has no data.payload object");
    }

    if (eventType === "message.received") {
      return { inbound: [readInbound(payload)], reports: [] };
    }

    if (REPORT_EVENTS.has(eventType)) {
      return { inbound: [], reports: [readReport(data, payload)] };
    }

    return { inbound: [], reports: [] };
  } catch (error) {
    if (isWebhookParseError(error)) {
      throw error;
    }

    const detail = error instanceof Error ? error.message : String(error);

    throw new WebhookParseError(`Telnyx webhook could not be parsed: ${detail}`, {
      cause: error,
    });
  }
}

function firstRecipient(payload: JsonObject): JsonObject | undefined {
  const to = field(payload, "to");

  return asObject(Array.isArray(to) ? to[0] : to);
}

function readInbound(payload: JsonObject): InboundMessage {
  const from = phoneOf(field(payload, "from"), "payload.from");
  const to = phoneOf(firstRecipient(payload), "payload.to");

  if (from === undefined || to === undefined) {
    throw new WebhookParseError("Telnyx message.received has no from or to phone_number");
  }

  const parts = field(payload, "parts");

  return {
    provider: "telnyx",
    messageId: requireText(payload, "id", "payload"),
    from,
    to,
    text: typeof field(payload, "text") === "string" ? (field(payload, "text") as string) : "",
    receivedAt: new Date(),
    providerTime: timeOf(field(payload, "received_at")),
    media: readMedia(field(payload, "media")),
    segments: Number.isInteger(parts) && (parts as number) > 0 ? (parts as number) : undefined,
    raw: payload,
  };
}

function readMedia(value: unknown): InboundMedia[] {
  const items = Array.isArray(value) ? value : [];

  return items.flatMap((item) => {
    const url = text(asObject(item), "url");

    return url === undefined ? [] : [{ url, contentType: text(asObject(item), "content_type") }];
  });
}

function readReport(data: JsonObject | undefined, payload: JsonObject): DeliveryReport {
  const recipient = firstRecipient(payload);
  const providerStatus = requireText(recipient, "status", "payload.to[0]");
  const errorCode = firstErrorCode(field(payload, "errors"));

  return {
    provider: "telnyx",
    messageId: requireText(payload, "id", "payload"),
    status: mapTelnyxStatus(providerStatus),
    providerStatus,
    errorCode,
    reason: errorCode === undefined ? undefined : telnyxErrorReason(errorCode),
    to: phoneOf(recipient, "payload.to"),
    from: phoneOf(field(payload, "from"), "payload.from"),
    receivedAt: new Date(),
    providerTime: timeOf(field(data, "occurred_at")),
    raw: payload,
  };
}
