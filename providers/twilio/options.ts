import type { Dispatcher } from "undici";
import { z } from "zod";
import { isDispatcher, isHttpBaseUrl, parseProviderOptions } from "../../src/provider-options.js";

/** Options of the Twilio provider, validated once by {@link twilio}. */
export interface TwilioOptions {
  /**
   * Account SID: `AC` followed by 32 hexadecimal digits. Sends go to this account.
   * @example "AC0123456789abcdef0123456789abcdef"
   */
  accountSid: string;
  /**
   * Primary Auth Token of the account that owns the numbers. It authenticates sends and is
   * the key Twilio signs webhooks with; a subaccount signs with its own token.
   */
  authToken: string;
  /**
   * Default sender: a Twilio number in E.164, a short code or an alphanumeric sender ID.
   * `OutboundMessage.from` wins over it.
   * @example "+15017122661"
   */
  from?: string | undefined;
  /**
   * Messaging Service (`MG` followed by 32 hexadecimal digits) sent with every message.
   * With no sender given, Twilio picks one from the service's pool.
   */
  messagingServiceSid?: string | undefined;
  /**
   * Origin (and optional path prefix) of the REST API, such as a regional edge or a fake
   * server in tests.
   * @default "https://api.twilio.com"
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
}

/** {@link TwilioOptions} after validation, with defaults applied. */
export interface ResolvedTwilioOptions {
  accountSid: string;
  authToken: string;
  from: string | undefined;
  messagingServiceSid: string | undefined;
  /** Without a trailing slash. */
  apiBaseUrl: string;
  dispatcher: Dispatcher | undefined;
  timeoutMs: number;
}

/** Default `apiBaseUrl`: Twilio's public REST API. */
export const DEFAULT_TWILIO_API_BASE_URL = "https://api.twilio.com";

/** Default `timeoutMs`, in milliseconds. */
export const DEFAULT_TWILIO_TIMEOUT_MS = 15_000;

const ACCOUNT_SID = /^AC[0-9a-fA-F]{32}$/;
const SERVICE_SID = /^MG[0-9a-fA-F]{32}$/;

// Timers in Node hold at most a signed 32-bit number of milliseconds.
const MAX_TIMEOUT_MS = 2_147_483_647;

const untrimmed = (value: string): boolean => value.trim() === value;

const twilioOptionsSchema = z.object(
  {
    accountSid: z.string({ error: "is required and must be a string" }).regex(ACCOUNT_SID, {
      error: (issue) =>
        `must be an Account SID, AC followed by 32 hexadecimal digits ` +
        `(got ${JSON.stringify(issue.input)})`,
    }),
    authToken: z
      .string({ error: "is required and must be a string" })
      .min(1, { error: "must not be empty" })
      .refine(untrimmed, {
        error: "has leading or trailing whitespace; copy the token without it",
      }),
    from: z
      .string({ error: "must be a string" })
      .min(1, { error: "must not be empty; leave it out to use only the Messaging Service" })
      .refine(untrimmed, { error: "has leading or trailing whitespace" })
      .optional(),
    messagingServiceSid: z
      .string({ error: "must be a string" })
      .regex(SERVICE_SID, {
        error: (issue) =>
          `must be a Messaging Service SID, MG followed by 32 hexadecimal digits ` +
          `(got ${JSON.stringify(issue.input)})`,
      })
      .optional(),
    apiBaseUrl: z
      .string({ error: "must be a string" })
      .refine(isHttpBaseUrl, {
        error: (issue) =>
          `must be an http or https URL without query or fragment ` +
          `(got ${JSON.stringify(issue.input)})`,
      })
      .transform((value) => value.replace(/\/+$/, ""))
      .default(DEFAULT_TWILIO_API_BASE_URL),
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
      .default(DEFAULT_TWILIO_TIMEOUT_MS),
  },
  { error: "must be an object with accountSid and authToken" },
);

/**
 * Validates Twilio options and applies defaults.
 *
 * @param configPath - Prefix of the option path in error messages, such as
 *   `providers.twilio` when the options come from a configuration file.
 * @throws {ConfigError} naming the first invalid option, such as `twilio.accountSid`.
 */
export function resolveTwilioOptions(
  options: TwilioOptions,
  configPath = "twilio",
): ResolvedTwilioOptions {
  const value = parseProviderOptions(twilioOptionsSchema, options, configPath, "Twilio");

  return {
    accountSid: value.accountSid,
    authToken: value.authToken,
    from: value.from,
    messagingServiceSid: value.messagingServiceSid,
    apiBaseUrl: value.apiBaseUrl,
    dispatcher: value.dispatcher,
    timeoutMs: value.timeoutMs,
  };
}
