import { ProviderError, type ProviderErrorReason } from "smsgate";

/**
 * Normalised reason for Telnyx message error codes, in API responses and in the
 * `errors` of a `message.finalized` webhook. A code missing here falls back to the HTTP
 * status and then to `unknown`, never to success.
 *
 * NOTE: only 40300 (the recipient replied STOP) is taken as confirmed. The other codes
 * and their meanings are from memory of Telnyx's messaging error list and should be
 * checked against it.
 */
export const telnyxErrorCodeReasons: Readonly<Record<string, ProviderErrorReason>> = Object.freeze({
  // The recipient replied STOP to this sender, and Telnyx blocks further messages.
  40300: "opted-out",
  // The destination is a landline or a number that cannot take SMS.
  40001: "invalid-recipient",
  // Blocked as spam, for now (40002) or for good (40003).
  40002: "content-filtered",
  40003: "content-filtered",
  // The API key was not accepted.
  10009: "auth",
});

/**
 * Maps a Telnyx error code to a reason. A known code decides first, then the HTTP
 * status: 401 and 403 are `auth`, 429 `rate-limited`, 408 and 5xx `transient`, the rest
 * `unknown`.
 */
export function telnyxErrorReason(code: string | undefined, httpStatus?: number) {
  const key = code?.trim() ?? "";

  if (key !== "" && Object.hasOwn(telnyxErrorCodeReasons, key)) {
    return telnyxErrorCodeReasons[key] as ProviderErrorReason;
  }

  if (httpStatus === 401 || httpStatus === 403) {
    return "auth";
  }

  if (httpStatus === 429) {
    return "rate-limited";
  }

  const transient = httpStatus === 408 || (httpStatus !== undefined && httpStatus >= 500);

  return transient ? "transient" : "unknown";
}

/** Reads the code of the first entry of a Telnyx `errors` list, as text. */
export function firstErrorCode(errors: unknown): string | undefined {
  const first: unknown = Array.isArray(errors) ? errors[0] : undefined;
  const code = typeof first === "object" && first !== null ? Reflect.get(first, "code") : undefined;

  if (typeof code === "number" && Number.isFinite(code)) {
    return String(code);
  }

  return typeof code === "string" && code.trim() !== "" ? code.trim() : undefined;
}

/**
 * Builds the {@link ProviderError} for an API response that was not a success, from a
 * body of the form `{"errors": [{"code": "40300", "title": "...", "detail": "..."}]}`.
 */
export function mapTelnyxErrorResponse(httpStatus: number, rawBody: string): ProviderError {
  let body: unknown;

  try {
    body = JSON.parse(rawBody);
  } catch {
    body = undefined;
  }

  const errors = typeof body === "object" && body !== null ? Reflect.get(body, "errors") : [];
  const code = firstErrorCode(errors);
  const codeText = code === undefined ? "" : `, code ${code}`;

  return new ProviderError(`Telnyx API request failed (HTTP ${httpStatus}${codeText})`, {
    provider: "telnyx",
    reason: telnyxErrorReason(code, httpStatus),
    providerCode: code,
    httpStatus,
    rawBody,
  });
}
