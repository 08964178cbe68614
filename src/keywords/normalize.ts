/**
 * Text normalisation for keyword matching. Every step is one linear pass; pure ASCII text,
 * the common case, skips the Unicode steps.
 */

// Without the `u` flag the test runs on UTF-16 code units, which is faster, and a text has a
// code unit above 0x7f exactly when it has a non-ASCII character.
const nonAscii = /[\u0080-\uffff]/;

/** Combining marks, after NFKD: accents, variation selectors, the keycap mark. */
const marks = /\p{M}/gu;

/** Apostrophe look-alikes phones substitute for `'`. */
const apostrophes = /[\u2018\u2019\u02bc\u2032\uff07`]/g;

const letterOrNumber = /^[\p{L}\p{N}]$/u;

/** Characters that end a clause: "Stop. Thank you", "No, stop", "STOP!!" */
const clauseBreaks = new Set([
  ".",
  "!",
  "?",
  ";",
  ":",
  ",",
  "\n",
  "\r",
  "\u0085", // next line
  "\u2028", // line separator
  "\u2029", // paragraph separator
  "\u3002", // ideographic full stop
  "\uff61", // halfwidth ideographic full stop
  "\u061f", // Arabic question mark
  "\u06d4", // Arabic full stop
  "\u0964", // Devanagari danda
]);

/** `opt out` and `stop all` (after hyphens and spaces became one space) as one word. */
const joinedForms = /(?<![^ \n])(?:(opt) (?=out(?![^ \n]))|(stop) (?=all(?![^ \n])))/g;

const word = 1;
const apostrophe = 2;
const clauseBreak = 3;
const other = 4;

/**
 * Normalises a message for keyword matching: NFKC-compatible folding (full-width letters
 * become ASCII), accents removed, lower case, emoji, punctuation and invisible characters
 * dropped, words separated by single spaces, and `OPT-OUT`/`OPT OUT` folded to `optout`,
 * `STOP ALL` to `stopall`. Apostrophes inside words are kept (`don't`).
 *
 * @example normalizeKeywordText("  Opt-Out 🛑 please!! ") // "optout please"
 */
export function normalizeKeywordText(text: string): string {
  return normalize(text, " ");
}

/**
 * Like {@link normalizeKeywordText}, but clauses are separated by a newline instead of a
 * space: `"Stop. Thank you"` becomes `"stop\nthank you"`.
 */
export function normalizeClauses(text: string): string {
  return normalize(text, "\n");
}

function normalize(text: string, clauseSeparator: string): string {
  if (typeof text !== "string" || text === "") {
    return "";
  }

  const words = segment(fold(text), clauseSeparator);

  // The joined forms can only match where their words occur, which is rare.
  return words.includes("opt out") || words.includes("stop all")
    ? words.replace(joinedForms, "$1$2")
    : words;
}

/** Compatibility decomposition, lower case, marks removed; the identity on lower-case ASCII. */
function fold(text: string): string {
  if (!nonAscii.test(text)) {
    return text.toLowerCase();
  }

  const folded = text
    .normalize("NFKD")
    .toLowerCase()
    .replace(marks, "")
    .normalize("NFC")
    .replace(apostrophes, "'");

  // V8 (Node 20) can keep an all-ASCII result of these steps as two-byte text, and one such
  // reply in the corpus of `npm run bench` made every later call about a fifth slower.
  // Normalising it again gives a new string of the same text, which V8 stores as one-byte.
  return nonAscii.test(folded) ? folded : folded.normalize("NFC");
}

/** Joins the words of `text` with single spaces, or `clauseSeparator` across a clause break. */
function segment(text: string, clauseSeparator: string): string {
  let out = "";
  let start = -1;
  let brokeClause = false;
  let index = 0;

  while (index < text.length) {
    const code = text.charCodeAt(index);
    // ASCII, the common case, is read from the table without a call.
    const width = code < 0x80 ? 1 : charWidth(text, index);
    const kind = code < 0x80 ? (asciiKinds[code] as number) : classify(text, index, width);

    if (kind === word || (kind === apostrophe && start >= 0 && nextIsWord(text, index + 1))) {
      if (start < 0) {
        start = index;
      }
    } else {
      if (start >= 0) {
        out = append(out, text.slice(start, index), brokeClause ? clauseSeparator : " ");
        start = -1;
        brokeClause = false;
      }
      brokeClause ||= kind === clauseBreak;
    }

    index += width;
  }

  return start >= 0 ? append(out, text.slice(start), brokeClause ? clauseSeparator : " ") : out;
}

function append(out: string, next: string, separator: string): string {
  return out === "" ? next : out + separator + next;
}

/** 2 for a surrogate pair, else 1; a lone surrogate counts as one (non-word) character. */
function charWidth(text: string, index: number): number {
  const code = text.charCodeAt(index);
  if (code < 0xd800 || code > 0xdbff || index + 1 >= text.length) {
    return 1;
  }

  const next = text.charCodeAt(index + 1);
  return next >= 0xdc00 && next <= 0xdfff ? 2 : 1;
}

/** The kind of each ASCII character, by code: lower-case letters and digits are words. */
const asciiKinds = Uint8Array.from({ length: 0x80 }, (_, code) => {
  if ((code >= 0x61 && code <= 0x7a) || (code >= 0x30 && code <= 0x39)) {
    return word;
  }

  if (code === 0x27) {
    return apostrophe;
  }

  return clauseBreaks.has(String.fromCharCode(code)) ? clauseBreak : other;
});

function classify(text: string, index: number, width: number): number {
  const code = text.charCodeAt(index);

  if (code < 0x80) {
    return asciiKinds[code] as number;
  }

  const char = width === 1 ? (text[index] as string) : text.slice(index, index + 2);
  if (letterOrNumber.test(char)) {
    return word;
  }

  return clauseBreaks.has(char) ? clauseBreak : other;
}

function nextIsWord(text: string, index: number): boolean {
  return index < text.length && classify(text, index, charWidth(text, index)) === word;
}
