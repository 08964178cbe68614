import { type KeyObject, randomUUID, sign } from "node:crypto";
import type { WebhookRequest } from "smsgate";
import {
  TELNYX_SIGNATURE_HEADER,
  TELNYX_TIMESTAMP_HEADER,
  telnyxSignedBytes,
} from "../signature.js";

/** Returns the base64 of the raw 32-byte Ed25519 public key, the form Telnyx shows. */
export function telnyxPublicKeyBase64(publicKey: KeyObject): string {
  const jwk = publicKey.export({ format: "jwk" });

  return Buffer.from(jwk.x ?? "", "base64url").toString("base64");
}

/** Input of {@link signTelnyxRequest}. */
export interface SignTelnyxRequestInput {
  /** The Ed25519 private key whose public half the provider is configured with. */
  privateKey: KeyObject;
  /** The public URL the webhook is sent to. */
  url: string;
  /** The raw body, or an event object sent as JSON. */
  body: string | Uint8Array | Readonly<Record<string, unknown>>;
  /** Unix seconds. @default now */
  timestamp?: number | undefined;
}

/** Builds a webhook request as Telnyx sends it, signed with `privateKey`. */
export function signTelnyxRequest(input: SignTelnyxRequestInput): WebhookRequest {
  const body = toBytes(input.body);
  const timestamp = String(input.timestamp ?? Math.floor(Date.now() / 1000));
  const signature = sign(null, telnyxSignedBytes(timestamp, body), input.privateKey);
  const headers = new Headers({
    "content-type": "application/json",
    [TELNYX_SIGNATURE_HEADER]: signature.toString("base64"),
    [TELNYX_TIMESTAMP_HEADER]: timestamp,
  });

  return { method: "POST", url: input.url, headers, body };
}

function toBytes(body: SignTelnyxRequestInput["body"]): Uint8Array {
  if (typeof body === "string") {
    return new TextEncoder().encode(body);
  }

  return body instanceof Uint8Array ? body : new TextEncoder().encode(JSON.stringify(body));
}

/** Fields of a built `message.received` event. */
export interface TelnyxInboundOptions {
  from: string;
  to: string;
  text: string;
  /** @default a random UUID */
  id?: string | undefined;
}

/** Builds a `message.received` event as Telnyx posts it. */
export function buildTelnyxInbound(options: TelnyxInboundOptions): Record<string, unknown> {
  const payload = {
    record_type: "message",
    id: options.id ?? randomUUID(),
    direction: "inbound",
    type: "SMS",
    from: { phone_number: options.from, carrier: "Example Carrier", line_type: "Wireless" },
    to: [{ phone_number: options.to, status: "webhook_delivered" }],
    text: options.text,
    media: [],
    parts: 1,
    received_at: new Date().toISOString(),
    errors: [],
  };

  return event("message.received", payload);
}

/** Fields of a built delivery event. */
export interface TelnyxStatusOptions {
  id: string;
  from: string;
  to: string;
  /** `queued`, `sent`, `delivered`, `delivery_failed`, ... */
  status: string;
  /** A code for the `errors` list, such as `40300`. */
  errorCode?: string | undefined;
  /** @default "message.finalized" */
  eventType?: string | undefined;
}

/** Builds a `message.sent` or `message.finalized` event as Telnyx posts it. */
export function buildTelnyxStatus(options: TelnyxStatusOptions): Record<string, unknown> {
  const errors =
    options.errorCode === undefined
      ? []
      : [{ code: options.errorCode, title: "Message failed", detail: "See the code" }];
  const payload = {
    record_type: "message",
    id: options.id,
    direction: "outbound",
    type: "SMS",
    from: { phone_number: options.from },
    to: [{ phone_number: options.to, status: options.status }],
    text: "Hello",
    parts: 1,
    completed_at: new Date().toISOString(),
    errors,
  };

  return event(options.eventType ?? "message.finalized", payload);
}

function event(eventType: string, payload: Record<string, unknown>): Record<string, unknown> {
  return {
    data: {
      event_type: eventType,
      id: randomUUID(),
      occurred_at: new Date().toISOString(),
      payload,
      record_type: "event",
    },
    meta: { attempt: 1, delivered_to: "https://sms.example.com/webhooks/telnyx/inbound" },
  };
}
