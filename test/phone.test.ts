import { describe, expect, it, test } from "vitest";
import { ConfigError, InvalidPhoneNumberError, isInvalidPhoneNumberError } from "../src/errors.js";
import {
  type CountryCode,
  isE164,
  maxPhoneInputLength,
  normalizeInternationalDigits,
  normalizePhoneNumber,
} from "../src/phone/index.js";

/** Runs `run` and returns the InvalidPhoneNumberError it throws. */
function invalid(run: () => unknown): InvalidPhoneNumberError {
  try {
    run();
  } catch (error) {
    expect(error).toBeInstanceOf(InvalidPhoneNumberError);
    return error as InvalidPhoneNumberError;
  }

  throw new Error("expected InvalidPhoneNumberError, nothing was thrown");
}

describe("normalizePhoneNumber: international prefixes", () => {
  test.each<[string, CountryCode | undefined, string]>([
    ["0044 7400 123456", "GB", "+447400123456"],
    ["0044 7400 123456", "DE", "+447400123456"],
    ["011 44 7400 123456", "US", "+447400123456"],
    ["81234567", "SG", "+6581234567"],
    ["0011 44 7400 123456", "AU", "+447400123456"],
  ])("%s in %s is %s", (input, defaultRegion, e164) => {
    expect(normalizePhoneNumber(input, { defaultRegion }).e164).toBe(e164);
  });

  // The message masks runs of 8 or more digits, and keeps digits in short groups.
  test.each<[string, CountryCode | undefined, string]>([
    ["0044 7400 123456", "US", '"0044 7400 123456"'],
    ["0044 7400 123456", undefined, '"0044 7400 123456"'],
    ["81234567", undefined, '"8***4567"'],
    ["81234567", "US", '"8***4567"'],
  ])("%s in %s is rejected", (input, defaultRegion, quoted) => {
    const error = invalid(() => normalizePhoneNumber(input, { defaultRegion }));
    expect(error.input).toBe(input);
    expect(error.message).toContain(quoted);
  });

  it("never assumes +1 without a region", () => {
    const error = invalid(() => normalizePhoneNumber("2025550143"));
    expect(error.message).toMatch(/no country code; write it as \+<country code>/);
  });

  it("names the US international prefix", () => {
    const error = invalid(() => normalizePhoneNumber("0044 7400 123456", { defaultRegion: "US" }));
    expect(error.message).toContain("011");
  });

  it("explains a 00 prefix without region", () => {
    const error = invalid(() => normalizePhoneNumber("0044 7400 123456"));
    expect(error.message).toMatch(/international prefix.*defaultRegion/);
    expect(error.message).toContain("+<country code>… in place of 00");
    // Only this function takes internationalPrefix00, so the CLI and Gateway cannot use it.
    expect(error.message).not.toContain("internationalPrefix00");
  });

  it("reads 00 as + when asked", () => {
    const phone = normalizePhoneNumber("0044 7400 123456", { internationalPrefix00: true });
    expect(phone).toEqual({ e164: "+447400123456", country: "GB" });
  });

  it("keeps the region's prefix over the 00 option", () => {
    const options = { internationalPrefix00: true, defaultRegion: "US" } as const;
    invalid(() => normalizePhoneNumber("0044 7400 123456", options));
  });

  it("needs no region after +", () => {
    expect(normalizePhoneNumber("+44 7400 123456")).toEqual({
      e164: "+447400123456",
      country: "GB",
    });
  });

  it("reads + numbers whatever the region", () => {
    const phone = normalizePhoneNumber("+44 7400 123456", { defaultRegion: "US" });
    expect(phone.e164).toBe("+447400123456");
  });

  // A number stored in national format must match the E.164 sender of a reply.
  test.each([
    ["(202) 555-0143", "+12025550143"],
    ["202.555.0199", "+12025550199"],
    ["1 (202) 555-0143", "+12025550143"],
  ])("%s in US is %s", (input, e164) => {
    expect(normalizePhoneNumber(input, { defaultRegion: "US" }).e164).toBe(e164);
  });

  it("reads national format in its region", () => {
    const phone = normalizePhoneNumber("020 7183 8750", { defaultRegion: "GB" });
    expect(phone).toEqual({ e164: "+442071838750", country: "GB" });
  });
});

describe("normalizePhoneNumber: extensions", () => {
  test.each<[string, CountryCode | undefined]>([
    ["+1 202-555-0143 ext. 12", undefined],
    ["(202) 555-0143 x12", "US"],
    ["+1 202 555 0143;ext=12", undefined],
    ["+12025550143#12", undefined],
    ["+1 202 555 0143 ext 12", undefined],
    ["+1 202 555 0143 extension 12", undefined],
    ["+1 (202) 555-0143 X 12", undefined],
    ["tel:+1-202-555-0143;ext=12", undefined],
  ])("%s splits off extension 12", (input, defaultRegion) => {
    expect(normalizePhoneNumber(input, { defaultRegion })).toEqual({
      e164: "+12025550143",
      extension: "12",
      country: "US",
    });
  });

  it("never glues the extension on", () => {
    invalid(() => normalizePhoneNumber("+1202555014312"));
  });

  it("omits extension when there is none", () => {
    expect(normalizePhoneNumber("+12025550143")).not.toHaveProperty("extension");
  });

  it("rejects an empty extension marker", () => {
    invalid(() => normalizePhoneNumber("+1 202 555 0143 ext. "));
  });
});

describe("normalizePhoneNumber: Unicode input", () => {
  test.each([
    ["full-width digits and plus", "＋１ ２０２ ５５５ ０１４３"],
    ["Arabic-Indic digits", "+١٢٠٢٥٥٥٠١٤٣"],
    ["Eastern Arabic-Indic digits", "+۱۲۰۲۵۵۵۰۱۴۳"],
    ["Devanagari digits", "+१२०२५५५०१४३"],
    ["LRM and RLM around it", "\u200e+1 202 555 0143\u200f"],
    ["LRE and PDF around it", "\u202a+1 202 555 0143\u202c"],
    ["an isolate around it", "\u2066+1 202 555 0143\u2069"],
    ["zero-width space inside", "+1 202\u200b555\u200b0143"],
    ["a BOM in front", "\ufeff+12025550143"],
    ["soft hyphens inside", "+1\u00ad202\u00ad555\u00ad0143"],
    ["word joiner inside", "+1\u2060202 555 0143"],
    ["no-break spaces", "+1\u00a0202\u00a0555\u00a00143"],
    ["en dashes", "+1 202–555–0143"],
    ["a newline and tab", "+1 202\n555\t0143"],
    ["surrounding spaces", "   +1 202 555 0143   "],
  ])("accepts %s", (_name, input) => {
    expect(normalizePhoneNumber(input).e164).toBe("+12025550143");
  });

  it("accepts Persian digits in national format", () => {
    const phone = normalizePhoneNumber("۰۲۰ ۷۱۸۳ ۸۷۵۰", { defaultRegion: "GB" });
    expect(phone.e164).toBe("+442071838750");
  });
});

describe("normalizePhoneNumber: bad input", () => {
  test.each([
    ["empty", "", /empty/],
    ["spaces only", "   ", /empty/],
    ["invisible only", "\u200e\u200f", /empty/],
    ["letters only", "call me", /no digits/],
    ["a vanity number", "+1 800 FLOWERS", /not a phone number/],
    ["a NUL byte", "+12025550143\u0000", /not a phone number/],
    ["a lone surrogate", "+1202555\ud8000143", /not a phone number/],
    ["text around it", "call +12025550143 now", /not a phone number/],
    ["two plus signs", "++12025550143", /not a phone number/],
    ["too few digits", "+1 202 555 01", /not a valid number/],
    ["an unknown country code", "+999 1234", /unknown country calling code/],
    ["too long", `+1 202 555 0143${" 0".repeat(30)}`, /too long/],
  ])("rejects %s", (_name, input, detail) => {
    const error = invalid(() => normalizePhoneNumber(input, { defaultRegion: "US" }));
    expect(error.input).toBe(input);
    expect(error.code).toBe("SMSGATE_INVALID_PHONE_NUMBER");
    expect(error.message).toMatch(detail);
  });

  it("names the input masked in the message", () => {
    const error = invalid(() => normalizePhoneNumber("+1 202 555 01"));
    expect(error.message).toBe(
      'Invalid phone number "+1***5501": read as +1***5501, which is not a valid number',
    );
    expect(error.input).toBe("+1 202 555 01");
  });

  test.each([
    ["a number", 12025550143, "12025550143", "got number"],
    ["undefined", undefined, "undefined", "got undefined"],
    ["null", null, "null", "got null"],
    ["an object", { e164: "+12025550143" }, "[object]", "got object"],
    ["a null-prototype object", Object.create(null), "[object]", "got object"],
    ["a symbol", Symbol("x"), "[symbol]", "got symbol"],
  ])("rejects %s without TypeError", (_name, value, input, detail) => {
    const error = invalid(() => normalizePhoneNumber(value as unknown as string));
    expect(error.input).toBe(input);
    expect(error.message).toContain(detail);
    expect(isInvalidPhoneNumberError(error)).toBe(true);
  });

  it("accepts input at the length limit", () => {
    const input = "+12025550143".padEnd(maxPhoneInputLength, " ");
    expect(normalizePhoneNumber(input).e164).toBe("+12025550143");
  });

  it("rejects an unknown region as config", () => {
    const run = () => normalizePhoneNumber("+12025550143", { defaultRegion: "XX" as CountryCode });
    expect(run).toThrow(ConfigError);
    expect(run).toThrow(/defaultRegion/);
  });

  it("rejects a lower-case region as config", () => {
    const run = () => normalizePhoneNumber("2025550143", { defaultRegion: "us" as CountryCode });
    expect(run).toThrow(ConfigError);
  });
});

describe("normalizeInternationalDigits", () => {
  test.each([
    ["12025550143", "+12025550143", "US"],
    ["447400123456", "+447400123456", "GB"],
    ["6581234567", "+6581234567", "SG"],
    ["+12025550143", "+12025550143", "US"],
    ["\u200e12025550143", "+12025550143", "US"],
  ])("%s is %s", (input, e164, country) => {
    expect(normalizeInternationalDigits(input)).toEqual({ e164, country });
  });

  test.each([
    ["a national number", "2025550143", /not a valid number/],
    ["a leading 0", "02071838750", /country code, not 0/],
    ["a leading 00", "0044740012345", /country code, not 0/],
    ["a short code", "55501", /not a valid number/],
    ["formatting", "1 202 555 0143", /only the digits/],
    ["letters", "ACME", /only the digits/],
    ["empty", "", /empty/],
  ])("rejects %s", (_name, input, detail) => {
    const error = invalid(() => normalizeInternationalDigits(input));
    expect(error.input).toBe(input);
    expect(error.message).toMatch(detail);
  });
});

describe("isE164", () => {
  test.each(["+12025550143", "+447400123456", "+12", "+123456789012345"])("accepts %s", (value) => {
    expect(isE164(value)).toBe(true);
  });

  test.each([
    "12025550143",
    "+02025550143",
    "+1",
    "+1234567890123456",
    "+1 202 555 0143",
    "+12025550143\n",
    "",
  ])("rejects %j", (value) => {
    expect(isE164(value)).toBe(false);
  });

  it("rejects a non-string", () => {
    expect(isE164(12025550143 as unknown as string)).toBe(false);
  });
});
