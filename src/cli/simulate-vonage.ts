/**
 * `smsgate simulate vonage inbound|status`. With `providers.vonage.api` set to `sms`, it
 * sends SMS API fields (a form body, or the query of a GET) signed with `sig`. With
 * `messages`, it sends a Messages API JSON body signed with an HS256 JWT. Both signatures
 * use the configured `signatureSecret`, and neither covers the URL.
 */

import type { VonageSignatureMethod } from "../../providers/vonage/signature.js";
import { vonageDeliveryStatusMap, vonageMessageStatusMap } from "../../providers/vonage/status.js";
import { ConfigError } from "../errors.js";
import type { FormPair } from "../http/form.js";
import type { WebhookRequest } from "../provider.js";
import {
  buildVonageDeliveryReceipt,
  buildVonageInbound,
  buildVonageMessagesInbound,
  buildVonageMessagesStatus,
  randomVonageMessageId,
  signedVonageMessagesRequest,
  signedVonageRequest,
} from "../testing/vonage.js";
import type { SmsgateConfig } from "./config.js";
import { UsageError, writeError } from "./output.js";
import {
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

/** The most parts a concatenated SMS can have, because its header counts them in a byte. */
const maxParts = 255;

/** The configured settings a Vonage webhook is built and signed with. */
interface VonageSigning {
  secret: string | undefined;
  signatureMethod: VonageSignatureMethod;
  api: "sms" | "messages";
  /** The account's API key, which Vonage sends as `api-key` in SMS API webhooks. */
  apiKey: string | undefined;
}

/** The `concat-*` fields of one part of a multipart SMS. */
interface ConcatPart {
  reference: string;
  total: number;
  part: number;
}

function vonageSigning(config: SmsgateConfig): VonageSigning {
  const configured = config.providers?.vonage;

  if (configured === undefined) {
    throw new ConfigError(
      "providers.vonage",
      "is not configured, so there is no signature secret to sign Vonage webhooks with; " +
        "add providers.vonage with its signatureSecret to the configuration",
    );
  }

  return {
    secret: configured.signatureSecret || undefined,
    signatureMethod: configured.signatureMethod,
    api: configured.api,
    apiKey: configured.apiKey,
  };
}

function readCount(args: ParsedArgs, name: string, max: number): number {
  const text = requireString(args, name, "simulate");
  const value = Number(text);

  if (!/^\d+$/.test(text) || value < 1 || value > max) {
    throw new UsageError(
      `invalid --${name} ${JSON.stringify(text)}; give a whole number from 1 to ${max}`,
      "simulate",
    );
  }

  return value;
}

/** Reads `--concat-ref`, `--concat-total` and `--concat-part`, which go together. */
function readConcat(args: ParsedArgs): ConcatPart | undefined {
  const names = ["concat-ref", "concat-total", "concat-part"];
  const given = names.filter((name) => optionalString(args, name) !== undefined);

  if (given.length === 0) {
    return undefined;
  }

  if (given.length < names.length) {
    const missing = names.filter((name) => !given.includes(name)).map((name) => `--${name}`);

    throw new UsageError(
      `missing ${missing.join(" and ")}; a part of a multipart SMS needs --concat-ref, ` +
        "--concat-total and --concat-part",
      "simulate",
    );
  }

  const total = readCount(args, "concat-total", maxParts);

  return {
    reference: requireString(args, "concat-ref", "simulate"),
    total,
    part: readCount(args, "concat-part", total),
  };
}

/** Turns a request built by the test signers into the request the command sends. */
function toSignedWebhook(request: WebhookRequest, messageLabel: string): SignedWebhook {
  const method = request.method === "GET" ? "GET" : "POST";
  const headers = Object.fromEntries(request.headers.entries());
  const body = method === "POST" ? new TextDecoder().decode(request.body) : undefined;

  return { method, url: request.url, headers, body, messageLabel };
}

function signSms(
  context: SigningContext,
  signing: VonageSigning,
  method: "GET" | "POST",
  params: FormPair[],
  messageLabel: string,
): SignedWebhook {
  if (signing.secret === undefined) {
    writeError(context.io, "no Vonage signature secret is configured, so the webhook has no sig");
  }

  const request = signedVonageRequest({
    url: context.targetUrl,
    params,
    secret: signing.secret,
    signatureMethod: signing.signatureMethod,
    method,
  });

  return toSignedWebhook(request, messageLabel);
}

function signMessages(
  context: SigningContext,
  signing: VonageSigning,
  method: "GET" | "POST",
  body: Record<string, unknown>,
): SignedWebhook {
  if (method === "GET") {
    throw new UsageError(
      "--method GET does not apply to the Vonage Messages API, which always posts JSON; " +
        'leave it out, or set providers.vonage.api to "sms"',
      "simulate",
    );
  }

  if (signing.secret === undefined) {
    writeError(context.io, "no Vonage signature secret is configured, so the webhook has no JWT");
  }

  const request = signedVonageMessagesRequest({
    url: context.targetUrl,
    body,
    secret: signing.secret,
  });

  return toSignedWebhook(request, `message_uuid ${String(body.message_uuid)}`);
}

function inboundDraft(args: ParsedArgs, method: "GET" | "POST"): WebhookDraft {
  const from = withoutPlus(requireString(args, "from", "simulate"));
  const to = withoutPlus(requireString(args, "to", "simulate"));
  const text = requireBody(args);
  const messageId = optionalString(args, "message-id");
  const concat = readConcat(args);

  return {
    async sign(context) {
      const signing = vonageSigning(context.config);

      if (signing.api === "messages") {
        if (concat !== undefined) {
          throw new UsageError(
            "the --concat-* options do not apply to the Vonage Messages API, which " +
              'delivers long messages whole; set providers.vonage.api to "sms" to send parts',
            "simulate",
          );
        }

        const body = buildVonageMessagesInbound({ from, to, text, messageUuid: messageId });

        return signMessages(context, signing, method, body);
      }

      const id = messageId ?? randomVonageMessageId();
      const built = buildVonageInbound({
        msisdn: from,
        to,
        text,
        messageId: id,
        concat,
        apiKey: signing.apiKey,
      });

      return signSms(context, signing, method, built.params, `messageId ${id}`);
    },
  };
}

function statusDraft(args: ParsedArgs, method: "GET" | "POST"): WebhookDraft {
  const messageId = requireString(args, "message-id", "simulate");
  const status = requireString(args, "status", "simulate");
  const errorCode = readErrorCode(args, "Vonage", "9");
  const from = optionalString(args, "from");
  const to = optionalString(args, "to");

  return {
    async sign(context) {
      const signing = vonageSigning(context.config);

      if (signing.api === "messages") {
        checkChoice("status", status, Object.keys(vonageMessageStatusMap));

        const body = buildVonageMessagesStatus({
          messageUuid: messageId,
          to: to === undefined ? "" : withoutPlus(to),
          from: from === undefined ? "" : withoutPlus(from),
          status,
          error: errorCode === undefined ? undefined : { title: errorCode },
        });

        // The numbers are left out when not given, so the report names no party.
        if (to === undefined) {
          delete body.to;
        }

        if (from === undefined) {
          delete body.from;
        }

        return signMessages(context, signing, method, body);
      }

      checkChoice("status", status, Object.keys(vonageDeliveryStatusMap));

      if (to === undefined || from === undefined) {
        throw new UsageError(
          "a Vonage delivery receipt names the recipient (msisdn) and the sender (to), " +
            "so give --to and --from",
          "simulate",
        );
      }

      const built = buildVonageDeliveryReceipt({
        messageId,
        msisdn: withoutPlus(to),
        to: withoutPlus(from),
        status,
        errCode: errorCode,
        apiKey: signing.apiKey,
      });

      return signSms(context, signing, method, built.params, `messageId ${messageId}`);
    },
  };
}

/** The Vonage simulator. */
export const vonageSimulator: ProviderSimulator = {
  options: {
    inbound: [
      ...["from", "to", "body", "message-id"],
      ...["concat-ref", "concat-total", "concat-part"],
    ],
    status: ["message-id", "status", "error-code", "from", "to"],
  },
  draft(kind: WebhookKind, args: ParsedArgs): WebhookDraft {
    const method = readMethod(args);

    return kind === "inbound" ? inboundDraft(args, method) : statusDraft(args, method);
  },
};
