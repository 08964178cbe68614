/**
 * Command-line flags of `npm run bench` and the sizes and durations each mode uses.
 * Default mode: 5 repetitions, 10k, 100k and 1M opt-outs, a 60 s memory run.
 */

import { parseArgs } from "node:util";

const usage = `Usage: npm run bench -- [options]

  --smoke          tiny sizes, 1 repetition, a few seconds; checks the harness and writes nothing
  --quick          3 repetitions, shorter runs, 20 s memory run
  --full           adds the 10M opt-out store to the cost-growth runs (seeding takes minutes)
  --reps N         repetitions of each benchmark (default 5)
  --only LIST      comma-separated suites: phone, keywords, sqlite, send, webhook,
                   webhook-postgres, memory
  --pg-url URL     PostgreSQL database of the webhook-postgres suite, which creates and drops
                   its own schemas there (default: $SMSGATE_BENCH_PG_URL, else
                   postgres://postgres@127.0.0.1:5432/test)
  --no-write       print the results without updating docs/benchmarks.md
  --help           print this text`;

/** Every suite, in the order they run. */
export const suiteNames = [
  "phone",
  "keywords",
  "sqlite",
  "send",
  "webhook",
  "webhook-postgres",
  "memory",
];

/** The environment variable that sets the PostgreSQL database when `--pg-url` is not given. */
export const postgresUrlVariable = "SMSGATE_BENCH_PG_URL";

/** The PostgreSQL database used when neither `--pg-url` nor the variable is set. */
export const defaultPostgresUrl = "postgres://postgres@127.0.0.1:5432/test";

const modes = {
  smoke: {
    repetitions: 1,
    measureMs: 150,
    warmupMs: 100,
    storeSizes: [1_000],
    bulkRecipients: 1_000,
    generatedReplies: 1_000,
    phoneCorpus: 500,
    httpSeconds: 0.5,
    httpWarmupSeconds: 0.25,
    memorySeconds: 2,
    memoryWarmupSeconds: 0.5,
    memoryStoreSize: 1_000,
    recipientPool: 500,
  },
  quick: {
    repetitions: 3,
    measureMs: 500,
    warmupMs: 300,
    storeSizes: [10_000, 100_000, 1_000_000],
    bulkRecipients: 100_000,
    generatedReplies: 10_000,
    phoneCorpus: 5_000,
    httpSeconds: 2,
    httpWarmupSeconds: 1,
    memorySeconds: 20,
    memoryWarmupSeconds: 5,
    memoryStoreSize: 1_000_000,
    recipientPool: 20_000,
  },
  default: {
    repetitions: 5,
    measureMs: 1_000,
    warmupMs: 500,
    storeSizes: [10_000, 100_000, 1_000_000],
    bulkRecipients: 100_000,
    generatedReplies: 10_000,
    phoneCorpus: 5_000,
    httpSeconds: 3,
    httpWarmupSeconds: 1,
    memorySeconds: 60,
    memoryWarmupSeconds: 10,
    memoryStoreSize: 1_000_000,
    recipientPool: 20_000,
  },
};

/**
 * Parses the flags into the settings of one run.
 *
 * @throws {Error} for an unknown flag, a bad `--reps`, an unknown suite name or a PostgreSQL
 *   URL that is not a postgres:// URL.
 */
export function parseOptions(argv) {
  const { values } = parseArgs({
    args: argv,
    options: {
      smoke: { type: "boolean", default: false },
      quick: { type: "boolean", default: false },
      full: { type: "boolean", default: false },
      reps: { type: "string" },
      only: { type: "string" },
      "pg-url": { type: "string" },
      "no-write": { type: "boolean", default: false },
      help: { type: "boolean", default: false },
    },
    strict: true,
    allowPositionals: false,
  });

  if (values.help) {
    return { help: usage };
  }

  let mode = "default";

  if (values.smoke) {
    mode = "smoke";
  } else if (values.quick) {
    mode = "quick";
  }

  const settings = { ...modes[mode], mode, full: values.full && !values.smoke };

  if (settings.full) {
    settings.storeSizes = [...settings.storeSizes, 10_000_000];
  }

  if (values.reps !== undefined) {
    settings.repetitions = parseRepetitions(values.reps);
  }

  settings.suites = parseSuites(values.only);
  if (settings.suites.includes("webhook-postgres")) {
    settings.postgresUrl = parsePostgresUrl(values["pg-url"]);
  }
  settings.write = !values.smoke && !values["no-write"];
  settings.argv = argv;

  return settings;
}

function parseRepetitions(text) {
  const repetitions = Number(text);

  if (!Number.isInteger(repetitions) || repetitions < 1 || repetitions > 50) {
    throw new Error(`--reps must be a whole number from 1 to 50 (got ${JSON.stringify(text)})`);
  }

  return repetitions;
}

function parsePostgresUrl(flag) {
  const fromEnvironment = process.env[postgresUrlVariable];
  const url = flag ?? (fromEnvironment || defaultPostgresUrl);

  if (!/^postgres(ql)?:\/\/./.test(url)) {
    const source = flag === undefined ? postgresUrlVariable : "--pg-url";

    // The value is left out of the message because a connection URL can contain a password.
    throw new Error(
      `${source} must be a postgres:// or postgresql:// URL, such as ${defaultPostgresUrl}`,
    );
  }

  return url;
}

function parseSuites(text) {
  if (text === undefined) {
    return suiteNames;
  }

  const names = text.split(",").map((name) => name.trim());
  const unknown = names.filter((name) => !suiteNames.includes(name));

  if (unknown.length > 0) {
    throw new Error(
      `--only: unknown suite ${unknown.join(", ")}; choose from ${suiteNames.join(", ")}`,
    );
  }

  return suiteNames.filter((name) => names.includes(name));
}
