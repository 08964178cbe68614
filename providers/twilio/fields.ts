import type { CountryCode } from "libphonenumber-js";
import { WebhookParseError } from "../../src/errors.js";
import { type FormPair, formFieldsToRecord, parseFormBody } from "../../src/http/form.js";
import { queryOf, usesQueryFields } from "../../src/http/webhook-request.js";
import { parseSenderIdentity } from "../../src/phone/sender.js";
import type { InboundMedia, SenderIdentity, WebhookRequest } from "../../src/provider.js";

const SID_FIELDS = ["MessageSid", "SmsMessageSid", "SmsSid"] as const;

/**
 * Turns a JSON object into form-like pairs so that it reads like a form webhook. Strings are
 * kept, numbers and booleans become text, an array gives one pair per element, and nested
 * objects stay as JSON text.
 *
 * @throws {WebhookParseError} when the body is not a JSON object.
 */
export function jsonBodyToPairs(body: Uint8Array): FormPair[] {
  let parsed: unknown;

  try {
    parsed = JSON.parse(new TextDecoder("utf-8", { fatal: true }).decode(body));
  } catch (error) {
    throw new WebhookParseError("Twilio webhook body is not valid UTF-8 JSON", { cause: error });
  }

  if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed)) {
    throw new WebhookParseError("Twilio webhook JSON body must be an object of fields");
  }

  const pairs: FormPair[] = [];

  for (const [name, value] of Object.entries(parsed)) {
    for (const item of Array.isArray(value) ? value : [value]) {
      pairs.push([name, jsonValueToText(item)]);
    }
  }

  return pairs;
}

function jsonValueToText(value: unknown): string {
  if (typeof value === "string") {
    return value;
  }

  if (value === null || value === undefined) {
    return "";
  }

  return typeof value === "object" ? JSON.stringify(value) : String(value);
}

/** The fields last parsed from a request, with the query or body they were parsed from. */
const parsedFields = new WeakMap<
  WebhookRequest,
  { source: string | Uint8Array; pairs: readonly FormPair[] }
>();

/**
 * Parses the form fields of a GET query or a form body. Verification and parsing both read
 * the fields of one request, so the pairs are kept for the request object and returned
 * again while its query (for a GET) or its body object is the same. The pairs are frozen,
 * because both readers share them.
 */
export function readFormFields(request: WebhookRequest): readonly FormPair[] {
  const source = usesQueryFields(request) ? queryOf(request.url) : request.body;
  const cached = parsedFields.get(request);

  if (cached !== undefined && cached.source === source) {
    return cached.pairs;
  }

  const pairs = Object.freeze(parseFormBody(source));

  parsedFields.set(request, { source, pairs });
  return pairs;
}

/** First values of the webhook's fields, with the readers the parsers share. */
export class TwilioFields {
  /** The fields by name. The readers take a repeated name's first value from its array. */
  readonly record: Record<string, string | string[]>;
  readonly #defaultRegion: CountryCode | undefined;

  constructor(pairs: readonly FormPair[], defaultRegion?: CountryCode) {
    this.record = formFieldsToRecord(pairs);
    this.#defaultRegion = defaultRegion;
  }

  /** Returns the first value exactly as sent, empty or not. */
  raw(name: string): string | undefined {
    const value = Object.hasOwn(this.record, name) ? this.record[name] : undefined;

    return Array.isArray(value) ? value[0] : value;
  }

  /** Returns the first value, or `undefined` when the field is absent or empty. */
  text(name: string): string | undefined {
    const value = this.raw(name);

    return value === undefined || value === "" ? undefined : value;
  }

  /** Reads a non-negative whole number, or `undefined` when absent or not a number. */
  count(name: string): number | undefined {
    const value = this.text(name);

    return value !== undefined && /^\d{1,6}$/.test(value) ? Number(value) : undefined;
  }

  /** Reads `MessageSid`, falling back to its legacy twins `SmsMessageSid` and `SmsSid`. */
  messageId(): string {
    for (const name of SID_FIELDS) {
      const value = this.text(name);

      if (value !== undefined) {
        return value;
      }
    }

    throw new WebhookParseError(
      "Twilio webhook has no MessageSid (nor SmsMessageSid or SmsSid); " +
        "it is not a Twilio Messaging webhook",
    );
  }

  /** Parses a sender field that must be present, such as `From` of an inbound message. */
  requireSender(name: string, counterpart: string): SenderIdentity {
    const sender = this.optionalSender(name, counterpart);

    if (sender === undefined) {
      throw new WebhookParseError(`Twilio webhook has no ${name} field`);
    }

    return sender;
  }

  /**
   * Parses a sender field when present. A short code takes its country from the
   * `counterpart` field.
   */
  optionalSender(name: string, counterpart: string): SenderIdentity | undefined {
    const value = this.text(name);

    if (value === undefined) {
      return undefined;
    }

    try {
      return parseSenderIdentity(value, {
        defaultRegion: this.#defaultRegion,
        counterpart: this.text(counterpart),
      });
    } catch (error) {
      const detail = error instanceof Error ? error.message : String(error);

      throw new WebhookParseError(`Twilio webhook field ${name} is not a valid sender: ${detail}`, {
        cause: error,
      });
    }
  }

  // Media fields are numbered from 0. Without a usable NumMedia, the numbered fields present
  // from MediaUrl0 on are read, and more than the field count cannot exist.
  media(): InboundMedia[] {
    const declared = this.count("NumMedia");
    const limit =
      declared === 0
        ? 0
        : Math.min(declared ?? Number.POSITIVE_INFINITY, Object.keys(this.record).length);
    const media: InboundMedia[] = [];

    for (let index = 0; index < limit; index += 1) {
      const url = this.text(`MediaUrl${index}`);

      if (url === undefined) {
        if (declared === undefined) {
          break;
        }

        continue;
      }

      media.push({ url, contentType: this.text(`MediaContentType${index}`) });
    }

    return media;
  }
}
