/**
 * The request target and credentials of one provider API endpoint, built once per options
 * object, with the deadline queue its requests share.
 *
 * @module
 */

import { ProviderError } from "../errors.js";
import { DeadlineQueue } from "./deadlines.js";

/** Origin, path and Basic credentials of one API endpoint, and the time limits of its requests. */
export interface ApiEndpoint {
  origin: string;
  /** Path and query, as undici takes them from the whole URL. */
  path: string;
  /** The `Authorization` header value: `Basic` and the base64 of `user:password`. */
  authorization: string;
  /** The time limits of the requests in flight, on one timer. */
  deadlines: DeadlineQueue;
}

/** The URL, credentials and time limit an {@link ApiEndpoint} is built from. */
export interface ApiEndpointInput {
  url: string;
  user: string;
  password: string;
  timeoutMs: number;
}

/**
 * Returns a function that gives the value of an options object, built by `build(options)`
 * on the first call and the same one after. Resolved options objects are not changed, so a
 * value stays valid for its object, and it is dropped with the object.
 */
export function perOptions<Options extends object, Value>(
  build: (options: Options) => Value,
): (options: Options) => Value {
  const values = new WeakMap<Options, Value>();

  return (options) => {
    let value = values.get(options);

    if (value === undefined) {
      value = build(options);
      values.set(options, value);
    }

    return value;
  };
}

/** Returns a function that gives the endpoint of an options object, built once per object. */
export function endpointCache<Options extends object>(
  describe: (options: Options) => ApiEndpointInput,
): (options: Options) => ApiEndpoint {
  return perOptions((options: Options) => buildEndpoint(describe(options)));
}

function buildEndpoint({ url, user, password, timeoutMs }: ApiEndpointInput): ApiEndpoint {
  const parsed = new URL(url);
  const credentials = Buffer.from(`${user}:${password}`, "utf8");

  return {
    origin: parsed.origin,
    path: `${parsed.pathname}${parsed.search}`,
    authorization: `Basic ${credentials.toString("base64")}`,
    deadlines: new DeadlineQueue(timeoutMs),
  };
}

/** The error of a request that got no complete response. */
export interface RequestFailureInput {
  /** The provider as errors name it, such as `twilio`. */
  provider: string;
  /** The provider as the message names it, such as `Twilio`. */
  label: string;
  /** The time limit of the request, in milliseconds. */
  timeoutMs: number;
  /** The error the request rejected with. */
  error: unknown;
}

/**
 * Builds the `transient` error of a request that timed out, lost its connection or had an
 * oversized body: "Twilio API request timed out after 10000 ms", or "... failed:" and the
 * reason.
 *
 * NOTE: after a timeout or a dropped connection the provider may still have accepted the
 * message, so a caller that retries a `transient` send can deliver it twice.
 */
export function requestFailure({
  provider,
  label,
  timeoutMs,
  error,
}: RequestFailureInput): ProviderError {
  const name = error instanceof Error ? error.name : "";
  const code = (error as { code?: unknown } | null)?.code;
  const timedOut =
    name === "TimeoutError" ||
    code === "UND_ERR_HEADERS_TIMEOUT" ||
    code === "UND_ERR_BODY_TIMEOUT";
  const detail = timedOut
    ? `timed out after ${timeoutMs} ms`
    : `failed: ${error instanceof Error ? error.message : String(error)}`;

  return new ProviderError(`${label} API request ${detail}`, {
    provider,
    reason: "transient",
    cause: error,
  });
}
