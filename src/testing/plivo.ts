import { randomInt, randomUUID } from "node:crypto";
import {
  computePlivoSignatureV2,
  computePlivoSignatureV3,
} from "../../providers/plivo/signature.js";
import { encodeForm, type FormPair } from "../http/form.js";
import type { WebhookRequest } from "../provider.js";

/** A built Plivo webhook: its fields in order and the same fields as a form body. */
export interface BuiltPlivoWebhook {
  params: FormPair[];
  body: string;
}

/** Input of {@link signPlivoV3}. */
export interface SignPlivoV3Input {
  authToken: string;
  /** @default "POST" */
  method?: "POST" | "GET" | undefined;
  /** The public URL the webhook is sent to. For a GET it has the fields in its query. */
  url: string;
  /** The form body fields of a POST. A GET has none, because its URL contains them. */
  params: ReadonlyArray<readonly [string, string]>;
  nonce: string;
}

/** Computes the `X-Plivo-Signature-V3` Plivo would send for this request. */
export function signPlivoV3(input: SignPlivoV3Input): string {
  return computePlivoSignatureV3(input.authToken, {
    method: input.method ?? "POST",
    url: input.url,
    params: input.params,
    nonce: input.nonce,
  });
}

/** Input of {@link signPlivoV2}. */
export interface SignPlivoV2Input {
  authToken: string;
  /** The public URL the webhook is sent to. Its query is not signed. */
  url: string;
  nonce: string;
}

/** Computes the `X-Plivo-Signature-V2` Plivo would send for this URL and nonce. */
export function signPlivoV2(input: SignPlivoV2Input): string {
  return computePlivoSignatureV2(input.authToken, input.url, input.nonce);
}

/** Returns a random nonce of 20 digits, the form of Plivo's nonces. */
export function randomPlivoNonce(): string {
  return Array.from({ length: 20 }, () => String(randomInt(10))).join("");
}

/** Returns a random message UUID, the form of Plivo's `MessageUUID`. */
export function randomPlivoMessageUuid(): string {
  return randomUUID();
}

/** Fields of a built inbound message. Everything but `from` and `to` has a default. */
export interface PlivoInboundOptions {
  /** The person, as international digits (`14155550100`). */
  from: string;
  /** The Plivo number, as international digits, or a short code. */
  to: string;
  /** @default "" */
  text?: string | undefined;
  /** @default a random UUID */
  messageUuid?: string | undefined;
  /** @default "sms" */
  type?: string | undefined;
  /** Number of parts of a long message. @default 1 */
  units?: number | undefined;
  /** Plivo's opt-out flag: `optout`, `optin` or `help`. Left out when absent. */
  messageIntent?: string | undefined;
  /** MMS media URLs, sent as `MediaCount` and `Media1` to `MediaN`. */
  media?: readonly string[] | undefined;
  /** More fields, appended in order. */
  extra?: ReadonlyArray<readonly [string, string]> | undefined;
}

/** Builds the fields of an inbound message webhook as Plivo sends them. */
export function buildPlivoInbound(options: PlivoInboundOptions): BuiltPlivoWebhook {
  const params: FormPair[] = [
    ["From", options.from],
    ["To", options.to],
    ["Type", options.type ?? "sms"],
    ["Text", options.text ?? ""],
    ["MessageUUID", options.messageUuid ?? randomPlivoMessageUuid()],
    ["Units", String(options.units ?? 1)],
    ["TotalRate", "0"],
    ["TotalAmount", "0"],
  ];

  appendOptional(params, "MessageIntent", options.messageIntent);

  const media = options.media ?? [];

  if (media.length > 0) {
    params.push(["MediaCount", String(media.length)]);
    params.push(...media.map((url, index): FormPair => [`Media${index + 1}`, url]));
  }

  params.push(...copyPairs(options.extra));

  return { params, body: encodeForm(params) };
}

/** Fields of a built message status callback. */
export interface PlivoStatusOptions {
  /** The message the callback is about. @default a random UUID */
  messageUuid?: string | undefined;
  /** `queued`, `sent`, `delivered`, `undelivered`, `failed`, ... */
  status: string;
  /** The sender of the message. Left out when absent. */
  from?: string | undefined;
  /** The recipient of the message. Left out when absent. */
  to?: string | undefined;
  /** Set for `failed` and `undelivered`, such as `200` for an opted-out recipient. */
  errorCode?: string | undefined;
  /** Order of this callback among the message's callbacks. */
  sequence?: number | undefined;
  /** `YYYY-mm-dd HH:MM:SS.SSSSSS`, in UTC. */
  messageTime?: string | undefined;
  queuedTime?: string | undefined;
  sentTime?: string | undefined;
  deliveryReportTime?: string | undefined;
  extra?: ReadonlyArray<readonly [string, string]> | undefined;
}

/** Builds the fields of a message status callback as Plivo sends them. */
export function buildPlivoStatus(options: PlivoStatusOptions): BuiltPlivoWebhook {
  const params: FormPair[] = [["MessageUUID", options.messageUuid ?? randomPlivoMessageUuid()]];

  appendOptional(params, "To", options.to);
  appendOptional(params, "From", options.from);
  params.push(["Type", "sms"], ["Status", options.status], ["Units", "1"]);
  appendOptional(params, "ErrorCode", options.errorCode);
  appendOptional(params, "Sequence", options.sequence?.toString());
  appendOptional(params, "MessageTime", options.messageTime);
  appendOptional(params, "QueuedTime", options.queuedTime);
  appendOptional(params, "SentTime", options.sentTime);
  appendOptional(params, "DeliveryReportTime", options.deliveryReportTime);
  params.push(...copyPairs(options.extra));

  return { params, body: encodeForm(params) };
}

/** Input of {@link signedPlivoRequest}. */
export interface SignedPlivoRequestInput {
  authToken: string;
  /** The public URL the webhook is sent to. */
  url: string;
  params: ReadonlyArray<readonly [string, string]>;
  /** `POST` sends the fields as a form body; `GET` appends them to the query. */
  method?: "POST" | "GET" | undefined;
  /** Signature versions to add. @default ["v3", "v2"] */
  versions?: ReadonlyArray<"v3" | "v2"> | undefined;
  /** Also adds `X-Plivo-Signature-Ma-V3` and `-Ma-V2`, signed with this token. */
  mainAccountAuthToken?: string | undefined;
  /** @default a random nonce per version */
  nonce?: string | undefined;
}

/**
 * Builds a webhook request as Plivo would send it, signed with `authToken`, ready for
 * `verifyWebhook` or a gateway's webhook handler.
 */
export function signedPlivoRequest(input: SignedPlivoRequestInput): WebhookRequest {
  const method = input.method ?? "POST";
  const query = method === "GET" ? encodeForm(input.params) : "";
  const url = appendQuery(input.url, query);
  const params = method === "GET" ? [] : input.params;
  const headers = new Headers({ "user-agent": "PlivoHTTP" });

  for (const version of input.versions ?? ["v3", "v2"]) {
    const nonce = input.nonce ?? randomPlivoNonce();
    const sign = (authToken: string): string =>
      version === "v3"
        ? signPlivoV3({ authToken, method, url, params, nonce })
        : signPlivoV2({ authToken, url, nonce });
    const suffix = version.toUpperCase();

    headers.set(`x-plivo-signature-${suffix}-nonce`, nonce);
    headers.set(`x-plivo-signature-${suffix}`, sign(input.authToken));

    if (input.mainAccountAuthToken !== undefined) {
      headers.set(`x-plivo-signature-ma-${suffix}`, sign(input.mainAccountAuthToken));
    }
  }

  if (method === "GET") {
    return { method, url, headers, body: new Uint8Array() };
  }

  headers.set("content-type", "application/x-www-form-urlencoded");

  return { method, url, headers, body: new TextEncoder().encode(encodeForm(params)) };
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
