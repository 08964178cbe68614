import { vonage, vonageDeliveryErrorReasons } from "../providers/vonage/index.js";
import { encodeForm, parseFormBody } from "../src/http/form.js";
import type { WebhookRequest } from "../src/provider.js";
import { startFakeVonageApi } from "../src/testing/fake-vonage.js";
import { describeProvider } from "../src/testing/provider-suite.js";
import {
  buildVonageDeliveryReceipt,
  buildVonageInbound,
  buildVonageMessagesInbound,
  signedVonageMessagesRequest,
  signedVonageRequest,
} from "../src/testing/vonage.js";
import { bodyText, withBody, withoutHeaders } from "../src/testing/webhook-request.js";

const SECRET = "vonage-conformance-secret";
const INBOUND_URL = "https://sms.example.com/webhooks/vonage/inbound";
const STATUS_URL = "https://sms.example.com/webhooks/vonage/status";
const PERSON = "+14155550100";
const NUMBER = "+14155550199";
const MESSAGE_ID = "0A0000000123ABCD";
const MESSAGE_UUID = "aaaaaaaa-bbbb-4ccc-8ddd-eeeeeeeeeeee";
const HOUR_SECONDS = 3600;

function formRequest(url: string, body: string): WebhookRequest {
  const headers = new Headers({ "content-type": "application/x-www-form-urlencoded" });

  return { method: "POST", url, headers, body: new TextEncoder().encode(body) };
}

function jsonRequest(url: string, value: unknown): WebhookRequest {
  const headers = new Headers({ "content-type": "application/json" });

  return { method: "POST", url, headers, body: new TextEncoder().encode(JSON.stringify(value)) };
}

function isJson(request: WebhookRequest): boolean {
  return (request.headers.get("content-type") ?? "").startsWith("application/json");
}

// The SMS API `sig` covers the fields and their `timestamp`, and the Messages API JWT
// covers the body's hash and its `iat`. Neither covers the URL.
function sign(request: WebhookRequest, ageSeconds = 0): WebhookRequest {
  const now = Math.floor(Date.now() / 1000) - ageSeconds;

  if (isJson(request)) {
    return signedVonageMessagesRequest({
      url: request.url,
      body: bodyText(request),
      secret: SECRET,
      iat: now,
    });
  }

  return signedVonageRequest({
    url: request.url,
    params: parseFormBody(request.body),
    secret: SECRET,
    timestamp: now,
  });
}

function withoutSig(signed: WebhookRequest): WebhookRequest {
  if (isJson(signed)) {
    return withoutHeaders(signed, "authorization");
  }

  const pairs = parseFormBody(signed.body).filter(([name]) => name !== "sig");

  return withBody(signed, encodeForm(pairs));
}

function receipt(status: string, errCode?: string): WebhookRequest {
  const built = buildVonageDeliveryReceipt({
    messageId: MESSAGE_ID,
    msisdn: PERSON.slice(1),
    to: NUMBER.slice(1),
    status,
    errCode,
  });

  return formRequest(STATUS_URL, built.body);
}

describeProvider("vonage conformance", async () => {
  const api = await startFakeVonageApi({ smsStatuses: { "14155550111": "7" } });
  const provider = vonage({
    apiKey: api.apiKey,
    apiSecret: api.apiSecret,
    signatureSecret: SECRET,
    from: NUMBER,
    apiBaseUrl: api.url,
  });
  const inbound = buildVonageInbound({
    msisdn: PERSON.slice(1),
    to: NUMBER.slice(1),
    text: "STOP",
    messageId: MESSAGE_ID,
  });
  const messagesInbound = buildVonageMessagesInbound({
    from: PERSON.slice(1),
    to: NUMBER.slice(1),
    text: "Thanks",
    messageUuid: MESSAGE_UUID,
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
        name: "SMS API inbound",
        kind: "inbound",
        request: formRequest(INBOUND_URL, inbound.body),
        expected: { messageId: MESSAGE_ID, from: PERSON, to: NUMBER, text: "STOP" },
      },
      {
        name: "Messages API inbound",
        kind: "inbound",
        request: jsonRequest(INBOUND_URL, messagesInbound),
        expected: { messageId: MESSAGE_UUID, from: PERSON, to: NUMBER, text: "Thanks" },
      },
      {
        name: "delivered receipt",
        kind: "status",
        request: receipt("delivered"),
        expected: { messageId: MESSAGE_ID, status: "delivered", errorCode: "0", to: PERSON },
      },
      {
        name: "err-code 9 receipt",
        kind: "status",
        request: receipt("rejected", "9"),
        expected: {
          messageId: MESSAGE_ID,
          status: "failed",
          errorCode: "9",
          reason: "opted-out",
          to: PERSON,
          from: NUMBER,
        },
      },
    ],
    sign: (request) => sign(request),
    attacks: {
      tamperedBody: (signed) =>
        isJson(signed)
          ? withBody(signed, `${bodyText(signed)} `)
          : withBody(signed, `${bodyText(signed)}&injected=1`),
      missingSignature: withoutSig,
      staleTimestamp: (unsigned) => sign(unsigned, HOUR_SECONDS),
    },
    errorCodes: {
      reasons: vonageDeliveryErrorReasons,
      statusWebhook: (code) => receipt("failed", code),
    },
    sendExpectation: {
      message: { to: PERSON, from: NUMBER, body: "Your code is 1234" },
      method: "POST",
      path: "/sms/json",
      body: {
        api_key: api.apiKey,
        from: NUMBER.slice(1),
        to: PERSON.slice(1),
        text: "Your code is 1234",
      },
      messageId: () => api.messages.at(-1)?.id,
      status: "accepted",
    },
    refusals: [
      {
        name: "barred number",
        message: { to: "+14155550111", body: "Hello" },
        reason: "invalid-recipient",
        providerCode: "7",
      },
    ],
  };
});
