import { createHash, randomBytes, randomUUID } from "node:crypto";
import { signVonageHs256Jwt, type VonageJwtClaims } from "../../providers/vonage/jwt.js";
import {
  computeVonageSignature,
  type VonageSignatureMethod,
  type VonageSignatureParams,
} from "../../providers/vonage/signature.js";
import { isGsm7 } from "../encoding/gsm.js";
import { encodeForm, type FormPair } from "../http/form.js";
import type { WebhookRequest } from "../provider.js";

/** Computes the SMS API `sig` Vonage would send (or expect) for these parameters. */
export function signVonageSmsRequest(
  params: VonageSignatureParams,
  secret: string,
  method: VonageSignatureMethod = "md5hash",
): string {
  return computeVonageSignature(params, secret, method);
}

/** Input of {@link signVonageJwt}. */
export interface SignVonageJwtInput {
  /** The account's signature secret. */
  secret: string;
  /** The request body the token covers, exactly as it will be sent. */
  payload: string | Uint8Array;
  /** Issued-at time, in Unix seconds. @default now */
  iat?: number | undefined;
  /** @default a random UUID */
  jti?: string | undefined;
  /** @default TEST_VONAGE_API_KEY */
  apiKey?: string | undefined;
  applicationId?: string | undefined;
  /** More claims, or replacements for the ones above. */
  claims?: Readonly<VonageJwtClaims> | undefined;
}

/** Default API key of the builders. */
export const TEST_VONAGE_API_KEY = "a1b2c3d4";

/**
 * Creates the HS256 token Vonage signs a Messages API webhook with: claims `iat`, `jti`,
 * `iss` (`Vonage`), `payload_hash` (hex SHA-256 of the body), `api_key` and, when given,
 * `application_id`, in that order.
 */
export function signVonageJwt(input: SignVonageJwtInput): string {
  const claims: VonageJwtClaims = {
    iat: input.iat ?? Math.floor(Date.now() / 1000),
    jti: input.jti ?? randomUUID(),
    iss: "Vonage",
    payload_hash: createHash("sha256").update(input.payload).digest("hex"),
    api_key: input.apiKey ?? TEST_VONAGE_API_KEY,
  };

  if (input.applicationId !== undefined) {
    claims.application_id = input.applicationId;
  }

  return signVonageHs256Jwt({ ...claims, ...input.claims }, input.secret);
}

/** A built SMS API webhook: its fields in order and the same fields as a form body. */
export interface BuiltVonageWebhook {
  params: FormPair[];
  body: string;
}

/** Returns a random SMS API message ID: 16 upper-case hexadecimal digits. */
export function randomVonageMessageId(): string {
  return randomBytes(8).toString("hex").toUpperCase();
}

/** Returns Vonage's `keyword` for a text: its first word in upper case. */
export function vonageKeyword(text: string): string {
  return (text.trim().split(/\s+/)[0] ?? "").toUpperCase();
}

/** Formats a time as Vonage's `message-timestamp`: `YYYY-MM-DD HH:MM:SS` in UTC. */
export function formatVonageTimestamp(date: Date): string {
  return date.toISOString().slice(0, 19).replace("T", " ");
}

/** Fields of a built inbound SMS. Everything but `msisdn` and `to` has a default. */
export interface VonageInboundOptions {
  /** The sender, international digits without `+`. */
  msisdn: string;
  /** The receiving Vonage number. */
  to: string;
  /** @default "" */
  text?: string | undefined;
  /** @default a random ID */
  messageId?: string | undefined;
  /** @default the first word of `text` in upper case */
  keyword?: string | undefined;
  /** @default `text`, or `unicode` for text outside GSM-7 */
  type?: string | undefined;
  /** @default the current time */
  messageTimestamp?: Date | undefined;
  /** @default TEST_VONAGE_API_KEY */
  apiKey?: string | undefined;
  /** Multipart fields: the shared reference, the part count and this part's number. */
  concat?: { reference: string; total: number; part: number } | undefined;
  /** More fields, appended in order. */
  extra?: ReadonlyArray<readonly [string, string]> | undefined;
}

/** Builds the fields of an SMS API inbound webhook as Vonage sends them. */
export function buildVonageInbound(options: VonageInboundOptions): BuiltVonageWebhook {
  const text = options.text ?? "";
  const params: FormPair[] = [
    ["msisdn", options.msisdn],
    ["to", options.to],
    ["messageId", options.messageId ?? randomVonageMessageId()],
    ["text", text],
    ["type", options.type ?? (isGsm7(text) ? "text" : "unicode")],
    ["keyword", options.keyword ?? vonageKeyword(text)],
    ["api-key", options.apiKey ?? TEST_VONAGE_API_KEY],
    ["message-timestamp", formatVonageTimestamp(options.messageTimestamp ?? new Date())],
  ];

  if (options.concat !== undefined) {
    params.push(
      ["concat", "true"],
      ["concat-ref", options.concat.reference],
      ["concat-total", String(options.concat.total)],
      ["concat-part", String(options.concat.part)],
    );
  }

  params.push(...copyPairs(options.extra));

  return { params, body: encodeForm(params) };
}

/** Input of {@link buildVonageInboundParts}. */
export interface VonageInboundPartsOptions
  extends Omit<VonageInboundOptions, "text" | "concat" | "messageId" | "keyword"> {
  /** The texts of the parts, in order. */
  texts: readonly string[];
  /** The `concat-ref` shared by the parts. */
  reference: string;
}

/**
 * Builds one inbound webhook per part of a long SMS, in part order, each with its own
 * message ID and its own `keyword` (the first word of that part), as Vonage sends them.
 */
export function buildVonageInboundParts(options: VonageInboundPartsOptions): BuiltVonageWebhook[] {
  return options.texts.map((text, index) =>
    buildVonageInbound({
      ...options,
      text,
      concat: { reference: options.reference, total: options.texts.length, part: index + 1 },
    }),
  );
}

/** Fields of a built SMS API delivery receipt. */
export interface VonageReceiptOptions {
  /** The ID the send returned. @default a random ID */
  messageId?: string | undefined;
  /** The recipient of the message, international digits without `+`. */
  msisdn: string;
  /** The sender the message was sent from: a number or an alphanumeric ID. */
  to: string;
  /** `delivered`, `expired`, `failed`, `rejected`, `accepted`, `buffered` or `unknown`. */
  status: string;
  /** @default "0" */
  errCode?: string | undefined;
  /** Carrier time, `YYMMDDhhmm` in UTC. */
  scts?: string | undefined;
  /** @default the current time */
  messageTimestamp?: Date | undefined;
  /** @default TEST_VONAGE_API_KEY */
  apiKey?: string | undefined;
  clientRef?: string | undefined;
  extra?: ReadonlyArray<readonly [string, string]> | undefined;
}

/** Builds the fields of an SMS API delivery receipt as Vonage sends them. */
export function buildVonageDeliveryReceipt(options: VonageReceiptOptions): BuiltVonageWebhook {
  const params: FormPair[] = [
    ["msisdn", options.msisdn],
    ["to", options.to],
    ["network-code", "310004"],
    ["messageId", options.messageId ?? randomVonageMessageId()],
    ["price", "0.00845000"],
    ["status", options.status],
  ];

  if (options.scts !== undefined) {
    params.push(["scts", options.scts]);
  }

  params.push(
    ["err-code", options.errCode ?? "0"],
    ["api-key", options.apiKey ?? TEST_VONAGE_API_KEY],
    ["message-timestamp", formatVonageTimestamp(options.messageTimestamp ?? new Date())],
  );

  if (options.clientRef !== undefined) {
    params.push(["client-ref", options.clientRef]);
  }

  params.push(...copyPairs(options.extra));

  return { params, body: encodeForm(params) };
}

/** Fields of a built Messages API inbound SMS. */
export interface VonageMessagesInboundOptions {
  /** The sender, international digits without `+`. */
  from: string;
  /** The receiving Vonage number. */
  to: string;
  /** @default "" */
  text?: string | undefined;
  /** @default a random UUID */
  messageUuid?: string | undefined;
  /** @default the current time */
  timestamp?: Date | undefined;
  /** Parts the message was sent in. @default 1 */
  numMessages?: number | undefined;
  /** More fields of the `sms` object, such as `total_count`. */
  sms?: Readonly<Record<string, string>> | undefined;
}

/**
 * Builds the JSON object of a Messages API inbound SMS, with `sms.keyword` set to the
 * first word of the text in upper case as Vonage sets it.
 */
export function buildVonageMessagesInbound(
  options: VonageMessagesInboundOptions,
): Record<string, unknown> {
  const text = options.text ?? "";

  return {
    channel: "sms",
    message_uuid: options.messageUuid ?? randomUUID(),
    to: options.to,
    from: options.from,
    timestamp: (options.timestamp ?? new Date()).toISOString(),
    text,
    message_type: "text",
    usage: { currency: "EUR", price: "0.0333" },
    sms: {
      num_messages: String(options.numMessages ?? 1),
      keyword: vonageKeyword(text),
      ...options.sms,
    },
    context_status: "none",
  };
}

/** Fields of a built Messages API status webhook. */
export interface VonageMessagesStatusOptions {
  /** @default a random UUID */
  messageUuid?: string | undefined;
  /** The recipient of the message. */
  to: string;
  /** The sender of the message. */
  from: string;
  /** `submitted`, `delivered`, `rejected`, `undeliverable`, ... */
  status: string;
  /** The error of a failed message, whose `title` is the numeric code. */
  error?: { type?: string; title?: string | number; detail?: string } | undefined;
  /** @default the current time */
  timestamp?: Date | undefined;
  clientRef?: string | undefined;
}

/** Builds the JSON object of a Messages API status webhook. */
export function buildVonageMessagesStatus(
  options: VonageMessagesStatusOptions,
): Record<string, unknown> {
  const status: Record<string, unknown> = {
    message_uuid: options.messageUuid ?? randomUUID(),
    to: options.to,
    from: options.from,
    timestamp: (options.timestamp ?? new Date()).toISOString(),
    status: options.status,
    channel: "sms",
    usage: { currency: "EUR", price: "0.0333" },
    sms: { count_total: "1" },
  };

  if (options.error !== undefined) {
    status.error = { instance: randomUUID(), ...options.error };
  }

  if (options.clientRef !== undefined) {
    status.client_ref = options.clientRef;
  }

  return status;
}

/** Input of {@link signedVonageRequest}. */
export interface SignedVonageRequestInput {
  /** The public URL the webhook is sent to. */
  url: string;
  params: ReadonlyArray<readonly [string, string]>;
  /** The signature secret. Without it, the request carries no `sig`. */
  secret?: string | undefined;
  /** @default "md5hash" */
  signatureMethod?: VonageSignatureMethod | undefined;
  /** `GET` puts the fields in the query, and `POST` sends a form body. @default "POST" */
  method?: "GET" | "POST" | undefined;
  /** Send a POST body as JSON instead of a form. @default false */
  json?: boolean | undefined;
  /** Unix seconds added as `timestamp` when the fields have none. @default now */
  timestamp?: number | undefined;
}

/**
 * Builds an SMS API webhook request as Vonage sends it when signing is on: the fields plus
 * `timestamp` and `nonce` (when absent) and `sig`, as a GET query, a form body or a JSON
 * body.
 */
export function signedVonageRequest(input: SignedVonageRequestInput): WebhookRequest {
  const params = copyPairs(input.params);

  if (input.secret !== undefined) {
    appendIfAbsent(params, "timestamp", String(input.timestamp ?? Math.floor(Date.now() / 1000)));
    appendIfAbsent(params, "nonce", randomUUID());
    params.push(["sig", signVonageSmsRequest(params, input.secret, input.signatureMethod)]);
  }

  return vonageRequest(input.url, params, input.method ?? "POST", input.json ?? false);
}

/** Input of {@link signedVonageMessagesRequest}. */
export interface SignedVonageMessagesRequestInput {
  url: string;
  /** The JSON body: an object to serialise, or the exact text to send. */
  body: Readonly<Record<string, unknown>> | string;
  /** The signature secret. Without it, the request carries no token. */
  secret?: string | undefined;
  /** Issued-at time of the token, in Unix seconds. @default now */
  iat?: number | undefined;
  /** The token's id. @default a random UUID */
  jti?: string | undefined;
}

/** Builds a Messages API webhook request with its `Authorization: Bearer` token. */
export function signedVonageMessagesRequest(
  input: SignedVonageMessagesRequestInput,
): WebhookRequest {
  const text = typeof input.body === "string" ? input.body : JSON.stringify(input.body);
  const headers = new Headers({ "content-type": "application/json" });

  if (input.secret !== undefined) {
    const token = signVonageJwt({
      secret: input.secret,
      payload: text,
      iat: input.iat,
      jti: input.jti,
    });

    headers.set("authorization", `Bearer ${token}`);
  }

  return { method: "POST", url: input.url, headers, body: new TextEncoder().encode(text) };
}

function vonageRequest(
  url: string,
  params: FormPair[],
  method: "GET" | "POST",
  json: boolean,
): WebhookRequest {
  const headers = new Headers({ "user-agent": "Vonage" });

  if (method === "GET") {
    return { method, url: appendQuery(url, encodeForm(params)), headers, body: new Uint8Array() };
  }

  const body = json ? JSON.stringify(Object.fromEntries(params)) : encodeForm(params);

  headers.set("content-type", json ? "application/json" : "application/x-www-form-urlencoded");

  return { method, url, headers, body: new TextEncoder().encode(body) };
}

// The fields go before any fragment, after the query the URL already has.
function appendQuery(url: string, query: string): string {
  if (query === "") {
    return url;
  }

  const fragmentStart = url.indexOf("#");
  const base = fragmentStart === -1 ? url : url.slice(0, fragmentStart);
  const fragment = fragmentStart === -1 ? "" : url.slice(fragmentStart);

  return `${base}${base.includes("?") ? "&" : "?"}${query}${fragment}`;
}

function appendIfAbsent(params: FormPair[], name: string, value: string): void {
  if (!params.some(([existing]) => existing === name)) {
    params.push([name, value]);
  }
}

function copyPairs(pairs: ReadonlyArray<readonly [string, string]> | undefined): FormPair[] {
  return (pairs ?? []).map(([name, value]) => [name, value]);
}
