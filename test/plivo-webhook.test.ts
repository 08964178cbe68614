import { randomBytes } from "node:crypto";
import { afterEach, describe, expect, it } from "vitest";
import {
  mapPlivoMessageStatus,
  parsePlivoTimestamp,
  parsePlivoWebhook,
  plivo,
  plivoErrorReason,
  plivoStatusRank,
  plivoXmlResponse,
} from "../providers/plivo/index.js";
import { MemoryOptOutStore } from "../src/consent/memory.js";
import {
  isRecipientOptedOutError,
  isWebhookParseError,
  isWebhookVerificationError,
} from "../src/errors.js";
import { Gateway } from "../src/gateway/gateway.js";
import { deliveryStatuses, type WebhookKind, type WebhookRequest } from "../src/provider.js";
import { type FakePlivoApi, startFakePlivoApi } from "../src/testing/fake-plivo.js";
import { buildPlivoInbound, buildPlivoStatus, signedPlivoRequest } from "../src/testing/plivo.js";

const TOKEN = "webhook-test-token";
const INBOUND_URL = "https://sms.example.com/webhooks/plivo/inbound";
const STATUS_URL = "https://sms.example.com/webhooks/plivo/status";
const provider = plivo({ authId: "MAABCDEFGHIJ12345678", authToken: TOKEN, from: "14155550199" });

function rawRequest(body: Uint8Array | string, contentType?: string): WebhookRequest {
  const headers = new Headers();

  if (contentType !== undefined) {
    headers.set("content-type", contentType);
  }

  return {
    method: "POST",
    url: INBOUND_URL,
    headers,
    body: typeof body === "string" ? new TextEncoder().encode(body) : body,
  };
}

async function parseFailure(request: WebhookRequest, kind: WebhookKind = "inbound") {
  const error = await provider.parseWebhook(request, kind).then(
    () => new Error("expected a WebhookParseError, but the webhook parsed"),
    (caught: unknown) => caught,
  );

  if (!isWebhookParseError(error)) {
    throw error;
  }

  return error;
}

async function parseInbound(params: Array<[string, string]>, method: "POST" | "GET" = "POST") {
  const request = signedPlivoRequest({ authToken: TOKEN, url: INBOUND_URL, params, method });

  await provider.verifyWebhook(request);

  const parsed = await provider.parseWebhook(request, "inbound");

  expect(parsed.reports).toEqual([]);
  expect(parsed.inbound).toHaveLength(1);

  return parsed.inbound[0] as NonNullable<(typeof parsed.inbound)[0]>;
}

async function parseStatus(params: Array<[string, string]>, method: "POST" | "GET" = "POST") {
  const request = signedPlivoRequest({ authToken: TOKEN, url: STATUS_URL, params, method });

  await provider.verifyWebhook(request);

  const parsed = await provider.parseWebhook(request, "status");

  expect(parsed.inbound).toEqual([]);
  expect(parsed.reports).toHaveLength(1);

  return parsed.reports[0] as NonNullable<(typeof parsed.reports)[0]>;
}

describe("inbound parsing", () => {
  it("reads standard fields", async () => {
    const { params } = buildPlivoInbound({
      from: "14155550100",
      to: "14155550199",
      text: "  Stop please \n",
      messageUuid: "6c2a1b2e-0f4e-11ee-9a3b-0242ac110003",
      units: 2,
      extra: [["PowerpackUUID", "pp-1"]],
    });
    const before = Date.now();
    const message = await parseInbound(params);

    expect(message.provider).toBe("plivo");
    expect(message.messageId).toBe("6c2a1b2e-0f4e-11ee-9a3b-0242ac110003");
    expect(message.from).toEqual({ kind: "e164", value: "+14155550100", country: "US" });
    expect(message.to).toEqual({ kind: "e164", value: "+14155550199", country: "US" });
    expect(message.text).toBe("  Stop please \n");
    expect(message.segments).toBe(2);
    expect(message.media).toEqual([]);
    expect(message.providerIntent).toBeUndefined();
    expect(message.serviceId).toBeUndefined();
    expect(message.accountId).toBeUndefined();
    expect(message.receivedAt.getTime()).toBeGreaterThanOrEqual(before);
  });

  it("keeps every field in raw", async () => {
    const { params } = buildPlivoInbound({
      from: "14155550100",
      to: "14155550199",
      text: "hi",
      extra: [
        ["PowerpackUUID", ""],
        ["Custom", "a"],
        ["Custom", "b"],
      ],
    });
    const message = await parseInbound(params);

    expect(message.raw.Type).toBe("sms");
    expect(message.raw.TotalRate).toBe("0");
    expect(message.raw.TotalAmount).toBe("0");
    expect(message.raw.Units).toBe("1");
    expect(message.raw.PowerpackUUID).toBe("");
    expect(message.raw.Custom).toEqual(["a", "b"]);
    expect(Object.keys(message.raw)).toHaveLength(params.length - 1);
  });

  it("maps MessageIntent values", async () => {
    const cases: Array<[string, string | undefined]> = [
      ["optout", "opt-out"],
      ["optin", "opt-in"],
      ["help", "help"],
      ["OPTOUT", "opt-out"],
      [" optin ", "opt-in"],
      ["", undefined],
      ["stop", undefined],
      ["constructor", undefined],
    ];

    for (const [messageIntent, intent] of cases) {
      const { params } = buildPlivoInbound({
        from: "14155550100",
        to: "14155550199",
        text: "whatever",
        messageIntent,
      });

      expect((await parseInbound(params)).providerIntent).toBe(intent);
    }
  });

  it("honours intent over text", async () => {
    const { params } = buildPlivoInbound({
      from: "14155550100",
      to: "14155550199",
      text: "Arrêtez",
      messageIntent: "optout",
    });
    const message = await parseInbound(params);

    expect(message.providerIntent).toBe("opt-out");
    expect(message.text).toBe("Arrêtez");
  });

  it("reads GET query fields", async () => {
    const { params } = buildPlivoInbound({
      from: "14155550100",
      to: "14155550199",
      text: "STOP now & then",
      messageUuid: "uuid-get-1",
      messageIntent: "optout",
    });
    const message = await parseInbound(params, "GET");

    expect(message.messageId).toBe("uuid-get-1");
    expect(message.text).toBe("STOP now & then");
    expect(message.providerIntent).toBe("opt-out");
    expect(message.from.value).toBe("+14155550100");
  });

  it("keeps configured query in raw", async () => {
    const { params } = buildPlivoInbound({ from: "14155550100", to: "14155550199" });
    const request = signedPlivoRequest({
      authToken: TOKEN,
      url: `${INBOUND_URL}?tenant=7`,
      params,
      method: "GET",
    });
    const parsed = await provider.parseWebhook(request, "inbound");

    expect(parsed.inbound[0]?.raw.tenant).toBe("7");
  });

  it("reads short code recipient", async () => {
    const { params } = buildPlivoInbound({ from: "14155550100", to: "55501", text: "STOP" });
    const message = await parseInbound(params);

    expect(message.to).toEqual({ kind: "shortcode", value: "55501", country: "US" });
  });

  it("reads plus-prefixed numbers", async () => {
    const { params } = buildPlivoInbound({ from: "+447400123456", to: "+14155550199" });
    const message = await parseInbound(params);

    expect(message.from).toEqual({ kind: "e164", value: "+447400123456", country: "GB" });
  });

  it("reads MMS Body and media", async () => {
    const params: Array<[string, string]> = [
      ["From", "14155550100"],
      ["To", "14155550199"],
      ["Type", "mms"],
      ["Body", "look"],
      ["MessageUUID", "mms-1"],
      ["MediaCount", "2"],
      ["Media1", "https://media.plivo.com/1"],
      ["Media2", "https://media.plivo.com/2"],
      ["Media3", "https://media.plivo.com/3"],
    ];
    const message = await parseInbound(params);

    expect(message.text).toBe("look");
    expect(message.media).toEqual([
      { url: "https://media.plivo.com/1" },
      { url: "https://media.plivo.com/2" },
    ]);
  });

  it("reads media without MediaCount", async () => {
    const params: Array<[string, string]> = [
      ["From", "14155550100"],
      ["To", "14155550199"],
      ["MessageUUID", "mms-2"],
      ["Media1", "https://media.plivo.com/1"],
    ];

    expect((await parseInbound(params)).media).toEqual([{ url: "https://media.plivo.com/1" }]);
  });

  it("bounds a huge MediaCount", async () => {
    const params: Array<[string, string]> = [
      ["From", "14155550100"],
      ["To", "14155550199"],
      ["MessageUUID", "mms-3"],
      ["MediaCount", "999999"],
      ["Media2", "https://media.plivo.com/2"],
    ];

    expect((await parseInbound(params)).media).toEqual([{ url: "https://media.plivo.com/2" }]);
  });

  it("ignores malformed Units", async () => {
    const { params } = buildPlivoInbound({
      from: "14155550100",
      to: "14155550199",
      extra: [],
    });
    const changed = params.map(([name, value]): [string, string] =>
      name === "Units" ? [name, "two"] : [name, value],
    );
    const message = await parseInbound(changed);

    expect(message.segments).toBeUndefined();
    expect(message.raw.Units).toBe("two");
  });

  it("uses given receivedAt", () => {
    const receivedAt = new Date("2025-01-02T03:04:05Z");
    const { body } = buildPlivoInbound({ from: "14155550100", to: "14155550199" });
    const parsed = parsePlivoWebhook(rawRequest(body), "inbound", { receivedAt });

    expect(parsed.inbound[0]?.receivedAt).toBe(receivedAt);
  });
});

describe("status parsing", () => {
  it("reads ErrorCode 200 refusal", async () => {
    const { params } = buildPlivoStatus({
      messageUuid: "out-1",
      status: "failed",
      errorCode: "200",
      from: "14155550199",
      to: "14155550100",
      sequence: 2,
    });
    const report = await parseStatus(params);

    expect(report.provider).toBe("plivo");
    expect(report.messageId).toBe("out-1");
    expect(report.status).toBe("failed");
    expect(report.providerStatus).toBe("failed");
    expect(report.errorCode).toBe("200");
    expect(report.reason).toBe("opted-out");
    expect(report.to).toEqual({ kind: "e164", value: "+14155550100", country: "US" });
    expect(report.from).toEqual({ kind: "e164", value: "+14155550199", country: "US" });
    expect(report.serviceId).toBeUndefined();
    expect(report.raw.Sequence).toBe("2");
  });

  it("reads GET status callback", async () => {
    const { params } = buildPlivoStatus({
      messageUuid: "out-2",
      status: "undelivered",
      errorCode: "80",
      to: "14155550100",
    });
    const report = await parseStatus(params, "GET");

    expect(report.status).toBe("undelivered");
    expect(report.reason).toBe("transient");
    expect(report.from).toBeUndefined();
  });

  it("maps each status", async () => {
    const cases: Array<[string, string]> = [
      ["queued", "queued"],
      ["sent", "sent"],
      ["delivered", "delivered"],
      ["undelivered", "undelivered"],
      ["rejected", "undelivered"],
      ["failed", "failed"],
      ["read", "read"],
      ["teleported", "unknown"],
    ];

    for (const [status, expected] of cases) {
      const report = await parseStatus(buildPlivoStatus({ status }).params);

      expect(report.status).toBe(expected);
      expect(report.providerStatus).toBe(status);
    }
  });

  it("reads delivered without error", async () => {
    const { params } = buildPlivoStatus({ status: "delivered", errorCode: "000" });
    const report = await parseStatus(params);

    expect(report.errorCode).toBeUndefined();
    expect(report.reason).toBeUndefined();
    expect(report.raw.ErrorCode).toBe("000");
  });

  it("uses the latest time field", async () => {
    const { params } = buildPlivoStatus({
      status: "delivered",
      messageTime: "2024-05-01 10:00:00.000000",
      queuedTime: "2024-05-01 10:00:00.250000",
      sentTime: "2024-05-01 10:00:01.500000",
      deliveryReportTime: "2024-05-01 10:00:07.123456",
    });
    const report = await parseStatus(params);

    expect(report.providerTime?.toISOString()).toBe("2024-05-01T10:00:07.123Z");
  });

  it("skips unreadable time fields", async () => {
    const { params } = buildPlivoStatus({
      status: "sent",
      queuedTime: "2024-05-01 10:00:00",
      sentTime: "yesterday",
    });
    const report = await parseStatus(params);

    expect(report.providerTime?.toISOString()).toBe("2024-05-01T10:00:00.000Z");
    expect(report.raw.SentTime).toBe("yesterday");
  });

  it("keeps alphanumeric sender", async () => {
    const { params } = buildPlivoStatus({ status: "sent", from: "ACME", to: "447400123456" });
    const report = await parseStatus(params);

    expect(report.from).toEqual({ kind: "alphanumeric", value: "ACME" });
    expect(report.to?.value).toBe("+447400123456");
  });

  it("rejects missing Status", async () => {
    const error = await parseFailure(rawRequest("MessageUUID=x&To=14155550100"), "status");

    expect(error.message).toMatch(/no Status field/);
  });

  it("rejects missing MessageUUID", async () => {
    const error = await parseFailure(rawRequest("Status=sent&To=14155550100"), "status");

    expect(error.message).toMatch(/no MessageUUID field/);
  });

  it("rejects status on inbound route", async () => {
    const { body } = buildPlivoStatus({ status: "delivered", to: "14155550100" });
    const error = await parseFailure(rawRequest(body), "inbound");

    expect(error.message).toMatch(/status callback/);
  });
});

describe("plivoStatusRank", () => {
  it("orders the message lifecycle", () => {
    expect(plivoStatusRank("queued")).toBeLessThan(plivoStatusRank("sent"));
    expect(plivoStatusRank("sent")).toBeLessThan(plivoStatusRank("delivered"));
    expect(plivoStatusRank("delivered")).toBeLessThan(plivoStatusRank("read"));
    expect(plivoStatusRank("Sent")).toBe(plivoStatusRank("sent"));
  });

  it("ranks outcomes equally", () => {
    const outcomes = ["delivered", "undelivered", "rejected", "failed"];

    for (const outcome of outcomes) {
      expect(plivoStatusRank(outcome)).toBe(plivoStatusRank("delivered"));
      expect(plivoStatusRank(outcome)).toBeGreaterThan(plivoStatusRank("sent"));
    }
  });

  it("ranks unknown lowest", () => {
    expect(plivoStatusRank("teleported")).toBe(0);
    expect(plivoStatusRank(undefined)).toBe(0);
    expect(plivoStatusRank("__proto__")).toBe(0);
    expect(plivoStatusRank("queued")).toBeGreaterThan(0);
  });

  it("keeps late queued behind", () => {
    const arrivals = ["delivered", "queued", "sent"];
    let current = "";

    for (const status of arrivals) {
      if (plivoStatusRank(status) > plivoStatusRank(current)) {
        current = status;
      }
    }

    expect(current).toBe("delivered");
  });

  it("maps only to known statuses", () => {
    for (const status of ["queued", "sent", "delivered", "undelivered", "failed", "read"]) {
      expect(deliveryStatuses).toContain(mapPlivoMessageStatus(status));
    }

    expect(mapPlivoMessageStatus("hasOwnProperty")).toBe("unknown");
  });
});

describe("plivoErrorReason", () => {
  it("maps the error table", () => {
    const table: Array<[number, string]> = [
      [200, "opted-out"],
      [50, "invalid-recipient"],
      [70, "invalid-recipient"],
      [90, "unroutable"],
      [100, "unroutable"],
      [201, "unroutable"],
      [450, "unroutable"],
      [40, "sender-config"],
      [900, "sender-config"],
      [30, "content-filtered"],
      [60, "content-filtered"],
      [20, "transient"],
      [80, "transient"],
      [10, "unknown"],
      [110, "unknown"],
      [1000, "unknown"],
    ];

    for (const [code, reason] of table) {
      expect(plivoErrorReason(code)).toBe(reason);
      expect(plivoErrorReason(String(code))).toBe(reason);
    }
  });

  it("maps unknown codes to unknown", () => {
    expect(plivoErrorReason(999)).toBe("unknown");
    expect(plivoErrorReason("toString")).toBe("unknown");
    expect(plivoErrorReason("")).toBe("unknown");
    expect(plivoErrorReason(undefined)).toBe("unknown");
  });

  it("falls back to HTTP status", () => {
    expect(plivoErrorReason(undefined, 401)).toBe("auth");
    expect(plivoErrorReason(undefined, 429)).toBe("rate-limited");
    expect(plivoErrorReason(undefined, 503)).toBe("transient");
    expect(plivoErrorReason(200, 503)).toBe("opted-out");
  });
});

describe("parsePlivoTimestamp", () => {
  it("reads microseconds as UTC", () => {
    expect(parsePlivoTimestamp("2023-03-09 20:21:59.123456")?.toISOString()).toBe(
      "2023-03-09T20:21:59.123Z",
    );
    expect(parsePlivoTimestamp("2023-03-09 20:21:59")?.toISOString()).toBe(
      "2023-03-09T20:21:59.000Z",
    );
  });

  it("applies a zone offset", () => {
    expect(parsePlivoTimestamp("2023-03-09 20:21:59+05:30")?.toISOString()).toBe(
      "2023-03-09T14:51:59.000Z",
    );
    expect(parsePlivoTimestamp("2023-03-09T20:21:59.5Z")?.toISOString()).toBe(
      "2023-03-09T20:21:59.500Z",
    );
  });

  it("ignores impossible dates", () => {
    const values = [
      "2023-13-09 20:21:59",
      "2023-02-30 20:21:59",
      "2023-03-09 25:21:59",
      "2023-03-09 20:21:59+24:00",
      "2023-03-09",
      "",
      undefined,
    ];

    for (const value of values) {
      expect(parsePlivoTimestamp(value)).toBeUndefined();
    }
  });
});

describe("garbage webhooks", () => {
  it("rejects binary body", async () => {
    const png = new Uint8Array([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0xff, 0, 13]);
    const error = await parseFailure(rawRequest(png));

    expect(error.message).toMatch(/UTF-8/);
  });

  it("rejects invalid UTF-8", async () => {
    const error = await parseFailure(rawRequest("MessageUUID=x&Text=%C3%28"));

    expect(error.message).toMatch(/invalid UTF-8 in the value of field "Text"/);
  });

  it("rejects NUL bytes in numbers", async () => {
    const body = "MessageUUID=x&From=1415%005550100&To=14155550199&Text=STOP";
    const error = await parseFailure(rawRequest(body));

    expect(error.message).toMatch(/field From is not a valid sender/);
  });

  it("keeps NUL bytes in text", async () => {
    const body = "MessageUUID=x&From=14155550100&To=14155550199&Text=ST%00OP";
    const parsed = await provider.parseWebhook(rawRequest(body), "inbound");

    expect(parsed.inbound[0]?.text).toBe("ST\u0000OP");
  });

  it("rejects megabyte of ampersands", async () => {
    const error = await parseFailure(rawRequest("&".repeat(1024 * 1024)));

    expect(error.message).toMatch(/no MessageUUID/);
  });

  it("rejects megabyte text field", async () => {
    const body = `From=14155550100&To=14155550199&Text=${"a".repeat(1024 * 1024)}`;
    const error = await parseFailure(rawRequest(body));

    expect(error.message).toMatch(/no MessageUUID/);
  });

  it("rejects malformed escape", async () => {
    const error = await parseFailure(rawRequest("MessageUUID=x&From=%zz&To=14155550199"));

    expect(error.message).toMatch(/"%zz" in the value of field "From"/);
  });

  it("rejects national-format From", async () => {
    const body = "MessageUUID=x&From=04155550100&To=14155550199&Text=STOP";
    const error = await parseFailure(rawRequest(body));

    expect(error.message).toMatch(/field From is not a valid sender/);
    expect(error.cause).toBeInstanceOf(Error);
  });

  it("rejects missing From", async () => {
    const error = await parseFailure(rawRequest("MessageUUID=x&To=14155550199&Text=STOP"));

    expect(error.message).toMatch(/no From field/);
  });

  it("rejects JSON body", async () => {
    const body = JSON.stringify({ MessageUUID: "x", From: "14155550100", To: "14155550199" });
    const error = await parseFailure(rawRequest(body, "application/json"));

    expect(error.message).toMatch(/form-encoded/);
  });

  it("survives random bytes", async () => {
    for (let round = 0; round < 300; round += 1) {
      const body = randomBytes(1 + (round % 64));
      const kind = round % 2 === 0 ? "inbound" : "status";
      const request = rawRequest(body);
      const parsed = await provider.parseWebhook(request, kind).then(
        () => "parsed",
        (error: unknown) => (isWebhookParseError(error) ? "rejected" : error),
      );
      const verified = await provider.verifyWebhook(request).then(
        () => "verified",
        (error: unknown) => (isWebhookVerificationError(error) ? "rejected" : error),
      );

      expect(["parsed", "rejected"]).toContain(parsed);
      expect(verified).toBe("rejected");
    }
  });
});

describe("webhook responses", () => {
  const inbound = {
    provider: "plivo",
    messageId: "m-1",
    from: { kind: "e164" as const, value: "+14155550100" },
    to: { kind: "e164" as const, value: "+14155550199" },
    text: "STOP",
    receivedAt: new Date(),
    media: [],
    raw: {},
  };

  it("builds empty response", () => {
    const response = plivoXmlResponse();

    expect(response.status).toBe(200);
    expect(response.headers["content-type"]).toBe("application/xml; charset=utf-8");
    expect(response.body).toBe('<?xml version="1.0" encoding="UTF-8"?><Response/>');
  });

  it("builds an escaped reply", () => {
    const response = plivoXmlResponse({
      text: `You're out <now> & "done"\u0000`,
      src: "14155550199",
      dst: "14155550100",
    });

    expect(response.body).toBe(
      '<?xml version="1.0" encoding="UTF-8"?><Response>' +
        '<Message src="14155550199" dst="14155550100" type="sms">' +
        "You&apos;re out &lt;now&gt; &amp; &quot;done&quot;</Message></Response>",
    );
  });

  it("replies from the receiving number", () => {
    const response = provider.webhookResponse({
      kind: "inbound",
      replyText: "Bye",
      message: inbound,
    });

    expect(response.body).toContain('<Message src="14155550199" dst="14155550100" type="sms">');
    expect(response.body).toContain(">Bye</Message>");
  });

  it("sends empty reply without message", () => {
    const response = provider.webhookResponse({ kind: "inbound", replyText: "Bye" });

    expect(response.body).toBe('<?xml version="1.0" encoding="UTF-8"?><Response/>');
  });

  it("sends empty status response", () => {
    const response = provider.webhookResponse({
      kind: "status",
      replyText: "ignored",
      message: inbound,
    });

    expect(response.body).toBe('<?xml version="1.0" encoding="UTF-8"?><Response/>');
  });
});

describe("Plivo through the gateway", () => {
  const person = "+14155550100";
  const ours = "14155550199";
  const apis: FakePlivoApi[] = [];

  afterEach(async () => {
    while (apis.length > 0) {
      await apis.pop()?.close();
    }
  });

  async function setup(optOutScope: "global" | "sender") {
    const api = await startFakePlivoApi({ authToken: TOKEN });
    const target = plivo({
      authId: api.authId,
      authToken: TOKEN,
      from: ours,
      apiBaseUrl: api.url,
    });
    const gateway = new Gateway({
      providers: [target],
      store: new MemoryOptOutStore(),
      optOutScope,
    });

    apis.push(api);

    return { api, gateway, target };
  }

  async function refusal(promise: Promise<unknown>): Promise<unknown> {
    return promise.then(
      () => new Error("expected the send to be refused"),
      (error: unknown) => error,
    );
  }

  for (const scope of ["global", "sender"] as const) {
    it(`MessageIntent optout blocks (${scope})`, async () => {
      const { api, gateway, target } = await setup(scope);
      const { params } = buildPlivoInbound({
        from: "14155550100",
        to: ours,
        text: "Arrêtez",
        messageIntent: "optout",
      });
      const request = signedPlivoRequest({ authToken: TOKEN, url: INBOUND_URL, params });
      const answer = await gateway.handleWebhook("plivo", request, { kind: "inbound" });

      expect(answer.status).toBe(200);
      expect(target.consentScopes({ to: person, body: "x" })).toEqual(["+14155550199"]);
      expect(
        isRecipientOptedOutError(await refusal(gateway.send({ to: person, body: "hi" }))),
      ).toBe(true);
      expect(api.requests).toHaveLength(0);
    });

    it(`ErrorCode 200 blocks (${scope})`, async () => {
      const { api, gateway } = await setup(scope);
      const { params } = buildPlivoStatus({
        status: "failed",
        errorCode: "200",
        from: ours,
        to: "14155550100",
      });
      const request = signedPlivoRequest({ authToken: TOKEN, url: STATUS_URL, params });
      const answer = await gateway.handleWebhook("plivo", request, { kind: "status" });

      expect(answer.status).toBe(200);
      expect(
        isRecipientOptedOutError(await refusal(gateway.send({ to: person, body: "hi" }))),
      ).toBe(true);
      expect(api.requests).toHaveLength(0);
    });
  }

  it("sends to people who did not opt out", async () => {
    const { api, gateway } = await setup("sender");
    const result = await gateway.send({ to: person, body: "hi" });

    expect(result.provider).toBe("plivo");
    expect(api.messages[0]?.dst).toBe("14155550100");
    expect(api.messages[0]?.src).toBe(ours);
  });

  it("rejects unsigned webhooks", async () => {
    const { gateway } = await setup("global");
    const { body } = buildPlivoInbound({ from: "14155550100", to: ours, text: "STOP" });
    const answer = await gateway.handleWebhook("plivo", rawRequest(body), { kind: "inbound" });

    expect(answer.status).toBe(401);
    expect(await gateway.send({ to: person, body: "hi" })).toBeDefined();
  });
});
