import { createHash, randomBytes } from "node:crypto";
import { describe, expect, it } from "vitest";
import { parseTwilioWebhook, twilio, twimlResponse } from "../providers/twilio/index.js";
import { parseDlrDoneDate } from "../providers/twilio/webhook.js";
import { isWebhookParseError, WebhookParseError } from "../src/errors.js";
import type { WebhookKind, WebhookRequest } from "../src/provider.js";
import {
  buildTwilioInbound,
  buildTwilioStatus,
  signedTwilioRequest,
  signTwilioRequest,
} from "../src/testing/twilio.js";

const TOKEN = "webhook-test-token";
const INBOUND_URL = "https://sms.example.com/webhooks/twilio/inbound";
const STATUS_URL = "https://sms.example.com/webhooks/twilio/status";
const provider = twilio({ accountSid: `AC${"12".repeat(16)}`, authToken: TOKEN });

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
  const error = await provider.parseWebhook(request, kind).catch((caught: unknown) => caught);

  if (!(error instanceof WebhookParseError)) {
    throw new Error(`expected a WebhookParseError, got ${String(error)}`);
  }

  return error;
}

async function parseInbound(params: Array<[string, string]>) {
  const request = signedTwilioRequest({ authToken: TOKEN, url: INBOUND_URL, params });
  const parsed = await provider.parseWebhook(request, "inbound");

  expect(parsed.reports).toEqual([]);
  expect(parsed.inbound).toHaveLength(1);

  return parsed.inbound[0] as NonNullable<(typeof parsed.inbound)[0]>;
}

async function parseStatus(params: Array<[string, string]>) {
  const request = signedTwilioRequest({ authToken: TOKEN, url: STATUS_URL, params });
  const parsed = await provider.parseWebhook(request, "status");

  expect(parsed.inbound).toEqual([]);
  expect(parsed.reports).toHaveLength(1);

  return parsed.reports[0] as NonNullable<(typeof parsed.reports)[0]>;
}

describe("inbound parsing", () => {
  it("reads standard fields", async () => {
    const { params } = buildTwilioInbound({
      from: "+12025550143",
      to: "+12025550100",
      body: "  Stop please \n",
      messageSid: "SM00000000000000000000000000000042",
      accountSid: "AC00000000000000000000000000000001",
      messagingServiceSid: "MG00000000000000000000000000000007",
      numSegments: 2,
    });
    const before = Date.now();
    const message = await parseInbound(params);

    expect(message.provider).toBe("twilio");
    expect(message.messageId).toBe("SM00000000000000000000000000000042");
    expect(message.accountId).toBe("AC00000000000000000000000000000001");
    expect(message.from).toEqual({ kind: "e164", value: "+12025550143", country: "US" });
    expect(message.to).toEqual({ kind: "e164", value: "+12025550100", country: "US" });
    expect(message.serviceId).toBe("MG00000000000000000000000000000007");
    expect(message.text).toBe("  Stop please \n");
    expect(message.segments).toBe(2);
    expect(message.media).toEqual([]);
    expect(message.providerIntent).toBeUndefined();
    expect(message.receivedAt.getTime()).toBeGreaterThanOrEqual(before);
  });

  it("keeps empty and repeated fields", async () => {
    const { params } = buildTwilioInbound({
      from: "+12025550143",
      to: "+12025550100",
      body: "",
      extra: [
        ["FromZip", ""],
        ["FromCity", ""],
        ["MessagingBinding.Address", "+12025550188"],
        ["MessagingBinding.Address", "+12025550111"],
      ],
    });
    const message = await parseInbound(params);

    expect(message.text).toBe("");
    expect(message.raw.FromZip).toBe("");
    expect(message.raw.FromCity).toBe("");
    expect(message.raw["MessagingBinding.Address"]).toEqual(["+12025550188", "+12025550111"]);
    expect(message.raw.SmsStatus).toBe("received");
    expect(Object.keys(message.raw)).toHaveLength(params.length - 1);
  });

  it("falls back to legacy SIDs", async () => {
    const sid = "SM00000000000000000000000000000099";
    const base: Array<[string, string]> = [
      ["From", "+12025550143"],
      ["To", "+12025550100"],
      ["Body", "hi"],
    ];

    expect((await parseInbound([...base, ["SmsMessageSid", sid]])).messageId).toBe(sid);
    expect((await parseInbound([...base, ["SmsSid", sid]])).messageId).toBe(sid);
    expect((await parseInbound([...base, ["MessageSid", ""], ["SmsSid", sid]])).messageId).toBe(
      sid,
    );
  });

  it("maps OptOutType values", async () => {
    const cases: Array<[string, string | undefined]> = [
      ["STOP", "opt-out"],
      ["START", "opt-in"],
      ["HELP", "help"],
      ["stop", "opt-out"],
      ["Start", "opt-in"],
      ["UNKNOWN", undefined],
    ];

    for (const [optOutType, intent] of cases) {
      const { params } = buildTwilioInbound({
        from: "+12025550143",
        to: "+12025550100",
        body: "whatever",
        optOutType,
      });

      expect((await parseInbound(params)).providerIntent).toBe(intent);
    }
  });

  it("reads numbered media", async () => {
    const { params } = buildTwilioInbound({
      from: "+12025550143",
      to: "+12025550100",
      media: [
        { url: "https://api.twilio.com/media/ME0", contentType: "image/jpeg" },
        { url: "https://api.twilio.com/media/ME1", contentType: "video/mp4" },
      ],
    });
    const message = await parseInbound(params);

    expect(message.media).toEqual([
      { url: "https://api.twilio.com/media/ME0", contentType: "image/jpeg" },
      { url: "https://api.twilio.com/media/ME1", contentType: "video/mp4" },
    ]);
  });

  it("reads media up to NumMedia", async () => {
    const params: Array<[string, string]> = [
      ["MessageSid", "SM1"],
      ["From", "+12025550143"],
      ["To", "+12025550100"],
      ["NumMedia", "1"],
      ["MediaUrl0", "https://m.example/0"],
      ["MediaUrl1", "https://m.example/1"],
    ];
    const message = await parseInbound(params);

    expect(message.media).toEqual([{ url: "https://m.example/0", contentType: undefined }]);
  });

  it("reads media without NumMedia", async () => {
    const params: Array<[string, string]> = [
      ["MessageSid", "SM1"],
      ["From", "+12025550143"],
      ["To", "+12025550100"],
      ["MediaUrl0", "https://m.example/0"],
      ["MediaContentType0", "image/png"],
    ];

    expect((await parseInbound(params)).media).toEqual([
      { url: "https://m.example/0", contentType: "image/png" },
    ]);
  });

  it("bounds a huge NumMedia", async () => {
    const params: Array<[string, string]> = [
      ["MessageSid", "SM1"],
      ["From", "+12025550143"],
      ["To", "+12025550100"],
      ["NumMedia", "999999"],
    ];
    const started = performance.now();

    expect((await parseInbound(params)).media).toEqual([]);
    expect(performance.now() - started).toBeLessThan(1000);
  });

  it("ignores malformed counts", async () => {
    const params: Array<[string, string]> = [
      ["MessageSid", "SM1"],
      ["From", "+12025550143"],
      ["To", "+12025550100"],
      ["NumSegments", "two"],
    ];
    const message = await parseInbound(params);

    expect(message.segments).toBeUndefined();
    expect(message.raw.NumSegments).toBe("two");
  });

  it("keeps short code sender", async () => {
    const body =
      "AccountSid=AC00000000000000000000000000000001&Body=Your+verification+code+is+482913" +
      "&From=55501&MessageSid=SM00000000000000000000000000000010&To=%2B12025550100";
    const parsed = await provider.parseWebhook(rawRequest(body), "inbound");
    const message = parsed.inbound[0];

    expect(message?.from).toEqual({ kind: "shortcode", value: "55501", country: "US" });
    expect(message?.to).toEqual({ kind: "e164", value: "+12025550100", country: "US" });
    expect(message?.text).toBe("Your verification code is 482913");
    expect(message?.providerIntent).toBeUndefined();
    expect(message?.messageId).toBe("SM00000000000000000000000000000010");
  });

  it("reads channel addresses", async () => {
    const { params } = buildTwilioInbound({
      from: "whatsapp:+12025550143",
      to: "whatsapp:+12025550100",
      body: "STOP",
    });
    const message = await parseInbound(params);

    expect(message.from.kind).toBe("channel");
    expect(message.from.value).toBe("whatsapp:+12025550143");
  });

  it("reads GET query fields", async () => {
    const { params } = buildTwilioInbound({
      from: "+12025550143",
      to: "+12025550100",
      body: "STOP now",
      messageSid: "SM00000000000000000000000000000077",
    });
    const request = signedTwilioRequest({
      authToken: TOKEN,
      url: INBOUND_URL,
      params,
      method: "GET",
    });
    const parsed = await provider.parseWebhook(request, "inbound");

    expect(parsed.inbound[0]?.messageId).toBe("SM00000000000000000000000000000077");
    expect(parsed.inbound[0]?.text).toBe("STOP now");
  });

  it("uses given receivedAt", () => {
    const receivedAt = new Date("2025-01-02T03:04:05Z");
    const { body } = buildTwilioInbound({ from: "+12025550143", to: "+12025550100" });
    const parsed = parseTwilioWebhook(rawRequest(body), "inbound", { receivedAt });

    expect(parsed.inbound[0]?.receivedAt).toBe(receivedAt);
  });
});

describe("status parsing", () => {
  it("reads 21610 failure", async () => {
    const { params } = buildTwilioStatus({
      messageSid: "SM00000000000000000000000000000005",
      status: "failed",
      errorCode: "21610",
      from: "+12025550100",
      to: "+12025550143",
      messagingServiceSid: "MG00000000000000000000000000000007",
    });
    const report = await parseStatus(params);

    expect(report.provider).toBe("twilio");
    expect(report.messageId).toBe("SM00000000000000000000000000000005");
    expect(report.status).toBe("failed");
    expect(report.providerStatus).toBe("failed");
    expect(report.errorCode).toBe("21610");
    expect(report.reason).toBe("opted-out");
    expect(report.to).toEqual({ kind: "e164", value: "+12025550143", country: "US" });
    expect(report.from).toEqual({ kind: "e164", value: "+12025550100", country: "US" });
    expect(report.serviceId).toBe("MG00000000000000000000000000000007");
  });

  it("reads observed callback body", async () => {
    const body =
      "RawDlrDoneDate=2303092021&ErrorCode=30002&SmsSid=SMxxx&SmsStatus=failed" +
      "&MessageStatus=failed&To=%2B12025550143&MessageSid=SMyyy&AccountSid=ACzzz" +
      "&From=%2B12025550100&ApiVersion=2010-04-01";
    const parsed = await provider.parseWebhook(rawRequest(body), "status");
    const report = parsed.reports[0];

    expect(report?.messageId).toBe("SMyyy");
    expect(report?.accountId).toBe("ACzzz");
    expect(report?.errorCode).toBe("30002");
    expect(report?.reason).toBe("unknown");
    expect(report?.providerTime?.toISOString()).toBe("2023-03-09T20:21:00.000Z");
  });

  it("maps delivered without error", async () => {
    const { params } = buildTwilioStatus({
      messageSid: "SM1",
      status: "delivered",
      from: "+12025550100",
      to: "+12025550143",
    });
    const report = await parseStatus(params);

    expect(report.status).toBe("delivered");
    expect(report.errorCode).toBeUndefined();
    expect(report.reason).toBeUndefined();
    expect(report.providerTime).toBeUndefined();
  });

  it("falls back to SmsStatus", async () => {
    const report = await parseStatus([
      ["MessageSid", "SM1"],
      ["SmsStatus", "undelivered"],
      ["ErrorCode", "30003"],
    ]);

    expect(report.providerStatus).toBe("undelivered");
    expect(report.status).toBe("undelivered");
    expect(report.reason).toBe("transient");
    expect(report.from).toBeUndefined();
  });

  it("keeps unknown statuses", async () => {
    const report = await parseStatus([
      ["MessageSid", "SM1"],
      ["MessageStatus", "teleported"],
    ]);

    expect(report.providerStatus).toBe("teleported");
    expect(report.status).toBe("unknown");
  });

  it("rejects missing MessageStatus", async () => {
    const body = "MessageSid=SM1&From=%2B12025550100";
    const error = await parseFailure(rawRequest(body), "status");

    expect(error.message).toMatch(/MessageStatus/);
  });
});

describe("parseDlrDoneDate", () => {
  it("reads minutes and seconds", () => {
    expect(parseDlrDoneDate("2303092021")?.toISOString()).toBe("2023-03-09T20:21:00.000Z");
    expect(parseDlrDoneDate("230309202159")?.toISOString()).toBe("2023-03-09T20:21:59.000Z");
  });

  it("ignores impossible dates", () => {
    for (const value of ["2313092021", "2302302021", "2303092561", "23030920", "abcdefghij", ""]) {
      expect(parseDlrDoneDate(value)).toBeUndefined();
    }
  });
});

describe("garbage webhooks", () => {
  it("rejects binary body", async () => {
    const png = new Uint8Array([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0, 13]);
    const error = await parseFailure(rawRequest(png));

    expect(error.message).toMatch(/UTF-8/);
  });

  it("rejects malformed escape", async () => {
    const error = await parseFailure(rawRequest("MessageSid=SM1&From=%zz&To=%2B12025550100"));

    expect(error.message).toMatch(/"%zz" in the value of field "From"/);
  });

  it("rejects missing MessageSid", async () => {
    const error = await parseFailure(rawRequest("From=%2B12025550143&To=%2B12025550100&Body=x"));

    expect(error.message).toMatch(/no MessageSid \(nor SmsMessageSid or SmsSid\)/);
  });

  it("rejects invalid UTF-8", async () => {
    const error = await parseFailure(rawRequest("MessageSid=SM1&Body=%C3%28"));

    expect(error.message).toMatch(/invalid UTF-8 in the value of field "Body"/);
  });

  it("rejects megabyte of ampersands", async () => {
    const error = await parseFailure(rawRequest("&".repeat(1024 * 1024)));

    expect(error.message).toMatch(/no MessageSid/);
  });

  it("rejects unparseable From", async () => {
    const body = "MessageSid=SM1&From=%2B999&To=%2B12025550100&Body=STOP";
    const error = await parseFailure(rawRequest(body));

    expect(error.message).toMatch(/field From is not a valid sender/);
    expect(error.cause).toBeInstanceOf(Error);
  });

  it("rejects missing From", async () => {
    const error = await parseFailure(rawRequest("MessageSid=SM1&To=%2B12025550100&Body=STOP"));

    expect(error.message).toMatch(/no From field/);
  });

  it("rejects unverified JSON body", async () => {
    const body = JSON.stringify({ MessageSid: "SM1", From: "+12025550143", To: "+12025550100" });
    const error = await parseFailure(rawRequest(body, "application/json"));

    expect(error.message).toMatch(/form-encoded/);
  });

  it("reads JSON with valid bodySHA256", async () => {
    const body = JSON.stringify({
      MessageSid: "SM1",
      From: "+12025550143",
      To: "+12025550100",
      Body: "STOP",
      NumSegments: 1,
    });
    const hash = createHash("sha256").update(body).digest("hex");
    const url = `${INBOUND_URL}?bodySHA256=${hash}`;
    const request: WebhookRequest = {
      ...rawRequest(body, "application/json; charset=utf-8"),
      url,
    };

    request.headers.set(
      "x-twilio-signature",
      signTwilioRequest({ authToken: TOKEN, url, params: [] }),
    );

    const parsed = await provider.parseWebhook(request, "inbound");

    expect(parsed.inbound[0]?.text).toBe("STOP");
    expect(parsed.inbound[0]?.segments).toBe(1);
  });

  it("survives random bytes", async () => {
    for (let round = 0; round < 300; round += 1) {
      const body = randomBytes(1 + (round % 64));
      const outcome = await provider
        .parseWebhook(rawRequest(body), round % 2 === 0 ? "inbound" : "status")
        .then(
          () => "parsed",
          (error: unknown) => (isWebhookParseError(error) ? "rejected" : error),
        );

      expect(["parsed", "rejected"]).toContain(outcome);
    }
  });
});

describe("twimlResponse", () => {
  it("builds empty response", () => {
    const response = twimlResponse();

    expect(response.status).toBe(200);
    expect(response.headers["content-type"]).toBe("text/xml; charset=utf-8");
    expect(response.body).toBe('<?xml version="1.0" encoding="UTF-8"?><Response/>');
  });

  it("escapes reply text", () => {
    expect(twimlResponse(`You're out <now> & "done"`).body).toBe(
      '<?xml version="1.0" encoding="UTF-8"?><Response><Message>' +
        "You&apos;re out &lt;now&gt; &amp; &quot;done&quot;</Message></Response>",
    );
  });

  it("strips forbidden characters", () => {
    const text = "a\u0000b\u0007c\u001Fd\uFFFEe\uD800f\tg\nh 🛑";

    expect(twimlResponse(text).body).toContain("<Message>abcdef\tg\nh 🛑</Message>");
  });

  it("keeps carriage returns", () => {
    expect(twimlResponse("a\r\nb").body).toContain("<Message>a&#xD;\nb</Message>");
  });

  it("treats empty reply as none", () => {
    expect(twimlResponse("").body).toBe('<?xml version="1.0" encoding="UTF-8"?><Response/>');
    expect(twimlResponse("\u0000").body).toBe('<?xml version="1.0" encoding="UTF-8"?><Response/>');
  });

  it("returns empty status response", () => {
    const response = provider.webhookResponse({ kind: "status", replyText: "ignored" });

    expect(response.body).toBe('<?xml version="1.0" encoding="UTF-8"?><Response/>');
  });

  it("returns inbound reply", () => {
    const response = provider.webhookResponse({ kind: "inbound", replyText: "Bye" });

    expect(response.body).toContain("<Message>Bye</Message>");
  });
});
