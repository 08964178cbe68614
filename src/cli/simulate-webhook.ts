/**
 * The contract between `smsgate simulate` and the simulator of each provider, and the
 * option checks they share.
 */

import type { SmsgateConfig } from "./config.js";
import { type CliIo, UsageError } from "./output.js";
import { optionalString, type ParsedArgs } from "./usage.js";

/** The webhook routes of the server. */
export type WebhookKind = "inbound" | "status";

/** The inputs of signing a webhook, known once the configuration is read. */
export interface SigningContext {
  config: SmsgateConfig;
  /** Target of the request, without the fields that a GET adds to the query. */
  targetUrl: string;
  /** Returns the URL the provider would have called for a request to `target`. */
  signedUrlFor(target: string): string;
  io: CliIo;
}

/** A signed webhook, ready to send. */
export interface SignedWebhook {
  method: "GET" | "POST";
  /** The URL to request; for a GET it has the fields in its query. */
  url: string;
  headers: Record<string, string>;
  /** The form or JSON body of a POST. */
  body: string | undefined;
  /** The message ID with the provider's field name, such as `MessageSid SM…`. */
  messageLabel: string;
}

/**
 * A webhook whose command-line options were checked. It is signed later, because the
 * secret comes from the configuration, which is read after the arguments.
 */
export interface WebhookDraft {
  sign(context: SigningContext): Promise<SignedWebhook>;
}

/** The simulator of one provider. */
export interface ProviderSimulator {
  /** The options each webhook kind takes, besides `--url` and `--config`. */
  options: Readonly<Record<WebhookKind, readonly string[]>>;
  /**
   * Checks the options of one webhook kind and builds its draft.
   *
   * @throws {UsageError} naming an invalid or missing option.
   */
  draft(kind: WebhookKind, args: ParsedArgs): WebhookDraft;
}

/** Returns `--body`, which may be empty (an MMS without text) but must be given. */
export function requireBody(args: ParsedArgs): string {
  const body = optionalString(args, "body");

  if (body === undefined) {
    throw new UsageError("missing required option --body", "simulate");
  }

  return body;
}

/** Returns `--method` as `GET` or `POST` (the default), in any letter case. */
export function readMethod(args: ParsedArgs): "GET" | "POST" {
  const method = optionalString(args, "method")?.toUpperCase() ?? "POST";

  if (method !== "GET" && method !== "POST") {
    throw new UsageError(
      `invalid --method ${JSON.stringify(optionalString(args, "method"))}; use GET or POST`,
      "simulate",
    );
  }

  return method;
}

/** Checks that a value is one of `choices`, naming the option and the choices if not. */
export function checkChoice(option: string, value: string, choices: readonly string[]): void {
  if (!choices.includes(value)) {
    throw new UsageError(
      `invalid --${option} ${JSON.stringify(value)}; use one of ${choices.join(", ")}`,
      "simulate",
    );
  }
}

/** Returns `--error-code` when given, checking that it is digits. */
export function readErrorCode(args: ParsedArgs, provider: string, example: string) {
  const errorCode = optionalString(args, "error-code");

  if (errorCode !== undefined && !/^\d+$/.test(errorCode)) {
    throw new UsageError(
      `invalid --error-code ${JSON.stringify(errorCode)}; ${provider} error codes are ` +
        `digits, such as ${example}`,
      "simulate",
    );
  }

  return errorCode;
}

/**
 * Writes a number the way Vonage and Plivo send it in webhooks: E.164 without the `+`.
 * Short codes and sender IDs are returned unchanged.
 */
export function withoutPlus(value: string): string {
  return /^\+\d+$/.test(value) ? value.slice(1) : value;
}

/** Appends form-encoded fields to the query of a URL, after any query it has. */
export function appendQuery(url: string, query: string): string {
  if (query === "") {
    return url;
  }

  return `${url}${url.includes("?") ? "&" : "?"}${query}`;
}
