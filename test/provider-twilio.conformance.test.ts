import { twilio, twilioErrorCodeReasons } from "../providers/twilio/index.js";
import { parseFormBody } from "../src/http/form.js";
import type { WebhookRequest } from "../src/provider.js";
import { startFakeTwilioApi } from "../src/testing/fake-twilio.js";
import { describeProvider } from "../src/testing/provider-suite.js";
import {
  buildTwilioInbound,
  buildTwilioStatus,
  signedTwilioRequest,
} from "../src/testing/twilio.js";
import { bodyText, withBody, withoutHeaders, withUrl } from "../src/testing/webhook-request.js";

const INBOUND_URL = "https://sms.example.com/webhooks/twilio/inbound";
const STATUS_URL = "https://sms.example.com/webhooks/twilio/status";
const PERSON = "+14155550100";
const NUMBER = "+14155550199";
const SID = "SM0123456789abcdef0123456789abcdef";

function formRequest(url: string, body: string): WebhookRequest {
  const headers = new Headers({ "content-type": "application/x-www-form-urlencoded" });

  return { method: "POST", url, headers, body: new TextEncoder().encode(body) };
}

function inbound(body: string, optOutType?: string): WebhookRequest {
  const built = buildTwilioInbound({ from: PERSON, to: NUMBER, body, messageSid: SID, optOutType });

  return formRequest(INBOUND_URL, built.body);
}

function status(state: string, errorCode?: string): WebhookRequest {
  const built = buildTwilioStatus({
    messageSid: SID,
    status: state,
    from: NUMBER,
    to: PERSON,
    errorCode,
  });

  return formRequest(STATUS_URL, built.body);
}

describeProvider("twilio conformance", async () => {
  const api = await startFakeTwilioApi();
  const provider = twilio({
    accountSid: api.accountSid,
    authToken: api.authToken,
    from: NUMBER,
    apiBaseUrl: api.url,
  });
  const sign = (request: WebhookRequest): WebhookRequest =>
    signedTwilioRequest({
      authToken: api.authToken,
      url: request.url,
      params: parseFormBody(request.body),
    });

  return {
    provider,
    api,
    close: async () => {
      await provider.close();
      await api.close();
    },
    fixtures: [
      {
        name: "plain reply",
        kind: "inbound",
        request: inbound("See you at 5"),
        expected: { messageId: SID, from: PERSON, to: NUMBER, text: "See you at 5" },
      },
      {
        name: "Advanced Opt-Out STOP",
        kind: "inbound",
        request: inbound("Stop", "STOP"),
        expected: {
          messageId: SID,
          from: PERSON,
          to: NUMBER,
          text: "Stop",
          providerIntent: "opt-out",
        },
      },
      {
        name: "Advanced Opt-Out START",
        kind: "inbound",
        request: inbound("start", "START"),
        expected: {
          messageId: SID,
          from: PERSON,
          to: NUMBER,
          text: "start",
          providerIntent: "opt-in",
        },
      },
      {
        name: "delivered",
        kind: "status",
        request: status("delivered"),
        expected: { messageId: SID, status: "delivered", to: PERSON, from: NUMBER },
      },
      {
        name: "21610 refusal",
        kind: "status",
        request: status("undelivered", "21610"),
        expected: {
          messageId: SID,
          status: "undelivered",
          errorCode: "21610",
          reason: "opted-out",
          to: PERSON,
        },
      },
    ],
    sign,
    attacks: {
      tamperedBody: (signed) => withBody(signed, `${bodyText(signed)}&Injected=1`),
      missingSignature: (signed) => withoutHeaders(signed, "x-twilio-signature"),
      wrongUrl: (signed) => withUrl(signed, signed.url.replace("sms.example.com", "evil.test")),
    },
    errorCodes: {
      reasons: twilioErrorCodeReasons,
      statusWebhook: (code) => status("failed", code),
    },
    sendExpectation: {
      message: { to: PERSON, from: NUMBER, body: "Your code is 1234" },
      method: "POST",
      path: `/2010-04-01/Accounts/${api.accountSid}/Messages.json`,
      headers: {
        authorization: `Basic ${Buffer.from(`${api.accountSid}:${api.authToken}`).toString("base64")}`,
      },
      body: { To: PERSON, From: NUMBER, Body: "Your code is 1234" },
      messageId: () => api.messages.at(-1)?.sid,
      status: "queued",
    },
    refusals: [
      {
        name: "unsubscribed recipient",
        message: { to: "+15005550004", body: "Hello" },
        reason: "opted-out",
        providerCode: "21610",
      },
      {
        name: "invalid recipient",
        message: { to: "+15005550001", body: "Hello" },
        reason: "invalid-recipient",
        providerCode: "21211",
      },
    ],
  };
});
