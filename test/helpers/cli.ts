import { type ChildProcess, spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { openSqliteStore } from "../../src/stores/sqlite.js";

/** Root of the repository. */
export const repoRoot = resolve(fileURLToPath(new URL("../..", import.meta.url)));

/** The built CLI that the end-to-end tests run. */
export const cliPath = join(repoRoot, "dist", "cli.js");

/** Throws a clear message when the CLI has not been built. */
export function assertBuilt(): void {
  if (!existsSync(cliPath)) {
    throw new Error(`${cliPath} is missing; run "npm run build" before the end-to-end tests`);
  }
}

/** Output and exit code of one CLI run. */
export interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Where and how a CLI child process runs. */
export interface SpawnOptions {
  cwd?: string | undefined;
  env?: Record<string, string> | undefined;
}

function childEnv(extra: Record<string, string> | undefined): NodeJS.ProcessEnv {
  return { ...process.env, NO_COLOR: "1", ...extra };
}

/** Runs `node dist/cli.js ...args` to completion. */
export function runCli(args: readonly string[], options: SpawnOptions = {}): Promise<CliResult> {
  return new Promise((resolvePromise, reject) => {
    const child = spawn(process.execPath, [cliPath, ...args], {
      cwd: options.cwd ?? repoRoot,
      env: childEnv(options.env),
      stdio: ["ignore", "pipe", "pipe"],
    });
    let stdout = "";
    let stderr = "";

    child.stdout.setEncoding("utf8").on("data", (chunk: string) => {
      stdout += chunk;
    });
    child.stderr.setEncoding("utf8").on("data", (chunk: string) => {
      stderr += chunk;
    });
    child.on("error", reject);
    child.on("close", (code) => resolvePromise({ code, stdout, stderr }));
  });
}

/** A running `smsgate serve` child process. */
export interface ServeProcess {
  /** Origin the server logged, such as `http://127.0.0.1:49152`. */
  url: string;
  pid: number;
  /** Everything the server wrote to stdout so far. */
  stdout(): string;
  /** Everything the server wrote to stderr so far. */
  stderr(): string;
  /**
   * Resolves with stdout once it contains `text`. The server writes its log lines at the end
   * of an event-loop turn, so a line can arrive after the response it belongs to.
   * Rejects with the output after `timeoutMs` (default 5000).
   */
  waitForStdout(text: string, timeoutMs?: number): Promise<string>;
  /** Sends SIGTERM to the process and resolves with its exit code. */
  stop(): Promise<number | null>;
}

const listeningUrl = /"url"\s*:\s*"(http:\/\/127\.0\.0\.1:\d+)\/?"/;

/**
 * Starts `node dist/cli.js serve ...args` and resolves once a log line carries the
 * listening URL. Rejects with the output when the process exits first.
 */
export function startServe(args: readonly string[], options: SpawnOptions = {}) {
  return new Promise<ServeProcess>((resolvePromise, reject) => {
    const child = spawn(process.execPath, [cliPath, "serve", ...args], {
      cwd: options.cwd ?? repoRoot,
      env: childEnv(options.env),
      stdio: ["ignore", "pipe", "pipe"],
    });
    let stdout = "";
    let stderr = "";
    let started = false;
    const exited = new Promise<number | null>((resolveExit) => {
      child.on("close", (code) => resolveExit(code));
    });

    child.stdout.setEncoding("utf8").on("data", (chunk: string) => {
      stdout += chunk;
      const match = listeningUrl.exec(stdout);

      if (!started && match?.[1] !== undefined) {
        started = true;
        resolvePromise(
          serveHandle(
            child,
            match[1],
            exited,
            () => stdout,
            () => stderr,
          ),
        );
      }
    });
    child.stderr.setEncoding("utf8").on("data", (chunk: string) => {
      stderr += chunk;
    });
    child.on("error", reject);
    void exited.then((code) => {
      if (!started) {
        reject(new Error(`serve exited with ${code} before listening:\n${stdout}\n${stderr}`));
      }
    });
  });
}

function serveHandle(
  child: ChildProcess,
  url: string,
  exited: Promise<number | null>,
  stdout: () => string,
  stderr: () => string,
): ServeProcess {
  const pid = child.pid ?? 0;

  return {
    url,
    pid,
    stdout,
    stderr,
    waitForStdout: (text, timeoutMs = 5000) => waitForText(stdout, text, timeoutMs),
    async stop() {
      if (child.exitCode === null && child.signalCode === null) {
        process.kill(pid, "SIGTERM");
      }

      return exited;
    },
  };
}

/** Polls `read()` until its text contains `text`, and rejects with the text after `timeoutMs`. */
export async function waitForText(
  read: () => string,
  text: string,
  timeoutMs: number,
): Promise<string> {
  const deadline = Date.now() + timeoutMs;

  while (!read().includes(text)) {
    if (Date.now() > deadline) {
      throw new Error(
        `serve did not write ${JSON.stringify(text)} within ${timeoutMs} ms:\n${read()}`,
      );
    }

    await new Promise((resolve) => setTimeout(resolve, 10));
  }

  return read();
}

/** Parses every line of a JSON Lines text; lines that are not JSON are skipped. */
export function parseJsonLines(text: string): Array<Record<string, unknown>> {
  const records: Array<Record<string, unknown>> = [];

  for (const line of text.split("\n")) {
    if (line.trim() === "") {
      continue;
    }

    try {
      records.push(JSON.parse(line) as Record<string, unknown>);
    } catch {
      // Not a JSON line, such as a message a crashed process printed.
    }
  }

  return records;
}

/** Creates a temporary directory; remove it with {@link removeTempDir}. */
export function makeTempDir(prefix = "smsgate-e2e-"): Promise<string> {
  return mkdtemp(join(tmpdir(), prefix));
}

/** Removes a temporary directory and everything in it. */
export async function removeTempDir(path: string | undefined): Promise<void> {
  if (path !== undefined) {
    await rm(path, { recursive: true, force: true });
  }
}

/** Writes `config.json` into `dir`, creating the directory, and returns its path. */
export async function writeConfig(dir: string, config: unknown): Promise<string> {
  const path = join(dir, "config.json");

  await mkdir(dir, { recursive: true });
  await writeFile(path, `${JSON.stringify(config, null, 2)}\n`);

  return path;
}

/**
 * Creates an empty, migrated SQLite store at `path`, as the first `smsgate serve` does.
 * Every other command stops when the store file is missing.
 */
export async function createStoreFile(path: string): Promise<void> {
  await openSqliteStore({ path }).close();
}
