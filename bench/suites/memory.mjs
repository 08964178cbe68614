/**
 * Memory of `smsgate serve` on a store of 1,000,000 opt-outs under webhook load: the load
 * generator posts signed STOP webhooks for the whole run while the parent samples the
 * server's resident set size from /proc. The first seconds are a warm-up and not judged.
 */

import { copyFile } from "node:fs/promises";
import { join } from "node:path";
import {
  freePort,
  readRss,
  startChild,
  startSmsgateServe,
  writeServeConfig,
} from "../lib/processes.mjs";
import { formatNumber, valueRow } from "../lib/report.mjs";
import { median } from "../lib/stats.mjs";
import { account } from "../lib/twilio.mjs";
import { webhookConnections } from "../lib/webhook.mjs";

// NOTE: the limit of 5% growth between the first and the last fifth of the samples after
// warm-up is a judgement, not a measured property.
const maxGrowth = 0.05;

const megabyte = 1024 * 1024;

async function sampleRss(pid, intervalMs, until) {
  const samples = [];

  while (!until.done) {
    samples.push({ at: performance.now(), rss: await readRss(pid) });
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }

  return samples;
}

/** Summarises the samples taken after the warm-up. */
function summarizeSamples(samples, warmupMs) {
  const start = samples[0].at + warmupMs;
  const judged = samples.filter((sample) => sample.at >= start);
  const fifth = Math.max(1, Math.floor(judged.length / 5));
  const first = median(judged.slice(0, fifth).map((sample) => sample.rss));
  const last = median(judged.slice(-fifth).map((sample) => sample.rss));

  return {
    first,
    last,
    max: Math.max(...judged.map((sample) => sample.rss)),
    growth: (last - first) / first,
    seconds: (judged.at(-1).at - judged[0].at) / 1_000,
  };
}

/** Runs the memory benchmark once and returns its row. */
export async function runMemorySuite({ settings, seededStore, directory }) {
  const storePath = join(directory, "memory.db");

  await copyFile(await seededStore(settings.memoryStoreSize), storePath);

  const port = await freePort();
  const configPath = await writeServeConfig(directory, "memory", port, storePath, account);
  const origin = `http://127.0.0.1:${port}`;
  const load = startChild("webhook-load");
  let serve;

  try {
    await load.call("setup", { senderCount: settings.recipientPool });
    serve = await startSmsgateServe(configPath, origin, directory);

    const until = { done: false };
    const sampling = sampleRss(serve.pid, settings.mode === "smoke" ? 100 : 1_000, until);
    const result = await load.call("run", {
      origin,
      connections: webhookConnections,
      durationS: settings.memorySeconds,
    });

    until.done = true;

    const rss = summarizeSamples(await sampling, settings.memoryWarmupSeconds * 1_000);
    const text =
      `RSS ${formatNumber(rss.first / megabyte)} MB after warm-up, ` +
      `${formatNumber(rss.last / megabyte)} MB at the end (max ${formatNumber(rss.max / megabyte)} MB), ` +
      `${rss.growth >= 0 ? "+" : ""}${(rss.growth * 100).toFixed(1)}% over ${Math.round(rss.seconds)} s`;

    const failed = result.non2xx + result.errors;
    const row = valueRow({
      name: `memory: smsgate serve, ${formatNumber(settings.memoryStoreSize)} opt-outs, ${settings.memorySeconds} s of webhooks`,
      value: rss.growth,
      text,
      baseline: `load: ${formatNumber(result.rate)} webhooks/s, ${failed} failed`,
      target: { atMost: maxGrowth },
      targetText: `growth ≤ ${maxGrowth * 100}%`,
    });

    // A run with failed webhooks did not hold the load it reports.
    row.met &&= failed === 0;
    return [row];
  } finally {
    await serve?.stop();
    await load.stop();
  }
}
