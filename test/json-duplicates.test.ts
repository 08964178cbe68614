import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { findDuplicateKey } from "../src/cli/json-duplicates.js";

describe("findDuplicateKey", () => {
  it("finds a repeated top-level key", () => {
    const text = '{"store": {"path": "a.db"}, "store": {"path": "b.db"}}';

    expect(findDuplicateKey(text)).toEqual({ path: ["store"], firstLine: 1, line: 1 });
  });

  it("names the lines of both keys", () => {
    const text = '{\n  "listen": {},\n  "store": {},\n\n  "listen": {}\n}';

    expect(findDuplicateKey(text)).toEqual({ path: ["listen"], firstLine: 2, line: 5 });
  });

  it("finds a key repeated in a nested object", () => {
    const text = JSON.stringify(
      { providers: { twilio: { authToken: "a", from: "b" } } },
      null,
      2,
    ).replace('"from"', '"authToken"');

    expect(findDuplicateKey(text)).toEqual({
      path: ["providers", "twilio", "authToken"],
      firstLine: 4,
      line: 5,
    });
  });

  it("finds a key repeated in an array item", () => {
    const text = '{"items": [{"a": 1}, {"b": 2, "b": 3}]}';

    expect(findDuplicateKey(text)?.path).toEqual(["items", 1, "b"]);
  });

  it("counts array items after nested arrays", () => {
    const text = '{"items": [[1, 2], {"x": [3, 4]}, {"c": 1, "c": 2}]}';

    expect(findDuplicateKey(text)?.path).toEqual(["items", 2, "c"]);
  });

  it("decodes escapes before comparing", () => {
    const text = '{"ab": 1, "a\\u0062": 2}';

    expect(findDuplicateKey(text)).toEqual({ path: ["ab"], firstLine: 1, line: 1 });
  });

  it("reads escaped quotes inside keys", () => {
    const text = '{"a\\"b": 1, "a\\\\": 2, "a\\"b": 3}';

    expect(findDuplicateKey(text)?.path).toEqual(['a"b']);
  });

  it("allows a key in sibling objects", () => {
    const text = '{"a": {"path": 1}, "b": {"path": 2}, "list": [{"path": 3}, {"path": 4}]}';

    expect(findDuplicateKey(text)).toBeUndefined();
  });

  it("allows a key in parent and child", () => {
    expect(findDuplicateKey('{"a": {"a": {"a": 1}}}')).toBeUndefined();
  });

  it("ignores strings that are values", () => {
    const text = '{"a": "b", "b": "a", "list": ["a", "a"]}';

    expect(findDuplicateKey(text)).toBeUndefined();
  });

  it("ignores braces and commas inside strings", () => {
    const text = '{"a": "{\\"a\\": 1, \\"a\\": 2}", "b": "}, \\"a\\""}';

    expect(findDuplicateKey(text)).toBeUndefined();
  });

  it("accepts documents without objects", () => {
    for (const text of ["[]", "[1, [2]]", '"text"', "42", "null", "{}"]) {
      expect(findDuplicateKey(text)).toBeUndefined();
    }
  });

  it("finds none in any serialised value", () => {
    fc.assert(
      fc.property(fc.jsonValue(), (value) => {
        expect(findDuplicateKey(JSON.stringify(value, null, 2))).toBeUndefined();
      }),
    );
  });
});
