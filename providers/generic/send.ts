import type { Dispatcher } from "undici";
import { ProviderError } from "../../src/errors.js";
import { perOptions, requestFailure } from "../../src/http/api-client.js";
import { encodeForm } from "../../src/http/form.js";
import { DeadlineQueue, requestText } from "../../src/http/request.js";
import type { OutboundMessage, SendResult } from "../../src/provider.js";
import { type GenericResponse, mapGenericErrorResponse, matchErrorRule } from "./errors.js";
import { readPath, scalarText } from "./fields.js";
import type { GenericAuth, ResolvedGenericOptions } from "./options.js";
import { mapGenericStatus } from "./status.js";
import { renderTemplate } from "./template.js";

/** The HTTP request of one send, before it goes out. */
export interface GenericSendRequest {
  method: "POST" | "PUT";
  url: string;
  headers: Record<string, string>;
  body: string;
}

/**
 * Builds the send request: the body template rendered with the message, the auth header
 * and the configured headers. `message.from` wins over the configured `from`.
 *
 * @throws {ProviderError} `sender-config` for a message with media, which the generic
 *   provider cannot send.
 */
export function buildGenericSendRequest(
  options: ResolvedGenericOptions,
  message: OutboundMessage,
): GenericSendRequest {
  const { send } = options;

  // NOTE: the body template has no placeholder for media, so a message with media is
  // rejected rather than sent without them.
  if ((message.mediaUrls ?? []).length > 0) {
    throw new ProviderError(
      `The ${options.name} provider sends text only, so this message with media was not sent`,
      { provider: options.name, reason: "sender-config" },
    );
  }

  const rendered = renderTemplate(send.body, {
    to: message.to,
    from: message.from || options.from,
    body: message.body,
    statusCallbackUrl: message.statusCallbackUrl,
  });
  const json = send.format === "json";
  const body = json
    ? JSON.stringify(rendered)
    : encodeForm(Object.entries(rendered).map(([name, value]) => [name, String(value)]));
  const headers: Record<string, string> = {
    "content-type": json ? "application/json" : "application/x-www-form-urlencoded",
    accept: "application/json",
    "user-agent": "smsgate",
    ...authHeader(send.auth),
    ...send.headers,
  };

  return { method: send.method, url: send.url, headers, body };
}

function authHeader(auth: GenericAuth | undefined): Record<string, string> {
  if (auth === undefined) {
    return {};
  }

  if (auth.type === "bearer") {
    return { authorization: `Bearer ${auth.token}` };
  }

  if (auth.type === "basic") {
    const credentials = Buffer.from(`${auth.username}:${auth.password}`, "utf8");

    return { authorization: `Basic ${credentials.toString("base64")}` };
  }

  return { [auth.name.toLowerCase()]: auth.value };
}

/**
 * Sends one message. A response that matches an error rule is rejected with that rule's
 * reason, even a 2xx. Another non-2xx is rejected with the reason of its HTTP status. A
 * 2xx without a message id at `messageIdPath` is `unknown`, never a success. A network
 * failure, a timeout or a response body longer than 4 MiB is `transient`. Nothing is
 * retried here.
 */
export async function sendGenericMessage(
  options: ResolvedGenericOptions,
  dispatcher: Dispatcher,
  message: OutboundMessage,
): Promise<SendResult> {
  const prepared = buildGenericSendRequest(options, message);
  const response = await deliver(options, dispatcher, prepared);
  const errorOptions = { name: options.name, ...options.send };
  const rule = matchErrorRule(errorOptions, response);

  if (rule !== undefined || response.status < 200 || response.status > 299) {
    throw mapGenericErrorResponse(errorOptions, response, rule);
  }

  return readAccepted(options, response, message);
}

/** Time limits of the requests in flight, with one queue and timer per options object. */
const deadlinesOf = perOptions(
  (options: ResolvedGenericOptions) => new DeadlineQueue(options.send.timeoutMs),
);

async function deliver(
  options: ResolvedGenericOptions,
  dispatcher: Dispatcher,
  prepared: GenericSendRequest,
): Promise<GenericResponse> {
  try {
    const url = new URL(prepared.url);
    const response = await requestText(
      dispatcher,
      {
        origin: url.origin,
        path: `${url.pathname}${url.search}`,
        method: prepared.method,
        headers: prepared.headers,
        body: prepared.body,
      },
      deadlinesOf(options),
    );

    return { status: response.status, body: response.body, json: parseJson(response.body) };
  } catch (error) {
    throw networkError(options, error);
  }
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

function networkError(options: ResolvedGenericOptions, error: unknown): ProviderError {
  const { name, send } = options;

  return requestFailure({ provider: name, label: name, timeoutMs: send.timeoutMs, error });
}

function readAccepted(
  options: ResolvedGenericOptions,
  response: GenericResponse,
  message: OutboundMessage,
): SendResult {
  const { send } = options;
  const messageId = scalarText(readPath(response.json, send.messageIdPath))?.trim();

  if (messageId === undefined || messageId === "") {
    throw new ProviderError(
      `${options.name} API returned HTTP ${response.status} without a message id at ` +
        `${JSON.stringify(send.messageIdPath)}. Check the provider's console before ` +
        "sending again, because the message may exist",
      {
        provider: options.name,
        reason: "unknown",
        httpStatus: response.status,
        rawBody: response.body,
      },
    );
  }

  const statusText =
    send.statusPath === undefined
      ? undefined
      : scalarText(readPath(response.json, send.statusPath));

  return {
    provider: options.name,
    messageId,
    status: statusText === undefined ? "accepted" : mapGenericStatus(options.statuses, statusText),
    to: message.to,
    from: message.from || options.from,
    raw: response.json,
  };
}
