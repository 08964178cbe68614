/**
 * Reading of the small files the CLI takes its settings from: the configuration file and
 * the development secrets file.
 */

import type { Stats } from "node:fs";
import { readFile, stat } from "node:fs/promises";

/** Maximum size of a configuration file. Real ones are a few kilobytes. */
export const maxConfigFileBytes = 1024 * 1024;

/** Reason that an existing file could not be read. */
export type FileReadProblem = "not-regular" | "too-large" | "permission-denied" | "read-failed";

/**
 * Raised when a file exists but cannot be read. The message is a phrase about the file,
 * such as `it is a directory, not a regular file`, for the caller to put after its name.
 */
export class FileReadError extends Error {
  readonly problem: FileReadProblem;

  constructor(problem: FileReadProblem, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = "FileReadError";
    this.problem = problem;
  }
}

/**
 * Reads a regular file as UTF-8, or returns `undefined` when nothing exists at `path`. A
 * symbolic link is followed. The path is checked before it is read, because a FIFO would
 * block the read until a writer appears, and a device such as /dev/zero never ends.
 *
 * @throws {FileReadError} when the path is not a regular file, the file is larger than
 *   `maxBytes`, or reading it fails.
 */
export async function readRegularFile(path: string, maxBytes: number): Promise<string | undefined> {
  try {
    const stats = await stat(path);

    if (!stats.isFile()) {
      throw new FileReadError(
        "not-regular",
        `it is ${describeFileType(stats)}, not a regular file`,
      );
    }

    if (stats.size > maxBytes) {
      throw new FileReadError(
        "too-large",
        `it is ${stats.size} bytes, more than the limit of ${formatByteSize(maxBytes)}`,
      );
    }

    return await readFile(path, "utf8");
  } catch (error) {
    if (error instanceof FileReadError) {
      throw error;
    }

    const code = (error as NodeJS.ErrnoException).code;

    if (code === "ENOENT") {
      return undefined;
    }

    if (code === "EACCES") {
      throw new FileReadError("permission-denied", "permission denied", { cause: error });
    }

    const message = error instanceof Error ? error.message : String(error);

    throw new FileReadError("read-failed", message, { cause: error });
  }
}

function describeFileType(stats: Stats): string {
  if (stats.isDirectory()) {
    return "a directory";
  }

  if (stats.isFIFO()) {
    return "a named pipe (FIFO)";
  }

  if (stats.isCharacterDevice()) {
    return "a character device";
  }

  if (stats.isBlockDevice()) {
    return "a block device";
  }

  return stats.isSocket() ? "a socket" : "a special file";
}

/** Formats a size in bytes as `1 MiB`, `64 KiB` or `100 bytes`, whichever divides it. */
export function formatByteSize(bytes: number): string {
  if (bytes > 0 && bytes % (1024 * 1024) === 0) {
    return `${bytes / (1024 * 1024)} MiB`;
  }

  if (bytes > 0 && bytes % 1024 === 0) {
    return `${bytes / 1024} KiB`;
  }

  return `${bytes} bytes`;
}
