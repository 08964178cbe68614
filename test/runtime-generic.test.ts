import { describe, expect, it } from "vitest";
import type { GenericHmacSignature } from "../providers/generic/index.js";
import { parseConfig } from "../src/cli/config.js";
import { isDevMode } from "../src/cli/dev.js";
import { createRuntime } from "../src/cli/runtime.js";
import { isConfigError } from "../src/errors.js";
import { signGenericRequest } from "../src/testing/generic.js";

const signature: GenericHmacSignature = {
  type: "hmac",
  secret: "generic-test-secret",
  header: "x-signature",
  algorithm: "sha256",
  encoding: "hex",
  signed: "body",
};

const acme = {
  from: "+12025550100",
  send: { url: "http://127.0.0.1:9/send", body: { to: "{{to}}" }, messageIdPath: "id" },
  webhooks: { inbound: { id: "id", from: "from", text: "text" }, signature },
};

describe("generic providers in the configuration", () => {
  it("routes a signed STOP to the store", async () => {
    const config = parseConfig({ store: { type: "memory" }, providers: { generic: { acme } } }, {});
    const runtime = await createRuntime(config);
    const request = signGenericRequest(signature, {
      url: "https://sms.example.com/webhooks/acme/inbound",
      body: { id: "m1", from: "+12025550143", text: "STOP" },
    });

    try {
      const answer = await runtime.gateway.handleWebhook("acme", request, { kind: "inbound" });

      expect(runtime.providers.map((provider) => provider.name)).toEqual(["acme"]);
      expect(answer.status).toBe(200);
      expect(await runtime.store.isOptedOut("+12025550143")).toBe(true);
    } finally {
      await runtime.close();
    }
  });

  it("names the bad option path", async () => {
    const broken = { ...acme, send: { ...acme.send, url: "not a url" } };
    const config = parseConfig(
      { store: { type: "memory" }, providers: { generic: { acme: broken } } },
      {},
    );
    const error = await createRuntime(config).then(
      () => undefined,
      (rejection: unknown) => rejection,
    );

    expect(isConfigError(error)).toBe(true);
    expect((error as Error).message).toContain("providers.generic.acme.send.url");
  });

  it("rejects an invalid provider name", () => {
    expect(() => parseConfig({ providers: { generic: { "Bad Name": acme } } }, {})).toThrow(
      /Bad Name/,
    );
  });

  it("rejects a name that differs", async () => {
    const config = parseConfig(
      { store: { type: "memory" }, providers: { generic: { acme: { ...acme, name: "other" } } } },
      {},
    );
    const error = await createRuntime(config).then(
      () => undefined,
      (rejection: unknown) => rejection,
    );

    expect(isConfigError(error)).toBe(true);
    expect((error as Error).message).toContain("providers.generic.acme.name");
  });

  it("rejects a built-in provider name", () => {
    expect(() => parseConfig({ providers: { generic: { twilio: acme } } }, {})).toThrow(
      /built-in provider/,
    );
  });

  it("empty generic section is development mode", () => {
    expect(isDevMode(parseConfig({ providers: { generic: {} } }, {}))).toBe(true);
    expect(isDevMode(parseConfig({ providers: { generic: { acme } } }, {}))).toBe(false);
  });
});
