/**
 * The GSM 7-bit default alphabet and its extension table (3GPP TS 23.038, section 6.2.1),
 * and the segment arithmetic of SMS concatenation (3GPP TS 23.040). A message of one
 * segment carries 140 octets. Each segment of a longer message loses 6 octets to the user
 * data header that numbers the parts.
 */

/** The 128 characters of the GSM 7-bit default alphabet, in table order, without ESC. */
const BASIC_TABLE =
  "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?" +
  "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà";

/**
 * The characters of the extension table. Each is sent as ESC (0x1B) followed by its
 * code, so it takes two septets.
 */
const EXTENSION_TABLE = "\f^{}\\[~]|€";

const basicCharacters: ReadonlySet<string> = new Set(BASIC_TABLE);
const extensionCharacters: ReadonlySet<string> = new Set(EXTENSION_TABLE);

/** Septets in a single-segment GSM-7 message (140 octets × 8 / 7). */
export const GSM7_SINGLE_SEGMENT = 160;

/** Septets per segment of a multipart GSM-7 message, after the 6-octet header. */
export const GSM7_MULTIPART_SEGMENT = 153;

/** UTF-16 code units in a single-segment UCS-2 message (140 octets / 2). */
export const UCS2_SINGLE_SEGMENT = 70;

/** UTF-16 code units per segment of a multipart UCS-2 message, after the header. */
export const UCS2_MULTIPART_SEGMENT = 67;

/** The data coding a message needs: the GSM 7-bit alphabet, or UCS-2 (UTF-16). */
export type SmsEncoding = "gsm7" | "ucs2";

/** Size of a message text on the air interface. */
export interface SmsTextAnalysis {
  /** `gsm7` when every character is in the GSM-7 tables, else `ucs2`. */
  encoding: SmsEncoding;
  /** Septets for `gsm7` (extension characters count 2), UTF-16 code units for `ucs2`. */
  units: number;
  /** Segments the message is sent in. An empty text is sent as one empty segment. */
  segments: number;
  /** Capacity of each segment in `units`: 160 or 153 for `gsm7`, 70 or 67 for `ucs2`. */
  perSegment: number;
}

/**
 * Returns the septets a character takes in GSM-7: 1 for the basic table, 2 for the
 * extension table, or 0 when GSM-7 cannot carry it.
 */
export function gsm7Septets(character: string): 0 | 1 | 2 {
  if (basicCharacters.has(character)) {
    return 1;
  }

  return extensionCharacters.has(character) ? 2 : 0;
}

/**
 * Checks whether GSM-7 can carry every character of the text. Characters are compared as
 * they are: `ç` and `e` followed by a combining accent are not in the tables, so such text
 * needs UCS-2 even though it looks like Latin text.
 */
export function isGsm7(text: string): boolean {
  for (const character of text) {
    if (gsm7Septets(character) === 0) {
      return false;
    }
  }

  return true;
}

/**
 * Works out the encoding, size and segment count of a message text, counting per code
 * point. In GSM-7 an extension character counts 2 septets and is never split from its
 * escape across two segments. In UCS-2 the size is in UTF-16 code units, because that is
 * what carriers count, so a character outside the Basic Multilingual Plane (an emoji)
 * counts 2 and its surrogate pair is never split across segments. Either rule can leave
 * a unit unused at the end of a segment, so the count can exceed `ceil(units / 153)`.
 *
 * @example analyzeSmsText("Hello €")
 *   // { encoding: "gsm7", units: 8, segments: 1, perSegment: 160 }
 */
export function analyzeSmsText(text: string): SmsTextAnalysis {
  const gsm7Sizes = characterSizes(text, gsm7Septets);

  if (gsm7Sizes !== undefined) {
    return segment("gsm7", gsm7Sizes, GSM7_SINGLE_SEGMENT, GSM7_MULTIPART_SEGMENT);
  }

  const ucs2Sizes = characterSizes(text, (character) => character.length);

  return segment("ucs2", ucs2Sizes ?? [], UCS2_SINGLE_SEGMENT, UCS2_MULTIPART_SEGMENT);
}

/** Lists the size of each code point, or `undefined` when one of them has size 0. */
function characterSizes(text: string, size: (character: string) => number) {
  const sizes: number[] = [];

  for (const character of text) {
    const units = size(character);

    if (units === 0) {
      return undefined;
    }

    sizes.push(units);
  }

  return sizes;
}

function segment(
  encoding: SmsEncoding,
  sizes: readonly number[],
  single: number,
  multipart: number,
): SmsTextAnalysis {
  const units = sizes.reduce((sum, size) => sum + size, 0);

  if (units <= single) {
    return { encoding, units, segments: 1, perSegment: single };
  }

  // Fill each segment greedily. A character that does not fit whole starts the next one.
  let segments = 1;
  let used = 0;

  for (const size of sizes) {
    if (used + size > multipart) {
      segments += 1;
      used = 0;
    }

    used += size;
  }

  return { encoding, units, segments, perSegment: multipart };
}
