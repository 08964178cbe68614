/**
 * Every error smsgate throws extends {@link SmsgateError} and carries a stable `code`.
 * Type guards check the `code` rather than `instanceof`, so they also work when the ESM and
 * the CJS build are both loaded in one process.
 */

const brand = Symbol.for("smsgate.error");

/** Normalised reasons a provider gives for refusing a message. */
export const providerErrorReasons = [
  "opted-out",
  "invalid-recipient",
  "unroutable",
  "sender-config",
  "auth",
  "rate-limited",
  "content-filtered",
  "transient",
  "unknown",
] as const;

/** One of {@link providerErrorReasons}. */
export type ProviderErrorReason = (typeof providerErrorReasons)[number];

/** Base class of every smsgate error. */
export class SmsgateError extends Error {
  /** Stable machine-readable code, such as `SMSGATE_INVALID_PHONE_NUMBER`. */
  readonly code: string;

  constructor(code: string, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = "SmsgateError";
    this.code = code;
    Object.defineProperty(this, brand, { value: true });
  }
}

/** Raised when a string does not normalise to a valid phone number or sender. */
export class InvalidPhoneNumberError extends SmsgateError {
  /** The text that was given, unchanged. */
  readonly input: string;
  /** Why the input is not a valid number, and what to change, without the input. */
  readonly detail: string;

  constructor(input: string, detail: string, options?: { cause?: unknown }) {
    super(
      "SMSGATE_INVALID_PHONE_NUMBER",
      `Invalid phone number ${JSON.stringify(input)}: ${detail}`,
      options,
    );
    this.name = "InvalidPhoneNumberError";
    this.input = input;
    this.detail = detail;
  }
}

/** Raised by `send()` when the recipient has opted out; the provider was not called. */
export class RecipientOptedOutError extends SmsgateError {
  /** The recipient in E.164 form (or the short code). */
  readonly to: string;
  /** The scope that was checked: a sender identity or `*`. */
  readonly scope: string;

  constructor(to: string, scope: string) {
    super(
      "SMSGATE_RECIPIENT_OPTED_OUT",
      `Recipient ${redactPhone(to)} has opted out (scope ${scope}); the message was not sent`,
    );
    this.name = "RecipientOptedOutError";
    this.to = to;
    this.scope = scope;
  }
}

/** Raised by `send()` when the opt-out store could not be read; nothing was sent. */
export class ConsentCheckError extends SmsgateError {
  constructor(message: string, options?: { cause?: unknown }) {
    super("SMSGATE_CONSENT_CHECK_FAILED", message, options);
    this.name = "ConsentCheckError";
  }
}

/** Raised by a store when its backend fails (database locked, disk full, unreachable). */
export class StoreError extends SmsgateError {
  constructor(message: string, options?: { cause?: unknown }) {
    super("SMSGATE_STORE_FAILED", message, options);
    this.name = "StoreError";
  }
}

/** Details a provider module gives when it maps a refusal to a {@link ProviderError}. */
export interface ProviderErrorDetails {
  provider: string;
  reason: ProviderErrorReason;
  /** The provider's own error code, as a string (`"21610"`). */
  providerCode?: string | undefined;
  httpStatus?: number | undefined;
  requestId?: string | undefined;
  /** The response body as received, for diagnosis. */
  rawBody?: string | undefined;
  cause?: unknown;
}

/** Raised when a provider refuses a message or cannot be reached. */
export class ProviderError extends SmsgateError {
  readonly provider: string;
  readonly reason: ProviderErrorReason;
  readonly providerCode: string | undefined;
  readonly httpStatus: number | undefined;
  readonly requestId: string | undefined;
  readonly rawBody: string | undefined;

  constructor(message: string, details: ProviderErrorDetails) {
    super("SMSGATE_PROVIDER_ERROR", message, { cause: details.cause });
    this.name = "ProviderError";
    this.provider = details.provider;
    this.reason = details.reason;
    this.providerCode = details.providerCode;
    this.httpStatus = details.httpStatus;
    this.requestId = details.requestId;
    this.rawBody = details.rawBody;
  }
}

/** The reason a webhook failed verification. */
export type WebhookVerificationFailure =
  | "missing-signature"
  | "invalid-signature"
  | "stale-timestamp"
  | "missing-secret";

/** Raised when a webhook's signature is missing, wrong or outside its time window. */
export class WebhookVerificationError extends SmsgateError {
  readonly failure: WebhookVerificationFailure;

  constructor(failure: WebhookVerificationFailure, message: string) {
    super("SMSGATE_WEBHOOK_VERIFICATION_FAILED", message);
    this.name = "WebhookVerificationError";
    this.failure = failure;
  }
}

/** Raised when a webhook body cannot be parsed or lacks a required field. */
export class WebhookParseError extends SmsgateError {
  constructor(message: string, options?: { cause?: unknown }) {
    super("SMSGATE_WEBHOOK_INVALID", message, options);
    this.name = "WebhookParseError";
  }
}

/** Raised by a store when a consent event or webhook receipt is malformed. */
export class InvalidConsentEventError extends SmsgateError {
  /** The path of the invalid field, such as `event.occurredAt`. */
  readonly field: string;

  constructor(field: string, message: string) {
    super("SMSGATE_INVALID_CONSENT_EVENT", `Invalid consent event: ${field} ${message}`);
    this.name = "InvalidConsentEventError";
    this.field = field;
  }
}

/** Raised when the arguments of a call are invalid, such as an empty message body. */
export class InvalidRequestError extends SmsgateError {
  constructor(message: string) {
    super("SMSGATE_INVALID_REQUEST", message);
    this.name = "InvalidRequestError";
  }
}

/** Raised when options or a configuration file are invalid; the message names the path. */
export class ConfigError extends SmsgateError {
  /** The option path, such as `providers.twilio.authToken`. */
  readonly path: string;

  constructor(path: string, message: string, options?: { cause?: unknown }) {
    super("SMSGATE_INVALID_CONFIG", path ? `${path}: ${message}` : message, options);
    this.name = "ConfigError";
    this.path = path;
  }
}

function hasCode(value: unknown, code: string): boolean {
  return isSmsgateError(value) && value.code === code;
}

/** Checks whether a value is an smsgate error from any loaded copy of the package. */
export function isSmsgateError(value: unknown): value is SmsgateError {
  return typeof value === "object" && value !== null && brand in value;
}

/** Checks whether a value is an {@link InvalidPhoneNumberError}. */
export function isInvalidPhoneNumberError(value: unknown): value is InvalidPhoneNumberError {
  return hasCode(value, "SMSGATE_INVALID_PHONE_NUMBER");
}

/** Checks whether a value is a {@link RecipientOptedOutError}. */
export function isRecipientOptedOutError(value: unknown): value is RecipientOptedOutError {
  return hasCode(value, "SMSGATE_RECIPIENT_OPTED_OUT");
}

/** Checks whether a value is a {@link ConsentCheckError}. */
export function isConsentCheckError(value: unknown): value is ConsentCheckError {
  return hasCode(value, "SMSGATE_CONSENT_CHECK_FAILED");
}

/** Checks whether a value is a {@link StoreError}. */
export function isStoreError(value: unknown): value is StoreError {
  return hasCode(value, "SMSGATE_STORE_FAILED");
}

/** Checks whether a value is a {@link ProviderError}. */
export function isProviderError(value: unknown): value is ProviderError {
  return hasCode(value, "SMSGATE_PROVIDER_ERROR");
}

/** Checks whether a value is a {@link WebhookVerificationError}. */
export function isWebhookVerificationError(value: unknown): value is WebhookVerificationError {
  return hasCode(value, "SMSGATE_WEBHOOK_VERIFICATION_FAILED");
}

/** Checks whether a value is a {@link WebhookParseError}. */
export function isWebhookParseError(value: unknown): value is WebhookParseError {
  return hasCode(value, "SMSGATE_WEBHOOK_INVALID");
}

/** Checks whether a value is an {@link InvalidConsentEventError}. */
export function isInvalidConsentEventError(value: unknown): value is InvalidConsentEventError {
  return hasCode(value, "SMSGATE_INVALID_CONSENT_EVENT");
}

/** Checks whether a value is an {@link InvalidRequestError}. */
export function isInvalidRequestError(value: unknown): value is InvalidRequestError {
  return hasCode(value, "SMSGATE_INVALID_REQUEST");
}

/** Checks whether a value is a {@link ConfigError}. */
export function isConfigError(value: unknown): value is ConfigError {
  return hasCode(value, "SMSGATE_INVALID_CONFIG");
}

/**
 * Hides all but the last four digits of a phone number, for messages and logs.
 * Short values (short codes, sender IDs) are kept, because they identify no person.
 */
export function redactPhone(phone: string): string {
  if (phone.length <= 6) {
    return phone;
  }

  return `${phone.slice(0, phone.startsWith("+") ? 2 : 1)}***${phone.slice(-4)}`;
}

// Numbers after `+`, or after `%2B` as form bodies and query strings encode it: digit groups
// joined by spaces (encoded there as `+` or `%20`), hyphens, dots or parentheses.
const signedNumber = String.raw`(\+|%2[Bb])(\(?\d+(?:(?: ?\(|\) ?|[ +.\-]|%20)\d+)*)`;

// Digits without a sign: groups joined by spaces, hyphens or parentheses with no letter,
// digit or `_` next to them, or a run of 8 or more that no letter precedes. Dots are left
// out, so that IPv4 addresses and decimals stay readable. A run right after a letter is
// part of an identifier, such as the account SID in `AC0123456789abcdef…`.
const unsignedNumber = String.raw`(?<!\w)\(?\d+(?:(?: ?\(|\) ?|[ \-])\d+)+(?!\w)|(?<![\dA-Za-z])\d{8,}`;

// A UUID, such as a request id or a Plivo message id, is matched first and kept as it is,
// because its first group can be 8 digits.
const uuid = String.raw`(?<![\dA-Za-z])([\dA-Fa-f]{8}(?:-[\dA-Fa-f]{4}){3}-[\dA-Fa-f]{12})(?![\dA-Za-z])`;

const phoneLike = new RegExp(`${uuid}|${signedNumber}|${unsignedNumber}`, "g");

/** Minimum digits after `+` that are masked, so `+1234567` is the shortest number masked. */
const minSignedDigits = 7;

/** Runs of 8 digits or more, which are masked wherever they are. */
const digitRun = /\d{8,}/g;

/**
 * Limits of the digit count of unsigned grouped digits that are masked in log text.
 * National numbers have 9 to 15 digits. Fewer would mask a date such as 2024-01-15, and
 * more would mask two dates in a row.
 */
const minGroupedDigits = 9;
const maxGroupedDigits = 15;

/**
 * A test that matches every text in which {@link phoneLike} finds a number to mask, and
 * few others, and costs less than a replace that finds nothing: a run of 8 digits, 7
 * digits after a sign, or 9 digits in groups with no letter, digit or `_` around them.
 */
const maybePhoneLike =
  /\d{8}|(?:\+|%2[Bb])\(?(?:\d(?:[ ()+.-]{1,2}|%20)?){6}\d|(?<!\w)\(?(?:\d[ ()-]{0,2}){8}\d[\d ()-]*(?!\w)/;

/** Length of the shortest text that can contain a number to mask, `+1234567`. */
const minMaskedLength = 8;

/** Masks the numbers in `text`; unsigned grouped digits only when `maskGrouped` is set. */
function maskPhoneText(text: string, maskGrouped: boolean): string {
  // Most logged strings contain no number to mask, and a replace that finds nothing costs
  // several times more than these tests.
  if (text.length < minMaskedLength || !maybePhoneLike.test(text)) {
    return text;
  }

  // An `exec` loop costs less than `replace` with a function.
  let masked = "";
  let end = 0;
  phoneLike.lastIndex = 0;

  for (let match = phoneLike.exec(text); match !== null; match = phoneLike.exec(text)) {
    masked += text.slice(end, match.index) + maskMatch(match, maskGrouped);
    end = match.index + match[0].length;
  }

  return masked + text.slice(end);
}

function maskMatch(match: RegExpExecArray, maskGrouped: boolean): string {
  const [text, uuidText, sign, signed] = match;

  if (uuidText !== undefined) {
    return text;
  }

  if (sign !== undefined && signed !== undefined) {
    return maskSigned(text, sign, signed);
  }

  const digits = text.replace(/\D/g, "");

  if (maskGrouped && digits.length >= minGroupedDigits && digits.length <= maxGroupedDigits) {
    return redactPhone(digits);
  }

  return text.replace(digitRun, (run) => redactPhone(run));
}

function maskSigned(match: string, sign: string, groups: string): string {
  // The digits of a `%20` separator are not digits of the number.
  const digits = groups.replace(/%20|\D/g, "");

  if (digits.length < minSignedDigits) {
    return match;
  }

  return sign + redactPhone(`+${digits}`).slice(1);
}

/**
 * Masks the phone numbers in a text as {@link redactPhone} does (`+1***0143`), for log
 * lines. Only ASCII digits count. It masks digits after `+` or `%2B` when there are at
 * least 7, also grouped as in `+1 (202) 555-0143`, and every run of 8 or more digits that
 * does not follow a letter. It also masks 9 to 15 digits without `+` in groups joined by spaces, hyphens or
 * parentheses, such as `(202) 555-0143`, unless a letter or `_` is next to them. A run of
 * digits right after a letter is left as it is, so ids such as `AC…` and `SM…` SIDs stay
 * readable and match the ids an application receives.
 * @example maskPhoneNumbers("from 12025550143 on port 8080") // "from 1***0143 on port 8080"
 */
export function maskPhoneNumbers(text: string): string {
  return maskPhoneText(text, true);
}

/** Maximum length of a value that {@link quoteRedacted} quotes whole. */
const maxQuotedLength = 32;

/** Characters that {@link quoteRedacted} keeps of a longer value. */
const quotedPrefixLength = 16;

/**
 * Quotes a value from a request, such as a phone number, for an error message, as JSON
 * text. Digits after `+` and runs of 8 or more digits are masked as
 * {@link maskPhoneNumbers} masks them. A value longer than 32 characters is cut to its
 * first 16, followed by its length.
 *
 * NOTE: unlike {@link maskPhoneNumbers}, it keeps grouped digits without `+`, such as
 * `(202) 555-0143`, because the CLI names a number typed by its user with this quote.
 * Logs pass through {@link maskPhoneNumbers}, which masks them.
 * @example quoteRedacted("12025550143") // "\"1***0143\""
 */
export function quoteRedacted(input: string): string {
  if (input.length <= maxQuotedLength) {
    return JSON.stringify(maskPhoneText(input, false));
  }

  const prefix = maskPhoneText(input.slice(0, quotedPrefixLength), false);

  return `${JSON.stringify(`${prefix}…`)} (${input.length} characters)`;
}
