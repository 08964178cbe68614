import { ProviderError, type ProviderErrorReason, redactPhone } from "../../src/errors.js";

/**
 * Normalised reason for each Twilio error code that smsgate acts on. Twilio keeps refining
 * its codes (it split 21211, 21212, 21606 and 21614 into narrower ones in July 2024), so a
 * code missing here falls back to the HTTP status and then to `unknown`, never to success.
 * Sources: https://www.twilio.com/docs/api/errors and the test-credential table.
 */
export const twilioErrorCodeReasons: Readonly<Record<string, ProviderErrorReason>> = Object.freeze({
  // The recipient replied STOP (or another opt-out word) to this sender or Messaging
  // Service. Twilio sends nothing to them until they reply START, so a retry never helps.
  21610: "opted-out",

  // The recipient cannot take SMS. `To` is not a valid number (21211), not a mobile
  // number (21614), a landline (21635), or missing (21604). Later, the handset may no
  // longer exist (30005), or it is a landline or out of a short code's reach (30006).
  21211: "invalid-recipient",
  21604: "invalid-recipient",
  21614: "invalid-recipient",
  21635: "invalid-recipient",
  30005: "invalid-recipient",
  30006: "invalid-recipient",

  // The number is valid but this route is closed: the To/From pair cannot be routed
  // (21612), Messaging Geo Permissions block the country (21408), or the destination
  // blocked the message (30004, known from secondary listings only).
  21612: "unroutable",
  21408: "unroutable",
  30004: "unroutable",

  // The sender or the account is set up wrong. `From` is not SMS-capable (21606), not
  // owned by the account (21212), a short code of another country (21659) or invalid
  // (21661). A trial account or a missing compliance profile gives 21608, and an
  // unregistered US 10DLC number gives 30034.
  21606: "sender-config",
  21212: "sender-config",
  21659: "sender-config",
  21661: "sender-config",
  21608: "sender-config",
  30034: "sender-config",

  // The Account SID and Auth Token (or API key) were not accepted.
  20003: "auth",

  // Too many requests (20429), or the sending number's queue is full (21611). Both clear
  // when the sender slows down.
  20429: "rate-limited",
  21611: "rate-limited",

  // Twilio or the carrier filtered the content as spam or against policy.
  30007: "content-filtered",

  // The handset was unreachable (off, no signal) or the carrier reported an unknown
  // delivery error. Both may succeed on a later attempt.
  30003: "transient",
  30008: "transient",
});

/**
 * Maps a Twilio error code to a normalised reason. A known code decides first. Otherwise
 * the HTTP status does: 401 and 403 are `auth`, 429 is `rate-limited`, 408 and 5xx are
 * `transient`, and everything else is `unknown`.
 */
export function twilioErrorReason(
  code: string | number | undefined,
  httpStatus?: number,
): ProviderErrorReason {
  const key = code === undefined ? "" : String(code).trim();

  if (key !== "" && Object.hasOwn(twilioErrorCodeReasons, key)) {
    return twilioErrorCodeReasons[key] as ProviderErrorReason;
  }

  return reasonForHttpStatus(httpStatus);
}

function reasonForHttpStatus(httpStatus: number | undefined): ProviderErrorReason {
  if (httpStatus === 401 || httpStatus === 403) {
    return "auth";
  }

  if (httpStatus === 429) {
    return "rate-limited";
  }

  if (httpStatus === 408 || (httpStatus !== undefined && httpStatus >= 500)) {
    return "transient";
  }

  return "unknown";
}

/** The fields of a Twilio error body that smsgate reads, from either shape. */
interface TwilioErrorBody {
  code: string | undefined;
  message: string | undefined;
  moreInfo: string | undefined;
}

/**
 * Builds the {@link ProviderError} for a Twilio REST response that was not a success.
 *
 * Reads the classic body `{code, message, more_info, status}` and the RFC 9457 problem body
 * `{type, title, status, code, detail}`. A body that is not JSON still gives an error with
 * the HTTP status. The error keeps the Twilio code, the HTTP status, the
 * `Twilio-Request-Id` and the raw body. Phone numbers in Twilio's message are redacted
 * because error messages end up in logs; `rawBody` keeps them.
 */
export function mapTwilioErrorResponse(
  httpStatus: number,
  rawBody: string,
  requestId?: string,
): ProviderError {
  const body = readErrorBody(rawBody);
  const reason = twilioErrorReason(body?.code, httpStatus);

  return new ProviderError(describeError(httpStatus, body), {
    provider: "twilio",
    reason,
    providerCode: body?.code,
    httpStatus,
    requestId,
    rawBody,
  });
}

function readErrorBody(rawBody: string): TwilioErrorBody | undefined {
  let parsed: unknown;

  try {
    parsed = JSON.parse(rawBody);
  } catch {
    return undefined;
  }

  if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed)) {
    return undefined;
  }

  const fields = parsed as Record<string, unknown>;

  return {
    code: readCode(fields.code),
    message: readText(fields.message) ?? joinProblemText(fields),
    moreInfo: readText(fields.more_info) ?? readText(fields.type),
  };
}

function readCode(value: unknown): string | undefined {
  if (typeof value === "number" && Number.isFinite(value)) {
    return String(value);
  }

  return readText(value);
}

function readText(value: unknown): string | undefined {
  return typeof value === "string" && value.trim() !== "" ? value : undefined;
}

// RFC 9457 puts a short summary in `title` and the specifics in `detail`.
function joinProblemText(fields: Record<string, unknown>): string | undefined {
  const parts = [readText(fields.title), readText(fields.detail)].filter(Boolean);

  return parts.length > 0 ? parts.join(": ") : undefined;
}

function describeError(httpStatus: number, body: TwilioErrorBody | undefined): string {
  if (body === undefined) {
    return `Twilio API request failed (HTTP ${httpStatus}) with a body that is not JSON`;
  }

  const code = body.code === undefined ? "" : `, code ${body.code}`;
  const text = body.message === undefined ? "" : `: ${redactPhones(body.message)}`;
  const link = body.moreInfo === undefined ? "" : ` (${body.moreInfo})`;

  return `Twilio API request failed (HTTP ${httpStatus}${code})${text}${link}`;
}

function redactPhones(text: string): string {
  // Digit runs inside SIDs and other words are left alone.
  return text.replace(/(?<![\w+])\+?\d{7,15}(?!\w)/g, (match) => redactPhone(match));
}
