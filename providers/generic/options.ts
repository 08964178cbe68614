import type { Dispatcher } from "undici";
import type { ProviderErrorReason } from "../../src/errors.js";
import type { DeliveryStatus } from "../../src/provider.js";
import { parseProviderOptions } from "../../src/provider-options.js";
import { genericOptionsSchema } from "./schema.js";
import type { GenericTemplateValue } from "./template.js";

/** Credentials sent with every send request. */
export type GenericAuth =
  | { type: "bearer"; token: string }
  | { type: "basic"; username: string; password: string }
  | { type: "header"; name: string; value: string };

/**
 * One rule that turns a send response into a refusal. Every condition given must hold:
 * `status` equals the HTTP status, and `code` equals the text at `codePath` (or at
 * `send.errorCodePath`) of the JSON response. A rule needs `status` or `code`.
 */
export interface GenericErrorRule {
  status?: number | undefined;
  /** Dotted path of the code in the response, such as `errors.0.code`. */
  codePath?: string | undefined;
  code?: string | number | undefined;
  reason: ProviderErrorReason;
}

/** How to send a message. */
export interface GenericSendOptions {
  /** The full URL of the send endpoint. @example "https://api.example.com/v1/messages" */
  url: string;
  /** @default "POST" */
  method?: "POST" | "PUT" | undefined;
  /** `json` sends the rendered body as JSON, `form` as a form body. @default "json" */
  format?: "json" | "form" | undefined;
  /**
   * The request body. Strings may contain `{{to}}`, `{{from}}`, `{{body}}` and
   * `{{statusCallbackUrl}}`, replaced by the message's values as text, never spliced into
   * JSON. A value whose placeholder has no value (no sender, no callback URL) is left
   * out. A form body takes only string values.
   * @example { "to": "{{to}}", "from": "{{from}}", "text": "{{body}}" }
   */
  body: Readonly<Record<string, GenericTemplateValue>>;
  /** More request headers, such as an API version. */
  headers?: Readonly<Record<string, string>> | undefined;
  auth?: GenericAuth | undefined;
  /** Dotted path of the new message's id in a 2xx response. @example "messages.0.id" */
  messageIdPath: string;
  /** Dotted path of the new message's status, mapped through `statuses`. */
  statusPath?: string | undefined;
  /** Dotted path of the provider's error code in a response, kept as `providerCode`. */
  errorCodePath?: string | undefined;
  /** Rules that turn a response into a refusal, tried in order. */
  errors?: readonly GenericErrorRule[] | undefined;
  /**
   * Time limit for one request, from connecting to reading the whole response, in
   * milliseconds.
   * @default 15000
   */
  timeoutMs?: number | undefined;
}

/** Values of a field that mean each consent intent, compared without regard to case. */
export interface GenericIntentMapping {
  /** Location of the flag: a dotted path into JSON, or a form field name. */
  field: string;
  optOut?: readonly string[] | undefined;
  optIn?: readonly string[] | undefined;
  help?: readonly string[] | undefined;
}

/**
 * Locations of the fields of an inbound message. Each is a dotted path into a JSON body
 * (`message.from`) or a form field name.
 */
export interface GenericInboundMapping {
  /**
   * The provider's message id, which lets the gateway drop a redelivery. When absent,
   * every delivery gets a new id and is recorded, a redelivery included.
   */
  id?: string | undefined;
  from: string;
  /** The receiving number. When absent, the configured `from` is the recipient. */
  to?: string | undefined;
  text: string;
  /**
   * The provider's time of the message: ISO 8601 or Unix seconds. The newest time
   * decides consent, so a late redelivery does not override a newer reply.
   */
  time?: string | undefined;
  /** The provider's own opt-out, opt-in or help flag. */
  intent?: GenericIntentMapping | undefined;
}

/** Locations of the fields of a delivery report. */
export interface GenericStatusMapping {
  id: string;
  status: string;
  errorCode?: string | undefined;
  /** The recipient of the message. An opt-out refusal is recorded only when it is known. */
  to?: string | undefined;
  from?: string | undefined;
  time?: string | undefined;
}

/**
 * A webhook that reports that a number opted out, without a message (such as a
 * "stopped" callback). It becomes an inbound message with empty text and
 * `providerIntent: "opt-out"`, so the gateway records an opt-out from `from`.
 */
export interface GenericOptOutReport {
  /**
   * The field and value that mark a report, read from the body or, when `in` is `query`,
   * from the URL's query. `in: "query"` needs `signature.signed: "url+body"`, the only mode
   * that covers the query, because otherwise anyone with one signed request could turn it
   * into an opt-out report by adding the field to its URL.
   */
  match: { field: string; value: string; in?: "body" | "query" | undefined };
  /** The number that opted out. */
  from: string;
  /** The number it opted out from. When absent, the configured `from`. */
  to?: string | undefined;
  /**
   * An id of the report, which lets the gateway drop a redelivery. When absent, every
   * delivery gets a new id and is recorded, a redelivery included.
   */
  id?: string | undefined;
  /** The provider's time of the report: ISO 8601 or Unix seconds. */
  time?: string | undefined;
}

/** HMAC signature scheme of the webhooks. */
export interface GenericHmacSignature {
  type: "hmac";
  secret: string;
  /** Encoding of `secret`. @default "utf8" */
  secretEncoding?: "utf8" | "hex" | "base64" | undefined;
  /** The header that carries the signature. @example "x-signature" */
  header: string;
  algorithm: "sha1" | "sha256" | "sha512";
  encoding: "hex" | "base64";
  /** Text before the signature in the header. @example "sha256=" */
  prefix?: string | undefined;
  /**
   * Content that is signed: the raw body, the public URL then the body, or the timestamp
   * header then the body, joined by `separator`. Only `url+body` covers the query, so a GET
   * webhook is rejected under the other two.
   * @default "body"
   */
  signed?: "body" | "url+body" | "timestamp+body" | undefined;
  /** The header with the Unix time in seconds, for `timestamp+body`. */
  timestampHeader?: string | undefined;
  /** @default "" */
  separator?: string | undefined;
  /** Largest accepted age (or skew) of the timestamp, in seconds. @default 300 */
  toleranceSeconds?: number | undefined;
}

/** No signature check. Anyone who can reach the webhook URL can then opt numbers in or out. */
export interface GenericNoSignature {
  type: "none";
  /** Must be `true`, to say that unsigned webhooks are accepted on purpose. */
  insecure: true;
}

/** The response the provider gets for a webhook. */
export interface GenericWebhookResponse {
  /** @default 200 */
  status?: number | undefined;
  /** @default "text/plain; charset=utf-8" */
  contentType?: string | undefined;
  /** @default "" */
  body?: string | undefined;
}

/** Options for reading and verifying webhooks. */
export interface GenericWebhookOptions {
  /**
   * `form` also reads the fields of a GET from its query, which needs
   * `signature.signed: "url+body"`.
   * @default "json"
   */
  format?: "json" | "form" | undefined;
  /**
   * Read digit strings as international numbers without `+` (`14155550100`), never
   * through a default region.
   * @default false
   */
  internationalDigits?: boolean | undefined;
  inbound?: GenericInboundMapping | undefined;
  status?: GenericStatusMapping | undefined;
  optOutReport?: GenericOptOutReport | undefined;
  signature: GenericHmacSignature | GenericNoSignature;
  response?: GenericWebhookResponse | undefined;
}

/**
 * Options of the generic HTTP provider, validated once by {@link generic}. Everything but
 * `dispatcher` and `clock` can come from a JSON file.
 */
export interface GenericProviderOptions {
  /** Provider name in routes, events and consent records. @default "generic" */
  name?: string | undefined;
  /** Default sender, a number in E.164, a short code or a sender ID. */
  from?: string | undefined;
  send: GenericSendOptions;
  webhooks: GenericWebhookOptions;
  /**
   * The provider's status values (compared without case) and what they mean, for send
   * responses and status webhooks. A value missing here is `unknown`.
   */
  statuses?: Readonly<Record<string, DeliveryStatus>> | undefined;
  /** Error codes of status webhooks and their reasons. A code missing here is `unknown`. */
  errorCodes?: Readonly<Record<string, ProviderErrorReason>> | undefined;
  /** Error code values that mean no error, such as `"0"`. @default [] */
  noErrorCodes?: readonly string[] | undefined;
  /** undici dispatcher for every API request. It is not closed by the provider. */
  dispatcher?: Dispatcher | undefined;
  /** Current time in milliseconds since the epoch, for signature windows. */
  clock?: (() => number) | undefined;
}

/** {@link GenericProviderOptions} after validation, with defaults applied. */
export interface ResolvedGenericOptions {
  name: string;
  from: string | undefined;
  send: Required<Omit<GenericSendOptions, "auth" | "statusPath" | "errorCodePath">> &
    Pick<GenericSendOptions, "auth" | "statusPath" | "errorCodePath">;
  webhooks: ResolvedGenericWebhooks;
  /** Keys in lower case. */
  statuses: Readonly<Record<string, DeliveryStatus>>;
  errorCodes: Readonly<Record<string, ProviderErrorReason>>;
  noErrorCodes: readonly string[];
  dispatcher: Dispatcher | undefined;
  clock: () => number;
}

/** {@link GenericWebhookOptions} after validation. */
export interface ResolvedGenericWebhooks {
  format: "json" | "form";
  internationalDigits: boolean;
  inbound: GenericInboundMapping | undefined;
  status: GenericStatusMapping | undefined;
  optOutReport: GenericOptOutReport | undefined;
  signature: Required<GenericHmacSignature> | GenericNoSignature;
  response: Required<GenericWebhookResponse>;
}

/** Default `send.timeoutMs`, in milliseconds. */
export const DEFAULT_GENERIC_TIMEOUT_MS = 15_000;

/** Default `webhooks.signature.toleranceSeconds`. */
export const DEFAULT_GENERIC_TOLERANCE_SECONDS = 300;

/**
 * Validates generic provider options and applies defaults.
 *
 * @param configPath - Prefix of the option path in error messages, such as
 *   `providers.generic.acme` when the options come from a configuration file.
 * @throws {ConfigError} naming the first invalid option, such as `generic.send.url`.
 */
export function resolveGenericOptions(
  options: GenericProviderOptions,
  configPath = "generic",
): ResolvedGenericOptions {
  const value = parseProviderOptions(genericOptionsSchema, options, configPath, "generic provider");

  return {
    ...value,
    from: value.from,
    dispatcher: value.dispatcher,
    webhooks: {
      ...value.webhooks,
      inbound: value.webhooks.inbound,
      status: value.webhooks.status,
      optOutReport: value.webhooks.optOutReport,
    },
    clock: value.clock ?? Date.now,
  };
}
