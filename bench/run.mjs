/**
 * `npm run bench`: measures smsgate's hot paths side by side with the raw limit of the same
 * machine in the same run, repeats each measurement, and reports the ratio within each
 * repetition as median and range. Unless `--smoke` or `--no-write` is given, the results
 * replace the generated section of docs/benchmarks.md. Run `npm run bench -- --help` for
 * the flags.
 */

import { mkdtemp, readFile, rm } from "node:fs/promises";
import { createRequire } from "node:module";
import { cpus, loadavg, tmpdir, totalmem } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import Database from "better-sqlite3";
import { parseOptions } from "./lib/options.mjs";
import { formatNumber, renderNotes, renderTable, writeResults } from "./lib/report.mjs";
import { seedStore } from "./lib/seed.mjs";
import { runMemorySuite } from "./suites/memory.mjs";
import { runKeywordSuite, runPhoneSuite } from "./suites/micro.mjs";
import { runSendSuite } from "./suites/send.mjs";
import { runSqliteSuite } from "./suites/sqlite.mjs";
import { runWebhookSuite } from "./suites/webhook.mjs";
import { runWebhookPostgresSuite } from "./suites/webhook-postgres.mjs";

const suites = {
  phone: runPhoneSuite,
  keywords: runKeywordSuite,
  sqlite: runSqliteSuite,
  send: runSendSuite,
  webhook: runWebhookSuite,
  "webhook-postgres": runWebhookPostgresSuite,
  memory: runMemorySuite,
};

const documentPath = fileURLToPath(new URL("../docs/benchmarks.md", import.meta.url));
const require = createRequire(import.meta.url);

function log(message) {
  process.stderr.write(`[bench] ${message}\n`);
}

function packageVersion(name) {
  return require(`${name}/package.json`).version;
}

async function describeMachine() {
  const cpuinfo = await readFile("/proc/cpuinfo", "utf8").catch(() => "");
  const model = /^model name\s*:\s*(.+)$/m.exec(cpuinfo)?.[1] ?? cpus()[0]?.model ?? "unknown";
  const sqlite = new Database(":memory:").prepare("SELECT sqlite_version()").pluck().get();
  const versions = ["smsgate", "better-sqlite3", "pg", "undici", "twilio", "libphonenumber-js"]
    .map((name) => `${name} ${packageVersion(name)}`)
    .join(", ");

  return (
    `${cpus().length} CPUs (${model}), ${(totalmem() / 2 ** 30).toFixed(1)} GiB memory, ` +
    `load average ${loadavg()[0].toFixed(1)} at the start; Node ${process.version}; ` +
    `${versions}; SQLite ${sqlite}`
  );
}

/** Returns a function that seeds a store of each size once per run, under `directory`. */
function storeSeeder(directory, seedTimes) {
  const stores = new Map();

  return (size) => {
    if (!stores.has(size)) {
      const path = join(directory, `store-${size}.db`);

      log(`seeding a store with ${formatNumber(size)} opt-outs`);
      stores.set(
        size,
        seedStore(path, size).then((seconds) => {
          seedTimes.push(`${formatNumber(size)} opt-outs in ${seconds.toFixed(1)} s`);
          log(`seeded ${formatNumber(size)} opt-outs in ${seconds.toFixed(1)} s`);
          return path;
        }),
      );
    }

    return stores.get(size);
  };
}

function targetSummary(rows, missed) {
  if (rows.every((row) => row.met === undefined)) {
    return "No benchmark of this run has a target.";
  }

  return missed.length === 0 ? "Every target was met." : `Targets missed: ${missed.join("; ")}.`;
}

function resultsBlock({ settings, machine, rows, seedTimes, startedAt, seconds }) {
  const command = ["npm run bench", ...(settings.argv.length > 0 ? ["--", ...settings.argv] : [])];
  const missed = rows
    .filter((row) => row.met === false)
    .map((row) => (row.baselineName ? `${row.name} against ${row.baselineName}` : row.name));

  return [
    `Run: \`${command.join(" ")}\` (${settings.mode} mode, ${settings.repetitions} repetitions) ` +
      `on ${startedAt.toISOString()}, ${Math.round(seconds)} s in all.`,
    "",
    `Machine: ${machine}.`,
    "",
    `Seeding: ${seedTimes.join(", ") || "none"}.`,
    "",
    renderTable(rows),
    "",
    ...renderNotes(rows),
    "",
    targetSummary(rows, missed),
  ].join("\n");
}

async function main() {
  const settings = parseOptions(process.argv.slice(2));

  if (settings.help) {
    process.stdout.write(`${settings.help}\n`);
    return;
  }

  const startedAt = new Date();
  const machine = await describeMachine();
  const directory = await mkdtemp(join(tmpdir(), "smsgate-bench-"));
  const seedTimes = [];
  const context = { settings, directory, seededStore: storeSeeder(directory, seedTimes) };
  const rows = [];

  log(`${settings.mode} mode, ${settings.repetitions} repetitions; ${machine}`);

  try {
    for (const name of settings.suites) {
      const suiteStarted = performance.now();

      log(`${name}: running`);
      rows.push(...(await suites[name](context)));
      log(`${name}: done in ${((performance.now() - suiteStarted) / 1_000).toFixed(1)} s`);
    }
  } finally {
    await rm(directory, { recursive: true, force: true });
  }

  const seconds = (Date.now() - startedAt.getTime()) / 1_000;
  const block = resultsBlock({ settings, machine, rows, seedTimes, startedAt, seconds });

  process.stdout.write(`${block}\n`);

  if (settings.write) {
    await writeResults(documentPath, block);
    log(`results written to ${documentPath}`);
  }
}

main().catch((error) => {
  process.stderr.write(`[bench] failed: ${error instanceof Error ? error.stack : error}\n`);
  process.exitCode = 1;
});
