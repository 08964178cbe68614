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

  constructor(input: string, detail: string, options?: { cause?: unknown }) {
    super(
      "SMSGATE_INVALID_PHONE_NUMBER",
      `Invalid phone number ${JSON.stringify(input)}: ${detail}`,
      options,
    );
    this.name = "InvalidPhoneNumberError";
    this.input = input;
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
