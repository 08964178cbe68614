import { expect } from "vitest";
import { providerErrorReasons } from "../errors.js";
import { parseFormBody } from "../http/form.js";
import {
  type DeliveryReport,
  deliveryStatuses,
  type InboundMessage,
  type ParsedWebhook,
  type SenderIdentity,
} from "../provider.js";
import type { RecordedRequest } from "./fake-api.js";

/** The outcome of a promise, without throwing. */
export type Settled<T> = { ok: true; value: T } | { ok: false; error: unknown };

/**
 * Runs a call and returns its value or its error, whether it rejects or throws before
 * returning a promise.
 */
export async function settle<T>(run: () => Promise<T> | T): Promise<Settled<T>> {
  try {
    return { ok: true, value: await run() };
  } catch (error) {
    return { ok: false, error };
  }
}

/** Describes an error for an assertion message: its name, code and message. */
export function describeError(error: unknown): string {
  if (!(error instanceof Error)) {
    return `a non-error value ${String(error)}`;
  }

  const code = (error as { code?: unknown }).code;
  const codeText = typeof code === "string" ? ` (${code})` : "";

  return `${error.name}${codeText}: ${error.message.slice(0, 300)}`;
}

/**
 * Checks that a parse result has the shape the gateway relies on: lists of messages and
 * reports from this provider, with non-empty ids, sender identities and known statuses.
 */
export function expectWellFormed(parsed: unknown, provider: string, label: string): void {
  const value = parsed as ParsedWebhook;

  expect(Array.isArray(value?.inbound), `${label}: inbound is not an array`).toBe(true);
  expect(Array.isArray(value?.reports), `${label}: reports is not an array`).toBe(true);

  for (const message of value.inbound) {
    expectWellFormedInbound(message, provider, label);
  }

  for (const report of value.reports) {
    expectWellFormedReport(report, provider, label);
  }
}

function expectWellFormedInbound(message: InboundMessage, provider: string, label: string) {
  expect(message.provider, `${label}: inbound provider`).toBe(provider);
  expect(isNonEmptyText(message.messageId), `${label}: inbound messageId is empty`).toBe(true);
  expect(isIdentity(message.from), `${label}: inbound from is not an identity`).toBe(true);
  expect(isIdentity(message.to), `${label}: inbound to is not an identity`).toBe(true);
  expect(typeof message.text, `${label}: inbound text`).toBe("string");
  expect(isValidDate(message.receivedAt), `${label}: inbound receivedAt`).toBe(true);
  expect(Array.isArray(message.media), `${label}: inbound media is not an array`).toBe(true);
}

function expectWellFormedReport(report: DeliveryReport, provider: string, label: string) {
  const reasons: readonly string[] = providerErrorReasons;
  const statuses: readonly string[] = deliveryStatuses;

  expect(report.provider, `${label}: report provider`).toBe(provider);
  expect(isNonEmptyText(report.messageId), `${label}: report messageId is empty`).toBe(true);
  expect(statuses.includes(report.status), `${label}: report status ${report.status}`).toBe(true);
  expect(typeof report.providerStatus, `${label}: report providerStatus`).toBe("string");
  expect(isValidDate(report.receivedAt), `${label}: report receivedAt`).toBe(true);

  if (report.reason !== undefined) {
    expect(reasons.includes(report.reason), `${label}: reason ${report.reason}`).toBe(true);
  }
}

function isNonEmptyText(value: unknown): boolean {
  return typeof value === "string" && value !== "";
}

function isIdentity(value: SenderIdentity | undefined): boolean {
  return typeof value === "object" && value !== null && isNonEmptyText(value.value);
}

function isValidDate(value: unknown): boolean {
  return value instanceof Date && !Number.isNaN(value.getTime());
}

/**
 * Reads a field of a recorded API request: a form field by name, or a dotted path into a
 * JSON body. Returns the value as text, or `undefined` when it is absent.
 */
export function readRequestField(request: RecordedRequest, name: string): string | undefined {
  const type = String(request.headers["content-type"] ?? "").toLowerCase();

  if (type.startsWith("application/x-www-form-urlencoded")) {
    return parseFormBody(request.body).find(([key]) => key === name)?.[1];
  }

  let value: unknown;

  try {
    value = JSON.parse(request.body);
  } catch {
    return undefined;
  }

  for (const segment of name.split(".")) {
    if (typeof value !== "object" || value === null || !Object.hasOwn(value, segment)) {
      return undefined;
    }

    value = (value as Record<string, unknown>)[segment];
  }

  return value === undefined || value === null ? undefined : textOf(value);
}

function textOf(value: unknown): string {
  return typeof value === "object" ? JSON.stringify(value) : String(value);
}
