/**
 * The Twilio account of the benchmarks and the wire format of a signed inbound webhook.
 * The signature follows Twilio's "Webhooks security" algorithm: HMAC-SHA1 keyed with the
 * Auth Token, over the URL followed by every form name and value in name order, in base64.
 */

import { createHmac, timingSafeEqual } from "node:crypto";

/** A made-up account; requests only ever go to servers on 127.0.0.1. */
export const account = {
  accountSid: "AC5e1f0c0ffee5e1f0c0ffee5e1f0c0ffe",
  authToken: "b3nchm4rk-auth-token-0123456789ab",
  from: "+12025550100",
};

/** Computes `X-Twilio-Signature` for a form webhook. */
export function signTwilioForm(authToken, url, params) {
  const names = [...new Set(params.keys())].sort();
  let data = url;

  for (const name of names) {
    for (const value of params.getAll(name).sort()) {
      data += name + value;
    }
  }

  return createHmac("sha1", authToken).update(data, "utf8").digest("base64");
}

/** Checks `X-Twilio-Signature` in constant time, as a hand-written handler would. */
export function verifyTwilioForm(authToken, url, params, signature) {
  if (typeof signature !== "string" || signature === "") {
    return false;
  }

  const expected = Buffer.from(signTwilioForm(authToken, url, params));
  const actual = Buffer.from(signature);

  return expected.length === actual.length && timingSafeEqual(expected, actual);
}

/**
 * Builds the form Twilio posts for an inbound SMS, with the fields a US number receives and
 * `OptOutType=STOP` as Advanced Opt-Out adds for a STOP reply.
 */
export function inboundStopForm(messageSid, from, to) {
  return new URLSearchParams({
    ToCountry: "US",
    ToState: "DC",
    SmsMessageSid: messageSid,
    NumMedia: "0",
    ToCity: "WASHINGTON",
    FromZip: "20001",
    SmsSid: messageSid,
    FromState: "DC",
    SmsStatus: "received",
    FromCity: "WASHINGTON",
    Body: "STOP",
    FromCountry: "US",
    To: to,
    ToZip: "20001",
    NumSegments: "1",
    MessageSid: messageSid,
    AccountSid: account.accountSid,
    OptOutType: "STOP",
    From: from,
    ApiVersion: "2010-04-01",
  });
}

/** The empty TwiML response to an inbound message that needs no reply. */
export const emptyTwiml = '<?xml version="1.0" encoding="UTF-8"?><Response/>';
