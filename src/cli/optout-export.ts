/**
 * `smsgate optout export`: writes the current state of every opted-out number as CSV with
 * the columns of `optout import`, or as JSON Lines. It carries the deciding event of each
 * number, not the full history.
 */

import { isPseudonym, pseudonymKeyCheck } from "../consent/erasure.js";
import { isPseudonymKeyStore } from "../consent/pseudonym-key.js";
import type { ConsentState } from "../consent/types.js";
import { csvRecord } from "./optout-csv.js";
import { importColumns } from "./optout-import.js";
import { type CliIo, ExitCode, writeLineDrained } from "./output.js";
import type { Runtime } from "./runtime.js";

/** Output formats of `optout export`. */
export const exportFormats = ["csv", "jsonl"] as const;

/** One of {@link exportFormats}. */
export type ExportFormat = (typeof exportFormats)[number];

/**
 * Lists the values of one row. An erased number carries the check value of the key that
 * made its pseudonym, so that `optout import` can reject a store configured with another key.
 */
function exportValues(state: ConsentState, keyCheck: string): string[] {
  const last = state.lastEvent;

  return [
    state.phone,
    "opt-out",
    last?.sender ?? state.scope,
    last?.occurredAt.toISOString() ?? "",
    last?.note ?? "",
    isPseudonym(state.phone) ? keyCheck : "",
  ];
}

function exportLine(state: ConsentState, format: ExportFormat, keyCheck: string): string {
  const values = exportValues(state, keyCheck);

  if (format === "csv") {
    return csvRecord(values);
  }

  const entries = importColumns.map((column, index) => [column, values[index]]);
  const record = Object.fromEntries(entries) as Record<string, string | null>;
  record.note = state.lastEvent?.note ?? null;
  record.pseudonymKeyCheck = record.pseudonymKeyCheck || null;

  return JSON.stringify(record);
}

/**
 * Returns the check value of the key that made the store's pseudonyms: the value the store
 * kept, else that of the configured key, else `""` when there is neither.
 */
async function readKeyCheck(runtime: Runtime): Promise<string> {
  const { store } = runtime;
  const storedCheck = isPseudonymKeyStore(store)
    ? (await store.pseudonymKeyStatus()).keyCheck
    : undefined;
  const key = runtime.config.privacy.pseudonymKey;

  return storedCheck ?? (key === undefined ? "" : pseudonymKeyCheck(key));
}

/**
 * Streams the opted-out numbers of `scope` to stdout, one line each, waiting whenever the
 * output buffer is full, so memory stays flat for any number of rows.
 */
export async function runExport(
  runtime: Runtime,
  io: CliIo,
  scope: string,
  format: ExportFormat,
): Promise<number> {
  const keyCheck = await readKeyCheck(runtime);

  if (format === "csv") {
    await writeLineDrained(io.stdout, importColumns.join(","));
  }

  for await (const state of runtime.store.listOptedOut(scope)) {
    await writeLineDrained(io.stdout, exportLine(state, format, keyCheck));
  }

  return ExitCode.ok;
}
