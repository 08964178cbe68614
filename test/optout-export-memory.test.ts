import { spawn } from "node:child_process";
import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { ConsentEvent } from "../src/consent/types.js";
import { openSqliteStore } from "../src/stores/sqlite.js";
import { assertBuilt, cliPath, makeTempDir, removeTempDir, writeConfig } from "./helpers/cli.js";

const NUMBERS = 100_000;
const HEAP_BOUND_BYTES = 100 * 1024 * 1024;

// Runs the built CLI's export in-process with a slow stdout that applies backpressure, and
// prints the line count and the largest heap growth seen while writing.
const childScript = `
import { Writable } from "node:stream";
const { runCli } = await import(process.argv[2]);
globalThis.gc?.();
const start = process.memoryUsage().heapUsed;
let peak = 0;
let lines = 0;
const stdout = new Writable({
  highWaterMark: 16 * 1024,
  write(chunk, _encoding, callback) {
    lines += chunk.toString().split("\\n").length - 1;
    if (lines % 1000 === 0) {
      peak = Math.max(peak, process.memoryUsage().heapUsed - start);
    }
    setImmediate(callback);
  },
});
const code = await runCli(["optout", "export", "--config", process.argv[3]], {
  stdout,
  stderr: process.stderr,
});
await new Promise((resolve) => stdout.end(resolve));
console.log(JSON.stringify({ code, lines, peak }));
`;

let dir: string;
let configPath: string;

beforeAll(async () => {
  assertBuilt();
  dir = await makeTempDir("smsgate-export-");
  const dbPath = join(dir, "big.db");
  const store = openSqliteStore({ path: dbPath });
  const events: ConsentEvent[] = Array.from({ length: NUMBERS }, (_, index) => ({
    id: `bulk:${index}`,
    phone: `+1202${String(2_000_000 + index).padStart(7, "0")}`,
    action: "opt-out",
    sender: "*",
    source: "import",
    occurredAt: new Date(Date.UTC(2025, 0, 1)),
  }));

  await store.commitWebhook({
    id: "bulk",
    provider: "import",
    events,
    outbox: [],
    receivedAt: new Date(),
  });
  await store.close();
  configPath = await writeConfig(dir, { store: { type: "sqlite", path: dbPath } });
  await writeFile(join(dir, "export.mjs"), childScript);
}, 60_000);

afterAll(async () => {
  await removeTempDir(dir);
});

function runChild(): Promise<{ code: number; lines: number; peak: number }> {
  return new Promise((resolve, reject) => {
    const args = ["--expose-gc", join(dir, "export.mjs"), pathToFileURL(cliPath).href, configPath];
    const child = spawn(process.execPath, args, { stdio: ["ignore", "pipe", "inherit"] });
    let output = "";

    child.stdout.on("data", (chunk: Buffer) => {
      output += chunk.toString();
    });
    child.on("error", reject);
    child.on("close", () => {
      resolve(JSON.parse(output));
    });
  });
}

describe("optout export memory", () => {
  it("streams 100,000 numbers in bounded heap", async () => {
    const result = await runChild();

    expect(result.code).toBe(0);
    expect(result.lines).toBe(NUMBERS + 1);
    expect(result.peak).toBeLessThan(HEAP_BOUND_BYTES);
  }, 120_000);
});
