/** Timing loops and the summaries reported for repeated measurements. */

/** Returns the median of the numbers, which is the mean of the middle two for an even count. */
export function median(values) {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);

  return sorted.length % 2 === 1 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2;
}

/** Summarises one quantity over the repetitions: median, minimum and maximum. */
export function summarize(values) {
  return { median: median(values), min: Math.min(...values), max: Math.max(...values) };
}

/**
 * Count of truthy results of the last timing loop. Keeping it stops the compiler from
 * dropping calls whose result is never read.
 */
export let truthyResults = 0;

/**
 * Calls `operation(i)` in batches of `batch` until `durationMs` have passed and returns the
 * rate in calls per second. The clock is read once per batch, so its cost stays out.
 */
export function measureRate(operation, durationMs, batch = 1_000) {
  let calls = 0;
  let truthy = 0;
  const started = performance.now();
  const deadline = started + durationMs;
  let now = started;

  while (now < deadline) {
    for (let index = 0; index < batch; index += 1) {
      if (operation(calls + index)) {
        truthy += 1;
      }
    }

    calls += batch;
    now = performance.now();
  }

  truthyResults = truthy;
  return (calls * 1_000) / (now - started);
}

/** Like {@link measureRate}, awaiting each call before the next one starts. */
export async function measureRateAsync(operation, durationMs, batch = 1_000) {
  let calls = 0;
  const started = performance.now();
  const deadline = started + durationMs;
  let now = started;

  let truthy = 0;

  while (now < deadline) {
    for (let index = 0; index < batch; index += 1) {
      if (await operation(calls + index)) {
        truthy += 1;
      }
    }

    calls += batch;
    now = performance.now();
  }

  truthyResults = truthy;
  return (calls * 1_000) / (now - started);
}

/**
 * Times `operation` (which may be async) at least `minCalls` times and until `durationMs`
 * have passed, and returns the median time of one call in milliseconds.
 */
export async function medianCallMs(operation, durationMs, minCalls = 3) {
  const times = [];
  const deadline = performance.now() + durationMs;

  while (times.length < minCalls || performance.now() < deadline) {
    const started = performance.now();

    await operation();
    times.push(performance.now() - started);
  }

  return median(times);
}

/**
 * Runs `measure(variant)` for every variant once per repetition, rotating which variant goes
 * first, so that a slow phase of a shared machine does not always hit the same one. Returns
 * the measurements of each variant, one per repetition.
 */
export async function repeatAlternating(variants, repetitions, measure) {
  const results = Object.fromEntries(variants.map((variant) => [variant, []]));

  for (let repetition = 0; repetition < repetitions; repetition += 1) {
    const shift = repetition % variants.length;
    const order = [...variants.slice(shift), ...variants.slice(0, shift)];

    for (const variant of order) {
      results[variant].push(await measure(variant, repetition));
    }
  }

  return results;
}

/** Divides two series element by element: the ratio within each repetition. */
export function ratios(numerators, denominators) {
  return numerators.map((value, index) => value / denominators[index]);
}
