import { ProviderError, type ProviderErrorReason } from "../../src/errors.js";
import { readPath, scalarText } from "./fields.js";
import type { GenericErrorRule } from "./options.js";

/** A send response as the provider received it. */
export interface GenericResponse {
  status: number;
  /** The body as text. */
  body: string;
  /** The body parsed as JSON, or `undefined` when it is not JSON. */
  json: unknown;
}

/** The parts of the options that decide the reason of a response. */
export interface GenericErrorOptions {
  name: string;
  errorCodePath?: string | undefined;
  errors: readonly GenericErrorRule[];
}

/**
 * Maps an error code of a status webhook through the configured table. A code missing
 * from it is `unknown`, never a success.
 */
export function genericErrorReason(
  errorCodes: Readonly<Record<string, ProviderErrorReason>>,
  code: string,
): ProviderErrorReason {
  return Object.hasOwn(errorCodes, code) ? (errorCodes[code] as ProviderErrorReason) : "unknown";
}

/** Returns the first rule that matches a response, or `undefined`. */
export function matchErrorRule(
  options: GenericErrorOptions,
  response: GenericResponse,
): GenericErrorRule | undefined {
  return options.errors.find((rule) => ruleMatches(options, rule, response));
}

function ruleMatches(
  options: GenericErrorOptions,
  rule: GenericErrorRule,
  response: GenericResponse,
): boolean {
  if (rule.status !== undefined && rule.status !== response.status) {
    return false;
  }

  if (rule.code === undefined) {
    return true;
  }

  const path = rule.codePath ?? options.errorCodePath;
  const code = path === undefined ? undefined : scalarText(readPath(response.json, path));

  return code !== undefined && code.trim() === String(rule.code);
}

/**
 * Reason for a response no rule matched: 401 and 403 are `auth`, 429 is `rate-limited`,
 * 408 and 5xx are `transient`, and everything else is `unknown`.
 */
export function reasonForHttpStatus(status: number): ProviderErrorReason {
  if (status === 401 || status === 403) {
    return "auth";
  }

  if (status === 429) {
    return "rate-limited";
  }

  return status === 408 || status >= 500 ? "transient" : "unknown";
}

/**
 * Builds the {@link ProviderError} for a refused send: the reason of the first matching
 * rule, else of the HTTP status. The error keeps the provider's code (read at
 * `errorCodePath`, or at the matching rule's `codePath`), the HTTP status and the raw body.
 */
export function mapGenericErrorResponse(
  options: GenericErrorOptions,
  response: GenericResponse,
  rule = matchErrorRule(options, response),
): ProviderError {
  const reason = rule?.reason ?? reasonForHttpStatus(response.status);
  const codePath = rule?.codePath ?? options.errorCodePath;
  const code = codePath === undefined ? undefined : scalarText(readPath(response.json, codePath));
  const codeText = code === undefined ? "" : `, code ${code}`;

  return new ProviderError(
    `${options.name} API rejected the message (HTTP ${response.status}${codeText}, ${reason})`,
    {
      provider: options.name,
      reason,
      providerCode: code,
      httpStatus: response.status,
      rawBody: response.body,
    },
  );
}
