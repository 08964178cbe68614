import { type ChildProcess, spawn } from "node:child_process";
import { assertBuilt, cliPath, repoRoot, waitForText } from "./cli.js";

/** How a child process ended. */
export interface ProcessExit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

/** A running `smsgate serve` child process that a test may kill with any signal. */
export interface ServerProcess {
  /** Origin the server logged, such as `http://127.0.0.1:49152`. */
  url: string;
  port: number;
  pid: number;
  /** Everything the process wrote to stdout so far. */
  stdout(): string;
  /** Everything the process wrote to stderr so far. */
  stderr(): string;
  /**
   * Resolves with stdout once it contains `text`. The server writes its log lines at the end
   * of an event-loop turn, so a line can arrive after the response it belongs to.
   * Rejects with the output after `timeoutMs` (default 5000).
   */
  waitForStdout(text: string, timeoutMs?: number): Promise<string>;
  /** Settles when the process has exited. */
  exited: Promise<ProcessExit>;
  /** Sends `signal` to this process unless it has exited, then waits for its exit. */
  kill(signal?: NodeJS.Signals): Promise<ProcessExit>;
}

/** Where the server runs. */
export interface LaunchOptions {
  cwd?: string | undefined;
  env?: Record<string, string> | undefined;
  /** Rejects when the server has not logged its URL by then, in milliseconds. @default 15000 */
  startTimeoutMs?: number | undefined;
}

const listeningUrl = /"url"\s*:\s*"(http:\/\/127\.0\.0\.1:(\d+))\/?"/;

// Every server started here and not yet exited, so that a failing test leaves none behind.
const running = new Set<ServerProcess>();

function isRunning(child: ChildProcess): boolean {
  return child.exitCode === null && child.signalCode === null;
}

/**
 * Starts `node dist/cli.js serve --config <configPath>` and resolves once it logs its URL.
 * Rejects with the output when the process exits first or does not start in time.
 */
export function launchServer(
  configPath: string,
  options: LaunchOptions = {},
): Promise<ServerProcess> {
  assertBuilt();

  const child = spawn(process.execPath, [cliPath, "serve", "--config", configPath], {
    cwd: options.cwd ?? repoRoot,
    env: { ...process.env, NO_COLOR: "1", ...options.env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let stdout = "";
  let stderr = "";
  const exited = new Promise<ProcessExit>((resolve) => {
    child.on("close", (code, signal) => resolve({ code, signal }));
  });

  child.stdout?.setEncoding("utf8").on("data", (chunk: string) => {
    stdout += chunk;
  });
  child.stderr?.setEncoding("utf8").on("data", (chunk: string) => {
    stderr += chunk;
  });

  const server: ServerProcess = {
    url: "",
    port: 0,
    pid: child.pid ?? 0,
    stdout: () => stdout,
    stderr: () => stderr,
    waitForStdout: (text, timeoutMs = 5000) => waitForText(() => stdout, text, timeoutMs),
    exited,
    async kill(signal = "SIGTERM") {
      if (isRunning(child) && child.pid !== undefined) {
        process.kill(child.pid, signal);
      }

      return exited;
    },
  };

  running.add(server);
  void exited.then(() => running.delete(server));

  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      void server.kill("SIGKILL");
      reject(new Error(`serve did not log its URL in time:\n${stdout}\n${stderr}`));
    }, options.startTimeoutMs ?? 15_000);

    const onData = (): void => {
      const match = listeningUrl.exec(stdout);

      if (match?.[1] !== undefined && match[2] !== undefined) {
        clearTimeout(timer);
        child.stdout?.off("data", onData);
        server.url = match[1];
        server.port = Number(match[2]);
        resolve(server);
      }
    };

    child.stdout?.on("data", onData);
    child.on("error", (error) => {
      clearTimeout(timer);
      reject(error);
    });
    void exited.then((exit) => {
      clearTimeout(timer);
      reject(
        new Error(`serve exited (${JSON.stringify(exit)}) before listening:\n${stdout}\n${stderr}`),
      );
    });
  });
}

/** Kills, with SIGKILL, every server this module started that is still running. */
export async function killRunningServers(): Promise<void> {
  await Promise.all([...running].map((server) => server.kill("SIGKILL")));
}
