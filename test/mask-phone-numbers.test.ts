import { describe, expect, it } from "vitest";
import { maskPhoneNumbers } from "../src/errors.js";

describe("maskPhoneNumbers", () => {
  const masked: Array<[string, string, string]> = [
    ["E.164", "from +12025550143", "from +1***0143"],
    ["percent-encoded", "From=%2B12025550143&To=x", "From=%2B1***0143&To=x"],
    ["digits after =", "msisdn=12025550143", "msisdn=1***0143"],
    ["grouped national", "call (202) 555-0143 now", "call 2***0143 now"],
    ["in a key", "vonage:12025550143:12025550100:ref", "vonage:1***0143:1***0100:ref"],
    ["with an extension", "12025550143x12", "1***0143x12"],
    [
      "next to a UUID",
      "12025550143, 91852942-83d2-4a1b-9c3d-1234567890ab",
      "1***0143, 91852942-83d2-4a1b-9c3d-1234567890ab",
    ],
  ];

  for (const [name, text, expected] of masked) {
    it(`masks a number ${name}`, () => {
      expect(maskPhoneNumbers(text)).toBe(expected);
    });
  }

  const kept: Array<[string, string]> = [
    ["an account SID", "AC0123456789abcdef0123456789abcdef"],
    ["an outbox event id", "twilio:inbound|AC0123456789abcdef0123456789abcdef:SM00112233#1"],
    ["a message SID", "SM123456789012345678901234567890ab"],
    ["an IPv4 address", "127.0.0.1:8080"],
    ["a date", "2024-01-15"],
    ["a short number", "port 8080 and 1234567"],
    ["a UUID that starts with 8 digits", "id 91852942-83d2-4a1b-9c3d-1234567890ab"],
  ];

  for (const [name, text] of kept) {
    it(`keeps ${name}`, () => {
      expect(maskPhoneNumbers(text)).toBe(text);
    });
  }
});
