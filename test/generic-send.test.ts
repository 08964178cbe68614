import { afterEach, describe, expect, it } from "vitest";
import {
  type GenericProviderOptions,
  type GenericSendOptions,
  generic,
} from "../providers/generic/index.js";
import { isProviderError, type ProviderError } from "../src/errors.js";
import { MAX_RESPONSE_BYTES } from "../src/http/request.js";
import { type FakeApi, type FakeResponse, startFakeApi } from "../src/testing/fake-api.js";
import { expectOversizedRefusal, expectStreamingTimeout } from "./helpers/bounded-response.js";
import {
  type StreamedResponse,
  type StreamingServer,
  startStreamingServer,
} from "./helpers/streaming-server.js";

const cleanups: Array<() => Promise<void>> = [];

afterEach(async () => {
  while (cleanups.length > 0) {
    await cleanups.pop()?.();
  }
});

async function setup(respond: () => FakeResponse, send: Partial<GenericSendOptions> = {}) {
  const api = await startFakeApi(respond);
  const options: GenericProviderOptions = {
    from: "+14155550199",
    send: {
      url: `${api.url}/send`,
      body: { to: "{{to}}", text: "{{body}}" },
      messageIdPath: "data.id",
      errorCodePath: "error.code",
      errors: [{ code: "STOPPED", reason: "opted-out" }],
      ...send,
    },
    webhooks: {
      inbound: { from: "from", text: "text" },
      signature: { type: "none", insecure: true },
    },
  };
  const provider = generic(options);

  cleanups.push(async () => {
    await provider.close();
    await api.close();
  });

  return { api, provider };
}

async function streamingSetup(
  response: StreamedResponse,
  send: Partial<GenericSendOptions> = {},
): Promise<{ server: StreamingServer; provider: ReturnType<typeof generic> }> {
  const server = await startStreamingServer(response);
  const provider = generic({
    name: "acme",
    from: "+14155550199",
    send: {
      url: `${server.url}/send`,
      body: { to: "{{to}}", text: "{{body}}" },
      messageIdPath: "data.id",
      ...send,
    },
    webhooks: {
      inbound: { from: "from", text: "text" },
      signature: { type: "none", insecure: true },
    },
  });

  cleanups.push(async () => {
    await provider.close();
    await server.close();
  });

  return { server, provider };
}

const MESSAGE = { to: "+14155550100", body: "Hello" };

async function refusal(promise: Promise<unknown>): Promise<ProviderError> {
  const error = await promise.then(
    () => undefined,
    (rejection: unknown) => rejection,
  );

  expect(isProviderError(error)).toBe(true);

  return error as ProviderError;
}

describe("generic send", () => {
  it("reads the id and sender", async () => {
    const { provider } = await setup(() => ({ status: 201, json: { data: { id: 42 } } }));

    const result = await provider.send(MESSAGE);

    expect(result.messageId).toBe("42");
    expect(result.status).toBe("accepted");
    expect(result.from).toBe("+14155550199");
  });

  it("rejects a 2xx with an error code", async () => {
    const respond = () => ({ status: 200, json: { error: { code: "STOPPED" } } });
    const { provider } = await setup(respond);

    const error = await refusal(provider.send(MESSAGE));

    expect(error.reason).toBe("opted-out");
    expect(error.providerCode).toBe("STOPPED");
    expect(error.httpStatus).toBe(200);
  });

  it("treats a 2xx without an id as unknown", async () => {
    const { provider } = await setup(() => ({ status: 200, json: { data: {} } }));

    const error = await refusal(provider.send(MESSAGE));

    expect(error.reason).toBe("unknown");
    expect(error.rawBody).toBe('{"data":{}}');
    expect(error.message).toContain('"data.id"');
  });

  it("treats a 2xx that is not JSON as unknown", async () => {
    const { provider } = await setup(() => ({ status: 200, body: "OK" }));

    const error = await refusal(provider.send(MESSAGE));

    expect(error.reason).toBe("unknown");
  });

  it("maps HTTP statuses without a rule", async () => {
    const cases: Array<[number, string]> = [
      [401, "auth"],
      [403, "auth"],
      [429, "rate-limited"],
      [408, "transient"],
      [503, "transient"],
      [400, "unknown"],
      [302, "unknown"],
    ];

    for (const [status, reason] of cases) {
      const { provider } = await setup(() => ({ status, json: { error: { code: "OTHER" } } }));
      const error = await refusal(provider.send(MESSAGE));

      expect(error.reason, `HTTP ${status}`).toBe(reason);
      expect(error.providerCode, `HTTP ${status}`).toBe("OTHER");
    }
  });

  it("tries rules in order", async () => {
    const errors = [
      { status: 422, code: "BAD", reason: "invalid-recipient" as const },
      { status: 422, reason: "content-filtered" as const },
    ];
    const bad = await setup(() => ({ status: 422, json: { error: { code: "BAD" } } }), { errors });
    const other = await setup(() => ({ status: 422, json: { error: { code: "X" } } }), { errors });

    expect((await refusal(bad.provider.send(MESSAGE))).reason).toBe("invalid-recipient");
    expect((await refusal(other.provider.send(MESSAGE))).reason).toBe("content-filtered");
  });

  it("reads a code at the rule's path", async () => {
    const errors = [{ codePath: "errors.0.code", code: 40300, reason: "opted-out" as const }];
    const respond = () => ({ status: 400, json: { errors: [{ code: 40300 }] } });
    const { provider } = await setup(respond, { errors, errorCodePath: undefined });

    const error = await refusal(provider.send(MESSAGE));

    expect(error.reason).toBe("opted-out");
    expect(error.providerCode).toBe("40300");
  });

  it("times out as transient", async () => {
    const { provider } = await setup(() => ({ status: 200, delayMs: 500, json: {} }), {
      timeoutMs: 20,
    });

    const error = await refusal(provider.send(MESSAGE));

    expect(error.reason).toBe("transient");
    expect(error.message).toContain("timed out after 20 ms");
  });

  it("treats a dropped connection as transient", async () => {
    const { provider } = await setup(() => ({ status: 200, destroyConnection: true }));

    const error = await refusal(provider.send(MESSAGE));

    expect(error.reason).toBe("transient");
  });

  it("aborts an oversized response", async () => {
    const { server, provider } = await streamingSetup({
      status: 200,
      headers: { "content-type": "application/json" },
      bytes: 4 * MAX_RESPONSE_BYTES,
    });

    const error = await refusal(provider.send(MESSAGE));
    const close = await server.connectionClosed;

    expectOversizedRefusal(error, close, { provider: "acme", label: "acme" });
  });

  it("times out a response that keeps streaming", async () => {
    const { server, provider } = await streamingSetup(
      { status: 200, bytes: 64 * 1024, chunkBytes: 1024, intervalMs: 20 },
      { timeoutMs: 150 },
    );
    const started = performance.now();

    const error = await refusal(provider.send(MESSAGE));
    const elapsedMs = performance.now() - started;
    const close = await server.connectionClosed;

    expectStreamingTimeout(error, close, elapsedMs, "acme");
  });

  it("rejects media without a request", async () => {
    const { api, provider } = await setup(() => ({ status: 200, json: { data: { id: "1" } } }));

    const error = await refusal(provider.send({ ...MESSAGE, mediaUrls: ["https://x.test/a"] }));

    expect(error.reason).toBe("sender-config");
    expect(api.requests).toHaveLength(0);
  });

  it("sends a custom auth header", async () => {
    const { api, provider } = await setup(() => ({ status: 200, json: { data: { id: "1" } } }), {
      auth: { type: "header", name: "X-Api-Key", value: "k-123" },
    });

    await provider.send(MESSAGE);

    expect(api.requests[0]?.headers["x-api-key"]).toBe("k-123");
    expect(api.requests[0]?.headers.authorization).toBeUndefined();
  });

  it("maps the response status", async () => {
    const respond = () => ({ status: 200, json: { data: { id: "1", state: "Sent" } } });
    const api: FakeApi = await startFakeApi(respond);
    const provider = generic({
      from: "+14155550199",
      send: {
        url: `${api.url}/send`,
        body: { to: "{{to}}" },
        messageIdPath: "data.id",
        statusPath: "data.state",
      },
      webhooks: {
        inbound: { from: "from", text: "text" },
        signature: { type: "none", insecure: true },
      },
      statuses: { sent: "sent" },
    });

    cleanups.push(async () => {
      await provider.close();
      await api.close();
    });

    expect((await provider.send(MESSAGE)).status).toBe("sent");
  });

  it("rejects sends after close", async () => {
    const { provider } = await setup(() => ({ status: 200, json: { data: { id: "1" } } }));

    await provider.close();
    const error = await refusal(provider.send(MESSAGE));

    expect(error.reason).toBe("unknown");
    expect(error.message).toContain("closed");
  });
});
