import { Agent } from "undici";
import { afterEach, describe, expect, it } from "vitest";
import {
  mapTwilioErrorResponse,
  type TwilioOptions,
  type TwilioProvider,
  twilio,
  twilioErrorReason,
} from "../providers/twilio/index.js";
import { isConfigError, isProviderError, type ProviderError } from "../src/errors.js";
import { MAX_RESPONSE_BYTES } from "../src/http/request.js";
import type { OutboundMessage } from "../src/provider.js";
import { startFakeApi } from "../src/testing/fake-api.js";
import {
  type FakeTwilioApi,
  type FakeTwilioApiOptions,
  startFakeTwilioApi,
} from "../src/testing/fake-twilio.js";
import { expectOversizedRefusal, expectStreamingTimeout } from "./helpers/bounded-response.js";
import { type StreamedResponse, startStreamingServer } from "./helpers/streaming-server.js";

const SERVICE_SID = "MG0123456789abcdef0123456789abcdef";
const cleanups: Array<() => Promise<void>> = [];

afterEach(async () => {
  while (cleanups.length > 0) {
    await cleanups.pop()?.();
  }
});

async function setup(
  options: Partial<TwilioOptions> = {},
  respond?: FakeTwilioApiOptions["respond"],
): Promise<{ api: FakeTwilioApi; provider: TwilioProvider }> {
  const api = await startFakeTwilioApi({ respond });
  const provider = twilio({
    accountSid: api.accountSid,
    authToken: api.authToken,
    apiBaseUrl: api.url,
    ...options,
  });

  cleanups.push(
    () => api.close(),
    () => provider.close(),
  );

  return { api, provider };
}

async function sendFailure(provider: TwilioProvider, message: OutboundMessage) {
  const error = await provider.send(message).then(
    (result) => new Error(`expected a ProviderError, got ${JSON.stringify(result)}`),
    (caught: unknown) => caught,
  );

  if (!isProviderError(error)) {
    throw error;
  }

  return error as ProviderError;
}

const basic = (user: string, password: string): string =>
  `Basic ${Buffer.from(`${user}:${password}`).toString("base64")}`;

describe("send success", () => {
  it("sends with From", async () => {
    const { api, provider } = await setup({ from: "+15005550006" });
    const result = await provider.send({ to: "+14155550100", body: "Hello & welcome" });
    const request = api.requests[0];

    expect(result.provider).toBe("twilio");
    expect(result.messageId).toMatch(/^SM[0-9a-f]{32}$/);
    expect(result.messageId).toBe(api.messages[0]?.sid);
    expect(result.status).toBe("queued");
    expect(result.to).toBe("+14155550100");
    expect(result.from).toBe("+15005550006");
    expect(result.segments).toBe(1);
    expect((result.raw as { sid: string }).sid).toBe(result.messageId);
    expect(request?.method).toBe("POST");
    expect(request?.path).toBe(`/2010-04-01/Accounts/${api.accountSid}/Messages.json`);
    expect(request?.headers["content-type"]).toMatch(/^application\/x-www-form-urlencoded/);
    expect(request?.form).toEqual([
      ["To", "+14155550100"],
      ["From", "+15005550006"],
      ["Body", "Hello & welcome"],
    ]);
  });

  it("sends Basic auth header", async () => {
    const { api, provider } = await setup({ from: "+15005550006" });

    await provider.send({ to: "+14155550100", body: "hi" });

    expect(api.requests[0]?.headers.authorization).toBe(basic(api.accountSid, api.authToken));
  });

  it("sends with MessagingServiceSid", async () => {
    const { api, provider } = await setup({ messagingServiceSid: SERVICE_SID });
    const result = await provider.send({ to: "+14155550100", body: "hi" });

    expect(api.requests[0]?.form).toEqual([
      ["To", "+14155550100"],
      ["MessagingServiceSid", SERVICE_SID],
      ["Body", "hi"],
    ]);
    expect(result.status).toBe("accepted");
    expect(result.from).toBeUndefined();
    expect(result.segments).toBeUndefined();
    expect(api.messages[0]?.messagingServiceSid).toBe(SERVICE_SID);
  });

  it("message from wins", async () => {
    const { api, provider } = await setup({
      from: "+15005550006",
      messagingServiceSid: SERVICE_SID,
    });

    await provider.send({ to: "+14155550100", from: "+15017122661", body: "hi" });

    expect(api.requests[0]?.form).toEqual([
      ["To", "+14155550100"],
      ["From", "+15017122661"],
      ["MessagingServiceSid", SERVICE_SID],
      ["Body", "hi"],
    ]);
  });

  it("sends service SID from", async () => {
    const { api, provider } = await setup({ from: "+15005550006" });

    await provider.send({ to: "+14155550100", from: SERVICE_SID, body: "hi" });

    expect(api.requests[0]?.form).toEqual([
      ["To", "+14155550100"],
      ["MessagingServiceSid", SERVICE_SID],
      ["Body", "hi"],
    ]);
  });

  it("repeats MediaUrl", async () => {
    const { api, provider } = await setup({ from: "+15005550006" });
    const mediaUrls = ["https://cdn.example/a.jpg?x=1&y=2", "https://cdn.example/b.png"];
    const result = await provider.send({ to: "+14155550100", body: "", mediaUrls });
    const form = api.requests[0]?.form ?? [];

    expect(form.filter(([name]) => name === "MediaUrl")).toEqual([
      ["MediaUrl", mediaUrls[0]],
      ["MediaUrl", mediaUrls[1]],
    ]);
    expect(form.some(([name]) => name === "Body")).toBe(false);
    expect(result.messageId).toMatch(/^MM/);
    expect(api.messages[0]?.mediaUrls).toEqual(mediaUrls);
  });

  it("sets StatusCallback", async () => {
    const { api, provider } = await setup({ from: "+15005550006" });
    const statusCallbackUrl = "https://sms.example.com/webhooks/twilio/status";

    await provider.send({ to: "+14155550100", body: "hi", statusCallbackUrl });

    expect(api.requests[0]?.form).toContainEqual(["StatusCallback", statusCallbackUrl]);
    expect(api.messages[0]?.statusCallback).toBe(statusCallbackUrl);
  });

  it("counts long message segments", async () => {
    const { provider } = await setup({ from: "+15005550006" });
    const result = await provider.send({ to: "+14155550100", body: "a".repeat(161) });

    expect(result.segments).toBe(2);
  });

  it("reuses keep-alive connections", async () => {
    const { api, provider } = await setup({ from: "+15005550006" });

    for (let count = 0; count < 6; count += 1) {
      await provider.send({ to: "+14155550100", body: `message ${count}` });
    }

    const ports = new Set(api.requests.map((request) => request.remotePort));

    expect(api.requests).toHaveLength(6);
    expect(ports.size).toBeLessThan(6);
  });

  it("uses injected dispatcher", async () => {
    const agent = new Agent();
    const { api, provider } = await setup({ from: "+15005550006", dispatcher: agent });

    cleanups.push(() => agent.close());
    await provider.send({ to: "+14155550100", body: "hi" });
    await provider.close();

    expect(agent.closed).toBe(false);
    expect(api.messages).toHaveLength(1);
  });
});

describe("send refusals", () => {
  const magic: Array<[string, string, string]> = [
    ["+15005550001", "21211", "invalid-recipient"],
    ["+15005550002", "21612", "unroutable"],
    ["+15005550003", "21408", "unroutable"],
    ["+15005550004", "21610", "opted-out"],
    ["+15005550009", "21614", "invalid-recipient"],
  ];

  for (const [to, code, reason] of magic) {
    it(`maps magic ${to} to ${reason}`, async () => {
      const { api, provider } = await setup({ from: "+15005550006" });
      const error = await sendFailure(provider, { to, body: "hi" });

      expect(error.reason).toBe(reason);
      expect(error.providerCode).toBe(code);
      expect(error.httpStatus).toBe(400);
      expect(error.provider).toBe("twilio");
      expect(error.requestId).toMatch(/^RQ[0-9a-f]{32}$/);
      expect(error.rawBody).toContain(`"code":${code}`);
      expect(api.messages).toHaveLength(0);
    });
  }

  it("maps magic senders", async () => {
    const cases: Array<[string, string, string]> = [
      ["+15005550001", "21212", "sender-config"],
      ["+15005550007", "21606", "sender-config"],
      ["+15005550008", "21611", "rate-limited"],
    ];

    for (const [from, code, reason] of cases) {
      const { provider } = await setup({ from });
      const error = await sendFailure(provider, { to: "+14155550100", body: "hi" });

      expect(error.providerCode).toBe(code);
      expect(error.reason).toBe(reason);
    }
  });

  it("refuses 21610 once", async () => {
    const body = {
      code: 21610,
      message: "Attempt to send to unsubscribed recipient",
      more_info: "https://www.twilio.com/docs/errors/21610",
      status: 400,
    };
    const { api, provider } = await setup({}, () => ({ status: 400, json: body }));
    const error = await sendFailure(provider, {
      from: "+12025550100",
      to: "+12025550143",
      body: "Your survey is ready",
    });

    expect(error.reason).toBe("opted-out");
    expect(error.providerCode).toBe("21610");
    expect(error.httpStatus).toBe(400);
    expect(error.rawBody).toBe(JSON.stringify(body));
    expect(error.message).toContain("Attempt to send to unsubscribed recipient");
    expect(api.requests).toHaveLength(1);
  });

  it("maps 401 to auth", async () => {
    const { provider } = await setup({ authToken: "wrong-token", from: "+15005550006" });
    const error = await sendFailure(provider, { to: "+14155550100", body: "hi" });

    expect(error.reason).toBe("auth");
    expect(error.providerCode).toBe("20003");
    expect(error.httpStatus).toBe(401);
  });

  it("maps 429 to rate-limited", async () => {
    const { provider } = await setup({ from: "+15005550006" }, () => ({
      status: 429,
      json: { code: 20429, message: "Too Many Requests", status: 429 },
    }));
    const error = await sendFailure(provider, { to: "+14155550100", body: "hi" });

    expect(error.reason).toBe("rate-limited");
    expect(error.httpStatus).toBe(429);
  });

  it("maps 500 to transient", async () => {
    const { provider } = await setup({ from: "+15005550006" }, () => ({
      status: 500,
      json: { code: 20500, message: "Internal Server Error", status: 500 },
    }));
    const error = await sendFailure(provider, { to: "+14155550100", body: "hi" });

    expect(error.reason).toBe("transient");
    expect(error.providerCode).toBe("20500");
  });

  it("maps non-JSON error body", async () => {
    const html = "<html><body>502 Bad Gateway</body></html>";
    const { provider } = await setup({ from: "+15005550006" }, () => ({
      status: 502,
      headers: { "content-type": "text/html" },
      body: html,
    }));
    const error = await sendFailure(provider, { to: "+14155550100", body: "hi" });

    expect(error.reason).toBe("transient");
    expect(error.httpStatus).toBe(502);
    expect(error.providerCode).toBeUndefined();
    expect(error.rawBody).toBe(html);
    expect(error.message).toMatch(/HTTP 502/);
  });

  it("maps 201 garbage to unknown", async () => {
    const { provider } = await setup({ from: "+15005550006" }, () => ({
      status: 201,
      body: "<Response>not json</Response>",
    }));
    const error = await sendFailure(provider, { to: "+14155550100", body: "hi" });

    expect(error.reason).toBe("unknown");
    expect(error.httpStatus).toBe(201);
    expect(error.rawBody).toBe("<Response>not json</Response>");
  });

  it("maps 201 without sid to unknown", async () => {
    const { provider } = await setup({ from: "+15005550006" }, () => ({
      status: 201,
      json: { status: "queued" },
    }));

    expect((await sendFailure(provider, { to: "+14155550100", body: "hi" })).reason).toBe(
      "unknown",
    );
  });

  it("refuses 200 as success", async () => {
    const { provider } = await setup({ from: "+15005550006" }, () => ({
      status: 200,
      json: { sid: "SM0", status: "queued" },
    }));

    expect((await sendFailure(provider, { to: "+14155550100", body: "hi" })).reason).toBe(
      "unknown",
    );
  });

  it("requires a sender", async () => {
    const { api, provider } = await setup();
    const error = await sendFailure(provider, { to: "+14155550100", body: "hi" });

    expect(error.reason).toBe("sender-config");
    expect(api.requests).toHaveLength(0);
  });

  it("fake requires To and Body", async () => {
    const { provider } = await setup({ from: "+15005550006" });

    expect((await sendFailure(provider, { to: "", body: "hi" })).providerCode).toBe("21604");
    expect((await sendFailure(provider, { to: "+14155550100", body: "" })).providerCode).toBe(
      "21602",
    );
  });
});

describe("send network failures", () => {
  async function streamingProvider(response: StreamedResponse, timeoutMs?: number) {
    const server = await startStreamingServer(response);
    const provider = twilio({
      accountSid: "AC0123456789abcdef0123456789abcdef",
      authToken: "token",
      apiBaseUrl: server.url,
      from: "+15005550006",
      ...(timeoutMs === undefined ? {} : { timeoutMs }),
    });

    cleanups.push(
      () => server.close(),
      () => provider.close(),
    );

    return { server, provider };
  }

  it("aborts an oversized response", async () => {
    const { server, provider } = await streamingProvider({
      status: 201,
      headers: { "content-type": "application/json" },
      bytes: 4 * MAX_RESPONSE_BYTES,
    });
    const error = await sendFailure(provider, { to: "+14155550100", body: "hi" });
    const close = await server.connectionClosed;

    expectOversizedRefusal(error, close, { provider: "twilio", label: "Twilio" });
  });

  it("times out a response that keeps streaming", async () => {
    const { server, provider } = await streamingProvider(
      { status: 201, bytes: 64 * 1024, chunkBytes: 1024, intervalMs: 20 },
      150,
    );
    const started = performance.now();
    const error = await sendFailure(provider, { to: "+14155550100", body: "hi" });
    const elapsedMs = performance.now() - started;
    const close = await server.connectionClosed;

    expectStreamingTimeout(error, close, elapsedMs, "Twilio");
  });

  it("maps refused connection to transient", async () => {
    const api = await startFakeTwilioApi();
    const provider = twilio({
      accountSid: api.accountSid,
      authToken: api.authToken,
      apiBaseUrl: api.url,
      from: "+15005550006",
    });

    cleanups.push(() => provider.close());
    await api.close();

    const error = await sendFailure(provider, { to: "+14155550100", body: "hi" });

    expect(error.reason).toBe("transient");
    expect(error.cause).toBeInstanceOf(Error);
    expect(error.httpStatus).toBeUndefined();
  });

  it("maps dropped connection to transient", async () => {
    const { provider } = await setup({ from: "+15005550006" }, () => ({
      status: 200,
      destroyConnection: true,
    }));
    const error = await sendFailure(provider, { to: "+14155550100", body: "hi" });

    expect(error.reason).toBe("transient");
    expect(error.cause).toBeDefined();
  });

  it("maps timeout to transient", async () => {
    const { provider } = await setup({ from: "+15005550006", timeoutMs: 100 }, () => ({
      status: 201,
      json: { sid: "SM1" },
      delayMs: 1000,
    }));
    const error = await sendFailure(provider, { to: "+14155550100", body: "hi" });

    expect(error.reason).toBe("transient");
    expect(error.message).toMatch(/timed out after 100 ms/);
  });

  it("rejects send after close", async () => {
    const { api, provider } = await setup({ from: "+15005550006" });

    await provider.close();
    await provider.close();

    const error = await sendFailure(provider, { to: "+14155550100", body: "hi" });

    expect(error.message).toMatch(/closed/);
    expect(api.requests).toHaveLength(0);
  });
});

describe("twilioErrorReason", () => {
  it("maps the default table", () => {
    const table: Array<[number, string]> = [
      [21610, "opted-out"],
      [21211, "invalid-recipient"],
      [21614, "invalid-recipient"],
      [21635, "invalid-recipient"],
      [30005, "invalid-recipient"],
      [30006, "invalid-recipient"],
      [21604, "invalid-recipient"],
      [21612, "unroutable"],
      [21408, "unroutable"],
      [21606, "sender-config"],
      [21212, "sender-config"],
      [21659, "sender-config"],
      [21661, "sender-config"],
      [30034, "sender-config"],
      [21608, "sender-config"],
      [20003, "auth"],
      [20429, "rate-limited"],
      [30007, "content-filtered"],
      [30003, "transient"],
      [30008, "transient"],
    ];

    for (const [code, reason] of table) {
      expect(twilioErrorReason(code)).toBe(reason);
      expect(twilioErrorReason(String(code))).toBe(reason);
    }
  });

  it("falls back to HTTP status", () => {
    expect(twilioErrorReason(undefined, 401)).toBe("auth");
    expect(twilioErrorReason(undefined, 403)).toBe("auth");
    expect(twilioErrorReason(undefined, 429)).toBe("rate-limited");
    expect(twilioErrorReason(undefined, 500)).toBe("transient");
    expect(twilioErrorReason(undefined, 503)).toBe("transient");
    expect(twilioErrorReason(undefined, 400)).toBe("unknown");
  });

  it("prefers the code over status", () => {
    expect(twilioErrorReason(21610, 500)).toBe("opted-out");
  });

  it("maps unknown codes to unknown", () => {
    expect(twilioErrorReason(99999)).toBe("unknown");
    expect(twilioErrorReason("constructor")).toBe("unknown");
    expect(twilioErrorReason("")).toBe("unknown");
    expect(twilioErrorReason(undefined)).toBe("unknown");
  });
});

describe("mapTwilioErrorResponse", () => {
  it("reads classic body", () => {
    const raw = JSON.stringify({
      code: 21211,
      message: "The 'To' number +15005550001 is not a valid phone number.",
      more_info: "https://www.twilio.com/docs/errors/21211",
      status: 400,
    });
    const error = mapTwilioErrorResponse(400, raw, "RQ123");

    expect(error.reason).toBe("invalid-recipient");
    expect(error.providerCode).toBe("21211");
    expect(error.httpStatus).toBe(400);
    expect(error.requestId).toBe("RQ123");
    expect(error.rawBody).toBe(raw);
    expect(error.message).toContain("https://www.twilio.com/docs/errors/21211");
    expect(error.message).not.toContain("+15005550001");
  });

  it("reads problem body", () => {
    const raw = JSON.stringify({
      type: "https://www.twilio.com/docs/errors/20429",
      title: "Too Many Requests",
      status: 429,
      code: 20429,
      detail: "Slow down",
      instance: "/v1/x",
    });
    const error = mapTwilioErrorResponse(429, raw);

    expect(error.reason).toBe("rate-limited");
    expect(error.providerCode).toBe("20429");
    expect(error.message).toContain("Too Many Requests: Slow down");
    expect(error.requestId).toBeUndefined();
  });

  it("handles non-object JSON", () => {
    for (const raw of ["", "null", "[1]", '"text"', "{"]) {
      const error = mapTwilioErrorResponse(503, raw);

      expect(error.reason).toBe("transient");
      expect(error.providerCode).toBeUndefined();
      expect(error.rawBody).toBe(raw);
    }
  });
});

describe("Twilio options", () => {
  const valid = { accountSid: `AC${"a".repeat(32)}`, authToken: "token" };

  function configPathOf(options: unknown, configPath?: string): string {
    try {
      twilio(options as TwilioOptions, configPath).close();
    } catch (error) {
      if (isConfigError(error)) {
        return error.path;
      }

      throw error;
    }

    return "";
  }

  it("names the invalid option", () => {
    expect(configPathOf({ ...valid, accountSid: "AC123" })).toBe("twilio.accountSid");
    expect(configPathOf({ ...valid, authToken: "" })).toBe("twilio.authToken");
    expect(configPathOf({ ...valid, authToken: "token\n" })).toBe("twilio.authToken");
    expect(configPathOf({ ...valid, messagingServiceSid: "MG1" })).toBe(
      "twilio.messagingServiceSid",
    );
    expect(configPathOf({ ...valid, apiBaseUrl: "ftp://api.example" })).toBe("twilio.apiBaseUrl");
    expect(configPathOf({ ...valid, apiBaseUrl: "https://a.example/?x=1" })).toBe(
      "twilio.apiBaseUrl",
    );
    expect(configPathOf({ ...valid, timeoutMs: 0 })).toBe("twilio.timeoutMs");
    expect(configPathOf({ ...valid, timeoutMs: 1.5 })).toBe("twilio.timeoutMs");
    expect(configPathOf({ ...valid, dispatcher: {} })).toBe("twilio.dispatcher");
    expect(configPathOf({ ...valid, from: "" })).toBe("twilio.from");
    expect(configPathOf({ authToken: "token" })).toBe("twilio.accountSid");
    expect(configPathOf(undefined)).toBe("twilio");
  });

  it("uses the configured path prefix", () => {
    expect(configPathOf({ ...valid, accountSid: "x" }, "providers.twilio")).toBe(
      "providers.twilio.accountSid",
    );
  });

  it("quotes the bad value", () => {
    expect(() => twilio({ ...valid, accountSid: "AC123" })).toThrow(
      /twilio\.accountSid: must be an Account SID.*"AC123"/,
    );
  });

  it("never echoes the token", () => {
    expect(() => twilio({ ...valid, authToken: " secret-token " })).not.toThrow(/secret-token/);
  });

  it("accepts valid options", async () => {
    const provider = twilio({
      ...valid,
      from: "+15005550006",
      messagingServiceSid: SERVICE_SID,
      apiBaseUrl: "http://127.0.0.1:1/prefix/",
      timeoutMs: 500,
    });

    expect(provider.name).toBe("twilio");
    expect(provider.accountSid).toBe(valid.accountSid);
    expect(provider.messagingServiceSid).toBe(SERVICE_SID);
    await provider.close();
  });

  it("keeps API path prefix", async () => {
    const api = await startFakeApi(() => ({ status: 201, json: { sid: "SM1", status: "queued" } }));
    const provider = twilio({ ...valid, from: "+15005550006", apiBaseUrl: `${api.url}/edge/` });

    cleanups.push(
      () => api.close(),
      () => provider.close(),
    );
    await provider.send({ to: "+14155550100", body: "hi" });

    expect(api.requests[0]?.path).toBe(
      `/edge/2010-04-01/Accounts/${valid.accountSid}/Messages.json`,
    );
  });
});
