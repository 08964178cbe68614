import { InvalidPhoneNumberError } from "../errors.js";
import type { SenderIdentity } from "../provider.js";
import { invalidPhoneNumber } from "./invalid.js";
import {
  type CountryCode,
  checkRegion,
  cleanInput,
  type NormalizeOptions,
  normalizeCleanText,
  normalizeInternationalDigits,
  normalizePhoneNumber,
  type PhoneNumber,
  readPossibleInternational,
} from "./normalize.js";

/** Options of {@link parseSenderIdentity}. */
export interface SenderOptions {
  /** Region for numbers in national format. No region is assumed when absent. */
  defaultRegion?: CountryCode | undefined;
  /**
   * The other party of the message, in E.164 form. A short code takes its country from it:
   * the short code `55501` that texted +12025550100 is a US short code.
   */
  counterpart?: string | undefined;
  /**
   * Read digit strings longer than a short code as international numbers without `+`
   * (Vonage `msisdn`), never through `defaultRegion`.
   * @default false
   */
  internationalDigits?: boolean | undefined;
}

/** A recipient the send guard accepts: a phone number in E.164 form, or a short code. */
export interface Recipient {
  value: string;
  kind: "e164" | "shortcode";
  /** Extension digits written after the number; SMS goes to {@link Recipient.value}. */
  extension?: string | undefined;
}

/** Short codes: 3 to 8 digits. US short codes have 5 or 6 digits and UK ones 5. */
const shortCode = /^\d{3,8}$/;

/**
 * Maximum length of a recipient read as a short code when no region is configured. US short
 * codes have 5 or 6 digits. Singapore and Hong Kong numbers have 8 digits, so 7 or 8 digits
 * without a country code may be a national number, and they are rejected, not guessed.
 */
const maxShortCodeWithoutRegion = 6;

const ambiguousDigits =
  "7 or 8 digits with no country code may be a national number or a short code; " +
  "write it as +<country code>… or configure defaultRegion";

/** A Twilio messaging service SID. */
const serviceSid = /^MG[0-9a-fA-F]{32}$/;

/** `whatsapp:+1…`, `messenger:…`, `rcs:…`: a scheme, a colon and an address. */
const channelAddress = /^[A-Za-z][A-Za-z0-9+.-]*:\S+$/;

/** `tel:` URIs are phone numbers, not channels. */
const telUri = /^tel:/i;

/** An alphanumeric sender ID: 1 to 11 characters from the GSM-safe set, with a letter. */
const alphanumericId = /^(?=.*[A-Za-z])[A-Za-z0-9 .\-&_]{1,11}$/;

/**
 * Classifies and normalises a sender or recipient as a provider sent it: an E.164 number,
 * a short code, a messaging service, a channel address (`whatsapp:+1…`), an alphanumeric
 * sender ID, or else a national-format number read with `defaultRegion`.
 *
 * Short codes, services, channels and alphanumeric IDs are kept as given (after trimming and
 * removing invisible characters); a short code is never turned into `+1…`. A channel address
 * whose address part is an E.164 number takes that number's country. An extension on a
 * number is dropped: SMS cannot reach one.
 *
 * @throws InvalidPhoneNumberError when the value matches none of these forms.
 * @example parseSenderIdentity("55501", { counterpart: "+12025550100" })
 *   // { kind: "shortcode", value: "55501", country: "US" }
 */
export function parseSenderIdentity(input: string, options: SenderOptions = {}): SenderIdentity {
  const region = checkRegion(options.defaultRegion);
  const recent = recentInternational.get(input);

  if (recent !== undefined) {
    return { ...recent };
  }

  const text = cleanInput(input);

  if (text.startsWith("+")) {
    return rememberInternational(input, phoneIdentity(normalizeSignedSender(input)));
  }

  // NOTE: providers send phone numbers in E.164, so bare digits here are taken as a short
  // code even when they would be a valid national number in defaultRegion ("81234567" in SG).
  // normalizeRecipient prefers the national reading instead.
  if (shortCode.test(text)) {
    return withCountry({ kind: "shortcode", value: text }, e164Country(options.counterpart));
  }

  const kind = nonPhoneKind(text);
  if (kind === "channel") {
    return withCountry({ kind, value: text }, e164Country(channelNumber(text)));
  }

  if (kind) {
    return { kind, value: text };
  }

  if (!/\d/.test(text)) {
    throw invalidPhoneNumber(input, notSender);
  }

  if (options.internationalDigits && /^\d+$/.test(text)) {
    return phoneIdentity(normalizeInternationalDigits(input));
  }

  return phoneIdentity(normalizePhoneNumber(input, { defaultRegion: region }));
}

/**
 * Reads a sender that a caller typed, as {@link parseSenderIdentity} does. A string of 9 to
 * 15 digits that matches no other form is read as an international number without `+`, as
 * Vonage writes numbers. Send requests and opt-out scopes read senders this way, so that
 * `12025550100` names the same sender in both.
 *
 * @throws InvalidPhoneNumberError when the value matches none of these forms.
 */
export function parseTypedSender(input: string, options: SenderOptions = {}): SenderIdentity {
  try {
    return parseSenderIdentity(input, options);
  } catch (error) {
    if (!/^\d{9,15}$/.test(input.trim())) {
      throw error;
    }

    return parseSenderIdentity(input.trim(), { ...options, internationalDigits: true });
  }
}

/**
 * Normalises the recipient of a send: a phone number in any form
 * {@link normalizePhoneNumber} accepts, or a short code.
 *
 * Digits that form a valid number in `defaultRegion` are read as that number, so that an
 * opt-out stored under +6581234567 also blocks a send to `81234567` from Singapore. Other
 * strings of 3 to 8 digits are short codes. Without a region, only 3 to 6 digits are short
 * codes. Then 7 or 8 digits are rejected, because they may be a national number.
 *
 * @throws InvalidPhoneNumberError for alphanumeric sender IDs, messaging services, channel
 *   addresses and anything that is not a valid number.
 */
export function normalizeRecipient(input: string, options: NormalizeOptions = {}): Recipient {
  const text = cleanInput(input);

  if (shortCode.test(text)) {
    return nationalOrShortCode(input, text, options);
  }

  const kind = text.startsWith("+") ? undefined : nonPhoneKind(text);
  if (kind) {
    throw invalidPhoneNumber(input, notRecipient[kind]);
  }

  const region = checkRegion(options.defaultRegion);
  const phone = normalizeCleanText(input, text, region, options.internationalPrefix00);
  const recipient: Recipient = { value: phone.e164, kind: "e164" };
  if (phone.extension) {
    recipient.extension = phone.extension;
  }

  return recipient;
}

const notSender =
  "not a phone number, short code, messaging service, channel address or alphanumeric " +
  "sender ID (1 to 11 letters, digits, spaces and . - & _)";

const notRecipient = {
  alphanumeric: "an alphanumeric sender ID cannot receive messages; give a phone number",
  service: "a messaging service cannot receive messages; give a phone number",
  channel: "channel addresses are not SMS recipients; give the phone number itself",
} as const;

type NonPhoneKind = keyof typeof notRecipient;

function nonPhoneKind(text: string): NonPhoneKind | undefined {
  if (serviceSid.test(text)) {
    return "service";
  }

  if (channelAddress.test(text) && !telUri.test(text)) {
    return "channel";
  }

  return alphanumericId.test(text) ? "alphanumeric" : undefined;
}

function nationalOrShortCode(input: string, text: string, options: NormalizeOptions): Recipient {
  if (!options.defaultRegion) {
    if (text.length > maxShortCodeWithoutRegion) {
      throw invalidPhoneNumber(input, ambiguousDigits);
    }

    return { value: text, kind: "shortcode" };
  }

  try {
    return { value: normalizePhoneNumber(text, options).e164, kind: "e164" };
  } catch (error) {
    if (!(error instanceof InvalidPhoneNumberError)) {
      throw error;
    }
  }

  return { value: text, kind: "shortcode" };
}

/**
 * Senders written with `+` that parsed recently, by input text. Their reading depends on the
 * text alone, and webhooks repeat a few of them (the application's own numbers in `To`),
 * while a libphonenumber-js parse is the costliest step of reading a webhook. Callers get
 * copies. At most {@link maxRecentInternational} are kept, the oldest dropped first.
 */
const recentInternational = new Map<string, SenderIdentity>();

const maxRecentInternational = 1024;

function rememberInternational(input: string, identity: SenderIdentity): SenderIdentity {
  if (recentInternational.size >= maxRecentInternational) {
    const oldest = recentInternational.keys().next().value;

    if (oldest !== undefined) {
      recentInternational.delete(oldest);
    }
  }

  recentInternational.set(input, identity);
  return { ...identity };
}

/**
 * Normalises a sender written with `+`. A number whose length is possible is kept as given,
 * also when the metadata does not call it valid. A provider delivered a message from it, so
 * an opt-out it sends must be recorded even when the bundled metadata is older than the
 * number. Digits without `+`, such as a Vonage `msisdn`, get no such reading, because a
 * national number without its country code could then be taken for another country's.
 */
function normalizeSignedSender(input: string): PhoneNumber {
  try {
    return normalizePhoneNumber(input);
  } catch (error) {
    const possible = readPossibleInternational(input);

    if (possible === undefined) {
      throw error;
    }

    return possible;
  }
}

function phoneIdentity(phone: { e164: string; country?: string | undefined }): SenderIdentity {
  return withCountry({ kind: "e164", value: phone.e164 }, phone.country);
}

function withCountry(identity: SenderIdentity, country: string | undefined): SenderIdentity {
  if (country) {
    identity.country = country;
  }

  return identity;
}

/** Returns the address part of a channel address (`+1…` in `whatsapp:+1…`). */
function channelNumber(text: string): string {
  return text.slice(text.indexOf(":") + 1);
}

/** Country of a valid E.164 number; `undefined` for anything else, never guessed. */
function e164Country(value: string | undefined): string | undefined {
  if (typeof value !== "string" || !value.trim().startsWith("+")) {
    return undefined;
  }

  try {
    return normalizePhoneNumber(value).country;
  } catch {
    return undefined;
  }
}
