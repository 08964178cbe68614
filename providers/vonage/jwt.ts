/**
 * JSON Web Tokens (RFC 7519) of the Messages API. Vonage signs its webhooks with HS256,
 * keyed by the signature secret, and puts the SHA-256 of the body in a `payload_hash`
 * claim. Sends authenticate with an RS256 token signed by the application's private key.
 */

import { createHash, createHmac, type KeyObject, randomUUID, sign } from "node:crypto";
import { WebhookVerificationError } from "../../src/errors.js";
import { hexEqual } from "./signature.js";

/** Claims of a Messages API webhook token. Other claims are kept as they are. */
export interface VonageJwtClaims {
  /** Issued-at time, in Unix seconds. */
  iat?: number;
  /** Expiry time, in Unix seconds. Vonage's webhook tokens carry none. */
  exp?: number;
  nbf?: number;
  jti?: string;
  /** `Vonage` on webhook tokens. */
  iss?: string;
  /** Lower-case hex SHA-256 of the request body. */
  payload_hash?: string;
  api_key?: string;
  application_id?: string;
  [claim: string]: unknown;
}

const BASE64URL = /^[A-Za-z0-9_-]+$/;
const SHA256_HEX = /^[0-9a-fA-F]{64}$/;
const BEARER = /^Bearer[ \t]+(\S+)[ \t]*$/i;
const utf8 = new TextDecoder("utf-8", { fatal: true });

/** Encodes claims as an HS256 token keyed with `secret`, header `{"alg":"HS256","typ":"JWT"}`. */
export function signVonageHs256Jwt(claims: Readonly<VonageJwtClaims>, secret: string): string {
  const header = base64url(JSON.stringify({ alg: "HS256", typ: "JWT" }));
  const payload = base64url(JSON.stringify(claims));
  const signature = createHmac("sha256", secret).update(`${header}.${payload}`).digest();

  return `${header}.${payload}.${signature.toString("base64url")}`;
}

/**
 * Checks an HS256 token's header and signature, and returns its claims. Only `alg` HS256
 * is accepted: `none`, RS256 and every other algorithm are rejected, so a token cannot
 * choose how it is checked. Times and `payload_hash` are not checked here.
 *
 * @throws {WebhookVerificationError} `invalid-signature` for a malformed token, another
 * algorithm or a wrong signature.
 */
export function decodeVonageJwt(token: string, secret: string): VonageJwtClaims {
  const parts = token.split(".");

  if (parts.length !== 3 || !parts.every((part) => BASE64URL.test(part))) {
    throw invalidToken("is not a JSON Web Token of three base64url parts");
  }

  const [header, payload, signature] = parts as [string, string, string];
  const alg = readJsonObject(header, "header").alg;

  if (alg !== "HS256") {
    throw invalidToken(`uses alg ${JSON.stringify(alg)}, but only HS256 is accepted`);
  }

  const expected = createHmac("sha256", secret).update(`${header}.${payload}`).digest("hex");
  const actual = Buffer.from(signature, "base64url").toString("hex");

  if (!hexEqual(expected, actual)) {
    throw invalidToken(
      "has an invalid signature. Check that the signature secret is the one of the " +
        "API key that owns the application",
    );
  }

  return readJsonObject(payload, "payload") as VonageJwtClaims;
}

/** Input of {@link verifyVonageJwt}. */
export interface VerifyVonageJwtInput {
  /** The `Authorization` header value, `Bearer <token>`. */
  authorization: string | null | undefined;
  /** The account's signature secret. */
  secret: string;
  /** The request body exactly as received. */
  rawBody: Uint8Array | string;
  /** Largest accepted age or clock skew of `iat`, in seconds. @default 300 */
  toleranceSeconds?: number | undefined;
  /** Current time in milliseconds since the epoch. @default Date.now() */
  now?: number | undefined;
}

/**
 * Verifies a signed Messages API webhook: the HS256 signature (see
 * {@link decodeVonageJwt}), then that `payload_hash` is the SHA-256 of the raw body, then
 * that `iat` is within the window (and `exp` and `nbf`, when present, hold). The raw bytes
 * are hashed, never a re-serialised object.
 *
 * @returns The token's claims.
 * @throws {WebhookVerificationError} `missing-signature` without a Bearer token,
 * `invalid-signature` for a bad token or body hash, `stale-timestamp` for times outside
 * the window.
 */
export function verifyVonageJwt(input: VerifyVonageJwtInput): VonageJwtClaims {
  const token = readBearerToken(input.authorization);

  if (token === undefined) {
    throw new WebhookVerificationError(
      "missing-signature",
      "Vonage Messages API webhook has no Authorization: Bearer token, " +
        "and only signed webhooks are accepted",
    );
  }

  const claims = decodeVonageJwt(token, input.secret);

  checkPayloadHash(claims.payload_hash, input.rawBody);
  checkTimes(claims, input.toleranceSeconds ?? 300, input.now ?? Date.now());

  return claims;
}

/**
 * Returns the `jti` claim of a token that was verified already, else `undefined`. The
 * signature is not checked again, and a malformed token gives `undefined`.
 */
export function readVonageJwtId(token: string): string | undefined {
  const payload = token.split(".")[1];

  if (payload === undefined || !BASE64URL.test(payload)) {
    return undefined;
  }

  try {
    const jti = readJsonObject(payload, "payload").jti;

    return typeof jti === "string" ? jti : undefined;
  } catch {
    return undefined;
  }
}

/** Returns the token of an `Authorization: Bearer <token>` value, else `undefined`. */
export function readBearerToken(authorization: string | null | undefined): string | undefined {
  return BEARER.exec(authorization ?? "")?.[1];
}

/** Input of {@link createVonageApplicationJwt}. */
export interface VonageApplicationJwtInput {
  applicationId: string;
  /** The application's RSA private key. */
  privateKey: KeyObject;
  /** Current time in milliseconds since the epoch. */
  now: number;
  /** Lifetime of the token, in seconds. @default 900 */
  ttlSeconds?: number | undefined;
}

/**
 * Creates the RS256 token that authenticates a Messages API request as the application:
 * claims `application_id`, `iat`, `exp` and a random `jti`.
 */
export function createVonageApplicationJwt(input: VonageApplicationJwtInput): string {
  const iat = Math.floor(input.now / 1000);
  const claims = {
    application_id: input.applicationId,
    iat,
    exp: iat + (input.ttlSeconds ?? 900),
    jti: randomUUID(),
  };
  const header = base64url(JSON.stringify({ alg: "RS256", typ: "JWT" }));
  const payload = base64url(JSON.stringify(claims));
  const signature = sign("sha256", Buffer.from(`${header}.${payload}`), input.privateKey);

  return `${header}.${payload}.${signature.toString("base64url")}`;
}

function checkPayloadHash(claimed: unknown, rawBody: Uint8Array | string): void {
  if (typeof claimed !== "string" || !SHA256_HEX.test(claimed)) {
    throw invalidToken("has no payload_hash claim, so it does not cover the body");
  }

  const actual = createHash("sha256").update(rawBody).digest("hex");

  if (!hexEqual(actual, claimed)) {
    throw new WebhookVerificationError(
      "invalid-signature",
      "Vonage webhook body does not match the payload_hash of its token. The body was " +
        "changed after signing, or a proxy re-encoded it",
    );
  }
}

function checkTimes(claims: VonageJwtClaims, toleranceSeconds: number, now: number): void {
  const nowSeconds = Math.floor(now / 1000);
  const { iat, exp, nbf } = claims;

  if (typeof iat !== "number" || !Number.isFinite(iat)) {
    throw stale("has no numeric iat claim, so it cannot be checked for replay");
  }

  const skew = Math.abs(nowSeconds - iat);

  if (skew > toleranceSeconds) {
    throw stale(
      `was issued ${skew} seconds from now, more than the ${toleranceSeconds} allowed. ` +
        "Check the server clock if this repeats",
    );
  }

  if (typeof exp === "number" && nowSeconds > exp) {
    throw stale(`expired at ${exp} (Unix seconds)`);
  }

  if (typeof nbf === "number" && nowSeconds + toleranceSeconds < nbf) {
    throw stale(`is not valid before ${nbf} (Unix seconds)`);
  }
}

function readJsonObject(part: string, name: string): Record<string, unknown> {
  let value: unknown;

  try {
    value = JSON.parse(utf8.decode(Buffer.from(part, "base64url")));
  } catch {
    throw invalidToken(`has a ${name} that is not UTF-8 JSON`);
  }

  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    throw invalidToken(`has a ${name} that is not a JSON object`);
  }

  return value as Record<string, unknown>;
}

function invalidToken(detail: string): WebhookVerificationError {
  return new WebhookVerificationError("invalid-signature", `Vonage webhook token ${detail}`);
}

function stale(detail: string): WebhookVerificationError {
  return new WebhookVerificationError("stale-timestamp", `Vonage webhook token ${detail}`);
}

function base64url(text: string): string {
  return Buffer.from(text, "utf8").toString("base64url");
}
