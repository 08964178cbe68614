import { performance } from "node:perf_hooks";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { plivo } from "../providers/plivo/index.js";
import { twilio } from "../providers/twilio/index.js";
import { vonage } from "../providers/vonage/index.js";
import { isSmsgateError } from "../src/errors.js";
import { Gateway } from "../src/gateway/gateway.js";
import { parseFormBody } from "../src/http/form.js";
import { classifyKeywords, createKeywordClassifier } from "../src/keywords/index.js";
import {
  normalizeInternationalDigits,
  normalizePhoneNumber,
  normalizeRecipient,
  parseSenderIdentity,
} from "../src/phone/index.js";
import type { Provider, WebhookKind, WebhookRequest } from "../src/provider.js";
import { openSqliteStore } from "../src/stores/sqlite.js";
import { buildPlivoInbound, signedPlivoRequest } from "../src/testing/plivo.js";
import { buildTwilioInbound, signedTwilioRequest } from "../src/testing/twilio.js";
import { buildVonageInbound, signedVonageRequest } from "../src/testing/vonage.js";
import { anyText, hostileRequest, oversizedBodies, webhookKind } from "./helpers/hostile.js";

// Each call must return or throw a typed smsgate error. A call that takes longer than this
// is treated as a hang, because every input here is parsed in well under a tenth of that.
const callBoundMs = 2000;

const runs = { numRuns: 300 };

const secrets = {
  twilioToken: "fuzz-twilio-auth-token",
  vonageSecret: "fuzz-vonage-signature-secret",
  plivoToken: "fuzz-plivo-auth-token",
};

// Sends are never made here, so the API origins are never contacted.
const providers: Record<"twilio" | "vonage" | "plivo", Provider> = {
  twilio: twilio({
    accountSid: `AC${"1".repeat(32)}`,
    authToken: secrets.twilioToken,
    from: "+12025550100",
    apiBaseUrl: "http://127.0.0.1:9",
  }),
  vonage: vonage({
    apiKey: "fuzzkey1",
    apiSecret: "fuzz-api-secret",
    signatureSecret: secrets.vonageSecret,
    from: "+12025550100",
    apiBaseUrl: "http://127.0.0.1:9",
  }),
  plivo: plivo({
    authId: "MAFUZZFUZZFUZZFUZZ00",
    authToken: secrets.plivoToken,
    from: "+12025550100",
    apiBaseUrl: "http://127.0.0.1:9",
  }),
};

const routeOf = (name: string) => `https://sms.example.com/webhooks/${name}/inbound`;

/** What a call ended with: its value, or the typed error it threw. */
type Outcome<T> = { value: T } | { code: string };

/**
 * Runs `call` and returns its value or the code of the smsgate error it threw. Fails when
 * it throws anything else, throws a code outside `codes`, or runs longer than the bound.
 */
async function typedOutcome<T>(
  label: string,
  call: () => T | Promise<T>,
  codes: readonly string[],
): Promise<Outcome<T>> {
  const started = performance.now();
  let outcome: Outcome<T>;

  try {
    outcome = { value: await call() };
  } catch (error) {
    if (!isSmsgateError(error) || !codes.includes(error.code)) {
      throw new Error(`${label} threw an untyped error: ${String(error)}`, { cause: error });
    }

    outcome = { code: error.code };
  }

  expect(performance.now() - started, `${label} took too long`).toBeLessThan(callBoundMs);

  return outcome;
}

const verifyCodes = ["SMSGATE_WEBHOOK_VERIFICATION_FAILED"];
const parseCodes = ["SMSGATE_WEBHOOK_INVALID"];

async function checkProvider(
  name: string,
  provider: Provider,
  request: WebhookRequest,
  kind: WebhookKind,
): Promise<void> {
  await typedOutcome(`${name} verify`, () => provider.verifyWebhook(request), verifyCodes);

  const nonce = provider.webhookNonce?.(request);

  expect(nonce === undefined || (typeof nonce === "string" && nonce !== "")).toBe(true);

  const parsed = await typedOutcome(
    `${name} parse`,
    () => provider.parseWebhook(request, kind),
    parseCodes,
  );

  if ("value" in parsed) {
    for (const message of parsed.value.inbound) {
      expect(typeof message.text).toBe("string");
      expect(message.messageId).not.toBe("");
      expect(typeof message.from.value).toBe("string");
    }

    for (const report of parsed.value.reports) {
      expect(report.messageId).not.toBe("");
    }
  }
}

describe("provider parsers and verifiers", () => {
  for (const [name, provider] of Object.entries(providers)) {
    it(`${name}: any request gives a typed answer`, async () => {
      await fc.assert(
        fc.asyncProperty(hostileRequest(routeOf(name)), webhookKind, (request, kind) =>
          checkProvider(name, provider, request, kind),
        ),
        runs,
      );
    });

    it(`${name}: oversized bodies give a typed answer`, async () => {
      for (const [label, body] of oversizedBodies()) {
        for (const type of ["application/x-www-form-urlencoded", "application/json", ""]) {
          const headers = new Headers(type === "" ? {} : { "content-type": type });
          const request = { method: "POST", url: routeOf(name), headers, body };

          for (const kind of ["inbound", "status"] as const) {
            await checkProvider(`${name} ${label} ${type}`, provider, request, kind);
          }
        }
      }

      const query = Array.from({ length: 20_000 }, (_, index) => `f${index}=%FF`).join("&");
      const get = {
        method: "GET",
        url: `${routeOf(name)}?${query}`,
        headers: new Headers(),
        body: new Uint8Array(),
      };

      await checkProvider(`${name} long GET query`, provider, get, "inbound");
    });
  }
});

/** Well-formed text of any script, as people write it. */
const replyText = fc.string({ unit: "grapheme", minLength: 1, maxLength: 300 });

describe("signed webhooks with hostile text", () => {
  it("twilio: verifies and keeps the text", async () => {
    await fc.assert(
      fc.asyncProperty(replyText, async (text) => {
        const built = buildTwilioInbound({
          from: "+12025550143",
          to: "+12025550100",
          body: text,
          accountSid: `AC${"1".repeat(32)}`,
        });
        const request = signedTwilioRequest({
          authToken: secrets.twilioToken,
          url: routeOf("twilio"),
          params: built.params,
        });

        await providers.twilio.verifyWebhook(request);
        expect((await providers.twilio.parseWebhook(request, "inbound")).inbound[0]?.text).toBe(
          text,
        );
      }),
      { numRuns: 200 },
    );
  });

  it("vonage: verifies and keeps the text", async () => {
    await fc.assert(
      fc.asyncProperty(replyText, async (text) => {
        const built = buildVonageInbound({ msisdn: "12025550143", to: "12025550100", text });
        const request = signedVonageRequest({
          url: routeOf("vonage"),
          params: built.params,
          secret: secrets.vonageSecret,
        });

        await providers.vonage.verifyWebhook(request);
        expect((await providers.vonage.parseWebhook(request, "inbound")).inbound[0]?.text).toBe(
          text,
        );
      }),
      { numRuns: 200 },
    );
  });

  it("plivo: verifies and keeps the text", async () => {
    await fc.assert(
      fc.asyncProperty(replyText, async (text) => {
        const built = buildPlivoInbound({ from: "12025550143", to: "12025550100", text });
        const request = signedPlivoRequest({
          authToken: secrets.plivoToken,
          url: routeOf("plivo"),
          params: built.params,
        });

        await providers.plivo.verifyWebhook(request);
        expect((await providers.plivo.parseWebhook(request, "inbound")).inbound[0]?.text).toBe(
          text,
        );
      }),
      { numRuns: 200 },
    );
  });
});

function gatewayFor(insecure: boolean): Gateway {
  return new Gateway({
    providers: Object.values(providers),
    store: openSqliteStore({ path: ":memory:" }),
    forwardEvents: true,
    insecureSkipSignatureVerification: insecure,
    replies: { optOut: "Unsubscribed", optIn: "Subscribed", help: "Reply STOP to stop" },
  });
}

const providerName = fc.constantFrom("twilio", "vonage", "plivo", "generic", "__proto__");

describe("gateway webhook pipeline", () => {
  it("unsigned hostile requests get 4xx", async () => {
    const gateway = gatewayFor(false);
    const property = fc.asyncProperty(
      providerName,
      webhookKind,
      hostileRequest(routeOf("twilio")),
      async (name, kind, request) => {
        const response = await gateway.handleWebhook(name, request, { kind });

        expect(response.status, response.body).toBeGreaterThanOrEqual(400);
        expect(response.status, response.body).toBeLessThan(500);
      },
    );

    await fc.assert(property, runs);
  });

  it("insecure mode: 2xx or 4xx, never 5xx", async () => {
    const gateway = gatewayFor(true);
    const property = fc.asyncProperty(
      providerName,
      webhookKind,
      hostileRequest(routeOf("x")),
      async (name, kind, request) => {
        const response = await gateway.handleWebhook(name, request, { kind });

        expect(response.status, response.body).toBeLessThan(500);
      },
    );

    await fc.assert(property, runs);

    for (const [label, body] of oversizedBodies()) {
      for (const name of ["twilio", "vonage", "plivo"]) {
        const headers = new Headers({ "content-type": "application/json" });
        const request = { method: "POST", url: routeOf(name), headers, body };
        const response = await gateway.handleWebhook(name, request, { kind: "inbound" });

        expect(response.status, `${name} ${label}: ${response.body}`).toBeLessThan(500);
      }
    }
  });
});

describe("form parser", () => {
  it("any bytes: pairs or a typed error", async () => {
    await fc.assert(
      fc.asyncProperty(fc.uint8Array({ maxLength: 4096 }), async (bytes) => {
        const outcome = await typedOutcome("parseFormBody", () => parseFormBody(bytes), parseCodes);

        if ("value" in outcome) {
          expect(outcome.value.every((pair) => pair.length === 2)).toBe(true);
        }
      }),
      runs,
    );
  });
});

const intents = [null, "opt-out", "opt-in", "help"];
const matches = ["exact", "phrase", "ambiguous", "none"];

describe("keyword classifier", () => {
  it("any text: a valid classification", async () => {
    await fc.assert(
      fc.asyncProperty(anyText(2000), fc.boolean(), async (text, yesIsOptIn) => {
        const outcome = await typedOutcome(
          "classifyKeywords",
          () => classifyKeywords(text, { yesIsOptIn }),
          [],
        );
        const result = "value" in outcome ? outcome.value : undefined;

        expect(intents).toContain(result?.intent);
        expect(matches).toContain(result?.match);

        if (result?.match === "none") {
          expect(result.intent).toBeNull();
        }
      }),
      runs,
    );
  });

  it("huge texts finish in bounded time", async () => {
    const texts = [
      "stop ".repeat(200_000),
      "don't ".repeat(200_000),
      `${"please ".repeat(100_000)}remove me`,
      "a".repeat(1_000_000),
      "\u200b".repeat(500_000),
      `${"s t o p ".repeat(100_000)}`,
      `${"!".repeat(500_000)}STOP`,
    ];

    for (const text of texts) {
      await typedOutcome(`classify ${text.slice(0, 12)}`, () => classifyKeywords(text), []);
    }
  });

  it("hostile extra keywords: typed config error", async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(anyText(40), { maxLength: 5 }),
        anyText(200),
        async (extra, text) => {
          await typedOutcome(
            "createKeywordClassifier",
            () => createKeywordClassifier({ optOut: extra, optIn: extra, help: extra })(text),
            ["SMSGATE_INVALID_CONFIG"],
          );
        },
      ),
      runs,
    );
  });
});

const phoneCodes = ["SMSGATE_INVALID_PHONE_NUMBER"];
const e164 = /^\+[1-9]\d{1,14}$/;
const region = fc.constantFrom(undefined, "US", "GB", "IN", "SG", "DE");

/** Phone-like text: digits, separators, plus signs and anything else. */
const phoneText = fc.oneof(
  anyText(80),
  fc.string({
    unit: fc.constantFrom(
      "+",
      "0",
      "1",
      "2",
      "5",
      "9",
      " ",
      "-",
      "(",
      ")",
      ".",
      "x",
      "#",
      "٣",
      "１",
      "\u202e",
    ),
    maxLength: 40,
  }),
);

describe("phone normaliser", () => {
  it("any text: E.164 or a typed error", async () => {
    await fc.assert(
      fc.asyncProperty(phoneText, region, async (text, defaultRegion) => {
        const calls = {
          normalizePhoneNumber: () => normalizePhoneNumber(text, { defaultRegion }).e164,
          normalizeInternationalDigits: () => normalizeInternationalDigits(text).e164,
          normalizeRecipient: () => normalizeRecipient(text, { defaultRegion }).value,
        };

        for (const [label, call] of Object.entries(calls)) {
          const outcome = await typedOutcome(label, call, phoneCodes);

          if ("value" in outcome && label !== "normalizeRecipient") {
            expect(outcome.value).toMatch(e164);
          }
        }

        await typedOutcome(
          "parseSenderIdentity",
          () => parseSenderIdentity(text, { defaultRegion, counterpart: text }),
          phoneCodes,
        );
      }),
      runs,
    );
  });

  it("non-string input: a typed error", async () => {
    for (const input of [undefined, null, 12025550143, {}, [], Symbol("x"), 10n, "x".repeat(1e6)]) {
      for (const call of [normalizePhoneNumber, normalizeRecipient, parseSenderIdentity]) {
        await typedOutcome(`${call.name}(${typeof input})`, () => call(input as never), phoneCodes);
      }
    }
  });
});
