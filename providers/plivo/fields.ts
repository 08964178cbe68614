import { WebhookParseError } from "../../src/errors.js";
import { type FormPair, formFieldsToRecord, parseFormBody } from "../../src/http/form.js";
import { queryOf, usesQueryFields } from "../../src/http/webhook-request.js";
import { parseSenderIdentity } from "../../src/phone/sender.js";
import type { InboundMedia, SenderIdentity, WebhookRequest } from "../../src/provider.js";

/**
 * Parses the fields of a webhook: the query string of a GET, else the form body.
 *
 * @throws {WebhookParseError} for a malformed form or invalid UTF-8.
 */
export function readFormFields(request: WebhookRequest): FormPair[] {
  return usesQueryFields(request)
    ? parseFormBody(queryOf(request.url))
    : parseFormBody(request.body);
}

/**
 * Reads a Plivo timestamp, `YYYY-mm-dd HH:MM:SS` with up to six digits of fractional
 * seconds and an optional zone (`Z`, `+05:30`). An impossible date gives `undefined`: the
 * field is informational and stays in `raw`, so it must not cost the webhook.
 */
export function parsePlivoTimestamp(value: string | undefined): Date | undefined {
  const pattern =
    /^(\d{4})-(\d{2})-(\d{2})[ T](\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,6}))?(Z|[+-]\d{2}:?\d{2})?$/;
  const match = pattern.exec(value?.trim() ?? "");

  if (match === null) {
    return undefined;
  }

  const part = (index: number): number => Number(match[index] ?? "0");
  const parts = [part(1), part(2) - 1, part(3), part(4), part(5), part(6)] as const;
  const date = new Date(Date.UTC(...parts));

  if (!sameParts(date, parts)) {
    return undefined;
  }

  const milliseconds = Number((match[7] ?? "").padEnd(3, "0").slice(0, 3));
  const offset = zoneOffsetMinutes(match[8]);

  if (offset === undefined) {
    return undefined;
  }

  return new Date(date.getTime() + milliseconds - offset * 60_000);
}

// Date.UTC rolls an impossible part over (month 13, hour 25), which changes the others.
function sameParts(date: Date, parts: readonly number[]): boolean {
  const roundTrip = [
    date.getUTCFullYear(),
    date.getUTCMonth(),
    date.getUTCDate(),
    date.getUTCHours(),
    date.getUTCMinutes(),
    date.getUTCSeconds(),
  ];

  return roundTrip.every((value, index) => value === parts[index]);
}

// NOTE: Plivo documents these fields without a zone, so a value without an offset is read
// as UTC. That zone is an assumption, not confirmed by Plivo's documentation.
function zoneOffsetMinutes(zone: string | undefined): number | undefined {
  if (zone === undefined || zone === "Z") {
    return 0;
  }

  const digits = zone.replace(":", "");
  const hours = Number(digits.slice(1, 3));
  const minutes = Number(digits.slice(3, 5));

  if (hours > 23 || minutes > 59) {
    return undefined;
  }

  return (zone.startsWith("-") ? -1 : 1) * (hours * 60 + minutes);
}

/** First values of the webhook's fields, with the readers the parsers share. */
export class PlivoFields {
  readonly record: Record<string, string | string[]>;
  readonly #first = new Map<string, string>();

  constructor(pairs: FormPair[]) {
    this.record = formFieldsToRecord(pairs);

    for (const [name, value] of pairs) {
      if (!this.#first.has(name)) {
        this.#first.set(name, value);
      }
    }
  }

  /** Returns the first value exactly as sent, empty or not. */
  raw(name: string): string | undefined {
    return this.#first.get(name);
  }

  /** Returns the first value trimmed, or `undefined` when the field is absent or blank. */
  text(name: string): string | undefined {
    const value = this.#first.get(name)?.trim();

    return value === undefined || value === "" ? undefined : value;
  }

  /** Reads a non-negative whole number, or `undefined` when absent or not a number. */
  count(name: string): number | undefined {
    const value = this.text(name);

    return value !== undefined && /^\d{1,6}$/.test(value) ? Number(value) : undefined;
  }

  /** Reads a timestamp field with {@link parsePlivoTimestamp}. */
  time(name: string): Date | undefined {
    return parsePlivoTimestamp(this.text(name));
  }

  /** Reads a field that must be present, such as `MessageUUID`. */
  require(name: string, hint: string): string {
    const value = this.text(name);

    if (value === undefined) {
      throw new WebhookParseError(`Plivo webhook has no ${name} field, so ${hint}`);
    }

    return value;
  }

  /** Parses a sender field that must be present, such as `From` of an inbound message. */
  requireSender(name: string, counterpart: string): SenderIdentity {
    const sender = this.optionalSender(name, counterpart);

    if (sender === undefined) {
      throw new WebhookParseError(`Plivo webhook has no ${name} field`);
    }

    return sender;
  }

  /**
   * Parses a sender field when present. Plivo writes numbers as international digits
   * without `+` (`14155550100`), which are read country code first and never through a
   * default region. A short code takes its country from the `counterpart` field.
   */
  optionalSender(name: string, counterpart: string): SenderIdentity | undefined {
    const value = this.text(name);

    if (value === undefined) {
      return undefined;
    }

    try {
      return parseSenderIdentity(value, {
        internationalDigits: true,
        counterpart: asE164(this.text(counterpart)),
      });
    } catch (error) {
      const detail = error instanceof Error ? error.message : String(error);

      throw new WebhookParseError(`Plivo webhook field ${name} is not a valid sender: ${detail}`, {
        cause: error,
      });
    }
  }

  /**
   * Reads MMS media, `Media1` to `MediaN` with `N` from `MediaCount`. Without a usable
   * count, the numbered fields present from `Media1` on are read. More media than fields
   * cannot exist, which bounds a huge `MediaCount`.
   */
  media(): InboundMedia[] {
    const declared = this.count("MediaCount");
    const limit = Math.min(declared ?? Number.POSITIVE_INFINITY, this.#first.size);
    const media: InboundMedia[] = [];

    for (let index = 1; index <= limit; index += 1) {
      const url = this.text(`Media${index}`);

      if (url === undefined) {
        if (declared === undefined) {
          break;
        }

        continue;
      }

      media.push({ url });
    }

    return media;
  }
}

function asE164(value: string | undefined): string | undefined {
  return value !== undefined && /^\d+$/.test(value) ? `+${value}` : value;
}
