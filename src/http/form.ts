/**
 * `application/x-www-form-urlencoded` parsing and encoding that keep what signatures need:
 * every pair in arrival order, repeated keys, empty values and untrimmed text.
 */

import { isAscii } from "node:buffer";
import { WebhookParseError } from "../errors.js";
import { setOwnProperty } from "../own-property.js";

/** One form field: name and value, both decoded. */
export type FormPair = [name: string, value: string];

const AMPERSAND = 0x26;
const EQUALS = 0x3d;
const PLUS = 0x2b;
const PERCENT = 0x25;
const SPACE = 0x20;

// `fatal` turns invalid UTF-8 into an exception instead of U+FFFD, and `ignoreBOM` keeps a
// leading U+FEFF in the text rather than dropping it.
const utf8 = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true });
const encoder = new TextEncoder();

// With the `u` flag a surrogate pair is one code point, so only unpaired halves match.
const LONE_SURROGATE = /\p{Surrogate}/u;
const LONE_SURROGATES = /\p{Surrogate}/gu;

/** Maximum number of raw input bytes quoted in an error message. */
const QUOTE_LIMIT = 40;

/**
 * Parses an `application/x-www-form-urlencoded` body into its pairs, in order.
 *
 * Repeated keys and empty values are kept, nothing is trimmed, `+` decodes to a space and
 * percent escapes decode as UTF-8. A segment without `=` is a name with an empty value.
 * Empty segments (`a=1&&b=2`) carry no pair and are skipped, as the WHATWG URL Standard does.
 *
 * @throws {WebhookParseError} for a malformed percent escape (`%zz`, a truncated `%4`) or
 * bytes that are not valid UTF-8; the message names the field.
 * @example
 * parseFormBody("Body=Hi+there&FromZip=&Digits=1&Digits=2");
 * // [["Body", "Hi there"], ["FromZip", ""], ["Digits", "1"], ["Digits", "2"]]
 */
export function parseFormBody(body: Uint8Array | string): FormPair[] {
  const bytes = toBytes(body);
  const pairs: FormPair[] = [];
  const source: FormSource = {
    bytes,
    // Every byte of an ASCII body is the character of the same code, so the body read as
    // Latin-1 is its text, and a name or value without `%` or `+` is a slice of it.
    text: isAscii(bytes) ? latin1(bytes) : undefined,
    scratch: undefined,
  };
  let start = 0;

  while (start <= bytes.length) {
    let end = indexOfByte(source, AMPERSAND, start);

    if (end === -1) {
      end = bytes.length;
    }

    if (end > start) {
      pairs.push(parseSegment(source, start, end, pairs.length + 1));
    }

    start = end + 1;
  }

  return pairs;
}

/** A form body being parsed: its bytes, its text when it is ASCII, and a decoding buffer. */
interface FormSource {
  bytes: Uint8Array;
  text: string | undefined;
  /**
   * The buffer every escaped name and value is decoded into, made on first use, because
   * allocating a typed array per field costs more than the decoding itself.
   */
  scratch: Uint8Array | undefined;
}

// A character of an ASCII body is at the same index as its byte, and a string search is
// faster than a typed-array search.
function indexOfByte(source: FormSource, byte: number, start: number): number {
  return source.text === undefined
    ? source.bytes.indexOf(byte, start)
    : source.text.indexOf(String.fromCharCode(byte), start);
}

function latin1(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString("latin1");
}

/**
 * Groups form pairs by name. A name that occurs once maps to its value; a repeated name maps
 * to an array of its values in arrival order.
 */
export function formFieldsToRecord(
  pairs: Iterable<readonly [string, string]>,
): Record<string, string | string[]> {
  const fields: Record<string, string | string[]> = {};

  for (const [name, value] of pairs) {
    const existing = Object.hasOwn(fields, name) ? fields[name] : undefined;

    if (existing === undefined) {
      setOwnProperty(fields, name, value);
    } else if (Array.isArray(existing)) {
      existing.push(value);
    } else {
      setOwnProperty(fields, name, [existing, value]);
    }
  }

  return fields;
}

/**
 * Encodes pairs as an `application/x-www-form-urlencoded` body, keeping their order and
 * repeating a name once per value. Spaces become `+`, as browsers and Twilio send them.
 */
export function encodeForm(pairs: Iterable<readonly [string, string]>): string {
  let body = "";

  for (const [name, value] of pairs) {
    body += `${body === "" ? "" : "&"}${encodeFormComponent(name)}=${encodeFormComponent(value)}`;
  }

  return body;
}

/** Characters that `URLSearchParams` leaves as they are in a form body. */
const FORM_SAFE = /^[A-Za-z0-9*\-._]*$/;

/** Characters that `encodeURIComponent` leaves as they are, but a form body escapes. */
const URI_ONLY_SAFE = /[!'()~]/g;

/**
 * Encodes a name or value as the WHATWG URL Standard's `application/x-www-form-urlencoded`
 * serializer does, byte for byte like `URLSearchParams`: UTF-8, a space as `+`, and every
 * byte but ASCII letters, digits and `*-._` percent-encoded in upper case. Unpaired
 * surrogates become U+FFFD first, as the conversion to a USVString makes them.
 */
function encodeFormComponent(text: string): string {
  if (FORM_SAFE.test(text)) {
    return text;
  }

  return encodeURIComponent(wellFormed(text))
    .replace(URI_ONLY_SAFE, percentEncode)
    .replaceAll("%20", "+");
}

// `encodeURIComponent` throws a URIError for an unpaired surrogate.
function wellFormed(text: string): string {
  return LONE_SURROGATE.test(text) ? text.replace(LONE_SURROGATES, "\uFFFD") : text;
}

function percentEncode(character: string): string {
  return `%${character.charCodeAt(0).toString(16).toUpperCase()}`;
}

function toBytes(body: Uint8Array | string): Uint8Array {
  if (typeof body !== "string") {
    return body;
  }

  if (LONE_SURROGATE.test(body)) {
    throw new WebhookParseError(
      "Form body contains an unpaired UTF-16 surrogate and cannot be read as UTF-8 text",
    );
  }

  return encoder.encode(body);
}

function parseSegment(source: FormSource, start: number, end: number, position: number): FormPair {
  const { bytes } = source;
  let split = indexOfByte(source, EQUALS, start);

  if (split === -1 || split > end) {
    split = end;
  }

  const name =
    sliceComponent(source.text, start, split) ??
    decodeComponent(
      bytes,
      start,
      split,
      scratchOf(source),
      () => `the name of field ${position} (${quote(bytes.subarray(start, split))})`,
    );
  const valueStart = Math.min(split + 1, end);
  const value =
    sliceComponent(source.text, valueStart, end) ??
    decodeComponent(
      bytes,
      valueStart,
      end,
      scratchOf(source),
      () => `the value of field "${name}"`,
    );

  return [name, value];
}

function scratchOf(source: FormSource): Uint8Array {
  source.scratch ??= new Uint8Array(source.bytes.length);

  return source.scratch;
}

/**
 * Reads `text[start, end)` of an ASCII body. Returns `undefined` when the component must be
 * decoded from the bytes, which raises the error for a malformed escape or invalid UTF-8.
 */
function sliceComponent(text: string | undefined, start: number, end: number): string | undefined {
  if (text === undefined) {
    return undefined;
  }

  const raw = text.slice(start, end);

  if (!raw.includes("%")) {
    return raw.includes("+") ? raw.replaceAll("+", " ") : raw;
  }

  // `decodeURIComponent` reads escapes as strict UTF-8, like the fatal decoder, and throws
  // where the byte decoder raises its error.
  try {
    return decodeURIComponent(raw.includes("+") ? raw.replaceAll("+", " ") : raw);
  } catch {
    return undefined;
  }
}

/** Decodes `bytes[start, end)` through `scratch`, which is at least that long. */
function decodeComponent(
  bytes: Uint8Array,
  start: number,
  end: number,
  scratch: Uint8Array,
  describe: () => string,
): string {
  let length = 0;
  let ascii = true;

  for (let index = start; index < end; index += 1) {
    let byte = bytes[index] as number;

    if (byte === PLUS) {
      byte = SPACE;
    } else if (byte === PERCENT) {
      byte = readEscape(bytes, index, end, describe);
      index += 2;
    }

    scratch[length] = byte;
    ascii &&= byte < 0x80;
    length += 1;
  }

  // ASCII bytes are valid UTF-8 and each one is the character of the same code.
  if (ascii) {
    return asciiText(scratch, length);
  }

  try {
    return utf8.decode(scratch.subarray(0, length));
  } catch (error) {
    throw new WebhookParseError(
      `Form body has invalid UTF-8 in ${describe()}; the sender must encode text as UTF-8`,
      { cause: error },
    );
  }
}

/** Characters passed to one `String.fromCharCode` call, well below engines' argument limits. */
const ASCII_CHUNK = 4096;

function asciiText(bytes: Uint8Array, length: number): string {
  if (length <= ASCII_CHUNK) {
    return String.fromCharCode.apply(null, bytes.subarray(0, length) as unknown as number[]);
  }

  let text = "";

  for (let start = 0; start < length; start += ASCII_CHUNK) {
    const chunk = bytes.subarray(start, Math.min(start + ASCII_CHUNK, length));

    text += String.fromCharCode.apply(null, chunk as unknown as number[]);
  }

  return text;
}

function readEscape(bytes: Uint8Array, index: number, end: number, describe: () => string): number {
  const high = index + 1 < end ? hexValue(bytes[index + 1] as number) : -1;
  const low = index + 2 < end ? hexValue(bytes[index + 2] as number) : -1;

  if (high === -1 || low === -1) {
    const sequence = quote(bytes.subarray(index, Math.min(index + 3, end)));

    throw new WebhookParseError(
      `Form body has a malformed percent escape ${sequence} in ${describe()}; ` +
        "a % must be followed by two hexadecimal digits",
    );
  }

  return high * 16 + low;
}

function hexValue(byte: number): number {
  if (byte >= 0x30 && byte <= 0x39) {
    return byte - 0x30;
  }

  const lower = byte | 0x20;

  if (lower >= 0x61 && lower <= 0x66) {
    return lower - 0x61 + 10;
  }

  return -1;
}

function quote(bytes: Uint8Array): string {
  const text = Buffer.from(bytes.subarray(0, QUOTE_LIMIT)).toString("latin1");

  return JSON.stringify(text);
}
