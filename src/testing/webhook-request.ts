import type { WebhookRequest } from "../provider.js";

const encoder = new TextEncoder();

/** Returns a copy of the request with another body; headers and URL are kept. */
export function withBody(request: WebhookRequest, body: string | Uint8Array): WebhookRequest {
  const bytes = typeof body === "string" ? encoder.encode(body) : body;

  return { ...request, headers: new Headers(request.headers), body: bytes };
}

/** Returns a copy of the request sent to another URL. */
export function withUrl(request: WebhookRequest, url: string): WebhookRequest {
  return { ...request, headers: new Headers(request.headers), url };
}

/** Returns a copy of the request with these headers set (replacing any of the same name). */
export function withHeaders(
  request: WebhookRequest,
  headers: Readonly<Record<string, string>>,
): WebhookRequest {
  const copy = new Headers(request.headers);

  for (const [name, value] of Object.entries(headers)) {
    copy.set(name, value);
  }

  return { ...request, headers: copy };
}

/** Returns a copy of the request without these headers. */
export function withoutHeaders(request: WebhookRequest, ...names: string[]): WebhookRequest {
  const copy = new Headers(request.headers);

  for (const name of names) {
    copy.delete(name);
  }

  return { ...request, headers: copy };
}

/** Decodes the request body as UTF-8, replacing invalid bytes with U+FFFD. */
export function bodyText(request: WebhookRequest): string {
  return Buffer.from(request.body).toString("utf8");
}
