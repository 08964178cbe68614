/**
 * `send()` through the guard against the raw HTTP client and the official Twilio SDK. The
 * fake Twilio API and each sender run in processes of their own. Every sender keeps 64
 * sends in flight to recipients that are not opted out, so every send reaches the API.
 */

import { validUsNumbers } from "../lib/data.mjs";
import { startChild } from "../lib/processes.mjs";
import { comparisonRow, formatNumber } from "../lib/report.mjs";
import { median, repeatAlternating } from "../lib/stats.mjs";
import { account } from "../lib/twilio.mjs";

const concurrency = 64;
const variants = ["smsgate", "undici", "twilio-sdk"];

/** Checks that a run sent something and that no send failed. */
function checkRun(variant, result) {
  if (result.failed > 0 || result.sent === 0) {
    throw new Error(
      `${variant}: ${result.sent} sent, ${result.failed} failed (${result.firstError ?? "no error"})`,
    );
  }

  return result;
}

function cpuNote(results) {
  const perVariant = variants.map((variant) => {
    const micros = median(results[variant].map((result) => result.cpuMicros));

    return `${variant} ${formatNumber(micros)} µs`;
  });

  return `CPU time of the sender process per send, median: ${perVariant.join(", ")}.`;
}

/** Measures the three senders and returns the two rows with targets. */
export async function runSendSuite({ settings, seededStore }) {
  const storeSize = Math.max(...settings.storeSizes.filter((size) => size <= 1_000_000));
  const storePath = await seededStore(storeSize);
  const api = startChild("fake-twilio-api");
  const senders = Object.fromEntries(variants.map((variant) => [variant, startChild("sender")]));

  try {
    const { port } = await api.call("start");
    const recipients = validUsNumbers(settings.recipientPool);
    const setup = { ...account, apiUrl: `http://127.0.0.1:${port}`, storePath, recipients };

    for (const variant of variants) {
      await senders[variant].call("setup", { ...setup, variant });
      await senders[variant].call("run", { durationMs: settings.warmupMs * 2, concurrency });
    }

    const durationMs = settings.httpSeconds * 1_000;
    const results = await repeatAlternating(variants, settings.repetitions, async (variant) =>
      checkRun(variant, await senders[variant].call("run", { durationMs, concurrency })),
    );
    const rates = Object.fromEntries(
      variants.map((variant) => [variant, results[variant].map((result) => result.rate)]),
    );
    const name = `send() through the guard, ${concurrency} concurrent, ${formatNumber(storeSize)} opt-outs`;

    return [
      comparisonRow({
        name,
        smsgate: rates.smsgate,
        baseline: rates.undici,
        baselineName: "undici Pool, same form",
        unit: "sends/s",
        target: { atLeast: 0.6 },
      }),
      comparisonRow({
        name,
        smsgate: rates.smsgate,
        baseline: rates["twilio-sdk"],
        baselineName: "twilio SDK messages.create()",
        unit: "sends/s",
        target: { atLeast: 5 },
        note: cpuNote(results),
      }),
    ];
  } finally {
    await Promise.all(Object.values(senders).map((sender) => sender.stop()));
    await api.stop();
  }
}
