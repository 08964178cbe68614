/**
 * Signed Twilio STOP webhooks recorded durably in PostgreSQL: `smsgate serve` and smsgate as
 * a library, each on its PostgreSQL store, against a hand-written server that commits its own
 * 2 tables the way the store commits a webhook. The load generator and each server run in
 * processes of their own, and the servers are measured in turn, never together.
 *
 * Every server writes to a schema of its own, named after this process and the start time
 * and created by this suite, so a run never touches existing data. The suite drops these
 * schemas at the end, also when the run fails.
 */

import pg from "pg";
import { postgresUrlVariable } from "../lib/options.mjs";
import {
  freePort,
  startChild,
  startSmsgateServe,
  writePostgresServeConfig,
} from "../lib/processes.mjs";
import { comparisonRow } from "../lib/report.mjs";
import { account } from "../lib/twilio.mjs";
import {
  cpuNote,
  latencyNote,
  measureWebhookVariants,
  webhookConnections,
} from "../lib/webhook.mjs";

/** Pool size of every server: the default `maxConnections` of smsgate's PostgreSQL store. */
export const postgresPoolSize = 10;

const forkedVariants = ["handwritten", "library"];
const variants = [...forkedVariants, "serve"];

// The table with one row per stored webhook, which the durability check counts.
const countedTables = {
  handwritten: "opt_out_log",
  library: "webhook_receipts",
  serve: "webhook_receipts",
};

/** Returns the URL with its password replaced by `***`, for messages. */
function describeUrl(url) {
  try {
    const parsed = new URL(url);

    if (parsed.password !== "") {
      parsed.password = "***";
    }

    return parsed.toString();
  } catch {
    return `the URL of --pg-url or ${postgresUrlVariable}`;
  }
}

/**
 * Connects to the benchmark's database.
 *
 * @throws {Error} naming the URL and how to set another one, when the connection fails or
 *   times out after 5 s.
 */
async function connect(url) {
  const client = new pg.Client({
    connectionString: url,
    connectionTimeoutMillis: 5_000,
    query_timeout: 60_000,
    application_name: "smsgate-bench",
  });

  // A failed connection also rejects the query in progress, which reports it.
  client.on("error", () => undefined);

  try {
    await client.connect();
  } catch (error) {
    const reason = error instanceof Error ? error.message || error.code : String(error);

    throw new Error(
      `could not connect to PostgreSQL at ${describeUrl(url)} (${reason}). The ` +
        "webhook-postgres suite needs a database where it may create and drop schemas. " +
        "Check that PostgreSQL runs there and accepts this user, set " +
        `${postgresUrlVariable} or --pg-url to another ` +
        "postgres:// URL, or choose other suites with --only.",
    );
  }

  // DROP SCHEMA waits for the locks of the servers' connections. A server that has not
  // exited yet makes it fail after 10 s instead of waiting without end.
  await client.query("SET lock_timeout = '10s'");
  return client;
}

/** Reads the server settings that decide what a COMMIT waits for. */
async function readServerSettings(client, url) {
  const { rows } = await client.query(
    `SELECT current_setting('server_version') AS version,
      current_setting('synchronous_commit') AS synchronous_commit,
      current_setting('fsync') AS fsync,
      current_setting('wal_sync_method') AS wal_sync_method,
      current_setting('commit_delay') AS commit_delay`,
  );
  const settings = rows[0];

  return (
    `PostgreSQL ${settings.version} at ${describeUrl(url)}: ` +
    `synchronous_commit ${settings.synchronous_commit}, fsync ${settings.fsync}, ` +
    `wal_sync_method ${settings.wal_sync_method}, commit_delay ${settings.commit_delay}. ` +
    `Each webhook server on PostgreSQL has a pool of ${postgresPoolSize} connections.`
  );
}

/**
 * Creates one new schema per server and adds each name to `created` once it exists. CREATE
 * SCHEMA without IF NOT EXISTS fails for a name that exists, so only schemas that this run
 * created are dropped later.
 */
async function createSchemas(client, created) {
  const prefix = `bench_${process.pid}_${Date.now()}`;
  const schemas = {};

  for (const variant of variants) {
    const schema = `${prefix}_${variant}`;

    await client.query(`CREATE SCHEMA "${schema}"`);
    created.push(schema);
    schemas[variant] = schema;
  }

  return schemas;
}

/**
 * Drops the schemas on a connection of its own, because the suite's connection may be the
 * reason the run failed. A failure to drop is raised when the run succeeded, and otherwise
 * reported on stderr next to the run's own error.
 */
async function dropSchemas(url, schemas, runFailed) {
  if (schemas.length === 0) {
    return;
  }

  try {
    const client = await connect(url);

    try {
      for (const schema of schemas) {
        await client.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
      }
    } finally {
      await client.end();
    }
  } catch (error) {
    const message =
      `could not drop the benchmark schemas ${schemas.join(", ")}; ` +
      `drop them with DROP SCHEMA ... CASCADE: ${error instanceof Error ? error.message : error}`;

    if (!runFailed) {
      throw new Error(message);
    }

    process.stderr.write(`[bench] webhook-postgres: ${message}\n`);
  }
}

/** Starts each server and adds it to `servers` as soon as it runs, so a failure stops it. */
async function startServers(url, schemas, directory, servers) {
  for (const variant of forkedVariants) {
    const child = startChild("webhook-postgres-server");

    servers[variant] = { pid: child.pid, stop: child.stop };

    const { port } = await child.call("start", {
      variant,
      url,
      schema: schemas[variant],
      maxConnections: postgresPoolSize,
    });

    servers[variant].origin = `http://127.0.0.1:${port}`;
  }

  const port = await freePort();
  const store = { url, schema: schemas.serve, maxConnections: postgresPoolSize };
  const configPath = await writePostgresServeConfig(
    directory,
    "webhook-postgres-serve",
    port,
    store,
    account,
  );
  const origin = `http://127.0.0.1:${port}`;
  const serve = await startSmsgateServe(configPath, origin, directory);

  servers.serve = { origin, pid: serve.pid, stop: serve.stop };
}

async function countStored(client, schema, table) {
  const { rows } = await client.query(
    `SELECT count(*)::integer AS stored FROM "${schema}".${table}`,
  );

  return rows[0].stored;
}

/** Checks that every server stored at least as many webhooks as it sent 2xx responses for. */
async function checkDurability(client, schemas, acknowledged) {
  for (const variant of variants) {
    const stored = await countStored(client, schemas[variant], countedTables[variant]);

    if (stored < acknowledged[variant]) {
      throw new Error(
        `${variant} on PostgreSQL: ${acknowledged[variant]} webhooks got a 2xx response, ` +
          `${stored} stored`,
      );
    }
  }
}

/** Warms up and measures the three servers in turn, checks durability, returns the rows. */
async function measure({ settings, load, servers, schemas, client, serverSettings }) {
  const origins = Object.fromEntries(variants.map((variant) => [variant, servers[variant].origin]));
  const pids = Object.fromEntries(variants.map((variant) => [variant, servers[variant].pid]));
  const { results, acknowledged } = await measureWebhookVariants({
    load,
    variants,
    origins,
    pids,
    settings,
    label: " on PostgreSQL",
  });

  await checkDurability(client, schemas, acknowledged);
  return webhookRows(results, serverSettings);
}

/** Measures the PostgreSQL webhook servers and returns the rows: smsgate against the baseline. */
export async function runWebhookPostgresSuite({ settings, directory }) {
  const url = settings.postgresUrl;
  const client = await connect(url);
  const created = [];
  const servers = {};
  let load;
  let runFailed = false;

  try {
    const serverSettings = await readServerSettings(client, url);
    const schemas = await createSchemas(client, created);

    load = startChild("webhook-load");
    await load.call("setup", { senderCount: settings.recipientPool });
    await startServers(url, schemas, directory, servers);

    return await measure({ settings, load, servers, schemas, client, serverSettings });
  } catch (error) {
    runFailed = true;
    throw error;
  } finally {
    await Promise.all(Object.values(servers).map((server) => server.stop()));
    await load?.stop();
    await client.end().catch(() => undefined);
    await dropSchemas(url, created, runFailed);
  }
}

function webhookRows(results, serverSettings) {
  const rates = Object.fromEntries(
    variants.map((variant) => [variant, results[variant].map((result) => result.rate)]),
  );
  const row = (name, variant, note) =>
    comparisonRow({
      name: `webhook STOP, ${webhookConnections} connections, PostgreSQL: ${name}`,
      smsgate: rates[variant],
      baseline: rates.handwritten,
      baselineName: "hand-written durable, own 2 tables, a transaction per webhook",
      unit: "webhooks/s",
      note,
    });

  return [
    row("smsgate serve", "serve", latencyNote(variants, results, " on PostgreSQL")),
    row("smsgate library", "library", [
      cpuNote(variants, results, " on PostgreSQL"),
      serverSettings,
    ]),
  ];
}
