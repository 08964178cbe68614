/**
 * `smsgate optout import FILE`: records the consent events of a CSV file in one
 * transaction. The file is read as a stream, but the valid rows are held in memory until
 * the commit, so a file may have at most {@link maxImportRows} data rows.
 *
 * Event ids are derived from the SHA-256 of the file's bytes and the line number, and the
 * receipt id from the hash alone, so importing the same file again writes nothing. An
 * edited file is a new import.
 */

import { createHash } from "node:crypto";
import { createReadStream } from "node:fs";
import { stat } from "node:fs/promises";
import { TextDecoder } from "node:util";
import { pseudonymKeyCheck } from "../consent/erasure.js";
import {
  earliestOccurredAt,
  findOccurredAtProblem,
  latestOccurredAt,
} from "../consent/event-time.js";
import { keepPseudonymKey } from "../consent/pseudonym-key.js";
import { characterCount, isTooLongNote, MAX_NOTE_LENGTH } from "../consent/state.js";
import type { ConsentAction, ConsentEvent } from "../consent/types.js";
import { isInvalidPhoneNumberError } from "../errors.js";
import type { CountryCode } from "../phone/index.js";
import { CsvReader, type CsvRecord, detectUtf16 } from "./optout-csv.js";
import {
  type ConsentIdentity,
  describeKind,
  isSendRecipient,
  readConsentIdentity,
} from "./optout-identity.js";
import { normalizeScope } from "./optout-scope.js";
import { type CliIo, ExitCode, errorMessage, writeError, writeJson, writeLine } from "./output.js";
import type { Runtime } from "./runtime.js";

/** Columns of an import file, and of an export in CSV. */
export const importColumns = [
  "phone",
  "action",
  "scope",
  "occurredAt",
  "note",
  "pseudonymKeyCheck",
] as const;

// Rows are checked against the range that the stores check at the commit. The clock is read
// when the import starts, so a row accepted here is accepted by the store too, unless the
// clock is set back in between.
export { earliestOccurredAt, maxClockSkewMs } from "../consent/event-time.js";

/** Maximum data rows of one import file; split a larger file into several. */
export const maxImportRows = 500_000;

/** Skipped lines, and lines with a warning, kept for the report; the counts cover all. */
const maxReportedErrors = 100;

/** Skipped lines, and lines with a warning, printed in text output. */
const printedErrors = 10;

type Column = (typeof importColumns)[number];

/** A line of the file that was skipped (an error) or imported with a warning. */
export interface ImportError {
  line: number;
  message: string;
}

/** A valid row, before its event id is known. */
interface ImportRow {
  line: number;
  phone: string;
  phoneKind: ConsentIdentity["kind"];
  action: ConsentAction;
  scope: string;
  occurredAt: Date;
  note: string | undefined;
  /** The check value of the key that made an erased number's pseudonym, as exported. */
  keyCheck: string | undefined;
}

/** The valid rows, the invalid lines and the hash of an import file. */
interface ParsedFile {
  rows: ImportRow[];
  /** Skipped lines, the first 100. */
  errors: ImportError[];
  /** Imported lines that need a look, such as a word in the phone column; the first 100. */
  warnings: ImportError[];
  warningCount: number;
  skipped: number;
  hash: string;
  header: string[] | undefined;
}

class ImportFileError extends Error {}

/** Runs `optout import FILE` and resolves with its exit code. */
export async function runImport(
  runtime: Runtime,
  io: CliIo,
  file: string,
  json: boolean,
): Promise<number> {
  const problem = await fileProblem(file);

  if (problem !== undefined) {
    return rejectFile(io, json, `import file ${file} ${problem}`);
  }

  let parsed: ParsedFile;
  try {
    parsed = await parseImportFile(file, runtime.config.defaultRegion as CountryCode | undefined);
  } catch (error) {
    if (error instanceof ImportFileError) {
      return rejectFile(io, json, error.message);
    }

    throw error;
  }

  const erased = parsed.rows.filter((row) => row.phoneKind === "pseudonym");

  if (erased.length > 0) {
    const key = runtime.config.privacy.pseudonymKey;
    const problem = findErasedRowProblem(erased, key);

    if (problem !== undefined) {
      return rejectFile(io, json, problem);
    }

    // The store keeps the key's check value before it contains erased numbers, so that a later
    // start with another key stops instead of sending to them. Without a key, the check
    // above has already rejected the file.
    if (key !== undefined) {
      await keepPseudonymKey(runtime.store, key);
    }
  }

  const events = parsed.rows.map((row) => importEvent(row, parsed.hash));
  let result: { duplicate: boolean };

  try {
    // A file without valid rows leaves no receipt, so that its next import, once corrected
    // or not, is not reported as one that was imported before.
    result =
      events.length === 0
        ? { duplicate: false }
        : await runtime.store.commitWebhook({
            id: `import:${parsed.hash}`,
            provider: "import",
            events,
            outbox: [],
            receivedAt: new Date(),
          });
  } catch (error) {
    const message =
      `import of ${file} failed, because the store did not record its events ` +
      `(${errorMessage(error)}). Nothing was imported; run the import again`;

    return rejectFile(io, json, message, ExitCode.failure);
  }

  const imported = result.duplicate ? 0 : events.length;
  printReport(io, { file, imported, duplicate: result.duplicate, parsed, json });
  return parsed.skipped > 0 ? ExitCode.skippedLines : ExitCode.ok;
}

/**
 * Checks that erased rows can be imported with `key`. A pseudonym blocks sends only under
 * the key that made it, so every erased row must carry that key's check value, as
 * `optout export` writes it, and the value must be that of `key`. Returns the message for
 * the first row that fails, or `undefined`.
 */
function findErasedRowProblem(
  rows: readonly ImportRow[],
  key: string | undefined,
): string | undefined {
  const first = rows[0];

  if (first === undefined) {
    return undefined;
  }

  if (key === undefined) {
    return (
      `line ${first.line} contains an erased number (a pseudonym made by optout forget), ` +
      "which blocks sends only with the pseudonym key that made it. Set " +
      "privacy.pseudonymKey to the key of the store the file was exported from, then " +
      "import it again. Nothing was imported"
    );
  }

  const expected = pseudonymKeyCheck(key);

  for (const row of rows) {
    if (row.keyCheck === undefined) {
      return (
        `line ${row.line} contains an erased number without a pseudonymKeyCheck value, so ` +
        "it cannot be checked that privacy.pseudonymKey made it. Export the file again " +
        "with optout export, which writes that column. Nothing was imported"
      );
    }

    if (row.keyCheck !== expected) {
      return (
        `line ${row.line} contains an erased number made with another pseudonym key than ` +
        "privacy.pseudonymKey, so it would block no send. Set privacy.pseudonymKey to the " +
        "key of the store the file was exported from. Nothing was imported"
      );
    }
  }

  return undefined;
}

/** Says what is wrong with the import path, or nothing when it is a readable file. */
async function fileProblem(file: string): Promise<string | undefined> {
  try {
    const stats = await stat(file);

    if (stats.isDirectory()) {
      return "is a directory; give the path of the CSV file";
    }

    return stats.isFile() ? undefined : "is not a regular file; give the path of the CSV file";
  } catch {
    return "not found; check the path";
  }
}

function importEvent(row: ImportRow, hash: string): ConsentEvent {
  return {
    id: `import:${hash}:${row.line}`,
    phone: row.phone,
    action: row.action,
    sender: row.scope,
    source: "import",
    note: row.note,
    occurredAt: row.occurredAt,
  };
}

/**
 * Reads and checks an import file.
 *
 * @throws {ImportFileError} when the file looks like UTF-16, the header has no `phone`
 *   column, a record is malformed CSV or the file is too long.
 */
async function parseImportFile(file: string, region: CountryCode | undefined): Promise<ParsedFile> {
  const parsed: ParsedFile = {
    rows: [],
    errors: [],
    warnings: [],
    warningCount: 0,
    skipped: 0,
    hash: "",
    header: undefined,
  };
  const hash = createHash("sha256");
  // `fatal` rejects bytes that are not UTF-8, such as a note saved as Latin-1, which a
  // lenient decoder would store as U+FFFD. `ignoreBOM` keeps a BOM for the CSV reader.
  const decoder = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true });
  const reader = new CsvReader();
  const now = new Date();
  const accept = (records: CsvRecord[]) => {
    for (const record of records) {
      acceptRecord(parsed, record, region, now);
    }
  };

  let offset = 0;

  for await (const chunk of createReadStream(file)) {
    if (offset === 0) {
      rejectUtf16(file, chunk as Buffer);
    }

    hash.update(chunk as Buffer);
    accept(reader.push(decodeUtf8(file, decoder, chunk as Buffer, offset)));
    offset += (chunk as Buffer).length;
  }

  accept(reader.push(decodeUtf8(file, decoder, undefined, offset)));
  accept(reader.end());

  if (parsed.header === undefined) {
    throw new ImportFileError(`import file ${file} is empty; the first line must be a header`);
  }

  parsed.hash = hash.digest("hex").slice(0, 32);
  return parsed;
}

/**
 * Decodes the next chunk of a file, or the end of it when `chunk` is undefined.
 *
 * @throws {ImportFileError} for bytes that are not UTF-8, naming the chunk's offset.
 */
function decodeUtf8(
  file: string,
  decoder: TextDecoder,
  chunk: Buffer | undefined,
  offset: number,
): string {
  try {
    return chunk === undefined ? decoder.decode() : decoder.decode(chunk, { stream: true });
  } catch {
    const position = offset + (chunk === undefined ? 0 : firstInvalidUtf8Byte(chunk));

    throw new ImportFileError(
      `import file ${file} is not valid UTF-8 at byte ${position}, as a file saved as ` +
        'Latin-1 or Windows-1252 is not; save it as UTF-8, such as "CSV UTF-8" in a ' +
        "spreadsheet, and import it again. Nothing was imported",
    );
  }
}

/**
 * Returns the offset of the first byte of `bytes` that starts no valid UTF-8 sequence. It
 * returns 0 when it finds none, as when the bad sequence began in an earlier chunk. It does
 * not check for overlong forms and surrogates, which the decoder also rejects.
 */
function firstInvalidUtf8Byte(bytes: Uint8Array): number {
  let index = 0;

  while (index < bytes.length) {
    const length = utf8SequenceLength(bytes[index] as number);
    const continuations = bytes.subarray(index + 1, index + length);

    if (length === 0 || continuations.some((byte) => (byte & 0xc0) !== 0x80)) {
      return index;
    }

    // A sequence cut off by the end of the chunk is completed by the next one.
    if (continuations.length < length - 1) {
      return 0;
    }

    index += length;
  }

  return 0;
}

/** Returns the length of the UTF-8 sequence that `byte` starts, or 0 when it starts none. */
function utf8SequenceLength(byte: number): number {
  if (byte < 0x80) {
    return 1;
  }

  if (byte >= 0xc2 && byte < 0xe0) {
    return 2;
  }

  if (byte >= 0xe0 && byte < 0xf0) {
    return 3;
  }

  return byte >= 0xf0 && byte < 0xf5 ? 4 : 0;
}

/**
 * Rejects a file whose first bytes look like UTF-16, as spreadsheets save "Unicode text".
 * Read as UTF-8, its header would not match any column name.
 */
function rejectUtf16(file: string, head: Buffer): void {
  const sign = detectUtf16(head);

  if (sign !== undefined) {
    throw new ImportFileError(
      `import file ${file} looks like UTF-16 text (${sign}); save it as UTF-8, such as ` +
        '"CSV UTF-8" in a spreadsheet, and import it again. Nothing was imported',
    );
  }
}

function acceptRecord(
  parsed: ParsedFile,
  record: CsvRecord,
  region: CountryCode | undefined,
  now: Date,
): void {
  if (parsed.header === undefined) {
    parsed.header = readHeader(parsed, record);
    return;
  }

  // After a quoting error the reader cannot tell where the following records start, so
  // later rows may be lost or merged into one. The whole file is rejected instead.
  if (record.error !== undefined) {
    throw new ImportFileError(
      `invalid CSV on line ${record.line}: ${record.error}. Nothing was imported; ` +
        "fix the file and import it again",
    );
  }

  if (parsed.rows.length >= maxImportRows) {
    throw new ImportFileError(
      `import file has more than ${maxImportRows} data rows; split it into smaller files`,
    );
  }

  try {
    const row = readRow(parsed.header, record, region, now);

    parsed.rows.push(row);
    noteNonRecipient(parsed, row);
  } catch (error) {
    if (!(error instanceof RowError)) {
      throw error;
    }

    if (parsed.errors.length < maxReportedErrors) {
      parsed.errors.push({ line: record.line, message: error.message });
    }

    parsed.skipped += 1;
  }
}

/**
 * Lists a row whose phone is an identity that no message is sent to, such as a word in a
 * shifted column. It is imported, because an export writes such identities, but it blocks
 * no send.
 */
function noteNonRecipient(parsed: ParsedFile, row: ImportRow): void {
  const identity = { value: row.phone, kind: row.phoneKind };

  if (isSendRecipient(identity)) {
    return;
  }

  warn(
    parsed,
    row.line,
    `phone ${JSON.stringify(row.phone)} is ${describeKind(row.phoneKind)}, not a phone ` +
      "number, so it was imported but blocks no send; check that the columns match the header",
  );
}

/** Counts a warning about a line that is imported, and keeps the first 100. */
function warn(parsed: ParsedFile, line: number, message: string): void {
  parsed.warningCount += 1;

  if (parsed.warnings.length < maxReportedErrors) {
    parsed.warnings.push({ line, message });
  }
}

function readHeader(parsed: ParsedFile, record: CsvRecord): string[] {
  if (record.error !== undefined) {
    throw new ImportFileError(`invalid header on line ${record.line}: ${record.error}`);
  }

  // Names match the columns whatever their case, so that `Phone` is the phone column.
  const header = record.fields.map((name) => canonicalColumn(name.trim()));
  const repeated = header.find((name, index) => header.indexOf(name) !== index);

  if (repeated !== undefined) {
    throw new ImportFileError(
      `the header names the column ${JSON.stringify(repeated)} more than once, so the ` +
        "values of one of them would be lost; give each column once. Nothing was imported",
    );
  }

  if (!header.includes("phone")) {
    throw new ImportFileError(
      `the header has no phone column; name the columns ${importColumns.join(",")}`,
    );
  }

  for (const name of header) {
    if (!(importColumns as readonly string[]).includes(name)) {
      const allowed = importColumns.join(", ");
      warn(
        parsed,
        record.line,
        `unknown column ${JSON.stringify(name)} is ignored; columns are ${allowed}`,
      );
    }
  }

  return header;
}

/** Returns the import column that `name` names in any case, or `name` when there is none. */
function canonicalColumn(name: string): string {
  const lower = name.toLowerCase();

  return importColumns.find((column) => column.toLowerCase() === lower) ?? name;
}

class RowError extends Error {}

function readRow(
  header: string[],
  record: CsvRecord,
  region: CountryCode | undefined,
  now: Date,
): ImportRow {
  if (record.fields.length !== header.length) {
    throw new RowError(
      `has ${countOf(record.fields.length, "field")}, but the header has ${header.length}`,
    );
  }

  const value = (column: Column) => {
    const index = header.indexOf(column);
    const text = index === -1 ? "" : (record.fields[index] ?? "").trim();
    return text === "" ? undefined : text;
  };

  const identity = readPhone(value("phone"), region);
  const action = readAction(value("action"));

  return {
    line: record.line,
    phone: identity.value,
    phoneKind: identity.kind,
    action,
    scope: readScope(requireOptInScope(action, value("scope")), region),
    occurredAt: readTime(value("occurredAt"), now),
    note: readNote(value("note")),
    keyCheck: value("pseudonymKeyCheck"),
  };
}

function readNote(note: string | undefined): string | undefined {
  if (note !== undefined && isTooLongNote(note)) {
    throw new RowError(
      `has a note of ${characterCount(note)} characters, but a note has at most ` +
        `${MAX_NOTE_LENGTH}; shorten it`,
    );
  }

  return note;
}

function readPhone(text: string | undefined, region: CountryCode | undefined): ConsentIdentity {
  if (text === undefined) {
    throw new RowError("phone is empty");
  }

  // An erased number moved from another store keeps its pseudonym, and a channel address or
  // sender ID keeps the key that its webhook events are stored under.
  try {
    return readConsentIdentity(text, region);
  } catch (error) {
    if (isInvalidPhoneNumberError(error)) {
      throw new RowError(`invalid phone number ${JSON.stringify(text)}: ${error.detail}`);
    }

    throw error;
  }
}

/**
 * Returns the scope of a row, which an opt-in must name. An empty scope means `*`, and an
 * opt-in for `*` lifts the opt-outs of every sender, so a scope column that is missing or
 * misspelled must not make one by default.
 */
function requireOptInScope(action: ConsentAction, scope: string | undefined): string | undefined {
  if (action === "opt-in" && scope === undefined) {
    throw new RowError(
      'opt-in has no scope; write the sender it applies to, or "*" to lift the opt-outs of ' +
        "every sender",
    );
  }

  return scope;
}

// Actions match in any case, as column names do, so a spreadsheet's `OPT-OUT` is read.
function readAction(text: string | undefined): ConsentAction {
  const action = text?.toLowerCase();

  if (action === undefined || action === "opt-out" || action === "opt-in") {
    return action ?? "opt-out";
  }

  throw new RowError(`unknown action ${JSON.stringify(text)}; use opt-out or opt-in`);
}

function readScope(text: string | undefined, region: CountryCode | undefined): string {
  try {
    return normalizeScope(text, region);
  } catch {
    throw new RowError(`invalid scope ${JSON.stringify(text)}; use a sender or *`);
  }
}

// ISO 8601 date and time with a UTC offset or Z, or a date alone (midnight UTC). The groups
// are year, month, day, hour, minute, second, and the offset's hours and minutes.
const isoTime =
  /^(\d{4})-(\d{2})-(\d{2})(?:T(\d{2}):(\d{2})(?::(\d{2})(?:\.\d{1,9})?)?(?:Z|[+-](\d{2}):?(\d{2})))?$/;

/** Counts the days of a month (1 to 12) in the Gregorian calendar. */
function countDaysInMonth(year: number, month: number): number {
  if (month === 2) {
    const leap = (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0;
    return leap ? 29 : 28;
  }

  return [4, 6, 9, 11].includes(month) ? 30 : 31;
}

/**
 * Names the first field of a matched date and time that is out of its range, such as day
 * 30 of a February. `Date` would roll such a value over (to 2024-03-01) instead of
 * rejecting it.
 */
function findOutOfRangeField(match: RegExpExecArray): string | undefined {
  const [, yearText = "", monthText = "", dayText = ""] = match;
  const month = Number(monthText);

  if (month < 1 || month > 12) {
    return `month ${monthText} does not exist`;
  }

  const daysInMonth = countDaysInMonth(Number(yearText), month);
  const day = Number(dayText);

  if (day < 1 || day > daysInMonth) {
    return `day ${dayText} does not exist in ${yearText}-${monthText}, which has ${daysInMonth} days`;
  }

  const limits: Array<[string, string | undefined, number]> = [
    ["hour", match[4], 23],
    ["minute", match[5], 59],
    ["second", match[6], 59],
    ["UTC offset hour", match[7], 23],
    ["UTC offset minute", match[8], 59],
  ];

  for (const [name, text, max] of limits) {
    if (text !== undefined && Number(text) > max) {
      return `${name} ${text} is out of range (00 to ${max})`;
    }
  }

  return undefined;
}

function readTime(text: string | undefined, now: Date): Date {
  if (text === undefined) {
    return now;
  }

  const match = isoTime.exec(text);
  const outOfRange = match === null ? undefined : findOutOfRangeField(match);

  if (outOfRange !== undefined) {
    throw new RowError(`invalid occurredAt ${JSON.stringify(text)}: ${outOfRange}`);
  }

  const time = new Date(text);

  if (match === null || Number.isNaN(time.getTime())) {
    throw new RowError(
      `invalid occurredAt ${JSON.stringify(text)}; use ISO 8601 such as 2025-01-15T10:00:00Z`,
    );
  }

  const problem = findOccurredAtProblem(time, now);

  if (problem === "after-latest") {
    const latest = latestOccurredAt(now).toISOString();
    throw new RowError(
      `occurredAt ${JSON.stringify(text)} is in the future (after ${latest}); ` +
        "correct the date, or leave occurredAt empty to use the time of the import",
    );
  }

  if (problem === "before-earliest") {
    throw new RowError(
      `occurredAt ${JSON.stringify(text)} is before ${earliestOccurredAt.toISOString()}, ` +
        "earlier than any SMS opt-out record; correct the date",
    );
  }

  return time;
}

interface Report {
  file: string;
  imported: number;
  duplicate: boolean;
  parsed: ParsedFile;
  json: boolean;
}

function printReport(io: CliIo, report: Report): void {
  const { imported, duplicate, parsed } = report;

  if (report.json) {
    const { skipped, errors, warnings } = parsed;

    writeJson(io.stdout, { imported, skipped, duplicate, errors, warnings });
    return;
  }

  const again = duplicate ? " (this file was imported before, so nothing was written)" : "";
  writeLine(io.stdout, `Imported ${countOf(imported, "event")} from ${report.file}${again}.`);

  if (parsed.warningCount > 0) {
    writeLine(io.stdout, `Warnings on ${countOf(parsed.warningCount, "imported line")}:`);
  }

  printLines(io, parsed.warnings, parsed.warningCount);

  if (parsed.skipped > 0) {
    const lines = parsed.skipped === 1 ? "line" : "lines";
    writeLine(io.stdout, `Skipped ${parsed.skipped} invalid ${lines}.`);
  }

  printLines(io, parsed.errors, parsed.skipped);
}

/** Prints the first 10 reported lines, and how many of `total` it left out. */
function printLines(io: CliIo, reported: readonly ImportError[], total: number): void {
  const printed = reported.slice(0, printedErrors);

  for (const entry of printed) {
    writeLine(io.stdout, `  line ${entry.line}: ${entry.message}`);
  }

  if (total > printed.length) {
    writeLine(io.stdout, `  and ${total - printed.length} more (--json lists up to 100)`);
  }
}

/**
 * Reports a file that was rejected whole, with nothing imported, and returns exit code 2.
 * With `--json`, stdout also gets the report, with the reason under `error`.
 */
function rejectFile(
  io: CliIo,
  json: boolean,
  message: string,
  code: number = ExitCode.usage,
): number {
  writeError(io, message);

  if (json) {
    const report = { imported: 0, skipped: 0, duplicate: false, errors: [], warnings: [] };

    writeJson(io.stdout, { ...report, error: message });
  }

  return code;
}

/** Writes a count with its noun, in the plural unless the count is 1. */
function countOf(count: number, noun: string): string {
  return `${count} ${count === 1 ? noun : `${noun}s`}`;
}
