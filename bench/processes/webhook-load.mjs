/**
 * The load generator of the webhook and memory benchmarks, in its own process: an undici
 * `Pool` with one keep-alive connection per worker, each worker posting signed Twilio STOP
 * webhooks to 127.0.0.1 one after another. Every webhook has a new MessageSid and a From
 * number taken in turn from a pool of valid US numbers. undici reconnects when a server
 * closes a connection, as `smsgate serve` does after 1,000 requests on one.
 */

import { randomUUID } from "node:crypto";
import { Pool } from "undici";
import { validUsNumbers } from "../lib/data.mjs";
import { serveRequests } from "../lib/processes.mjs";
import { account, inboundStopForm, signTwilioForm } from "../lib/twilio.mjs";

const inboundPath = "/webhooks/twilio/inbound";

let sent = 0;
let senders = [];

// Twilio's MessageSids are SM and 32 random hexadecimal digits, so they fall anywhere in an
// index on them, as they do here.
function nextMessageSid() {
  sent += 1;
  return `SM${randomUUID().replaceAll("-", "")}`;
}

/** Builds one signed STOP webhook for the inbound URL of `origin`. */
function signedStop(origin) {
  const messageSid = nextMessageSid();
  const form = inboundStopForm(messageSid, senders[sent % senders.length], account.from);

  return {
    body: form.toString(),
    headers: {
      "content-type": "application/x-www-form-urlencoded",
      "x-twilio-signature": signTwilioForm(account.authToken, `${origin}${inboundPath}`, form),
      "i-twilio-idempotency-token": messageSid,
    },
  };
}

/** Returns the value at `fraction` of a sorted array of milliseconds, or 0 when it is empty. */
function percentile(sorted, fraction) {
  const index = Math.min(sorted.length - 1, Math.floor(sorted.length * fraction));

  return sorted.length === 0 ? 0 : sorted[index];
}

/** Posts webhooks for `durationS` seconds with `connections` workers and returns the rate. */
async function run({ origin, connections, durationS }) {
  const pool = new Pool(origin, { connections, pipelining: 1 });
  const started = performance.now();
  const deadline = started + durationS * 1_000;
  const latencies = [];
  const counts = { ok: 0, non2xx: 0, errors: 0 };
  let firstFailure;

  const worker = async () => {
    while (performance.now() < deadline) {
      const { body, headers } = signedStop(origin);
      const sentAt = performance.now();

      try {
        const response = await pool.request({ path: inboundPath, method: "POST", headers, body });

        await response.body.dump();
        if (response.statusCode >= 200 && response.statusCode < 300) {
          counts.ok += 1;
          latencies.push(performance.now() - sentAt);
        } else {
          counts.non2xx += 1;
          firstFailure ??= `HTTP ${response.statusCode}`;
        }
      } catch (error) {
        counts.errors += 1;
        firstFailure ??= error instanceof Error ? error.message : String(error);
      }
    }
  };

  const cpuBefore = process.cpuUsage();

  await Promise.all(Array.from({ length: connections }, worker));
  const seconds = (performance.now() - started) / 1_000;
  const cpu = process.cpuUsage(cpuBefore);

  await pool.close();
  latencies.sort((a, b) => a - b);

  return {
    rate: counts.ok / seconds,
    ...counts,
    firstFailure,
    latencyP50: percentile(latencies, 0.5),
    latencyP99: percentile(latencies, 0.99),
    // CPU time of this process per 2xx response, in microseconds.
    loadCpuUs: (cpu.user + cpu.system) / Math.max(1, counts.ok),
  };
}

serveRequests({
  setup: ({ senderCount }) => {
    senders = validUsNumbers(senderCount, 23);
    return { senders: senders.length };
  },
  run,
});
