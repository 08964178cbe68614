import type { Dispatcher } from "undici";
import { ProviderError } from "../../src/errors.js";
import { endpointCache, requestFailure } from "../../src/http/api-client.js";
import { encodeForm, type FormPair } from "../../src/http/form.js";
import { headerValue, type RawHeaders, requestText } from "../../src/http/request.js";
import type { OutboundMessage, SendResult } from "../../src/provider.js";
import { mapTwilioErrorResponse } from "./errors.js";
import type { ResolvedTwilioOptions } from "./options.js";
import { mapTwilioMessageStatus } from "./status.js";

const SERVICE_SID = /^MG[0-9a-fA-F]{32}$/;

/**
 * Builds the form of a Messages create request. `message.from` wins over the configured
 * `from`, and the configured Messaging Service is sent whenever there is one. A `from` that
 * is itself a Messaging Service SID is sent as `MessagingServiceSid`.
 *
 * @throws {ProviderError} with reason `sender-config` when there is no sender at all.
 */
export function buildTwilioMessageForm(
  options: ResolvedTwilioOptions,
  message: OutboundMessage,
): FormPair[] {
  const form: FormPair[] = [["To", message.to]];
  const sender = message.from || options.from;
  const fromIsService = sender !== undefined && SERVICE_SID.test(sender);
  const serviceSid = fromIsService ? sender : options.messagingServiceSid;

  if (sender !== undefined && !fromIsService) {
    form.push(["From", sender]);
  }

  if (serviceSid !== undefined) {
    form.push(["MessagingServiceSid", serviceSid]);
  }

  if (form.length === 1) {
    throw new ProviderError(
      "No sender for the Twilio message: set `from` or `messagingServiceSid` in the " +
        "Twilio options, or pass `from` with the message",
      { provider: "twilio", reason: "sender-config" },
    );
  }

  appendContent(form, message);

  return form;
}

function appendContent(form: FormPair[], message: OutboundMessage): void {
  const mediaUrls = message.mediaUrls ?? [];

  // Twilio needs a body or media; an empty body next to media is left out.
  if (message.body !== "" || mediaUrls.length === 0) {
    form.push(["Body", message.body]);
  }

  for (const url of mediaUrls) {
    form.push(["MediaUrl", url]);
  }

  if (message.statusCallbackUrl !== undefined) {
    form.push(["StatusCallback", message.statusCallbackUrl]);
  }
}

/**
 * Sends one message with `POST /2010-04-01/Accounts/{AccountSid}/Messages.json`.
 *
 * Only HTTP 201 with a Message body is a success. Every other response becomes a
 * {@link ProviderError} from {@link mapTwilioErrorResponse}. A network failure or timeout is
 * `transient`, and a 2xx whose body is not a Message is `unknown`. Nothing is retried here,
 * so a 21610 refusal is reported exactly once.
 */
export async function sendTwilioMessage(
  options: ResolvedTwilioOptions,
  dispatcher: Dispatcher,
  message: OutboundMessage,
): Promise<SendResult> {
  const form = buildTwilioMessageForm(options, message);
  const response = await postForm(options, dispatcher, form);

  if (response.status !== 201) {
    throw mapTwilioErrorResponse(response.status, response.body, requestIdOf(response));
  }

  return readMessage(response, message);
}

interface TwilioResponse {
  status: number;
  body: string;
  rawHeaders: RawHeaders;
}

// The Messages endpoint of each options object, built on its first send.
const messagesClient = endpointCache((options: ResolvedTwilioOptions) => ({
  url: `${options.apiBaseUrl}/2010-04-01/Accounts/${options.accountSid}/Messages.json`,
  user: options.accountSid,
  password: options.authToken,
  timeoutMs: options.timeoutMs,
}));

async function postForm(
  options: ResolvedTwilioOptions,
  dispatcher: Dispatcher,
  form: FormPair[],
): Promise<TwilioResponse> {
  try {
    const { origin, path, authorization, deadlines } = messagesClient(options);
    const response = await requestText(
      dispatcher,
      {
        origin,
        path,
        method: "POST",
        headers: {
          authorization,
          "content-type": "application/x-www-form-urlencoded; charset=utf-8",
          accept: "application/json",
          "user-agent": "smsgate",
        },
        body: encodeForm(form),
      },
      deadlines,
    );

    return { status: response.status, body: response.body, rawHeaders: response.rawHeaders };
  } catch (error) {
    throw networkError(error, options.timeoutMs);
  }
}

function requestIdOf(response: TwilioResponse): string | undefined {
  return headerValue(response.rawHeaders, "twilio-request-id");
}

function networkError(error: unknown, timeoutMs: number): ProviderError {
  return requestFailure({ provider: "twilio", label: "Twilio", timeoutMs, error });
}

function readMessage(response: TwilioResponse, message: OutboundMessage): SendResult {
  const parsed = parseJsonObject(response.body);
  const sid = parsed?.sid;

  if (parsed === undefined || typeof sid !== "string" || sid === "") {
    throw new ProviderError(
      `Twilio returned HTTP ${response.status} without a Message body (no "sid"); ` +
        "check the Twilio console before sending again, because the message may exist",
      {
        provider: "twilio",
        reason: "unknown",
        httpStatus: response.status,
        requestId: requestIdOf(response),
        rawBody: response.body,
      },
    );
  }

  return {
    provider: "twilio",
    messageId: sid,
    status: mapTwilioMessageStatus(readString(parsed.status)),
    to: message.to,
    from: readString(parsed.from),
    segments: readSegments(parsed.num_segments),
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

function readString(value: unknown): string | undefined {
  return typeof value === "string" && value !== "" ? value : undefined;
}

// Twilio sends `num_segments` as a string. It is "0" while a Messaging Service has not
// picked a sender, which means "not known yet" rather than zero billed segments.
function readSegments(value: unknown): number | undefined {
  const text = typeof value === "number" ? String(value) : value;

  if (typeof text !== "string" || !/^\d+$/.test(text)) {
    return undefined;
  }

  const segments = Number.parseInt(text, 10);

  return segments > 0 ? segments : undefined;
}
