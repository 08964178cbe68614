/**
 * Readers of a {@link WebhookRequest} that every provider module needs: where its fields
 * are (query or body), its declared media type, and its query string.
 *
 * @module
 */

import { WebhookParseError } from "../errors.js";
import type { WebhookRequest } from "../provider.js";

/** The media type of a form-encoded body. */
const FORM_MEDIA_TYPE = "application/x-www-form-urlencoded";

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

/**
 * Checks that a webhook body is declared as a form or as JSON, the two formats provider
 * webhooks use, so that a body such as `multipart/form-data` is rejected with its type named
 * instead of being read as a form that lacks every field. A request without `Content-Type`
 * and a GET or HEAD request pass.
 *
 * @param label - Names the webhook in the message, such as "Twilio webhook".
 * @throws {WebhookParseError} naming the declared content type.
 */
export function checkWebhookBodyType(request: WebhookRequest, label: string): void {
  if (usesQueryFields(request)) {
    return;
  }

  const type = mediaTypeOf(request);

  if (type === "" || type === FORM_MEDIA_TYPE || isJsonMediaType(type)) {
    return;
  }

  throw new WebhookParseError(
    `${label} has content type ${JSON.stringify(type.slice(0, 100))}, but provider ` +
      `webhooks are ${FORM_MEDIA_TYPE} or JSON; make sure nothing between the provider and ` +
      "this server re-encodes the body",
  );
}
