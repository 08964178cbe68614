import { generateKeyPairSync } from "node:crypto";
import type { WebhookRequest } from "smsgate";
import { describeProvider, withBody, withHeaders, withoutHeaders } from "smsgate/testing";
import { describe, expect, it } from "vitest";
import { telnyx, telnyxErrorCodeReasons } from "./index.js";
import { startFakeTelnyxApi } from "./testing/fake-telnyx.js";
import {
  buildTelnyxInbound,
  buildTelnyxStatus,
  signTelnyxRequest,
  telnyxPublicKeyBase64,
} from "./testing/signer.js";

const { privateKey, publicKey } = generateKeyPairSync("ed25519");
const PUBLIC_KEY = telnyxPublicKeyBase64(publicKey);
const WEBHOOK_URL = "https://sms.example.com/webhooks/telnyx/inbound";
const PERSON = "+14155550100";
const NUMBER = "+14155550199";
const OPTED_OUT = "+14155550104";
const MESSAGE_ID = "40385f64-5717-4562-b3fc-2c963f66afa6";
const HOUR_SECONDS = 3600;

function unsigned(event: Record<string, unknown>): WebhookRequest {
  const headers = new Headers({ "content-type": "application/json" });

  return {
    method: "POST",
    url: WEBHOOK_URL,
    headers,
    body: new TextEncoder().encode(JSON.stringify(event)),
  };
}

function sign(request: WebhookRequest, ageSeconds = 0): WebhookRequest {
  const timestamp = Math.floor(Date.now() / 1000) - ageSeconds;

  return signTelnyxRequest({ privateKey, url: request.url, body: request.body, timestamp });
}

function status(state: string, errorCode?: string): WebhookRequest {
  return unsigned(
    buildTelnyxStatus({ id: MESSAGE_ID, from: NUMBER, to: PERSON, status: state, errorCode }),
  );
}

describeProvider("telnyx example conformance", async () => {
  const api = await startFakeTelnyxApi({
    refusals: { [OPTED_OUT]: { status: 422, code: "40300" } },
  });
  const provider = telnyx({
    apiKey: api.apiKey,
    publicKey: PUBLIC_KEY,
    from: NUMBER,
    apiBaseUrl: api.url,
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
        name: "message.received",
        kind: "inbound",
        request: unsigned(
          buildTelnyxInbound({ id: MESSAGE_ID, from: PERSON, to: NUMBER, text: "STOP" }),
        ),
        expected: { messageId: MESSAGE_ID, from: PERSON, to: NUMBER, text: "STOP" },
      },
      {
        name: "delivered",
        kind: "status",
        request: status("delivered"),
        expected: { messageId: MESSAGE_ID, status: "delivered", to: PERSON, from: NUMBER },
      },
      {
        name: "40300 refusal",
        kind: "status",
        request: status("delivery_failed", "40300"),
        expected: {
          messageId: MESSAGE_ID,
          status: "undelivered",
          errorCode: "40300",
          reason: "opted-out",
          to: PERSON,
        },
      },
    ],
    sign: (request) => sign(request),
    attacks: {
      tamperedBody: (signed) => withBody(signed, `${Buffer.from(signed.body).toString()} `),
      missingSignature: (signed) => withoutHeaders(signed, "telnyx-signature-ed25519"),
      staleTimestamp: (request) => sign(request, HOUR_SECONDS),
    },
    errorCodes: {
      reasons: telnyxErrorCodeReasons,
      statusWebhook: (code) => status("delivery_failed", code),
    },
    sendExpectation: {
      message: { to: PERSON, body: "Your code is 1234", statusCallbackUrl: WEBHOOK_URL },
      method: "POST",
      path: "/v2/messages",
      headers: { authorization: `Bearer ${api.apiKey}` },
      body: { to: PERSON, from: NUMBER, text: "Your code is 1234", webhook_url: WEBHOOK_URL },
      messageId: () => api.messages.at(-1)?.id,
      status: "queued",
    },
    refusals: [
      {
        name: "opted-out recipient",
        message: { to: OPTED_OUT, body: "Hello" },
        reason: "opted-out",
        providerCode: "40300",
      },
    ],
  };
});

describe("telnyx example specifics", () => {
  const provider = telnyx({ apiKey: "KEY", publicKey: PUBLIC_KEY, from: NUMBER });

  it("acknowledges other event types", async () => {
    const event = { data: { event_type: "message.queued_for_review", payload: {} } };

    expect(await provider.parseWebhook(unsigned(event), "inbound")).toEqual({
      inbound: [],
      reports: [],
    });
  });

  it("rejects a signature of another key", async () => {
    const other = generateKeyPairSync("ed25519").privateKey;
    const request = signTelnyxRequest({ privateKey: other, url: WEBHOOK_URL, body: "{}" });
    const error = await provider.verifyWebhook(request).catch((e: unknown) => e);

    expect((error as { failure?: string }).failure).toBe("invalid-signature");
  });

  it("rejects a timestamp that is no number", async () => {
    const request = withHeaders(sign(unsigned({})), { "telnyx-timestamp": "soon" });
    const error = await provider.verifyWebhook(request).catch((e: unknown) => e);

    expect((error as { failure?: string }).failure).toBe("stale-timestamp");
  });

  it("names the invalid public key", () => {
    const create = () => telnyx({ apiKey: "KEY", publicKey: "c2hvcnQ=", from: NUMBER });

    expect(create).toThrow("telnyx.publicKey: must be the base64 of a 32-byte Ed25519");
  });
});
