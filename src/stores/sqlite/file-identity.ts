/**
 * Detects a database file that was deleted or replaced while the store had it open. SQLite
 * keeps writing to the open file, so the commits would succeed and be acknowledged, but the
 * next process to open the path would find another file, or none, without them.
 */

import { statSync } from "node:fs";
import { resolve } from "node:path";
import { StoreError } from "../../errors.js";

/** The device and inode numbers of one file. */
interface FileNode {
  dev: number;
  ino: number;
}

/** The files of an open store, as they were when it opened. */
export interface StoreFiles {
  /** The path as the store was given it, for messages. */
  path: string;
  /** The absolute path, so that a later change of the working directory does not matter. */
  absolutePath: string;
  database: FileNode;
  /** The WAL file, which exists from the first write in WAL mode until the last close. */
  wal: FileNode | undefined;
}

function readNode(path: string): FileNode | undefined {
  const stats = statSync(path, { throwIfNoEntry: false });

  return stats === undefined ? undefined : { dev: stats.dev, ino: stats.ino };
}

/** Reads the device and inode numbers of the database file at `path` and of its WAL. */
export function readStoreFiles(path: string): StoreFiles | undefined {
  const absolutePath = resolve(path);
  const database = readNode(absolutePath);

  if (database === undefined) {
    return undefined;
  }

  return { path, absolutePath, database, wal: readNode(`${absolutePath}-wal`) };
}

function sameNode(expected: FileNode, path: string): boolean {
  const actual = readNode(path);

  return actual !== undefined && actual.dev === expected.dev && actual.ino === expected.ino;
}

/**
 * Returns the path of a store file that is gone or is another file now, or undefined when
 * both are the files the store opened. It makes two `stat` calls.
 */
export function findReplacedFile(files: StoreFiles): string | undefined {
  if (!sameNode(files.database, files.absolutePath)) {
    return files.path;
  }

  const walPath = `${files.absolutePath}-wal`;

  return files.wal !== undefined && !sameNode(files.wal, walPath) ? `${files.path}-wal` : undefined;
}

/**
 * Checks that the store's files are the ones it opened, before a write transaction.
 *
 * @throws {StoreError} when one was deleted or replaced; nothing is written then.
 */
export function assertSameFiles(files: StoreFiles): void {
  const replaced = findReplacedFile(files);

  if (replaced !== undefined) {
    throw new StoreError(
      `SQLite store ${files.path}: ${replaced} was deleted or replaced while the store was ` +
        "open, so a commit would not reach the file at that path, and nothing was written. " +
        "Restart the process to open the files that are there now.",
    );
  }
}
