/**
 * Signed Twilio STOP webhooks: verified, recorded durably and responded to. The load generator
 * and each server run in processes of their own; the servers are measured in turn, never
 * together. After the runs, every durable server must have stored at least as many
 * webhooks as it sent 2xx responses for.
 */

import { join } from "node:path";
import Database from "better-sqlite3";
import { freePort, startChild, startSmsgateServe, writeServeConfig } from "../lib/processes.mjs";
import { comparisonRow } from "../lib/report.mjs";
import { account } from "../lib/twilio.mjs";
import {
  cpuNote,
  latencyNote,
  measureWebhookVariants,
  webhookConnections,
} from "../lib/webhook.mjs";

const forkedVariants = ["bare", "handwritten", "handwritten-rows", "library"];
const variants = [...forkedVariants, "serve"];

async function startServers(directory) {
  const servers = {};

  for (const variant of forkedVariants) {
    const child = startChild("webhook-server");
    const storePath = join(directory, `webhook-${variant}.db`);
    const { port } = await child.call("start", { variant, storePath });

    servers[variant] = {
      origin: `http://127.0.0.1:${port}`,
      pid: child.pid,
      stop: child.stop,
      recorded: () => child.call("recorded"),
    };
  }

  const port = await freePort();
  const storePath = join(directory, "webhook-serve.db");
  const configPath = await writeServeConfig(directory, "webhook-serve", port, storePath, account);
  const origin = `http://127.0.0.1:${port}`;
  const serve = await startSmsgateServe(configPath, origin, directory);

  servers.serve = {
    origin,
    pid: serve.pid,
    stop: serve.stop,
    recorded: () => countReceipts(storePath),
  };
  return servers;
}

function countReceipts(storePath) {
  const db = new Database(storePath, { readonly: true });

  try {
    return db.prepare("SELECT count(*) FROM webhook_receipts").pluck().get();
  } finally {
    db.close();
  }
}

/** Checks that a run had no failed request and that a durable server stored every 2xx. */
async function checkDurability(servers, acknowledged) {
  for (const variant of variants) {
    const recorded = await servers[variant].recorded();

    if (recorded !== null && recorded < acknowledged[variant]) {
      throw new Error(
        `${variant}: ${acknowledged[variant]} webhooks got a 2xx response, ${recorded} stored`,
      );
    }
  }
}

/** Measures the four servers and returns the rows: smsgate against each baseline. */
export async function runWebhookSuite({ settings, directory }) {
  const load = startChild("webhook-load");
  let servers = {};

  try {
    await load.call("setup", { senderCount: settings.recipientPool });
    servers = await startServers(directory);

    const origins = Object.fromEntries(
      variants.map((variant) => [variant, servers[variant].origin]),
    );
    const pids = Object.fromEntries(variants.map((variant) => [variant, servers[variant].pid]));
    const { results, acknowledged } = await measureWebhookVariants({
      load,
      variants,
      origins,
      pids,
      settings,
      label: "",
    });

    await checkDurability(servers, acknowledged);
    return webhookRows(results);
  } finally {
    await Promise.all(Object.values(servers).map((server) => server.stop()));
    await load.stop();
  }
}

function webhookRows(results) {
  const rates = Object.fromEntries(
    variants.map((variant) => [variant, results[variant].map((result) => result.rate)]),
  );
  const row = (name, smsgate, baseline, baselineName, target) =>
    comparisonRow({
      name: `webhook STOP, ${webhookConnections} connections: ${name}`,
      smsgate: rates[smsgate],
      baseline: rates[baseline],
      baselineName,
      unit: "webhooks/s",
      target,
    });

  const target = { atLeast: 0.8 };
  const ownSchema = "hand-written durable, own 2 tables";
  const storeRows = "hand-written durable, store's rows";

  return [
    row("smsgate library", "library", "handwritten", ownSchema, target),
    row("smsgate serve", "serve", "handwritten", ownSchema, target),
    row("smsgate library", "library", "handwritten-rows", storeRows, target),
    row("smsgate serve", "serve", "handwritten-rows", storeRows, target),
    row("hand-written, store's rows", "handwritten-rows", "handwritten", ownSchema),
    {
      ...row("smsgate library", "library", "bare", "bare node:http"),
      note: cpuNote(variants, results, ""),
    },
    {
      ...row("smsgate serve", "serve", "bare", "bare node:http"),
      note: latencyNote(variants, results, ""),
    },
  ];
}
