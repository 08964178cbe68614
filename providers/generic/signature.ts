import { createHmac, timingSafeEqual } from "node:crypto";
import { WebhookVerificationError } from "../../src/errors.js";
import { usesQueryFields } from "../../src/http/webhook-request.js";
import type { WebhookRequest } from "../../src/provider.js";
import type { GenericHmacSignature } from "./options.js";

/** The content one signature covers: the public URL, the raw body and the timestamp. */
export interface GenericSignedContent {
  url: string;
  body: Uint8Array;
  /** The timestamp header's value, for `timestamp+body`. */
  timestamp?: string | undefined;
}

const UNIX_SECONDS = /^\d{1,12}$/;

/** Fills in the defaults of an HMAC scheme, without validating it. */
export function completeGenericSignature(
  signature: GenericHmacSignature,
): Required<GenericHmacSignature> {
  return {
    secretEncoding: "utf8",
    prefix: "",
    signed: "body",
    timestampHeader: "",
    separator: "",
    toleranceSeconds: 300,
    ...definedFields(signature),
  };
}

function definedFields(signature: GenericHmacSignature): GenericHmacSignature {
  const entries = Object.entries(signature).filter(([, value]) => value !== undefined);

  return Object.fromEntries(entries) as unknown as GenericHmacSignature;
}

/**
 * Builds the bytes an HMAC scheme signs: the raw body, or the URL or timestamp as UTF-8
 * followed by `separator` and the raw body.
 */
export function genericSignedBytes(
  signature: Required<GenericHmacSignature>,
  content: GenericSignedContent,
): Buffer {
  const body = Buffer.from(content.body.buffer, content.body.byteOffset, content.body.length);

  if (signature.signed === "body") {
    return body;
  }

  const lead = signature.signed === "url+body" ? content.url : (content.timestamp ?? "");

  return Buffer.concat([Buffer.from(`${lead}${signature.separator}`, "utf8"), body]);
}

/** Computes the signature of the content, without the header's prefix. */
export function computeGenericSignature(
  signature: Required<GenericHmacSignature>,
  content: GenericSignedContent,
): string {
  const key = Buffer.from(signature.secret, signature.secretEncoding);

  return createHmac(signature.algorithm, key)
    .update(genericSignedBytes(signature, content))
    .digest(signature.encoding);
}

/**
 * Verifies a webhook's HMAC over its raw body and `request.url` exactly as given, which
 * must be the public URL configured at the provider. The timestamp, when signed, must be
 * Unix seconds within `toleranceSeconds` of `now`. A GET or HEAD request passes only under
 * `url+body`, because its fields are in the query and the other modes do not sign it.
 *
 * @throws {WebhookVerificationError} `missing-signature` without the signature header (or
 * the timestamp header), `invalid-signature` when it does not match or for a GET or HEAD
 * request under a mode other than `url+body`, `stale-timestamp` when the timestamp is not
 * a number or outside the window.
 */
export function verifyGenericSignature(
  request: WebhookRequest,
  signature: Required<GenericHmacSignature>,
  now: number,
): void {
  checkQuerySigned(request, signature);

  const header = request.headers.get(signature.header)?.trim() ?? "";

  if (header === "") {
    throw new WebhookVerificationError(
      "missing-signature",
      `Webhook has no ${signature.header} header; only signed requests are accepted`,
    );
  }

  const timestamp = readTimestamp(request, signature);
  const expected = computeGenericSignature(signature, { ...request, timestamp });

  if (!signatureMatches(signature, header, expected)) {
    throw new WebhookVerificationError(
      "invalid-signature",
      `${signature.header} does not match ${request.method} ${withoutQuery(request.url)}. ` +
        `Check the secret, and that this is the URL configured at the provider`,
    );
  }

  if (timestamp !== undefined) {
    checkWindow(timestamp, signature, now);
  }
}

/**
 * Rejects a request whose fields are in the query when the signature does not cover the
 * URL. The body of a GET is empty, so a `body` signature is HMAC(secret, "") for every GET
 * and a `timestamp+body` signature covers only the timestamp. Either one, once captured,
 * would authenticate any query.
 */
function checkQuerySigned(request: WebhookRequest, signature: Required<GenericHmacSignature>) {
  if (!usesQueryFields(request) || signature.signed === "url+body") {
    return;
  }

  const method = request.method.toUpperCase();

  throw new WebhookVerificationError(
    "invalid-signature",
    `${method} ${withoutQuery(request.url)} rejected because ${method} webhooks need a ` +
      "signature over the URL, whose query contains their fields, and " +
      `webhooks.signature.signed is "${signature.signed}". Set signed: "url+body" if the ` +
      "provider signs the URL, or have the provider send POST webhooks",
  );
}

function readTimestamp(
  request: WebhookRequest,
  signature: Required<GenericHmacSignature>,
): string | undefined {
  if (signature.signed !== "timestamp+body") {
    return undefined;
  }

  const value = request.headers.get(signature.timestampHeader)?.trim() ?? "";

  if (value === "") {
    throw new WebhookVerificationError(
      "missing-signature",
      `Webhook has no ${signature.timestampHeader} header, which the signature covers`,
    );
  }

  if (!UNIX_SECONDS.test(value)) {
    throw new WebhookVerificationError(
      "stale-timestamp",
      `${signature.timestampHeader} is not a Unix time in seconds`,
    );
  }

  return value;
}

function signatureMatches(
  signature: Required<GenericHmacSignature>,
  header: string,
  expected: string,
): boolean {
  if (!header.startsWith(signature.prefix)) {
    return false;
  }

  const actual = header.slice(signature.prefix.length).trim();
  const fold = (text: string): string => (signature.encoding === "hex" ? text.toLowerCase() : text);

  return constantTimeEqual(fold(expected), fold(actual));
}

function checkWindow(
  timestamp: string,
  signature: Required<GenericHmacSignature>,
  now: number,
): void {
  const skew = Math.abs(Math.floor(now / 1000) - Number(timestamp));

  if (skew > signature.toleranceSeconds) {
    throw new WebhookVerificationError(
      "stale-timestamp",
      `Webhook timestamp ${timestamp} is ${skew} seconds from now, more than the ` +
        `${signature.toleranceSeconds} seconds allowed. Check the server clock if this repeats`,
    );
  }
}

function constantTimeEqual(expected: string, actual: string): boolean {
  const expectedBytes = Buffer.from(expected, "utf8");
  const actualBytes = Buffer.from(actual, "utf8");

  // Only the length can leak here, and the length of a valid signature is public.
  if (expectedBytes.length !== actualBytes.length) {
    return false;
  }

  return timingSafeEqual(expectedBytes, actualBytes);
}

// The query may contain phone numbers, so messages show the URL without it.
function withoutQuery(url: string): string {
  return url.split(/[?#]/, 1)[0] ?? "";
}
