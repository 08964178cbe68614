import type { Dispatcher } from "undici";
import { isGsm7 } from "../../src/encoding/gsm.js";
import { InvalidRequestError, ProviderError } from "../../src/errors.js";
import { perOptions, requestFailure } from "../../src/http/api-client.js";
import { encodeForm, type FormPair } from "../../src/http/form.js";
import { DeadlineQueue, requestText } from "../../src/http/request.js";
import type { OutboundMessage, SendResult } from "../../src/provider.js";
import { mapVonageErrorResponse, mapVonageSmsRejection, type VonageSmsPart } from "./errors.js";
import type { ResolvedVonageOptions } from "./options.js";
import { computeVonageSignature } from "./signature.js";

/** A message for Vonage: an {@link OutboundMessage} with Vonage's own reference. */
export interface VonageOutboundMessage extends OutboundMessage {
  /** A reference of your own, echoed in receipts and status webhooks, of 40 characters at most. */
  clientRef?: string | undefined;
}

const RECIPIENT = /^\+?(\d{7,15})$/;
const MAX_CLIENT_REF_LENGTH = 40;

/**
 * Returns the recipient as Vonage writes it: the digits of the E.164 number, without `+`.
 *
 * @throws {ProviderError} `invalid-recipient` for anything but 7 to 15 digits, such as a
 * short code, which Vonage cannot send to.
 */
export function vonageRecipient(to: string): string {
  const digits = RECIPIENT.exec(to.trim())?.[1];

  if (digits === undefined) {
    throw new ProviderError(
      `Vonage sends only to international numbers of 7 to 15 digits, not ${JSON.stringify(to)}`,
      { provider: "vonage", reason: "invalid-recipient" },
    );
  }

  return digits;
}

/**
 * Returns the sender as Vonage writes it: a number without `+`, or the short code or
 * alphanumeric sender ID as given. `message.from` wins over the configured `from`.
 *
 * @throws {ProviderError} `sender-config` when there is no sender at all.
 */
export function vonageSender(options: ResolvedVonageOptions, message: OutboundMessage): string {
  const sender = (message.from || options.from)?.trim();

  if (sender === undefined || sender === "") {
    throw new ProviderError(
      "The Vonage message has no sender. Set `from` in the Vonage options, " +
        "or pass `from` with the message",
      { provider: "vonage", reason: "sender-config" },
    );
  }

  return /^\+\d+$/.test(sender) ? sender.slice(1) : sender;
}

/** Checks the parts of a message that Vonage's SMS APIs cannot carry. */
export function checkVonageMessage(message: VonageOutboundMessage): void {
  if (message.mediaUrls !== undefined && message.mediaUrls.length > 0) {
    throw new InvalidRequestError(
      "Vonage SMS cannot carry media, so send the media URLs in the text instead",
    );
  }

  const clientRef = message.clientRef;

  if (clientRef !== undefined && clientRef.length > MAX_CLIENT_REF_LENGTH) {
    throw new InvalidRequestError(
      `clientRef has ${clientRef.length} characters, but Vonage accepts at most ` +
        `${MAX_CLIENT_REF_LENGTH}, so shorten it`,
    );
  }
}

/**
 * Builds the form of an SMS API send. Text outside the GSM-7 alphabet is sent with
 * `type=unicode`, because Vonage would otherwise garble it. With `signedRequests`, the
 * form carries `timestamp` and `sig` instead of `api_secret`, and the signature is
 * computed over exactly the pairs that are sent.
 *
 * @param now - Current time in milliseconds, for `timestamp`.
 * @throws {ProviderError} `sender-config` without a sender, `invalid-recipient` for a
 * recipient Vonage cannot send to.
 * @throws {InvalidRequestError} for media or a `clientRef` longer than 40 characters.
 */
export function buildVonageSmsForm(
  options: ResolvedVonageOptions,
  message: VonageOutboundMessage,
  now: number = options.clock(),
): FormPair[] {
  checkVonageMessage(message);

  const form: FormPair[] = [["api_key", options.apiKey ?? ""]];

  if (!options.signedRequests) {
    form.push(["api_secret", options.apiSecret ?? ""]);
  }

  form.push(
    ["from", vonageSender(options, message)],
    ["to", vonageRecipient(message.to)],
    ["text", message.body],
  );
  appendOptional(form, "type", isGsm7(message.body) ? undefined : "unicode");
  appendOptional(form, "callback", message.statusCallbackUrl);
  appendOptional(form, "client-ref", message.clientRef);

  if (options.signedRequests) {
    form.push(["timestamp", String(Math.floor(now / 1000))]);
    form.push([
      "sig",
      computeVonageSignature(form, options.signatureSecret ?? "", options.signatureMethod),
    ]);
  }

  return form;
}

function appendOptional(form: FormPair[], name: string, value: string | undefined): void {
  if (value !== undefined) {
    form.push([name, value]);
  }
}

/**
 * Sends one message with `POST /sms/json`.
 *
 * The SMS API answers HTTP 200 with one entry per part of a long message. It is a success
 * only when every part has status `0`, and the result carries the first part's message ID and
 * the part count as `segments`. A rejected part makes the whole send a
 * {@link ProviderError} from {@link mapVonageSmsRejection}, even when other parts were
 * accepted. Another HTTP status comes from {@link mapVonageErrorResponse}. A network
 * failure, a timeout or a response body longer than 4 MiB is `transient`. Nothing is
 * retried here.
 */
export async function sendVonageSms(
  options: ResolvedVonageOptions,
  dispatcher: Dispatcher,
  message: VonageOutboundMessage,
): Promise<SendResult> {
  const form = buildVonageSmsForm(options, message);
  const response = await postToVonage(options, dispatcher, `${options.apiBaseUrl}/sms/json`, {
    headers: { "content-type": "application/x-www-form-urlencoded; charset=utf-8" },
    body: encodeForm(form),
  });

  if (response.status < 200 || response.status > 299) {
    throw mapVonageErrorResponse(response.status, response.body, options.optOutErrorCodes);
  }

  const parsed = parseJsonObject(response.body);
  const parts = readParts(parsed);

  if (parsed === undefined || parts === undefined) {
    throw unreadableResponse(response, 'no "messages" array');
  }

  if (parts.some((part) => part.status !== "0")) {
    throw mapVonageSmsRejection(parts, response.body, response.status);
  }

  const messageId = parts[0]?.messageId;

  if (messageId === undefined) {
    throw unreadableResponse(response, 'no "message-id" in the first part');
  }

  return {
    provider: "vonage",
    messageId,
    status: "accepted",
    to: message.to,
    from: form.find(([name]) => name === "from")?.[1],
    segments: readCount(parsed["message-count"]) ?? parts.length,
    raw: parsed,
  };
}

interface SmsResponsePart extends VonageSmsPart {
  messageId: string | undefined;
}

function readParts(parsed: Record<string, unknown> | undefined): SmsResponsePart[] | undefined {
  const messages = parsed?.messages;

  if (!Array.isArray(messages) || messages.length === 0) {
    return undefined;
  }

  return messages.map((entry: unknown) => {
    const fields = (typeof entry === "object" && entry !== null ? entry : {}) as Record<
      string,
      unknown
    >;

    return {
      // The spec sends `status` as a string, but some servers send a number.
      status: readCode(fields.status) ?? "missing",
      errorText: readString(fields["error-text"]),
      messageId: readString(fields["message-id"]),
    };
  });
}

/** An HTTP response of a Vonage API, read whole. */
export interface VonageResponse {
  status: number;
  body: string;
}

/** Request parts of {@link postToVonage}. */
export interface VonagePostInput {
  headers: Record<string, string>;
  body: string;
}

/** Time limits of the requests in flight, with one queue and timer per options object. */
const deadlinesOf = perOptions(
  (options: ResolvedVonageOptions) => new DeadlineQueue(options.timeoutMs),
);

/**
 * Posts one request with the provider's dispatcher and time limit, and reads the whole
 * response.
 *
 * @throws {ProviderError} `transient` for a network failure, a timeout or a response body
 * longer than 4 MiB, which is not read.
 */
export async function postToVonage(
  options: ResolvedVonageOptions,
  dispatcher: Dispatcher,
  url: string,
  input: VonagePostInput,
): Promise<VonageResponse> {
  try {
    const target = new URL(url);
    const response = await requestText(
      dispatcher,
      {
        origin: target.origin,
        path: `${target.pathname}${target.search}`,
        method: "POST",
        headers: { accept: "application/json", "user-agent": "smsgate", ...input.headers },
        body: input.body,
      },
      deadlinesOf(options),
    );

    return { status: response.status, body: response.body };
  } catch (error) {
    throw networkError(error, options.timeoutMs);
  }
}

function networkError(error: unknown, timeoutMs: number): ProviderError {
  return requestFailure({ provider: "vonage", label: "Vonage", timeoutMs, error });
}

/** Builds the error for a 2xx response whose body is not what the API documents. */
export function unreadableResponse(response: VonageResponse, detail: string): ProviderError {
  return new ProviderError(
    `Vonage returned HTTP ${response.status} with ${detail}. Check the Vonage dashboard ` +
      "before sending again, because the message may have been accepted",
    { provider: "vonage", reason: "unknown", httpStatus: response.status, rawBody: response.body },
  );
}

/** Parses a JSON object, or returns `undefined` for anything else. */
export function parseJsonObject(text: string): Record<string, unknown> | undefined {
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

function readString(value: unknown): string | undefined {
  return typeof value === "string" && value !== "" ? value : undefined;
}

function readCode(value: unknown): string | undefined {
  return typeof value === "number" && Number.isFinite(value) ? String(value) : readString(value);
}

// `message-count` is a string on the wire, but some servers send a number.
function readCount(value: unknown): number | undefined {
  const text = readCode(value);

  return text !== undefined && /^\d{1,3}$/.test(text) && Number(text) > 0
    ? Number(text)
    : undefined;
}
