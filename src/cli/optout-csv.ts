/**
 * A streaming CSV reader and writer for `optout import` and `optout export`. The reader
 * follows RFC 4180: fields separated by commas, quoted fields that may contain commas,
 * line breaks and `""` for a quote, and records ended by LF or CRLF. A leading byte order
 * mark and empty lines are skipped.
 */

/** Maximum characters of one record; a longer record is reported malformed. */
export const maxRecordLength = 64 * 1024;

/** One record of the file, or the reason it could not be read. */
export interface CsvRecord {
  /** Line of the file on which the record starts, from 1. */
  line: number;
  fields: string[];
  /** Set when the record is malformed; `fields` is then incomplete. */
  error?: string | undefined;
}

type Mode = "start" | "unquoted" | "quoted" | "quote-in-quoted" | "after-quoted";

/** Turns text chunks into records. Call {@link CsvReader.push} per chunk, then `end`. */
export class CsvReader {
  #mode: Mode = "start";
  #field = "";
  #fields: string[] = [];
  #length = 0;
  #error: string | undefined;
  #line = 1;
  #recordLine = 1;
  #pendingCr = false;
  #first = true;
  #records: CsvRecord[] = [];

  /** Reads one chunk and returns the records it completed. */
  push(chunk: string): CsvRecord[] {
    for (const char of chunk) {
      this.#read(char);
    }

    return this.#take();
  }

  /** Ends the input and returns the last record, if any. */
  end(): CsvRecord[] {
    if (this.#pendingCr) {
      this.#pendingCr = false;
      this.#line += 1;
      this.#endRecord();
    }

    if (this.#mode === "quoted") {
      this.#error ??=
        "a quoted field that starts in this record is not closed by the end of the file, " +
        'so every later line was read into it; close the quote, and write "" for a quote ' +
        "inside a quoted field";
    }

    if (this.#mode !== "start" || this.#fields.length > 0 || this.#error !== undefined) {
      this.#endRecord();
    }

    return this.#take();
  }

  #take(): CsvRecord[] {
    const records = this.#records;
    this.#records = [];
    return records;
  }

  #read(char: string): void {
    if (this.#first) {
      this.#first = false;
      if (char === "\uFEFF") return;
    }

    // A CR outside quotes ends the record, together with the LF that follows it.
    if (this.#pendingCr) {
      this.#pendingCr = false;
      this.#line += 1;
      this.#endRecord();
      if (char === "\n") return;
    }

    if (char === "\n") {
      this.#line += 1;
    }

    if (this.#mode === "quoted") {
      this.#readQuoted(char);
      return;
    }

    this.#readOutsideQuotes(char);
  }

  #readQuoted(char: string): void {
    if (char === '"') {
      this.#mode = "quote-in-quoted";
      return;
    }

    this.#append(char);
  }

  #readOutsideQuotes(char: string): void {
    if (this.#mode === "quote-in-quoted") {
      if (char === '"') {
        this.#mode = "quoted";
        this.#append(char);
        return;
      }

      this.#mode = "after-quoted";
    }

    if (char === ",") {
      this.#endField();
      return;
    }

    if (char === "\r" || char === "\n") {
      if (char === "\r") {
        this.#pendingCr = true;
        return;
      }

      this.#endRecord();
      return;
    }

    this.#readData(char);
  }

  #readData(char: string): void {
    if (this.#mode === "after-quoted") {
      this.#fail(`unexpected ${JSON.stringify(char)} after a closing quote`);
      return;
    }

    if (char === '"') {
      if (this.#mode === "start") {
        this.#mode = "quoted";
        return;
      }

      this.#fail('a quote inside an unquoted field; quote the field and write ""');
      return;
    }

    this.#mode = "unquoted";
    this.#append(char);
  }

  #append(char: string): void {
    this.#length += char.length;

    if (this.#length > maxRecordLength) {
      this.#fail(`the record is longer than ${maxRecordLength} characters`);
      return;
    }

    this.#field += char;
  }

  /** Keeps the first error of the record, naming its line when the record spans several. */
  #fail(message: string): void {
    const where = this.#line === this.#recordLine ? "" : ` (on line ${this.#line})`;

    this.#error ??= `${message}${where}`;
  }

  #endField(): void {
    this.#fields.push(this.#field);
    this.#field = "";
    this.#mode = "start";
  }

  #endRecord(): void {
    const blank = this.#fields.length === 0 && this.#field === "" && this.#mode === "start";

    if (!blank || this.#error !== undefined) {
      this.#endField();
      this.#records.push({ line: this.#recordLine, fields: this.#fields, error: this.#error });
    }

    this.#fields = [];
    this.#field = "";
    this.#mode = "start";
    this.#length = 0;
    this.#error = undefined;
    this.#recordLine = this.#line;
  }
}

/** Bytes at the start of a file that {@link detectUtf16} looks at. */
const utf16SampleBytes = 1024;

/**
 * Returns what makes the start of a file look like UTF-16 (a UTF-16 byte order mark, or a
 * NUL byte, which UTF-8 text does not contain), or `undefined` when nothing does. A UTF-8
 * byte order mark is no sign of UTF-16.
 */
export function detectUtf16(head: Uint8Array): string | undefined {
  const [first, second] = head;

  if ((first === 0xff && second === 0xfe) || (first === 0xfe && second === 0xff)) {
    return "it starts with a UTF-16 byte order mark";
  }

  return head.subarray(0, utf16SampleBytes).includes(0) ? "it contains NUL bytes" : undefined;
}

/** Formats one CSV field, quoting it when it contains a comma, quote or line break. */
export function csvField(value: string): string {
  return /[",\r\n]/.test(value) ? `"${value.replaceAll('"', '""')}"` : value;
}

/** Formats one CSV record, without the line ending. */
export function csvRecord(values: readonly string[]): string {
  return values.map(csvField).join(",");
}
