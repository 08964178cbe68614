import { generateKeyPairSync, verify } from "node:crypto";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { Agent } from "undici";
import { afterEach, describe, expect, it } from "vitest";
import {
  buildVonageSmsForm,
  computeVonageSignature,
  mapVonageErrorResponse,
  resolveVonageOptions,
  type VonageOptions,
  type VonageProvider,
  vonage,
  vonageSmsStatusReason,
  vonageSmsStatusReasons,
} from "../providers/vonage/index.js";
import {
  type ConfigError,
  isConfigError,
  isInvalidRequestError,
  isProviderError,
  type ProviderError,
} from "../src/errors.js";
import { MAX_RESPONSE_BYTES } from "../src/http/request.js";
import type { FakeResponse } from "../src/testing/fake-api.js";
import {
  type FakeVonageApi,
  type FakeVonageApiOptions,
  startFakeVonageApi,
} from "../src/testing/fake-vonage.js";
import { expectOversizedRefusal, expectStreamingTimeout } from "./helpers/bounded-response.js";
import {
  type StreamedResponse,
  type StreamingServer,
  startStreamingServer,
} from "./helpers/streaming-server.js";

const cleanups: Array<() => Promise<void>> = [];
const { privateKey, publicKey } = generateKeyPairSync("rsa", { modulusLength: 2048 });
const PRIVATE_PEM = privateKey.export({ type: "pkcs8", format: "pem" }).toString();
const PUBLIC_PEM = publicKey.export({ type: "spki", format: "pem" }).toString();
const APPLICATION_ID = "aaaaaaaa-bbbb-cccc-dddd-0123456789ab";

afterEach(async () => {
  while (cleanups.length > 0) {
    await cleanups.pop()?.();
  }
});

async function setup(
  options: Partial<VonageOptions> = {},
  fake: FakeVonageApiOptions = {},
): Promise<{ api: FakeVonageApi; provider: VonageProvider }> {
  const api = await startFakeVonageApi({
    publicKey: PUBLIC_PEM,
    applicationId: APPLICATION_ID,
    ...fake,
  });
  const provider = vonage({
    apiKey: api.apiKey,
    apiSecret: api.apiSecret,
    apiBaseUrl: api.url,
    from: "+12025550100",
    ...options,
  });

  cleanups.push(
    () => api.close(),
    () => provider.close(),
  );

  return { api, provider };
}

async function sendFailure(
  provider: VonageProvider,
  message: Parameters<VonageProvider["send"]>[0],
) {
  const error = await provider.send(message).then(
    (result) => new Error(`expected a ProviderError, got ${JSON.stringify(result)}`),
    (caught: unknown) => caught,
  );

  if (!isProviderError(error)) {
    throw error;
  }

  return error as ProviderError;
}

function configFailure(options: unknown, path?: string): ConfigError {
  try {
    resolveVonageOptions(options as VonageOptions, path);
  } catch (error) {
    if (isConfigError(error)) {
      return error;
    }

    throw error;
  }

  throw new Error("expected a ConfigError");
}

function jwtParts(authorization: string | undefined) {
  const token = /^Bearer (.+)$/.exec(authorization ?? "")?.[1] ?? "";
  const [header, payload, signature] = token.split(".") as [string, string, string];
  const decode = (part: string) => JSON.parse(Buffer.from(part, "base64url").toString("utf8"));

  return {
    token,
    header: decode(header),
    claims: decode(payload),
    signature,
    signed: `${header}.${payload}`,
  };
}

async function streamingSetup(
  response: StreamedResponse,
  options: Partial<VonageOptions> = {},
): Promise<{ server: StreamingServer; provider: VonageProvider }> {
  const server = await startStreamingServer(response);
  const provider = vonage({
    apiKey: "k",
    apiSecret: "s",
    from: "AcmeInc",
    apiBaseUrl: server.url,
    ...options,
  });

  cleanups.push(
    () => server.close(),
    () => provider.close(),
  );

  return { server, provider };
}

async function closedPortUrl(): Promise<string> {
  const server = createServer();

  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));

  const { port } = server.address() as AddressInfo;

  await new Promise<void>((resolve) => server.close(() => resolve()));

  return `http://127.0.0.1:${port}`;
}

describe("Vonage options", () => {
  it("applies defaults", () => {
    const sms = resolveVonageOptions({ apiKey: "k", apiSecret: "s", from: "14155550100" });
    const messages = resolveVonageOptions({ apiKey: "k", apiSecret: "s", api: "messages" });

    expect(sms.apiBaseUrl).toBe("https://rest.nexmo.com");
    expect(messages.apiBaseUrl).toBe("https://api.nexmo.com");
    expect(sms.signatureMethod).toBe("md5hash");
    expect(sms.signatureToleranceSeconds).toBe(300);
    expect(sms.timeoutMs).toBe(15_000);
    expect(sms.signedRequests).toBe(false);
    expect(sms.from).toBe("+14155550100");
    expect(sms.optOutErrorCodes).toEqual([]);
  });

  it("uses one base URL override", () => {
    const sms = resolveVonageOptions({
      apiKey: "k",
      apiSecret: "s",
      apiBaseUrl: "http://127.0.0.1:9/",
    });
    const messages = resolveVonageOptions({
      apiKey: "k",
      apiSecret: "s",
      api: "messages",
      apiBaseUrl: "http://127.0.0.1:9",
    });

    expect(sms.apiBaseUrl).toBe("http://127.0.0.1:9");
    expect(messages.apiBaseUrl).toBe("http://127.0.0.1:9");
  });

  it("keeps sender IDs and short codes", () => {
    expect(resolveVonageOptions({ apiKey: "k", apiSecret: "s", from: "AcmeInc" }).from).toBe(
      "AcmeInc",
    );
    expect(resolveVonageOptions({ apiKey: "k", apiSecret: "s", from: "88888" }).from).toBe("88888");
  });

  it("names the missing credential", () => {
    expect(configFailure({ apiSecret: "s" }).path).toBe("vonage.apiKey");
    expect(configFailure({ apiKey: "k" }).path).toBe("vonage.apiSecret");
    expect(configFailure({ apiKey: "k", signedRequests: true }).path).toBe(
      "vonage.signatureSecret",
    );
    expect(configFailure({ api: "messages" }).path).toBe("vonage.apiKey");
    expect(configFailure({ api: "messages", apiKey: "k" }).path).toBe("vonage.apiSecret");
    expect(configFailure({ apiKey: "k", apiSecret: "s", applicationId: APPLICATION_ID }).path).toBe(
      "vonage.privateKey",
    );
    expect(configFailure({ apiKey: "k", apiSecret: "s", privateKey: PRIVATE_PEM }).path).toBe(
      "vonage.applicationId",
    );
  });

  it("accepts signed and JWT setups", () => {
    const signed = resolveVonageOptions({
      apiKey: "k",
      signatureSecret: "x",
      signedRequests: true,
    });
    const jwt = resolveVonageOptions({
      api: "messages",
      applicationId: APPLICATION_ID,
      privateKey: PRIVATE_PEM,
    });

    expect(signed.apiSecret).toBeUndefined();
    expect(jwt.privateKey?.asymmetricKeyType).toBe("rsa");
  });

  it("rejects invalid values", () => {
    const base = { apiKey: "k", apiSecret: "s" };
    const { privateKey: edKey } = generateKeyPairSync("ed25519");
    const edPem = edKey.export({ type: "pkcs8", format: "pem" }).toString();
    const cases: Array<[Record<string, unknown>, string, RegExp]> = [
      [{ signatureMethod: "sha384" }, "vonage.signatureMethod", /md5hash, md5, sha1/],
      [{ api: "rest" }, "vonage.api", /"sms" or "messages"/],
      [{ apiBaseUrl: "ftp://x" }, "vonage.apiBaseUrl", /http or https/],
      [{ apiBaseUrl: "https://x/?a=1" }, "vonage.apiBaseUrl", /without query/],
      [{ timeoutMs: 0 }, "vonage.timeoutMs", /at least 1/],
      [{ signatureToleranceSeconds: 1.5 }, "vonage.signatureToleranceSeconds", /whole number/],
      [{ signatureToleranceSeconds: 100_000 }, "vonage.signatureToleranceSeconds", /at most/],
      [{ from: "0123456789" }, "vonage.from", /country code/],
      [{ apiSecret: " s" }, "vonage.apiSecret", /whitespace/],
      [{ apiKey: "" }, "vonage.apiKey", /empty/],
      [{ privateKey: "not a key", applicationId: "a" }, "vonage.privateKey", /PEM/],
      [{ privateKey: edPem, applicationId: "a" }, "vonage.privateKey", /RSA/],
      [{ optOutErrorCodes: ["STOP"] }, "vonage.optOutErrorCodes.0", /numeric/],
      [{ clock: 5 }, "vonage.clock", /function/],
      [{ signedRequests: "yes" }, "vonage.signedRequests", /true or false/],
    ];

    for (const [change, path, message] of cases) {
      const error = configFailure({ ...base, ...change });

      expect(error.path, JSON.stringify(change)).toBe(path);
      expect(error.message, JSON.stringify(change)).toMatch(message);
    }
  });

  it("rejects a non-object", () => {
    expect(configFailure(null).path).toBe("vonage");
  });

  it("uses the config path prefix", () => {
    const error = configFailure({ apiSecret: "s" }, "providers.vonage");

    expect(error.path).toBe("providers.vonage.apiKey");
    expect(error.message).toMatch(/^providers\.vonage\.apiKey: /);
  });
});

describe("SMS API send", () => {
  it("sends the documented form", async () => {
    const { api, provider } = await setup();
    const result = await provider.send({ to: "+14155550123", body: "Hello & welcome" });
    const request = api.requests[0];

    expect(request?.method).toBe("POST");
    expect(request?.path).toBe("/sms/json");
    expect(request?.headers["content-type"]).toMatch(/^application\/x-www-form-urlencoded/);
    expect(request?.form).toEqual([
      ["api_key", api.apiKey],
      ["api_secret", api.apiSecret],
      ["from", "12025550100"],
      ["to", "14155550123"],
      ["text", "Hello & welcome"],
    ]);
    expect(result.provider).toBe("vonage");
    expect(result.messageId).toMatch(/^[0-9A-F]{16}$/);
    expect(result.messageId).toBe(api.messages[0]?.id);
    expect(result.status).toBe("accepted");
    expect(result.to).toBe("+14155550123");
    expect(result.from).toBe("12025550100");
    expect(result.segments).toBe(1);
    expect((result.raw as { "message-count": string })["message-count"]).toBe("1");
  });

  it("sets unicode type", async () => {
    const { api, provider } = await setup();

    for (const body of ["こんにちは", "Thanks 😀", "Garçon"]) {
      await provider.send({ to: "+14155550123", body });
    }

    expect(api.messages.map((message) => message.encoding)).toEqual([
      "unicode",
      "unicode",
      "unicode",
    ]);
    expect(api.requests[0]?.form).toContainEqual(["type", "unicode"]);
  });

  it("keeps GSM extension as text", async () => {
    const { api, provider } = await setup();

    await provider.send({ to: "+14155550123", body: "Price: 5€ [promo] {x} ~ ^ | \\" });

    expect(api.requests[0]?.form.some(([name]) => name === "type")).toBe(false);
  });

  it("sets callback and client-ref", async () => {
    const { api, provider } = await setup();

    await provider.send({
      to: "+14155550123",
      body: "hi",
      statusCallbackUrl: "https://sms.example.com/webhooks/vonage/status?x=1&y=2",
      clientRef: "order-42",
    });

    expect(api.messages[0]?.callback).toBe(
      "https://sms.example.com/webhooks/vonage/status?x=1&y=2",
    );
    expect(api.messages[0]?.clientRef).toBe("order-42");
    expect(api.requests[0]?.form.slice(-2)).toEqual([
      ["callback", "https://sms.example.com/webhooks/vonage/status?x=1&y=2"],
      ["client-ref", "order-42"],
    ]);
  });

  it("message from wins", async () => {
    const { api, provider } = await setup();

    await provider.send({ to: "+14155550123", from: "AcmeInc", body: "hi" });

    expect(api.messages[0]?.from).toBe("AcmeInc");
  });

  it("needs a sender", async () => {
    const { api, provider } = await setup({ from: undefined });
    const error = await sendFailure(provider, { to: "+14155550123", body: "hi" });

    expect(error.reason).toBe("sender-config");
    expect(api.requests).toHaveLength(0);
  });

  it("rejects unreachable recipients locally", async () => {
    const { api, provider } = await setup();

    for (const to of ["55501", "+12", "whatsapp:+14155550123", "+1234567890123456"]) {
      const error = await sendFailure(provider, { to, body: "hi" });

      expect(error.reason, to).toBe("invalid-recipient");
    }

    expect(api.requests).toHaveLength(0);
  });

  it("rejects media and long clientRef", async () => {
    const { api, provider } = await setup();
    const media = await provider
      .send({ to: "+14155550123", body: "hi", mediaUrls: ["https://x/a.png"] })
      .catch((caught: unknown) => caught);
    const reference = await provider
      .send({ to: "+14155550123", body: "hi", clientRef: "r".repeat(41) })
      .catch((caught: unknown) => caught);

    expect(isInvalidRequestError(media)).toBe(true);
    expect(isInvalidRequestError(reference)).toBe(true);
    expect(api.requests).toHaveLength(0);
  });

  it("reports multipart segments", async () => {
    const { api, provider } = await setup();
    const result = await provider.send({ to: "+14155550123", body: "a".repeat(307) });
    const raw = result.raw as { messages: Array<{ "message-id": string }> };

    expect(result.segments).toBe(3);
    expect(raw.messages).toHaveLength(3);
    expect(result.messageId).toBe(raw.messages[0]?.["message-id"]);
    expect(api.messages[0]?.id).toBe(result.messageId);
  });

  it("maps every status code", async () => {
    const expected: Record<string, string> = {
      1: "rate-limited",
      2: "unknown",
      3: "unknown",
      4: "auth",
      5: "transient",
      6: "invalid-recipient",
      7: "invalid-recipient",
      8: "sender-config",
      9: "sender-config",
      10: "transient",
      11: "sender-config",
      12: "unknown",
      14: "auth",
      15: "sender-config",
      22: "unroutable",
      23: "unknown",
      29: "sender-config",
      32: "auth",
      33: "invalid-recipient",
      101: "sender-config",
      77: "unknown",
    };
    const smsStatuses = Object.fromEntries(
      Object.keys(expected).map((status, index) => [
        `1415555${String(index).padStart(4, "0")}`,
        status,
      ]),
    );
    const { api, provider } = await setup({}, { smsStatuses });

    for (const [to, status] of Object.entries(smsStatuses)) {
      const error = await sendFailure(provider, { to: `+${to}`, body: "hi" });

      expect(error.reason, `status ${status}`).toBe(expected[status]);
      expect(error.providerCode).toBe(status);
      expect(error.httpStatus).toBe(200);
      expect(error.provider).toBe("vonage");
      expect(error.message).toContain(`status ${status}`);
      expect(JSON.parse(error.rawBody ?? "{}").messages[0].status).toBe(status);
    }

    expect(api.messages).toHaveLength(0);
  });

  it("maps tables without opt-out", () => {
    expect(Object.values(vonageSmsStatusReasons)).not.toContain("opted-out");
    expect(vonageSmsStatusReason(7)).toBe("invalid-recipient");
    expect(vonageSmsStatusReason(" 15 ")).toBe("sender-config");
    expect(vonageSmsStatusReason("constructor")).toBe("unknown");
  });

  it("fails on partial multipart refusal", async () => {
    const { api, provider } = await setup({}, { smsStatuses: { 14155550123: ["0", "1", "0"] } });
    const error = await sendFailure(provider, { to: "+14155550123", body: "a".repeat(400) });
    const raw = JSON.parse(error.rawBody ?? "{}") as { messages: Array<{ status: string }> };

    expect(error.reason).toBe("rate-limited");
    expect(error.providerCode).toBe("1");
    expect(error.message).toContain("part 2 of 3 has status 1 (Throttled)");
    expect(error.message).toContain("2 of 3 parts were accepted");
    expect(raw.messages.map((part) => part.status)).toEqual(["0", "1", "0"]);
    expect(api.messages).toHaveLength(0);
  });

  it("fails on wrong credentials", async () => {
    const { provider } = await setup({ apiSecret: "wrong" });
    const error = await sendFailure(provider, { to: "+14155550123", body: "hi" });

    expect(error.reason).toBe("auth");
    expect(error.providerCode).toBe("4");
    expect(error.message).toContain("Bad Credentials");
  });

  it("reads numeric status values", async () => {
    const respond = (): FakeResponse => ({
      status: 200,
      json: {
        "message-count": 2,
        messages: [
          { "message-id": "M1", status: 0 },
          { "message-id": "M2", status: 0 },
        ],
      },
    });
    const { provider } = await setup({}, { respond });
    const result = await provider.send({ to: "+14155550123", body: "hi" });

    expect(result.messageId).toBe("M1");
    expect(result.segments).toBe(2);
  });

  it("maps HTTP errors", async () => {
    const cases: Array<[FakeResponse, string]> = [
      [
        {
          status: 401,
          json: {
            type: "https://developer.nexmo.com/api-errors/#unauthorized",
            title: "Unauthorized",
          },
        },
        "auth",
      ],
      [{ status: 429, body: "Too Many Requests" }, "rate-limited"],
      [{ status: 500, body: "oops" }, "transient"],
      [{ status: 503, json: { title: "Service Unavailable" } }, "transient"],
      [{ status: 404, body: "" }, "unknown"],
    ];

    for (const [response, reason] of cases) {
      const { provider } = await setup({}, { respond: () => response });
      const error = await sendFailure(provider, { to: "+14155550123", body: "hi" });

      expect(error.reason, String(response.status)).toBe(reason);
      expect(error.httpStatus).toBe(response.status);
    }
  });

  it("reports unreadable success bodies", async () => {
    const bodies: FakeResponse[] = [
      { status: 200, body: "<html>" },
      { status: 200, json: { "message-count": "0", messages: [] } },
      { status: 200, json: { messages: [{ status: "0" }] } },
      { status: 200, json: [1] },
    ];

    for (const response of bodies) {
      const { provider } = await setup({}, { respond: () => response });
      const error = await sendFailure(provider, { to: "+14155550123", body: "hi" });

      expect(error.reason).toBe("unknown");
      expect(error.message).toContain("Check the Vonage dashboard");
    }
  });

  it("treats missing part status as refusal", async () => {
    const respond = (): FakeResponse => ({
      status: 200,
      json: { messages: [{ "message-id": "M1" }] },
    });
    const { provider } = await setup({}, { respond });
    const error = await sendFailure(provider, { to: "+14155550123", body: "hi" });

    expect(error.reason).toBe("unknown");
    expect(error.providerCode).toBe("missing");
  });

  it("signs requests", async () => {
    const now = 1_746_100_800_000;
    const signatureSecret = "signing-secret";
    const { api, provider } = await setup(
      {
        apiSecret: undefined,
        signedRequests: true,
        signatureSecret,
        signatureMethod: "sha256",
        clock: () => now,
      },
      { signatureSecret, signatureMethod: "sha256" },
    );

    await provider.send({ to: "+14155550123", body: "Stop & go = fine" });

    const form = api.requests[0]?.form ?? [];
    const sig = form.find(([name]) => name === "sig")?.[1];

    expect(form.some(([name]) => name === "api_secret")).toBe(false);
    expect(form).toContainEqual(["timestamp", "1746100800"]);
    expect(sig).toBe(computeVonageSignature(form, signatureSecret, "sha256"));
    expect(form.filter(([name]) => name === "text")).toHaveLength(1);
    expect(api.messages).toHaveLength(1);
  });

  it("fails on wrong signing secret", async () => {
    const { provider } = await setup(
      { apiSecret: undefined, signedRequests: true, signatureSecret: "wrong" },
      { signatureSecret: "right" },
    );
    const error = await sendFailure(provider, { to: "+14155550123", body: "hi" });

    expect(error.reason).toBe("auth");
    expect(error.providerCode).toBe("14");
  });

  it("builds form for the clock", () => {
    const options = resolveVonageOptions({
      apiKey: "k",
      signatureSecret: "x",
      signedRequests: true,
      from: "AcmeInc",
    });
    const form = buildVonageSmsForm(options, { to: "+14155550123", body: "hi" }, 1_000_999);

    expect(form.map(([name]) => name)).toEqual([
      "api_key",
      "from",
      "to",
      "text",
      "timestamp",
      "sig",
    ]);
    expect(form[4]).toEqual(["timestamp", "1000"]);
  });

  it("reports refused connection", async () => {
    const provider = vonage({
      apiKey: "k",
      apiSecret: "s",
      from: "AcmeInc",
      apiBaseUrl: await closedPortUrl(),
    });

    cleanups.push(() => provider.close());

    const error = await sendFailure(provider, { to: "+14155550123", body: "hi" });

    expect(error.reason).toBe("transient");
    expect(error.message).toContain("failed");
  });

  it("reports timeout", async () => {
    const { provider } = await setup(
      { timeoutMs: 50 },
      { respond: () => ({ status: 200, json: {}, delayMs: 1000 }) },
    );
    const error = await sendFailure(provider, { to: "+14155550123", body: "hi" });

    expect(error.reason).toBe("transient");
    expect(error.message).toContain("timed out after 50 ms");
  });

  it("reports dropped connection", async () => {
    const { provider } = await setup(
      {},
      { respond: () => ({ status: 200, destroyConnection: true }) },
    );
    const error = await sendFailure(provider, { to: "+14155550123", body: "hi" });

    expect(error.reason).toBe("transient");
  });

  it("aborts an oversized response", async () => {
    const { server, provider } = await streamingSetup({
      status: 200,
      headers: { "content-type": "application/json" },
      bytes: 4 * MAX_RESPONSE_BYTES,
    });
    const error = await sendFailure(provider, { to: "+14155550123", body: "hi" });
    const close = await server.connectionClosed;

    expectOversizedRefusal(error, close, { provider: "vonage", label: "Vonage" });
  });

  it("times out a response that keeps streaming", async () => {
    const { server, provider } = await streamingSetup(
      { status: 200, bytes: 64 * 1024, chunkBytes: 1024, intervalMs: 20 },
      { timeoutMs: 150 },
    );
    const started = performance.now();
    const error = await sendFailure(provider, { to: "+14155550123", body: "hi" });
    const elapsedMs = performance.now() - started;
    const close = await server.connectionClosed;

    expectStreamingTimeout(error, close, elapsedMs, "Vonage");
  });
});

describe("Messages API send", () => {
  it("sends with Basic auth", async () => {
    const { api, provider } = await setup({ api: "messages" });
    const result = await provider.send({ to: "+14155550123", body: "Hello" });
    const request = api.requests[0];
    const basic = `Basic ${Buffer.from(`${api.apiKey}:${api.apiSecret}`).toString("base64")}`;

    expect(request?.path).toBe("/v1/messages");
    expect(request?.headers.authorization).toBe(basic);
    expect(request?.headers["content-type"]).toBe("application/json");
    expect(JSON.parse(request?.body ?? "")).toEqual({
      message_type: "text",
      channel: "sms",
      to: "14155550123",
      from: "12025550100",
      text: "Hello",
      sms: { encoding_type: "text" },
    });
    expect(result.messageId).toBe(api.messages[0]?.id);
    expect(result.status).toBe("accepted");
    expect(result.from).toBe("12025550100");
    expect(result.segments).toBeUndefined();
  });

  it("sends verifiable JWT", async () => {
    const now = Date.now();
    const { api, provider } = await setup({
      api: "messages",
      apiKey: undefined,
      apiSecret: undefined,
      applicationId: APPLICATION_ID,
      privateKey: PRIVATE_PEM,
      clock: () => now,
    });

    await provider.send({ to: "+14155550123", body: "Hello" });
    await provider.send({ to: "+14155550123", body: "Again" });

    const first = jwtParts(api.requests[0]?.headers.authorization);
    const second = jwtParts(api.requests[1]?.headers.authorization);
    const signature = Buffer.from(first.signature, "base64url");

    expect(first.header).toEqual({ alg: "RS256", typ: "JWT" });
    expect(verify("sha256", Buffer.from(first.signed), publicKey, signature)).toBe(true);
    expect(first.claims.application_id).toBe(APPLICATION_ID);
    expect(first.claims.iat).toBe(Math.floor(now / 1000));
    expect(first.claims.exp).toBe(first.claims.iat + 900);
    expect(first.claims.jti).toMatch(/^[0-9a-f-]{36}$/);
    expect(second.claims.jti).not.toBe(first.claims.jti);
    expect(api.messages).toHaveLength(2);
  });

  it("rejects JWT of another key", async () => {
    const other = generateKeyPairSync("rsa", { modulusLength: 2048 }).privateKey;
    const { provider } = await setup({
      api: "messages",
      applicationId: APPLICATION_ID,
      privateKey: other.export({ type: "pkcs8", format: "pem" }).toString(),
    });
    const error = await sendFailure(provider, { to: "+14155550123", body: "hi" });

    expect(error.reason).toBe("auth");
    expect(error.httpStatus).toBe(401);
  });

  it("sets unicode, webhook and reference", async () => {
    const { api, provider } = await setup({ api: "messages" });

    await provider.send({
      to: "+14155550123",
      body: "停止 😀",
      statusCallbackUrl: "https://sms.example.com/webhooks/vonage/status",
      clientRef: "order-7",
    });

    const body = JSON.parse(api.requests[0]?.body ?? "{}");

    expect(body.sms).toEqual({ encoding_type: "unicode" });
    expect(body.webhook_url).toBe("https://sms.example.com/webhooks/vonage/status");
    expect(body.client_ref).toBe("order-7");
    expect(api.messages[0]?.encoding).toBe("unicode");
  });

  it("maps problem responses", async () => {
    const olympus = "https://developer.nexmo.com/api-errors/messages-olympus";
    const cases: Array<[FakeResponse, string, string | undefined]> = [
      [
        {
          status: 422,
          json: {
            type: `${olympus}#1020`,
            title: "Invalid params",
            detail: "The value of one or more parameters is invalid.",
            invalid_parameters: [{ name: "to", reason: "Invalid number" }],
          },
        },
        "invalid-recipient",
        "1020",
      ],
      [
        { status: 422, json: { type: `${olympus}#1050`, title: "Number barred" } },
        "invalid-recipient",
        "1050",
      ],
      [
        { status: 422, json: { type: `${olympus}#1120`, title: "Invalid sender" } },
        "sender-config",
        "1120",
      ],
      [
        { status: 422, json: { type: `${olympus}#1160`, title: "Non White-listed Destination" } },
        "sender-config",
        "1160",
      ],
      [
        { status: 422, json: { type: `${olympus}#1020`, detail: "The `to` field is invalid" } },
        "invalid-recipient",
        "1020",
      ],
      [
        { status: 422, json: { type: `${olympus}#1090`, title: "Message too long" } },
        "unknown",
        "1090",
      ],
      [
        { status: 429, json: { type: `${olympus}#1010`, title: "Rate Limit Hit" } },
        "rate-limited",
        "1010",
      ],
      [
        { status: 401, json: { type: "https://developer.nexmo.com/api-errors/#unathorized" } },
        "auth",
        "unathorized",
      ],
      [
        { status: 403, json: { type: "https://developer.nexmo.com/api-errors/#low-balance" } },
        "sender-config",
        "low-balance",
      ],
      [{ status: 403, json: { title: "Forbidden" } }, "auth", undefined],
      [
        { status: 500, json: { type: `${olympus}#1030`, title: "Internal error" } },
        "transient",
        "1030",
      ],
      [{ status: 502, body: "<html>Bad gateway</html>" }, "transient", undefined],
      [
        { status: 400, json: { type: "https://developer.nexmo.com/api-errors/#invalid-json" } },
        "unknown",
        "invalid-json",
      ],
    ];

    for (const [response, reason, code] of cases) {
      const { provider } = await setup({ api: "messages" }, { respond: () => response });
      const error = await sendFailure(provider, { to: "+14155550123", body: "hi" });
      const label = JSON.stringify(response.json ?? response.body);

      expect(error.reason, label).toBe(reason);
      expect(error.providerCode, label).toBe(code);
      expect(error.httpStatus).toBe(response.status);
    }
  });

  it("keeps instance as request ID", async () => {
    const respond = (): FakeResponse => ({
      status: 422,
      json: {
        type: "x#1120",
        title: "Invalid sender",
        detail: "From 14155550123 is not allowed",
        instance: "trace-1",
      },
    });
    const { provider } = await setup({ api: "messages" }, { respond });
    const error = await sendFailure(provider, { to: "+14155550123", body: "hi" });

    expect(error.requestId).toBe("trace-1");
    expect(error.message).not.toContain("14155550123");
    expect(error.rawBody).toContain("14155550123");
  });

  it("maps configured opt-out code", async () => {
    const respond = (): FakeResponse => ({
      status: 422,
      json: { type: "x#1330", title: "Opted out" },
    });
    const { provider } = await setup({ api: "messages", optOutErrorCodes: ["1330"] }, { respond });
    const error = await sendFailure(provider, { to: "+14155550123", body: "hi" });

    expect(error.reason).toBe("opted-out");
    expect(error.providerCode).toBe("1330");
  });

  it("reports missing message_uuid", async () => {
    const { provider } = await setup(
      { api: "messages" },
      { respond: () => ({ status: 202, json: {} }) },
    );
    const error = await sendFailure(provider, { to: "+14155550123", body: "hi" });

    expect(error.reason).toBe("unknown");
    expect(error.httpStatus).toBe(202);
  });

  it("reports refused connection", async () => {
    const provider = vonage({
      api: "messages",
      apiKey: "k",
      apiSecret: "s",
      from: "AcmeInc",
      apiBaseUrl: await closedPortUrl(),
    });

    cleanups.push(() => provider.close());

    expect((await sendFailure(provider, { to: "+14155550123", body: "hi" })).reason).toBe(
      "transient",
    );
  });

  it("aborts an oversized response", async () => {
    const { server, provider } = await streamingSetup(
      {
        status: 202,
        headers: { "content-type": "application/json" },
        bytes: 4 * MAX_RESPONSE_BYTES,
      },
      { api: "messages" },
    );
    const error = await sendFailure(provider, { to: "+14155550123", body: "hi" });
    const close = await server.connectionClosed;

    expect(error.reason).toBe("transient");
    expect(error.message).toContain(`longer than ${MAX_RESPONSE_BYTES} bytes`);
    expect((error.cause as { code?: string }).code).toBe("UND_ERR_RES_EXCEEDED_MAX_SIZE");
    expect(close.finished).toBe(false);
  });
});

describe("mapVonageErrorResponse", () => {
  it("reads non-JSON bodies", () => {
    const error = mapVonageErrorResponse(418, "teapot");

    expect(error.reason).toBe("unknown");
    expect(error.message).toContain("HTTP 418");
    expect(error.rawBody).toBe("teapot");
  });

  it("lets HTTP status win", () => {
    expect(mapVonageErrorResponse(429, JSON.stringify({ type: "x#1120" })).reason).toBe(
      "rate-limited",
    );
    expect(mapVonageErrorResponse(401, JSON.stringify({ type: "x#1000" })).reason).toBe("auth");
    expect(mapVonageErrorResponse(503, JSON.stringify({ type: "x#1050" })).reason).toBe(
      "transient",
    );
  });
});

describe("VonageProvider", () => {
  it("scopes consent by sender", async () => {
    const provider = vonage({ apiKey: "k", apiSecret: "s", from: "12025550100" });

    cleanups.push(() => provider.close());

    expect(provider.defaultSender).toBe("+12025550100");
    expect(provider.consentScopes({ to: "+14155550123", body: "hi" })).toEqual(["+12025550100"]);
    expect(provider.consentScopes({ to: "+14155550123", from: "14155550100", body: "hi" })).toEqual(
      ["+14155550100"],
    );
    expect(provider.consentScopes({ to: "+14155550123", from: "AcmeInc", body: "hi" })).toEqual([
      "AcmeInc",
    ]);
  });

  it("has no scope without sender", async () => {
    const provider = vonage({ apiKey: "k", apiSecret: "s" });

    cleanups.push(() => provider.close());

    expect(provider.consentScopes({ to: "+14155550123", body: "hi" })).toEqual([]);
  });

  it("refuses sends after close", async () => {
    const { api, provider } = await setup();

    await provider.close();

    const error = await sendFailure(provider, { to: "+14155550123", body: "hi" });

    expect(error.message).toContain("closed");
    expect(api.requests).toHaveLength(0);
    expect(provider.close()).toBe(provider.close());
  });

  it("leaves a given dispatcher open", async () => {
    const agent = new Agent();
    const { api, provider } = await setup({ dispatcher: agent });

    await provider.send({ to: "+14155550123", body: "one" });
    await provider.close();

    const other = vonage({
      apiKey: api.apiKey,
      apiSecret: api.apiSecret,
      apiBaseUrl: api.url,
      from: "AcmeInc",
      dispatcher: agent,
    });

    await expect(other.send({ to: "+14155550123", body: "two" })).resolves.toMatchObject({
      status: "accepted",
    });
    await agent.close();
  });
});
