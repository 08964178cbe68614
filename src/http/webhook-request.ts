/**
 * Readers of a {@link WebhookRequest} that every provider module needs: where its fields
 * are (query or body), its declared media type, and its query string.
 *
 * @module
 */

import type { WebhookRequest } from "../provider.js";

/** Checks whether the webhook's fields are in the query string (GET, HEAD) rather than the body. */
export function usesQueryFields(request: WebhookRequest): boolean {
  const method = request.method.toUpperCase();

  return method === "GET" || method === "HEAD";
}

/**
 * Returns the media type of the `Content-Type` header in lower case, without parameters
 * such as `charset`, or `""` when the header is missing.
 */
export function mediaTypeOf(request: WebhookRequest): string {
  const header = request.headers.get("content-type") ?? "";
  const end = header.indexOf(";");

  return (end === -1 ? header : header.slice(0, end)).trim().toLowerCase();
}

/** Checks whether a media type is JSON: `application/json` or a `+json` type. */
export function isJsonMediaType(type: string): boolean {
  return type === "application/json" || type.endsWith("+json");
}

/** Checks whether the request declares a JSON body (`application/json` or `+json`). */
export function hasJsonBody(request: WebhookRequest): boolean {
  return isJsonMediaType(mediaTypeOf(request));
}

/** Returns the query string of a URL, without `?` and without any fragment. */
export function queryOf(url: string): string {
  const fragmentStart = url.indexOf("#");
  const beforeFragment = fragmentStart === -1 ? url : url.slice(0, fragmentStart);
  const queryStart = beforeFragment.indexOf("?");

  return queryStart === -1 ? "" : beforeFragment.slice(queryStart + 1);
}
