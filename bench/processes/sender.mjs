/**
 * One sender of the send benchmark, in its own process, posting to the fake Twilio API:
 *
 * - `smsgate`: `gateway.send()`: request checks, recipient normalisation, the opt-out read
 *   on the SQLite store, and the Twilio module's POST through its undici `Pool`;
 * - `undici`: an undici `Pool` with keep-alive posting the same form and headers, reading
 *   the body and checking for 201, which is the limit of the HTTP client;
 * - `twilio-sdk`: the official `twilio` package's `client.messages.create()`, with
 *   `client.api.baseUrl` pointed at the fake API.
 *
 * `run` keeps `concurrency` sends in flight until the time is up and returns the rate and
 * the CPU time the sender process spent per send.
 */

import { Gateway } from "smsgate";
import { openSqliteStore } from "smsgate/stores/sqlite";
import { twilio as smsgateTwilio } from "smsgate/twilio";
import twilioSdk from "twilio";
import { Pool } from "undici";
import { serveRequests } from "../lib/processes.mjs";

const messageBody = "Your appointment is tomorrow at 10:00. Reply STOP to opt out.";

let sendOne;
let close = async () => {};

function setUpSmsgate({ apiUrl, storePath, accountSid, authToken, from }) {
  const store = openSqliteStore({ path: storePath });
  const gateway = new Gateway({
    providers: [smsgateTwilio({ accountSid, authToken, from, apiBaseUrl: apiUrl })],
    store,
  });

  sendOne = (to) => gateway.send({ to, body: messageBody });
  close = async () => {
    await gateway.close();
    await store.close();
  };
}

function setUpUndici({ apiUrl, accountSid, authToken, from }) {
  const pool = new Pool(apiUrl);
  const path = `/2010-04-01/Accounts/${accountSid}/Messages.json`;
  const headers = {
    authorization: `Basic ${Buffer.from(`${accountSid}:${authToken}`).toString("base64")}`,
    "content-type": "application/x-www-form-urlencoded; charset=utf-8",
    accept: "application/json",
    "user-agent": "smsgate-bench",
  };

  sendOne = async (to) => {
    const body = new URLSearchParams({ To: to, From: from, Body: messageBody }).toString();
    const response = await pool.request({ path, method: "POST", headers, body });
    const text = await response.body.text();

    if (response.statusCode !== 201) {
      throw new Error(`HTTP ${response.statusCode}: ${text}`);
    }
  };
  close = () => pool.close();
}

function setUpTwilioSdk({ apiUrl, accountSid, authToken, from }) {
  const client = twilioSdk(accountSid, authToken);

  // The SDK builds every Messages URL from this domain's base URL.
  client.api.baseUrl = apiUrl;
  sendOne = (to) => client.messages.create({ to, from, body: messageBody });
}

const setUps = { smsgate: setUpSmsgate, undici: setUpUndici, "twilio-sdk": setUpTwilioSdk };

let recipients = [];

async function run({ durationMs, concurrency }) {
  const deadline = performance.now() + durationMs;
  const started = performance.now();
  const cpuBefore = process.cpuUsage();
  let next = 0;
  let sent = 0;
  let failed = 0;
  let firstError;

  const worker = async () => {
    while (performance.now() < deadline) {
      const to = recipients[next % recipients.length];

      next += 1;
      try {
        await sendOne(to);
        sent += 1;
      } catch (error) {
        failed += 1;
        firstError ??= error instanceof Error ? error.message : String(error);
      }
    }
  };

  await Promise.all(Array.from({ length: concurrency }, worker));
  const seconds = (performance.now() - started) / 1_000;
  const cpu = process.cpuUsage(cpuBefore);

  // CPU time of this process per send, in microseconds: what the sender itself costs.
  const cpuMicros = (cpu.user + cpu.system) / Math.max(1, sent + failed);

  return { rate: sent / seconds, sent, failed, firstError, cpuMicros };
}

serveRequests({
  setup: (options) => {
    recipients = options.recipients;
    setUps[options.variant](options);
    return { variant: options.variant };
  },
  run,
  close: () => close(),
});
