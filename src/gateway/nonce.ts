import { createHash } from "node:crypto";
import { isNonceStore } from "../consent/capabilities.js";
import type { OptOutStore, WebhookNonce } from "../consent/types.js";
import type { Provider, WebhookRequest, WebhookResponse } from "../provider.js";
import type { ResolvedGatewayOptions } from "./options.js";

/** Maximum nonce length. Plivo sends 20 digits and Vonage a UUID. */
export const MAX_NONCE_LENGTH = 256;

/** The nonce of a webhook, or the response that rejects it. */
export type NonceCheck = { nonce: WebhookNonce | undefined } | { response: WebhookResponse };

const warnedStores = new WeakSet<OptOutStore>();

/**
 * Computes the hex SHA-256 of the request's method, URL and body, the parts that a
 * provider's retry repeats byte for byte. Headers are left out, because a proxy may add or
 * reorder them.
 */
export function webhookRequestHash(request: WebhookRequest): string {
  return createHash("sha256")
    .update(`${request.method}\n${request.url}\n`)
    .update(request.body)
    .digest("hex");
}

/** The result of {@link checkWebhookNonce} for a webhook without a nonce. */
export const noNonce: NonceCheck = Object.freeze({ nonce: undefined });

/**
 * Checks whether {@link checkWebhookNonce} reads a nonce for this provider. When it does
 * not, the check returns {@link noNonce}.
 */
export function readsNonce(options: ResolvedGatewayOptions, provider: Provider): boolean {
  return !options.insecureSkipSignatureVerification && provider.webhookNonce !== undefined;
}

/**
 * Reads the verified webhook's nonce and rejects it with 403 when the store contains it
 * from another request. A store read failure gives 503, so the provider retries.
 */
export async function checkWebhookNonce(
  options: ResolvedGatewayOptions,
  provider: Provider,
  request: WebhookRequest,
  answer: (status: number, error: string, message: string) => WebhookResponse,
): Promise<NonceCheck> {
  const value = options.insecureSkipSignatureVerification
    ? undefined
    : readNonce(options, provider, request);

  if (value === undefined) {
    return { nonce: undefined };
  }

  if (value instanceof Error) {
    return { response: answer(403, "invalid-signature", "The nonce could not be read") };
  }

  if (value.length > MAX_NONCE_LENGTH) {
    return {
      response: answer(
        400,
        "invalid-webhook",
        `The webhook nonce has ${value.length} characters; at most ${MAX_NONCE_LENGTH} are accepted`,
      ),
    };
  }

  const { store } = options;

  if (!isNonceStore(store)) {
    warnOnce(options, provider, store);
    return { nonce: undefined };
  }

  const nonce = { value, requestHash: webhookRequestHash(request) };
  let stored: string | undefined;

  try {
    stored = await store.findNonce(provider.name, value);
  } catch (error) {
    options.logger.error(
      { provider: provider.name, err: error },
      "webhook not acknowledged: its nonce could not be checked",
    );

    return {
      response: answer(503, "store-unavailable", "The nonce could not be checked; retry later"),
    };
  }

  if (stored !== undefined && stored !== nonce.requestHash) {
    return { response: replayedAnswer(options, provider, answer) };
  }

  return { nonce };
}

/** Logs a rejected replay and builds its 403 response. */
export function replayedAnswer(
  options: ResolvedGatewayOptions,
  provider: Provider,
  answer: (status: number, error: string, message: string) => WebhookResponse,
): WebhookResponse {
  options.logger.warn(
    { provider: provider.name, failure: "replayed-nonce" },
    "webhook rejected: its nonce was used by another request",
  );

  return answer(403, "replayed-nonce", "The signature's nonce was already used by another request");
}

function readNonce(
  options: ResolvedGatewayOptions,
  provider: Provider,
  request: WebhookRequest,
): string | Error | undefined {
  if (provider.webhookNonce === undefined) {
    return undefined;
  }

  try {
    const value = provider.webhookNonce(request);

    return typeof value === "string" && value !== "" ? value : undefined;
  } catch (error) {
    // A reader that fails must not let the request through unchecked.
    options.logger.error(
      { provider: provider.name, err: error },
      "webhook rejected: the nonce reader failed",
    );

    return error instanceof Error ? error : new Error(String(error));
  }
}

function warnOnce(options: ResolvedGatewayOptions, provider: Provider, store: OptOutStore): void {
  if (warnedStores.has(store)) {
    return;
  }

  warnedStores.add(store);
  options.logger.warn(
    { provider: provider.name },
    "the store keeps no webhook nonces, so a nonce used twice is not detected; " +
      "implement NonceStore in the store to detect it",
  );
}
