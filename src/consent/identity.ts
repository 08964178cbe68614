/**
 * Consent identities in canonical form: the exact text under which the gateway writes and
 * reads the consent of a person or a sender. Stores compare identities as strings, so an
 * opt-out stored under another spelling of a number would never block a send to it.
 */

import { cleanPhoneText } from "../phone/text.js";
import { isPseudonym, pseudonymPrefix } from "./erasure.js";

/** An E.164 number: `+`, then 2 to 15 ASCII digits, the first of them 1 to 9. */
const e164Number = /^\+[1-9]\d{1,14}$/;

/** A short code: 3 to 8 ASCII digits, the lengths that `parseSenderIdentity` reads as one. */
const shortCode = /^\d{3,8}$/;

/**
 * A Twilio SID: two capital letters that name the kind of resource, then 32 hex digits.
 * Events name a messaging service (`MG…`), a Conversations service (`IS…`) or an account
 * (`AC…`) as their sender.
 */
const providerSid = /^[A-Z]{2}[0-9a-fA-F]{32}$/;

/** An alphanumeric sender ID: 1 to 11 characters from the GSM-safe set, with a letter. */
const alphanumericId = /^(?=.*[A-Za-z])[A-Za-z0-9 .\-&_]{1,11}$/;

/**
 * `whatsapp:+12025550143`: a URI scheme, a colon and an address without whitespace or
 * control characters.
 */
const channelAddress = /^[A-Za-z][A-Za-z0-9+.-]*:[^\s\p{Cc}]+$/u;

/** `tel:` URIs are phone numbers, not channels. */
const telUri = /^tel:/i;

/** Digits with the punctuation people write phone numbers with. */
const punctuatedNumber = /^[\d\s+().-]+$/;

/**
 * Checks whether a value is a consent identity in the form the gateway writes: an E.164
 * number, a short code, an alphanumeric sender ID, a Twilio SID such as a messaging service
 * SID, a channel address or an erasure pseudonym. Whitespace is accepted only as single
 * spaces inside an alphanumeric sender ID, which providers allow.
 *
 * @example isCanonicalIdentity("+12025550152") // true
 * @example isCanonicalIdentity("+1 202-555-0152") // false
 */
export function isCanonicalIdentity(value: unknown): value is string {
  return typeof value === "string" && isCanonicalKind(value);
}

/**
 * Explains why a string is not a canonical consent identity, or returns `undefined` when it
 * is one. The reason is a clause about the value, such as "contains whitespace".
 */
export function findIdentityProblem(value: string): string | undefined {
  if (isCanonicalKind(value)) {
    return undefined;
  }

  const cleaned = cleanPhoneText(value);

  // Single spaces between words are allowed in an alphanumeric sender ID.
  if (/\s/.test(value) && (cleaned !== value || !/[A-Za-z]/.test(value))) {
    return "contains whitespace";
  }

  if (cleaned !== value) {
    return "contains invisible characters, or digits or plus signs outside ASCII";
  }

  const control = /\p{Cc}/u.exec(value)?.[0];
  if (control !== undefined) {
    const code = control.charCodeAt(0).toString(16).toUpperCase().padStart(4, "0");

    return `contains the control character U+${code}`;
  }

  if (value.startsWith("+")) {
    return "has other characters than 2 to 15 ASCII digits after the +, or starts them with 0";
  }

  if (value.startsWith("00") && /^\d+$/.test(value)) {
    return "starts with the international prefix 00 in place of +";
  }

  if (/^\d+$/.test(value)) {
    return `has ${value.length} digits, but a short code has 3 to 8 and an E.164 number starts with +`;
  }

  if (punctuatedNumber.test(value)) {
    return "contains punctuation between the digits";
  }

  if (value.startsWith(pseudonymPrefix)) {
    return `is no pseudonym, which is ${pseudonymPrefix} followed by 64 lowercase hex digits`;
  }

  if (telUri.test(value)) {
    return "is a tel: URI, not the number itself";
  }

  return (
    "is no phone number, short code, alphanumeric sender ID of up to 11 characters, " +
    "Twilio SID, channel address or pseudonym"
  );
}

function isCanonicalKind(value: string): boolean {
  if (e164Number.test(value) || shortCode.test(value) || providerSid.test(value)) {
    return true;
  }

  if (value.startsWith(pseudonymPrefix)) {
    return isPseudonym(value);
  }

  // parseSenderIdentity returns the other kinds as cleaned text, so text that cleaning would
  // change is never what a webhook stored.
  if (cleanPhoneText(value) !== value) {
    return false;
  }

  if (channelAddress.test(value)) {
    // NOTE: the address of a channel is kept as the provider sent it, so
    // `whatsapp:+1-202-555-0143` is accepted, and it is another key than
    // `whatsapp:+12025550143`.
    return !telUri.test(value);
  }

  return alphanumericId.test(value);
}
