/**
 * `smsgate optout export`: writes the current consent state as CSV with the columns of
 * `optout import`, or as JSON Lines. It carries deciding events, not the full history:
 * without `--scope`, the deciding event of every sender of every number, opt-ins included,
 * so that an import rebuilds each number's state in every scope. With `--scope`, one
 * opt-out per number opted out in that scope.
 */

import { isSenderStateStore } from "../consent/capabilities.js";
import { isPseudonym, pseudonymKeyCheck } from "../consent/erasure.js";
import { isPseudonymKeyStore } from "../consent/pseudonym-key.js";
import {
  ALL_SENDERS,
  type ConsentEvent,
  type ConsentState,
  type OptOutStore,
} from "../consent/types.js";
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
function exportValues(event: ConsentEvent, keyCheck: string): string[] {
  return [
    event.phone,
    event.action,
    event.sender,
    event.occurredAt.toISOString(),
    event.note ?? "",
    isPseudonym(event.phone) ? keyCheck : "",
  ];
}

function exportLine(event: ConsentEvent, format: ExportFormat, keyCheck: string): string {
  const values = exportValues(event, keyCheck);

  if (format === "csv") {
    return csvRecord(values);
  }

  const entries = importColumns.map((column, index) => [column, values[index]]);
  const record = Object.fromEntries(entries) as Record<string, string | null>;
  record.note = event.note ?? null;
  record.pseudonymKeyCheck = record.pseudonymKeyCheck || null;

  return JSON.stringify(record);
}

/**
 * Yields the events to export: every sender's deciding event of each number when no scope
 * was given and the store lists them, else the deciding opt-out of each number opted out
 * in `scope`, `*` included.
 */
async function* exportedEvents(
  store: OptOutStore,
  { scope, list }: ExportSelection,
): AsyncIterable<ConsentEvent> {
  if (scope === undefined && isSenderStateStore(store)) {
    for await (const number of store.listSenderStates()) {
      yield* number.events;
    }

    return;
  }

  for await (const state of list(scope ?? ALL_SENDERS)) {
    if (state.lastEvent !== undefined) {
      yield state.lastEvent;
    }
  }
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

/** The selection of `optout export`: every scope, or the opt-outs that `list` yields for one. */
export interface ExportSelection {
  /** The scope to export, or undefined for every sender's deciding event of each number. */
  scope: string | undefined;
  /** Lists the opted-out numbers of a scope, as the send guard reads them. */
  list: (scope: string) => AsyncIterable<ConsentState>;
}

/**
 * Streams the exported events to stdout, one line each, waiting whenever the output buffer
 * is full, so memory stays flat for any number of rows.
 */
export async function runExport(
  runtime: Runtime,
  io: CliIo,
  format: ExportFormat,
  selection: ExportSelection,
): Promise<number> {
  const keyCheck = await readKeyCheck(runtime);

  if (format === "csv") {
    await writeLineDrained(io.stdout, importColumns.join(","));
  }

  for await (const event of exportedEvents(runtime.store, selection)) {
    await writeLineDrained(io.stdout, exportLine(event, format, keyCheck));
  }

  return ExitCode.ok;
}
