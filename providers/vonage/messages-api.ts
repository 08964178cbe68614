import type { Dispatcher } from "undici";
import { isGsm7 } from "../../src/encoding/gsm.js";
import type { SendResult } from "../../src/provider.js";
import { mapVonageErrorResponse } from "./errors.js";
import { createVonageApplicationJwt } from "./jwt.js";
import type { ResolvedVonageOptions } from "./options.js";
import {
  checkVonageMessage,
  parseJsonObject,
  postToVonage,
  unreadableResponse,
  type VonageOutboundMessage,
  vonageRecipient,
  vonageSender,
} from "./send.js";

/** The JSON body of a Messages API SMS send. */
export interface VonageMessagesRequest {
  message_type: "text";
  channel: "sms";
  to: string;
  from: string;
  text: string;
  webhook_url?: string;
  client_ref?: string;
  sms: { encoding_type: "unicode" | "text" };
}

/**
 * Builds the body of `POST /v1/messages` for an SMS. `sms.encoding_type` is `unicode` for
 * text outside the GSM-7 alphabet and `text` otherwise, so Vonage never has to guess.
 *
 * @throws {ProviderError} `sender-config` without a sender, `invalid-recipient` for a
 * recipient Vonage cannot send to.
 * @throws {InvalidRequestError} for media or a `clientRef` longer than 40 characters.
 */
export function buildVonageMessagesRequest(
  options: ResolvedVonageOptions,
  message: VonageOutboundMessage,
): VonageMessagesRequest {
  checkVonageMessage(message);

  const body: VonageMessagesRequest = {
    message_type: "text",
    channel: "sms",
    to: vonageRecipient(message.to),
    from: vonageSender(options, message),
    text: message.body,
    sms: { encoding_type: isGsm7(message.body) ? "text" : "unicode" },
  };

  if (message.statusCallbackUrl !== undefined) {
    body.webhook_url = message.statusCallbackUrl;
  }

  if (message.clientRef !== undefined) {
    body.client_ref = message.clientRef;
  }

  return body;
}

/**
 * Returns the `Authorization` header of a Messages API request: a fresh RS256 JWT of the
 * application when `applicationId` and `privateKey` are configured, else Basic auth with
 * the API key and secret.
 */
export function vonageMessagesAuthorization(options: ResolvedVonageOptions): string {
  if (options.applicationId !== undefined && options.privateKey !== undefined) {
    const token = createVonageApplicationJwt({
      applicationId: options.applicationId,
      privateKey: options.privateKey,
      now: options.clock(),
    });

    return `Bearer ${token}`;
  }

  const credentials = Buffer.from(`${options.apiKey ?? ""}:${options.apiSecret ?? ""}`, "utf8");

  return `Basic ${credentials.toString("base64")}`;
}

/**
 * Sends one SMS with `POST /v1/messages`. Vonage responds with HTTP 202 and a
 * `message_uuid`, and any 2xx without one is `unknown`. Another status becomes a
 * `ProviderError` from {@link mapVonageErrorResponse}, which reads the RFC 7807
 * problem body. A network failure, a timeout or a response body over 4 MiB is `transient`.
 * Nothing is retried here.
 */
export async function sendVonageMessage(
  options: ResolvedVonageOptions,
  dispatcher: Dispatcher,
  message: VonageOutboundMessage,
): Promise<SendResult> {
  const body = buildVonageMessagesRequest(options, message);
  const response = await postToVonage(options, dispatcher, `${options.apiBaseUrl}/v1/messages`, {
    headers: {
      authorization: vonageMessagesAuthorization(options),
      "content-type": "application/json",
    },
    body: JSON.stringify(body),
  });

  if (response.status < 200 || response.status > 299) {
    throw mapVonageErrorResponse(response.status, response.body, options.optOutErrorCodes);
  }

  const parsed = parseJsonObject(response.body);
  const messageId = parsed?.message_uuid;

  if (parsed === undefined || typeof messageId !== "string" || messageId === "") {
    throw unreadableResponse(response, 'no "message_uuid"');
  }

  return {
    provider: "vonage",
    messageId,
    status: "accepted",
    to: message.to,
    from: body.from,
    raw: parsed,
  };
}
