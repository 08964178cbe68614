import fc from "fast-check";
import examples from "libphonenumber-js/examples.mobile.json";
import {
  type CountryCode,
  getCountries,
  getCountryCallingCode,
  parsePhoneNumberWithError,
} from "libphonenumber-js/max";
import metadata from "libphonenumber-js/metadata.max.json";
import { describe, expect, it, test } from "vitest";
import { InvalidPhoneNumberError } from "../src/errors.js";
import { readExactE164 } from "../src/phone/e164.js";
import { normalizePhoneNumber, normalizeRecipient } from "../src/phone/index.js";

type Reading = { e164: string; country: CountryCode | undefined } | "invalid" | "parse error";

/** Reads `text` with the general parser: the number and country, or why it has none. */
function parserReading(text: string): Reading {
  try {
    const parsed = parsePhoneNumberWithError(text, { extract: false });

    return parsed.isValid() ? { e164: parsed.number, country: parsed.country } : "invalid";
  } catch {
    return "parse error";
  }
}

/** Checks that the E.164 reader returns nothing or exactly the parser's valid reading. */
function expectSameAsParser(text: string): boolean {
  const fast = readExactE164(text);

  if (fast !== undefined) {
    expect(fast, text).toEqual(parserReading(text));
  }

  return fast !== undefined;
}

/**
 * Runs `normalizePhoneNumber` through the general parser: a `tel:` URI is never exact E.164
 * text, and the parser reads it as the number after the scheme.
 */
function throughParser(text: string): PhoneNumberOutcome {
  return outcome(() => normalizePhoneNumber(`tel:${text}`));
}

type PhoneNumberOutcome = { value: unknown } | { reason: string };

function outcome(run: () => unknown): PhoneNumberOutcome {
  try {
    return { value: run() };
  } catch (error) {
    if (!(error instanceof InvalidPhoneNumberError)) {
      throw error;
    }

    // The reason follows the quoted input, which differs between the two calls.
    return { reason: error.message.slice(error.message.indexOf(": ") + 2) };
  }
}

/** A small seeded generator (mulberry32), so that a failure names a reproducible input. */
function seededRandom(seed: number): () => number {
  let state = seed >>> 0;

  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let value = Math.imul(state ^ (state >>> 15), state | 1);

    value ^= value + Math.imul(value ^ (value >>> 7), value | 61);

    return ((value ^ (value >>> 14)) >>> 0) / 4_294_967_296;
  };
}

function randomDigits(random: () => number, count: number): string {
  let digits = "";

  for (let index = 0; index < count; index += 1) {
    digits += String(Math.floor(random() * 10));
  }

  return digits;
}

const exampleNumbers = getCountries().flatMap((country) => {
  const national = (examples as Record<string, string | undefined>)[country];

  return national === undefined ? [] : [`+${getCountryCallingCode(country)}${national}`];
});

const callingCodes = [...new Set(getCountries().map((country) => getCountryCallingCode(country)))];

/** Examples of the first country the metadata lists for each calling code, such as US for +1. */
const mainCountryExamples = callingCodes.flatMap((callingCode) => {
  const main = metadata.country_calling_codes[callingCode]?.[0];
  const national = main && (examples as Record<string, string | undefined>)[main];

  return national === undefined ? [] : [`+${callingCode}${national}`];
});

// Non-geographic calling codes (freephone, shared cost, satellite networks).
const nonGeographicCodes = ["800", "808", "870", "878", "881", "882", "883", "888", "979"];

describe("readExactE164", () => {
  it("matches the parser on example numbers", () => {
    for (const text of exampleNumbers) {
      expectSameAsParser(text);
    }
  });

  // The reader exists to skip the parser, so it must read the numbers of every country that
  // is the main one of its calling code. The others are left to the parser.
  it("reads every main country's example", () => {
    const unread = mainCountryExamples.filter((text) => readExactE164(text) === undefined);

    expect(unread).toEqual([]);
  });

  it("matches the parser on altered examples", () => {
    const random = seededRandom(11);

    for (const text of exampleNumbers) {
      const callingCode = callingCodes.find((code) => text.startsWith(`+${code}`)) ?? "";
      const national = text.slice(callingCode.length + 1);

      for (const prefix of ["0", "1", "8", "9", "00", "01"]) {
        expectSameAsParser(`+${callingCode}${prefix}${national}`.slice(0, 16));
      }

      for (let count = 0; count < 20; count += 1) {
        const keptLength = Math.floor(random() * national.length);
        const altered =
          national.slice(0, keptLength) + randomDigits(random, national.length - keptLength);

        expectSameAsParser(`+${callingCode}${altered}`);
      }
    }
  });

  it("matches the parser on random digits", () => {
    const random = seededRandom(7);

    for (const callingCode of [...callingCodes, ...nonGeographicCodes]) {
      for (let length = 1; length <= 15 - callingCode.length; length += 1) {
        for (let count = 0; count < 20; count += 1) {
          expectSameAsParser(`+${callingCode}${randomDigits(random, length)}`);
        }
      }
    }
  });

  it("matches the parser on any plus and digits", () => {
    fc.assert(
      fc.property(fc.stringMatching(/^\+[0-9]{0,17}$/), (text) => {
        expectSameAsParser(text);
      }),
      { numRuns: 5000 },
    );
  });

  test.each([
    ["+12025550143", { e164: "+12025550143", country: "US" }],
    ["+447400123456", { e164: "+447400123456", country: "GB" }],
    ["+4915123456789", { e164: "+4915123456789", country: "DE" }],
    ["+80012345678", { e164: "+80012345678", country: undefined }],
  ])("reads %s", (text, expected) => {
    expect(readExactE164(text)).toEqual(expected);
    expect(parserReading(text)).toEqual(expected);
  });

  test.each([
    // A national prefix after the country code, which the parser strips.
    ["+4402071838750", "national prefix"],
    ["+78005553535", "leading 8 in Russia"],
    // +1 numbers of other NANP countries are assigned by their area code.
    ["+12423570000", "Bahamas"],
    ["+14165550123", "Canada"],
    // +44 1481 is Guernsey, one of the territories sharing +44.
    ["+441481256789", "Guernsey"],
    ["+77012345678", "Kazakhstan, sharing +7"],
  ])("leaves %s to the parser (%s)", (text) => {
    expect(readExactE164(text)).toBeUndefined();
  });

  test.each([
    ["", "empty"],
    ["+", "plus alone"],
    ["+0123456789", "calling code 0"],
    ["+1", "one digit"],
    ["+12", "two digits"],
    ["+1202555014312", "too long for the plan"],
    ["+1234567890123456", "16 digits"],
    ["+999123456", "unassigned calling code"],
    ["+1 202 555 0143", "spaces"],
    ["12025550143", "no plus"],
    ["+12025550143 ", "trailing space"],
    ["+\uff112025550143", "full-width digit"],
    ["+12025550143;ext=1", "extension"],
  ])("returns nothing for %j (%s)", (text) => {
    expect(readExactE164(text)).toBeUndefined();
  });
});

describe("normalizePhoneNumber: E.164 text", () => {
  const random = seededRandom(23);
  const inputs = [
    ...exampleNumbers,
    ...exampleNumbers.map((text) => `${text.slice(0, -2)}${randomDigits(random, 2)}`),
    "+4402071838750",
    "+12423570000",
    "+14165550123",
    "+441481256789",
    "+77012345678",
    "+80012345678",
    "+999123456",
    "+12",
    "+123",
    "+1202555014312",
  ];

  it("matches the general parser", () => {
    for (const text of inputs) {
      expect(
        outcome(() => normalizePhoneNumber(text)),
        text,
      ).toEqual(throughParser(text));
    }
  });

  it("matches the parser in any region", () => {
    for (const text of inputs.slice(0, 40)) {
      const regional = outcome(() => normalizePhoneNumber(text, { defaultRegion: "DE" }));

      expect(regional, text).toEqual(throughParser(text));
    }
  });

  it("keeps the recipient's reading", () => {
    for (const text of inputs) {
      const recipient = outcome(() => normalizeRecipient(text));
      const parsed = throughParser(text);
      const expected =
        "value" in parsed
          ? { value: { value: (parsed.value as { e164: string }).e164, kind: "e164" } }
          : parsed;

      expect(recipient, text).toEqual(expected);
    }
  });
});
