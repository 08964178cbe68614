/**
 * Telnyx signs each webhook with the account's Ed25519 key. The signed text is the value
 * of `telnyx-timestamp` (Unix seconds), a `|`, and the raw body; `telnyx-signature-ed25519`
 * carries the signature in base64.
 *
 * NOTE: this follows Telnyx's API v2 webhook documentation as recalled, not as reread;
 * the header names and the `|` separator should be checked against it.
 */

import { type KeyObject, verify } from "node:crypto";
import { type WebhookRequest, WebhookVerificationError } from "smsgate";

/** Header with the base64 Ed25519 signature. */
export const TELNYX_SIGNATURE_HEADER = "telnyx-signature-ed25519";

/** Header with the Unix time of signing, in seconds. */
export const TELNYX_TIMESTAMP_HEADER = "telnyx-timestamp";

const UNIX_SECONDS = /^\d{1,12}$/;
const BASE64 = /^[A-Za-z0-9+/]+={0,2}$/;

/** Builds the bytes Telnyx signs: the timestamp, `|`, then the raw body. */
export function telnyxSignedBytes(timestamp: string, body: Uint8Array): Buffer {
  return Buffer.concat([Buffer.from(`${timestamp}|`, "utf8"), body]);
}

/** Options of {@link verifyTelnyxSignature}. */
export interface VerifyTelnyxSignatureOptions {
  publicKey: KeyObject;
  toleranceSeconds: number;
  /** Current time in milliseconds since the epoch. */
  now: number;
}

/**
 * Verifies a Telnyx webhook over its raw body and timestamp. The URL is not signed.
 *
 * @throws {WebhookVerificationError} `missing-signature` without either header,
 *   `invalid-signature` when the signature does not match, `stale-timestamp` when the
 *   timestamp is not Unix seconds or is outside the window.
 */
export function verifyTelnyxSignature(
  request: WebhookRequest,
  options: VerifyTelnyxSignatureOptions,
): void {
  const signature = request.headers.get(TELNYX_SIGNATURE_HEADER)?.trim() ?? "";
  const timestamp = request.headers.get(TELNYX_TIMESTAMP_HEADER)?.trim() ?? "";

  if (signature === "" || timestamp === "") {
    throw new WebhookVerificationError(
      "missing-signature",
      `Telnyx webhook needs ${TELNYX_SIGNATURE_HEADER} and ${TELNYX_TIMESTAMP_HEADER} headers`,
    );
  }

  if (!UNIX_SECONDS.test(timestamp)) {
    throw new WebhookVerificationError(
      "stale-timestamp",
      `${TELNYX_TIMESTAMP_HEADER} is not a Unix time in seconds`,
    );
  }

  if (!signatureMatches(request.body, timestamp, signature, options.publicKey)) {
    throw new WebhookVerificationError(
      "invalid-signature",
      `${TELNYX_SIGNATURE_HEADER} does not match the body. Check that publicKey is the ` +
        "public key of the Telnyx account that owns the number",
    );
  }

  checkWindow(timestamp, options);
}

function signatureMatches(
  body: Uint8Array,
  timestamp: string,
  signature: string,
  publicKey: KeyObject,
): boolean {
  if (!BASE64.test(signature)) {
    return false;
  }

  const data = telnyxSignedBytes(timestamp, body);

  // A signature of the wrong length cannot match, whether `verify` returns false or throws.
  try {
    return verify(null, data, publicKey, Buffer.from(signature, "base64"));
  } catch {
    return false;
  }
}

function checkWindow(timestamp: string, options: VerifyTelnyxSignatureOptions): void {
  const skew = Math.abs(Math.floor(options.now / 1000) - Number(timestamp));

  if (skew > options.toleranceSeconds) {
    throw new WebhookVerificationError(
      "stale-timestamp",
      `Telnyx webhook timestamp is ${skew} seconds from now, more than the ` +
        `${options.toleranceSeconds} seconds allowed. Check the server clock if this repeats`,
    );
  }
}
