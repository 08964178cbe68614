import { createHmac } from "node:crypto";
import { describe, expect, it } from "vitest";
import {
  type GenericHmacSignature,
  type GenericProviderOptions,
  generic,
} from "../providers/generic/index.js";
import { MemoryOptOutStore } from "../src/consent/memory.js";
import {
  isRecipientOptedOutError,
  isWebhookParseError,
  isWebhookVerificationError,
} from "../src/errors.js";
import { Gateway } from "../src/gateway/gateway.js";
import type { WebhookRequest } from "../src/provider.js";
import { signGenericRequest } from "../src/testing/generic.js";
import { withHeaders } from "../src/testing/webhook-request.js";

const URL_INBOUND = "https://sms.example.com/webhooks/acme/inbound";
const PERSON = "+14155550100";
const NUMBER = "+14155550199";

const SIGNATURE: GenericHmacSignature = {
  type: "hmac",
  secret: "shh",
  header: "x-signature",
  algorithm: "sha256",
  encoding: "hex",
  prefix: "sha256=",
  signed: "timestamp+body",
  timestampHeader: "x-timestamp",
};

function options(overrides: Partial<GenericProviderOptions> = {}): GenericProviderOptions {
  return {
    name: "acme",
    from: NUMBER,
    send: { url: "http://127.0.0.1:9/send", body: { to: "{{to}}" }, messageIdPath: "id" },
    webhooks: {
      inbound: { id: "id", from: "from", text: "text" },
      status: { id: "id", status: "status", errorCode: "code", to: "to" },
      optOutReport: { match: { field: "event", value: "stopped" }, from: "urn" },
      signature: SIGNATURE,
    },
    ...overrides,
  };
}

async function failure(promise: Promise<unknown>) {
  const error = await promise.then(
    () => undefined,
    (rejection: unknown) => rejection,
  );

  expect(isWebhookVerificationError(error)).toBe(true);

  return (error as { failure: string }).failure;
}

async function parseError(promise: Promise<unknown>): Promise<string> {
  const error = await promise.then(
    () => undefined,
    (rejection: unknown) => rejection,
  );

  expect(isWebhookParseError(error)).toBe(true);

  return (error as Error).message;
}

function signed(body: unknown, signature = SIGNATURE, url = URL_INBOUND): WebhookRequest {
  return signGenericRequest(signature, { url, body: body as Record<string, unknown> });
}

describe("generic signature", () => {
  it("accepts a signed request", async () => {
    const provider = generic(options());

    await expect(provider.verifyWebhook(signed({ id: "1" }))).resolves.toBeUndefined();
  });

  it("signs timestamp, separator and body", () => {
    const request = signed({ id: "1" }, { ...SIGNATURE, separator: "." });
    const timestamp = request.headers.get("x-timestamp");
    const expected = createHmac("sha256", "shh").update(`${timestamp}.{"id":"1"}`).digest("hex");

    expect(request.headers.get("x-signature")).toBe(`sha256=${expected}`);
  });

  it("accepts upper-case hex", async () => {
    const provider = generic(options());
    const request = signed({ id: "1" });
    const header = request.headers.get("x-signature") ?? "";
    const upper = `sha256=${header.slice("sha256=".length).toUpperCase()}`;

    await expect(
      provider.verifyWebhook(withHeaders(request, { "x-signature": upper })),
    ).resolves.toBeUndefined();
  });

  it("rejects a missing prefix", async () => {
    const provider = generic(options());
    const request = signed({ id: "1" });
    const bare = (request.headers.get("x-signature") ?? "").slice("sha256=".length);

    expect(
      await failure(provider.verifyWebhook(withHeaders(request, { "x-signature": bare }))),
    ).toBe("invalid-signature");
  });

  it("needs the timestamp header", async () => {
    const provider = generic(options());
    const request = signed({ id: "1" });

    request.headers.delete("x-timestamp");

    expect(await failure(provider.verifyWebhook(request))).toBe("missing-signature");
  });

  it("rejects a timestamp that is no number", async () => {
    const provider = generic(options());
    const request = withHeaders(signed({ id: "1" }), { "x-timestamp": "yesterday" });

    expect(await failure(provider.verifyWebhook(request))).toBe("stale-timestamp");
  });

  it("reads the clock option", async () => {
    const provider = generic({ ...options(), clock: () => Date.now() + 3_600_000 });

    expect(await failure(provider.verifyWebhook(signed({ id: "1" })))).toBe("stale-timestamp");
  });

  it("checks a base64 secret", async () => {
    const secret = Buffer.from([0, 255, 1, 254]).toString("base64");
    const signature = {
      ...SIGNATURE,
      secret,
      secretEncoding: "base64",
      signed: "body",
      encoding: "base64",
      prefix: "",
    } as const;
    const provider = generic({ ...options(), webhooks: { ...options().webhooks, signature } });
    const request = signed({ id: "1" }, signature);
    const expected = createHmac("sha256", Buffer.from([0, 255, 1, 254]))
      .update('{"id":"1"}')
      .digest("base64");

    expect(request.headers.get("x-signature")).toBe(expected);
    await expect(provider.verifyWebhook(request)).resolves.toBeUndefined();
  });

  it("accepts anything when insecure", async () => {
    const webhooks = {
      ...options().webhooks,
      signature: { type: "none", insecure: true } as const,
    };
    const provider = generic({ ...options(), webhooks });
    const request: WebhookRequest = {
      method: "POST",
      url: URL_INBOUND,
      headers: new Headers(),
      body: new Uint8Array(),
    };

    await expect(provider.verifyWebhook(request)).resolves.toBeUndefined();
  });
});

describe("generic webhook parsing", () => {
  it("uses the default sender as recipient", async () => {
    const provider = generic(options());
    const parsed = await provider.parseWebhook(
      signed({ id: "m1", from: PERSON, text: "hi" }),
      "inbound",
    );

    expect(parsed.inbound[0]?.to).toEqual({ kind: "e164", value: NUMBER, country: "US" });
    expect(parsed.inbound[0]?.from.value).toBe(PERSON);
  });

  it("identifies a report without id by its body", async () => {
    const provider = generic(options());
    const first = await provider.parseWebhook(signed({ event: "stopped", urn: PERSON }), "inbound");
    const again = await provider.parseWebhook(signed({ event: "stopped", urn: PERSON }), "inbound");
    const other = await provider.parseWebhook(signed({ event: "stopped", urn: NUMBER }), "inbound");

    expect(first.inbound[0]?.messageId).toMatch(/^body:[0-9a-f]{32}$/);
    expect(again.inbound[0]?.messageId).toBe(first.inbound[0]?.messageId);
    expect(other.inbound[0]?.messageId).not.toBe(first.inbound[0]?.messageId);
    expect(first.inbound[0]?.providerIntent).toBe("opt-out");
    expect(first.inbound[0]?.text).toBe("");
  });

  it("matches a report on the query", async () => {
    const report = {
      match: { field: "event", value: "stopped", in: "query" as const },
      from: "urn",
    };
    const webhooks = { ...options().webhooks, optOutReport: report };
    const provider = generic({ ...options(), webhooks });
    const url = `${URL_INBOUND}?event=stopped`;
    const parsed = await provider.parseWebhook(signed({ urn: PERSON }, SIGNATURE, url), "status");

    expect(parsed.reports).toEqual([]);
    expect(parsed.inbound[0]?.providerIntent).toBe("opt-out");
  });

  it("maps an unlisted error code to unknown", async () => {
    const provider = generic({ ...options(), errorCodes: { "9": "opted-out" } });
    const parsed = await provider.parseWebhook(
      signed({ id: "m2", status: "failed", code: 12, to: PERSON }),
      "status",
    );

    expect(parsed.reports[0]?.errorCode).toBe("12");
    expect(parsed.reports[0]?.reason).toBe("unknown");
    expect(parsed.reports[0]?.status).toBe("unknown");
  });

  it("reads the provider time", async () => {
    const inbound = { id: "id", from: "from", text: "text", time: "sent_at" };
    const provider = generic({ ...options(), webhooks: { ...options().webhooks, inbound } });
    const unix = await provider.parseWebhook(
      signed({ id: "m", from: PERSON, text: "x", sent_at: 1_700_000_000 }),
      "inbound",
    );
    const iso = await provider.parseWebhook(
      signed({ id: "m", from: PERSON, text: "x", sent_at: "2025-01-15T10:00:00Z" }),
      "inbound",
    );

    expect(unix.inbound[0]?.providerTime?.toISOString()).toBe("2023-11-14T22:13:20.000Z");
    expect(iso.inbound[0]?.providerTime?.toISOString()).toBe("2025-01-15T10:00:00.000Z");
  });

  it("rejects a route without mapping", async () => {
    const webhooks = { ...options().webhooks, status: undefined };
    const provider = generic({ ...options(), webhooks });

    expect(await parseError(provider.parseWebhook(signed({ id: "m" }), "status"))).toContain(
      "webhooks.status",
    );
  });

  it("rejects a text that is no string", async () => {
    const provider = generic(options());

    for (const text of [["STOP"], { word: "STOP" }]) {
      const request = signed({ id: "m1", from: PERSON, text });
      const message = await parseError(provider.parseWebhook(request, "inbound"));

      expect(message).toContain('as its text at "text"');
      expect(message).toContain("a string is expected");
    }
  });

  it("reads a null text as empty", async () => {
    const provider = generic(options());

    const parsed = await provider.parseWebhook(
      signed({ id: "m1", from: PERSON, text: null }),
      "inbound",
    );

    expect(parsed.inbound[0]?.text).toBe("");
  });

  it("rejects a body nested too deep", async () => {
    const provider = generic(options());
    const deep = `${'{"a":'.repeat(65)}1${"}".repeat(65)}`;
    const request = signGenericRequest(SIGNATURE, { url: URL_INBOUND, body: deep });

    expect(await parseError(provider.parseWebhook(request, "inbound"))).toContain("64 levels");
  });

  it("rejects a form body on a JSON config", async () => {
    const provider = generic(options());
    const request = signGenericRequest(SIGNATURE, {
      url: URL_INBOUND,
      body: "id=1",
      headers: { "content-type": "application/x-www-form-urlencoded" },
    });

    expect(await parseError(provider.parseWebhook(request, "inbound"))).toContain(
      "application/json",
    );
  });

  it("reads a GET query on a form config", async () => {
    const webhooks = { ...options().webhooks, format: "form" as const };
    const provider = generic({ ...options(), webhooks });
    const url = `${URL_INBOUND}?id=q1&from=${encodeURIComponent(PERSON)}&text=hi`;
    const request: WebhookRequest = {
      method: "GET",
      url,
      headers: new Headers(),
      body: new Uint8Array(),
    };
    const parsed = await provider.parseWebhook(request, "inbound");

    expect(parsed.inbound[0]?.messageId).toBe("q1");
    expect(parsed.inbound[0]?.text).toBe("hi");
  });

  it("answers with the configured response", () => {
    const response = { status: 202, contentType: "application/json", body: "{}" };
    const provider = generic({ ...options(), webhooks: { ...options().webhooks, response } });

    expect(provider.webhookResponse({ kind: "inbound", replyText: "Bye" })).toEqual({
      status: 202,
      headers: { "content-type": "application/json" },
      body: "{}",
    });
  });
});

describe("generic opt-out report through a gateway", () => {
  it("records the opt-out and blocks sends", async () => {
    const provider = generic(options());
    const store = new MemoryOptOutStore();
    const gateway = new Gateway({ providers: [provider], store, optOutScope: "sender" });
    const request = signed({ event: "stopped", urn: PERSON });

    const response = await gateway.handleWebhook("acme", request, { kind: "inbound" });
    const [event] = await store.history(PERSON);
    const error = await gateway.send({ to: PERSON, body: "Hello" }).catch((e: unknown) => e);

    expect(response.status).toBe(200);
    expect(event?.action).toBe("opt-out");
    expect(event?.source).toBe("provider-flag");
    expect(event?.sender).toBe(NUMBER);
    expect(event?.provider).toBe("acme");
    expect(isRecipientOptedOutError(error)).toBe(true);
  });
});
