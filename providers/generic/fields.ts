import { WebhookParseError } from "../../src/errors.js";
import { type FormPair, formFieldsToRecord, parseFormBody } from "../../src/http/form.js";
import {
  isJsonMediaType,
  mediaTypeOf,
  queryOf,
  usesQueryFields,
} from "../../src/http/webhook-request.js";
import { parseSenderIdentity } from "../../src/phone/sender.js";
import type { SenderIdentity, WebhookRequest } from "../../src/provider.js";

/** Deepest nesting of a JSON webhook body that is read. Webhook payloads nest a few levels. */
export const MAX_JSON_DEPTH = 64;

const utf8 = new TextDecoder("utf-8", { fatal: true });

/**
 * Reads a dotted path (`messages.0.id`) in a parsed JSON value. A numeric segment indexes
 * an array. Only own properties are read, so `__proto__` or `constructor` never reach an
 * object's prototype. A key that itself contains a dot cannot be addressed.
 */
export function readPath(root: unknown, path: string): unknown {
  let node = root;

  for (const segment of path.split(".")) {
    if (Array.isArray(node)) {
      node = /^\d+$/.test(segment) ? node[Number(segment)] : undefined;
    } else if (typeof node === "object" && node !== null && Object.hasOwn(node, segment)) {
      node = (node as Record<string, unknown>)[segment];
    } else {
      return undefined;
    }
  }

  return node;
}

/** Returns a string, number or boolean as text, and `undefined` for anything else. */
export function scalarText(value: unknown): string | undefined {
  if (typeof value === "string") {
    return value;
  }

  if ((typeof value === "number" && Number.isFinite(value)) || typeof value === "boolean") {
    return String(value);
  }

  return undefined;
}

/**
 * Parses text as JSON after checking that it nests at most {@link MAX_JSON_DEPTH} levels,
 * so that no later step (the gateway's outbox, a logger) overflows the stack on it.
 *
 * @throws {WebhookParseError} for invalid UTF-8, invalid JSON or deeper nesting.
 */
export function parseJsonBody(body: Uint8Array, label: string): unknown {
  let text: string;

  try {
    text = utf8.decode(body);
  } catch (error) {
    throw new WebhookParseError(`${label} body is not valid UTF-8`, { cause: error });
  }

  if (jsonDepth(text) > MAX_JSON_DEPTH) {
    throw new WebhookParseError(`${label} body nests deeper than ${MAX_JSON_DEPTH} levels`);
  }

  try {
    return JSON.parse(text);
  } catch (error) {
    throw new WebhookParseError(`${label} body is not valid JSON`, { cause: error });
  }
}

// Counts brackets outside strings. Invalid JSON may count wrong, but JSON.parse rejects it.
function jsonDepth(text: string): number {
  let depth = 0;
  let deepest = 0;
  let inString = false;

  for (let index = 0; index < text.length; index += 1) {
    const char = text[index];

    if (inString) {
      if (char === "\\") {
        index += 1;
      } else if (char === '"') {
        inString = false;
      }
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

/** Checks whether the declared content type, if any, fits the expected format. */
function checkContentType(request: WebhookRequest, format: "json" | "form", label: string) {
  const type = mediaTypeOf(request);
  const json = isJsonMediaType(type);
  const form = type === "application/x-www-form-urlencoded";

  if (type === "" || (format === "json" ? json : form)) {
    return;
  }

  const expected = format === "json" ? "application/json" : "application/x-www-form-urlencoded";

  throw new WebhookParseError(
    `${label} has content type ${JSON.stringify(type)}, but ${expected} is configured`,
  );
}

/** The fields of one webhook, read from a JSON body, a form body or a GET query. */
export class GenericFields {
  /** The parsed body: a JSON object, or the form fields with repeated names as arrays. */
  readonly record: Record<string, unknown>;
  readonly #format: "json" | "form";
  readonly #pairs: FormPair[];
  readonly #query: FormPair[] | undefined;
  readonly #label: string;

  /** @throws {WebhookParseError} when the body cannot be read in the configured format. */
  constructor(request: WebhookRequest, format: "json" | "form", label: string) {
    this.#format = format;
    this.#label = label;
    checkContentType(request, format, label);

    if (format === "form") {
      this.#pairs = parseFormBody(usesQueryFields(request) ? queryOf(request.url) : request.body);
      this.record = formFieldsToRecord(this.#pairs);
    } else {
      checkJsonRequestHasBody(request, label);
      this.#pairs = [];
      this.record = readJsonObject(request.body, label);
    }

    this.#query = safeQuery(request.url);
  }

  /** Returns the value at a path (JSON) or of a field (form) as text, untrimmed. */
  raw(path: string): string | undefined {
    if (this.#format === "form") {
      return this.#pairs.find(([name]) => name === path)?.[1];
    }

    return scalarText(readPath(this.record, path));
  }

  /**
   * Returns a field that may be absent, such as a message text, as sent. A JSON object or
   * array there is rejected, because reading it as no text would hide an opt-out in it.
   *
   * @throws {WebhookParseError} naming the field and the type received.
   */
  optionalScalar(path: string, description: string): string | undefined {
    if (this.#format === "json") {
      const value = readPath(this.record, path);

      if (value !== undefined && value !== null && scalarText(value) === undefined) {
        const type = Array.isArray(value) ? "an array" : `a value of type ${typeof value}`;

        throw new WebhookParseError(
          `${this.#label} has ${type} as its ${description} at ${JSON.stringify(path)}, but ` +
            "a string is expected; check the webhooks mapping",
        );
      }
    }

    return this.raw(path);
  }

  /** Returns the value trimmed, or `undefined` when absent or blank. */
  text(path: string): string | undefined {
    const value = this.raw(path)?.trim();

    return value === undefined || value === "" ? undefined : value;
  }

  /** Returns the first value of a query parameter of the webhook URL. */
  queryParam(name: string): string | undefined {
    return this.#query?.find(([key]) => key === name)?.[1];
  }

  /** Reads a field that must be present. */
  require(path: string, description: string): string {
    const value = this.text(path);

    if (value === undefined) {
      throw new WebhookParseError(
        `${this.#label} has no ${description} at ${JSON.stringify(path)}`,
      );
    }

    return value;
  }

  /** Parses a sender field. A short code takes its country from `counterpart`. */
  sender(
    value: string,
    path: string,
    internationalDigits: boolean,
    counterpart?: string,
  ): SenderIdentity {
    try {
      return parseSenderIdentity(value, { internationalDigits, counterpart });
    } catch (error) {
      const detail = error instanceof Error ? error.message : String(error);

      throw new WebhookParseError(
        `${this.#label} field ${JSON.stringify(path)} is not a valid sender: ${detail}`,
        { cause: error },
      );
    }
  }
}

// A GET without a body would otherwise fail as invalid JSON, which hides the cause.
function checkJsonRequestHasBody(request: WebhookRequest, label: string): void {
  if (!usesQueryFields(request) || request.body.length > 0) {
    return;
  }

  const method = request.method.toUpperCase();

  throw new WebhookParseError(
    `${label} is a ${method} request without a body. A ${method} carries its fields in the ` +
      `URL's query, which only webhooks.format "form" reads, and this configuration reads ` +
      "a JSON body",
  );
}

function readJsonObject(body: Uint8Array, label: string): Record<string, unknown> {
  const value = parseJsonBody(body, label);

  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    throw new WebhookParseError(`${label} body must be a JSON object`);
  }

  return value as Record<string, unknown>;
}

// A query that is not a valid form has no parameters to match.
function safeQuery(url: string): FormPair[] | undefined {
  try {
    return parseFormBody(queryOf(url));
  } catch {
    return undefined;
  }
}

/**
 * Reads a time as Unix seconds, or as text that `Date.parse` reads (such as ISO 8601).
 * Anything else gives `undefined`.
 */
export function parseGenericTime(value: string | undefined): Date | undefined {
  if (value === undefined) {
    return undefined;
  }

  const time = /^\d{1,12}$/.test(value) ? Number(value) * 1000 : Date.parse(value);

  return Number.isFinite(time) ? new Date(time) : undefined;
}
