import fc from "fast-check";
import { describe, expect, it, test } from "vitest";
import { isWebhookParseError, WebhookParseError } from "../src/errors.js";
import { encodeForm, formFieldsToRecord, parseFormBody } from "../src/http/form.js";

const bytes = (text: string): Uint8Array => new TextEncoder().encode(text);

function parseError(body: Uint8Array | string): WebhookParseError {
  try {
    parseFormBody(body);
  } catch (error) {
    if (error instanceof WebhookParseError) {
      return error;
    }

    throw error;
  }

  throw new Error("parseFormBody accepted a malformed body");
}

describe("parseFormBody", () => {
  it("keeps order and repeated keys", () => {
    expect(parseFormBody("b=2&a=1&b=3")).toEqual([
      ["b", "2"],
      ["a", "1"],
      ["b", "3"],
    ]);
  });

  it("keeps empty values", () => {
    expect(parseFormBody("FromZip=&FromCity&Body=")).toEqual([
      ["FromZip", ""],
      ["FromCity", ""],
      ["Body", ""],
    ]);
  });

  it("skips empty segments", () => {
    expect(parseFormBody("&a=1&&b=2&")).toEqual([
      ["a", "1"],
      ["b", "2"],
    ]);
    expect(parseFormBody("")).toEqual([]);
  });

  it("keeps empty names", () => {
    expect(parseFormBody("=x")).toEqual([["", "x"]]);
  });

  it("splits at first equals", () => {
    expect(parseFormBody("a=b=c")).toEqual([["a", "b=c"]]);
  });

  it("decodes plus as space", () => {
    expect(parseFormBody("Body=Hi+there%2B1")).toEqual([["Body", "Hi there+1"]]);
  });

  it("decodes percent escapes as UTF-8", () => {
    expect(parseFormBody("Body=%E2%9C%93%F0%9F%9B%91%c3%a9")).toEqual([["Body", "✓🛑é"]]);
  });

  it("decodes raw UTF-8 bytes", () => {
    expect(parseFormBody(bytes("Body=caf\u00e9 \u{1F6D1}"))).toEqual([["Body", "café 🛑"]]);
  });

  it("never trims", () => {
    expect(parseFormBody("Body=++stop+%0A&+Name+=%20")).toEqual([
      ["Body", "  stop \n"],
      [" Name ", " "],
    ]);
  });

  it("keeps a leading byte order mark", () => {
    expect(parseFormBody("Body=%EF%BB%BFSTOP")).toEqual([["Body", "\uFEFFSTOP"]]);
  });

  it("accepts string and bytes alike", () => {
    const body = "To=%2B15017122661&Body=caf%C3%A9";

    expect(parseFormBody(body)).toEqual(parseFormBody(bytes(body)));
  });

  it("rejects malformed escapes", () => {
    const cases: Array<[string, RegExp]> = [
      ["Body=%zz", /"%zz" in the value of field "Body"/],
      ["Body=abc%4", /"%4" in the value of field "Body"/],
      ["Body=abc%", /"%" in the value of field "Body"/],
      ["Bo%zzdy=1", /the name of field 1 \("Bo%zzdy"\)/],
      ["a=1&b=%4&c=2", /field "b"/],
    ];

    for (const [body, message] of cases) {
      const error = parseError(body);

      expect(isWebhookParseError(error)).toBe(true);
      expect(error.message).toMatch(message);
    }
  });

  it("rejects truncated escape before ampersand", () => {
    expect(parseError("a=%4&b=1").message).toMatch(/"%4"/);
  });

  it("rejects invalid UTF-8", () => {
    const cases = ["Body=%C3", "Body=%FF", "Body=%ED%A0%80", "Body=%C0%AF"];

    for (const body of cases) {
      expect(parseError(body).message).toMatch(/invalid UTF-8 in the value of field "Body"/);
    }

    expect(parseError(new Uint8Array([0x42, 0x3d, 0xff, 0xfe])).message).toMatch(/UTF-8/);
  });

  it("rejects lone surrogates in strings", () => {
    expect(parseError("Body=\uD83D").message).toMatch(/surrogate/);
  });

  it("parses one megabyte of ampersands", () => {
    const started = performance.now();

    expect(parseFormBody("&".repeat(1024 * 1024))).toEqual([]);
    expect(performance.now() - started).toBeLessThan(2000);
  });

  it("keeps prototype-like names as data", () => {
    const pairs = parseFormBody("__proto__=x&constructor=y");
    const record = formFieldsToRecord(pairs);

    expect(Object.keys(record)).toEqual(["__proto__", "constructor"]);
    expect(Object.getPrototypeOf(record)).toBe(Object.prototype);
    expect(record.constructor).toBe("y");
  });
});

describe("formFieldsToRecord", () => {
  it("groups repeated names in order", () => {
    const record = formFieldsToRecord([
      ["Digits", "5678"],
      ["Body", ""],
      ["Digits", "1234"],
      ["Digits", "1234"],
    ]);

    expect(record).toEqual({ Digits: ["5678", "1234", "1234"], Body: "" });
  });

  it("maps single names to strings", () => {
    expect(formFieldsToRecord([["a", "1"]])).toEqual({ a: "1" });
  });
});

describe("encodeForm", () => {
  it("round-trips through parseFormBody", () => {
    const pairs: Array<[string, string]> = [
      ["To", "+15017122661"],
      ["Body", "Hi & bye = 100% ✓ 🛑"],
      ["MediaUrl", "https://e.example/a.png?x=1&y=2"],
      ["MediaUrl", "https://e.example/b.png"],
      ["Empty", ""],
    ];

    expect(parseFormBody(encodeForm(pairs))).toEqual(pairs);
  });

  it("writes spaces as plus", () => {
    expect(encodeForm([["Body", "a b+c"]])).toBe("Body=a+b%2Bc");
  });

  it("repeats names once per value", () => {
    expect(
      encodeForm([
        ["MediaUrl", "a"],
        ["MediaUrl", "b"],
      ]),
    ).toBe("MediaUrl=a&MediaUrl=b");
  });

  test.each([
    ["", ""],
    ["*-._", "*-._"],
    ["!'()~", "%21%27%28%29%7E"],
    ["a b", "a+b"],
    ["%20", "%2520"],
    ["é✓🛑", "%C3%A9%E2%9C%93%F0%9F%9B%91"],
    ["\ud83d", "%EF%BF%BD"],
    ["x\udc00y", "x%EF%BF%BDy"],
  ])("encodes %j as %s", (value, encoded) => {
    expect(encodeForm([["v", value]])).toBe(`v=${encoded}`);
  });

  it("encodes empty names and lists", () => {
    expect(encodeForm([])).toBe("");
    expect(encodeForm([["", ""]])).toBe("=");
    expect(
      encodeForm([
        ["", ""],
        ["", ""],
      ]),
    ).toBe("=&=");
  });

  it("matches URLSearchParams on any text", () => {
    const text = fc.oneof(
      fc.string({ unit: "grapheme-composite" }),
      fc.string({ unit: "binary" }),
      fc.string({ unit: fc.constantFrom(" ", "+", "%", "&", "=", "!", "~", "*", "\ud800", "a") }),
    );

    fc.assert(
      fc.property(fc.array(fc.tuple(text, text), { maxLength: 6 }), (pairs) => {
        expect(encodeForm(pairs)).toBe(new URLSearchParams(pairs).toString());
      }),
      { numRuns: 3000 },
    );
  });
});
