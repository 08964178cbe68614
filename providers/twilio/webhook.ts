import type { CountryCode } from "libphonenumber-js";
import {
  isWebhookParseError,
  WebhookParseError,
  WebhookVerificationError,
} from "../../src/errors.js";
import type { FormPair } from "../../src/http/form.js";
import {
  checkWebhookBodyType,
  hasJsonBody,
  usesQueryFields,
} from "../../src/http/webhook-request.js";
import type {
  ConsentIntent,
  DeliveryReport,
  InboundMessage,
  ParsedWebhook,
  WebhookKind,
  WebhookRequest,
} from "../../src/provider.js";
import { isConversationsMessage, readConversationsInbound } from "./conversations.js";
import { twilioErrorReason } from "./errors.js";
import { jsonBodyToPairs, readFormFields, TwilioFields } from "./fields.js";
import { verifyTwilioJsonSignature, verifyTwilioSignature } from "./signature.js";
import { mapTwilioMessageStatus } from "./status.js";

/** Options of {@link parseTwilioWebhook}. */
export interface ParseTwilioWebhookOptions {
  /**
   * Auth Token. Needed only to read a JSON body, which is accepted only when its
   * `bodySHA256` checks out, because Twilio's signature covers the URL and not the body.
   */
  authToken?: string | undefined;
  /** Region for numbers written without a country code. None is assumed when absent. */
  defaultRegion?: CountryCode | undefined;
  /** Time of receipt for `receivedAt`. @default new Date() */
  receivedAt?: Date | undefined;
}

const OPT_OUT_TYPES: Readonly<Record<string, ConsentIntent>> = {
  STOP: "opt-out",
  START: "opt-in",
  HELP: "help",
};

/**
 * Checks the `X-Twilio-Signature` of a webhook over `request.url` exactly as given. That
 * must be the public URL configured at Twilio, because this function never rebuilds it from
 * `Host` or `X-Forwarded-*` headers. A POST form body signs its parameters, a GET signs only
 * the URL (the fields are in its query), and a JSON body is checked through `bodySHA256`.
 *
 * @throws {WebhookVerificationError} `missing-signature` without the header,
 * `invalid-signature` when it does not match.
 */
export function verifyTwilioWebhook(request: WebhookRequest, authToken: string): void {
  const signature = request.headers.get("x-twilio-signature");

  if (signature === null || signature.trim() === "") {
    throw new WebhookVerificationError(
      "missing-signature",
      "Twilio webhook has no X-Twilio-Signature header; only Twilio's signed requests are accepted",
    );
  }

  if (!signatureMatches(request, authToken, signature)) {
    throw new WebhookVerificationError(
      "invalid-signature",
      `X-Twilio-Signature does not match ${request.method} ${request.url}. Check that this URL ` +
        "is the public URL configured at Twilio (scheme, host, port, path and query) and " +
        "that the Auth Token is the primary token of the account that owns the number",
    );
  }
}

function signatureMatches(request: WebhookRequest, authToken: string, signature: string): boolean {
  const url = request.url;

  if (usesQueryFields(request)) {
    return verifyTwilioSignature({ authToken, url, params: [], signature });
  }

  if (hasJsonBody(request)) {
    return verifyTwilioJsonSignature({ authToken, url, rawBody: request.body, signature });
  }

  try {
    return verifyTwilioSignature({ authToken, url, params: readFormFields(request), signature });
  } catch (error) {
    // A body that is not a valid form cannot be the one Twilio signed.
    if (isWebhookParseError(error)) {
      return false;
    }

    throw error;
  }
}

/**
 * Parses a Twilio Messaging webhook: an incoming message (`inbound`) or a status callback
 * (`status`). The fields come from the form body, or from the query string of a GET.
 *
 * @throws {WebhookParseError} for a malformed body, a missing `MessageSid` (and its legacy
 * twins `SmsMessageSid`, `SmsSid`), a `From` or `To` that is not a valid sender, a status
 * callback without `MessageStatus`, or a JSON body that did not pass `bodySHA256`. No other
 * exception escapes, whatever the input.
 */
export function parseTwilioWebhook(
  request: WebhookRequest,
  kind: WebhookKind,
  options: ParseTwilioWebhookOptions = {},
): ParsedWebhook {
  try {
    const pairs = readPairs(request, options);
    const fields = new TwilioFields(pairs, options.defaultRegion);

    if (kind === "status") {
      return { inbound: [], reports: [readReport(fields, options)] };
    }

    if (isConversationsMessage(fields)) {
      const token = request.headers.get("i-twilio-idempotency-token") ?? undefined;
      const receivedAt = options.receivedAt ?? new Date();

      return { inbound: [readConversationsInbound(fields, receivedAt, token)], reports: [] };
    }

    return { inbound: [readInbound(fields, options)], reports: [] };
  } catch (error) {
    if (isWebhookParseError(error)) {
      throw error;
    }

    const detail = error instanceof Error ? error.message : String(error);

    throw new WebhookParseError(`Twilio webhook could not be parsed: ${detail}`, {
      cause: error,
    });
  }
}

function readPairs(
  request: WebhookRequest,
  options: ParseTwilioWebhookOptions,
): readonly FormPair[] {
  checkWebhookBodyType(request, "Twilio webhook");

  if (usesQueryFields(request) || !hasJsonBody(request)) {
    return readFormFields(request);
  }

  const signature = request.headers.get("x-twilio-signature");
  const verified =
    options.authToken !== undefined &&
    verifyTwilioJsonSignature({
      authToken: options.authToken,
      url: request.url,
      rawBody: request.body,
      signature,
    });

  if (!verified) {
    throw new WebhookParseError(
      "Twilio Messaging webhooks are form-encoded, and this JSON body has no valid " +
        "bodySHA256 signature; configure the webhook with HTTP POST form parameters",
    );
  }

  return jsonBodyToPairs(request.body);
}

function readInbound(fields: TwilioFields, options: ParseTwilioWebhookOptions): InboundMessage {
  const messageId = fields.messageId();
  const from = fields.requireSender("From", "To");
  const to = fields.requireSender("To", "From");

  return {
    provider: "twilio",
    messageId,
    accountId: fields.text("AccountSid"),
    from,
    to,
    serviceId: fields.text("MessagingServiceSid"),
    text: fields.raw("Body") ?? "",
    receivedAt: options.receivedAt ?? new Date(),
    media: fields.media(),
    segments: fields.count("NumSegments"),
    providerIntent: readOptOutType(fields.text("OptOutType")),
    raw: fields.record,
  };
}

function readReport(fields: TwilioFields, options: ParseTwilioWebhookOptions): DeliveryReport {
  const messageId = fields.messageId();
  const providerStatus = fields.text("MessageStatus") ?? fields.text("SmsStatus");

  if (providerStatus === undefined) {
    throw new WebhookParseError(
      "Twilio status callback has no MessageStatus (nor SmsStatus); " +
        "check that this URL is used only as a StatusCallback",
    );
  }

  const errorCode = fields.text("ErrorCode");

  return {
    provider: "twilio",
    messageId,
    accountId: fields.text("AccountSid"),
    status: mapTwilioMessageStatus(providerStatus),
    providerStatus,
    errorCode,
    reason: errorCode === undefined ? undefined : twilioErrorReason(errorCode),
    to: fields.optionalSender("To", "From"),
    from: fields.optionalSender("From", "To"),
    serviceId: fields.text("MessagingServiceSid"),
    receivedAt: options.receivedAt ?? new Date(),
    providerTime: parseDlrDoneDate(fields.text("RawDlrDoneDate")),
    raw: fields.record,
  };
}

function readOptOutType(value: string | undefined): ConsentIntent | undefined {
  const key = value?.trim().toUpperCase() ?? "";

  return Object.hasOwn(OPT_OUT_TYPES, key) ? OPT_OUT_TYPES[key] : undefined;
}

/**
 * Reads a carrier done-date, `YYMMDDhhmm` in UTC (some carriers add seconds). An
 * impossible date gives `undefined`: the field is informational and the raw value stays in
 * `raw`, so it must not cost the report.
 */
export function parseDlrDoneDate(value: string | undefined): Date | undefined {
  const match = /^(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})?$/.exec(value ?? "");

  if (match === null) {
    return undefined;
  }

  const part = (index: number): number => Number(match[index] ?? "0");
  const parts = [2000 + part(1), part(2) - 1, part(3), part(4), part(5), part(6)] as const;
  const date = new Date(Date.UTC(...parts));

  // Date.UTC rolls an impossible part over (month 13, hour 25), which changes the others.
  const roundTrip = [
    date.getUTCFullYear(),
    date.getUTCMonth(),
    date.getUTCDate(),
    date.getUTCHours(),
    date.getUTCMinutes(),
    date.getUTCSeconds(),
  ];

  return roundTrip.every((value, index) => value === parts[index]) ? date : undefined;
}
