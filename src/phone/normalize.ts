import { Metadata } from "libphonenumber-js/core";
import {
  type CountryCode,
  isSupportedCountry,
  type PhoneNumber as LibPhoneNumber,
  parsePhoneNumberWithError,
} from "libphonenumber-js/max";
import maxMetadata from "libphonenumber-js/max/metadata";
import { ConfigError, redactPhone } from "../errors.js";
import { readExactE164 } from "./e164.js";
import { invalidPhoneNumber } from "./invalid.js";
import { cleanPhoneText, describeInput, textProblem } from "./text.js";

export type { CountryCode } from "libphonenumber-js/max";

/** A valid phone number in E.164 form, with its extension kept apart. */
export interface PhoneNumber {
  /** `+12025550143`: the number messages go to and the key opt-outs are stored under. */
  e164: string;
  /** Extension digits (`12` for `… ext. 12`); never part of {@link PhoneNumber.e164}. */
  extension?: string | undefined;
  /** Region the number belongs to; absent for non-geographic numbers such as +800. */
  country?: CountryCode | undefined;
}

/** Options for reading numbers written without a country code. */
export interface NormalizeOptions {
  /**
   * Region for numbers in national format (`(202) 555-0143`) and for that region's
   * international prefix (`011 44 …` from the US, `0044 …` from most of Europe).
   * No region is ever assumed when this is absent.
   * @default undefined
   * @example "US"
   */
  defaultRegion?: CountryCode | undefined;
  /**
   * Read a leading `00` as `+` when no `defaultRegion` is set, so that `0044 7400 123456`
   * becomes +447400123456. Off by default, because `00` is not the international prefix
   * everywhere (it is `011` in North America).
   * @default false
   */
  internationalPrefix00?: boolean | undefined;
}

const e164Syntax = /^\+[1-9]\d{1,14}$/;

/** The scheme of an RFC 3966 `tel:` URI; the rest (`+1-202-555-0143;ext=12`) is a number. */
const telScheme = /^tel:/i;

/** Checks that a value has E.164 syntax (`+` and 2 to 15 digits); validity is not checked. */
export function isE164(value: string): boolean {
  return typeof value === "string" && e164Syntax.test(value);
}

/**
 * Normalises a phone number to E.164 and checks that it is a valid number (libphonenumber's
 * full metadata). Extensions are split off, never glued onto the number.
 *
 * A number starting with `+` (or a `tel:` URI) needs no region. Anything else is read relative to
 * `options.defaultRegion` only: in its national format or after its international prefix.
 *
 * @throws InvalidPhoneNumberError when the input is not a valid number. The message names
 *   the input, masked by `quoteRedacted`, and what to change.
 * @throws ConfigError when `defaultRegion` is not a supported ISO 3166-1 alpha-2 code.
 * @example normalizePhoneNumber("(202) 555-0143 x12", { defaultRegion: "US" })
 *   // { e164: "+12025550143", extension: "12", country: "US" }
 */
export function normalizePhoneNumber(input: string, options: NormalizeOptions = {}): PhoneNumber {
  const region = checkRegion(options.defaultRegion);

  return normalizeCleanText(input, cleanInput(input), region, options.internationalPrefix00);
}

/**
 * Normalises `text`, the result of {@link cleanInput} on `input`, with a region already
 * checked by {@link checkRegion}. Errors name `input`.
 */
export function normalizeCleanText(
  input: string,
  text: string,
  region: CountryCode | undefined,
  internationalPrefix00: boolean | undefined,
): PhoneNumber {
  const exact = readExactE164(text);

  if (exact !== undefined) {
    return exact.country === undefined ? { e164: exact.e164 } : exact;
  }

  const number = text.replace(telScheme, "");
  const international = !region && internationalPrefix00 && number.startsWith("00");

  return parseValid(input, international ? `+${number.slice(2)}` : number, region);
}

/**
 * Normalises an international number written without `+`, such as Vonage's `msisdn`
 * (`12025550143`). The digits are read as country code first; no region is involved.
 *
 * @throws InvalidPhoneNumberError when the value is not only digits or not a valid number.
 */
export function normalizeInternationalDigits(input: string): PhoneNumber {
  const text = cleanInput(input);
  const digits = text.startsWith("+") ? text.slice(1) : text;

  if (!/^\d+$/.test(digits)) {
    throw invalidPhoneNumber(
      input,
      "expected only the digits of an international number, country code first (12025550143)",
    );
  }

  if (digits.startsWith("0")) {
    throw invalidPhoneNumber(
      input,
      "an international number starts with its country code, not 0; is it in national format?",
    );
  }

  return parseValid(input, `+${digits}`, undefined);
}

/** Checks the input is usable text and returns it cleaned (see {@link cleanPhoneText}). */
export function cleanInput(input: unknown): string {
  // Text in exact E.164 form is ASCII without spaces, so cleaning would return it unchanged.
  if (typeof input === "string" && e164Syntax.test(input)) {
    return input;
  }

  const problem = textProblem(input);
  if (problem) {
    throw invalidPhoneNumber(describeInput(input), problem);
  }

  const text = cleanPhoneText(input as string);
  if (text === "") {
    throw invalidPhoneNumber(input as string, "empty");
  }

  return text;
}

/** Returns the region when it is absent or supported; throws a {@link ConfigError} otherwise. */
export function checkRegion(region: string | undefined): CountryCode | undefined {
  if (region === undefined || isSupportedCountry(region)) {
    return region;
  }

  throw new ConfigError(
    "defaultRegion",
    `${JSON.stringify(region)} is not a supported region; use an upper-case ISO 3166-1 code such as "US"`,
  );
}

/**
 * Reads a number in international form, `+` and country code first, whose length is
 * possible for its country although the bundled metadata does not call it valid, such as a
 * number of a range opened after that metadata was made. Returns `undefined` for any other
 * input. Senders of inbound webhooks are read with it, so that their opt-outs are recorded.
 */
export function readPossibleInternational(input: string): PhoneNumber | undefined {
  const text = cleanInput(input);

  if (!text.startsWith("+")) {
    return undefined;
  }

  try {
    const parsed = parsePhoneNumberWithError(text, { extract: false });

    return parsed.isPossible() && parsed.ext === undefined ? { e164: parsed.number } : undefined;
  } catch {
    return undefined;
  }
}

function parseValid(input: string, text: string, region: CountryCode | undefined): PhoneNumber {
  let parsed: LibPhoneNumber;
  try {
    // `extract: false`: the whole text must be the number, not merely contain one.
    parsed = parsePhoneNumberWithError(text, { defaultCountry: region, extract: false });
  } catch (error) {
    throw invalidPhoneNumber(input, parseFailure(error, text, region), { cause: error });
  }

  if (!parsed.isValid()) {
    throw invalidPhoneNumber(input, invalidNumber(parsed, text, region));
  }

  const result: PhoneNumber = { e164: parsed.number };
  if (parsed.ext) {
    result.extension = parsed.ext;
  }
  if (parsed.country) {
    result.country = parsed.country;
  }

  return result;
}

function parseFailure(error: unknown, text: string, region: CountryCode | undefined): string {
  const reason = error instanceof Error ? error.message : "";

  if (!/\d/.test(text)) {
    return "contains no digits";
  }

  if (reason === "INVALID_COUNTRY") {
    return missingCountry(text, region);
  }

  if (reason === "TOO_SHORT") {
    return "too short to be a phone number";
  }

  if (reason === "TOO_LONG") {
    return "too many digits for a phone number (E.164 allows 15)";
  }

  return "not a phone number: use digits, spaces, ( ) - . and an optional + or extension";
}

function missingCountry(text: string, region: CountryCode | undefined): string {
  if (text.startsWith("+")) {
    return "unknown country calling code after +";
  }

  if (region) {
    return `not a ${region} number`;
  }

  if (text.startsWith("00")) {
    // `internationalPrefix00` is an option of this function only, so the message leaves it
    // out: the Gateway and the CLI take a `defaultRegion` but no such option.
    return (
      "starts with an international prefix but no defaultRegion is configured; " +
      "write it as +<country code>… in place of 00, or configure defaultRegion"
    );
  }

  return "no country code; write it as +<country code>… or configure defaultRegion";
}

function invalidNumber(parsed: LibPhoneNumber, text: string, region: CountryCode | undefined) {
  const read = `read as ${redactPhone(parsed.number)}, which is not a valid number`;

  if (!region || text.startsWith("+")) {
    return read;
  }

  const prefix = internationalPrefix(region);
  const dialled = prefix ? ` or ${region}'s international prefix ${prefix}` : "";

  return `${read} in ${region}; write an international number with +<country code>${dialled}`;
}

/** Returns the prefix dialled from a region to call abroad, when it is a single one. */
function internationalPrefix(region: CountryCode): string | undefined {
  const metadata = new Metadata(maxMetadata);
  metadata.selectNumberingPlan(region);
  const plan = metadata.numberingPlan;
  const prefix = plan?.defaultIDDPrefix() ?? plan?.IDDPrefix();

  return prefix && /^\d+$/.test(prefix) ? prefix : undefined;
}
