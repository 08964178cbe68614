/**
 * Guard check and bulk check on seeded SQLite stores of every configured size, measured in
 * a child process. The targets apply to the 1,000,000 store, and the other sizes show how
 * the cost grows.
 */

import { startChild } from "../lib/processes.mjs";
import { comparisonRow, formatNumber } from "../lib/report.mjs";

const targetSize = 1_000_000;

/** Runs the guard and bulk checks on every store size and returns two rows per size. */
export async function runSqliteSuite({ settings, seededStore }) {
  const stores = [];

  for (const size of settings.storeSizes) {
    stores.push({ size, path: await seededStore(size) });
  }

  const child = startChild("sqlite");
  let results;

  try {
    results = await child.call("run", { stores, settings });
  } finally {
    await child.stop();
  }

  return results.flatMap(({ size, guard, bulk, optedOut, recipients }) => {
    const isTargetSize = size === targetSize || settings.mode === "smoke";

    return [
      comparisonRow({
        name: `guard check, ${formatNumber(size)} opt-outs`,
        smsgate: guard.smsgate,
        baseline: guard.baseline,
        baselineName: "prepared SELECT with .pluck()",
        unit: "checks/s",
        target: isTargetSize ? { atLeast: 0.8 } : undefined,
      }),
      comparisonRow({
        name: `bulk check, ${formatNumber(recipients)} recipients (${formatNumber(optedOut)} opted out), ${formatNumber(size)} opt-outs, time per call`,
        smsgate: bulk.smsgate,
        baseline: bulk.baseline,
        baselineName: "one json_each join",
        unit: "ms",
        target: isTargetSize ? { atMost: 1.25 } : undefined,
      }),
    ];
  });
}
