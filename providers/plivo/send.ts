import type { Dispatcher } from "undici";
import { ProviderError, redactPhone } from "../../src/errors.js";
import { endpointCache, requestFailure } from "../../src/http/api-client.js";
import { requestText } from "../../src/http/request.js";
import { parseSenderIdentity } from "../../src/phone/sender.js";
import type { OutboundMessage, SendResult } from "../../src/provider.js";
import { mapPlivoErrorResponse, readTextList } from "./errors.js";
import type { ResolvedPlivoOptions } from "./options.js";

/** The JSON body of a Message API send request. */
export interface PlivoMessageBody {
  /** Sender: international digits without `+`, a short code or a sender ID. */
  src: string;
  /** Recipient: international digits without `+`, or a short code. */
  dst: string;
  text: string;
  /** `mms` when the message has media. */
  type: "sms" | "mms";
  /** Status callback URL. */
  url?: string;
  /** HTTP method of the status callback, sent with `url`. */
  method?: "POST";
  media_urls?: string[];
}

// One recipient only: Plivo reads `<` in `dst` as a list separator, and every recipient
// must pass the send guard on its own.
const E164 = /^\+[1-9]\d{6,14}$/;
const SHORT_CODE = /^\d{3,8}$/;

/**
 * Writes a number the way Plivo's API takes it: E.164 without the leading `+`. Short
 * codes and sender IDs are returned unchanged.
 */
export function toPlivoAddress(value: string): string {
  return value.startsWith("+") ? value.slice(1) : value;
}

/**
 * Builds the body of a send request. `message.from` wins over the configured `from`.
 * With media the message is sent as MMS, and a status callback URL is sent with
 * `method: "POST"`.
 *
 * @throws {ProviderError} `invalid-recipient` when `to` is not one E.164 number or short
 *   code, and `sender-config` when `from` is not a number, short code or sender ID.
 */
export function buildPlivoMessageBody(
  options: ResolvedPlivoOptions,
  message: OutboundMessage,
): PlivoMessageBody {
  const mediaUrls = message.mediaUrls ?? [];
  const body: PlivoMessageBody = {
    src: toPlivoAddress(resolveSender(options, message)),
    dst: toPlivoAddress(checkRecipient(message.to)),
    text: message.body,
    type: mediaUrls.length > 0 ? "mms" : "sms",
  };

  if (message.statusCallbackUrl !== undefined) {
    body.url = message.statusCallbackUrl;
    body.method = "POST";
  }

  if (mediaUrls.length > 0) {
    body.media_urls = [...mediaUrls];
  }

  return body;
}

/**
 * Returns the sender of a message as a sender identity value: `message.from` normalised
 * (Plivo digits become E.164), else the configured `from`.
 *
 * @throws {ProviderError} `sender-config` when `message.from` is not a sender.
 */
export function resolveSender(options: ResolvedPlivoOptions, message: OutboundMessage): string {
  if (!message.from) {
    return options.from;
  }

  try {
    const sender = parseSenderIdentity(message.from, { internationalDigits: true });

    if (sender.kind !== "service" && sender.kind !== "channel") {
      return sender.value;
    }
  } catch (error) {
    throw invalidSender(message.from, error);
  }

  throw invalidSender(message.from, undefined);
}

function invalidSender(from: string, cause: unknown): ProviderError {
  return new ProviderError(
    `Plivo cannot send from ${JSON.stringify(redactPhone(from))}: use a Plivo number in ` +
      "E.164, a short code or an alphanumeric sender ID",
    { provider: "plivo", reason: "sender-config", cause },
  );
}

function checkRecipient(to: string): string {
  if (E164.test(to) || SHORT_CODE.test(to)) {
    return to;
  }

  throw new ProviderError(
    `Plivo recipient ${JSON.stringify(redactPhone(to))} is not one E.164 number or short ` +
      "code. Normalise it first (normalizeRecipient) and send to one recipient at a time",
    { provider: "plivo", reason: "invalid-recipient" },
  );
}

/**
 * Sends one message with `POST /v1/Account/{auth_id}/Message/`.
 *
 * Only HTTP 202 with a `message_uuid` is a success. A 202 that lists the recipient in
 * `invalid_number` is `invalid-recipient`, and a 202 whose body has no `message_uuid` is
 * `unknown`. Every other response becomes a {@link ProviderError} from
 * {@link mapPlivoErrorResponse}. A network failure, a timeout or a response body longer
 * than 4 MiB is `transient`. Nothing is retried here.
 */
export async function sendPlivoMessage(
  options: ResolvedPlivoOptions,
  dispatcher: Dispatcher,
  message: OutboundMessage,
): Promise<SendResult> {
  const body = buildPlivoMessageBody(options, message);
  const response = await postJson(options, dispatcher, body);

  if (response.status !== 202) {
    throw mapPlivoErrorResponse(response.status, response.body, body);
  }

  return readAccepted(response, body, message, resolveSender(options, message));
}

interface PlivoResponse {
  status: number;
  body: string;
}

// The Message endpoint of each options object, built on its first send.
const messageClient = endpointCache((options: ResolvedPlivoOptions) => ({
  url: `${options.apiBaseUrl}/v1/Account/${encodeURIComponent(options.authId)}/Message/`,
  user: options.authId,
  password: options.authToken,
  timeoutMs: options.timeoutMs,
}));

async function postJson(
  options: ResolvedPlivoOptions,
  dispatcher: Dispatcher,
  body: PlivoMessageBody,
): Promise<PlivoResponse> {
  try {
    const { origin, path, authorization, deadlines } = messageClient(options);
    const response = await requestText(
      dispatcher,
      {
        origin,
        path,
        method: "POST",
        headers: {
          authorization,
          "content-type": "application/json; charset=utf-8",
          accept: "application/json",
          "user-agent": "smsgate",
        },
        body: JSON.stringify(body),
      },
      deadlines,
    );

    return { status: response.status, body: response.body };
  } catch (error) {
    throw networkError(error, options.timeoutMs);
  }
}

function networkError(error: unknown, timeoutMs: number): ProviderError {
  return requestFailure({ provider: "plivo", label: "Plivo", timeoutMs, error });
}

// `message_uuid` contains one id per destination, not per segment. Plivo reports the
// segments (`Units`) only in status callbacks, so `segments` stays unset here.
function readAccepted(
  response: PlivoResponse,
  body: PlivoMessageBody,
  message: OutboundMessage,
  sender: string,
): SendResult {
  const parsed = parseJsonObject(response.body);
  const uuids = readTextList(parsed?.message_uuid);
  const invalid = readTextList(parsed?.invalid_number);
  const requestId = typeof parsed?.api_id === "string" ? parsed.api_id : undefined;
  const details = { provider: "plivo", httpStatus: 202, requestId, rawBody: response.body };

  if (invalid.length > 0 && (uuids.length === 0 || invalid.includes(body.dst))) {
    throw new ProviderError(
      `Plivo rejected recipient ${redactPhone(message.to)} as an invalid number. ` +
        "Check that it is a mobile number in E.164",
      { ...details, reason: "invalid-recipient" },
    );
  }

  const messageId = uuids[0];

  if (parsed === undefined || messageId === undefined) {
    throw new ProviderError(
      'Plivo returned HTTP 202 without a "message_uuid". Check the Plivo console before ' +
        "sending again, because the message may have been queued",
      { ...details, reason: "unknown" },
    );
  }

  return {
    provider: "plivo",
    messageId,
    status: "queued",
    to: message.to,
    from: sender,
    raw: parsed,
  };
}

function parseJsonObject(text: string): Record<string, unknown> | undefined {
  try {
    const value: unknown = JSON.parse(text);

    if (typeof value === "object" && value !== null && !Array.isArray(value)) {
      return value as Record<string, unknown>;
    }
  } catch {
    // Not JSON: the caller reports it.
  }

  return undefined;
}
