/** Result rows, the Markdown table of a run, and its record in docs/benchmarks.md. */

import { readFile, writeFile } from "node:fs/promises";
import { ratios, summarize } from "./stats.mjs";

/** Formats a number with 3 significant digits and thousands separators: 12,300. */
export function formatNumber(value) {
  if (!Number.isFinite(value)) {
    return String(value);
  }

  const digits = Math.max(0, 2 - Math.floor(Math.log10(Math.abs(value) || 1)));
  const rounded = Number(value.toPrecision(3));

  return rounded.toLocaleString("en-US", { maximumFractionDigits: digits });
}

function formatRatio({ median, min, max }) {
  return `${median.toFixed(2)} (${min.toFixed(2)}–${max.toFixed(2)})`;
}

function describeTarget(target) {
  if (target === undefined) {
    return "report";
  }

  return target.atLeast === undefined
    ? `≤ ${formatNumber(target.atMost)}`
    : `≥ ${formatNumber(target.atLeast)}`;
}

function meets(target, value) {
  if (target === undefined) {
    return undefined;
  }

  return target.atLeast === undefined ? value <= target.atMost : value >= target.atLeast;
}

/**
 * Builds a row comparing smsgate with a baseline measured in the same repetitions. The
 * ratio is taken within each repetition, smsgate over baseline, and the target applies to
 * its median.
 */
export function comparisonRow({ name, smsgate, baseline, baselineName, unit, target, note }) {
  const ratio = summarize(ratios(smsgate, baseline));

  return {
    name,
    smsgate: `${formatNumber(summarize(smsgate).median)} ${unit}`,
    baseline: `${baselineName}: ${formatNumber(summarize(baseline).median)} ${unit}`,
    ratio: formatRatio(ratio),
    target: describeTarget(target),
    met: meets(target, ratio.median),
    baselineName,
    note,
  };
}

/** Builds a row for a value with no baseline, such as a rate floor or a memory reading. */
export function valueRow({ name, value, text, baseline = "—", target, targetText }) {
  return {
    name,
    smsgate: text,
    baseline,
    ratio: "—",
    target: targetText ?? describeTarget(target),
    met: meets(target, value),
  };
}

function metText(met) {
  if (met === undefined) {
    return "—";
  }

  return met ? "yes" : "**no**";
}

/** Lists the notes of the rows, one Markdown list item each. A row may have several notes. */
export function renderNotes(rows) {
  return rows.flatMap((row) => [row.note ?? []].flat()).map((note) => `- ${note}`);
}

/** Renders rows as a Markdown table. */
export function renderTable(rows) {
  const lines = [
    "| benchmark | smsgate (median) | baseline (median) | ratio, median (range) | target | met |",
    "| --- | --- | --- | --- | --- | --- |",
  ];

  for (const row of rows) {
    const cells = [row.name, row.smsgate, row.baseline, row.ratio, row.target, metText(row.met)];

    lines.push(`| ${cells.join(" | ")} |`);
  }

  return lines.join("\n");
}

const startMarker = "<!-- bench-results:start -->";
const endMarker = "<!-- bench-results:end -->";

/**
 * Replaces the text between the result markers of the document with `block`.
 *
 * @throws {Error} when the document lacks the markers.
 */
export async function writeResults(documentPath, block) {
  const text = await readFile(documentPath, "utf8");
  const start = text.indexOf(startMarker);
  const end = text.indexOf(endMarker);

  if (start === -1 || end < start) {
    throw new Error(`${documentPath} has no ${startMarker} … ${endMarker} section to update`);
  }

  const updated = `${text.slice(0, start + startMarker.length)}\n${block}\n${text.slice(end)}`;

  await writeFile(documentPath, updated);
}
