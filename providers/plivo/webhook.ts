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
import { plivoErrorReason } from "./errors.js";
import { PlivoFields, readFormFields } from "./fields.js";
import {
  plivoSignatureBaseUrl,
  verifyPlivoSignatureV2,
  verifyPlivoSignatureV3,
} from "./signature.js";
import { mapPlivoMessageStatus } from "./status.js";

/** The keys {@link verifyPlivoWebhook} checks signatures with. */
export interface PlivoWebhookSecrets {
  /** Auth Token of the account or subaccount that owns the number. */
  authToken: string;
  /** Main account's Auth Token. The `-Ma-` headers are checked only when it is set. */
  mainAccountAuthToken?: string | undefined;
  /** Reject webhooks that carry only V2 headers. @default false */
  requireV3Signature?: boolean | undefined;
}

/** Options of {@link parsePlivoWebhook}. */
export interface ParsePlivoWebhookOptions {
  /** Time of receipt for `receivedAt`. @default new Date() */
  receivedAt?: Date | undefined;
}

/** One signature header and the key it is checked with. */
interface SignatureCheck {
  header: string;
  value: string;
  key: string;
}

interface SignatureFamily {
  version: "V3" | "V2";
  nonce: string | undefined;
  checks: SignatureCheck[];
  /** Headers present whose key is not configured. */
  unchecked: string[];
}

const INTENTS: Readonly<Record<string, ConsentIntent>> = {
  optout: "opt-out",
  optin: "opt-in",
  help: "help",
};

/**
 * Checks the signature of a Plivo webhook over `request.url` exactly as given. That must
 * be the public URL configured at Plivo, because this function never rebuilds it from
 * `Host` or `X-Forwarded-*` headers.
 *
 * When any V3 header is present, only V3 is checked: `X-Plivo-Signature-V3` with the Auth
 * Token, and `X-Plivo-Signature-Ma-V3` with the main account's token. V3 covers the URL,
 * the query and the body. Otherwise V2 is checked the same way (`X-Plivo-Signature-V2`,
 * `-Ma-V2`). V2 covers only the URL and the nonce, so a V2 header copied from a genuine
 * request authenticates any body. The `requireV3Signature` option closes that gap. The legacy
 * `X-Plivo-Signature` (V1) is never accepted.
 *
 * @throws {WebhookVerificationError} `missing-signature` without a usable signature and
 *   nonce, `invalid-signature` when none of them matches. Nothing else escapes.
 */
export function verifyPlivoWebhook(request: WebhookRequest, secrets: PlivoWebhookSecrets): void {
  const v3 = readFamily(request.headers, "V3", secrets);

  if (v3.nonce !== undefined || v3.checks.length > 0 || v3.unchecked.length > 0) {
    checkFamily(request, v3, () => v3Matches(request, v3));
    return;
  }

  if (secrets.requireV3Signature) {
    throw new WebhookVerificationError(
      "missing-signature",
      "Plivo webhook has no X-Plivo-Signature-V3 header, and requireV3Signature is set. " +
        "A V2 signature does not cover the body, so it is not accepted",
    );
  }

  const v2 = readFamily(request.headers, "V2", secrets);

  if (v2.checks.length === 0 && v2.unchecked.length === 0) {
    throw new WebhookVerificationError("missing-signature", noSignatureMessage(request.headers));
  }

  checkFamily(request, v2, () => v2Matches(request, v2));
}

/**
 * Returns the nonce of the signature family {@link verifyPlivoWebhook} checks: the V3 nonce
 * when any V3 header is present, else the V2 nonce. `undefined` when there is none.
 */
export function plivoWebhookNonce(request: WebhookRequest): string | undefined {
  const { headers } = request;
  const v3 = ["X-Plivo-Signature-V3-Nonce", "X-Plivo-Signature-V3", "X-Plivo-Signature-Ma-V3"];

  if (v3.some((name) => headerValue(headers, name) !== undefined)) {
    return headerValue(headers, "X-Plivo-Signature-V3-Nonce");
  }

  return headerValue(headers, "X-Plivo-Signature-V2-Nonce");
}

function readFamily(
  headers: Headers,
  version: "V3" | "V2",
  secrets: PlivoWebhookSecrets,
): SignatureFamily {
  const own = `X-Plivo-Signature-${version}`;
  const main = `X-Plivo-Signature-Ma-${version}`;
  const family: SignatureFamily = {
    version,
    nonce: headerValue(headers, `${own}-Nonce`),
    checks: [],
    unchecked: [],
  };

  addCheck(family, own, headerValue(headers, own), secrets.authToken);
  addCheck(family, main, headerValue(headers, main), secrets.mainAccountAuthToken);

  return family;
}

function addCheck(
  family: SignatureFamily,
  header: string,
  value: string | undefined,
  key: string | undefined,
): void {
  if (value === undefined) {
    return;
  }

  if (key === undefined || key === "") {
    family.unchecked.push(header);
    return;
  }

  family.checks.push({ header, value, key });
}

function headerValue(headers: Headers, name: string): string | undefined {
  const value = headers.get(name)?.trim();

  return value === undefined || value === "" ? undefined : value;
}

function checkFamily(
  request: WebhookRequest,
  family: SignatureFamily,
  matches: () => boolean,
): void {
  const signatureHeader = `X-Plivo-Signature-${family.version}`;
  const nonceHeader = `${signatureHeader}-Nonce`;

  if (family.checks.length === 0 && family.unchecked.length === 0) {
    throw new WebhookVerificationError(
      "missing-signature",
      `Plivo webhook has ${nonceHeader} but no ${signatureHeader} header`,
    );
  }

  if (family.checks.length === 0) {
    throw new WebhookVerificationError("missing-signature", uncheckedMessage(family));
  }

  if (family.nonce === undefined) {
    throw new WebhookVerificationError(
      "missing-signature",
      `Plivo webhook has ${family.checks[0]?.header} but no ${nonceHeader} header`,
    );
  }

  if (!matches()) {
    throw new WebhookVerificationError("invalid-signature", mismatchMessage(request, family));
  }
}

function v3Matches(request: WebhookRequest, family: SignatureFamily): boolean {
  const params = signedParams(request);

  if (params === undefined) {
    return false;
  }

  return family.checks.some((check) =>
    verifyPlivoSignatureV3({
      authToken: check.key,
      method: request.method,
      url: request.url,
      params,
      nonce: family.nonce,
      signature: check.value,
    }),
  );
}

function v2Matches(request: WebhookRequest, family: SignatureFamily): boolean {
  return family.checks.some((check) =>
    verifyPlivoSignatureV2({
      authToken: check.key,
      url: request.url,
      nonce: family.nonce,
      signature: check.value,
    }),
  );
}

// A GET carries its fields in the URL, which the signature covers as the query. A body
// that is not a valid form cannot be the one Plivo signed.
function signedParams(request: WebhookRequest): FormPair[] | undefined {
  if (usesQueryFields(request)) {
    return [];
  }

  try {
    return readFormFields(request);
  } catch (error) {
    if (isWebhookParseError(error)) {
      return undefined;
    }

    throw error;
  }
}

function noSignatureMessage(headers: Headers): string {
  const legacy =
    headerValue(headers, "X-Plivo-Signature") === undefined
      ? ""
      : ". The legacy X-Plivo-Signature (V1) is not accepted";

  return (
    "Plivo webhook has no X-Plivo-Signature-V3 or X-Plivo-Signature-V2 header. Only " +
    `requests signed by Plivo are accepted${legacy}`
  );
}

function uncheckedMessage(family: SignatureFamily): string {
  const headers = family.unchecked.join(" and ");

  return (
    `Plivo webhook is signed only with ${headers}, which uses the main account's Auth ` +
    "Token. Set mainAccountAuthToken to accept it"
  );
}

// The message shows the URL without its query, because a GET query contains phone numbers.
function mismatchMessage(request: WebhookRequest, family: SignatureFamily): string {
  const headers = family.checks.map((check) => check.header).join(" and ");
  const covered = family.version === "V3" ? "URL, query and body" : "URL and nonce";

  return (
    `${headers} does not match ${request.method} ${plivoSignatureBaseUrl(request.url)}. ` +
    `The signature covers the ${covered}: check that this is the public URL configured ` +
    "at Plivo (scheme, host, port, path and query) and that the Auth Token belongs to " +
    "the account or subaccount that owns the number"
  );
}

/**
 * Parses a Plivo webhook: an incoming message (`inbound`) or a message status callback
 * (`status`). The fields come from the form body, or from the query string of a GET.
 *
 * @throws {WebhookParseError} for a malformed or JSON body, a missing `MessageUUID`, a
 *   `From` or `To` that is not a valid sender, a status callback without `Status`, or a
 *   status callback posted to the inbound route. No other exception escapes, whatever
 *   the input.
 */
export function parsePlivoWebhook(
  request: WebhookRequest,
  kind: WebhookKind,
  options: ParsePlivoWebhookOptions = {},
): ParsedWebhook {
  try {
    const fields = new PlivoFields(readPairs(request));

    if (kind === "status") {
      return { inbound: [], reports: [readReport(fields, options)] };
    }

    return { inbound: [readInbound(fields, options)], reports: [] };
  } catch (error) {
    if (isWebhookParseError(error)) {
      throw error;
    }

    const detail = error instanceof Error ? error.message : String(error);

    throw new WebhookParseError(`Plivo webhook could not be parsed: ${detail}`, {
      cause: error,
    });
  }
}

function readPairs(request: WebhookRequest): FormPair[] {
  checkWebhookBodyType(request, "Plivo webhook");

  if (!usesQueryFields(request) && hasJsonBody(request)) {
    throw new WebhookParseError(
      "Plivo message webhooks are form-encoded, and this body is JSON. Set the " +
        "Application's message_method (or the message's method) to POST or GET",
    );
  }

  return readFormFields(request);
}

function readInbound(fields: PlivoFields, options: ParsePlivoWebhookOptions): InboundMessage {
  const hasText = fields.raw("Text") !== undefined || fields.raw("Body") !== undefined;

  if (!hasText && fields.text("Status") !== undefined) {
    throw new WebhookParseError(
      "Plivo webhook on the inbound route is a message status callback (it has Status " +
        "and no Text). Send status callbacks to the status route",
    );
  }

  const messageId = fields.require("MessageUUID", "it is not a Plivo message webhook");

  return {
    provider: "plivo",
    messageId,
    from: fields.requireSender("From", "To"),
    to: fields.requireSender("To", "From"),
    text: fields.raw("Text") ?? fields.raw("Body") ?? "",
    receivedAt: options.receivedAt ?? new Date(),
    media: fields.media(),
    segments: fields.count("Units"),
    providerIntent: readMessageIntent(fields.text("MessageIntent")),
    raw: fields.record,
  };
}

// `serviceId` stays unset on both kinds, although Plivo sends `PowerpackUUID`: Plivo
// blocks an opted-out person per sending number, and consent is recorded under the scope
// the send guard checks, which is the number (`raw` keeps the Powerpack).
function readReport(fields: PlivoFields, options: ParsePlivoWebhookOptions): DeliveryReport {
  const messageId = fields.require("MessageUUID", "it is not a Plivo message status callback");
  const providerStatus = fields.text("Status");

  if (providerStatus === undefined) {
    throw new WebhookParseError(
      "Plivo status callback has no Status field. Check that this URL is used only as " +
        "the url of sent messages",
    );
  }

  const errorCode = readErrorCode(fields.text("ErrorCode"));

  return {
    provider: "plivo",
    messageId,
    status: mapPlivoMessageStatus(providerStatus),
    providerStatus,
    errorCode,
    reason: errorCode === undefined ? undefined : plivoErrorReason(errorCode),
    to: fields.optionalSender("To", "From"),
    from: fields.optionalSender("From", "To"),
    receivedAt: options.receivedAt ?? new Date(),
    providerTime: latestTime(fields),
    raw: fields.record,
  };
}

function readMessageIntent(value: string | undefined): ConsentIntent | undefined {
  const key = value?.toLowerCase() ?? "";

  return Object.hasOwn(INTENTS, key) ? INTENTS[key] : undefined;
}

// A code of only zeros means no error. The raw value stays in `raw`.
function readErrorCode(value: string | undefined): string | undefined {
  return value === undefined || /^0+$/.test(value) ? undefined : value;
}

// Each status adds its own timestamp, so the latest one is the time of this status.
function latestTime(fields: PlivoFields): Date | undefined {
  const times = ["MessageTime", "QueuedTime", "SentTime", "DeliveryReportTime"]
    .map((name) => fields.time(name))
    .filter((time): time is Date => time !== undefined);

  if (times.length === 0) {
    return undefined;
  }

  return new Date(Math.max(...times.map((time) => time.getTime())));
}
