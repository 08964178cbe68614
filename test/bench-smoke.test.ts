import { execFile } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { describe, expect, it } from "vitest";

// Runs the benchmark harness in its smoke mode: every suite with tiny sizes, one
// repetition and sub-second runs, against the build in dist/ (`npm test` builds it first).
// The numbers are not checked, only that every suite ran and that nothing was written.
// The webhook-postgres suite needs the PostgreSQL database of SMSGATE_BENCH_PG_URL, by
// default postgres://postgres@127.0.0.1:5432/test, and fails when it cannot connect.

const root = fileURLToPath(new URL("..", import.meta.url));
const documentPath = `${root}docs/benchmarks.md`;
const run = promisify(execFile);

describe("npm run bench -- --smoke", () => {
  it("runs every suite and writes nothing", { timeout: 180_000 }, async () => {
    expect(existsSync(`${root}dist/index.js`), "dist/ is missing; run npm run build").toBe(true);
    const documentBefore = readFileSync(documentPath, "utf8");

    const { stdout } = await run(process.execPath, ["bench/run.mjs", "--smoke"], {
      cwd: root,
      timeout: 170_000,
      maxBuffer: 10 * 1024 * 1024,
    });

    for (const benchmark of [
      "| phone normalisation",
      "| keyword classification,",
      "| guard check, 1,000 opt-outs",
      "| bulk check, 1,000 recipients",
      "| send() through the guard",
      "| webhook STOP, 64 connections: smsgate serve",
      "| webhook STOP, 64 connections: smsgate library",
      "| webhook STOP, 64 connections, PostgreSQL: smsgate serve",
      "| webhook STOP, 64 connections, PostgreSQL: smsgate library",
      "| memory: smsgate serve",
    ]) {
      expect(stdout).toContain(benchmark);
    }

    expect(stdout).toMatch(/\| \d+\.\d\d \(\d+\.\d\d–\d+\.\d\d\) \|/);
    expect(readFileSync(documentPath, "utf8")).toBe(documentBefore);
  });
});
