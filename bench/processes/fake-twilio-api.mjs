/**
 * A local stand-in for Twilio's Messages API on 127.0.0.1: `POST
 * /2010-04-01/Accounts/{AccountSid}/Messages.json` reads the form and returns 201 with a
 * Message resource shaped like Twilio's. Every sender in the send benchmark posts here.
 */

import { randomBytes } from "node:crypto";
import { createServer } from "node:http";
import { serveRequests } from "../lib/processes.mjs";

const messagesPath = /^\/2010-04-01\/Accounts\/(AC[0-9a-f]{32})\/Messages\.json$/;

let created = 0;
const sidPrefix = randomBytes(8).toString("hex");

function messageResource(accountSid, form) {
  created += 1;
  const sid = `SM${sidPrefix}${created.toString(16).padStart(16, "0")}`;
  const now = new Date().toUTCString();

  return {
    account_sid: accountSid,
    api_version: "2010-04-01",
    body: form.get("Body") ?? "",
    date_created: now,
    date_sent: null,
    date_updated: now,
    direction: "outbound-api",
    error_code: null,
    error_message: null,
    from: form.get("From"),
    messaging_service_sid: form.get("MessagingServiceSid"),
    num_media: "0",
    num_segments: "1",
    price: null,
    price_unit: "USD",
    sid,
    status: "queued",
    subresource_uris: {
      media: `/2010-04-01/Accounts/${accountSid}/Messages/${sid}/Media.json`,
    },
    to: form.get("To"),
    uri: `/2010-04-01/Accounts/${accountSid}/Messages/${sid}.json`,
  };
}

function handle(req, res) {
  const chunks = [];

  req.on("data", (chunk) => chunks.push(chunk));
  req.on("end", () => {
    const match = messagesPath.exec(req.url ?? "");

    if (req.method !== "POST" || match === null) {
      res.writeHead(404, { "content-type": "application/json" }).end('{"code":20404}');
      return;
    }

    const form = new URLSearchParams(Buffer.concat(chunks).toString("utf8"));
    const body = JSON.stringify(messageResource(match[1], form));

    res.writeHead(201, {
      "content-type": "application/json; charset=utf-8",
      "content-length": Buffer.byteLength(body),
      "twilio-request-id": `RQ${sidPrefix}${created}`,
    });
    res.end(body);
  });
}

const server = createServer(handle);

serveRequests({
  start: () =>
    new Promise((resolve) => {
      server.listen(0, "127.0.0.1", () => resolve({ port: server.address().port }));
    }),
  stats: () => ({ created }),
});
