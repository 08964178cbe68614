import { type ChildProcess, execFileSync, spawn } from "node:child_process";
import { chownSync, existsSync, readdirSync } from "node:fs";
import { type AddressInfo, createServer } from "node:net";
import { join } from "node:path";
import { makeTempDir, removeTempDir } from "./cli.js";

// A private PostgreSQL server for one test file: initdb into a temporary directory, then
// `postgres` on a free port of 127.0.0.1. It never touches a server already running on the
// machine. PostgreSQL refuses to run as root, so under root it runs as the `postgres`
// user through setpriv.

/** A running private PostgreSQL server. */
export interface PostgresServer {
  /** Connection string of the `postgres` database as the `postgres` superuser. */
  url: string;
  port: number;
  pid: number;
  /** Shuts the server down (fast shutdown) and removes its files. */
  stop(): Promise<void>;
}

/** Returns the directory of the PostgreSQL server programs, when they are installed. */
function findBinDir(): string | undefined {
  const root = "/usr/lib/postgresql";

  if (existsSync(root)) {
    const versions = readdirSync(root).sort((a, b) => Number(b) - Number(a));

    for (const version of versions) {
      const dir = join(root, version, "bin");

      if (existsSync(join(dir, "initdb")) && existsSync(join(dir, "postgres"))) {
        return dir;
      }
    }
  }

  try {
    return execFileSync("pg_config", ["--bindir"], { encoding: "utf8" }).trim() || undefined;
  } catch {
    return undefined;
  }
}

interface RunAs {
  /** Prefix that runs a program as the server's user. */
  command: string[];
  uid: number | undefined;
  gid: number | undefined;
}

function runAs(): RunAs | undefined {
  if (process.getuid?.() !== 0) {
    return { command: [], uid: undefined, gid: undefined };
  }

  try {
    const uid = Number(execFileSync("id", ["-u", "postgres"], { encoding: "utf8" }));
    const gid = Number(execFileSync("id", ["-g", "postgres"], { encoding: "utf8" }));
    const prefix = ["setpriv", "--reuid=postgres", "--regid=postgres", "--init-groups"];

    execFileSync("setpriv", ["--version"], { stdio: "ignore" });

    return { command: prefix, uid, gid };
  } catch {
    return undefined;
  }
}

const binDir = findBinDir();
const runner = runAs();

/** True when a private server can be started here. */
export const canStartPostgres = binDir !== undefined && runner !== undefined;

async function freePort(): Promise<number> {
  const server = createServer();

  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));

  const { port } = server.address() as AddressInfo;

  await new Promise((resolve) => server.close(resolve));

  return port;
}

function command(program: string, args: string[]): [string, string[]] {
  const path = join(binDir as string, program);
  const [first, ...rest] = runner?.command ?? [];

  return first === undefined ? [path, args] : [first, [...rest, path, ...args]];
}

function waitUntilReady(child: ChildProcess, timeoutMs: number): Promise<void> {
  return new Promise((resolve, reject) => {
    let output = "";
    const timer = setTimeout(
      () => reject(new Error(`postgres did not start:\n${output}`)),
      timeoutMs,
    );

    child.stderr?.setEncoding("utf8").on("data", (chunk: string) => {
      output += chunk;

      if (output.includes("ready to accept connections")) {
        clearTimeout(timer);
        resolve();
      }
    });
    child.once("close", (code) => {
      clearTimeout(timer);
      reject(new Error(`postgres exited with ${code} before it was ready:\n${output}`));
    });
  });
}

/**
 * Creates a database cluster in a temporary directory and starts a server on it.
 *
 * @throws when PostgreSQL is not installed; check {@link canStartPostgres} first.
 */
export async function startPostgres(): Promise<PostgresServer> {
  if (!canStartPostgres) {
    throw new Error("PostgreSQL server programs (initdb, postgres) are not available");
  }

  const dir = await makeTempDir("smsgate-postgres-");
  const data = join(dir, "data");

  if (runner?.uid !== undefined && runner.gid !== undefined) {
    chownSync(dir, runner.uid, runner.gid);
  }

  const [initdb, initArgs] = command("initdb", [
    ...["-D", data, "-A", "trust", "-U", "postgres", "-E", "UTF8", "--no-sync"],
  ]);

  execFileSync(initdb, initArgs, { stdio: "ignore" });

  const port = await freePort();
  const [postgres, args] = command("postgres", [
    ...["-D", data, "-p", String(port), "-k", dir],
    ...["-c", "listen_addresses=127.0.0.1"],
  ]);
  const child = spawn(postgres, args, { stdio: ["ignore", "ignore", "pipe"] });
  const exited = new Promise<void>((resolve) => child.once("close", () => resolve()));

  try {
    await waitUntilReady(child, 15_000);
  } catch (error) {
    child.kill("SIGKILL");
    await removeTempDir(dir);
    throw error;
  }

  return {
    url: `postgres://postgres@127.0.0.1:${port}/postgres`,
    port,
    pid: child.pid ?? 0,
    async stop() {
      if (child.exitCode === null && child.signalCode === null) {
        child.kill("SIGINT");
      }

      await exited;
      await removeTempDir(dir);
    },
  };
}
