import { createPrivateKey, type KeyObject } from "node:crypto";
import type { Dispatcher } from "undici";
import { z } from "zod";
import { ConfigError } from "../../src/errors.js";
import { parseSenderIdentity } from "../../src/phone/sender.js";
import { isDispatcher, isHttpBaseUrl } from "../../src/provider-options.js";
import { type VonageSignatureMethod, vonageSignatureMethods } from "./signature.js";

/** Options of the Vonage provider, validated once by {@link vonage}. */
export interface VonageOptions {
  /**
   * API key of the account. Required for the SMS API, and for the Messages API unless
   * `applicationId` and `privateKey` are given.
   * @example "a1b2c3d4"
   */
  apiKey?: string | undefined;
  /**
   * API secret. Authenticates SMS API sends (unless `signedRequests` is on) and Messages
   * API sends with Basic auth.
   */
  apiSecret?: string | undefined;
  /**
   * Signature secret from the dashboard's API settings. It verifies signed webhooks (the
   * SMS API `sig` and the Messages API JWT) and signs sends when `signedRequests` is on.
   * Without it, `verifyWebhook` rejects every request with `missing-secret`.
   */
  signatureSecret?: string | undefined;
  /**
   * Signature method set in the dashboard for the SMS API `sig`: `md5hash` (MD5 of the
   * string and the secret) or an HMAC: `md5`, `sha1`, `sha256`, `sha512`.
   * @default "md5hash"
   */
  signatureMethod?: VonageSignatureMethod | undefined;
  /**
   * Largest accepted difference between a signed webhook's `timestamp` (SMS API) or `iat`
   * (Messages API) and the current time, in seconds.
   * @default 300
   */
  signatureToleranceSeconds?: number | undefined;
  /**
   * Vonage application ID. With `privateKey`, Messages API sends authenticate with a JWT
   * signed by the application's private key instead of Basic auth.
   */
  applicationId?: string | undefined;
  /** The application's RSA private key, in PEM form, for Messages API JWTs (RS256). */
  privateKey?: string | undefined;
  /**
   * Default sender: a Vonage number (`+14155550100` or `14155550100`), a short code or an
   * alphanumeric sender ID. `OutboundMessage.from` wins over it.
   */
  from?: string | undefined;
  /**
   * The API that sends messages: the SMS API (`POST /sms/json`) or the Messages API
   * (`POST /v1/messages`). Webhooks of both are read either way.
   * @default "sms"
   */
  api?: "sms" | "messages" | undefined;
  /**
   * Origin (and optional path prefix) of the API that sends, such as a regional host or a
   * fake server in tests.
   * @default "https://rest.nexmo.com" for the SMS API, "https://api.nexmo.com" for Messages
   */
  apiBaseUrl?: string | undefined;
  /**
   * undici dispatcher for every API request. The provider does not close a dispatcher it
   * was given. When absent, each provider opens its own keep-alive `Pool`.
   */
  dispatcher?: Dispatcher | undefined;
  /**
   * Time limit for one API request, from connecting to reading the whole response, in
   * milliseconds.
   * @default 15000
   */
  timeoutMs?: number | undefined;
  /**
   * Sign SMS API sends with `signatureSecret` (`timestamp` and `sig`, no `api_secret`).
   * Turn it on when the account requires signed requests.
   * @default false
   */
  signedRequests?: boolean | undefined;
  /**
   * Messages API error codes to read as an opt-out in status webhooks. Vonage does not
   * document the code of a rejection by Opt-Out Assist, so none is assumed.
   * @default []
   */
  optOutErrorCodes?: readonly string[] | undefined;
  /** Current time in milliseconds since the epoch, for signature windows and JWTs. */
  clock?: (() => number) | undefined;
}

/** {@link VonageOptions} after validation, with defaults applied. */
export interface ResolvedVonageOptions {
  apiKey: string | undefined;
  apiSecret: string | undefined;
  signatureSecret: string | undefined;
  signatureMethod: VonageSignatureMethod;
  signatureToleranceSeconds: number;
  applicationId: string | undefined;
  /** The parsed `privateKey`, when given. */
  privateKey: KeyObject | undefined;
  /** The default sender as a sender identity value: `+14155550100`, `AcmeInc`. */
  from: string | undefined;
  api: "sms" | "messages";
  /** Base URL of the API that sends, without a trailing slash. */
  apiBaseUrl: string;
  dispatcher: Dispatcher | undefined;
  timeoutMs: number;
  signedRequests: boolean;
  optOutErrorCodes: readonly string[];
  clock: () => number;
}

/** Default base URL of the SMS API. */
export const DEFAULT_VONAGE_SMS_API_BASE_URL = "https://rest.nexmo.com";

/** Default base URL of the Messages API. */
export const DEFAULT_VONAGE_MESSAGES_API_BASE_URL = "https://api.nexmo.com";

/** Default `timeoutMs`, in milliseconds. */
export const DEFAULT_VONAGE_TIMEOUT_MS = 15_000;

/** Default `signatureToleranceSeconds`. */
export const DEFAULT_VONAGE_SIGNATURE_TOLERANCE_SECONDS = 300;

// Timers in Node hold at most a signed 32-bit number of milliseconds.
const MAX_TIMEOUT_MS = 2_147_483_647;

// Vonage retries an unanswered webhook for up to 24 hours, and a longer window only widens
// the time a captured request can be replayed.
const MAX_TOLERANCE_SECONDS = 86_400;

const untrimmed = (value: string): boolean => value.trim() === value;

const credential = (description: string) =>
  z
    .string({ error: "must be a string" })
    .min(1, { error: "must not be empty, so leave it out instead" })
    .refine(untrimmed, {
      error: `has leading or trailing whitespace, so copy the ${description} without it`,
    })
    .optional();

const vonageOptionsSchema = z.object(
  {
    apiKey: credential("API key"),
    apiSecret: credential("API secret"),
    signatureSecret: credential("signature secret"),
    signatureMethod: z
      .enum(vonageSignatureMethods, {
        error: (issue) =>
          `must be one of ${vonageSignatureMethods.join(", ")} ` +
          `(got ${JSON.stringify(issue.input)})`,
      })
      .default("md5hash"),
    signatureToleranceSeconds: z
      .number({ error: "must be a number of seconds" })
      .int({ error: "must be a whole number of seconds" })
      .min(1, { error: "must be at least 1 second" })
      .max(MAX_TOLERANCE_SECONDS, { error: `must be at most ${MAX_TOLERANCE_SECONDS} seconds` })
      .default(DEFAULT_VONAGE_SIGNATURE_TOLERANCE_SECONDS),
    applicationId: credential("application ID"),
    privateKey: z.string({ error: "must be a PEM string" }).transform(readPrivateKey).optional(),
    from: z.string({ error: "must be a string" }).transform(readSender).optional(),
    api: z
      .enum(["sms", "messages"], {
        error: (issue) => `must be "sms" or "messages" (got ${JSON.stringify(issue.input)})`,
      })
      .default("sms"),
    apiBaseUrl: z
      .string({ error: "must be a string" })
      .refine(isHttpBaseUrl, {
        error: (issue) =>
          `must be an http or https URL without query or fragment ` +
          `(got ${JSON.stringify(issue.input)})`,
      })
      .transform((value) => value.replace(/\/+$/, ""))
      .optional(),
    dispatcher: z
      .custom<Dispatcher>(isDispatcher, {
        error: "must be an undici Dispatcher (Pool, Agent, MockAgent, ...)",
      })
      .optional(),
    timeoutMs: z
      .number({ error: "must be a number of milliseconds" })
      .int({ error: "must be a whole number of milliseconds" })
      .min(1, { error: "must be at least 1 millisecond" })
      .max(MAX_TIMEOUT_MS, { error: `must be at most ${MAX_TIMEOUT_MS} milliseconds` })
      .default(DEFAULT_VONAGE_TIMEOUT_MS),
    signedRequests: z.boolean({ error: "must be true or false" }).default(false),
    optOutErrorCodes: z
      .array(z.string().regex(/^\d{1,6}$/, { error: "must be a numeric error code" }), {
        error: 'must be an array of error codes such as ["1050"]',
      })
      .default([]),
    clock: z
      .custom<() => number>((value) => typeof value === "function", {
        error: "must be a function returning milliseconds since the epoch",
      })
      .optional(),
  },
  { error: "must be an object with the Vonage credentials" },
);

type ParsedOptions = z.output<typeof vonageOptionsSchema>;

/**
 * Validates Vonage options and applies defaults.
 *
 * @param configPath - Prefix of the option path in error messages, such as
 *   `providers.vonage` when the options come from a configuration file.
 * @throws {ConfigError} naming the first invalid option, such as `vonage.apiSecret`.
 */
export function resolveVonageOptions(
  options: VonageOptions,
  configPath = "vonage",
): ResolvedVonageOptions {
  const parsed = vonageOptionsSchema.safeParse(options);

  if (!parsed.success) {
    const issue = parsed.error.issues[0];

    throw new ConfigError(
      optionPath(configPath, (issue?.path ?? []).map(String)),
      issue?.message ?? "invalid Vonage options",
    );
  }

  const value = parsed.data;

  checkCredentials(value, configPath);

  return {
    apiKey: value.apiKey,
    apiSecret: value.apiSecret,
    signatureSecret: value.signatureSecret,
    signatureMethod: value.signatureMethod,
    signatureToleranceSeconds: value.signatureToleranceSeconds,
    applicationId: value.applicationId,
    privateKey: value.privateKey,
    from: value.from,
    api: value.api,
    apiBaseUrl: value.apiBaseUrl ?? defaultBaseUrl(value.api),
    dispatcher: value.dispatcher,
    timeoutMs: value.timeoutMs,
    signedRequests: value.signedRequests,
    optOutErrorCodes: value.optOutErrorCodes,
    clock: value.clock ?? Date.now,
  };
}

function defaultBaseUrl(api: "sms" | "messages"): string {
  return api === "sms" ? DEFAULT_VONAGE_SMS_API_BASE_URL : DEFAULT_VONAGE_MESSAGES_API_BASE_URL;
}

function optionPath(configPath: string, path: readonly string[]): string {
  return [configPath, ...path].filter(Boolean).join(".");
}

/** Checks that the chosen API has the credentials it authenticates with. */
function checkCredentials(value: ParsedOptions, configPath: string): void {
  const fail = (name: string, message: string): never => {
    throw new ConfigError(optionPath(configPath, [name]), message);
  };

  if (value.signedRequests && value.signatureSecret === undefined) {
    fail("signatureSecret", "is required when signedRequests is true");
  }

  if ((value.applicationId === undefined) !== (value.privateKey === undefined)) {
    const missing = value.applicationId === undefined ? "applicationId" : "privateKey";

    fail(missing, "is required with the other, so give applicationId and privateKey together");
  }

  if (value.api === "sms") {
    if (value.apiKey === undefined) {
      fail("apiKey", "is required to send with the SMS API");
    }

    if (value.apiSecret === undefined && !value.signedRequests) {
      fail("apiSecret", "is required to send with the SMS API unless signedRequests is true");
    }

    return;
  }

  const basicAuth = value.apiKey !== undefined && value.apiSecret !== undefined;

  if (value.privateKey === undefined && !basicAuth) {
    fail(
      value.apiKey === undefined ? "apiKey" : "apiSecret",
      "is required to send with the Messages API unless applicationId and privateKey are given",
    );
  }
}

function readPrivateKey(pem: string, context: z.RefinementCtx): KeyObject {
  try {
    const key = createPrivateKey(pem);

    if (key.asymmetricKeyType === "rsa") {
      return key;
    }

    context.addIssue({
      code: "custom",
      message: `must be an RSA private key (got ${key.asymmetricKeyType ?? "unknown"})`,
    });
  } catch {
    context.addIssue({
      code: "custom",
      message:
        "is not a readable private key. Give the PEM text of the application's key, " +
        "from -----BEGIN PRIVATE KEY----- to the END line",
    });
  }

  return z.NEVER;
}

function readSender(value: string, context: z.RefinementCtx): string {
  try {
    return parseSenderIdentity(value, { internationalDigits: true }).value;
  } catch (error) {
    const detail = error instanceof Error ? error.message : String(error);

    context.addIssue({
      code: "custom",
      message: `must be a Vonage number, short code or alphanumeric sender ID: ${detail}`,
    });

    return z.NEVER;
  }
}
