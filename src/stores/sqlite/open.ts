/** Validates the SQLite store's options and opens its connection with durable settings. */

import { closeSync, existsSync, mkdirSync, openSync, type Stats, statSync } from "node:fs";
import { dirname } from "node:path";
import Database from "better-sqlite3";
import { z } from "zod";
import { ConfigError, StoreError } from "../../errors.js";
import { sqliteCode, toStoreError } from "./errors.js";
import { busyTimeoutMsField } from "./fields.js";
import { migrate, readSchemaVersion } from "./migrations.js";

/** The path that opens a private database in memory instead of a file. */
export const MEMORY_PATH = ":memory:";

const optionsSchema = z.strictObject({
  path: z
    .string({ error: "must be a file path string" })
    .min(1, { error: `must not be empty. Give a file path, or "${MEMORY_PATH}"` }),
  busyTimeoutMs: busyTimeoutMsField.default(5000),
  readonly: z.boolean({ error: "must be true or false" }).default(false),
  create: z.boolean({ error: "must be true or false" }).default(true),
});

/** Options of `openSqliteStore`. */
export interface SqliteStoreOptions {
  /**
   * The database file. With `create`, a missing file and its missing directories are
   * created, the file with mode 0600. `:memory:` opens a private database that is lost on
   * close, for tests.
   */
  path: string;
  /**
   * How long a write waits for another connection's lock before it fails, in milliseconds.
   * While it waits, the thread is blocked, because better-sqlite3 is synchronous.
   * @default 5000
   */
  busyTimeoutMs?: number;
  /**
   * Opens an existing file for reading only; every write rejects with a `StoreError`.
   * @default false
   */
  readonly?: boolean;
  /**
   * Creates the file when it does not exist. With `false`, a missing file rejects with a
   * `StoreError` and nothing is created, so a mistyped path cannot open a new, empty store
   * that has none of the recorded opt-outs. A read-only store never creates its file.
   * @default true
   */
  create?: boolean;
}

/** The options after validation, with defaults applied. */
export type ResolvedSqliteOptions = z.output<typeof optionsSchema>;

function describeValue(value: unknown): string {
  return typeof value === "string" || typeof value === "number" || typeof value === "boolean"
    ? JSON.stringify(value)
    : typeof value;
}

/**
 * Validates the options of `openSqliteStore`.
 *
 * @throws {ConfigError} naming the first invalid option.
 */
export function parseSqliteOptions(input: unknown): ResolvedSqliteOptions {
  const result = optionsSchema.safeParse(input);
  if (result.success) {
    return result.data;
  }

  const issue = result.error.issues[0];
  if (issue === undefined || issue.path.length === 0) {
    const keys = issue?.code === "unrecognized_keys" ? issue.keys.join(", ") : "";
    if (keys !== "") {
      throw new ConfigError(
        keys,
        "is not an option of the SQLite store. Remove it or correct its spelling",
      );
    }

    throw new ConfigError("options", "must be an object with a path");
  }

  const path = issue.path.join(".");
  const received = (input as Record<string, unknown>)[path];
  throw new ConfigError(path, `${issue.message} (received ${describeValue(received)})`);
}

/**
 * Creates a directory and its missing parents, one level at a time. Node 20's recursive
 * `mkdirSync` never returns on file systems such as procfs, which answer ENOENT for a
 * directory that cannot be created, so each level is created on its own and a failure
 * ends the walk.
 */
function makeDirectories(directory: string): void {
  if (existsSync(directory)) {
    return;
  }

  const parent = dirname(directory);

  if (parent !== directory) {
    makeDirectories(parent);
  }

  try {
    mkdirSync(directory);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== "EEXIST") {
      throw error;
    }
  }
}

function createParentDirectory(path: string): void {
  const directory = dirname(path);

  try {
    makeDirectories(directory);
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    throw new StoreError(
      `Cannot open the SQLite store ${path}: creating its directory ${directory} failed ` +
        `(${reason}). Create the directory, or choose a path in a writable directory.`,
      { cause: error },
    );
  }
}

/**
 * Creates an empty database file with mode 0600 (less any bits the umask removes), because
 * the store contains phone numbers and message texts. SQLite would create it with 0644 (its
 * default SQLITE_DEFAULT_FILE_PERMISSIONS), and it gives the `-wal` and `-shm` files the
 * mode of the database file. SQLite reads an empty file as a new database. An existing file
 * keeps its mode.
 */
function createPrivateFile(path: string): void {
  try {
    closeSync(openSync(path, "wx", 0o600));
  } catch {
    // EEXIST is the usual case. Any other failure, such as a directory at the path or a
    // missing permission, is reported by opening the connection.
  }
}

/**
 * Rejects a path that names a device, a pipe, a socket or a directory. SQLite would open a
 * device such as `/dev/null` and create its journal files beside it, in `/dev`, before the
 * first write failed.
 */
function rejectSpecialFile(path: string): void {
  let stats: Stats | undefined;

  try {
    stats = statSync(path, { throwIfNoEntry: false });
  } catch {
    // A path through a file (ENOTDIR) or an unreadable directory: opening reports it.
    return;
  }

  if (stats === undefined || stats.isFile()) {
    return;
  }

  const kind = stats.isDirectory() ? "a directory" : "not a regular file";
  throw new StoreError(
    `Cannot open the SQLite store ${path}: it is ${kind}. Choose the path of a database file.`,
  );
}

/** Describes a store whose file is missing while the options forbid creating it. */
function missingFileError(options: ResolvedSqliteOptions, cause: unknown): StoreError {
  const advice = options.readonly
    ? "A read-only store needs an existing database file; check the path."
    : "Check the path, or open the store once with create: true to create it.";

  return new StoreError(
    `Cannot open the SQLite store ${options.path}: no database file exists there. ${advice}`,
    { cause },
  );
}

function openConnection(options: ResolvedSqliteOptions): Database.Database {
  const mustExist = options.readonly || !options.create;

  try {
    return new Database(options.path, {
      readonly: options.readonly,
      fileMustExist: mustExist,
      timeout: options.busyTimeoutMs,
    });
  } catch (error) {
    if (mustExist && !existsSync(options.path)) {
      throw missingFileError(options, error);
    }

    const reason = error instanceof Error ? error.message : String(error);
    const advice = options.readonly
      ? "Check that the path names a readable database file."
      : "Check that the path names a file, not a directory, and that it is writable.";
    throw new StoreError(`Cannot open the SQLite store ${options.path}: ${reason}. ${advice}`, {
      cause: error,
    });
  }
}

/**
 * WAL size, in pages, at which a commit copies the WAL back into the database file. With
 * SQLite's default of 1,000 pages, a group commit of a few hundred webhooks, which dirties
 * about a page per webhook in each B-tree with random keys, is followed by a checkpoint
 * almost every time. Each checkpoint writes and flushes the database file on the thread that
 * handles webhooks. With 10,000 pages (about 40 MB with 4 KiB pages), one checkpoint covers
 * several batches, and a page that several batches change is copied once.
 */
const WAL_AUTOCHECKPOINT_PAGES = 10_000;

// Durability: WAL lets readers in other processes (a server and the CLI) work while one
// connection writes. better-sqlite3 12 builds SQLite with SQLITE_DEFAULT_WAL_SYNCHRONOUS=1,
// so a connection to a WAL file starts at NORMAL, where the last commits can be lost on
// power failure. FULL is set instead: each commit is flushed to disk before it returns,
// and so before the promise that acknowledges it resolves.
function configure(db: Database.Database, options: ResolvedSqliteOptions): void {
  db.pragma(`busy_timeout = ${options.busyTimeoutMs}`);

  if (!options.readonly && options.path !== MEMORY_PATH) {
    const mode = db.pragma("journal_mode = WAL", { simple: true });
    if (mode !== "wal") {
      throw new StoreError(
        `SQLite store ${options.path}: WAL journal mode is not available (got ${String(mode)}). ` +
          "Put the database on a local file system.",
      );
    }

    db.pragma(`wal_autocheckpoint = ${WAL_AUTOCHECKPOINT_PAGES}`);
  }

  db.pragma("synchronous = FULL");
  db.pragma("foreign_keys = ON");
}

/**
 * Opens the database file, applies the durability settings and migrates the schema.
 *
 * @throws {StoreError} when the file cannot be opened, configured or migrated.
 */
export function openDatabase(options: ResolvedSqliteOptions): Database.Database {
  if (options.path !== MEMORY_PATH) {
    rejectSpecialFile(options.path);
  }

  if (options.create && !options.readonly && options.path !== MEMORY_PATH) {
    createParentDirectory(options.path);
    createPrivateFile(options.path);
  }

  const db = openConnection(options);

  try {
    configure(db, options);
    migrate(db, options.path);

    if (!options.readonly && options.path !== MEMORY_PATH) {
      probeWrite(db, options.busyTimeoutMs);
    }
  } catch (error) {
    db.close();
    throw error instanceof StoreError ? error : toStoreError("open", options.path, error);
  }

  return db;
}

/**
 * Writes the health check row once. SQLite opens a file that this process may not write
 * read-only without an error, and such a connection stays read-only after the permissions
 * are fixed, so a store that must write checks it at open and fails there with
 * SQLITE_READONLY. `BEGIN IMMEDIATE` succeeds on a read-only connection, so only a write
 * detects it.
 *
 * The write does not wait for a lock: SQLite reports SQLITE_READONLY before it tries to
 * lock, so SQLITE_BUSY means another connection is writing to a file this one may write
 * too. Reads, such as the send guard's, then work while that connection holds its lock.
 */
function probeWrite(db: Database.Database, busyTimeoutMs: number): void {
  db.pragma("busy_timeout = 0");

  try {
    db.prepare(
      "INSERT INTO store_health (id, checked_at) VALUES (1, ?) " +
        "ON CONFLICT (id) DO UPDATE SET checked_at = excluded.checked_at",
    ).run(Date.now());
  } catch (error) {
    if (!sqliteCode(error)?.startsWith("SQLITE_BUSY")) {
      throw error;
    }
  } finally {
    db.pragma(`busy_timeout = ${busyTimeoutMs}`);
  }
}

/** The settings in effect on a store's connection, read back from SQLite. */
export interface SqliteStoreDiagnostics {
  path: string;
  /** `wal` for a file, `memory` for `:memory:`. */
  journalMode: string;
  /** 2 is FULL. */
  synchronous: number;
  busyTimeoutMs: number;
  foreignKeys: boolean;
  schemaVersion: number;
  readonly: boolean;
}

/** Reads the durability settings and schema version of a connection. */
export function readDiagnostics(db: Database.Database, path: string): SqliteStoreDiagnostics {
  return {
    path,
    journalMode: String(db.pragma("journal_mode", { simple: true })),
    synchronous: Number(db.pragma("synchronous", { simple: true })),
    busyTimeoutMs: Number(db.pragma("busy_timeout", { simple: true })),
    foreignKeys: db.pragma("foreign_keys", { simple: true }) === 1,
    schemaVersion: readSchemaVersion(db),
    readonly: db.readonly,
  };
}
