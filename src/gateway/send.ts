import { randomUUID } from "node:crypto";
import { ALL_SENDERS, type ConsentEvent } from "../consent/types.js";
import {
  ConsentCheckError,
  InvalidRequestError,
  isProviderError,
  RecipientOptedOutError,
} from "../errors.js";
import { normalizeRecipient, parseTypedSender } from "../phone/index.js";
import type { OutboundMessage, Provider, SendResult } from "../provider.js";
import { isBlocked } from "./guard.js";
import type { ResolvedGatewayOptions } from "./options.js";
import type { SendRequest } from "./types.js";

/** A send request after its recipient, sender and provider were resolved. */
export interface PreparedSend {
  provider: Provider;
  message: OutboundMessage;
  /** The sender identities whose opt-outs block this message; `*` under the global scope. */
  scopes: string[];
}

/** Largest body accepted; Twilio's limit is 1,600 characters, others are lower. */
const maxBodyLength = 1600;

/** Checks a send request and resolves its provider, recipient and consent scopes. */
export function prepareSend(options: ResolvedGatewayOptions, request: SendRequest): PreparedSend {
  validateRequest(request);

  const provider = pickProvider(options, request.provider);
  const to = normalizeRecipient(request.to, { defaultRegion: options.defaultRegion }).value;
  const from = request.from === undefined ? undefined : normalizeSender(options, request.from, to);
  const message: OutboundMessage = {
    to,
    from,
    body: request.body,
    mediaUrls: request.mediaUrls,
    statusCallbackUrl: statusCallbackUrl(options, provider),
  };

  return { provider, message, scopes: consentScopes(options, provider, message) };
}

/**
 * Runs the guard and the provider call for a prepared send. Raises
 * `RecipientOptedOutError` without calling the provider when the recipient opted out.
 */
export async function executeSend(
  options: ResolvedGatewayOptions,
  prepared: PreparedSend,
  recordRefusal: (event: ConsentEvent) => Promise<void>,
): Promise<SendResult> {
  await assertNotOptedOut(options, prepared);

  try {
    return await prepared.provider.send(prepared.message);
  } catch (error) {
    if (isProviderError(error) && error.reason === "opted-out") {
      await recordRefusal(refusalEvent(prepared, error.providerCode));
    }

    throw error;
  }
}

/** Reads the store for every scope of the send; a store failure refuses the send. */
async function assertNotOptedOut(
  options: ResolvedGatewayOptions,
  prepared: PreparedSend,
): Promise<void> {
  const { to } = prepared.message;

  for (const scope of prepared.scopes) {
    let optedOut: boolean;

    try {
      optedOut = await isBlocked(options.store, to, scope, options.pseudonymKey);
    } catch (error) {
      throw new ConsentCheckError(
        "The opt-out store could not be read, so the message was not sent; " +
          "check that the store is reachable and retry",
        { cause: error },
      );
    }

    if (optedOut) {
      throw new RecipientOptedOutError(to, scope);
    }
  }
}

/** Builds the opt-out learned from a provider refusing to deliver to a recipient. */
function refusalEvent(prepared: PreparedSend, providerCode: string | undefined): ConsentEvent {
  const { provider, message, scopes } = prepared;
  const sender = senderScopes(provider, message).at(0) ?? scopes.at(-1) ?? ALL_SENDERS;

  return {
    id: `${provider.name}:refusal:${randomUUID()}`,
    phone: message.to,
    action: "opt-out",
    sender,
    source: "provider-refusal",
    provider: provider.name,
    providerCode,
    occurredAt: new Date(),
  };
}

/** Names the type of a value for messages: `number`, `null`, `array`, `object`. */
function describeType(value: unknown): string {
  if (value === null) {
    return "null";
  }

  return Array.isArray(value) ? "array" : typeof value;
}

/**
 * Checks that a field is a string, naming the field and the type it received. Callers in
 * JavaScript, or with data from JSON, can pass any value.
 */
function requireStringField(request: SendRequest, field: keyof SendRequest, hint: string): string {
  const value: unknown = request[field];

  if (value === undefined) {
    throw new InvalidRequestError(`\`${field}\` is missing; ${hint}`);
  }

  if (typeof value !== "string") {
    throw new InvalidRequestError(
      `\`${field}\` must be a string (received ${describeType(value)}); ${hint}`,
    );
  }

  return value;
}

function validateRequest(request: SendRequest): void {
  if (typeof request !== "object" || request === null) {
    throw new InvalidRequestError(
      `send() needs an object with \`to\` and \`body\` (received ${describeType(request)})`,
    );
  }

  const recipientHint = "pass the recipient's phone number";
  const to = requireStringField(request, "to", recipientHint);

  if (to.trim() === "") {
    throw new InvalidRequestError(`\`to\` is empty; ${recipientHint}`);
  }

  const hasMedia = Array.isArray(request.mediaUrls) && request.mediaUrls.length > 0;
  const body = requireStringField(request, "body", "pass the message text");

  if (body === "" && !hasMedia) {
    throw new InvalidRequestError(
      "`body` is empty; pass the message text, or media URLs for a message without text",
    );
  }

  if (body.length > maxBodyLength) {
    throw new InvalidRequestError(
      `\`body\` has ${body.length} characters; the maximum is ${maxBodyLength}`,
    );
  }

  validateOptionalFields(request);
  validateMediaUrls(request.mediaUrls);
}

/** Checks `from` and `provider`, which may be absent (the defaults then apply) but not blank. */
function validateOptionalFields(request: SendRequest): void {
  const defaults = { from: "the provider's default sender", provider: "the first provider" };

  for (const field of ["from", "provider"] as const) {
    const value: unknown = request[field];
    const hint = `omit it to use ${defaults[field]}`;

    if (value === undefined) {
      continue;
    }

    if (typeof value !== "string") {
      throw new InvalidRequestError(
        `\`${field}\` must be a string (received ${describeType(value)}); ${hint}`,
      );
    }

    if (value.trim() === "") {
      throw new InvalidRequestError(`\`${field}\` is empty; ${hint}`);
    }
  }
}

/** Providers fetch media themselves, so only public http and https URLs make sense. */
function validateMediaUrls(mediaUrls: SendRequest["mediaUrls"]): void {
  if (mediaUrls === undefined) {
    return;
  }

  if (!Array.isArray(mediaUrls)) {
    throw new InvalidRequestError(
      `\`mediaUrls\` must be an array of http or https URLs (received ${describeType(mediaUrls)})`,
    );
  }

  for (const url of mediaUrls) {
    const valid =
      typeof url === "string" && URL.canParse(url) && /^https?:$/.test(new URL(url).protocol);

    if (!valid) {
      throw new InvalidRequestError(
        `Invalid media URL ${JSON.stringify(url)}; give an http:// or https:// URL`,
      );
    }
  }
}

function pickProvider(options: ResolvedGatewayOptions, name: string | undefined): Provider {
  if (name === undefined) {
    return options.defaultProvider;
  }

  const provider = options.providers.get(name);

  if (!provider) {
    const known = [...options.providers.keys()].join(", ");

    throw new InvalidRequestError(`Unknown provider "${name}"; configured providers: ${known}`);
  }

  return provider;
}

/**
 * Normalises a sender as written by the caller. Vonage and Plivo write numbers as
 * international digits without `+` (`12025550100`), so such a value is read that way when
 * it is not a valid number in the default region.
 */
function normalizeSender(options: ResolvedGatewayOptions, from: string, to: string): string {
  return parseTypedSender(from, { defaultRegion: options.defaultRegion, counterpart: to }).value;
}

function statusCallbackUrl(
  options: ResolvedGatewayOptions,
  provider: Provider,
): string | undefined {
  if (options.publicUrl === undefined) {
    return undefined;
  }

  return `${options.publicUrl}/webhooks/${provider.name}/status`;
}

/** Lists the sender identities whose opt-outs apply; the provider blocks under the first. */
function senderScopes(provider: Provider, message: OutboundMessage): string[] {
  if (provider.consentScopes) {
    return provider.consentScopes(message);
  }

  const sender = message.from ?? provider.defaultSender;

  return sender === undefined ? [] : [sender];
}

/**
 * Lists the scopes that the guard reads for a send. Under the sender scope these are the
 * identities the provider blocks under. With no known sender the check falls back to `*`,
 * so an unknown sender never lets a message through.
 *
 * Under the global scope `*` is read, where the newest event from any sender decides, and
 * so is each sender identity. An opt-in to another sender can be the newest event. It does
 * not lift an opt-out of this sender or of `*` that is newer than this sender's own
 * opt-ins, so the global scope blocks at least what the sender scope blocks.
 */
function consentScopes(
  options: ResolvedGatewayOptions,
  provider: Provider,
  message: OutboundMessage,
): string[] {
  const scopes = senderScopes(provider, message);

  if (options.optOutScope === "global") {
    return [ALL_SENDERS, ...scopes];
  }

  return scopes.length > 0 ? scopes : [ALL_SENDERS];
}
