/** Turns better-sqlite3 failures into `StoreError`s that name the operation and a next step. */

import { StoreError } from "../../errors.js";

// Codes whose cause lies in one statement's data. Any other failure (locked, disk full,
// I/O error, closed connection) concerns the whole database.
const itemErrorPrefixes = ["SQLITE_CONSTRAINT", "SQLITE_TOOBIG", "SQLITE_MISMATCH", "SQLITE_RANGE"];

const hints: ReadonlyArray<readonly [string, string]> = [
  [
    "SQLITE_BUSY",
    "Another connection held the write lock for longer than busyTimeoutMs. Retry, or " +
      "raise busyTimeoutMs (store.busyTimeoutMs in the configuration file).",
  ],
  ["SQLITE_LOCKED", "A statement on the same connection holds a lock. Retry the operation."],
  ["SQLITE_FULL", "The disk or the file size limit is full. Free space and retry."],
  [
    "SQLITE_IOERR_SHORT_READ",
    "The file or its -wal file is shorter than SQLite expected, for example because one of " +
      "them was deleted, truncated or replaced while a server had the store open. Stop " +
      "every process that uses the store, restore the files if they were deleted, and " +
      "start the server again.",
  ],
  ["SQLITE_IOERR", "The operating system reported an I/O error. Check the disk and retry."],
  ["SQLITE_READONLY", "The file or its directory is not writable. Check the permissions."],
  ["SQLITE_CORRUPT", "The file is damaged. Restore it from a backup."],
  ["SQLITE_NOTADB", "The file is not an SQLite database. Choose another path."],
  [
    "SQLITE_CANTOPEN",
    "The file cannot be opened. Check that its directory exists and is writable.",
  ],
];

/** Returns the SQLite result code of an error, such as `SQLITE_BUSY`, when it has one. */
export function sqliteCode(error: unknown): string | undefined {
  if (typeof error !== "object" || error === null || !("code" in error)) {
    return undefined;
  }

  const { code } = error;
  return typeof code === "string" && code.startsWith("SQLITE_") ? code : undefined;
}

/** Checks whether a failure concerns the whole database rather than one write's data. */
export function isDatabaseFailure(error: unknown): boolean {
  const code = sqliteCode(error);
  if (code === undefined) {
    return !(error instanceof RangeError);
  }

  return !itemErrorPrefixes.some((prefix) => code.startsWith(prefix));
}

function hintFor(code: string | undefined): string {
  if (code === undefined) {
    return "";
  }

  const match = hints.find(([prefix]) => code.startsWith(prefix));
  return match === undefined ? "" : ` ${match[1]}`;
}

/**
 * Wraps a failure of `operation` on the store at `path`, keeping it as the cause. A
 * `StoreError`, which names the store already, is returned as it is.
 */
export function toStoreError(operation: string, path: string, error: unknown): StoreError {
  if (error instanceof StoreError) {
    return error;
  }

  const code = sqliteCode(error);
  const detail = error instanceof Error ? error.message : String(error);
  const label = code === undefined ? detail : `${detail} (${code})`;

  return new StoreError(`SQLite store ${path}: ${operation} failed: ${label}.${hintFor(code)}`, {
    cause: error,
  });
}

/** Creates the error for a call made after `close()`. */
export function closedStoreError(operation: string, path: string): StoreError {
  return new StoreError(
    `SQLite store ${path}: ${operation} failed because the store is closed. ` +
      "Open it again with openSqliteStore().",
  );
}

/** Creates the error for a write to a store opened with `readonly: true`. */
export function readonlyStoreError(operation: string, path: string): StoreError {
  return new StoreError(
    `SQLite store ${path}: ${operation} failed because the store was opened read-only. ` +
      "Open it without readonly to write.",
  );
}
