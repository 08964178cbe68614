import { ProviderError, type ProviderErrorReason, redactPhone } from "../../src/errors.js";

/**
 * Normalised reason for each Plivo message error code (the `ErrorCode` of a status
 * callback, and `error_code` of a fetched message). A code missing here falls back to
 * `unknown`, never to success. Source: Plivo's SMS error code list
 * (plivo.com/docs/messaging/troubleshooting/error-codes).
 */
export const plivoErrorCodeReasons: Readonly<Record<string, ProviderErrorReason>> = Object.freeze({
  // The recipient replied STOP to this sending number. Plivo blocks every later message
  // from that number to them until they reply START, so a retry never helps.
  200: "opted-out",

  // The destination is not a usable mobile number: bad format, landline or not able to
  // take SMS (50), or no longer in service (70).
  50: "invalid-recipient",
  70: "invalid-recipient",

  // The number is valid but this route is closed: no carrier route exists (90), the
  // carrier prohibits the traffic (100), a US toll-free number cannot reach Canada (201),
  // or Geo Permissions bar the destination country (450).
  90: "unroutable",
  100: "unroutable",
  201: "unroutable",
  450: "unroutable",

  // The sender or account is set up wrong: the source number is malformed, not able to
  // send SMS or not in the account (40), or the account has run out of credit (900).
  // Sends resume only after the configuration is fixed or the account is topped up.
  40: "sender-config",
  900: "sender-config",

  // Filters stopped the message: spam detection (30), or loop detection, which blocks
  // the same text sent again and again between one pair of numbers (60).
  30: "content-filtered",
  60: "content-filtered",

  // A network error (20) or a handset that is off or out of coverage (80). Both may
  // succeed on a later attempt.
  20: "transient",
  80: "transient",

  // A carrier rejected the message as invalid (10), the message is longer than Plivo
  // accepts (110), or Plivo gives no cause (1000). No normalised reason fits, and the
  // code stays in the report.
  10: "unknown",
  110: "unknown",
  1000: "unknown",
});

/**
 * Maps a Plivo message error code to a normalised reason. A known code decides first.
 * Otherwise the HTTP status does: 401 is `auth`, 429 is `rate-limited`, 408 and 5xx are
 * `transient`, and everything else is `unknown`.
 */
export function plivoErrorReason(
  code: string | number | undefined,
  httpStatus?: number,
): ProviderErrorReason {
  const key = code === undefined ? "" : String(code).trim();

  if (key !== "" && Object.hasOwn(plivoErrorCodeReasons, key)) {
    return plivoErrorCodeReasons[key] as ProviderErrorReason;
  }

  return reasonForHttpStatus(httpStatus);
}

function reasonForHttpStatus(httpStatus: number | undefined): ProviderErrorReason {
  if (httpStatus === 401) {
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

/** The addresses of the request, as sent, to tell a bad recipient from a bad sender. */
export interface PlivoRequestAddresses {
  /** The `src` that was sent. */
  src?: string | undefined;
  /** The `dst` that was sent. */
  dst?: string | undefined;
}

/** The fields of a Plivo error body that smsgate reads. */
interface PlivoErrorBody {
  error: string | undefined;
  apiId: string | undefined;
  invalidNumbers: string[];
}

/**
 * Builds the {@link ProviderError} for a Message API response that was not a success.
 *
 * Plivo's error body is `{"api_id": "...", "error": "..."}`, and a send whose numbers were
 * all invalid may list them in `invalid_number`. The reason comes from, in order: an
 * `invalid_number` list (`invalid-recipient`), the text of a 400 about an invalid number
 * (`invalid-recipient`, or `sender-config` when the number quoted is `src`) or about
 * missing credit, a 403 about Geo Permissions (`unroutable`), and then the HTTP status:
 * 401 and other 403s are `auth`, 429 `rate-limited`, 408 and 5xx `transient`, the rest
 * `unknown`. The error keeps the HTTP status, `api_id` as the request id, and the raw
 * body. Phone numbers in Plivo's text are redacted because messages end up in logs.
 */
export function mapPlivoErrorResponse(
  httpStatus: number,
  rawBody: string,
  addresses: PlivoRequestAddresses = {},
): ProviderError {
  const body = readErrorBody(rawBody);
  const reason = reasonForResponse(httpStatus, body, addresses);

  return new ProviderError(describeError(httpStatus, body), {
    provider: "plivo",
    reason,
    httpStatus,
    requestId: body?.apiId,
    rawBody,
  });
}

// Plivo's text for a number it cannot parse: `'1111111' is not a valid phone number.`
const QUOTED_INVALID_NUMBER = /'([^']*)' is not a valid phone number/i;
const INVALID_NUMBER = /invalid (phone |destination |dst )?numbers?|not a valid phone number/i;
const NO_CREDIT = /insufficient (credit|balance|funds)/i;
const GEO_PERMISSION = /geo[ -]?permission|country/i;

function reasonForResponse(
  httpStatus: number,
  body: PlivoErrorBody | undefined,
  addresses: PlivoRequestAddresses,
): ProviderErrorReason {
  const text = body?.error ?? "";

  if ((body?.invalidNumbers.length ?? 0) > 0) {
    return "invalid-recipient";
  }

  if (httpStatus === 400 && INVALID_NUMBER.test(text)) {
    return numberReason(text, addresses);
  }

  if (NO_CREDIT.test(text)) {
    return "sender-config";
  }

  // NOTE: Plivo's API reference lists no 403. Reading one that names Geo Permissions as
  // `unroutable`, and any other as `auth`, is an assumption.
  if (httpStatus === 403) {
    return GEO_PERMISSION.test(text) ? "unroutable" : "auth";
  }

  return reasonForHttpStatus(httpStatus);
}

function numberReason(text: string, addresses: PlivoRequestAddresses): ProviderErrorReason {
  const quoted = QUOTED_INVALID_NUMBER.exec(text)?.[1];
  const isSource = quoted !== undefined && quoted !== "" && quoted === addresses.src;

  return isSource && quoted !== addresses.dst ? "sender-config" : "invalid-recipient";
}

function readErrorBody(rawBody: string): PlivoErrorBody | undefined {
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
    error: readErrorText(fields.error) ?? readErrorText(fields.message),
    apiId: readText(fields.api_id),
    invalidNumbers: readTextList(fields.invalid_number),
  };
}

/** Reads the non-empty strings of a list and drops other items. A string is a list of one. */
export function readTextList(value: unknown): string[] {
  const items = Array.isArray(value) ? value : [value];

  return items.filter((item): item is string => typeof item === "string" && item !== "");
}

function readText(value: unknown): string | undefined {
  return typeof value === "string" && value.trim() !== "" ? value : undefined;
}

// Validation errors sometimes name each bad field in an object, `{"dst": ["..."]}`.
function readErrorText(value: unknown): string | undefined {
  if (typeof value === "object" && value !== null) {
    return JSON.stringify(value);
  }

  return readText(value);
}

function describeError(httpStatus: number, body: PlivoErrorBody | undefined): string {
  if (body === undefined) {
    return `Plivo API request failed (HTTP ${httpStatus}) with a body that is not JSON`;
  }

  const text = body.error === undefined ? "" : `: ${redactPhones(body.error)}`;
  const count = body.invalidNumbers.length;
  const invalid = count === 0 ? "" : ` (${count} invalid number${count === 1 ? "" : "s"})`;

  return `Plivo API request failed (HTTP ${httpStatus})${text}${invalid}`;
}

// Digit runs inside words and UUIDs are left alone.
function redactPhones(text: string): string {
  return text.replace(/(?<![\w+-])\+?\d{7,15}(?![\w-])/g, (match) => redactPhone(match));
}
