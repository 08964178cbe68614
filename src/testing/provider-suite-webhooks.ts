import { describe, expect, it, vi } from "vitest";
import { MemoryOptOutStore } from "../consent/memory.js";
import { isWebhookVerificationError, type WebhookVerificationFailure } from "../errors.js";
import { Gateway } from "../gateway/gateway.js";
import type { Provider, WebhookRequest } from "../provider.js";
import { describeError, expectWellFormed, settle } from "./provider-suite-checks.js";
import type {
  InboundFixture,
  ProviderUnderTest,
  StatusFixture,
  WebhookFixture,
} from "./provider-suite-types.js";
import { withUrl } from "./webhook-request.js";

type Current = () => ProviderUnderTest;

const DAY_MS = 86_400_000;

/** Registers the tests that read each recorded webhook. */
export function describeFixtureTests(current: Current): void {
  describe("fixtures", () => {
    it("has inbound and status fixtures", () => {
      const kinds = current().fixtures.map((fixture) => fixture.kind);

      expect(kinds, "the factory gave no inbound fixture").toContain("inbound");
      expect(kinds, "the factory gave no status fixture").toContain("status");
    });

    it("parses each fixture", async () => {
      const { provider, fixtures } = current();

      for (const fixture of fixtures) {
        await expectFixtureFields(provider, fixture);
      }
    });

    it("verifies each signed fixture", async () => {
      const { provider, fixtures, sign } = current();

      for (const fixture of fixtures) {
        const outcome = await settle(() => provider.verifyWebhook(sign(fixture.request)));
        const detail = outcome.ok ? "" : describeError(outcome.error);

        expect(outcome.ok, `${fixture.name}: signed fixture was rejected: ${detail}`).toBe(true);
      }
    });

    it("records opt-outs through a gateway", async () => {
      const { provider, fixtures, sign } = current();

      for (const fixture of fixtures) {
        await expectGatewayOutcome(provider, fixture, sign(fixture.request));
      }
    });
  });
}

async function expectFixtureFields(provider: Provider, fixture: WebhookFixture): Promise<void> {
  const label = fixture.name;
  const outcome = await settle(() => provider.parseWebhook(fixture.request, fixture.kind));

  if (!outcome.ok) {
    expect.fail(`${label}: parseWebhook rejected: ${describeError(outcome.error)}`);
  }

  expectWellFormed(outcome.value, provider.name, label);

  if (fixture.kind === "inbound") {
    expect(outcome.value.reports, `${label}: reports of an inbound webhook`).toEqual([]);
    expect(outcome.value.inbound, `${label}: inbound messages`).toHaveLength(1);
    expectInbound(fixture, outcome.value.inbound[0]);
  } else {
    expect(outcome.value.inbound, `${label}: inbound messages of a status webhook`).toEqual([]);
    expect(outcome.value.reports, `${label}: reports`).toHaveLength(1);
    expectReport(fixture, outcome.value.reports[0]);
  }
}

type Parsed = Awaited<ReturnType<Provider["parseWebhook"]>>;

function expectInbound(fixture: InboundFixture, message: Parsed["inbound"][number] | undefined) {
  const { expected, name } = fixture;

  expect(message?.messageId, `${name}: messageId`).toBe(expected.messageId);
  expect(message?.from.value, `${name}: from`).toBe(expected.from);
  expect(message?.to.value, `${name}: to`).toBe(expected.to);
  expect(message?.text, `${name}: text`).toBe(expected.text);
  expect(message?.providerIntent, `${name}: providerIntent`).toBe(expected.providerIntent);
}

function expectReport(fixture: StatusFixture, report: Parsed["reports"][number] | undefined) {
  const { expected, name } = fixture;

  expect(report?.messageId, `${name}: messageId`).toBe(expected.messageId);
  expect(report?.status, `${name}: status`).toBe(expected.status);
  expect(report?.errorCode, `${name}: errorCode`).toBe(expected.errorCode);
  expect(report?.reason, `${name}: reason`).toBe(expected.reason);

  if (expected.to !== undefined) {
    expect(report?.to?.value, `${name}: to`).toBe(expected.to);
  }

  if (expected.from !== undefined) {
    expect(report?.from?.value, `${name}: from`).toBe(expected.from);
  }
}

/**
 * Runs a signed fixture through a gateway on an empty memory store. The gateway's response
 * must be 2xx for every fixture. A provider opt-out flag must opt the sender out, and an `opted-out`
 * report must opt the recipient out.
 */
async function expectGatewayOutcome(
  provider: Provider,
  fixture: WebhookFixture,
  signed: WebhookRequest,
): Promise<void> {
  const store = new MemoryOptOutStore();
  const gateway = new Gateway({ providers: [provider], store });
  const response = await gateway.handleWebhook(provider.name, signed, { kind: fixture.kind });
  const label = `${fixture.name}: gateway answered ${response.status} ${response.body}`;

  expect(response.status, label).toBeGreaterThanOrEqual(200);
  expect(response.status, label).toBeLessThan(300);

  const phone = optedOutPhone(fixture);

  if (phone !== undefined) {
    expect(await store.isOptedOut(phone), `${fixture.name}: ${phone} is not opted out`).toBe(true);
  }
}

function optedOutPhone(fixture: WebhookFixture): string | undefined {
  if (fixture.kind === "inbound") {
    return fixture.expected.providerIntent === "opt-out" ? fixture.expected.from : undefined;
  }

  if (fixture.expected.reason !== "opted-out") {
    return undefined;
  }

  expect(fixture.expected.to, `${fixture.name}: an opted-out report needs expected.to`).toEqual(
    expect.any(String),
  );

  return fixture.expected.to;
}

/** Registers the tests that break a signed webhook in each way the scheme guards against. */
export function describeSignatureTests(current: Current): void {
  describe("signatures", () => {
    it("rejects a tampered body", async () => {
      const { provider, fixtures, sign, attacks } = current();

      for (const fixture of fixtures) {
        const signed = sign(fixture.request);
        const tampered = attacks.tamperedBody(signed);

        expect(Buffer.from(tampered.body).equals(Buffer.from(signed.body)), fixture.name).toBe(
          false,
        );
        await expectRejection(provider, tampered, "invalid-signature", fixture.name);
      }
    });

    it("rejects a missing signature", async () => {
      const { provider, fixtures, sign, attacks } = current();

      for (const fixture of fixtures) {
        const request = attacks.missingSignature(sign(fixture.request));

        await expectRejection(provider, request, "missing-signature", fixture.name);
      }
    });

    it("checks a wrong URL", async () => {
      const { provider, fixtures, sign, attacks } = current();

      for (const fixture of fixtures) {
        await expectWrongUrl(provider, fixture, sign(fixture.request), attacks.wrongUrl);
      }
    });

    it("checks a stale timestamp", async () => {
      const { provider, fixtures, sign, attacks } = current();

      for (const fixture of fixtures) {
        if (attacks.staleTimestamp === undefined) {
          await expectNoTimestamp(provider, fixture, sign);
        } else {
          const stale = attacks.staleTimestamp(fixture.request);

          await expectRejection(provider, stale, "stale-timestamp", fixture.name);
        }
      }
    });
  });
}

async function expectRejection(
  provider: Provider,
  request: WebhookRequest,
  failure: WebhookVerificationFailure,
  label: string,
): Promise<void> {
  const outcome = await settle(() => provider.verifyWebhook(request));

  if (outcome.ok) {
    expect.fail(`${label}: verifyWebhook accepted a request that should fail ${failure}`);
  }

  const detail = describeError(outcome.error);

  expect(isWebhookVerificationError(outcome.error), `${label}: ${detail}`).toBe(true);
  expect((outcome.error as { failure?: unknown }).failure, `${label}: ${detail}`).toBe(failure);
}

async function expectWrongUrl(
  provider: Provider,
  fixture: WebhookFixture,
  signed: WebhookRequest,
  wrongUrl: ((signed: WebhookRequest) => WebhookRequest) | undefined,
): Promise<void> {
  if (wrongUrl !== undefined) {
    const moved = wrongUrl(signed);

    expect(moved.url, `${fixture.name}: wrongUrl kept the URL`).not.toBe(signed.url);
    await expectRejection(provider, moved, "invalid-signature", fixture.name);
    return;
  }

  // Without `wrongUrl` the factory declares that the scheme does not cover the URL.
  const outcome = await settle(() => provider.verifyWebhook(withUrl(signed, movedUrl(signed.url))));
  const detail = outcome.ok ? "" : describeError(outcome.error);
  const message =
    `${fixture.name}: a moved request was rejected (${detail}), so the scheme covers the ` +
    "URL: give attacks.wrongUrl";

  expect(outcome.ok, message).toBe(true);
}

function movedUrl(url: string): string {
  if (!URL.canParse(url)) {
    return `${url}-moved`;
  }

  const moved = new URL(url);

  moved.pathname = `${moved.pathname.replace(/\/$/, "")}-moved`;

  return moved.href;
}

// Without `staleTimestamp` the factory declares that the scheme has no timestamp, so a
// request must still verify a day after it was signed.
async function expectNoTimestamp(
  provider: Provider,
  fixture: WebhookFixture,
  sign: (request: WebhookRequest) => WebhookRequest,
): Promise<void> {
  const signed = sign(fixture.request);

  vi.useFakeTimers({ toFake: ["Date"], now: Date.now() + DAY_MS });

  try {
    const outcome = await settle(() => provider.verifyWebhook(signed));
    const detail = outcome.ok ? "" : describeError(outcome.error);
    const message =
      `${fixture.name}: a day-old request was rejected (${detail}), so the scheme has a ` +
      "timestamp: give attacks.staleTimestamp";

    expect(outcome.ok, message).toBe(true);
  } finally {
    vi.useRealTimers();
  }
}
