import { randomBytes, randomUUID } from "node:crypto";
import { computeTwilioSignature } from "../../providers/twilio/signature.js";
import { encodeForm, type FormPair } from "../http/form.js";
import type { WebhookRequest } from "../provider.js";

/** A built webhook: its fields in order and the same fields as a form body. */
export interface BuiltTwilioWebhook {
  params: FormPair[];
  body: string;
}

/** Input of {@link signTwilioRequest} and {@link signedTwilioRequest}. */
export interface SignTwilioRequestInput {
  authToken: string;
  /** The public URL the webhook is sent to. */
  url: string;
  params: ReadonlyArray<readonly [string, string]>;
}

/** Computes the `X-Twilio-Signature` Twilio would send for these fields and URL. */
export function signTwilioRequest(input: SignTwilioRequestInput): string {
  return computeTwilioSignature(input.authToken, input.url, input.params);
}

/** Fields of a built inbound message; everything but `from` and `to` has a default. */
export interface TwilioInboundOptions {
  from: string;
  to: string;
  /** @default "" */
  body?: string | undefined;
  /** @default "SM" followed by 32 random hexadecimal digits */
  messageSid?: string | undefined;
  /** @default TEST_TWILIO_ACCOUNT_SID */
  accountSid?: string | undefined;
  messagingServiceSid?: string | undefined;
  /** Advanced Opt-Out flag: `STOP`, `START` or `HELP`. */
  optOutType?: string | undefined;
  media?: ReadonlyArray<{ url: string; contentType: string }> | undefined;
  /** @default 1 */
  numSegments?: number | undefined;
  /** More fields, appended in order (geo fields, WhatsApp extras, ...). */
  extra?: ReadonlyArray<readonly [string, string]> | undefined;
}

/** Fields of a built status callback. */
export interface TwilioStatusOptions {
  /** The message the callback is about. @default a random `SM` SID */
  messageSid?: string | undefined;
  /** `sent`, `delivered`, `undelivered`, `failed`, ... */
  status: string;
  /** The sender of the message; left out when absent. */
  from?: string | undefined;
  /** The recipient of the message; left out when absent. */
  to?: string | undefined;
  /** Set for `failed` and `undelivered`, such as `21610`. */
  errorCode?: string | undefined;
  /** @default TEST_TWILIO_ACCOUNT_SID */
  accountSid?: string | undefined;
  messagingServiceSid?: string | undefined;
  /** Carrier done-date, `YYMMDDhhmm` in UTC. */
  rawDlrDoneDate?: string | undefined;
  extra?: ReadonlyArray<readonly [string, string]> | undefined;
}

/** Default Account SID of the builders. */
export const TEST_TWILIO_ACCOUNT_SID = "AC00000000000000000000000000000000";

/** Returns a random Message SID: `SM` followed by 32 hexadecimal digits. */
export function randomTwilioMessageSid(): string {
  return `SM${randomBytes(16).toString("hex")}`;
}

/**
 * Builds the fields of an inbound message webhook as Twilio sends them, with the legacy
 * twins `SmsMessageSid` and `SmsSid` and the `SmsStatus` of `received`.
 */
export function buildTwilioInbound(options: TwilioInboundOptions): BuiltTwilioWebhook {
  const sid = options.messageSid ?? randomTwilioMessageSid();
  const media = options.media ?? [];
  const params: FormPair[] = [
    ["AccountSid", options.accountSid ?? TEST_TWILIO_ACCOUNT_SID],
    ["ApiVersion", "2010-04-01"],
    ["Body", options.body ?? ""],
    ["From", options.from],
    ["MessageSid", sid],
    ["NumMedia", String(media.length)],
    ["NumSegments", String(options.numSegments ?? 1)],
    ["SmsMessageSid", sid],
    ["SmsSid", sid],
    ["SmsStatus", "received"],
    ["To", options.to],
  ];

  for (const [index, item] of media.entries()) {
    params.push([`MediaContentType${index}`, item.contentType], [`MediaUrl${index}`, item.url]);
  }

  appendOptional(params, "MessagingServiceSid", options.messagingServiceSid);
  appendOptional(params, "OptOutType", options.optOutType);
  params.push(...copyPairs(options.extra));

  return { params, body: encodeForm(params) };
}

/** Builds the fields of a status callback as Twilio sends them. */
export function buildTwilioStatus(options: TwilioStatusOptions): BuiltTwilioWebhook {
  const sid = options.messageSid ?? randomTwilioMessageSid();
  const params: FormPair[] = [
    ["AccountSid", options.accountSid ?? TEST_TWILIO_ACCOUNT_SID],
    ["ApiVersion", "2010-04-01"],
  ];

  appendOptional(params, "From", options.from);
  params.push(
    ["MessageSid", sid],
    ["MessageStatus", options.status],
    ["SmsSid", sid],
    ["SmsStatus", options.status],
  );
  appendOptional(params, "To", options.to);
  appendOptional(params, "ErrorCode", options.errorCode);
  appendOptional(params, "MessagingServiceSid", options.messagingServiceSid);
  appendOptional(params, "RawDlrDoneDate", options.rawDlrDoneDate);
  params.push(...copyPairs(options.extra));

  return { params, body: encodeForm(params) };
}

/** Input of {@link signedTwilioRequest}. */
export interface SignedTwilioRequestInput extends SignTwilioRequestInput {
  /** `POST` sends the fields as a form body; `GET` appends them to the query. */
  method?: "POST" | "GET" | undefined;
}

/**
 * Builds a webhook request as Twilio would send it, signed with `authToken`, ready for
 * `verifyWebhook` or a gateway's webhook handler.
 */
export function signedTwilioRequest(input: SignedTwilioRequestInput): WebhookRequest {
  const headers = new Headers({
    "user-agent": "TwilioProxy/1.1",
    "i-twilio-idempotency-token": randomUUID(),
  });

  if (input.method === "GET") {
    const url = appendQuery(input.url, encodeForm(input.params));

    headers.set("x-twilio-signature", signTwilioRequest({ ...input, url, params: [] }));

    return { method: "GET", url, headers, body: new Uint8Array() };
  }

  headers.set("content-type", "application/x-www-form-urlencoded; charset=utf-8");
  headers.set("x-twilio-signature", signTwilioRequest(input));

  return {
    method: "POST",
    url: input.url,
    headers,
    body: new TextEncoder().encode(encodeForm(input.params)),
  };
}

// The fields go before any fragment, after the query the URL already has.
function appendQuery(url: string, query: string): string {
  if (query === "") {
    return url;
  }

  const fragmentStart = url.indexOf("#");
  const base = fragmentStart === -1 ? url : url.slice(0, fragmentStart);
  const fragment = fragmentStart === -1 ? "" : url.slice(fragmentStart);
  const separator = base.includes("?") ? "&" : "?";

  return `${base}${separator}${query}${fragment}`;
}

function appendOptional(params: FormPair[], name: string, value: string | undefined): void {
  if (value !== undefined) {
    params.push([name, value]);
  }
}

function copyPairs(pairs: ReadonlyArray<readonly [string, string]> | undefined): FormPair[] {
  return (pairs ?? []).map(([name, value]) => [name, value]);
}
