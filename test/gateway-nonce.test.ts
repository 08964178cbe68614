import { describe, expect, it } from "vitest";
import { plivo } from "../providers/plivo/index.js";
import { vonage } from "../providers/vonage/index.js";
import { MemoryOptOutStore } from "../src/consent/memory.js";
import type { CommitResult, OptOutStore, WebhookReceipt } from "../src/consent/types.js";
import { StoreError } from "../src/errors.js";
import { Gateway } from "../src/gateway/gateway.js";
import { webhookRequestHash } from "../src/gateway/nonce.js";
import { encodeForm } from "../src/http/form.js";
import type { Logger } from "../src/logger.js";
import type { Provider, WebhookRequest } from "../src/provider.js";
import { buildPlivoInbound, signedPlivoRequest } from "../src/testing/plivo.js";
import {
  buildVonageInbound,
  buildVonageMessagesInbound,
  signedVonageMessagesRequest,
  signedVonageRequest,
} from "../src/testing/vonage.js";
import { withBody, withHeaders } from "../src/testing/webhook-request.js";
import { controllableStore } from "./support/stores.js";

const PLIVO_TOKEN = "plivo-auth-token-for-tests";
const VONAGE_SECRET = "vonage-signature-secret";
const PLIVO_URL = "https://sms.example.com/webhooks/plivo/inbound";
const VONAGE_URL = "https://sms.example.com/webhooks/vonage/inbound";
const person = "+12025550143";
const other = "+12025550144";
const ours = "+12025550100";

/** A memory store whose next commits can be made to fail. */
class FlakyStore extends MemoryOptOutStore {
  failCommits = 0;
  failReads = 0;
  commits: WebhookReceipt[] = [];

  override async commitWebhook(receipt: WebhookReceipt): Promise<CommitResult> {
    this.commits.push(receipt);

    if (this.failCommits > 0) {
      this.failCommits -= 1;
      throw new StoreError("simulated commit failure");
    }

    return super.commitWebhook(receipt);
  }

  override async findNonce(provider: string, nonce: string): Promise<string | undefined> {
    if (this.failReads > 0) {
      this.failReads -= 1;
      throw new StoreError("simulated read failure");
    }

    return super.findNonce(provider, nonce);
  }
}

function recordingLogger() {
  const lines: Array<{ level: string; object: Record<string, unknown>; message?: string }> = [];
  const at =
    (level: string) =>
    (object: Record<string, unknown>, message?: string): void => {
      lines.push({ level, object, message });
    };
  const logger: Logger = {
    debug: at("debug"),
    info: at("info"),
    warn: at("warn"),
    error: at("error"),
  };

  return { logger, lines };
}

function plivoProvider(): Provider {
  return plivo({ authId: "MAABCDEFGHIJ12345678", authToken: PLIVO_TOKEN, from: ours });
}

function vonageProvider(): Provider {
  return vonage({ apiKey: "a1b2c3d4", apiSecret: "secret", signatureSecret: VONAGE_SECRET });
}

function setup(store: OptOutStore = new FlakyStore(), insecure = false) {
  const { logger, lines } = recordingLogger();
  const gateway = new Gateway({
    providers: [plivoProvider(), vonageProvider()],
    store,
    logger,
    insecureSkipSignatureVerification: insecure,
  });

  return { gateway, store, lines };
}

function plivoParams(from: string, text: string, messageUuid?: string) {
  return buildPlivoInbound({ from: from.slice(1), to: ours.slice(1), text, messageUuid }).params;
}

/** Builds a Plivo inbound signed with V2 only, which covers the URL and nonce, not the body. */
function plivoV2(from: string, text: string, nonce: string): WebhookRequest {
  return signedPlivoRequest({
    authToken: PLIVO_TOKEN,
    url: PLIVO_URL,
    params: plivoParams(from, text),
    versions: ["v2"],
    nonce,
  });
}

function withPlivoBody(request: WebhookRequest, from: string, text: string, uuid?: string) {
  return withBody(request, encodeForm(plivoParams(from, text, uuid)));
}

function deliver(gateway: Gateway, provider: string, request: WebhookRequest) {
  return gateway.handleWebhook(provider, request, { kind: "inbound" });
}

function errorOf(answer: { body: string }): unknown {
  return (JSON.parse(answer.body) as { error?: unknown }).error;
}

describe("webhook nonces with a Plivo V2 signature", () => {
  it("committed nonce on another body: 403", async () => {
    const { gateway, store, lines } = setup();
    const genuine = plivoV2(person, "hello", "31627761595286130198");

    expect((await deliver(gateway, "plivo", genuine)).status).toBe(200);

    const forged = withPlivoBody(genuine, other, "STOP");
    const answer = await deliver(gateway, "plivo", forged);

    expect(answer.status).toBe(403);
    expect(errorOf(answer)).toBe("replayed-nonce");
    expect(await store.isOptedOut(other)).toBe(false);
    expect(await store.history(other)).toEqual([]);
    expect(lines.some((line) => line.object.failure === "replayed-nonce")).toBe(true);
  });

  it("forged body with genuine id: 403", async () => {
    const { gateway, store } = setup();
    const uuid = "1d4c2b8e-7f3a-4c55-9a11-0123456789ab";
    const genuine = withPlivoBody(plivoV2(person, "x", "777"), person, "STOP", uuid);

    expect((await deliver(gateway, "plivo", genuine)).status).toBe(200);
    expect(await store.isOptedOut(person)).toBe(true);

    const forged = withPlivoBody(genuine, person, "START", uuid);

    expect((await deliver(gateway, "plivo", forged)).status).toBe(403);
    expect(await store.isOptedOut(person)).toBe(true);
    expect(await store.history(person)).toHaveLength(1);
  });

  it("byte-identical repeat: 200, no effect", async () => {
    const { gateway, store } = setup();
    const stop = plivoV2(person, "STOP", "1001");

    expect((await deliver(gateway, "plivo", stop)).status).toBe(200);
    expect((await deliver(gateway, "plivo", plivoV2(person, "START", "1002"))).status).toBe(200);
    expect((await deliver(gateway, "plivo", stop)).status).toBe(200);
    expect(await store.isOptedOut(person)).toBe(false);
    expect(await store.history(person)).toHaveLength(2);
  });

  it("retry after 503 is accepted", async () => {
    const store = new FlakyStore();
    const { gateway } = setup(store);
    const stop = plivoV2(person, "STOP", "2001");

    store.failCommits = 1;
    expect((await deliver(gateway, "plivo", stop)).status).toBe(503);
    expect(await store.findNonce("plivo", "2001")).toBeUndefined();

    expect((await deliver(gateway, "plivo", stop)).status).toBe(200);
    expect(await store.isOptedOut(person)).toBe(true);
    expect(await store.findNonce("plivo", "2001")).toBe(webhookRequestHash(stop));
  });

  it("unreadable nonce: 503, nothing stored", async () => {
    const store = new FlakyStore();
    const { gateway } = setup(store);

    store.failReads = 1;
    const answer = await deliver(gateway, "plivo", plivoV2(person, "STOP", "3001"));

    expect(answer.status).toBe(503);
    expect(errorOf(answer)).toBe("store-unavailable");
    expect(store.commits).toHaveLength(0);
    expect(await store.isOptedOut(person)).toBe(false);
  });

  it("concurrent nonce reuse commits once", async () => {
    const { gateway, store } = setup();
    const genuine = plivoV2(person, "STOP", "4001");
    const forged = withPlivoBody(genuine, other, "STOP");

    const answers = await Promise.all([
      deliver(gateway, "plivo", genuine),
      deliver(gateway, "plivo", forged),
    ]);
    const optedOut = [await store.isOptedOut(person), await store.isOptedOut(other)];

    expect(answers.map((answer) => answer.status).sort()).toEqual([200, 403]);
    expect(optedOut.filter(Boolean)).toHaveLength(1);
  });

  it("copy during commit keeps its nonce", async () => {
    const store = new FlakyStore();
    const { gateway } = setup(store);
    const uuid = "5e1f8a52-2c1b-4d8e-a0a4-0123456789ab";
    const first = withPlivoBody(plivoV2(person, "x", "5001"), person, "STOP", uuid);
    const retry = withPlivoBody(plivoV2(person, "x", "5002"), person, "STOP", uuid);

    const answers = await Promise.all([
      deliver(gateway, "plivo", first),
      deliver(gateway, "plivo", retry),
    ]);

    expect(answers.map((answer) => answer.status)).toEqual([200, 200]);
    expect(await store.history(person)).toHaveLength(1);
    expect(await store.findNonce("plivo", "5001")).toBe(webhookRequestHash(first));
    expect(await store.findNonce("plivo", "5002")).toBe(webhookRequestHash(retry));

    const forged = withPlivoBody(retry, person, "START", uuid);

    expect((await deliver(gateway, "plivo", forged)).status).toBe(403);
    expect(await store.isOptedOut(person)).toBe(true);
  });

  it("nonce over 256 characters: 400", async () => {
    const { gateway, store } = setup();
    const answer = await deliver(gateway, "plivo", plivoV2(person, "STOP", "9".repeat(257)));

    expect(answer.status).toBe(400);
    expect(await store.isOptedOut(person)).toBe(false);
  });

  it("V3 headers give the V3 nonce", async () => {
    const { gateway } = setup();
    const signed = signedPlivoRequest({
      authToken: PLIVO_TOKEN,
      url: PLIVO_URL,
      params: plivoParams(person, "hello"),
      nonce: "6001",
    });
    const provider = gateway.provider("plivo");

    expect(provider?.webhookNonce?.(signed)).toBe("6001");
    expect(
      provider?.webhookNonce?.(withHeaders(signed, { "x-plivo-signature-v3-nonce": "" })),
    ).toBe(undefined);
  });
});

describe("webhook nonces with Vonage", () => {
  it("SMS API nonce reused: 403", async () => {
    const { gateway, store } = setup();
    const sign = (from: string, text: string) =>
      signedVonageRequest({
        url: VONAGE_URL,
        params: [
          ...buildVonageInbound({ msisdn: from.slice(1), to: ours.slice(1), text }).params,
          ["nonce", "51a87f47-476f-447c-bffe-c18600fd12ad"],
        ],
        secret: VONAGE_SECRET,
      });

    expect((await deliver(gateway, "vonage", sign(person, "hello"))).status).toBe(204);

    const answer = await deliver(gateway, "vonage", sign(other, "STOP"));

    expect(answer.status).toBe(403);
    expect(errorOf(answer)).toBe("replayed-nonce");
    expect(await store.isOptedOut(other)).toBe(false);
  });

  it("Messages API jti reused: 403", async () => {
    const { gateway, store } = setup();
    const sign = (from: string, text: string) =>
      signedVonageMessagesRequest({
        url: VONAGE_URL,
        body: buildVonageMessagesInbound({ from: from.slice(1), to: ours.slice(1), text }),
        secret: VONAGE_SECRET,
        jti: "0b7e2f4c-9d1a-4e3b-8c6f-0123456789ab",
      });
    const first = sign(person, "STOP");

    expect((await deliver(gateway, "vonage", first)).status).toBe(204);
    expect((await deliver(gateway, "vonage", first)).status).toBe(204);
    expect((await deliver(gateway, "vonage", sign(other, "STOP"))).status).toBe(403);
    expect(await store.history(person)).toHaveLength(1);
    expect(await store.isOptedOut(other)).toBe(false);
  });
});

describe("webhook nonces and the store", () => {
  it("store without nonces warns once", async () => {
    const controls = controllableStore();
    const { gateway, lines } = setup(controls.store);

    expect((await deliver(gateway, "plivo", plivoV2(person, "STOP", "7001"))).status).toBe(200);
    expect((await deliver(gateway, "plivo", plivoV2(other, "STOP", "7002"))).status).toBe(200);

    const warnings = lines.filter((line) => line.message?.includes("keeps no webhook nonces"));

    expect(warnings).toHaveLength(1);
    expect(await controls.inner.isOptedOut(other)).toBe(true);
  });

  it("insecure mode checks no nonce", async () => {
    const store = new FlakyStore();
    const { gateway } = setup(store, true);
    const first = plivoV2(person, "hello", "8001");

    expect((await deliver(gateway, "plivo", first)).status).toBe(200);
    expect((await deliver(gateway, "plivo", withPlivoBody(first, other, "STOP"))).status).toBe(200);
    expect(store.commits.every((receipt) => receipt.nonce === undefined)).toBe(true);
  });

  it("throwing nonce reader: 403", async () => {
    const store = new FlakyStore();
    const provider = plivoProvider();
    const broken: Provider = {
      name: provider.name,
      send: (message) => provider.send(message),
      verifyWebhook: (request) => provider.verifyWebhook(request),
      parseWebhook: (request, kind) => provider.parseWebhook(request, kind),
      webhookResponse: (context) => provider.webhookResponse(context),
      webhookNonce: () => {
        throw new Error("reader failed");
      },
    };
    const gateway = new Gateway({ providers: [broken], store });

    const answer = await deliver(gateway, "plivo", plivoV2(person, "STOP", "9001"));

    expect(answer.status).toBe(403);
    expect(store.commits).toHaveLength(0);
  });
});
