/**
 * Signed Twilio STOP webhooks: verified, recorded durably and responded to. The load generator
 * and each server run in processes of their own; the servers are measured in turn, never
 * together. After the runs, every durable server must have stored at least as many
 * webhooks as it sent 2xx responses for.
 */

import { join } from "node:path";
import Database from "better-sqlite3";
import { freePort, startChild, startSmsgateServe, writeServeConfig } from "../lib/processes.mjs";
import { comparisonRow, formatNumber } from "../lib/report.mjs";
import { median, repeatAlternating } from "../lib/stats.mjs";
import { account } from "../lib/twilio.mjs";

/** Keep-alive connections of the load generator, each with one request in flight. */
export const webhookConnections = 64;

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
      stop: child.stop,
      recorded: () => child.call("recorded"),
    };
  }

  const port = await freePort();
  const storePath = join(directory, "webhook-serve.db");
  const configPath = await writeServeConfig(directory, "webhook-serve", port, storePath, account);
  const origin = `http://127.0.0.1:${port}`;
  const serve = await startSmsgateServe(configPath, origin, directory);

  servers.serve = { origin, stop: serve.stop, recorded: () => countReceipts(storePath) };
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

function checkRun(variant, result) {
  if (result.non2xx > 0 || result.errors > 0 || result.ok === 0) {
    throw new Error(
      `${variant}: ${result.ok} 2xx responses, ${result.non2xx} other, ${result.errors} ` +
        `errors (first: ${result.firstFailure ?? "none"})`,
    );
  }
}

/** Measures the four servers and returns the rows: smsgate against each baseline. */
export async function runWebhookSuite({ settings, directory }) {
  const load = startChild("webhook-load");
  let servers = {};

  try {
    await load.call("setup", { senderCount: settings.recipientPool });
    servers = await startServers(directory);

    const acknowledged = Object.fromEntries(variants.map((variant) => [variant, 0]));
    const runLoad = async (variant, durationS) => {
      const result = await load.call("run", {
        origin: servers[variant].origin,
        connections: webhookConnections,
        durationS,
      });

      checkRun(variant, result);
      acknowledged[variant] += result.ok;
      return result;
    };

    for (const variant of variants) {
      await runLoad(variant, settings.httpWarmupSeconds);
    }

    const results = await repeatAlternating(variants, settings.repetitions, (variant) =>
      runLoad(variant, settings.httpSeconds),
    );

    await checkDurability(servers, acknowledged);
    return webhookRows(results);
  } finally {
    await Promise.all(Object.values(servers).map((server) => server.stop()));
    await load.stop();
  }
}

function latencyNote(results) {
  const perVariant = variants.map((variant) => {
    const p50 = median(results[variant].map((result) => result.latencyP50));
    const p99 = median(results[variant].map((result) => result.latencyP99));

    return `${variant} ${formatNumber(p50)}/${formatNumber(p99)} ms`;
  });

  return `Webhook latency p50/p99, median of the repetitions: ${perVariant.join(", ")}.`;
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
    row("smsgate library", "library", "bare", "bare node:http"),
    { ...row("smsgate serve", "serve", "bare", "bare node:http"), note: latencyNote(results) },
  ];
}
