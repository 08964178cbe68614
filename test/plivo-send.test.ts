import { Agent } from "undici";
import { afterEach, describe, expect, it } from "vitest";
import {
  buildPlivoMessageBody,
  mapPlivoErrorResponse,
  type PlivoOptions,
  type PlivoProvider,
  plivo,
  resolvePlivoOptions,
} from "../providers/plivo/index.js";
import { isConfigError, isProviderError, type ProviderError } from "../src/errors.js";
import { MAX_RESPONSE_BYTES } from "../src/http/request.js";
import type { OutboundMessage } from "../src/provider.js";
import { type FakeResponse, startFakeApi } from "../src/testing/fake-api.js";
import {
  type FakePlivoApi,
  type FakePlivoApiOptions,
  startFakePlivoApi,
} from "../src/testing/fake-plivo.js";
import { expectOversizedRefusal, expectStreamingTimeout } from "./helpers/bounded-response.js";
import {
  type StreamedResponse,
  type StreamingServer,
  startStreamingServer,
} from "./helpers/streaming-server.js";

const FROM = "+14155550199";
const TO = "+14155550100";
const cleanups: Array<() => Promise<void>> = [];

afterEach(async () => {
  while (cleanups.length > 0) {
    await cleanups.pop()?.();
  }
});

async function setup(
  options: Partial<PlivoOptions> = {},
  respond?: FakePlivoApiOptions["respond"],
): Promise<{ api: FakePlivoApi; provider: PlivoProvider }> {
  const api = await startFakePlivoApi({ respond });
  const provider = plivo({
    authId: api.authId,
    authToken: api.authToken,
    apiBaseUrl: api.url,
    from: FROM,
    ...options,
  });

  cleanups.push(
    () => api.close(),
    () => provider.close(),
  );

  return { api, provider };
}

async function streamingSetup(
  response: StreamedResponse,
  options: Partial<PlivoOptions> = {},
): Promise<{ server: StreamingServer; provider: PlivoProvider }> {
  const server = await startStreamingServer(response);
  const provider = plivo({
    authId: "MAXXXXXXXXXXXXXXXXXX",
    authToken: "token",
    apiBaseUrl: server.url,
    from: FROM,
    ...options,
  });

  cleanups.push(
    () => server.close(),
    () => provider.close(),
  );

  return { server, provider };
}

async function respondWith(response: FakeResponse) {
  return setup({}, () => response);
}

async function sendFailure(provider: PlivoProvider, message: OutboundMessage) {
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
  it("sends JSON to Message API", async () => {
    const { api, provider } = await setup();
    const result = await provider.send({ to: TO, body: "Hello & welcome" });
    const request = api.requests[0];

    expect(result.provider).toBe("plivo");
    expect(result.messageId).toBe(api.messages[0]?.messageUuid);
    expect(result.messageId).toMatch(/^[0-9a-f-]{36}$/);
    expect(result.status).toBe("queued");
    expect(result.to).toBe(TO);
    expect(result.from).toBe(FROM);
    expect(result.segments).toBeUndefined();
    expect((result.raw as { message_uuid: string[] }).message_uuid).toEqual([result.messageId]);
    expect(request?.method).toBe("POST");
    expect(request?.path).toBe(`/v1/Account/${api.authId}/Message/`);
    expect(request?.headers["content-type"]).toMatch(/^application\/json/);
    expect(JSON.parse(request?.body ?? "")).toEqual({
      src: "14155550199",
      dst: "14155550100",
      text: "Hello & welcome",
      type: "sms",
    });
  });

  it("sends Basic auth header", async () => {
    const { api, provider } = await setup();

    await provider.send({ to: TO, body: "hi" });

    expect(api.requests[0]?.headers.authorization).toBe(basic(api.authId, api.authToken));
  });

  it("sets status callback url", async () => {
    const { api, provider } = await setup();
    const statusCallbackUrl = "https://sms.example.com/webhooks/plivo/status";

    await provider.send({ to: TO, body: "hi", statusCallbackUrl });

    expect(api.messages[0]?.url).toBe(statusCallbackUrl);
    expect(api.messages[0]?.method).toBe("POST");
  });

  it("message from wins", async () => {
    const { api, provider } = await setup();
    const result = await provider.send({ to: TO, from: "14155550111", body: "hi" });

    expect(api.messages[0]?.src).toBe("14155550111");
    expect(result.from).toBe("+14155550111");
  });

  it("accepts digit-form configured from", async () => {
    const { api, provider } = await setup({ from: "14155550199" });

    await provider.send({ to: TO, body: "hi" });

    expect(api.messages[0]?.src).toBe("14155550199");
    expect(provider.defaultSender).toBe(FROM);
  });

  it("keeps alphanumeric sender", async () => {
    const { api, provider } = await setup({ from: "ACME" });
    const result = await provider.send({ to: "+447400123456", body: "hi" });

    expect(api.messages[0]?.src).toBe("ACME");
    expect(api.messages[0]?.dst).toBe("447400123456");
    expect(result.from).toBe("ACME");
  });

  it("sends media as MMS", async () => {
    const { api, provider } = await setup();
    const mediaUrls = ["https://cdn.example/a.jpg?x=1&y=2"];

    await provider.send({ to: TO, body: "look", mediaUrls });

    expect(api.messages[0]?.type).toBe("mms");
    expect(api.messages[0]?.mediaUrls).toEqual(mediaUrls);
  });

  it("takes the first message_uuid", async () => {
    const { provider } = await respondWith({
      status: 202,
      json: { api_id: "a-1", message: "message(s) queued", message_uuid: ["u-1", "u-2"] },
    });

    expect((await provider.send({ to: TO, body: "hi" })).messageId).toBe("u-1");
  });

  it("reuses keep-alive connections", async () => {
    const { api, provider } = await setup();

    for (let count = 0; count < 6; count += 1) {
      await provider.send({ to: TO, body: `message ${count}` });
    }

    const ports = new Set(api.requests.map((request) => request.remotePort));

    expect(api.messages).toHaveLength(6);
    expect(ports.size).toBeLessThan(6);
  });

  it("uses injected dispatcher", async () => {
    const agent = new Agent();
    const { api, provider } = await setup({ dispatcher: agent });

    cleanups.push(() => agent.close());
    await provider.send({ to: TO, body: "hi" });
    await provider.close();

    expect(agent.closed).toBe(false);
    expect(api.messages).toHaveLength(1);
  });
});

describe("send refusals", () => {
  it("maps invalid_number list", async () => {
    const { api, provider } = await respondWith({
      status: 202,
      json: {
        api_id: "api-7",
        message: "message(s) queued",
        message_uuid: [],
        invalid_number: ["14155550100"],
      },
    });
    const error = await sendFailure(provider, { to: TO, body: "hi" });

    expect(error.reason).toBe("invalid-recipient");
    expect(error.httpStatus).toBe(202);
    expect(error.requestId).toBe("api-7");
    expect(error.rawBody).toContain("invalid_number");
    expect(error.message).not.toContain("14155550100");
    expect(api.requests).toHaveLength(1);
  });

  it("maps fake invalid destination", async () => {
    const { api, provider } = await setup();
    const error = await sendFailure(provider, { to: "0555", body: "hi" });

    expect(error.reason).toBe("invalid-recipient");
    expect(error.httpStatus).toBe(400);
    expect(api.requests).toHaveLength(1);
    expect(api.messages).toHaveLength(0);
  });

  it("maps 400 invalid phone numbers", async () => {
    const { provider } = await respondWith({
      status: 400,
      json: { api_id: "api-8", error: "invalid phone numbers." },
    });
    const error = await sendFailure(provider, { to: TO, body: "hi" });

    expect(error.reason).toBe("invalid-recipient");
    expect(error.httpStatus).toBe(400);
    expect(error.requestId).toBe("api-8");
    expect(error.message).toContain("invalid phone numbers.");
  });

  it("maps quoted invalid recipient", async () => {
    const { provider } = await respondWith({
      status: 400,
      json: { api_id: "api-9", error: "'14155550100' is not a valid phone number." },
    });
    const error = await sendFailure(provider, { to: TO, body: "hi" });

    expect(error.reason).toBe("invalid-recipient");
    expect(error.message).not.toContain("14155550100");
    expect(error.message).toContain("1***0100");
  });

  it("maps quoted invalid sender", async () => {
    const { provider } = await respondWith({
      status: 400,
      json: { api_id: "api-10", error: "'14155550199' is not a valid phone number." },
    });

    expect((await sendFailure(provider, { to: TO, body: "hi" })).reason).toBe("sender-config");
  });

  it("maps 401 to auth", async () => {
    const { provider } = await setup({ authToken: "wrong-token" });
    const error = await sendFailure(provider, { to: TO, body: "hi" });

    expect(error.reason).toBe("auth");
    expect(error.httpStatus).toBe(401);
    expect(error.message).toContain("authentication failed");
  });

  it("maps 403 responses", async () => {
    const geo = await respondWith({
      status: 403,
      json: { error: "destination country is not enabled in Geo Permissions" },
    });
    const forbidden = await respondWith({ status: 403, json: { error: "forbidden" } });

    expect((await sendFailure(geo.provider, { to: TO, body: "hi" })).reason).toBe("unroutable");
    expect((await sendFailure(forbidden.provider, { to: TO, body: "hi" })).reason).toBe("auth");
  });

  it("maps 429 to rate-limited", async () => {
    const { provider } = await respondWith({
      status: 429,
      json: { api_id: "a", error: "too many requests" },
    });
    const error = await sendFailure(provider, { to: TO, body: "hi" });

    expect(error.reason).toBe("rate-limited");
    expect(error.httpStatus).toBe(429);
  });

  it("maps 5xx to transient", async () => {
    for (const status of [500, 502, 503, 504]) {
      const { provider } = await respondWith({ status, json: { error: "server error" } });
      const error = await sendFailure(provider, { to: TO, body: "hi" });

      expect(error.reason).toBe("transient");
      expect(error.httpStatus).toBe(status);
    }
  });

  it("maps other statuses to unknown", async () => {
    for (const status of [400, 404, 405, 409, 422]) {
      const { provider } = await respondWith({ status, json: { error: "something else" } });
      const error = await sendFailure(provider, { to: TO, body: "hi" });

      expect(error.reason).toBe("unknown");
      expect(error.httpStatus).toBe(status);
    }
  });

  it("maps insufficient credit", async () => {
    const { provider } = await respondWith({
      status: 400,
      json: { error: "Insufficient credit to send the message" },
    });

    expect((await sendFailure(provider, { to: TO, body: "hi" })).reason).toBe("sender-config");
  });

  it("maps non-JSON error body", async () => {
    const html = "<html><body>502 Bad Gateway</body></html>";
    const { provider } = await respondWith({
      status: 502,
      headers: { "content-type": "text/html" },
      body: html,
    });
    const error = await sendFailure(provider, { to: TO, body: "hi" });

    expect(error.reason).toBe("transient");
    expect(error.rawBody).toBe(html);
    expect(error.requestId).toBeUndefined();
    expect(error.message).toMatch(/HTTP 502/);
  });

  it("maps 202 garbage to unknown", async () => {
    const bodies = ["<Response>not json</Response>", "", "null", "[]", '{"message_uuid":[1]}'];

    for (const body of bodies) {
      const { provider } = await respondWith({ status: 202, body });
      const error = await sendFailure(provider, { to: TO, body: "hi" });

      expect(error.reason).toBe("unknown");
      expect(error.httpStatus).toBe(202);
      expect(error.rawBody).toBe(body);
    }
  });

  it("refuses 200 as success", async () => {
    const { provider } = await respondWith({
      status: 200,
      json: { api_id: "a", message: "message(s) queued", message_uuid: ["u-1"] },
    });

    expect((await sendFailure(provider, { to: TO, body: "hi" })).reason).toBe("unknown");
  });

  it("rejects list recipients locally", async () => {
    const { api, provider } = await setup();

    for (const to of [`${TO}<14155550111`, "14155550100", "", "+1 415 555 0100"]) {
      const error = await sendFailure(provider, { to, body: "hi" });

      expect(error.reason).toBe("invalid-recipient");
    }

    expect(api.requests).toHaveLength(0);
  });

  it("rejects invalid message from", async () => {
    const { api, provider } = await setup();

    for (const from of ["not a sender!", "MG0123456789abcdef0123456789abcdef", "whatsapp:+1"]) {
      expect((await sendFailure(provider, { to: TO, from, body: "hi" })).reason).toBe(
        "sender-config",
      );
    }

    expect(api.requests).toHaveLength(0);
  });
});

describe("send network failures", () => {
  it("maps refused connection to transient", async () => {
    const api = await startFakePlivoApi();
    const provider = plivo({
      authId: api.authId,
      authToken: api.authToken,
      apiBaseUrl: api.url,
      from: FROM,
    });

    cleanups.push(() => provider.close());
    await api.close();

    const error = await sendFailure(provider, { to: TO, body: "hi" });

    expect(error.reason).toBe("transient");
    expect(error.cause).toBeInstanceOf(Error);
    expect(error.httpStatus).toBeUndefined();
  });

  it("maps dropped connection to transient", async () => {
    const { provider } = await respondWith({ status: 202, destroyConnection: true });
    const error = await sendFailure(provider, { to: TO, body: "hi" });

    expect(error.reason).toBe("transient");
    expect(error.cause).toBeDefined();
  });

  it("maps timeout to transient", async () => {
    const { provider } = await setup({ timeoutMs: 100 }, () => ({
      status: 202,
      json: { message_uuid: ["u-1"] },
      delayMs: 1000,
    }));
    const error = await sendFailure(provider, { to: TO, body: "hi" });

    expect(error.reason).toBe("transient");
    expect(error.message).toMatch(/timed out after 100 ms/);
  });

  it("aborts an oversized response", async () => {
    const { server, provider } = await streamingSetup({
      status: 202,
      headers: { "content-type": "application/json" },
      bytes: 4 * MAX_RESPONSE_BYTES,
    });
    const error = await sendFailure(provider, { to: TO, body: "hi" });
    const close = await server.connectionClosed;

    expectOversizedRefusal(error, close, { provider: "plivo", label: "Plivo" });
  });

  it("times out a response that keeps streaming", async () => {
    const { server, provider } = await streamingSetup(
      { status: 202, bytes: 64 * 1024, chunkBytes: 1024, intervalMs: 20 },
      { timeoutMs: 150 },
    );
    const started = performance.now();
    const error = await sendFailure(provider, { to: TO, body: "hi" });
    const elapsedMs = performance.now() - started;
    const close = await server.connectionClosed;

    expectStreamingTimeout(error, close, elapsedMs, "Plivo");
  });

  it("rejects send after close", async () => {
    const { api, provider } = await setup();

    await provider.close();
    await provider.close();

    const error = await sendFailure(provider, { to: TO, body: "hi" });

    expect(error.message).toMatch(/closed/);
    expect(api.requests).toHaveLength(0);
  });
});

describe("mapPlivoErrorResponse", () => {
  it("keeps body and request id", () => {
    const raw = JSON.stringify({ api_id: "api-1", error: "'4155550100' is not valid" });
    const error = mapPlivoErrorResponse(400, raw);

    expect(error.provider).toBe("plivo");
    expect(error.requestId).toBe("api-1");
    expect(error.rawBody).toBe(raw);
    expect(error.reason).toBe("unknown");
    expect(error.message).not.toContain("4155550100");
  });

  it("reads object error fields", () => {
    const raw = JSON.stringify({ error: { dst: ["invalid phone number"] } });

    expect(mapPlivoErrorResponse(400, raw).reason).toBe("invalid-recipient");
  });

  it("handles non-object JSON", () => {
    for (const raw of ["", "null", "[1]", '"text"', "{"]) {
      const error = mapPlivoErrorResponse(503, raw);

      expect(error.reason).toBe("transient");
      expect(error.rawBody).toBe(raw);
    }
  });
});

describe("consent scopes", () => {
  const options = { authId: "MAABCDEFGHIJ12345678", authToken: "t" };

  it("scopes to the configured sender", async () => {
    const provider = plivo({ ...options, from: "14155550199" });

    cleanups.push(() => provider.close());

    expect(provider.defaultSender).toBe("+14155550199");
    expect(provider.consentScopes({ to: TO, body: "hi" })).toEqual(["+14155550199"]);
  });

  it("scopes to the message sender", async () => {
    const provider = plivo({ ...options, from: FROM });

    cleanups.push(() => provider.close());

    expect(provider.consentScopes({ to: TO, from: "14155550111", body: "x" })).toEqual([
      "+14155550111",
    ]);
    expect(provider.consentScopes({ to: TO, from: "55501", body: "x" })).toEqual(["55501"]);
    expect(provider.consentScopes({ to: TO, from: "bad sender!", body: "x" })).toEqual([
      "bad sender!",
    ]);
  });
});

describe("Plivo options", () => {
  const valid = { authId: "MAABCDEFGHIJ12345678", authToken: "token", from: FROM };

  function configPathOf(options: unknown, configPath?: string): string {
    try {
      resolvePlivoOptions(options as PlivoOptions, configPath);
    } catch (error) {
      if (isConfigError(error)) {
        return error.path;
      }

      throw error;
    }

    return "";
  }

  it("names the invalid option", () => {
    expect(configPathOf({ ...valid, authId: "MA123" })).toBe("plivo.authId");
    expect(configPathOf({ ...valid, authId: "AC0123456789012345678" })).toBe("plivo.authId");
    expect(configPathOf({ ...valid, authToken: "" })).toBe("plivo.authToken");
    expect(configPathOf({ ...valid, authToken: " token" })).toBe("plivo.authToken");
    expect(configPathOf({ ...valid, from: "" })).toBe("plivo.from");
    expect(configPathOf({ ...valid, from: "0123" })).toBe("");
    expect(configPathOf({ ...valid, from: "04155550199" })).toBe("plivo.from");
    expect(configPathOf({ ...valid, from: "whatsapp:+14155550199" })).toBe("plivo.from");
    expect(configPathOf({ ...valid, apiBaseUrl: "ftp://api.example" })).toBe("plivo.apiBaseUrl");
    expect(configPathOf({ ...valid, apiBaseUrl: "https://a.example/?x=1" })).toBe(
      "plivo.apiBaseUrl",
    );
    expect(configPathOf({ ...valid, timeoutMs: 0 })).toBe("plivo.timeoutMs");
    expect(configPathOf({ ...valid, timeoutMs: 1.5 })).toBe("plivo.timeoutMs");
    expect(configPathOf({ ...valid, dispatcher: {} })).toBe("plivo.dispatcher");
    expect(configPathOf({ ...valid, mainAccountAuthToken: "" })).toBe("plivo.mainAccountAuthToken");
    expect(configPathOf({ ...valid, requireV3Signature: "yes" })).toBe("plivo.requireV3Signature");
    expect(configPathOf({ authToken: "token", from: FROM })).toBe("plivo.authId");
    expect(configPathOf({ authId: valid.authId, authToken: "token" })).toBe("plivo.from");
    expect(configPathOf(undefined)).toBe("plivo");
  });

  it("uses the configured path prefix", () => {
    expect(configPathOf({ ...valid, authId: "x" }, "providers.plivo")).toBe(
      "providers.plivo.authId",
    );
  });

  it("quotes the bad value", () => {
    expect(() => resolvePlivoOptions({ ...valid, authId: "MA123" })).toThrow(
      /plivo\.authId: must be a Plivo Auth ID.*"MA123"/,
    );
    expect(() => resolvePlivoOptions({ ...valid, from: "04155550199" })).toThrow(
      /plivo\.from: .*"04155550199"/,
    );
  });

  it("never echoes the token", () => {
    expect(() => resolvePlivoOptions({ ...valid, authToken: " secret-token " })).not.toThrow(
      /secret-token/,
    );
  });

  it("applies defaults", () => {
    const resolved = resolvePlivoOptions({ ...valid, from: "14155550199" });

    expect(resolved.apiBaseUrl).toBe("https://api.plivo.com");
    expect(resolved.timeoutMs).toBe(15_000);
    expect(resolved.from).toBe("+14155550199");
    expect(resolved.mainAccountAuthToken).toBeUndefined();
    expect(resolved.requireV3Signature).toBe(false);
  });

  it("builds body without a network", () => {
    const resolved = resolvePlivoOptions(valid);

    expect(buildPlivoMessageBody(resolved, { to: "55501", body: "x" })).toEqual({
      src: "14155550199",
      dst: "55501",
      text: "x",
      type: "sms",
    });
  });

  it("keeps API path prefix", async () => {
    const api = await startFakeApi(() => ({ status: 202, json: { message_uuid: ["u-1"] } }));
    const provider = plivo({ ...valid, apiBaseUrl: `${api.url}/edge/` });

    cleanups.push(
      () => api.close(),
      () => provider.close(),
    );
    await provider.send({ to: TO, body: "hi" });

    expect(api.requests[0]?.path).toBe(`/edge/v1/Account/${valid.authId}/Message/`);
  });
});
