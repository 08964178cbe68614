import { createPublicKey, type KeyObject } from "node:crypto";
import { ConfigError } from "smsgate";

/** Options of the Telnyx provider, validated once by {@link telnyx}. */
export interface TelnyxOptions {
  /** API key (API v2), sent as `Authorization: Bearer`. */
  apiKey: string;
  /**
   * The account's public key for webhook signatures, base64 of the 32-byte Ed25519 key,
   * as the Mission Control Portal shows it.
   */
  publicKey: string;
  /** Default sender: a Telnyx number in E.164, a short code or an alphanumeric ID. */
  from?: string | undefined;
  /** Messaging profile sent with every message; with no sender, Telnyx picks one. */
  messagingProfileId?: string | undefined;
  /** Origin of the API, such as a fake server in tests. @default "https://api.telnyx.com" */
  apiBaseUrl?: string | undefined;
  /** Time limit for one API request, in milliseconds. @default 15000 */
  timeoutMs?: number | undefined;
  /** Largest accepted age (or skew) of `telnyx-timestamp`, in seconds. @default 300 */
  toleranceSeconds?: number | undefined;
  /** Current time in milliseconds since the epoch, for the signature window. */
  clock?: (() => number) | undefined;
}

/** {@link TelnyxOptions} after validation, with defaults applied. */
export interface ResolvedTelnyxOptions {
  apiKey: string;
  publicKey: KeyObject;
  from: string | undefined;
  messagingProfileId: string | undefined;
  /** Without a trailing slash. */
  apiBaseUrl: string;
  timeoutMs: number;
  toleranceSeconds: number;
  clock: () => number;
}

/** Default `apiBaseUrl`: Telnyx's public API. */
export const DEFAULT_TELNYX_API_BASE_URL = "https://api.telnyx.com";

const ED25519_KEY_BYTES = 32;

/**
 * Validates Telnyx options and applies defaults.
 *
 * @throws {ConfigError} naming the first invalid option, such as `telnyx.publicKey`.
 */
export function resolveTelnyxOptions(
  options: TelnyxOptions,
  configPath = "telnyx",
): ResolvedTelnyxOptions {
  const fail = (name: string, message: string): never => {
    throw new ConfigError(`${configPath}.${name}`, message);
  };

  if (typeof options !== "object" || options === null) {
    throw new ConfigError(configPath, "must be an object with apiKey and publicKey");
  }

  checkText(options.apiKey, "apiKey", fail);
  checkText(options.publicKey, "publicKey", fail);

  if (options.from === undefined && options.messagingProfileId === undefined) {
    fail("from", "is required unless messagingProfileId is set");
  }

  return {
    apiKey: options.apiKey,
    publicKey: readPublicKey(options.publicKey, fail),
    from: options.from,
    messagingProfileId: options.messagingProfileId,
    apiBaseUrl: readBaseUrl(options.apiBaseUrl, fail),
    timeoutMs: readWhole(options.timeoutMs, 15_000, "timeoutMs", fail),
    toleranceSeconds: readWhole(options.toleranceSeconds, 300, "toleranceSeconds", fail),
    clock: options.clock ?? Date.now,
  };
}

type Fail = (name: string, message: string) => never;

function checkText(value: unknown, name: string, fail: Fail): void {
  if (typeof value !== "string" || value.trim() === "") {
    fail(name, "is required and must be a non-empty string");
  }
}

function readPublicKey(value: string, fail: Fail): KeyObject {
  const raw = Buffer.from(value, "base64");

  if (raw.length !== ED25519_KEY_BYTES) {
    return fail("publicKey", "must be the base64 of a 32-byte Ed25519 public key");
  }

  const jwk = { kty: "OKP", crv: "Ed25519", x: raw.toString("base64url") };

  return createPublicKey({ key: jwk, format: "jwk" });
}

function readBaseUrl(value: string | undefined, fail: Fail): string {
  const url = value ?? DEFAULT_TELNYX_API_BASE_URL;

  if (!URL.canParse(url) || !/^https?:$/.test(new URL(url).protocol)) {
    return fail("apiBaseUrl", `must be an http or https URL (got ${JSON.stringify(url)})`);
  }

  return url.replace(/\/+$/, "");
}

function readWhole(value: number | undefined, fallback: number, name: string, fail: Fail) {
  if (value === undefined) {
    return fallback;
  }

  if (!Number.isInteger(value) || value < 1 || value > 2_147_483_647) {
    return fail(name, "must be a whole number of at least 1");
  }

  return value;
}
