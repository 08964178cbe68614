/**
 * `smsgate simulate plivo inbound|status`: the fields Plivo sends, as a form body or in
 * the query of a GET, with `X-Plivo-Signature-V3` and `-V2` headers made with the
 * configured `authToken` over the URL Plivo would call.
 */

import { plivoStatusMap } from "../../providers/plivo/status.js";
import { ConfigError } from "../errors.js";
import { encodeForm, type FormPair } from "../http/form.js";
import {
  buildPlivoInbound,
  buildPlivoStatus,
  randomPlivoMessageUuid,
  signedPlivoRequest,
} from "../testing/plivo.js";
import type { SmsgateConfig } from "./config.js";
import { writeError } from "./output.js";
import {
  appendQuery,
  checkChoice,
  type ProviderSimulator,
  readErrorCode,
  readMethod,
  requireBody,
  type SignedWebhook,
  type SigningContext,
  type WebhookDraft,
  type WebhookKind,
  withoutPlus,
} from "./simulate-webhook.js";
import { optionalString, type ParsedArgs, requireString } from "./usage.js";

/** Values of Plivo's `MessageIntent` field, its own opt-out flag on inbound messages. */
const intents = ["optout", "optin", "help"];

/** Returns the configured auth token, or undefined when none is configured. */
function plivoAuthToken(config: SmsgateConfig): string | undefined {
  const configured = config.providers?.plivo;

  if (configured === undefined) {
    throw new ConfigError(
      "providers.plivo",
      "is not configured, so there is no auth token to sign Plivo webhooks with; " +
        "add providers.plivo with its authId, authToken and from to the configuration",
    );
  }

  return configured.authToken || undefined;
}

function signPlivo(
  context: SigningContext,
  method: "GET" | "POST",
  params: FormPair[],
  messageUuid: string,
): SignedWebhook {
  const authToken = plivoAuthToken(context.config);
  const body = encodeForm(params);
  const url = method === "GET" ? appendQuery(context.targetUrl, body) : context.targetUrl;
  const messageLabel = `MessageUUID ${messageUuid}`;
  let headers: Record<string, string> = {};

  if (authToken === undefined) {
    writeError(context.io, "no Plivo auth token is configured, so the webhook is sent unsigned");
  } else {
    // A GET has its fields in the signed URL, and no body fields.
    const request = signedPlivoRequest({
      authToken,
      url: context.signedUrlFor(url),
      params: method === "GET" ? [] : params,
      method,
    });

    headers = Object.fromEntries(request.headers.entries());
  }

  if (method === "GET") {
    return { method, url, headers, body: undefined, messageLabel };
  }

  headers["content-type"] = "application/x-www-form-urlencoded";

  return { method, url, headers, body, messageLabel };
}

function inboundDraft(args: ParsedArgs, method: "GET" | "POST"): WebhookDraft {
  const intent = optionalString(args, "intent")?.toLowerCase();

  if (intent !== undefined) {
    checkChoice("intent", intent, intents);
  }

  const messageUuid = optionalString(args, "message-id") ?? randomPlivoMessageUuid();
  const built = buildPlivoInbound({
    from: withoutPlus(requireString(args, "from", "simulate")),
    to: withoutPlus(requireString(args, "to", "simulate")),
    text: requireBody(args),
    messageUuid,
    messageIntent: intent,
  });

  return { sign: async (context) => signPlivo(context, method, built.params, messageUuid) };
}

function statusDraft(args: ParsedArgs, method: "GET" | "POST"): WebhookDraft {
  const messageUuid = requireString(args, "message-id", "simulate");
  const status = requireString(args, "status", "simulate");
  const from = optionalString(args, "from");
  const to = optionalString(args, "to");

  checkChoice("status", status, Object.keys(plivoStatusMap));

  const built = buildPlivoStatus({
    messageUuid,
    status,
    errorCode: readErrorCode(args, "Plivo", "200"),
    from: from === undefined ? undefined : withoutPlus(from),
    to: to === undefined ? undefined : withoutPlus(to),
  });

  return { sign: async (context) => signPlivo(context, method, built.params, messageUuid) };
}

/** The Plivo simulator. */
export const plivoSimulator: ProviderSimulator = {
  options: {
    inbound: ["from", "to", "body", "message-id", "intent"],
    status: ["message-id", "status", "error-code", "from", "to"],
  },
  draft(kind: WebhookKind, args: ParsedArgs): WebhookDraft {
    const method = readMethod(args);

    return kind === "inbound" ? inboundDraft(args, method) : statusDraft(args, method);
  },
};
