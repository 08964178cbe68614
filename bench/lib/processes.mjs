/**
 * Child processes of the benchmarks. A load generator, a server and a sender each run in a
 * process of their own, so that they compete for the CPU as separate programs do. The
 * parent talks to a forked child over the IPC channel: one request, one reply.
 */

import { fork, spawn } from "node:child_process";
import { readFile, writeFile } from "node:fs/promises";
import { createServer as createNetServer } from "node:net";
import { fileURLToPath } from "node:url";
import { request } from "undici";

const processesDirectory = fileURLToPath(new URL("../processes/", import.meta.url));

/** Children still running, ended when the parent exits. */
const running = new Set();

process.on("exit", () => {
  for (const child of running) {
    child.kill("SIGKILL");
  }
});

/**
 * Forks `bench/processes/<name>.mjs` and returns a handle whose `call(type, payload)` sends
 * one request and resolves with the child's reply.
 */
export function startChild(name, { execArgv = [] } = {}) {
  const child = fork(`${processesDirectory}${name}.mjs`, [], {
    execArgv,
    stdio: ["ignore", "inherit", "inherit", "ipc"],
  });
  const pending = new Map();
  let nextId = 0;

  running.add(child);
  child.on("message", (message) => {
    const waiter = pending.get(message.id);

    pending.delete(message.id);
    if (message.ok) {
      waiter?.resolve(message.result);
    } else {
      waiter?.reject(new Error(`${name}: ${message.error}`));
    }
  });
  child.on("exit", (code, signal) => {
    running.delete(child);
    for (const waiter of pending.values()) {
      waiter.reject(new Error(`${name} exited (code ${code}, signal ${signal}) during a request`));
    }
    pending.clear();
  });

  return {
    pid: child.pid,
    call(type, payload = {}) {
      const id = nextId;

      nextId += 1;
      return new Promise((resolve, reject) => {
        pending.set(id, { resolve, reject });
        child.send({ id, type, payload });
      });
    },
    stop: () => disconnectChild(child),
  };
}

/**
 * Closes the IPC channel, which makes a child of {@link serveRequests} exit normally (so
 * that `--cpu-prof` writes its profile), and kills it if it is still running 10 s later.
 */
function disconnectChild(child) {
  if (child.exitCode !== null || child.signalCode !== null) {
    return Promise.resolve();
  }

  return new Promise((resolve) => {
    const timer = setTimeout(() => child.kill("SIGKILL"), 10_000);

    child.once("exit", () => {
      clearTimeout(timer);
      resolve();
    });
    child.disconnect();
  });
}

/**
 * Serves the parent's requests in a forked child: `handlers[type](payload)` computes the
 * reply. A `stop` request, or the parent going away, ends the process.
 */
export function serveRequests(handlers) {
  process.on("message", async ({ id, type, payload }) => {
    try {
      const result = await handlers[type](payload);

      process.send({ id, ok: true, result });
    } catch (error) {
      process.send({ id, ok: false, error: error instanceof Error ? error.stack : String(error) });
    }
  });
  process.on("disconnect", () => process.exit(0));
}

/**
 * Starts `smsgate serve --config <file>` from this checkout's `bin/smsgate.js`, with its log
 * lines discarded, and resolves once `GET /healthz` returns 200.
 */
export async function startSmsgateServe(configPath, baseUrl, cwd) {
  const binary = fileURLToPath(new URL("../../bin/smsgate.js", import.meta.url));
  const child = spawn(process.execPath, [binary, "serve", "--config", configPath], {
    cwd,
    stdio: ["ignore", "ignore", "inherit"],
  });

  running.add(child);
  child.on("exit", () => running.delete(child));
  await waitForHealth(baseUrl, child);

  return { pid: child.pid, stop: () => stopProcess(child) };
}

async function waitForHealth(baseUrl, child) {
  const deadline = Date.now() + 20_000;

  while (Date.now() < deadline) {
    if (child.exitCode !== null) {
      throw new Error(`smsgate serve exited with code ${child.exitCode} before it listened`);
    }

    try {
      const response = await request(`${baseUrl}/healthz`);

      await response.body.dump();
      if (response.statusCode === 200) {
        return;
      }
    } catch {
      // Not listening yet.
    }

    await new Promise((resolve) => setTimeout(resolve, 50));
  }

  throw new Error(`smsgate serve did not respond to ${baseUrl}/healthz within 20 s`);
}

/** Sends SIGTERM to a child this harness started and waits for it to exit. */
function stopProcess(child) {
  if (child.exitCode !== null || child.signalCode !== null) {
    return Promise.resolve();
  }

  return new Promise((resolve) => {
    const timer = setTimeout(() => child.kill("SIGKILL"), 10_000);

    child.once("exit", () => {
      clearTimeout(timer);
      resolve();
    });
    child.kill("SIGTERM");
  });
}

/** Reads the resident set size of a process from `/proc/<pid>/status`, in bytes. */
export async function readRss(pid) {
  const status = await readFile(`/proc/${pid}/status`, "utf8");
  const match = /^VmRSS:\s+(\d+) kB$/m.exec(status);

  if (match === null) {
    throw new Error(`/proc/${pid}/status has no VmRSS line`);
  }

  return Number(match[1]) * 1024;
}

/** Asks the kernel for a free TCP port on 127.0.0.1. */
export function freePort() {
  return new Promise((resolve, reject) => {
    const server = createNetServer();

    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address();

      server.close(() => resolve(port));
    });
  });
}

/**
 * Writes a configuration for `smsgate serve` with the benchmark's Twilio account, listening
 * on `port` of 127.0.0.1 with the SQLite store at `storePath`, and returns its path.
 */
export async function writeServeConfig(directory, name, port, storePath, account) {
  const path = `${directory}/${name}.config.json`;
  const config = {
    listen: { host: "127.0.0.1", port },
    publicUrl: `http://127.0.0.1:${port}`,
    store: { type: "sqlite", path: storePath },
    providers: { twilio: account },
  };

  await writeFile(path, JSON.stringify(config, null, 2));
  return path;
}

/**
 * Writes a configuration for `smsgate serve` with the benchmark's Twilio account, listening
 * on `port` of 127.0.0.1 with the PostgreSQL store at `url` in `schema`, and returns its path.
 * The file contains the URL as given, password included, so it belongs in the run's
 * temporary directory.
 */
export async function writePostgresServeConfig(directory, name, port, store, account) {
  const path = `${directory}/${name}.config.json`;
  const config = {
    listen: { host: "127.0.0.1", port },
    publicUrl: `http://127.0.0.1:${port}`,
    store: {
      type: "postgres",
      url: store.url,
      schema: store.schema,
      maxConnections: store.maxConnections,
    },
    providers: { twilio: account },
  };

  await writeFile(path, JSON.stringify(config, null, 2), { mode: 0o600 });
  return path;
}
