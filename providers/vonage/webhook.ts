import {
  isWebhookParseError,
  quoteRedacted,
  WebhookParseError,
  WebhookVerificationError,
} from "../../src/errors.js";
import type {
  DeliveryReport,
  InboundMessage,
  MessagePart,
  ParsedWebhook,
  WebhookKind,
  WebhookRequest,
  WebhookResponse,
} from "../../src/provider.js";
import { readProblemCode, vonageDeliveryErrorReason, vonageMessagesErrorReason } from "./errors.js";
import {
  parseVonageScts,
  parseVonageTimestamp,
  readVonageFields,
  VonageFields,
  type VonageWebhookFields,
} from "./fields.js";
import { readBearerToken, readVonageJwtId, verifyVonageJwt } from "./jwt.js";
import { type VonageSignatureMethod, verifyVonageSignature } from "./signature.js";
import { mapVonageDeliveryStatus, mapVonageMessageStatus } from "./status.js";

/** Options of {@link verifyVonageWebhook}. */
export interface VerifyVonageWebhookOptions {
  /** The account's signature secret. Without it, every request is rejected. */
  signatureSecret: string | undefined;
  /** Method of the SMS API `sig`. @default "md5hash" */
  signatureMethod?: VonageSignatureMethod | undefined;
  /** Window for `timestamp` and `iat`, in seconds. @default 300 */
  toleranceSeconds?: number | undefined;
  /** Current time in milliseconds since the epoch. @default Date.now() */
  now?: number | undefined;
}

/**
 * Verifies a Vonage webhook by the scheme it carries. An `Authorization: Bearer` header
 * is a Messages API JWT (HS256 over the raw body's hash). Otherwise the fields must carry
 * an SMS API `sig`: the query of a GET, the form or JSON body of a POST.
 *
 * @throws {WebhookVerificationError} `missing-secret` without a signature secret,
 * `missing-signature` when the request carries neither scheme, `invalid-signature` when
 * it does not match, `stale-timestamp` outside the time window.
 */
export function verifyVonageWebhook(
  request: WebhookRequest,
  options: VerifyVonageWebhookOptions,
): void {
  const secret = options.signatureSecret;

  if (secret === undefined || secret === "") {
    throw new WebhookVerificationError(
      "missing-secret",
      "No Vonage signature secret is configured, so the webhook cannot be verified. " +
        "Set signatureSecret to the secret in the dashboard's API settings",
    );
  }

  const authorization = request.headers.get("authorization");

  if (readBearerToken(authorization) !== undefined) {
    verifyVonageJwt({
      authorization,
      secret,
      rawBody: request.body,
      toleranceSeconds: options.toleranceSeconds,
      now: options.now,
    });
    return;
  }

  verifyVonageSignature({
    params: signedFields(request),
    secret,
    method: options.signatureMethod,
    toleranceSeconds: options.toleranceSeconds,
    now: options.now,
  });
}

/**
 * Returns the nonce a verified Vonage webhook carries: the `jti` of a Messages API JWT, or
 * the `nonce` field of a signed SMS API webhook. `undefined` when there is none.
 */
export function vonageWebhookNonce(request: WebhookRequest): string | undefined {
  const token = readBearerToken(request.headers.get("authorization"));

  try {
    const value =
      token === undefined
        ? new VonageFields(readVonageFields(request)).raw("nonce")
        : readVonageJwtId(token);

    return value === "" ? undefined : value;
  } catch (error) {
    if (isWebhookParseError(error)) {
      return undefined;
    }

    throw error;
  }
}

function signedFields(request: WebhookRequest): unknown {
  let fields: VonageWebhookFields;

  try {
    fields = readVonageFields(request);
  } catch (error) {
    if (!isWebhookParseError(error)) {
      throw error;
    }

    throw new WebhookVerificationError(
      "invalid-signature",
      `Vonage webhook body cannot be read, so it cannot carry a valid sig: ${error.message}`,
    );
  }

  return fields.format === "json" ? fields.object : fields.pairs;
}

/** Options of {@link parseVonageWebhook}. */
export interface ParseVonageWebhookOptions {
  /** Time of receipt for `receivedAt`. @default new Date() */
  receivedAt?: Date | undefined;
  /** Messages API error codes that mean the recipient opted out. @default [] */
  optOutErrorCodes?: readonly string[] | undefined;
}

/**
 * Parses a Vonage webhook of the SMS API (inbound SMS or delivery receipt, as a GET
 * query, form body or JSON body) or of the Messages API (inbound message or status, as
 * JSON). The fields decide what it is, because Vonage can send both kinds to one URL. A
 * `message_uuid` marks the Messages API, and a `status` without `text` marks a delivery
 * report. `kind` is used only to separate a receipt without `status` from an inbound
 * binary SMS.
 *
 * Vonage's `keyword` (`sms.keyword` in the Messages API) is the first word of the text in
 * upper case, not an opt-out flag, so it stays in `raw` and never sets `providerIntent`.
 *
 * @throws {WebhookParseError} for a malformed body, a missing message ID, a number that is
 * not a valid sender, or inconsistent multipart fields. No other exception escapes,
 * whatever the input.
 */
export function parseVonageWebhook(
  request: WebhookRequest,
  kind: WebhookKind,
  options: ParseVonageWebhookOptions = {},
): ParsedWebhook {
  try {
    const fields = new VonageFields(readVonageFields(request));
    const receivedAt = options.receivedAt ?? new Date();

    if (fields.isJson && fields.has("message_uuid")) {
      return fields.has("status")
        ? reportOnly(readMessagesStatus(fields, receivedAt, options.optOutErrorCodes ?? []))
        : inboundOnly(readMessagesInbound(fields, receivedAt));
    }

    if (isDeliveryReceipt(fields, kind)) {
      return reportOnly(readDeliveryReceipt(fields, receivedAt));
    }

    return inboundOnly(readInboundSms(fields, receivedAt));
  } catch (error) {
    if (isWebhookParseError(error)) {
      throw error;
    }

    const detail = error instanceof Error ? error.message : String(error);

    throw new WebhookParseError(`Vonage webhook could not be parsed: ${detail}`, {
      cause: error,
    });
  }
}

/** Builds the response Vonage expects, an empty 204, because any 2xx stops its retries. */
export function vonageWebhookResponse(): WebhookResponse {
  return { status: 204, headers: {}, body: "" };
}

function inboundOnly(message: InboundMessage): ParsedWebhook {
  return { inbound: [message], reports: [] };
}

function reportOnly(report: DeliveryReport): ParsedWebhook {
  return { inbound: [], reports: [report] };
}

function isDeliveryReceipt(fields: VonageFields, kind: WebhookKind): boolean {
  if (fields.has("text")) {
    return false;
  }

  if (fields.has("status")) {
    return true;
  }

  if (kind === "status") {
    throw new WebhookParseError(
      "Vonage delivery receipt has no status field. Check that this URL is used only " +
        "for delivery receipts and inbound messages",
    );
  }

  return false;
}

function readInboundSms(fields: VonageFields, receivedAt: Date): InboundMessage {
  const payloadName = "inbound SMS";
  const messageId = fields.require("messageId", payloadName);
  const { from, to } = readParties(fields, "msisdn", "to", payloadName);
  const part = readPart(fields);

  return {
    provider: "vonage",
    messageId,
    accountId: fields.text("api-key"),
    from,
    to,
    text: fields.raw("text") ?? "",
    receivedAt,
    providerTime: parseVonageTimestamp(fields.text("message-timestamp")),
    media: [],
    segments: part === undefined ? undefined : 1,
    part,
    raw: fields.record,
  };
}

/**
 * Parses the sender and the receiving number. A short code takes its country from the
 * other party, so the receiving number is read first.
 */
function readParties(fields: VonageFields, fromName: string, toName: string, payloadName: string) {
  const firstTo = fields.sender(toName, payloadName);
  const from = fields.sender(fromName, payloadName, firstTo.value);
  const to =
    firstTo.kind === "shortcode" ? fields.sender(toName, payloadName, from.value) : firstTo;

  return { from, to };
}

const MAX_PARTS = 255;

// Each part of a long SMS is its own webhook with `concat=true` and the `concat-*` fields.
// The reference is unique only per sender, so the gateway keys parts by sender, receiving
// number and reference.
function readPart(fields: VonageFields): MessagePart | undefined {
  const names = ["concat-ref", "concat-total", "concat-part"] as const;
  const flagged = fields.text("concat")?.toLowerCase() === "true";

  if (!flagged && !names.some((name) => fields.has(name))) {
    return undefined;
  }

  const reference = fields.require("concat-ref", "multipart SMS");
  const total = fields.count("concat-total");
  const index = fields.count("concat-part");

  if (total === undefined || total > MAX_PARTS || index === undefined || index > total) {
    const totalText = quoteField(fields.raw("concat-total"));
    const indexText = quoteField(fields.raw("concat-part"));

    throw new WebhookParseError(
      `Vonage multipart SMS has concat-total ${totalText} and concat-part ${indexText}; ` +
        `expected 1 to ${MAX_PARTS} parts and a part number from 1 to the total`,
    );
  }

  return { reference, total, index };
}

function quoteField(value: string | undefined): string {
  return value === undefined ? "(missing)" : quoteRedacted(value);
}

function readDeliveryReceipt(fields: VonageFields, receivedAt: Date): DeliveryReport {
  const payloadName = "delivery receipt";
  const messageId = fields.require("messageId", payloadName);
  const providerStatus = fields.require("status", payloadName);
  const errorCode = fields.text("err-code");
  // `msisdn` is the recipient of the message and `to` the sender it was sent from.
  const { from: to, to: from } = readParties(fields, "msisdn", "to", payloadName);

  return {
    provider: "vonage",
    messageId,
    accountId: fields.text("api-key"),
    status: mapVonageDeliveryStatus(providerStatus),
    providerStatus,
    errorCode,
    reason: vonageDeliveryErrorReason(errorCode),
    to,
    from,
    receivedAt,
    providerTime:
      parseVonageScts(fields.text("scts")) ??
      parseVonageTimestamp(fields.text("message-timestamp")),
    raw: fields.record,
  };
}

function readMessagesInbound(fields: VonageFields, receivedAt: Date): InboundMessage {
  const payloadName = "Messages API inbound message";

  checkSmsChannel(fields, payloadName);

  const messageId = fields.require("message_uuid", payloadName);
  const { from, to } = readParties(fields, "from", "to", payloadName);
  const sms = fields.child("sms");

  // Long messages arrive reassembled. Vonage's samples spell the part count
  // `num_messages`, `total_count` and `count_total`.
  const segments =
    sms?.count("num_messages") ?? sms?.count("total_count") ?? sms?.count("count_total");

  return {
    provider: "vonage",
    messageId,
    from,
    to,
    text: fields.raw("text") ?? "",
    receivedAt,
    providerTime: parseVonageTimestamp(fields.text("timestamp")),
    media: [],
    segments,
    raw: fields.record,
  };
}

function readMessagesStatus(
  fields: VonageFields,
  receivedAt: Date,
  optOutErrorCodes: readonly string[],
): DeliveryReport {
  const payloadName = "Messages API status";

  checkSmsChannel(fields, payloadName);

  const messageId = fields.require("message_uuid", payloadName);
  const providerStatus = fields.require("status", payloadName);
  const error = fields.child("error");
  const errorCode = error === undefined ? undefined : readProblemCode(error.record);
  const reason =
    errorCode === undefined
      ? undefined
      : vonageMessagesErrorReason(errorCode, undefined, optOutErrorCodes);

  return {
    provider: "vonage",
    messageId,
    status: mapVonageMessageStatus(providerStatus),
    providerStatus,
    errorCode,
    reason,
    to: optionalSender(fields, "to", payloadName),
    from: optionalSender(fields, "from", payloadName),
    receivedAt,
    providerTime: parseVonageTimestamp(fields.text("timestamp")),
    raw: fields.record,
  };
}

function optionalSender(fields: VonageFields, name: string, payloadName: string) {
  return fields.text(name) === undefined ? undefined : fields.sender(name, payloadName);
}

function checkSmsChannel(fields: VonageFields, payloadName: string): void {
  const channel = fields.text("channel");

  if (channel !== undefined && channel.toLowerCase() !== "sms") {
    throw new WebhookParseError(
      `Vonage ${payloadName} is on channel ${quoteRedacted(channel)}, but only sms is ` +
        "supported, so point other channels' webhooks elsewhere",
    );
  }
}
