/**
 * The `x-smsgate-signature` header of the events that `smsgate serve` forwards to an
 * application: `t=<unix seconds>,v1=<hex HMAC-SHA256 of "<t>.<raw body>">`.
 */

import { createHmac, timingSafeEqual } from "node:crypto";

/** Computes the hex HMAC-SHA256 of `<timestamp>.<body>`. */
function computeSignature(secret: string, timestamp: number, body: string | Uint8Array): string {
  return createHmac("sha256", secret).update(`${timestamp}.`).update(body).digest("hex");
}

/**
 * Builds the `x-smsgate-signature` header value for a body, as the forwarder sends it.
 *
 * @param timestamp Unix time in seconds. @default the current time
 */
export function signForwardBody(
  secret: string,
  body: string | Uint8Array,
  timestamp = Math.floor(Date.now() / 1000),
): string {
  return `t=${timestamp},v1=${computeSignature(secret, timestamp, body)}`;
}

/**
 * Checks an `x-smsgate-signature` header against the raw request body, in constant time.
 * Returns false when the header is missing or malformed, when no `v1` matches, or when
 * `t` is more than `toleranceSeconds` away from the current time.
 *
 * @param rawBody The body exactly as received, before any JSON parsing.
 * @throws {TypeError} when `rawBody` is neither a string nor a `Uint8Array` (a `Buffer` is
 *   one), such as the object that `express.json()` leaves in `req.body`. The signature
 *   covers the bytes, and an object parsed from them cannot be checked against it.
 * @example
 * const ok = verifyForwardSignature(secret, req.headers["x-smsgate-signature"], rawBody);
 */
export function verifyForwardSignature(
  secret: string,
  header: string | undefined,
  rawBody: string | Uint8Array,
  toleranceSeconds = 300,
): boolean {
  checkRawBody(rawBody);

  if (typeof header !== "string") {
    return false;
  }

  let timestamp: number | undefined;
  const candidates: Buffer[] = [];
  for (const part of header.split(",")) {
    const [key, value = ""] = part.trim().split("=", 2);
    if (key === "t" && /^\d{1,12}$/.test(value)) {
      timestamp = Number(value);
    } else if (key === "v1" && /^[0-9a-f]{64}$/i.test(value)) {
      candidates.push(Buffer.from(value, "hex"));
    }
  }

  if (timestamp === undefined || candidates.length === 0) {
    return false;
  }

  const age = Math.abs(Math.floor(Date.now() / 1000) - timestamp);
  const expected = Buffer.from(computeSignature(secret, timestamp, rawBody), "hex");
  const matched = candidates.some((candidate) => timingSafeEqual(candidate, expected));

  return matched && age <= toleranceSeconds;
}

// Checked before the header, so a wrong body type fails on the first request, signed or not.
function checkRawBody(rawBody: unknown): void {
  if (typeof rawBody === "string" || rawBody instanceof Uint8Array) {
    return;
  }

  throw new TypeError(
    "verifyForwardSignature needs the raw request body as a string or bytes, as received " +
      `and before JSON parsing, but received ${describeType(rawBody)}. With Express, read ` +
      'it with express.raw({ type: "application/json" }) instead of express.json()',
  );
}

function describeType(value: unknown): string {
  if (value === null) {
    return "null";
  }

  if (Array.isArray(value)) {
    return "an array";
  }

  if (typeof value === "object") {
    return "an object";
  }

  return value === undefined ? "undefined" : `a ${typeof value}`;
}
