import { type OutboundMessage, ProviderError, type SendResult } from "smsgate";
import { mapTelnyxErrorResponse } from "./errors.js";
import { asObject, field, text } from "./fields.js";
import type { ResolvedTelnyxOptions } from "./options.js";
import { mapTelnyxStatus } from "./status.js";

/** The JSON body of `POST /v2/messages`. */
export interface TelnyxMessageBody {
  to: string;
  from?: string;
  messaging_profile_id?: string;
  text: string;
  /** URL for this message's status webhooks. */
  webhook_url?: string;
  media_urls?: string[];
}

/** Builds the body of a send. `message.from` wins over the configured `from`. */
export function buildTelnyxMessageBody(
  options: ResolvedTelnyxOptions,
  message: OutboundMessage,
): TelnyxMessageBody {
  const body: TelnyxMessageBody = { to: message.to, text: message.body };
  const from = message.from || options.from;

  if (from !== undefined) {
    body.from = from;
  }

  if (options.messagingProfileId !== undefined) {
    body.messaging_profile_id = options.messagingProfileId;
  }

  if (message.statusCallbackUrl !== undefined) {
    body.webhook_url = message.statusCallbackUrl;
  }

  if ((message.mediaUrls ?? []).length > 0) {
    body.media_urls = [...(message.mediaUrls ?? [])];
  }

  return body;
}

/**
 * Sends one message with `POST /v2/messages`. A 2xx with `data.id` is a success; a 2xx
 * without it is `unknown`, every other status a refusal from
 * {@link mapTelnyxErrorResponse}, and a network failure or timeout `transient`.
 */
export async function sendTelnyxMessage(
  options: ResolvedTelnyxOptions,
  message: OutboundMessage,
): Promise<SendResult> {
  const body = buildTelnyxMessageBody(options, message);
  const response = await post(options, body);

  if (response.status < 200 || response.status > 299) {
    throw mapTelnyxErrorResponse(response.status, response.text);
  }

  return readAccepted(response, message);
}

async function post(options: ResolvedTelnyxOptions, body: TelnyxMessageBody) {
  try {
    const response = await fetch(`${options.apiBaseUrl}/v2/messages`, {
      method: "POST",
      signal: AbortSignal.timeout(options.timeoutMs),
      headers: {
        authorization: `Bearer ${options.apiKey}`,
        "content-type": "application/json",
        accept: "application/json",
      },
      body: JSON.stringify(body),
    });

    return { status: response.status, text: await response.text() };
  } catch (error) {
    const detail = error instanceof Error ? error.message : String(error);

    // NOTE: after a timeout Telnyx may still have queued the message, so a caller that
    // retries a `transient` send can deliver it twice.
    throw new ProviderError(`Telnyx API request failed: ${detail}`, {
      provider: "telnyx",
      reason: "transient",
      cause: error,
    });
  }
}

function readAccepted(response: { status: number; text: string }, message: OutboundMessage) {
  let parsed: unknown;

  try {
    parsed = JSON.parse(response.text);
  } catch {
    parsed = undefined;
  }

  const data = asObject(field(asObject(parsed), "data"));
  const id = text(data, "id");

  if (data === undefined || id === undefined) {
    throw new ProviderError(
      `Telnyx returned HTTP ${response.status} without data.id. Check the portal before ` +
        "sending again, because the message may exist",
      {
        provider: "telnyx",
        reason: "unknown",
        httpStatus: response.status,
        rawBody: response.text,
      },
    );
  }

  const to = field(data, "to");
  const recipient = asObject(Array.isArray(to) ? to[0] : undefined);
  const result: SendResult = {
    provider: "telnyx",
    messageId: id,
    status: mapTelnyxStatus(text(recipient, "status") ?? "queued"),
    to: message.to,
    from: text(asObject(field(data, "from")), "phone_number"),
    raw: parsed,
  };

  return result;
}
