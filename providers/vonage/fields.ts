import { WebhookParseError } from "../../src/errors.js";
import { type FormPair, formFieldsToRecord, parseFormBody } from "../../src/http/form.js";
import { checkWebhookBodyType, hasJsonBody, queryOf } from "../../src/http/webhook-request.js";
import { parseSenderIdentity } from "../../src/phone/sender.js";
import type { SenderIdentity, WebhookRequest } from "../../src/provider.js";

/**
 * The fields of a Vonage webhook as they arrived: pairs from a query string or form body,
 * or the object of a JSON body.
 */
export type VonageWebhookFields =
  | { format: "form"; pairs: FormPair[] }
  | { format: "json"; object: Record<string, unknown> };

const utf8 = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true });

/**
 * Reads the fields of a webhook. Vonage sends the SMS API fields as the query of a GET, as
 * a form body or as a JSON body, as set in the dashboard. The Messages API always sends
 * JSON. A POST with an empty body is read from its query string.
 *
 * @throws {WebhookParseError} for a malformed form, invalid UTF-8, or JSON that is not an
 * object.
 */
export function readVonageFields(request: WebhookRequest): VonageWebhookFields {
  const method = request.method.toUpperCase();

  if (method === "GET" || method === "HEAD" || request.body.length === 0) {
    return { format: "form", pairs: parseFormBody(queryOf(request.url)) };
  }

  checkWebhookBodyType(request, "Vonage webhook");

  if (hasJsonBody(request)) {
    return { format: "json", object: parseJsonObject(request.body) };
  }

  return { format: "form", pairs: parseFormBody(request.body) };
}

/**
 * Deepest nesting accepted in a JSON body. Vonage's webhooks nest objects two levels deep.
 * A much deeper body could not be serialised again, because JSON.stringify recurses, so it
 * is rejected here.
 */
const MAX_JSON_DEPTH = 32;

function parseJsonObject(body: Uint8Array): Record<string, unknown> {
  let parsed: unknown;

  try {
    parsed = JSON.parse(utf8.decode(body));
  } catch (error) {
    throw new WebhookParseError("Vonage webhook body is not valid UTF-8 JSON", { cause: error });
  }

  if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed)) {
    throw new WebhookParseError("Vonage webhook JSON body must be an object of fields");
  }

  if (exceedsDepth(parsed, MAX_JSON_DEPTH)) {
    throw new WebhookParseError(
      `Vonage webhook JSON body is nested more than ${MAX_JSON_DEPTH} levels deep, ` +
        "so it is not a Vonage webhook",
    );
  }

  return parsed as Record<string, unknown>;
}

// Walks the value with an explicit stack, because recursion would overflow on the very
// input it looks for.
function exceedsDepth(value: object, limit: number): boolean {
  const pending: Array<[unknown, number]> = [[value, 1]];

  for (let next = pending.pop(); next !== undefined; next = pending.pop()) {
    const [item, depth] = next;

    if (typeof item !== "object" || item === null) {
      continue;
    }

    if (depth > limit) {
      return true;
    }

    for (const child of Object.values(item)) {
      pending.push([child, depth + 1]);
    }
  }

  return false;
}

/** Fields of a webhook with the readers the parsers share. */
export class VonageFields {
  /** Every field as received: repeated form fields as arrays, JSON values unchanged. */
  readonly record: Record<string, unknown>;
  readonly #format: "form" | "json";

  constructor(fields: VonageWebhookFields) {
    this.#format = fields.format;
    this.record = fields.format === "json" ? fields.object : formFieldsToRecord(fields.pairs);
  }

  /** Whether the fields came from a JSON body. */
  get isJson(): boolean {
    return this.#format === "json";
  }

  /** Checks whether the field is present, empty or not. */
  has(name: string): boolean {
    return Object.hasOwn(this.record, name);
  }

  /**
   * Returns a field as text exactly as sent: the first value of a repeated form field, a
   * JSON number or boolean as its JSON text. Objects and arrays give `undefined`.
   */
  raw(name: string): string | undefined {
    const value = this.has(name) ? this.record[name] : undefined;
    const first = this.#format === "form" && Array.isArray(value) ? value[0] : value;

    return textOf(first);
  }

  /** Returns the field's text, or `undefined` when it is absent or only whitespace. */
  text(name: string): string | undefined {
    const value = this.raw(name);

    return value === undefined || value.trim() === "" ? undefined : value.trim();
  }

  /** Returns a required field's text. */
  require(name: string, payloadName: string): string {
    const value = this.text(name);

    if (value === undefined) {
      throw new WebhookParseError(`Vonage ${payloadName} has no ${name} field`);
    }

    return value;
  }

  /** Returns a nested JSON object as fields, or `undefined` when it is not an object. */
  child(name: string): VonageFields | undefined {
    const value = this.has(name) ? this.record[name] : undefined;

    if (typeof value !== "object" || value === null || Array.isArray(value)) {
      return undefined;
    }

    return new VonageFields({ format: "json", object: value as Record<string, unknown> });
  }

  /** Reads a whole number from 1 to 999999, or `undefined` when absent or not one. */
  count(name: string): number | undefined {
    const value = this.text(name);

    return value !== undefined && /^\d{1,6}$/.test(value) && Number(value) > 0
      ? Number(value)
      : undefined;
  }

  /**
   * Parses a number field. Vonage writes numbers in international form without `+`
   * (`14155550100`), so digits are read country code first and never through a default
   * region. Short codes and alphanumeric sender IDs are kept as they are.
   */
  sender(name: string, payloadName: string, counterpart?: string): SenderIdentity {
    const value = this.require(name, payloadName);

    try {
      return parseSenderIdentity(value, { internationalDigits: true, counterpart });
    } catch (error) {
      const detail = error instanceof Error ? error.message : String(error);

      throw new WebhookParseError(
        `Vonage ${payloadName} field ${name} is not a valid sender: ${detail}`,
        {
          cause: error,
        },
      );
    }
  }
}

function textOf(value: unknown): string | undefined {
  if (typeof value === "string") {
    return value;
  }

  if (typeof value === "number" || typeof value === "boolean") {
    return String(value);
  }

  return undefined;
}

const TIMESTAMP =
  /^(\d{4})-(\d{2})-(\d{2})[ T](\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,9}))?(Z| ?[+-]\d{2}:?\d{2})?$/;

/**
 * Reads a Vonage timestamp: `2025-05-01 12:00:00` (SMS API `message-timestamp`, UTC),
 * ISO 8601 with `Z` or an offset (`2020-01-01T14:00:00.000Z`), or a date and time
 * followed by an offset (`2020-01-01 14:00:00 +0000`). A value without a zone is UTC.
 * An impossible date gives `undefined`, because the field is informational and stays in
 * `raw`.
 */
export function parseVonageTimestamp(value: string | undefined): Date | undefined {
  const match = TIMESTAMP.exec(value?.trim() ?? "");

  if (match === null) {
    return undefined;
  }

  const number = (index: number): number => Number(match[index] ?? "0");
  const parts = [number(1), number(2) - 1, number(3), number(4), number(5), number(6)] as const;
  const milliseconds = Number((match[7] ?? "0").padEnd(3, "0").slice(0, 3));
  const utc = checkedUtc(parts);

  if (utc === undefined) {
    return undefined;
  }

  return new Date(utc + milliseconds - offsetMinutes(match[8]) * 60_000);
}

/**
 * Reads an `scts` (service centre time stamp) of a delivery receipt: `YYMMDDhhmm`, in
 * UTC, with optional seconds. An impossible date gives `undefined`.
 */
export function parseVonageScts(value: string | undefined): Date | undefined {
  const match = /^(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})?$/.exec(value?.trim() ?? "");

  if (match === null) {
    return undefined;
  }

  const number = (index: number): number => Number(match[index] ?? "0");
  const parts: DateParts = [
    2000 + number(1),
    number(2) - 1,
    number(3),
    number(4),
    number(5),
    number(6),
  ];
  const utc = checkedUtc(parts);

  return utc === undefined ? undefined : new Date(utc);
}

type DateParts = readonly [number, number, number, number, number, number];

// Date.UTC rolls an impossible part over (month 13, hour 25), which changes the others,
// so a date is valid only when every part survives the round trip.
function checkedUtc(parts: DateParts): number | undefined {
  const utc = Date.UTC(...parts);
  const date = new Date(utc);
  const roundTrip = [
    date.getUTCFullYear(),
    date.getUTCMonth(),
    date.getUTCDate(),
    date.getUTCHours(),
    date.getUTCMinutes(),
    date.getUTCSeconds(),
  ];

  return roundTrip.every((part, index) => part === parts[index]) ? utc : undefined;
}

function offsetMinutes(zone: string | undefined): number {
  const match = /([+-])(\d{2}):?(\d{2})/.exec(zone ?? "");

  if (match === null) {
    return 0;
  }

  const minutes = Number(match[2]) * 60 + Number(match[3]);

  return match[1] === "-" ? -minutes : minutes;
}
