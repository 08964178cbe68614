import { createHmac } from "node:crypto";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { computeTwilioSignature } from "../providers/twilio/signature.js";
import { parseTwilioWebhook } from "../providers/twilio/webhook.js";
import { WebhookParseError } from "../src/errors.js";
import { formFieldsToRecord, parseFormBody } from "../src/http/form.js";

const bytes = (text: string): Uint8Array => new TextEncoder().encode(text);

// A non-ASCII name makes the whole body take the byte decoder.
const nonAsciiField = "%C3%A9=1&\u00e9=2";

function messageOf(body: string): string {
  try {
    parseFormBody(body);
  } catch (error) {
    expect(error).toBeInstanceOf(WebhookParseError);
    return (error as Error).message;
  }

  throw new Error(`parseFormBody accepted ${JSON.stringify(body)}`);
}

describe("parseFormBody on ASCII bodies", () => {
  it("decodes like the byte decoder", () => {
    const text = fc.stringMatching(/^[A-Za-z0-9%+=._~-]{0,12}$/);

    fc.assert(
      fc.property(fc.array(fc.tuple(text, text), { maxLength: 6 }), (fields) => {
        const body = fields.map(([name, value]) => `${name}=${value}`).join("&");
        const ascii = attempt(body);
        const mixed = attempt(`${body}&${nonAsciiField}`);

        if (ascii.ok && mixed.ok) {
          expect(mixed.pairs.slice(0, ascii.pairs.length)).toEqual(ascii.pairs);
        } else {
          expect(mixed.ok).toBe(false);
          expect(ascii.ok).toBe(false);
        }
      }),
    );
  });

  it("keeps escapes, plus signs and empty values", () => {
    expect(parseFormBody("From=%2B12025550143&Body=Stop+now&Empty=&Flag")).toEqual([
      ["From", "+12025550143"],
      ["Body", "Stop now"],
      ["Empty", ""],
      ["Flag", ""],
    ]);
  });

  it("decodes UTF-8 escapes", () => {
    expect(parseFormBody(bytes("Body=%F0%9F%9B%91+%C3%A9%EF%BB%BF"))).toEqual([
      ["Body", "\u{1F6D1} \u00e9\uFEFF"],
    ]);
  });

  it("rejects a malformed escape", () => {
    expect(messageOf("Body=%zz")).toContain('malformed percent escape "%zz"');
    expect(messageOf("Body=%4")).toContain('malformed percent escape "%4"');
  });

  it("rejects escaped invalid UTF-8", () => {
    expect(messageOf("Body=%C3%28")).toContain('invalid UTF-8 in the value of field "Body"');
    expect(messageOf("%ED%A0%80=1")).toContain("invalid UTF-8 in the name of field 1");
  });
});

describe("formFieldsToRecord", () => {
  it("keeps __proto__ as a field", () => {
    const record = formFieldsToRecord([
      ["__proto__", "a"],
      ["__proto__", "b"],
      ["x", "1"],
    ]);

    expect(Object.getPrototypeOf(record)).toBe(Object.prototype);
    expect(Object.hasOwn(record, "__proto__")).toBe(true);
    expect(Object.getOwnPropertyDescriptor(record, "__proto__")?.value).toEqual(["a", "b"]);
    expect(Object.keys(record)).toEqual(["__proto__", "x"]);
  });

  it("orders keys as an object does", () => {
    const record = formFieldsToRecord([
      ["b", "1"],
      ["2", "x"],
      ["a", "2"],
      ["b", "3"],
    ]);

    expect(Object.entries(record)).toEqual([
      ["2", "x"],
      ["b", ["1", "3"]],
      ["a", "2"],
    ]);
  });
});

describe("Twilio signature keys", () => {
  it("signs with each token in turn", () => {
    const url = "https://example.com/webhooks/twilio/inbound";
    const params: Array<[string, string]> = [["Body", "STOP"]];
    const expected = (token: string) =>
      createHmac("sha1", token).update(`${url}BodySTOP`, "utf8").digest("base64");

    for (const token of ["first-token", "second-token", "first-token", "t\u00f6ken", ""]) {
      expect(computeTwilioSignature(token, url, params)).toBe(expected(token));
    }
  });
});

describe("Twilio fields", () => {
  it("reads the first of repeated fields", () => {
    const body =
      "MessageSid=SM1&From=%2B12025550143&To=%2B12025550100&Body=STOP&Body=START" +
      "&NumMedia=2&MediaUrl0=https%3A%2F%2Fa&MediaUrl1=https%3A%2F%2Fb";
    const parsed = parseTwilioWebhook(
      { method: "POST", url: "https://example.com/", headers: new Headers(), body: bytes(body) },
      "inbound",
    );
    const message = parsed.inbound[0];

    expect(message?.text).toBe("STOP");
    expect(message?.raw).toMatchObject({ Body: ["STOP", "START"] });
    expect(message?.media.map((item) => item.url)).toEqual(["https://a", "https://b"]);
  });
});

function attempt(body: string): { ok: true; pairs: unknown[] } | { ok: false } {
  try {
    return { ok: true, pairs: parseFormBody(bytes(body)) };
  } catch (error) {
    expect(error).toBeInstanceOf(WebhookParseError);
    return { ok: false };
  }
}
