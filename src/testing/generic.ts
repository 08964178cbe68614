import type { GenericHmacSignature } from "../../providers/generic/options.js";
import {
  completeGenericSignature,
  computeGenericSignature,
} from "../../providers/generic/signature.js";
import type { WebhookRequest } from "../provider.js";

/** A webhook to sign: a `WebhookRequest`, or its parts with a body given as text or JSON. */
export interface GenericRequestInput {
  /** The public URL the webhook is sent to. */
  url: string;
  /** The raw body, or an object sent as JSON with `content-type: application/json`. */
  body: string | Uint8Array | Readonly<Record<string, unknown>>;
  /** @default "POST" */
  method?: string | undefined;
  headers?: Headers | Readonly<Record<string, string>> | undefined;
  /** Unix seconds for a `timestamp+body` scheme. @default now */
  timestamp?: number | undefined;
}

/**
 * Signs a webhook the way a provider configured with this `webhooks.signature` would:
 * the HMAC of the covered content, written with the scheme's prefix and encoding in its
 * header, and the timestamp header for a `timestamp+body` scheme.
 *
 * @example
 * const request = signGenericRequest(options.webhooks.signature, {
 *   url: "https://sms.example.com/webhooks/acme/inbound",
 *   body: { id: "m1", from: "+14155550100", to: "+14155550199", text: "STOP" },
 * });
 */
export function signGenericRequest(
  signature: GenericHmacSignature,
  input: GenericRequestInput,
): WebhookRequest {
  const scheme = completeGenericSignature(signature);
  const headers = new Headers(input.headers);
  const body = encodeBody(input.body, headers);
  const timestamp = String(input.timestamp ?? Math.floor(Date.now() / 1000));
  const signed = computeGenericSignature(scheme, { url: input.url, body, timestamp });

  if (scheme.signed === "timestamp+body") {
    headers.set(scheme.timestampHeader, timestamp);
  }

  headers.set(scheme.header, `${scheme.prefix}${signed}`);

  return { method: input.method ?? "POST", url: input.url, headers, body };
}

function encodeBody(body: GenericRequestInput["body"], headers: Headers): Uint8Array {
  if (typeof body === "string") {
    return new TextEncoder().encode(body);
  }

  if (body instanceof Uint8Array) {
    return body;
  }

  headers.set("content-type", "application/json");

  return new TextEncoder().encode(JSON.stringify(body));
}
