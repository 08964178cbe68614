/**
 * The webhook routes that every server of smsgate serves: `/webhooks/{provider}/inbound`
 * and `/webhooks/{provider}/status`.
 *
 * @module
 */

import type { WebhookKind } from "../provider.js";

/** The provider name and webhook kind of a webhook path. */
export interface WebhookRoute {
  provider: string;
  kind: WebhookKind;
}

// Any provider segment matches, so that a name no provider has gets the gateway's
// `unknown-provider` response rather than a bare 404.
const webhookPath = /^\/webhooks\/([^/]+)\/(inbound|status)$/;

/** Matches a request path, without its query string, to a webhook route. */
export function matchWebhookRoute(path: string): WebhookRoute | undefined {
  const match = webhookPath.exec(path);

  if (match === null) {
    return undefined;
  }

  return { provider: match[1] as string, kind: match[2] as WebhookKind };
}
