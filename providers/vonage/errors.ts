import { ProviderError, type ProviderErrorReason, redactPhone } from "../../src/errors.js";

/**
 * Normalised reason for each non-zero `status` of an SMS API send response, from Vonage's
 * SMS API error table (https://developer.vonage.com/en/api-errors/sms). A status missing
 * here is `unknown`, never a success. None of them means an opt-out, because Vonage accepts a
 * send to an opted-out number with status 0 and rejects it later in the delivery receipt.
 */
export const vonageSmsStatusReasons: Readonly<Record<string, ProviderErrorReason>> = Object.freeze({
  // Throttled, because the account's send rate was exceeded. Sending slower succeeds.
  1: "rate-limited",
  // Missing (2) or invalid (3) parameters mean the request itself is wrong.
  2: "unknown",
  3: "unknown",
  // Invalid credentials (4), invalid signature (14), or a signature sent together with
  // the API secret (32).
  4: "auth",
  14: "auth",
  32: "auth",
  // An internal error (5) or too many connections (10). Both may pass on a retry.
  5: "transient",
  10: "transient",
  // The recipient cannot take the message, because of an unknown number prefix (6), a
  // number on Vonage's block list (7), or a number that was de-activated (33).
  6: "invalid-recipient",
  7: "invalid-recipient",
  33: "invalid-recipient",
  // The account is suspended (8), out of credit (9) or not enabled for HTTP (11). Or the
  // sender is not allowed for the destination (15), a demo account sends outside its
  // whitelist (29), or a short code is used outside its campaign (101).
  8: "sender-config",
  9: "sender-config",
  11: "sender-config",
  15: "sender-config",
  29: "sender-config",
  101: "sender-config",
  // The message is too long (12), or the callback URL is invalid (23).
  12: "unknown",
  23: "unknown",
  // The network code does not match the destination.
  22: "unroutable",
});

/**
 * Normalised reason for each `err-code` of an SMS API delivery receipt. Only 9 is an
 * opt-out, meaning that the recipient asked not to receive messages from this sender, for
 * example through Opt-Out Assist. Invalid numbers are `invalid-recipient`, never `opted-out`.
 */
export const vonageDeliveryErrorReasons: Readonly<Record<string, ProviderErrorReason>> =
  Object.freeze({
    9: "opted-out",

    // Unknown (1) and general (99) errors.
    1: "unknown",
    99: "unknown",

    // The subscriber is permanently absent (3) or the destination cannot be reached (12).
    3: "invalid-recipient",
    12: "invalid-recipient",

    // The number is valid but this route is closed, because the user barred calls (4), a
    // portability error occurred (5), there is no route (11), or the carrier blocks it (14).
    4: "unroutable",
    5: "unroutable",
    11: "unroutable",
    14: "unroutable",

    // The carrier rejected the content as spam (6) or as an illegal message (10), or for an
    // age restriction of the subscriber (13).
    6: "content-filtered",
    10: "content-filtered",
    13: "content-filtered",

    // The handset was temporarily absent (2) or busy (7), the network failed (8), or a
    // prepaid recipient had no funds (15). A later attempt may succeed.
    2: "transient",
    7: "transient",
    8: "transient",
    15: "transient",
  });

/**
 * Normalised reason for each Messages API error code, from Vonage's Messages API error
 * table (https://developer.vonage.com/en/api-errors/messages), and for the generic error
 * names at the end of an RFC 7807 `type` URL. The code of a rejection by Opt-Out Assist
 * is not documented, so pass it in `optOutErrorCodes` once known.
 */
export const vonageMessagesErrorReasons: Readonly<Record<string, ProviderErrorReason>> =
  Object.freeze({
    1000: "rate-limited",
    // Internal error (1030) or a failed communication (1100).
    1030: "transient",
    1100: "transient",
    // An unknown number prefix (1040) or a barred number (1050).
    1040: "invalid-recipient",
    1050: "invalid-recipient",
    // Account barred (1060), out of credit (1070), not enabled for REST (1080), an illegal
    // sender (1120), a facility not enabled (1140), or a demo account sending outside its
    // whitelist (1160).
    1060: "sender-config",
    1070: "sender-config",
    1080: "sender-config",
    1120: "sender-config",
    1140: "sender-config",
    1160: "sender-config",

    // Generic errors. Vonage spells one of its own `type` URLs `#unathorized`.
    unauthorized: "auth",
    unathorized: "auth",
    forbidden: "auth",
    unprovisioned: "auth",
    "invalid-api-key": "auth",
    "invalid-signature": "auth",
    "jwt-expired": "auth",
    "jwt-revoked": "auth",
    "low-balance": "sender-config",
    "account-suspended": "sender-config",
  });

/** Maps an SMS API send `status` to a normalised reason, or to `unknown` for an unknown one. */
export function vonageSmsStatusReason(status: string | number): ProviderErrorReason {
  return lookup(vonageSmsStatusReasons, status) ?? "unknown";
}

/**
 * Maps a delivery receipt `err-code` to a normalised reason. `0` (no error) and an absent
 * code give `undefined`, and an unknown code gives `unknown`.
 */
export function vonageDeliveryErrorReason(
  code: string | undefined,
): ProviderErrorReason | undefined {
  if (code === undefined || /^0+$/.test(code.trim())) {
    return undefined;
  }

  return lookup(vonageDeliveryErrorReasons, code) ?? "unknown";
}

/**
 * Maps a Messages API error code (`1050`) or generic error name (`unauthorized`) to a
 * normalised reason. Codes in `optOutCodes` are `opted-out`. An unknown code falls back
 * to the HTTP status when there is one, and then to `unknown`.
 */
export function vonageMessagesErrorReason(
  code: string | undefined,
  httpStatus?: number,
  optOutCodes: readonly string[] = [],
): ProviderErrorReason {
  const key = code?.trim() ?? "";

  if (key !== "" && optOutCodes.includes(key)) {
    return "opted-out";
  }

  return lookup(vonageMessagesErrorReasons, key) ?? reasonForHttpStatus(httpStatus);
}

function lookup(
  table: Readonly<Record<string, ProviderErrorReason>>,
  code: string | number,
): ProviderErrorReason | undefined {
  const key = String(code).trim().toLowerCase();

  return key !== "" && Object.hasOwn(table, key) ? table[key] : undefined;
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

/** One entry of the `messages` array of an SMS API send response. */
export interface VonageSmsPart {
  status: string;
  errorText: string | undefined;
}

/**
 * Builds the {@link ProviderError} for an SMS API response in which a part was rejected.
 * The reason and `providerCode` come from the first rejected part. The message says how
 * many parts were accepted, because those may still be delivered, and `rawBody` keeps every
 * part's status.
 */
export function mapVonageSmsRejection(
  parts: readonly VonageSmsPart[],
  rawBody: string,
  httpStatus = 200,
): ProviderError {
  const index = parts.findIndex((part) => part.status !== "0");
  const rejected = parts[index] ?? { status: "unknown", errorText: undefined };
  const accepted = parts.filter((part) => part.status === "0").length;
  const text = rejected.errorText === undefined ? "" : ` (${redactPhones(rejected.errorText)})`;
  const where = parts.length > 1 ? `part ${index + 1} of ${parts.length} has ` : "";
  const partial =
    accepted > 0
      ? `; ${accepted} of ${parts.length} parts were accepted and may still be delivered, ` +
        "so a retry can deliver them twice"
      : "";

  return new ProviderError(
    `Vonage SMS API rejected the message: ${where}status ${rejected.status}${text}${partial}`,
    {
      provider: "vonage",
      reason: vonageSmsStatusReason(rejected.status),
      providerCode: rejected.status,
      httpStatus,
      rawBody,
    },
  );
}

/** The fields of an RFC 7807 problem body that smsgate reads. */
interface ProblemBody {
  code: string | undefined;
  title: string | undefined;
  detail: string | undefined;
  instance: string | undefined;
  invalidParameters: string[];
}

/**
 * Builds the {@link ProviderError} for an HTTP response that was not a success: a Messages
 * API RFC 7807 problem (`type`, `title`, `detail`, `instance`, `invalid_parameters`), or
 * an SMS API response with an error status. HTTP 401 is `auth`, 429 `rate-limited` and 408
 * or 5xx `transient` whatever the body says. Otherwise the code at the end of the `type`
 * URL decides, then an invalid `to` parameter (`invalid-recipient`), then the status.
 * Phone numbers in the message are redacted, but `rawBody` keeps them.
 */
export function mapVonageErrorResponse(
  httpStatus: number,
  rawBody: string,
  optOutCodes: readonly string[] = [],
): ProviderError {
  const problem = readProblem(rawBody);
  const reason = problemReason(httpStatus, problem, optOutCodes);

  return new ProviderError(describeProblem(httpStatus, problem), {
    provider: "vonage",
    reason,
    providerCode: problem?.code,
    httpStatus,
    requestId: problem?.instance,
    rawBody,
  });
}

function problemReason(
  httpStatus: number,
  problem: ProblemBody | undefined,
  optOutCodes: readonly string[],
): ProviderErrorReason {
  const byStatus = reasonForHttpStatus(httpStatus);

  if (httpStatus !== 403 && byStatus !== "unknown") {
    return byStatus;
  }

  const byCode = vonageMessagesErrorReason(problem?.code, undefined, optOutCodes);

  if (byCode !== "unknown") {
    return byCode;
  }

  if (problem !== undefined && namesRecipient(problem)) {
    return "invalid-recipient";
  }

  return byStatus;
}

// The recipient is named in `invalid_parameters` or quoted as `to` in the detail.
function namesRecipient(problem: ProblemBody): boolean {
  return problem.invalidParameters.includes("to") || /[`'"]to[`'"]/.test(problem.detail ?? "");
}

function readProblem(rawBody: string): ProblemBody | undefined {
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
    code: readProblemCode(fields),
    title: readText(fields.title),
    detail: readText(fields.detail),
    instance: readText(fields.instance),
    invalidParameters: readParameterNames(fields.invalid_parameters),
  };
}

/**
 * Reads the error code of a problem or of a status webhook's `error` object: `code`, a
 * numeric `title` (status webhooks send `1000`), or the part of `type` after `#`.
 */
export function readProblemCode(fields: Readonly<Record<string, unknown>>): string | undefined {
  const code = readCodeValue(fields.code);

  if (code !== undefined) {
    return code;
  }

  const title = readCodeValue(fields.title);

  if (title !== undefined && /^\d+$/.test(title)) {
    return title;
  }

  const type = readText(fields.type);
  const fragment = type?.slice(type.lastIndexOf("#") + 1);

  return type?.includes("#") && fragment !== "" ? fragment : undefined;
}

function readCodeValue(value: unknown): string | undefined {
  if (typeof value === "number" && Number.isFinite(value)) {
    return String(value);
  }

  return readText(value);
}

function readParameterNames(value: unknown): string[] {
  if (!Array.isArray(value)) {
    return [];
  }

  return value.flatMap((item: unknown) => {
    const name = (item as { name?: unknown } | null)?.name;

    return typeof name === "string" ? [name] : [];
  });
}

function readText(value: unknown): string | undefined {
  return typeof value === "string" && value.trim() !== "" ? value : undefined;
}

function describeProblem(httpStatus: number, problem: ProblemBody | undefined): string {
  if (problem === undefined) {
    return `Vonage API request failed (HTTP ${httpStatus}) with a body that is not JSON`;
  }

  const code = problem.code === undefined ? "" : `, code ${problem.code}`;
  const parts = [problem.title, problem.detail].filter((part) => part !== undefined);
  const text = parts.length > 0 ? `: ${redactPhones(parts.join(": "))}` : "";

  return `Vonage API request failed (HTTP ${httpStatus}${code})${text}`;
}

function redactPhones(text: string): string {
  // Digit runs inside identifiers and other words are left alone.
  return text.replace(/(?<![\w+])\+?\d{7,15}(?!\w)/g, (match) => redactPhone(match));
}
