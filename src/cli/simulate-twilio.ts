/**
 * `smsgate simulate twilio inbound|status`: the fields Twilio posts, signed with
 * `X-Twilio-Signature` by the configured or the development auth token.
 */

import { resolve } from "node:path";
import { ConfigError } from "../errors.js";
import {
  type BuiltTwilioWebhook,
  buildTwilioInbound,
  buildTwilioStatus,
  randomTwilioMessageSid,
  signTwilioRequest,
} from "../testing/twilio.js";
import type { SmsgateConfig } from "./config.js";
import { readDevSecrets } from "./dev.js";
import { UsageError, writeError } from "./output.js";
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
} from "./simulate-webhook.js";
import { optionalString, type ParsedArgs, requireString } from "./usage.js";

/** `MessageStatus` values of Twilio's Messages API (`message_enum_status`). */
const twilioStatuses = [
  "queued",
  "sending",
  "sent",
  "failed",
  "delivered",
  "undelivered",
  "receiving",
  "received",
  "accepted",
  "scheduled",
  "read",
  "partially_delivered",
  "canceled",
];

const optOutTypes = ["STOP", "START", "HELP"];

/** Store file beside which the development token is kept when the store is not SQLite. */
const devStoreFile = "smsgate.db";

function inboundFields(args: ParsedArgs) {
  const optOutType = optionalString(args, "opt-out-type")?.toUpperCase();
  const serviceSid = optionalString(args, "messaging-service-sid");

  if (optOutType !== undefined && !optOutTypes.includes(optOutType)) {
    throw new UsageError(
      `invalid --opt-out-type ${JSON.stringify(optOutType)}; use STOP, START or HELP`,
      "simulate",
    );
  }

  if (serviceSid !== undefined && !/^MG[0-9a-fA-F]{32}$/.test(serviceSid)) {
    throw new UsageError(
      `invalid --messaging-service-sid ${JSON.stringify(serviceSid)}; ` +
        "a Messaging Service SID is MG followed by 32 hexadecimal digits",
      "simulate",
    );
  }

  return {
    from: requireString(args, "from", "simulate"),
    to: requireString(args, "to", "simulate"),
    body: requireBody(args),
    messageSid: optionalString(args, "message-id") ?? randomTwilioMessageSid(),
    optOutType,
    messagingServiceSid: serviceSid,
  };
}

function statusFields(args: ParsedArgs) {
  const messageSid = requireString(args, "message-id", "simulate");
  const status = requireString(args, "status", "simulate");

  checkChoice("status", status, twilioStatuses);

  return {
    messageSid,
    status,
    errorCode: readErrorCode(args, "Twilio", "21610"),
    from: optionalString(args, "from"),
    to: optionalString(args, "to"),
  };
}

/** The account a webhook is signed for; the token is absent when none is configured. */
interface TwilioCredentials {
  accountSid: string | undefined;
  authToken: string | undefined;
}

/**
 * Reads the configured account and auth token, else the development ones beside the SQLite
 * store. The token is absent only when signature checks are switched off and no token is
 * configured, because the configuration rejects that combination otherwise.
 */
async function twilioCredentials(config: SmsgateConfig): Promise<TwilioCredentials> {
  const configured = config.providers?.twilio;

  if (configured !== undefined) {
    const token = configured.authToken;

    return {
      accountSid: configured.accountSid,
      authToken: token === undefined || token === "" ? undefined : token,
    };
  }

  const storePath = config.store.type === "sqlite" ? config.store.path : devStoreFile;
  const secrets = await readDevSecrets(resolve(storePath));

  if (secrets === undefined) {
    throw new ConfigError(
      "providers.twilio",
      `is not configured, and no development token was found beside ${storePath}; ` +
        'start "smsgate serve" with the same configuration once to create it',
    );
  }

  return secrets.twilio;
}

/**
 * Signs the fields as Twilio does: the HMAC-SHA1 of the URL followed by the sorted form
 * fields of a POST, or of the URL with the fields in its query for a GET.
 */
async function signTwilio(
  context: SigningContext,
  method: "GET" | "POST",
  messageSid: string,
  build: (accountSid: string | undefined) => BuiltTwilioWebhook,
): Promise<SignedWebhook> {
  const { accountSid, authToken } = await twilioCredentials(context.config);
  const built = build(accountSid);
  const url = method === "GET" ? appendQuery(context.targetUrl, built.body) : context.targetUrl;
  const headers: Record<string, string> = {};

  if (method === "POST") {
    headers["content-type"] = "application/x-www-form-urlencoded; charset=utf-8";
  }

  if (authToken === undefined) {
    writeError(context.io, "no Twilio auth token is configured, so the webhook is sent unsigned");
  } else {
    const params = method === "GET" ? [] : built.params;

    headers["x-twilio-signature"] = signTwilioRequest({
      authToken,
      url: context.signedUrlFor(url),
      params,
    });
  }

  return {
    method,
    url,
    headers,
    body: method === "POST" ? built.body : undefined,
    messageLabel: `MessageSid ${messageSid}`,
  };
}

function draftTwilio(kind: WebhookKind, args: ParsedArgs): WebhookDraft {
  const method = readMethod(args);

  if (kind === "inbound") {
    const fields = inboundFields(args);

    return {
      sign: (context) =>
        signTwilio(context, method, fields.messageSid, (accountSid) =>
          buildTwilioInbound({ ...fields, accountSid }),
        ),
    };
  }

  const fields = statusFields(args);

  return {
    sign: (context) =>
      signTwilio(context, method, fields.messageSid, (accountSid) =>
        buildTwilioStatus({ ...fields, accountSid }),
      ),
  };
}

/** The Twilio simulator. */
export const twilioSimulator: ProviderSimulator = {
  options: {
    inbound: ["from", "to", "body", "message-id", "opt-out-type", "messaging-service-sid"],
    status: ["message-id", "status", "error-code", "from", "to"],
  },
  draft: draftTwilio,
};
