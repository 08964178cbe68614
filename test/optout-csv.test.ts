import { describe, expect, it } from "vitest";
import { CsvReader, csvRecord, maxRecordLength } from "../src/cli/optout-csv.js";

function readAll(text: string, chunkSize = 3) {
  const reader = new CsvReader();
  const records = [];

  for (let start = 0; start < text.length; start += chunkSize) {
    records.push(...reader.push(text.slice(start, start + chunkSize)));
  }

  return [...records, ...reader.end()];
}

describe("CSV reader", () => {
  it("reads quoted fields and escapes", () => {
    const records = readAll('phone,note\n+1,"a ""b"", c"\n');

    expect(records.map((r) => r.fields)).toEqual([
      ["phone", "note"],
      ["+1", 'a "b", c'],
    ]);
  });

  it("handles BOM, CRLF and blank lines", () => {
    const records = readAll("\uFEFFphone\r\n+1\r\n\r\n+2\r\n");

    expect(records.map((r) => r.fields)).toEqual([["phone"], ["+1"], ["+2"]]);
    expect(records.map((r) => r.line)).toEqual([1, 2, 4]);
  });

  it("counts lines inside quoted fields", () => {
    const records = readAll('phone,note\n+1,"two\r\nlines"\n+2,x');

    expect(records.map((r) => r.line)).toEqual([1, 2, 4]);
    expect(records[1]?.fields[1]).toBe("two\r\nlines");
    expect(records[2]?.fields).toEqual(["+2", "x"]);
  });

  it("keeps empty fields", () => {
    expect(readAll("a,,\n")[0]?.fields).toEqual(["a", "", ""]);
  });

  it("reports stray quotes", () => {
    const records = readAll('phone\n+1"x\n"+2"y\n+3\n');

    expect(records[1]?.error).toContain("quote inside an unquoted field");
    expect(records[2]?.error).toContain("after a closing quote");
    expect(records[3]).toEqual({ line: 4, fields: ["+3"], error: undefined });
  });

  it("reports an unclosed quote", () => {
    const records = readAll('phone\n"+1\n+2\n');

    expect(records).toHaveLength(2);
    expect(records[1]?.line).toBe(2);
    expect(records[1]?.error).toContain("a quoted field that starts in this record is not closed");
    expect(records[1]?.error).toContain("close the quote");
  });

  it("names the line of a later quote error", () => {
    const records = readAll('phone,note\n+1,"open\n+2,x\n+3,"y\n');

    expect(records).toHaveLength(2);
    expect(records[1]?.line).toBe(2);
    expect(records[1]?.error).toBe('unexpected "y" after a closing quote (on line 4)');
  });

  it("bounds the record length", () => {
    const records = readAll(`phone\n${"9".repeat(maxRecordLength + 1)}\n+2\n`, 4096);

    expect(records[1]?.error).toContain("longer than");
    expect(records[1]?.fields[0]?.length).toBe(maxRecordLength);
    expect(records[2]?.fields).toEqual(["+2"]);
  });

  it("writer output reads back", () => {
    const values = ["+1", 'say "hi", ok', "two\nlines", ""];

    expect(readAll(`${csvRecord(values)}\n`)[0]?.fields).toEqual(values);
  });
});
