import { plivo, plivoErrorCodeReasons } from "../providers/plivo/index.js";
import { parseFormBody } from "../src/http/form.js";
import type { WebhookRequest } from "../src/provider.js";
import { startFakePlivoApi } from "../src/testing/fake-plivo.js";
import { buildPlivoInbound, buildPlivoStatus, signedPlivoRequest } from "../src/testing/plivo.js";
import { describeProvider } from "../src/testing/provider-suite.js";
import { bodyText, withBody, withoutHeaders, withUrl } from "../src/testing/webhook-request.js";

const INBOUND_URL = "https://sms.example.com/webhooks/plivo/inbound";
const STATUS_URL = "https://sms.example.com/webhooks/plivo/status";
const PERSON = "+14155550100";
const NUMBER = "+14155550199";
const UUID = "0a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d";

function formRequest(url: string, body: string): WebhookRequest {
  const headers = new Headers({ "content-type": "application/x-www-form-urlencoded" });

  return { method: "POST", url, headers, body: new TextEncoder().encode(body) };
}

function inbound(text: string, messageIntent?: string): WebhookRequest {
  const built = buildPlivoInbound({
    from: PERSON.slice(1),
    to: NUMBER.slice(1),
    text,
    messageUuid: UUID,
    messageIntent,
  });

  return formRequest(INBOUND_URL, built.body);
}

function status(state: string, errorCode?: string): WebhookRequest {
  const built = buildPlivoStatus({
    messageUuid: UUID,
    status: state,
    from: NUMBER.slice(1),
    to: PERSON.slice(1),
    errorCode,
  });

  return formRequest(STATUS_URL, built.body);
}

describeProvider("plivo conformance", async () => {
  const api = await startFakePlivoApi();
  const provider = plivo({
    authId: api.authId,
    authToken: api.authToken,
    from: NUMBER,
    apiBaseUrl: api.url,
  });
  const sign = (request: WebhookRequest): WebhookRequest =>
    signedPlivoRequest({
      authToken: api.authToken,
      url: request.url,
      params: parseFormBody(request.body),
    });
  const credentials = Buffer.from(`${api.authId}:${api.authToken}`).toString("base64");

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
        request: inbound("On my way"),
        expected: { messageId: UUID, from: PERSON, to: NUMBER, text: "On my way" },
      },
      {
        name: "MessageIntent optout",
        kind: "inbound",
        request: inbound("Unsubscribe", "optout"),
        expected: {
          messageId: UUID,
          from: PERSON,
          to: NUMBER,
          text: "Unsubscribe",
          providerIntent: "opt-out",
        },
      },
      {
        name: "delivered",
        kind: "status",
        request: status("delivered"),
        expected: { messageId: UUID, status: "delivered", to: PERSON, from: NUMBER },
      },
      {
        name: "ErrorCode 200",
        kind: "status",
        request: status("failed", "200"),
        expected: {
          messageId: UUID,
          status: "failed",
          errorCode: "200",
          reason: "opted-out",
          to: PERSON,
        },
      },
    ],
    sign,
    attacks: {
      tamperedBody: (signed) => withBody(signed, `${bodyText(signed)}&Injected=1`),
      missingSignature: (signed) =>
        withoutHeaders(
          signed,
          "x-plivo-signature-v3",
          "x-plivo-signature-v3-nonce",
          "x-plivo-signature-v2",
          "x-plivo-signature-v2-nonce",
        ),
      wrongUrl: (signed) => withUrl(signed, signed.url.replace("sms.example.com", "evil.test")),
    },
    errorCodes: {
      reasons: plivoErrorCodeReasons,
      statusWebhook: (code) => status("failed", code),
    },
    sendExpectation: {
      message: { to: PERSON, from: NUMBER, body: "Your code is 1234" },
      method: "POST",
      path: `/v1/Account/${api.authId}/Message/`,
      headers: { authorization: `Basic ${credentials}` },
      body: { src: NUMBER.slice(1), dst: PERSON.slice(1), text: "Your code is 1234" },
      messageId: () => api.messages.at(-1)?.messageUuid,
      status: "queued",
    },
    refusals: [
      {
        name: "recipient that is no number",
        message: { to: "+1", body: "Hello" },
        reason: "invalid-recipient",
      },
    ],
  };
});
