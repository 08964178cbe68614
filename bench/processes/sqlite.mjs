/**
 * The SQLite store's reads, measured in a child process on seeded stores of several sizes:
 *
 * - guard check: `await store.isOptedOut(phone)`, the read `send()` makes, against a
 *   prepared `SELECT 1 FROM consent_state WHERE phone = ? AND sender = '' AND
 *   action = 'opt-out'` with `.pluck()` on its own connection (the row with sender '' is the
 *   phone's deciding event over every sender);
 * - bulk check: `await store.filterOptedOut(recipients)` against one `json_each` join with
 *   the same table, both returning a `Set` of the opted-out recipients.
 *
 * Lookups are half opted-out numbers and half unknown ones, in random order.
 */

import Database from "better-sqlite3";
import { openSqliteStore } from "smsgate/stores/sqlite";
import { lookupPhones, optedOutPhone, unknownPhone } from "../lib/data.mjs";
import { serveRequests } from "../lib/processes.mjs";
import { measureRate, measureRateAsync, medianCallMs, repeatAlternating } from "../lib/stats.mjs";

const guardSql =
  "SELECT 1 FROM consent_state WHERE phone = ? AND sender = '' AND action = 'opt-out'";

// CROSS JOIN keeps json_each as the outer loop, so each recipient is one index lookup.
// With a plain JOIN, SQLite 3.53 scans every opted-out row for each recipient instead.
const bulkSql = `SELECT j.value FROM json_each(?) AS j
  CROSS JOIN consent_state AS p ON p.phone = j.value AND p.sender = ''
  WHERE p.action = 'opt-out'`;

const guardLookups = 20_000;

function openConnections(path) {
  const store = openSqliteStore({ path });
  const db = new Database(path, { readonly: true });

  return {
    store,
    db,
    guard: db.prepare(guardSql).pluck(),
    bulk: db.prepare(bulkSql).pluck(),
  };
}

/** Checks that both sides read the seeded rows the same way before anything is timed. */
async function checkAgreement(connections, recipients) {
  const { store, guard, bulk } = connections;
  const known = optedOutPhone(0);
  const unknown = unknownPhone(0);

  if (!(await store.isOptedOut(known)) || guard.get(known) !== 1) {
    throw new Error(`the seeded number ${known} does not read as opted out`);
  }

  if ((await store.isOptedOut(unknown)) || guard.get(unknown) !== undefined) {
    throw new Error(`the unseeded number ${unknown} reads as opted out`);
  }

  const fromStore = await store.filterOptedOut(recipients);
  const fromJoin = new Set(bulk.all(JSON.stringify(recipients)));

  if (fromStore.size !== fromJoin.size || fromStore.size === 0) {
    throw new Error(`bulk checks disagree: ${fromStore.size} and ${fromJoin.size} opted out`);
  }

  return fromStore.size;
}

async function measureGuard(connections, size, settings) {
  const phones = lookupPhones(guardLookups, size);
  const { store, guard } = connections;
  const measure = {
    smsgate: (durationMs) =>
      measureRateAsync((index) => store.isOptedOut(phones[index % phones.length]), durationMs),
    baseline: (durationMs) =>
      measureRate((index) => guard.get(phones[index % phones.length]) === 1, durationMs),
  };

  await measure.smsgate(settings.warmupMs);
  measure.baseline(settings.warmupMs);

  return repeatAlternating(["smsgate", "baseline"], settings.repetitions, (name) =>
    measure[name](settings.measureMs),
  );
}

async function measureBulk(connections, recipients, settings) {
  const { store, bulk } = connections;
  const measure = {
    smsgate: (durationMs) => medianCallMs(() => store.filterOptedOut(recipients), durationMs),
    baseline: (durationMs) =>
      medianCallMs(() => new Set(bulk.all(JSON.stringify(recipients))), durationMs),
  };

  await measure.smsgate(settings.warmupMs);
  await measure.baseline(settings.warmupMs);

  return repeatAlternating(["smsgate", "baseline"], settings.repetitions, (name) =>
    measure[name](settings.measureMs),
  );
}

async function run({ stores, settings }) {
  const results = [];

  for (const { size, path } of stores) {
    const connections = openConnections(path);

    try {
      const recipients = lookupPhones(settings.bulkRecipients, size, 13);
      const optedOut = await checkAgreement(connections, recipients);
      const guard = await measureGuard(connections, size, settings);
      const bulk = await measureBulk(connections, recipients, settings);

      results.push({ size, guard, bulk, optedOut, recipients: recipients.length });
    } finally {
      connections.db.close();
      await connections.store.close();
    }
  }

  return results;
}

serveRequests({ run });
