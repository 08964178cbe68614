/**
 * `smsgate optout export`: writes the current state of every opted-out number as CSV with
 * the columns of `optout import`, or as JSON Lines. It carries the deciding event of each
 * number, not the full history.
 */

import type { ConsentState } from "../consent/types.js";
import { csvRecord } from "./optout-csv.js";
import { importColumns } from "./optout-import.js";
import { type CliIo, ExitCode, writeLineDrained } from "./output.js";
import type { Runtime } from "./runtime.js";

/** Output formats of `optout export`. */
export const exportFormats = ["csv", "jsonl"] as const;

/** One of {@link exportFormats}. */
export type ExportFormat = (typeof exportFormats)[number];

function exportValues(state: ConsentState): string[] {
  const last = state.lastEvent;

  return [
    state.phone,
    "opt-out",
    last?.sender ?? state.scope,
    last?.occurredAt.toISOString() ?? "",
    last?.note ?? "",
  ];
}

function exportLine(state: ConsentState, format: ExportFormat): string {
  const values = exportValues(state);

  if (format === "csv") {
    return csvRecord(values);
  }

  const entries = importColumns.map((column, index) => [column, values[index]]);
  const record = Object.fromEntries(entries) as Record<string, string | null>;
  record.note = state.lastEvent?.note ?? null;

  return JSON.stringify(record);
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
  if (format === "csv") {
    await writeLineDrained(io.stdout, importColumns.join(","));
  }

  for await (const state of runtime.store.listOptedOut(scope)) {
    await writeLineDrained(io.stdout, exportLine(state, format));
  }

  return ExitCode.ok;
}
