import { randomBytes } from "node:crypto";
import { describe, expect, it } from "vitest";
import {
  parseVonageScts,
  parseVonageTimestamp,
  parseVonageWebhook,
  vonage,
  vonageDeliveryErrorReasons,
} from "../providers/vonage/index.js";
import {
  isWebhookParseError,
  isWebhookVerificationError,
  WebhookParseError,
} from "../src/errors.js";
import type {
  DeliveryReport,
  InboundMessage,
  WebhookKind,
  WebhookRequest,
} from "../src/provider.js";
import {
  buildVonageDeliveryReceipt,
  buildVonageInbound,
  buildVonageInboundParts,
  buildVonageMessagesInbound,
  buildVonageMessagesStatus,
  signedVonageMessagesRequest,
  signedVonageRequest,
} from "../src/testing/vonage.js";

const SECRET = "webhook-test-secret";
const INBOUND_URL = "https://sms.example.com/webhooks/vonage/inbound";
const STATUS_URL = "https://sms.example.com/webhooks/vonage/status";
const provider = vonage({ apiKey: "a1b2c3d4", apiSecret: "secret", signatureSecret: SECRET });

type Pairs = Array<[string, string]>;

function formRequest(body: Uint8Array | string, contentType?: string): WebhookRequest {
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

function jsonRequest(value: unknown, url = INBOUND_URL): WebhookRequest {
  return signedVonageMessagesRequest({ url, body: JSON.stringify(value) });
}

async function parseFailure(request: WebhookRequest, kind: WebhookKind = "inbound") {
  const error = await provider.parseWebhook(request, kind).catch((caught: unknown) => caught);

  if (!(error instanceof WebhookParseError)) {
    throw new Error(`expected a WebhookParseError, got ${String(error)}`);
  }

  return error;
}

async function inboundOf(request: WebhookRequest, kind: WebhookKind = "inbound") {
  const parsed = await provider.parseWebhook(request, kind);

  expect(parsed.reports).toEqual([]);
  expect(parsed.inbound).toHaveLength(1);

  return parsed.inbound[0] as InboundMessage;
}

async function reportOf(request: WebhookRequest, kind: WebhookKind = "status") {
  const parsed = await provider.parseWebhook(request, kind);

  expect(parsed.inbound).toEqual([]);
  expect(parsed.reports).toHaveLength(1);

  return parsed.reports[0] as DeliveryReport;
}

function inboundParams(extra: Partial<Record<string, string>> = {}): Pairs {
  const base: Record<string, string> = {
    msisdn: "12025550143",
    to: "12025550100",
    messageId: "0A0000000123ABCD",
    text: "Stop by tomorrow",
    type: "text",
    keyword: "STOP",
    "api-key": "a1b2c3d4",
    "message-timestamp": "2025-05-01 12:00:00",
  };

  return Object.entries({ ...base, ...extra }).filter(
    (entry): entry is [string, string] => entry[1] !== undefined,
  );
}

describe("SMS API inbound", () => {
  const expectStandard = (message: InboundMessage) => {
    expect(message.provider).toBe("vonage");
    expect(message.messageId).toBe("0A0000000123ABCD");
    expect(message.accountId).toBe("a1b2c3d4");
    expect(message.from).toEqual({ kind: "e164", value: "+12025550143", country: "US" });
    expect(message.to).toEqual({ kind: "e164", value: "+12025550100", country: "US" });
    expect(message.text).toBe("Stop by tomorrow");
    expect(message.providerTime?.toISOString()).toBe("2025-05-01T12:00:00.000Z");
    expect(message.media).toEqual([]);
    expect(message.part).toBeUndefined();
    expect(message.segments).toBeUndefined();
    expect(message.raw.type).toBe("text");
  };

  it("reads GET query", async () => {
    const request = signedVonageRequest({
      url: INBOUND_URL,
      params: inboundParams(),
      method: "GET",
    });

    expect(request.url).toContain("?msisdn=12025550143&");
    expectStandard(await inboundOf(request));
  });

  it("reads POST form", async () => {
    expectStandard(
      await inboundOf(signedVonageRequest({ url: INBOUND_URL, params: inboundParams() })),
    );
  });

  it("reads POST JSON", async () => {
    const request = signedVonageRequest({ url: INBOUND_URL, params: inboundParams(), json: true });

    expectStandard(await inboundOf(request));
  });

  it("reads POST with empty body from query", async () => {
    const get = signedVonageRequest({ url: INBOUND_URL, params: inboundParams(), method: "GET" });

    expectStandard(await inboundOf({ ...get, method: "POST" }));
  });

  it("never reads keyword as intent", async () => {
    const texts = ["Stop by tomorrow", "STOP", "stop", "START", "HELP", "UNSUBSCRIBE now"];

    for (const text of texts) {
      const { params } = buildVonageInbound({ msisdn: "12025550143", to: "12025550100", text });
      const message = await inboundOf(signedVonageRequest({ url: INBOUND_URL, params }));

      expect(message.providerIntent, text).toBeUndefined();
      expect(message.raw.keyword, text).toBe(text.split(" ")[0]?.toUpperCase());
      expect(message.text).toBe(text);
    }
  });

  it("keeps text exactly", async () => {
    const text = "  Stop & go = 100%\n+ more  ";
    const message = await inboundOf(
      signedVonageRequest({ url: INBOUND_URL, params: inboundParams({ text }) }),
    );

    expect(message.text).toBe(text);
  });

  it("reads unicode text", async () => {
    const text = "停止 😀 STOP";
    const message = await inboundOf(
      signedVonageRequest({ url: INBOUND_URL, params: inboundParams({ text, type: "unicode" }) }),
    );

    expect(message.text).toBe(text);
    expect(message.raw.type).toBe("unicode");
  });

  it("reads binary message without text", async () => {
    const params = inboundParams({ text: undefined, type: "binary" });

    params.push(["data", "0A0B0C"], ["udh", "050003CC0201"]);

    const message = await inboundOf(signedVonageRequest({ url: INBOUND_URL, params }));

    expect(message.text).toBe("");
    expect(message.raw.data).toBe("0A0B0C");
  });

  it("reads international msisdn", async () => {
    const cases: Array<[string, string, string]> = [
      ["4915123456789", "+4915123456789", "DE"],
      ["447400123456", "+447400123456", "GB"],
      ["+12025550143", "+12025550143", "US"],
      ["6581234567", "+6581234567", "SG"],
    ];

    for (const [msisdn, e164, country] of cases) {
      const message = await inboundOf(
        signedVonageRequest({ url: INBOUND_URL, params: inboundParams({ msisdn }) }),
      );

      expect(message.from).toEqual({ kind: "e164", value: e164, country });
    }
  });

  it("never guesses a region", async () => {
    // Ten digits of a US number without its country code read as +20 (Egypt), not +1.
    for (const msisdn of ["2025550143", "0123456789", "07400123456"]) {
      const request = signedVonageRequest({ url: INBOUND_URL, params: inboundParams({ msisdn }) });
      const error = await parseFailure(request);

      expect(error.message).toContain("msisdn");
    }
  });

  it("keeps short codes and sender IDs", async () => {
    const shortCode = await inboundOf(
      signedVonageRequest({ url: INBOUND_URL, params: inboundParams({ to: "88888" }) }),
    );
    const senderId = await inboundOf(
      signedVonageRequest({ url: INBOUND_URL, params: inboundParams({ msisdn: "GoogleVfy" }) }),
    );

    expect(shortCode.to).toEqual({ kind: "shortcode", value: "88888", country: "US" });
    expect(senderId.from).toEqual({ kind: "alphanumeric", value: "GoogleVfy" });
  });

  it("requires messageId, msisdn and to", async () => {
    for (const name of ["messageId", "msisdn", "to"]) {
      const params = inboundParams({ [name]: undefined });
      const error = await parseFailure(signedVonageRequest({ url: INBOUND_URL, params }));

      expect(error.message).toContain(name);
    }

    const blank = inboundParams({ messageId: "  " });

    await parseFailure(signedVonageRequest({ url: INBOUND_URL, params: blank }));
  });

  it("ignores impossible timestamps", async () => {
    for (const value of ["2025-02-30 12:00:00", "2025-05-01 25:00:00", "yesterday", ""]) {
      const params = inboundParams({ "message-timestamp": value });
      const message = await inboundOf(signedVonageRequest({ url: INBOUND_URL, params }));

      expect(message.providerTime, value).toBeUndefined();
    }
  });

  it("keeps repeated fields in raw", async () => {
    const params = inboundParams();

    params.push(["text", "second"], ["extra", ""]);

    const message = await inboundOf(signedVonageRequest({ url: INBOUND_URL, params }));

    expect(message.text).toBe("Stop by tomorrow");
    expect(message.raw.text).toEqual(["Stop by tomorrow", "second"]);
    expect(message.raw.extra).toBe("");
  });

  it("reads JSON numbers and booleans", async () => {
    const object = {
      ...Object.fromEntries(inboundParams()),
      concat: true,
      "concat-ref": 7,
      "concat-total": 2,
      "concat-part": 1,
    };
    const message = await inboundOf(formRequest(JSON.stringify(object), "application/json"));

    expect(message.part).toEqual({ reference: "7", total: 2, index: 1 });
  });

  it("ignores prototype field names", async () => {
    const body = "constructor=x&__proto__=y&toString=z&hasOwnProperty=1";

    await parseFailure(formRequest(body, "application/x-www-form-urlencoded"));

    const params = inboundParams();

    params.push(["__proto__", "p"], ["constructor", "c"]);

    const message = await inboundOf(signedVonageRequest({ url: INBOUND_URL, params }));

    expect(Object.hasOwn(message.raw, "__proto__")).toBe(true);
    expect(message.raw.constructor).toBe("c");
  });
});

describe("multipart field report", () => {
  const deliveries = [
    {
      messageId: "0A00000000000082",
      keyword: "IT",
      text:
        "it is my work phone and my employer can read it. Please take me off your list " +
        "completely and do not text this number again, not even for the yearly ",
      timestamp: "2025-05-01 12:00:02",
      part: "2",
    },
    {
      messageId: "0A00000000000083",
      keyword: "CHECK-UP.",
      text: "check-up. STOP",
      timestamp: "2025-05-01 12:00:03",
      part: "3",
    },
    {
      messageId: "0A00000000000083",
      keyword: "CHECK-UP.",
      text: "check-up. STOP",
      timestamp: "2025-05-01 12:00:03",
      part: "3",
    },
    {
      messageId: "0A00000000000081",
      keyword: "HI,",
      text:
        "Hi, this is Sam from flat 2. I have already asked twice by phone and I really do " +
        "not want any more of these appointment reminders sent to this mobile, ",
      timestamp: "2025-05-01 12:00:01",
      part: "1",
    },
  ];

  const paramsOf = (delivery: (typeof deliveries)[number]): Pairs => [
    ["msisdn", "12025550143"],
    ["to", "12025550100"],
    ["messageId", delivery.messageId],
    ["type", "text"],
    ["keyword", delivery.keyword],
    ["text", delivery.text],
    ["message-timestamp", delivery.timestamp],
    ["concat", "true"],
    ["concat-ref", "108"],
    ["concat-total", "3"],
    ["concat-part", delivery.part],
  ];

  async function parseAll(method: "GET" | "POST") {
    const messages: InboundMessage[] = [];

    for (const delivery of deliveries) {
      const request = signedVonageRequest({ url: INBOUND_URL, params: paramsOf(delivery), method });

      messages.push(await inboundOf(request));
    }

    return messages;
  }

  it("reads part fields of each delivery", async () => {
    const messages = await parseAll("GET");

    expect(messages.map((message) => message.part)).toEqual([
      { reference: "108", total: 3, index: 2 },
      { reference: "108", total: 3, index: 3 },
      { reference: "108", total: 3, index: 3 },
      { reference: "108", total: 3, index: 1 },
    ]);

    for (const message of messages) {
      expect(message.from.value).toBe("+12025550143");
      expect(message.to.value).toBe("+12025550100");
      expect(message.segments).toBe(1);
    }
  });

  it("keeps repeated part's message ID", async () => {
    const messages = await parseAll("POST");

    expect(messages[1]?.messageId).toBe("0A00000000000083");
    expect(messages[2]?.messageId).toBe("0A00000000000083");
    expect(messages[2]?.text).toBe(messages[1]?.text);
    expect(new Set(messages.map((message) => message.messageId)).size).toBe(3);
  });

  it("never reads part keywords as intent", async () => {
    const messages = await parseAll("POST");

    expect(messages.map((message) => message.raw.keyword)).toEqual([
      "IT",
      "CHECK-UP.",
      "CHECK-UP.",
      "HI,",
    ]);

    for (const message of messages) {
      expect(message.providerIntent).toBeUndefined();
    }
  });

  it("assembles in part order", async () => {
    const messages = await parseAll("GET");
    const byIndex = new Map(messages.map((message) => [message.part?.index, message.text]));
    const text = [1, 2, 3].map((index) => byIndex.get(index)).join("");

    expect(text).toHaveLength(313);
    expect(text.endsWith("yearly check-up. STOP")).toBe(true);
    expect(text.startsWith("Hi, this is Sam")).toBe(true);
  });

  it("verifies each signed part", async () => {
    const now = Date.now();
    const signing = vonage({
      apiKey: "k",
      apiSecret: "s",
      signatureSecret: SECRET,
      clock: () => now,
    });

    for (const delivery of deliveries) {
      const request = signedVonageRequest({
        url: INBOUND_URL,
        params: paramsOf(delivery),
        secret: SECRET,
      });

      await expect(signing.verifyWebhook(request)).resolves.toBeUndefined();
    }
  });

  it("builds parts with their keywords", async () => {
    const parts = buildVonageInboundParts({
      msisdn: "12025550143",
      to: "12025550100",
      reference: "9",
      texts: ["Hi, please ", "stop now"],
    });
    const messages = await Promise.all(
      parts.map(({ params }) => inboundOf(signedVonageRequest({ url: INBOUND_URL, params }))),
    );

    expect(messages.map((message) => message.raw.keyword)).toEqual(["HI,", "STOP"]);
    expect(messages.map((message) => message.part)).toEqual([
      { reference: "9", total: 2, index: 1 },
      { reference: "9", total: 2, index: 2 },
    ]);
    expect(messages[0]?.messageId).not.toBe(messages[1]?.messageId);
  });

  it("rejects inconsistent part fields", async () => {
    const cases: Array<Record<string, string | undefined>> = [
      { "concat-part": "4" },
      { "concat-part": "0" },
      { "concat-total": "0" },
      { "concat-total": "256", "concat-part": "1" },
      { "concat-total": "three" },
      { "concat-part": "-1" },
      { "concat-ref": undefined },
      { "concat-ref": "" },
      { "concat-total": undefined },
      { concat: undefined, "concat-part": undefined },
    ];

    for (const change of cases) {
      const params = Object.entries({
        ...Object.fromEntries(paramsOf(deliveries[0] as never)),
        ...change,
      }).filter((entry): entry is [string, string] => entry[1] !== undefined);
      const error = await parseFailure(signedVonageRequest({ url: INBOUND_URL, params }));

      expect(error.message, JSON.stringify(change)).toMatch(/concat/);
    }
  });

  it("reads single messages without part", async () => {
    const params = inboundParams({ concat: "false" });

    expect(
      (await inboundOf(signedVonageRequest({ url: INBOUND_URL, params }))).part,
    ).toBeUndefined();
  });
});

describe("SMS API delivery receipts", () => {
  it("reads form fixture", async () => {
    const body =
      "msisdn=14845552121&to=16105553939&network-code=310004&messageId=14000000F9DBBBBB" +
      "&price=0.00845000&status=delivered&scts=1234567890&err-code=0&api-key=a1234567" +
      "&message-timestamp=2020-07-17+02%3A35%3A15";
    const report = await reportOf({
      ...formRequest(body, "application/x-www-form-urlencoded"),
      url: STATUS_URL,
    });

    expect(report.provider).toBe("vonage");
    expect(report.messageId).toBe("14000000F9DBBBBB");
    expect(report.accountId).toBe("a1234567");
    expect(report.status).toBe("delivered");
    expect(report.providerStatus).toBe("delivered");
    expect(report.errorCode).toBe("0");
    expect(report.reason).toBeUndefined();
    expect(report.to).toEqual({ kind: "e164", value: "+14845552121", country: "US" });
    expect(report.from).toEqual({ kind: "e164", value: "+16105553939", country: "US" });
    // `scts` 1234567890 is not a real date, so the push time is used.
    expect(report.providerTime?.toISOString()).toBe("2020-07-17T02:35:15.000Z");
    expect(report.raw["network-code"]).toBe("310004");
  });

  it("reads opt-out receipt", async () => {
    const body = {
      msisdn: "447400123456",
      to: "AcmeInc",
      "network-code": "12345",
      messageId: "aaaaaaaa-bbbb-cccc-dddd-0123456789ab",
      price: "0.00000000",
      status: "failed",
      scts: "2001011400",
      "err-code": "9",
      "api-key": "abcd1234",
      "message-timestamp": "2020-01-01 12:00:00",
    };
    const report = await reportOf(formRequest(JSON.stringify(body), "application/json"));

    expect(report.reason).toBe("opted-out");
    expect(report.errorCode).toBe("9");
    expect(report.status).toBe("failed");
    expect(report.to).toEqual({ kind: "e164", value: "+447400123456", country: "GB" });
    expect(report.from).toEqual({ kind: "alphanumeric", value: "AcmeInc" });
    expect(report.providerTime?.toISOString()).toBe("2020-01-01T14:00:00.000Z");
  });

  it("reads rejected opt-out by GET", async () => {
    const { params } = buildVonageDeliveryReceipt({
      msisdn: "12025550143",
      to: "12025550100",
      status: "rejected",
      errCode: "9",
    });
    const report = await reportOf(signedVonageRequest({ url: STATUS_URL, params, method: "GET" }));

    expect(report.reason).toBe("opted-out");
    expect(report.status).toBe("failed");
    expect(report.to?.value).toBe("+12025550143");
    expect(report.from?.value).toBe("+12025550100");
  });

  it("maps every err-code", async () => {
    const expected: Record<string, string | undefined> = {
      0: undefined,
      1: "unknown",
      2: "transient",
      3: "invalid-recipient",
      4: "unroutable",
      5: "unroutable",
      6: "content-filtered",
      7: "transient",
      8: "transient",
      9: "opted-out",
      10: "content-filtered",
      11: "unroutable",
      12: "invalid-recipient",
      13: "content-filtered",
      14: "unroutable",
      15: "transient",
      99: "unknown",
      42: "unknown",
    };

    for (const [errCode, reason] of Object.entries(expected)) {
      const { params } = buildVonageDeliveryReceipt({
        msisdn: "12025550143",
        to: "12025550100",
        status: "failed",
        errCode,
      });
      const report = await reportOf(signedVonageRequest({ url: STATUS_URL, params }));

      expect(report.reason, `err-code ${errCode}`).toBe(reason);
      expect(report.errorCode).toBe(errCode);
    }
  });

  it("keeps opt-out to code 9", () => {
    const optOut = Object.entries(vonageDeliveryErrorReasons).filter(
      ([, reason]) => reason === "opted-out",
    );

    expect(optOut).toEqual([["9", "opted-out"]]);
  });

  it("maps every status", async () => {
    const expected: Record<string, string> = {
      delivered: "delivered",
      expired: "undelivered",
      failed: "failed",
      rejected: "failed",
      accepted: "sent",
      buffered: "sent",
      unknown: "unknown",
      DELIVERED: "delivered",
      something: "unknown",
    };

    for (const [status, normalised] of Object.entries(expected)) {
      const { params } = buildVonageDeliveryReceipt({
        msisdn: "12025550143",
        to: "12025550100",
        status,
      });
      const report = await reportOf(signedVonageRequest({ url: STATUS_URL, params }));

      expect(report.status, status).toBe(normalised);
      expect(report.providerStatus).toBe(status);
    }
  });

  it("reads valid scts", async () => {
    const { params } = buildVonageDeliveryReceipt({
      msisdn: "12025550143",
      to: "12025550100",
      status: "delivered",
      scts: "2505011203",
    });
    const report = await reportOf(signedVonageRequest({ url: STATUS_URL, params }));

    expect(report.providerTime?.toISOString()).toBe("2025-05-01T12:03:00.000Z");
  });

  it("parses receipt on inbound route", async () => {
    const { params } = buildVonageDeliveryReceipt({
      msisdn: "12025550143",
      to: "12025550100",
      status: "failed",
      errCode: "9",
    });
    const report = await reportOf(signedVonageRequest({ url: INBOUND_URL, params }), "inbound");

    expect(report.reason).toBe("opted-out");
  });

  it("requires status on status route", async () => {
    const params: Pairs = [
      ["msisdn", "12025550143"],
      ["to", "12025550100"],
      ["messageId", "0A01"],
      ["err-code", "9"],
    ];
    const error = await parseFailure(signedVonageRequest({ url: STATUS_URL, params }), "status");

    expect(error.message).toContain("status");
  });

  it("requires recipient and message ID", async () => {
    for (const name of ["msisdn", "messageId", "to"]) {
      const { params } = buildVonageDeliveryReceipt({
        msisdn: "12025550143",
        to: "12025550100",
        status: "failed",
      });
      const remaining = params.filter(([field]) => field !== name);

      await parseFailure(signedVonageRequest({ url: STATUS_URL, params: remaining }), "status");
    }
  });
});

describe("Messages API inbound", () => {
  it("reads documented fields", async () => {
    const body = buildVonageMessagesInbound({
      from: "12025550143",
      to: "12025550100",
      text: "Stop by tomorrow",
      messageUuid: "aaaaaaaa-bbbb-cccc-dddd-0123456789ab",
      timestamp: new Date("2020-01-01T15:43:21Z"),
      numMessages: 2,
    });
    const message = await inboundOf(jsonRequest(body));

    expect(message.messageId).toBe("aaaaaaaa-bbbb-cccc-dddd-0123456789ab");
    expect(message.from).toEqual({ kind: "e164", value: "+12025550143", country: "US" });
    expect(message.to).toEqual({ kind: "e164", value: "+12025550100", country: "US" });
    expect(message.text).toBe("Stop by tomorrow");
    expect(message.providerTime?.toISOString()).toBe("2020-01-01T15:43:21.000Z");
    expect(message.segments).toBe(2);
    expect(message.providerIntent).toBeUndefined();
    expect(message.part).toBeUndefined();
    expect((message.raw.sms as Record<string, string>).keyword).toBe("STOP");
    expect(message.raw.usage).toEqual({ currency: "EUR", price: "0.0333" });
  });

  it("reads both count spellings", async () => {
    const base = { from: "12025550143", to: "12025550100", text: "hi" };
    const totalCount = buildVonageMessagesInbound({ ...base, sms: { total_count: "3" } });
    const countTotal = buildVonageMessagesInbound({ ...base, sms: { count_total: "4" } });

    delete (totalCount.sms as Record<string, string>).num_messages;
    delete (countTotal.sms as Record<string, string>).num_messages;

    expect((await inboundOf(jsonRequest(totalCount))).segments).toBe(3);
    expect((await inboundOf(jsonRequest(countTotal))).segments).toBe(4);
  });

  it("reads the field report sample", async () => {
    const body =
      '{"channel":"sms","message_uuid":"u-876","from":"12025550143","to":"12025550100",' +
      '"text":"hi","sms":{"num_messages":"1"}}';
    const message = await inboundOf(jsonRequest(JSON.parse(body)));

    expect(message.text).toBe("hi");
    expect(message.segments).toBe(1);
  });

  it("rejects other channels", async () => {
    const body = {
      ...buildVonageMessagesInbound({ from: "12025550143", to: "12025550100" }),
      channel: "whatsapp",
    };
    const error = await parseFailure(jsonRequest(body));

    expect(error.message).toContain("whatsapp");
  });

  it("rejects obsolete object numbers", async () => {
    const body = {
      message_uuid: "u1",
      from: { type: "sms", number: "12025550143" },
      to: { type: "sms", number: "12025550100" },
    };

    await parseFailure(jsonRequest(body));
  });
});

describe("Messages API status", () => {
  const base = { to: "12025550143", from: "12025550100" };

  it("maps every status", async () => {
    const expected: Record<string, string> = {
      submitted: "sent",
      delivered: "delivered",
      rejected: "failed",
      undeliverable: "undelivered",
      undelivered: "undelivered",
      failed: "failed",
      read: "read",
      other: "unknown",
    };

    for (const [status, normalised] of Object.entries(expected)) {
      const report = await reportOf(
        jsonRequest(buildVonageMessagesStatus({ ...base, status }), STATUS_URL),
      );

      expect(report.status, status).toBe(normalised);
      expect(report.providerStatus).toBe(status);
      expect(report.errorCode).toBeUndefined();
      expect(report.reason).toBeUndefined();
    }
  });

  it("reads recipient and sender", async () => {
    const body = buildVonageMessagesStatus({
      ...base,
      status: "delivered",
      messageUuid: "m-1",
      timestamp: new Date("2020-01-01T14:00:03.010Z"),
      clientRef: "ref-1",
    });
    const report = await reportOf(jsonRequest(body, STATUS_URL));

    expect(report.messageId).toBe("m-1");
    expect(report.to?.value).toBe("+12025550143");
    expect(report.from?.value).toBe("+12025550100");
    expect(report.providerTime?.toISOString()).toBe("2020-01-01T14:00:03.010Z");
    expect(report.raw.client_ref).toBe("ref-1");
  });

  it("reads error code forms", async () => {
    const cases: Array<[Record<string, unknown>, string, string]> = [
      [
        { type: "https://developer.nexmo.com/api-errors/messages-olympus#1000", title: 1000 },
        "1000",
        "rate-limited",
      ],
      [
        {
          type: "https://developer.nexmo.com/api-errors/messages-olympus#1050",
          title: "Number barred",
        },
        "1050",
        "invalid-recipient",
      ],
      [{ title: "1120" }, "1120", "sender-config"],
      [{ code: 1160, title: "Non White-listed Destination" }, "1160", "sender-config"],
      [
        { type: "https://developer.nexmo.com/api-errors/messages-olympus#1330", title: 1330 },
        "1330",
        "unknown",
      ],
    ];

    for (const [error, code, reason] of cases) {
      const body = buildVonageMessagesStatus({ ...base, status: "rejected", error });
      const report = await reportOf(jsonRequest(body, STATUS_URL));

      expect(report.errorCode, JSON.stringify(error)).toBe(code);
      expect(report.reason, JSON.stringify(error)).toBe(reason);
    }
  });

  it("maps configured opt-out codes", async () => {
    const configured = vonage({ apiKey: "k", apiSecret: "s", optOutErrorCodes: ["1330"] });
    const body = buildVonageMessagesStatus({ ...base, status: "rejected", error: { title: 1330 } });
    const parsed = await configured.parseWebhook(jsonRequest(body, STATUS_URL), "status");

    expect(parsed.reports[0]?.reason).toBe("opted-out");
    expect(parsed.reports[0]?.to?.value).toBe("+12025550143");
  });

  it("parses offset timestamps", async () => {
    const body = {
      ...buildVonageMessagesStatus({ ...base, status: "submitted" }),
      timestamp: "2020-01-01 15:43:21 +0200",
    };
    const report = await reportOf(jsonRequest(body, STATUS_URL));

    expect(report.providerTime?.toISOString()).toBe("2020-01-01T13:43:21.000Z");
  });

  it("rejects missing status fields", async () => {
    const body = buildVonageMessagesStatus({ ...base, status: "delivered" });

    await parseFailure(jsonRequest({ ...body, status: "" }, STATUS_URL), "status");
    await parseFailure(jsonRequest({ ...body, message_uuid: { id: "m" } }, STATUS_URL), "status");
  });
});

describe("timestamp readers", () => {
  it("reads Vonage timestamp forms", () => {
    const cases: Array<[string, string | undefined]> = [
      ["2025-05-01 12:00:00", "2025-05-01T12:00:00.000Z"],
      ["2025-05-01T12:00:00Z", "2025-05-01T12:00:00.000Z"],
      ["2025-05-01T12:00:00.5Z", "2025-05-01T12:00:00.500Z"],
      ["2025-05-01T12:00:00+01:00", "2025-05-01T11:00:00.000Z"],
      ["2025-05-01 12:00:00 -0130", "2025-05-01T13:30:00.000Z"],
      ["2024-02-29 00:00:00", "2024-02-29T00:00:00.000Z"],
      ["2023-02-29 00:00:00", undefined],
      ["2025-13-01 00:00:00", undefined],
      ["2025-05-01", undefined],
      ["1746100800", undefined],
    ];

    for (const [value, iso] of cases) {
      expect(parseVonageTimestamp(value)?.toISOString(), value).toBe(iso);
    }
  });

  it("reads scts forms", () => {
    expect(parseVonageScts("2001011400")?.toISOString()).toBe("2020-01-01T14:00:00.000Z");
    expect(parseVonageScts("200101140005")?.toISOString()).toBe("2020-01-01T14:00:05.000Z");
    expect(parseVonageScts("1234567890")).toBeUndefined();
    expect(parseVonageScts("abc")).toBeUndefined();
    expect(parseVonageScts(undefined)).toBeUndefined();
  });
});

describe("garbage input", () => {
  const megabyte = 1024 * 1024;
  const encoder = new TextEncoder();
  const garbage: Array<[string, WebhookRequest]> = [
    ["random bytes as form", formRequest(randomBytes(4096), "application/x-www-form-urlencoded")],
    ["random bytes as JSON", formRequest(randomBytes(4096), "application/json")],
    ["random bytes untyped", formRequest(randomBytes(4096))],
    ["invalid UTF-8 form", formRequest(new Uint8Array([0x74, 0x65, 0x78, 0x74, 0x3d, 0xc3, 0x28]))],
    ["invalid UTF-8 escape", formRequest("text=%C3%28&msisdn=12025550143")],
    [
      "invalid UTF-8 JSON",
      formRequest(new Uint8Array([0x7b, 0x22, 0xff, 0x22, 0x7d]), "application/json"),
    ],
    ["malformed escape", formRequest("msisdn=%2&to=%zz")],
    ["deep JSON", formRequest(`${"[".repeat(100_000)}${"]".repeat(100_000)}`, "application/json")],
    [
      "deep JSON object",
      formRequest(`${'{"a":'.repeat(50_000)}1${"}".repeat(50_000)}`, "application/json"),
    ],
    ["NUL bytes", formRequest(new Uint8Array(2048))],
    ["NUL in msisdn", formRequest("msisdn=1202555%00143&to=12025550100&messageId=1&text=STOP")],
    ["NUL in JSON", formRequest('{"msisdn":"\\u0000","to":"\\u0000"}', "application/json")],
    ["1 MB of letters", formRequest("a".repeat(megabyte))],
    ["1 MB random form", formRequest(randomBytes(megabyte), "application/x-www-form-urlencoded")],
    [
      "1 MB JSON string",
      formRequest(JSON.stringify({ text: "x".repeat(megabyte) }), "application/json"),
    ],
    ["1 MB of ampersands", formRequest("&".repeat(megabyte))],
    ["JSON array", formRequest("[1,2,3]", "application/json")],
    ["JSON string", formRequest('"msisdn=12025550143"', "application/json")],
    ["JSON null", formRequest("null", "application/json")],
    ["JSON number", formRequest("42", "application/json")],
    ["empty body", formRequest("")],
    ["empty JSON", formRequest("", "application/json")],
    ["lone surrogate JSON", formRequest('{"msisdn":"\\ud800","to":"1"}', "application/json")],
    ["BOM JSON", formRequest(encoder.encode("\ufeff{}"), "application/json")],
  ];

  for (const [name, request] of garbage) {
    it(`parse rejects ${name}`, async () => {
      for (const kind of ["inbound", "status"] as const) {
        const error = await provider.parseWebhook(request, kind).catch((caught: unknown) => caught);

        expect(isWebhookParseError(error), `${kind}: ${String(error)}`).toBe(true);
      }
    });

    it(`verify rejects ${name}`, async () => {
      const error = await provider.verifyWebhook(request).catch((caught: unknown) => caught);

      expect(isWebhookVerificationError(error), String(error)).toBe(true);
    });
  }

  it("parse throws only parse errors", () => {
    const request = formRequest(randomBytes(64));

    expect(() => parseVonageWebhook(request, "inbound")).toThrow(WebhookParseError);
  });

  it("keeps NUL inside text", async () => {
    const message = await inboundOf(
      signedVonageRequest({ url: INBOUND_URL, params: inboundParams({ text: "STOP\u0000" }) }),
    );

    expect(message.text).toBe("STOP\u0000");
  });
});

describe("webhookResponse", () => {
  it("returns empty 204", () => {
    for (const kind of ["inbound", "status"] as const) {
      expect(provider.webhookResponse({ kind, replyText: "You are unsubscribed" })).toEqual({
        status: 204,
        headers: {},
        body: "",
      });
    }
  });
});
