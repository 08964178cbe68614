import { randomUUID } from "node:crypto";
import { type GenericProviderOptions, generic } from "../providers/generic/index.js";
import type { ProviderErrorReason } from "../src/errors.js";
import { encodeForm } from "../src/http/form.js";
import type { WebhookRequest } from "../src/provider.js";
import { type FakeResponse, type RecordedRequest, startFakeApi } from "../src/testing/fake-api.js";
import { signGenericRequest } from "../src/testing/generic.js";
import { describeProvider, type WebhookFixture } from "../src/testing/provider-suite.js";
import { bodyText, withBody, withoutHeaders, withUrl } from "../src/testing/webhook-request.js";

const TOKEN = "acme-api-token";
const SECRET = "acme-webhook-secret";
const PERSON = "+14155550100";
const NUMBER = "+14155550199";
const OPTED_OUT = "+14155550104";
const BAD_NUMBER = "+14155550105";
const INBOUND_URL = "https://sms.example.com/webhooks/acme/inbound";
const STATUS_URL = "https://sms.example.com/webhooks/acme/status";
const HOUR_SECONDS = 3600;
const BASIC = `Basic ${Buffer.from("user:pass").toString("base64")}`;

const ERROR_CODES: Readonly<Record<string, ProviderErrorReason>> = {
  OPTED_OUT: "opted-out",
  BAD_NUMBER: "invalid-recipient",
  SPAM: "content-filtered",
};

// Written as JSON on purpose: the provider must need no code to be configured.
const JSON_CONFIG = `{
  "name": "acme",
  "from": "${NUMBER}",
  "send": {
    "url": "http://127.0.0.1:1/v1/messages",
    "body": { "to": "{{to}}", "from": "{{from}}", "text": "{{body}}",
              "callback": "{{statusCallbackUrl}}" },
    "auth": { "type": "bearer", "token": "${TOKEN}" },
    "messageIdPath": "messages.0.id",
    "statusPath": "messages.0.status",
    "errorCodePath": "error.code",
    "errors": [
      { "code": "OPTED_OUT", "reason": "opted-out" },
      { "status": 400, "code": "BAD_NUMBER", "reason": "invalid-recipient" }
    ]
  },
  "webhooks": {
    "inbound": {
      "id": "id", "from": "from", "to": "to", "text": "text",
      "intent": { "field": "flags.intent", "optOut": ["unsubscribe"], "optIn": ["resubscribe"] }
    },
    "status": { "id": "message_id", "status": "status", "errorCode": "error.code",
                "to": "to", "from": "from" },
    "optOutReport": { "match": { "field": "event", "value": "stopped" },
                      "from": "urn", "id": "id" },
    "signature": { "type": "hmac", "secret": "${SECRET}", "header": "x-acme-signature",
                   "algorithm": "sha256", "encoding": "hex", "prefix": "sha256=",
                   "signed": "timestamp+body", "timestampHeader": "x-acme-timestamp",
                   "separator": "." }
  },
  "statuses": { "QUEUED": "queued", "SENT": "sent", "DELIVERED": "delivered",
                "FAILED": "failed" },
  "errorCodes": ${JSON.stringify(ERROR_CODES)}
}`;

interface AcmeMessage {
  id: string;
  to: string;
}

// A fake of the Acme API: JSON or form sends with a bearer token or Basic credentials,
// refusing two numbers.
function handleSend(request: RecordedRequest, messages: AcmeMessage[]): FakeResponse {
  const authorization = request.headers.authorization;

  if (authorization !== `Bearer ${TOKEN}` && authorization !== BASIC) {
    return { status: 401, json: { error: { code: "UNAUTHORIZED" } } };
  }

  const fields = request.form.length > 0 ? Object.fromEntries(request.form) : readJson(request);
  const to = String(fields.to ?? fields.recipient ?? "");

  if (to === OPTED_OUT) {
    return { status: 400, json: { error: { code: "OPTED_OUT" } } };
  }

  if (to === BAD_NUMBER) {
    return { status: 400, json: { error: { code: "BAD_NUMBER" } } };
  }

  const message = { id: randomUUID(), to };

  messages.push(message);

  return { status: 200, json: { messages: [{ id: message.id, status: "QUEUED" }] } };
}

function readJson(request: RecordedRequest): Record<string, unknown> {
  try {
    return JSON.parse(request.body) as Record<string, unknown>;
  } catch {
    return {};
  }
}

function jsonRequest(url: string, value: unknown): WebhookRequest {
  const headers = new Headers({ "content-type": "application/json" });

  return { method: "POST", url, headers, body: new TextEncoder().encode(JSON.stringify(value)) };
}

function jsonFixtures(): WebhookFixture[] {
  const inbound = (fields: Record<string, unknown>) =>
    jsonRequest(INBOUND_URL, { from: PERSON, to: NUMBER, ...fields });
  const status = (fields: Record<string, unknown>) =>
    jsonRequest(STATUS_URL, { message_id: "msg-2", to: PERSON, from: NUMBER, ...fields });

  return [
    {
      name: "plain reply",
      kind: "inbound",
      request: inbound({ id: "msg-1", text: "Running late" }),
      expected: { messageId: "msg-1", from: PERSON, to: NUMBER, text: "Running late" },
    },
    {
      name: "provider opt-out flag",
      kind: "inbound",
      request: inbound({ id: "msg-3", text: "arret", flags: { intent: "UNSUBSCRIBE" } }),
      expected: {
        messageId: "msg-3",
        from: PERSON,
        to: NUMBER,
        text: "arret",
        providerIntent: "opt-out",
      },
    },
    {
      name: "stopped report",
      kind: "inbound",
      request: jsonRequest(INBOUND_URL, { event: "stopped", id: "evt-9", urn: PERSON }),
      expected: {
        messageId: "evt-9",
        from: PERSON,
        to: NUMBER,
        text: "",
        providerIntent: "opt-out",
      },
    },
    {
      name: "delivered",
      kind: "status",
      request: status({ status: "DELIVERED" }),
      expected: { messageId: "msg-2", status: "delivered", to: PERSON, from: NUMBER },
    },
    {
      name: "opted-out refusal",
      kind: "status",
      request: status({ status: "FAILED", error: { code: "OPTED_OUT" } }),
      expected: {
        messageId: "msg-2",
        status: "failed",
        errorCode: "OPTED_OUT",
        reason: "opted-out",
        to: PERSON,
      },
    },
  ];
}

describeProvider("generic conformance (JSON, timestamp+body)", async () => {
  const messages: AcmeMessage[] = [];
  const api = await startFakeApi((request) => handleSend(request, messages));
  const options = JSON.parse(JSON_CONFIG) as GenericProviderOptions;

  options.send.url = `${api.url}/v1/messages`;

  const provider = generic(options, "providers.generic.acme");
  const scheme = options.webhooks.signature;

  if (scheme.type !== "hmac") {
    throw new Error("the Acme configuration must sign webhooks");
  }

  const sign = (request: WebhookRequest, ageSeconds = 0): WebhookRequest =>
    signGenericRequest(scheme, {
      ...request,
      timestamp: Math.floor(Date.now() / 1000) - ageSeconds,
    });

  return {
    provider,
    api,
    close: async () => {
      await provider.close();
      await api.close();
    },
    fixtures: jsonFixtures(),
    sign: (request) => sign(request),
    attacks: {
      tamperedBody: (signed) => withBody(signed, `${bodyText(signed)} `),
      missingSignature: (signed) => withoutHeaders(signed, "x-acme-signature"),
      staleTimestamp: (unsigned) => sign(unsigned, HOUR_SECONDS),
    },
    errorCodes: {
      reasons: ERROR_CODES,
      statusWebhook: (code) =>
        jsonRequest(STATUS_URL, { message_id: "msg-2", status: "FAILED", error: { code } }),
    },
    sendExpectation: {
      message: { to: PERSON, body: 'Say "hi" & {{to}}', statusCallbackUrl: STATUS_URL },
      method: "POST",
      path: "/v1/messages",
      headers: { authorization: `Bearer ${TOKEN}`, "content-type": "application/json" },
      body: { to: PERSON, from: NUMBER, text: 'Say "hi" & {{to}}', callback: STATUS_URL },
      messageId: () => messages.at(-1)?.id,
      status: "queued",
    },
    refusals: [
      { name: "opted out", message: { to: OPTED_OUT, body: "Hi" }, reason: "opted-out" },
      {
        name: "bad number",
        message: { to: BAD_NUMBER, body: "Hi" },
        reason: "invalid-recipient",
        providerCode: "BAD_NUMBER",
      },
    ],
  };
});

function formRequest(url: string, pairs: Array<[string, string]>): WebhookRequest {
  const headers = new Headers({ "content-type": "application/x-www-form-urlencoded" });

  return { method: "POST", url, headers, body: new TextEncoder().encode(encodeForm(pairs)) };
}

describeProvider("generic conformance (form, url+body)", async () => {
  const messages: AcmeMessage[] = [];
  const api = await startFakeApi((request) => handleSend(request, messages));
  const signature = {
    type: "hmac",
    secret: Buffer.from(SECRET).toString("base64"),
    secretEncoding: "base64",
    header: "x-signature",
    algorithm: "sha1",
    encoding: "base64",
    signed: "url+body",
  } as const;
  const provider = generic({
    name: "formsms",
    send: {
      url: `${api.url}/sms`,
      method: "PUT",
      format: "form",
      body: { recipient: "{{to}}", sender: "{{from}}", message: "{{body}}" },
      auth: { type: "basic", username: "user", password: "pass" },
      headers: { "x-api-version": "2" },
      messageIdPath: "messages.0.id",
      errorCodePath: "error.code",
      errors: [{ code: "OPTED_OUT", reason: "opted-out" }],
    },
    webhooks: {
      format: "form",
      internationalDigits: true,
      inbound: { id: "MsgId", from: "Sender", to: "Recipient", text: "Body" },
      status: { id: "MsgId", status: "State", errorCode: "Error", to: "Recipient" },
      signature,
    },
    statuses: { delivrd: "delivered", undeliv: "undelivered" },
    errorCodes: { "9": "opted-out", "2": "transient" },
    noErrorCodes: ["0"],
  });
  const digits = (phone: string) => phone.slice(1);
  const inbound = formRequest(INBOUND_URL, [
    ["MsgId", "f-1"],
    ["Sender", digits(PERSON)],
    ["Recipient", digits(NUMBER)],
    ["Body", "STOP"],
  ]);
  const status = (state: string, error: string) =>
    formRequest(STATUS_URL, [
      ["MsgId", "f-2"],
      ["State", state],
      ["Error", error],
      ["Recipient", digits(PERSON)],
    ]);

  return {
    provider,
    api,
    close: async () => {
      await provider.close();
      await api.close();
    },
    fixtures: [
      {
        name: "form reply",
        kind: "inbound",
        request: inbound,
        expected: { messageId: "f-1", from: PERSON, to: NUMBER, text: "STOP" },
      },
      {
        name: "form delivered",
        kind: "status",
        request: status("DELIVRD", "0"),
        expected: { messageId: "f-2", status: "delivered", to: PERSON },
      },
      {
        name: "form opt-out code",
        kind: "status",
        request: status("UNDELIV", "9"),
        expected: {
          messageId: "f-2",
          status: "undelivered",
          errorCode: "9",
          reason: "opted-out",
          to: PERSON,
        },
      },
    ],
    sign: (request) => signGenericRequest(signature, request),
    attacks: {
      tamperedBody: (signed) => withBody(signed, `${bodyText(signed)}&x=1`),
      missingSignature: (signed) => withoutHeaders(signed, "x-signature"),
      wrongUrl: (signed) => withUrl(signed, signed.url.replace("sms.example.com", "evil.test")),
    },
    errorCodes: {
      reasons: { "9": "opted-out", "2": "transient" },
      statusWebhook: (code) => status("UNDELIV", code),
    },
    sendExpectation: {
      message: { to: PERSON, from: NUMBER, body: "a=b&c=d" },
      method: "PUT",
      path: "/sms",
      headers: {
        authorization: BASIC,
        "content-type": "application/x-www-form-urlencoded",
        "x-api-version": "2",
      },
      body: { recipient: PERSON, sender: NUMBER, message: "a=b&c=d" },
      messageId: () => messages.at(-1)?.id,
      status: "accepted",
    },
    refusals: [
      {
        name: "opted out",
        message: { to: OPTED_OUT, from: NUMBER, body: "Hi" },
        reason: "opted-out",
        providerCode: "OPTED_OUT",
      },
    ],
  };
});
