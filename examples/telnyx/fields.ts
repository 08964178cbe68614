import { parseSenderIdentity, type SenderIdentity, WebhookParseError } from "smsgate";

/** Deepest nesting of a webhook body that is read. Telnyx's events nest a few levels. */
const MAX_DEPTH = 32;

const utf8 = new TextDecoder("utf-8", { fatal: true });

/** A JSON object, read without reaching prototypes. */
export type JsonObject = Record<string, unknown>;

/**
 * Parses a webhook body as a JSON object.
 *
 * @throws {WebhookParseError} for invalid UTF-8, invalid JSON, nesting deeper than 32
 *   levels, or a value that is not an object.
 */
export function parseTelnyxBody(body: Uint8Array): JsonObject {
  let text: string;

  try {
    text = utf8.decode(body);
  } catch (error) {
    throw new WebhookParseError("Telnyx webhook body is not valid UTF-8", { cause: error });
  }

  if (nestingDepth(text) > MAX_DEPTH) {
    throw new WebhookParseError(`Telnyx webhook body nests deeper than ${MAX_DEPTH} levels`);
  }

  let value: unknown;

  try {
    value = JSON.parse(text);
  } catch (error) {
    throw new WebhookParseError("Telnyx webhook body is not valid JSON", { cause: error });
  }

  const object = asObject(value);

  if (object === undefined) {
    throw new WebhookParseError("Telnyx webhook body must be a JSON object");
  }

  return object;
}

// Counts brackets outside strings; JSON.parse rejects what this miscounts.
function nestingDepth(text: string): number {
  let depth = 0;
  let deepest = 0;
  let inString = false;

  for (let index = 0; index < text.length; index += 1) {
    const char = text[index];

    if (inString) {
      index += char === "\\" ? 1 : 0;
      inString = char !== '"';
    } else if (char === '"') {
      inString = true;
    } else if (char === "{" || char === "[") {
      depth += 1;
      deepest = Math.max(deepest, depth);
    } else if (char === "}" || char === "]") {
      depth -= 1;
    }
  }

  return deepest;
}

/** Returns the value as an object, or `undefined` for anything else (arrays included). */
export function asObject(value: unknown): JsonObject | undefined {
  return typeof value === "object" && value !== null && !Array.isArray(value)
    ? (value as JsonObject)
    : undefined;
}

/** Reads an own property, never one of the prototype. */
export function field(object: JsonObject | undefined, name: string): unknown {
  return object !== undefined && Object.hasOwn(object, name) ? object[name] : undefined;
}

/** Reads a non-empty string property. */
export function text(object: JsonObject | undefined, name: string): string | undefined {
  const value = field(object, name);

  return typeof value === "string" && value.trim() !== "" ? value : undefined;
}

/** Reads a string property that must be present. */
export function requireText(object: JsonObject | undefined, name: string, where: string): string {
  const value = text(object, name);

  if (value === undefined) {
    throw new WebhookParseError(`Telnyx webhook has no ${where}.${name}`);
  }

  return value;
}

/** Reads `{ "phone_number": "+1..." }` as a sender identity. */
export function phoneOf(value: unknown, where: string): SenderIdentity | undefined {
  const number = text(asObject(value), "phone_number");

  if (number === undefined) {
    return undefined;
  }

  try {
    return parseSenderIdentity(number);
  } catch (error) {
    const detail = error instanceof Error ? error.message : String(error);

    throw new WebhookParseError(`Telnyx webhook ${where} is not a valid sender: ${detail}`, {
      cause: error,
    });
  }
}

/** Reads an ISO 8601 time; anything else gives `undefined`. */
export function timeOf(value: unknown): Date | undefined {
  const time = typeof value === "string" ? Date.parse(value) : Number.NaN;

  return Number.isFinite(time) ? new Date(time) : undefined;
}
