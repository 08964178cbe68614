import type { Dispatcher } from "undici";
import { z } from "zod";
import { parseSenderIdentity } from "../../src/phone/sender.js";
import { isDispatcher, isHttpBaseUrl, parseProviderOptions } from "../../src/provider-options.js";

/** Options of the Plivo provider, validated once by {@link plivo}. */
export interface PlivoOptions {
  /**
   * Auth ID of the account or subaccount: `MA` or `SA` followed by 18 letters and digits.
   * Sends go to this account.
   * @example "MAXXXXXXXXXXXXXXXXXX"
   */
  authId: string;
  /**
   * Auth Token of the same account. It authenticates sends and is the key Plivo signs
   * `X-Plivo-Signature-V2` and `-V3` with. A subaccount signs with its own token.
   */
  authToken: string;
  /**
   * Default sender: a Plivo number in E.164 (`+14155550199`) or as international digits
   * without `+` (`14155550199`), a short code or an alphanumeric sender ID.
   * `OutboundMessage.from` wins over it.
   * @example "+14155550199"
   */
  from: string;
  /**
   * Origin (and optional path prefix) of the Message API, such as a fake server in tests.
   * @default "https://api.plivo.com"
   */
  apiBaseUrl?: string | undefined;
  /**
   * undici dispatcher for every API request, such as a shared `Agent`, a `ProxyAgent` or a
   * `MockAgent`. The provider does not close a dispatcher it was given. When absent, each
   * provider opens its own keep-alive `Pool` and closes it in `close()`.
   */
  dispatcher?: Dispatcher | undefined;
  /**
   * Time limit for one API request, from connecting to reading the whole response, in
   * milliseconds.
   * @default 15000
   */
  timeoutMs?: number | undefined;
  /**
   * Auth Token of the main account, for a subaccount whose webhooks Plivo also signs with
   * the main account's token (`X-Plivo-Signature-Ma-V2`, `-Ma-V3`). Those headers are
   * checked only when this is set.
   */
  mainAccountAuthToken?: string | undefined;
  /**
   * Accept only `X-Plivo-Signature-V3`. A V2 signature covers the URL and nonce but not
   * the body, so anyone who captured one signed request can replay its V2 headers with a
   * forged body. Turn this on once your webhooks are seen to carry V3 headers.
   * @default false
   */
  requireV3Signature?: boolean | undefined;
}

/** {@link PlivoOptions} after validation, with defaults applied. */
export interface ResolvedPlivoOptions {
  authId: string;
  authToken: string;
  /** The default sender as a sender identity value: E.164 with `+`, a short code or an ID. */
  from: string;
  /** Without a trailing slash. */
  apiBaseUrl: string;
  dispatcher: Dispatcher | undefined;
  timeoutMs: number;
  mainAccountAuthToken: string | undefined;
  requireV3Signature: boolean;
}

/** Default `apiBaseUrl`: Plivo's public REST API. */
export const DEFAULT_PLIVO_API_BASE_URL = "https://api.plivo.com";

/** Default `timeoutMs`, in milliseconds. */
export const DEFAULT_PLIVO_TIMEOUT_MS = 15_000;

const AUTH_ID = /^(MA|SA)[A-Za-z0-9]{18}$/;

// Timers in Node hold at most a signed 32-bit number of milliseconds.
const MAX_TIMEOUT_MS = 2_147_483_647;

const untrimmed = (value: string): boolean => value.trim() === value;

const token = z
  .string({ error: "must be a string" })
  .min(1, { error: "must not be empty" })
  .refine(untrimmed, {
    error: "has leading or trailing whitespace, so copy the token without it",
  });

const plivoOptionsSchema = z.object(
  {
    authId: z.string({ error: "is required and must be a string" }).regex(AUTH_ID, {
      error: (issue) =>
        "must be a Plivo Auth ID, MA or SA followed by 18 letters and digits " +
        `(got ${JSON.stringify(issue.input)})`,
    }),
    authToken: token,
    from: z
      .string({ error: "is required and must be a string" })
      .transform((value, context) => readSender(value, context)),
    apiBaseUrl: z
      .string({ error: "must be a string" })
      .refine(isHttpBaseUrl, {
        error: (issue) =>
          "must be an http or https URL without query or fragment " +
          `(got ${JSON.stringify(issue.input)})`,
      })
      .transform((value) => value.replace(/\/+$/, ""))
      .default(DEFAULT_PLIVO_API_BASE_URL),
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
      .default(DEFAULT_PLIVO_TIMEOUT_MS),
    mainAccountAuthToken: token.optional(),
    requireV3Signature: z.boolean({ error: "must be true or false" }).default(false),
  },
  { error: "must be an object with authId, authToken and from" },
);

/**
 * Validates Plivo options and applies defaults. The sender is normalised once, so that
 * `14155550199` and `+14155550199` name the same consent scope.
 *
 * @param configPath - Prefix of the option path in error messages, such as
 *   `providers.plivo` when the options come from a configuration file.
 * @throws {ConfigError} naming the first invalid option, such as `plivo.authId`.
 */
export function resolvePlivoOptions(
  options: PlivoOptions,
  configPath = "plivo",
): ResolvedPlivoOptions {
  const value = parseProviderOptions(plivoOptionsSchema, options, configPath, "Plivo");

  return {
    authId: value.authId,
    authToken: value.authToken,
    from: value.from,
    apiBaseUrl: value.apiBaseUrl,
    dispatcher: value.dispatcher,
    timeoutMs: value.timeoutMs,
    mainAccountAuthToken: value.mainAccountAuthToken,
    requireV3Signature: value.requireV3Signature,
  };
}

function readSender(value: string, context: z.RefinementCtx): string {
  const invalid = (detail: string): string => {
    context.addIssue({
      code: "custom",
      message:
        "must be a Plivo number, short code or sender ID " +
        `(got ${JSON.stringify(value)}): ${detail}`,
    });

    return z.NEVER;
  };

  if (value.trim() === "" || !untrimmed(value)) {
    return invalid("it is empty or has leading or trailing whitespace");
  }

  try {
    const sender = parseSenderIdentity(value, { internationalDigits: true });

    if (sender.kind === "service" || sender.kind === "channel") {
      return invalid("Plivo sends SMS from a number, a short code or an alphanumeric ID");
    }

    return sender.value;
  } catch (error) {
    return invalid(error instanceof Error ? error.message : String(error));
  }
}
