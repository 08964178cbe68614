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
  maskPhoneNumbers,
} from "../src/errors.js";
import { Gateway } from "../src/gateway/gateway.js";
import type { WebhookRequest } from "../src/provider.js";
import { signGenericRequest } from "../src/testing/generic.js";
import { withHeaders, withoutHeaders, withUrl } from "../src/testing/webhook-request.js";

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

  it("gives each report without id a new id", async () => {
    const provider = generic(options());
    const first = await provider.parseWebhook(signed({ event: "stopped", urn: PERSON }), "inbound");
    const again = await provider.parseWebhook(signed({ event: "stopped", urn: PERSON }), "inbound");
    const other = await provider.parseWebhook(signed({ event: "stopped", urn: NUMBER }), "inbound");
    const firstId = first.inbound[0]?.messageId ?? "";
    const againId = again.inbound[0]?.messageId ?? "";
    const hashPart = (id: string) => id.split(":")[1];

    expect(firstId).toMatch(/^body:h[0-9a-f]{32}:t[0-9a-z]+:r[0-9a-f]{16}$/);
    expect(maskPhoneNumbers(firstId)).toBe(firstId);
    expect(againId).not.toBe(firstId);
    expect(hashPart(againId)).toBe(hashPart(firstId));
    expect(hashPart(other.inbound[0]?.messageId ?? "")).not.toBe(hashPart(firstId));
    expect(Number.parseInt(firstId.split(":")[2]?.slice(1) ?? "", 36)).toBe(
      first.inbound[0]?.receivedAt.getTime(),
    );
    expect(first.inbound[0]?.providerIntent).toBe("opt-out");
    expect(first.inbound[0]?.text).toBe("");
  });

  it("matches a report on the query", async () => {
    const report = {
      match: { field: "event", value: "stopped", in: "query" as const },
      from: "urn",
    };
    const signature: GenericHmacSignature = { ...SIGNATURE, signed: "url+body" };
    const webhooks = { ...options().webhooks, optOutReport: report, signature };
    const provider = generic({ ...options(), webhooks });
    const url = `${URL_INBOUND}?event=stopped`;
    const parsed = await provider.parseWebhook(signed({ urn: PERSON }, signature, url), "status");

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

describe("generic GET webhooks", () => {
  const formWebhooks = { ...options().webhooks, format: "form" as const };
  const query = `?id=g1&from=${encodeURIComponent(PERSON)}&text=STOP`;
  const bodySigned = { ...SIGNATURE, signed: "body", prefix: "" } as const;
  const urlSigned = { ...SIGNATURE, signed: "url+body", prefix: "" } as const;

  function formProvider(signature: GenericHmacSignature) {
    return generic({ ...options(), webhooks: { ...formWebhooks, signature } });
  }

  function signedGet(signature: GenericHmacSignature, url = `${URL_INBOUND}${query}`) {
    return signGenericRequest(signature, { method: "GET", url, body: "" });
  }

  async function verificationMessage(promise: Promise<unknown>): Promise<string> {
    const error = await promise.then(
      () => undefined,
      (rejection: unknown) => rejection,
    );

    expect(isWebhookVerificationError(error)).toBe(true);

    return (error as Error).message;
  }

  it("rejects the empty-body signature", async () => {
    const provider = formProvider(bodySigned);
    const request = signedGet(bodySigned);
    const emptyBodyHmac = createHmac("sha256", "shh").update("").digest("hex");

    expect(request.headers.get("x-signature")).toBe(emptyBodyHmac);
    expect(await failure(provider.verifyWebhook(request))).toBe("invalid-signature");
  });

  it("names the option in the rejection", async () => {
    const provider = formProvider(bodySigned);
    const message = await verificationMessage(provider.verifyWebhook(signedGet(bodySigned)));

    expect(message).toContain("GET webhooks need a signature over the URL");
    expect(message).toContain('webhooks.signature.signed is "body"');
    expect(message).toContain('signed: "url+body"');
    expect(message).not.toContain(PERSON);
    expect(message).not.toContain(encodeURIComponent(PERSON));
  });

  it("rejects timestamp+body signing", async () => {
    const provider = formProvider(SIGNATURE);
    const request = signedGet(SIGNATURE);
    const message = await verificationMessage(provider.verifyWebhook(request));

    expect(await failure(provider.verifyWebhook(request))).toBe("invalid-signature");
    expect(message).toContain('webhooks.signature.signed is "timestamp+body"');
  });

  it("rejects HEAD and lower-case get", async () => {
    const provider = formProvider(bodySigned);

    for (const method of ["GET", "get", "HEAD"]) {
      const request = { ...signedGet(bodySigned), method };

      expect(await failure(provider.verifyWebhook(request))).toBe("invalid-signature");
    }
  });

  it("rejects an unsigned GET", async () => {
    const provider = formProvider(bodySigned);
    const request = withoutHeaders(signedGet(bodySigned), "x-signature");

    expect(await failure(provider.verifyWebhook(request))).toBe("invalid-signature");
  });

  it("rejects a GET on a JSON config", async () => {
    const provider = generic({
      ...options(),
      webhooks: { ...options().webhooks, signature: bodySigned },
    });

    expect(await failure(provider.verifyWebhook(signedGet(bodySigned)))).toBe("invalid-signature");
  });

  it("accepts a signature over the URL", async () => {
    const provider = formProvider(urlSigned);
    const request = signedGet(urlSigned);
    const expected = createHmac("sha256", "shh").update(`${URL_INBOUND}${query}`).digest("hex");
    const parsed = await provider.parseWebhook(request, "inbound");

    expect(request.headers.get("x-signature")).toBe(expected);
    await expect(provider.verifyWebhook(request)).resolves.toBeUndefined();
    expect(parsed.inbound[0]?.messageId).toBe("g1");
    expect(parsed.inbound[0]?.text).toBe("STOP");
  });

  it("rejects a changed query under url+body", async () => {
    const provider = formProvider(urlSigned);
    const signedRequest = signedGet(urlSigned);
    const otherQuery = signedRequest.url.replace("text=STOP", "text=START");

    expect(otherQuery).not.toBe(signedRequest.url);
    expect(await failure(provider.verifyWebhook(withUrl(signedRequest, otherQuery)))).toBe(
      "invalid-signature",
    );
  });

  it("keeps POST bodies under body signing", async () => {
    const form = formProvider(bodySigned);
    const formRequest = signGenericRequest(bodySigned, {
      url: URL_INBOUND,
      body: `id=p1&from=${encodeURIComponent(PERSON)}&text=STOP`,
      headers: { "content-type": "application/x-www-form-urlencoded" },
    });
    const json = generic({
      ...options(),
      webhooks: { ...options().webhooks, signature: bodySigned },
    });
    const jsonRequest = signed({ id: "p2", from: PERSON, text: "STOP" }, bodySigned);

    await expect(form.verifyWebhook(formRequest)).resolves.toBeUndefined();
    await expect(json.verifyWebhook(jsonRequest)).resolves.toBeUndefined();
    expect((await form.parseWebhook(formRequest, "inbound")).inbound[0]?.messageId).toBe("p1");
    expect((await json.parseWebhook(jsonRequest, "inbound")).inbound[0]?.messageId).toBe("p2");
  });

  it("keeps POST bodies under timestamp+body", async () => {
    const provider = formProvider(SIGNATURE);
    const request = signGenericRequest(SIGNATURE, {
      url: URL_INBOUND,
      body: `id=p3&from=${encodeURIComponent(PERSON)}&text=STOP`,
      headers: { "content-type": "application/x-www-form-urlencoded" },
    });

    await expect(provider.verifyWebhook(request)).resolves.toBeUndefined();
  });

  it("explains a GET on a JSON config", async () => {
    const provider = generic({
      ...options(),
      webhooks: { ...options().webhooks, signature: urlSigned },
    });
    const request = signedGet(urlSigned);
    const message = await parseError(provider.parseWebhook(request, "inbound"));

    await expect(provider.verifyWebhook(request)).resolves.toBeUndefined();
    expect(message).toContain("acme inbound webhook is a GET request without a body");
    expect(message).toContain("fields in the URL's query");
    expect(message).toContain('only webhooks.format "form" reads');
    expect(message).not.toContain("not valid JSON");
  });
});

describe("generic GET webhooks through a gateway", () => {
  const inbound = { from: "from", text: "text" };
  const url = `${URL_INBOUND}?from=${encodeURIComponent(PERSON)}&text=STOP`;

  function formGateway(signature: GenericHmacSignature) {
    const webhooks = { ...options().webhooks, format: "form" as const, inbound, signature };
    const store = new MemoryOptOutStore();
    const gateway = new Gateway({ providers: [generic({ ...options(), webhooks })], store });

    return { gateway, store };
  }

  function answerMessage(body: string): string {
    return (JSON.parse(body) as { message: string }).message;
  }

  it("records nothing for a body signature", async () => {
    const signature = { ...SIGNATURE, signed: "body", prefix: "" } as const;
    const { gateway, store } = formGateway(signature);
    const request = signGenericRequest(signature, { method: "GET", url, body: "" });

    const response = await gateway.handleWebhook("acme", request, { kind: "inbound" });

    expect(response.status).toBe(403);
    expect(answerMessage(response.body)).toContain('signed: "url+body"');
    expect(await store.history(PERSON)).toEqual([]);
    expect(await store.isOptedOut(PERSON)).toBe(false);
  });

  it("records a URL-signed opt-out", async () => {
    const signature = { ...SIGNATURE, signed: "url+body", prefix: "" } as const;
    const { gateway, store } = formGateway(signature);
    const request = signGenericRequest(signature, { method: "GET", url, body: "" });

    const response = await gateway.handleWebhook("acme", request, { kind: "inbound" });

    expect(response.status).toBe(200);
    expect((await store.history(PERSON)).map((event) => event.action)).toEqual(["opt-out"]);
    expect(await store.isOptedOut(PERSON)).toBe(true);
  });

  it("answers 400 for a JSON config", async () => {
    const signature = { ...SIGNATURE, signed: "url+body", prefix: "" } as const;
    const webhooks = { ...options().webhooks, inbound, signature };
    const store = new MemoryOptOutStore();
    const gateway = new Gateway({ providers: [generic({ ...options(), webhooks })], store });
    const request = signGenericRequest(signature, { method: "GET", url, body: "" });

    const response = await gateway.handleWebhook("acme", request, { kind: "inbound" });

    expect(response.status).toBe(400);
    expect(answerMessage(response.body)).toContain('only webhooks.format "form" reads');
    expect(await store.history(PERSON)).toEqual([]);
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

describe("generic webhooks without an id mapping", () => {
  const inboundWithoutId = { from: "from", text: "text" };

  async function deliver(gateway: Gateway, body: Record<string, unknown>): Promise<number> {
    const response = await gateway.handleWebhook("acme", signed(body), { kind: "inbound" });

    return response.status;
  }

  it("records a repeated STOP after START", async () => {
    const webhooks = { ...options().webhooks, inbound: inboundWithoutId };
    const provider = generic({ ...options(), webhooks });
    const store = new MemoryOptOutStore();
    const gateway = new Gateway({ providers: [provider], store });
    const statuses: number[] = [];

    for (const text of ["STOP", "START", "STOP"]) {
      statuses.push(await deliver(gateway, { from: PERSON, text }));
    }

    const history = await store.history(PERSON);

    expect(statuses).toEqual([200, 200, 200]);
    expect(history.map((event) => event.action)).toEqual(["opt-out", "opt-in", "opt-out"]);
    expect(new Set(history.map((event) => event.id)).size).toBe(3);
    expect(await store.isOptedOut(PERSON)).toBe(true);
  });

  it("records a repeated opt-out report", async () => {
    const provider = generic(options());
    const store = new MemoryOptOutStore();
    const gateway = new Gateway({ providers: [provider], store });
    const statuses: number[] = [];

    statuses.push(await deliver(gateway, { event: "stopped", urn: PERSON }));
    statuses.push(await deliver(gateway, { id: "m-start", from: PERSON, text: "START" }));
    statuses.push(await deliver(gateway, { event: "stopped", urn: PERSON }));

    const history = await store.history(PERSON);

    expect(statuses).toEqual([200, 200, 200]);
    expect(history.map((event) => event.action)).toEqual(["opt-out", "opt-in", "opt-out"]);
    expect(await store.isOptedOut(PERSON)).toBe(true);
  });

  it("records repeated reports on status route", async () => {
    const provider = generic(options());
    const store = new MemoryOptOutStore();
    const gateway = new Gateway({ providers: [provider], store });
    const body = { event: "stopped", urn: PERSON };

    for (let delivery = 0; delivery < 2; delivery += 1) {
      const response = await gateway.handleWebhook("acme", signed(body), { kind: "status" });

      expect(response.status).toBe(200);
    }

    expect(await store.history(PERSON)).toHaveLength(2);
  });

  it("records each GET webhook on a form config", async () => {
    const webhooks = { ...options().webhooks, format: "form" as const, inbound: inboundWithoutId };
    const insecure = { ...webhooks, signature: { type: "none", insecure: true } as const };
    const provider = generic({ ...options(), webhooks: insecure });
    const store = new MemoryOptOutStore();
    const gateway = new Gateway({ providers: [provider], store });

    for (const text of ["STOP", "START"]) {
      const url = `${URL_INBOUND}?from=${encodeURIComponent(PERSON)}&text=${text}`;
      const request: WebhookRequest = {
        method: "GET",
        url,
        headers: new Headers(),
        body: new Uint8Array(),
      };
      const response = await gateway.handleWebhook("acme", request, { kind: "inbound" });

      expect(response.status).toBe(200);
    }

    const history = await store.history(PERSON);

    expect(history.map((event) => event.action)).toEqual(["opt-out", "opt-in"]);
    expect(await store.isOptedOut(PERSON)).toBe(false);
  });

  it("orders a late redelivery by provider time", async () => {
    const inbound = { ...inboundWithoutId, time: "sent_at" };
    const provider = generic({ ...options(), webhooks: { ...options().webhooks, inbound } });
    const store = new MemoryOptOutStore();
    const gateway = new Gateway({ providers: [provider], store });
    const stopAt = Math.floor(Date.now() / 1000) - 120;
    const stop = { from: PERSON, text: "STOP", sent_at: stopAt };

    await deliver(gateway, stop);
    await deliver(gateway, { from: PERSON, text: "START", sent_at: stopAt + 60 });
    await deliver(gateway, stop);

    const history = await store.history(PERSON);

    expect(history.map((event) => event.action)).toEqual(["opt-out", "opt-in", "opt-out"]);
    expect(await store.isOptedOut(PERSON)).toBe(false);
  });

  it("uses one message id per delivery", async () => {
    const webhooks = { ...options().webhooks, inbound: inboundWithoutId };
    const provider = generic({ ...options(), webhooks });
    const store = new MemoryOptOutStore();
    const gateway = new Gateway({ providers: [provider], store, forwardEvents: true });

    await deliver(gateway, { from: PERSON, text: "STOP" });

    const [event] = await store.history(PERSON);
    const messageId = event?.messageId ?? "";
    const outbox = await store.claimOutbox(10, 60_000);
    const inbound = outbox.find((entry) => entry.type === "inbound");
    const forwarded = JSON.parse(inbound?.payload ?? "{}") as { message?: { messageId?: string } };

    expect(messageId).toMatch(/^body:h[0-9a-f]{32}:t[0-9a-z]+:r[0-9a-f]{16}$/);
    expect(event?.id).toBe(`acme:-:${messageId}:opt-out`);
    expect(outbox.map((entry) => entry.type)).toEqual(["inbound", "opt-out"]);
    expect(outbox.map((entry) => entry.id)).toEqual([
      `acme:inbound|-:${messageId}#0`,
      `acme:inbound|-:${messageId}#1`,
    ]);
    expect(forwarded.message?.messageId).toBe(messageId);
  });
});

describe("generic webhooks with an id mapping", () => {
  it("records a redelivery once", async () => {
    const provider = generic(options());
    const store = new MemoryOptOutStore();
    const gateway = new Gateway({ providers: [provider], store });
    const body = { id: "m-stop", from: PERSON, text: "STOP" };
    const statuses: number[] = [];

    for (let delivery = 0; delivery < 2; delivery += 1) {
      const response = await gateway.handleWebhook("acme", signed(body), { kind: "inbound" });

      statuses.push(response.status);
    }

    const history = await store.history(PERSON);

    expect(statuses).toEqual([200, 200]);
    expect(history).toHaveLength(1);
    expect(history[0]?.messageId).toBe("m-stop");
    expect(await store.isOptedOut(PERSON)).toBe(true);
  });

  it("records a redelivered opt-out report once", async () => {
    const report = { match: { field: "event", value: "stopped" }, from: "urn", id: "event_id" };
    const webhooks = { ...options().webhooks, optOutReport: report };
    const provider = generic({ ...options(), webhooks });
    const store = new MemoryOptOutStore();
    const gateway = new Gateway({ providers: [provider], store });
    const body = { event: "stopped", event_id: "evt-1", urn: PERSON };

    for (let delivery = 0; delivery < 2; delivery += 1) {
      const response = await gateway.handleWebhook("acme", signed(body), { kind: "inbound" });

      expect(response.status).toBe(200);
    }

    expect(await store.history(PERSON)).toHaveLength(1);
  });
});
