/** Phone normalisation and keyword classification, each measured in a child process. */

import { startChild } from "../lib/processes.mjs";
import { comparisonRow, formatNumber, valueRow } from "../lib/report.mjs";
import { summarize } from "../lib/stats.mjs";

async function measureInChild(name, settings) {
  const child = startChild(name);

  try {
    return await child.call("run", settings);
  } finally {
    await child.stop();
  }
}

/** Compares `normalizePhoneNumber` with libphonenumber-js on a mixed corpus. */
export async function runPhoneSuite({ settings }) {
  const { rates, corpusSize, validCounts } = await measureInChild("phone", settings);

  return [
    comparisonRow({
      name: `phone normalisation, ${formatNumber(corpusSize)} mixed inputs (valid: smsgate ${validCounts.smsgate}, libphonenumber-js ${validCounts.baseline})`,
      smsgate: rates.smsgate,
      baseline: rates.baseline,
      baselineName: "libphonenumber-js parse + isValid()",
      unit: "numbers/s",
      target: { atLeast: 0.8 },
    }),
  ];
}

/** Compares `classifyKeywords` with `Set.has()` and checks its rate floor. */
export async function runKeywordSuite({ settings }) {
  const { rates, corpusSize, examples } = await measureInChild("keywords", settings);
  const name = `keyword classification, ${formatNumber(corpusSize)} replies (${examples} from the keyword tests)`;
  const median = summarize(rates.smsgate).median;

  return [
    comparisonRow({
      name,
      smsgate: rates.smsgate,
      baseline: rates.baseline,
      baselineName: "Set.has(trimmed upper case)",
      unit: "messages/s",
    }),
    valueRow({
      name: "keyword classification rate",
      value: median,
      text: `${formatNumber(median)} messages/s`,
      target: { atLeast: 1_000_000 },
    }),
  ];
}
