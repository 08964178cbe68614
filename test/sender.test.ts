import { describe, expect, it, test } from "vitest";
import { ConfigError, InvalidPhoneNumberError } from "../src/errors.js";
import {
  type CountryCode,
  normalizeRecipient,
  parseSenderIdentity,
  parseTypedSender,
  type SenderOptions,
} from "../src/phone/index.js";

const service = `MG${"0123456789abcdef".repeat(2)}`;

describe("parseSenderIdentity", () => {
  test.each<[string, SenderOptions, object]>([
    ["+12025550143", {}, { kind: "e164", value: "+12025550143", country: "US" }],
    ["+44 7400 123456", {}, { kind: "e164", value: "+447400123456", country: "GB" }],
    ["tel:+1-202-555-0143", {}, { kind: "e164", value: "+12025550143", country: "US" }],
    ["+1 202 555 0143 ext. 12", {}, { kind: "e164", value: "+12025550143", country: "US" }],
    [
      "(202) 555-0143",
      { defaultRegion: "US" },
      { kind: "e164", value: "+12025550143", country: "US" },
    ],
    [
      "55501",
      { counterpart: "+12025550100" },
      { kind: "shortcode", value: "55501", country: "US" },
    ],
    ["898287", {}, { kind: "shortcode", value: "898287" }],
    ["123", {}, { kind: "shortcode", value: "123" }],
    ["12345678", {}, { kind: "shortcode", value: "12345678" }],
    [" 55501 ", {}, { kind: "shortcode", value: "55501" }],
    [service, {}, { kind: "service", value: service }],
    [service.toUpperCase(), {}, { kind: "service", value: service.toUpperCase() }],
    [
      "whatsapp:+12025550143",
      {},
      { kind: "channel", value: "whatsapp:+12025550143", country: "US" },
    ],
    ["messenger:1234567890", {}, { kind: "channel", value: "messenger:1234567890" }],
    ["rcs:acme_agent", {}, { kind: "channel", value: "rcs:acme_agent" }],
    ["ACME", {}, { kind: "alphanumeric", value: "ACME" }],
    ["Acme Co.", {}, { kind: "alphanumeric", value: "Acme Co." }],
    ["B&Q", {}, { kind: "alphanumeric", value: "B&Q" }],
    ["My_Shop-24", {}, { kind: "alphanumeric", value: "My_Shop-24" }],
    ["X", {}, { kind: "alphanumeric", value: "X" }],
  ])("%j is read as given", (input, options, expected) => {
    expect(parseSenderIdentity(input, options)).toEqual(expected);
  });

  // With region US, libphonenumber reads "55501" as +155501, which is no number.
  it("keeps a short code with a region", () => {
    const options = { defaultRegion: "US", counterpart: "+12025550100" } as const;
    expect(parseSenderIdentity("55501", options)).toEqual({
      kind: "shortcode",
      value: "55501",
      country: "US",
    });
  });

  it("takes no country from a bad counterpart", () => {
    const identity = parseSenderIdentity("55501", { counterpart: "55502" });
    expect(identity).toEqual({ kind: "shortcode", value: "55501" });
  });

  it("takes no country from a region alone", () => {
    const identity = parseSenderIdentity("55501", { defaultRegion: "GB" });
    expect(identity).not.toHaveProperty("country");
  });

  it("reads msisdn digits as international", () => {
    const options = { internationalDigits: true, defaultRegion: "US" } as const;
    expect(parseSenderIdentity("447400123456", options)).toEqual({
      kind: "e164",
      value: "+447400123456",
      country: "GB",
    });
  });

  // The bundled metadata calls these invalid, but their lengths are possible, so a STOP from
  // them is recorded. A newer metadata version may list their ranges.
  test.each([
    ["+15555550143", "+15555550143"],
    ["+1 999 555 0143", "+19995550143"],
    ["+447700900123", "+447700900123"],
  ])("keeps %j of a possible length", (input, value) => {
    expect(parseSenderIdentity(input)).toEqual({ kind: "e164", value });
  });

  it("keeps msisdn digits to valid numbers", () => {
    const run = () => parseSenderIdentity("15555550143", { internationalDigits: true });

    expect(run).toThrow(/not a valid number/);
  });

  it("keeps msisdn short codes", () => {
    const identity = parseSenderIdentity("55501", { internationalDigits: true });
    expect(identity.kind).toBe("shortcode");
  });

  test.each<[string, SenderOptions, RegExp]>([
    ["", {}, /empty/],
    ["+155501", {}, /not a valid number/],
    ["12", {}, /no country code/],
    ["2025550143", {}, /no country code/],
    ["ACME MOTORS LTD", {}, /alphanumeric sender ID/],
    ["héllo wörld!", {}, /alphanumeric sender ID/],
    ["2025550143", { defaultRegion: "GB" }, /not a valid number in GB/],
  ])("rejects %j", (input, options, detail) => {
    const run = () => parseSenderIdentity(input, options);
    expect(run).toThrow(InvalidPhoneNumberError);
    expect(run).toThrow(detail);
  });

  it("rejects a non-string", () => {
    expect(() => parseSenderIdentity(undefined as unknown as string)).toThrow(
      InvalidPhoneNumberError,
    );
  });

  it("rejects an unknown region", () => {
    const options = { defaultRegion: "ZZ" as CountryCode };
    expect(() => parseSenderIdentity("55501", options)).toThrow(ConfigError);
  });

  it("returns a new object for a repeated number", () => {
    const first = parseSenderIdentity("+1 202 555 0143");
    first.value = "+19999999999";
    first.country = "CA";

    const second = parseSenderIdentity("+1 202 555 0143");
    expect(second).not.toBe(first);
    expect(second).toEqual({ kind: "e164", value: "+12025550143", country: "US" });
  });

  it("rejects an unknown region for a repeated number", () => {
    parseSenderIdentity("+12025550143");
    const options = { defaultRegion: "ZZ" as CountryCode };
    expect(() => parseSenderIdentity("+12025550143", options)).toThrow(ConfigError);
  });
});

describe("parseTypedSender", () => {
  it("reads bare international digits", () => {
    expect(parseTypedSender("12025550100").value).toBe("+12025550100");
    expect(parseTypedSender("447400123456").value).toBe("+447400123456");
  });

  it("reads other forms as parseSenderIdentity", () => {
    expect(parseTypedSender("+1 202 555 0100").value).toBe("+12025550100");
    expect(parseTypedSender("ACME").value).toBe("ACME");
    expect(parseTypedSender("(202) 555-0100", { defaultRegion: "US" }).value).toBe("+12025550100");
  });

  it("rejects what is no sender", () => {
    expect(() => parseTypedSender("1234567890123456")).toThrow(InvalidPhoneNumberError);
    expect(() => parseTypedSender("(202) 555-0100")).toThrow(InvalidPhoneNumberError);
  });
});

describe("normalizeRecipient", () => {
  test.each<[string, CountryCode | undefined, object]>([
    ["+12025550143", undefined, { value: "+12025550143", kind: "e164" }],
    ["(202) 555-0143", "US", { value: "+12025550143", kind: "e164" }],
    [
      "+1 202-555-0143 ext. 12",
      undefined,
      { value: "+12025550143", kind: "e164", extension: "12" },
    ],
    ["(202) 555-0143 x12", "US", { value: "+12025550143", kind: "e164", extension: "12" }],
    ["+1 202 555 0143;ext=12", undefined, { value: "+12025550143", kind: "e164", extension: "12" }],
    ["+12025550143#12", undefined, { value: "+12025550143", kind: "e164", extension: "12" }],
    ["＋１ ２０２ ５５５ ０１４３", undefined, { value: "+12025550143", kind: "e164" }],
    ["011 44 7400 123456", "US", { value: "+447400123456", kind: "e164" }],
    ["55501", undefined, { value: "55501", kind: "shortcode" }],
    ["55501", "US", { value: "55501", kind: "shortcode" }],
    ["81234567", "SG", { value: "+6581234567", kind: "e164" }],
    ["81234567", "US", { value: "81234567", kind: "shortcode" }],
    ["898287", undefined, { value: "898287", kind: "shortcode" }],
  ])("%j in %s", (input, defaultRegion, expected) => {
    expect(normalizeRecipient(input, { defaultRegion })).toEqual(expected);
  });

  test.each([
    ["an alphanumeric ID", "ACME", /alphanumeric sender ID cannot receive/],
    ["a messaging service", service, /messaging service cannot receive/],
    ["a channel address", "whatsapp:+12025550143", /channel addresses/],
    ["a national number", "2025550143", /no country code/],
    ["8 digits without region", "81234567", /national number or a short code/],
    ["7 digits without region", "5550143", /configure defaultRegion/],
    ["an invalid number", "+1202555014312", /not a valid number/],
    ["empty", "", /empty/],
  ])("rejects %s", (_name, input, detail) => {
    const run = () => normalizeRecipient(input);
    expect(run).toThrow(InvalidPhoneNumberError);
    expect(run).toThrow(detail);
  });

  it("rejects an unknown region", () => {
    const options = { defaultRegion: "ZZ" as CountryCode };
    expect(() => normalizeRecipient("55501", options)).toThrow(ConfigError);
  });
});
