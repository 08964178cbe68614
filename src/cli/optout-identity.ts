/**
 * The identity that the `optout` commands take as NUMBER and that `optout import` reads
 * from its `phone` column: the key under which the store keeps a person's events.
 */

import { isPseudonym, pseudonymPrefix } from "../consent/erasure.js";
import { isInvalidPhoneNumberError } from "../errors.js";
import { type CountryCode, normalizeRecipient, parseSenderIdentity } from "../phone/index.js";
import { invalidPhoneNumber } from "../phone/invalid.js";
import type { SenderKind } from "../provider.js";

/** A normalised consent identity and what kind of value it is. */
export interface ConsentIdentity {
  value: string;
  kind: SenderKind | "pseudonym";
}

/** Kinds that the send guard never reads, because no message is sent to them. */
const nonRecipientKinds: ReadonlySet<ConsentIdentity["kind"]> = new Set([
  "alphanumeric",
  "service",
  "channel",
]);

/**
 * Normalises a consent identity. A phone number or short code is read as the send guard
 * reads a recipient, so an imported or manual block applies to the sends it should stop.
 * A value that is no recipient is read as the webhook path reads a sender, so a channel
 * address (`whatsapp:+1…`), an alphanumeric sender ID or a messaging service SID gets
 * the key its webhook events are stored under. So does a number written with `+` that the
 * phone metadata does not call valid but whose length is possible, which webhooks record
 * as given, so that its opt-outs can be read, changed and imported. A pseudonym stays as
 * given.
 *
 * NOTE: webhooks store any 3 to 8 digits as a short code, but here 7 or 8 digits are read
 * as a recipient is. They become a national number when they form one in `region`, and
 * without a region they are rejected, because they may be a number without its country.
 *
 * @throws InvalidPhoneNumberError (the recipient reading's error) when neither reading
 *   accepts the value.
 */
export function readConsentIdentity(
  text: string,
  region: CountryCode | undefined,
): ConsentIdentity {
  if (text.toLowerCase().startsWith(pseudonymPrefix)) {
    return { value: readPseudonym(text), kind: "pseudonym" };
  }

  try {
    const recipient = normalizeRecipient(text, { defaultRegion: region });

    return { value: recipient.value, kind: recipient.kind };
  } catch (error) {
    if (!isInvalidPhoneNumberError(error)) {
      throw error;
    }

    const sender = readAsSender(text, region);

    if (sender === undefined) {
      throw error;
    }

    return sender;
  }
}

/**
 * Reads a value that starts with the pseudonym prefix. The hex digits of a pseudonym are
 * written in lower case, so a value in upper case names the same pseudonym.
 *
 * @throws InvalidPhoneNumberError when the value is no pseudonym, so that it is rejected
 *   rather than kept as a channel address with the scheme `erased`.
 */
function readPseudonym(text: string): string {
  const value = text.toLowerCase();

  if (!isPseudonym(value)) {
    throw invalidPhoneNumber(
      text,
      `not a pseudonym, which is ${pseudonymPrefix} followed by 64 hex digits, as optout ` +
        "forget prints it",
    );
  }

  return value;
}

/** Checks whether the send guard reads events stored under this identity. */
export function isSendRecipient(identity: ConsentIdentity): boolean {
  return !nonRecipientKinds.has(identity.kind);
}

/** Describes a non-recipient kind for messages, such as "a channel address". */
export function describeKind(kind: ConsentIdentity["kind"]): string {
  switch (kind) {
    case "alphanumeric":
      return "an alphanumeric sender ID";
    case "service":
      return "a messaging service SID";
    case "channel":
      return "a channel address";
    case "pseudonym":
      return "a pseudonym";
    case "shortcode":
      return "a short code";
    default:
      return "a phone number";
  }
}

/**
 * Reads a value that is no recipient as the webhook path reads a sender. Only a number that
 * the recipient reading rejected comes back as `e164`: one written with `+` whose length is
 * possible, though the metadata does not call it valid.
 */
function readAsSender(text: string, region: CountryCode | undefined): ConsentIdentity | undefined {
  try {
    const sender = parseSenderIdentity(text, { defaultRegion: region });

    return nonRecipientKinds.has(sender.kind) || sender.kind === "e164"
      ? { value: sender.value, kind: sender.kind }
      : undefined;
  } catch (error) {
    if (isInvalidPhoneNumberError(error)) {
      return undefined;
    }

    throw error;
  }
}
