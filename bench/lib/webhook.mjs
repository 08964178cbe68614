/**
 * Parts shared by the webhook benchmarks: the hand-written handlers' reading of a signed
 * Twilio STOP, and the loop that warms up and measures several servers in turn.
 */

import { readFile } from "node:fs/promises";
import { formatNumber } from "./report.mjs";
import { median, repeatAlternating } from "./stats.mjs";
import { account, emptyTwiml, verifyTwilioForm } from "./twilio.mjs";

/** Keep-alive connections of the load generator, each with one request in flight. */
export const webhookConnections = 64;

/** Headers of the empty TwiML response. */
export const twimlHeaders = { "content-type": "text/xml; charset=utf-8" };

// The bodies the hand-written handlers treat as a STOP, besides `OptOutType=STOP`.
const stopWords = new Set(["STOP", "STOPALL", "UNSUBSCRIBE", "CANCEL", "END", "QUIT"]);

/** Reads a request body into one Buffer. */
export function readBody(req) {
  return new Promise((resolve, reject) => {
    const chunks = [];

    req.on("data", (chunk) => chunks.push(chunk));
    req.on("end", () => resolve(Buffer.concat(chunks)));
    req.on("error", reject);
  });
}

/**
 * Reads and verifies a Twilio webhook as the hand-written servers do. Returns the opt-out
 * to store, or `{ status }` for a request to respond to without storing: 403 for a bad
 * signature, 400 without MessageSid or From, 200 for a message that is no STOP.
 */
export async function readSignedStop(req, publicOrigin) {
  const params = new URLSearchParams((await readBody(req)).toString("utf8"));
  const url = `${publicOrigin}${req.url}`;

  if (!verifyTwilioForm(account.authToken, url, params, req.headers["x-twilio-signature"])) {
    return { status: 403 };
  }

  const sid = params.get("MessageSid");
  const phone = params.get("From");
  const body = params.get("Body") ?? "";
  const optOut = params.get("OptOutType") === "STOP" || stopWords.has(body.trim().toUpperCase());

  if (!sid || !phone || !optOut) {
    return { status: sid && phone ? 200 : 400 };
  }

  return { optOut: { sid, phone, sender: params.get("To") ?? "", body } };
}

/** Responds to a request that {@link readSignedStop} returned a status for. */
export function answerUnstored(res, status) {
  if (status === 403) {
    res.writeHead(403).end();
    return;
  }

  res.writeHead(status, twimlHeaders).end(emptyTwiml);
}

/**
 * Reads the CPU time a process has used so far, user and system time of all its threads,
 * in microseconds, from `/proc/<pid>/stat`. The kernel counts it in clock ticks, 100 per
 * second on Linux (`getconf CLK_TCK`).
 */
export async function readProcessCpuUs(pid) {
  const stat = await readFile(`/proc/${pid}/stat`, "utf8");
  // The command name in parentheses may contain spaces, so fields are counted after it.
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  const ticks = Number(fields[11]) + Number(fields[12]);

  return ticks * 10_000;
}

/**
 * Warms every server up, then measures them in turn for `settings.repetitions` rounds.
 * `origins` maps each variant to its server and `pids` to its process id. `label` names
 * the store in failures. Returns the results per variant, each with the CPU time the
 * server process spent per 2xx response, and the 2xx responses each server sent in all.
 */
export async function measureWebhookVariants({ load, variants, origins, pids, settings, label }) {
  const acknowledged = Object.fromEntries(variants.map((variant) => [variant, 0]));
  const runLoad = async (variant, durationS) => {
    const cpuBefore = await readProcessCpuUs(pids[variant]);
    const result = await load.call("run", {
      origin: origins[variant],
      connections: webhookConnections,
      durationS,
    });
    const serverCpuUs = (await readProcessCpuUs(pids[variant])) - cpuBefore;

    checkRun(`${variant}${label}`, result);
    acknowledged[variant] += result.ok;
    return { ...result, serverCpuUs: serverCpuUs / result.ok };
  };

  for (const variant of variants) {
    await runLoad(variant, settings.httpWarmupSeconds);
  }

  const results = await repeatAlternating(variants, settings.repetitions, (variant) =>
    runLoad(variant, settings.httpSeconds),
  );

  return { results, acknowledged };
}

function checkRun(name, result) {
  if (result.non2xx > 0 || result.errors > 0 || result.ok === 0) {
    throw new Error(
      `${name}: ${result.ok} 2xx responses, ${result.non2xx} other, ${result.errors} ` +
        `errors (first: ${result.firstFailure ?? "none"})`,
    );
  }
}

/**
 * Formats the median CPU time per webhook of each server process and of the load
 * generator. With the two on one machine, their sum per webhook bounds the rate the CPUs
 * allow.
 */
export function cpuNote(variants, results, where) {
  const perVariant = variants.map((variant) => {
    const server = median(results[variant].map((result) => result.serverCpuUs));
    const load = median(results[variant].map((result) => result.loadCpuUs));

    return `${variant} ${formatNumber(server)}/${formatNumber(load)} µs`;
  });

  return (
    `CPU time per webhook${where}, server process/load generator, median of the ` +
    `repetitions: ${perVariant.join(", ")}.`
  );
}

/** Formats the median p50 and p99 latency of each variant. */
export function latencyNote(variants, results, where) {
  const perVariant = variants.map((variant) => {
    const p50 = median(results[variant].map((result) => result.latencyP50));
    const p99 = median(results[variant].map((result) => result.latencyP99));

    return `${variant} ${formatNumber(p50)}/${formatNumber(p99)} ms`;
  });

  return `Webhook latency p50/p99${where}, median of the repetitions: ${perVariant.join(", ")}.`;
}
