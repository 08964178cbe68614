/**
 * Text clean-up shared by the phone-number and sender parsers: the steps that make a number
 * typed on any keyboard, or copied from a right-to-left document, look like ASCII.
 */

/** Invisible format characters (Unicode Cf): bidi controls, zero-width characters, BOM, soft hyphen. */
const invisible = /\p{Cf}/gu;

const whitespace = /\s+/g;

/**
 * The zero of each decimal digit block NFKC leaves alone. Unicode encodes every decimal digit
 * set as ten consecutive code points from zero to nine. Full-width and mathematical digits are
 * not listed: NFKC already turns them into ASCII.
 */
const digitZeros = [
  0x0660, // Arabic-Indic
  0x06f0, // Eastern Arabic-Indic (Persian, Urdu)
  0x07c0, // NKo
  0x0966, // Devanagari
  0x09e6, // Bengali
  0x0a66, // Gurmukhi
  0x0ae6, // Gujarati
  0x0b66, // Oriya
  0x0be6, // Tamil
  0x0c66, // Telugu
  0x0ce6, // Kannada
  0x0d66, // Malayalam
  0x0e50, // Thai
  0x0ed0, // Lao
  0x1040, // Myanmar
  0x17e0, // Khmer
] as const;

const nonAsciiDigit = new RegExp(
  `[${digitZeros.map((zero) => `\\u${hex(zero)}-\\u${hex(zero + 9)}`).join("")}]`,
  "g",
);

function hex(codePoint: number): string {
  return codePoint.toString(16).padStart(4, "0");
}

function toAsciiDigit(digit: string): string {
  const codePoint = digit.charCodeAt(0);
  const zero = digitZeros.find((start) => codePoint >= start && codePoint <= start + 9) ?? 0;

  return String(codePoint - zero);
}

/**
 * Applies NFKC (full-width digits and plus become ASCII), removes invisible characters, turns
 * other scripts' decimal digits into ASCII, collapses whitespace and trims.
 */
export function cleanPhoneText(input: string): string {
  return input
    .normalize("NFKC")
    .replace(invisible, "")
    .replace(nonAsciiDigit, toAsciiDigit)
    .replace(whitespace, " ")
    .trim();
}

/** Longest input accepted; a phone number with an extension fits easily. */
export const maxPhoneInputLength = 64;

/**
 * Why a value cannot be read as text at all, or `undefined` when it can: not a string, empty,
 * or longer than {@link maxPhoneInputLength}.
 */
export function textProblem(input: unknown): string | undefined {
  if (typeof input !== "string") {
    return `expected a string, got ${input === null ? "null" : typeof input}`;
  }

  if (input.length > maxPhoneInputLength) {
    return `too long: at most ${maxPhoneInputLength} characters are accepted`;
  }

  return undefined;
}

/** A printable stand-in for a value that is not a string, for the error's `input`. */
export function describeInput(input: unknown): string {
  if (typeof input === "string") {
    return input;
  }

  const type = typeof input;
  if (type === "number" || type === "bigint" || type === "boolean" || type === "undefined") {
    return String(input);
  }

  return input === null ? "null" : `[${type}]`;
}
