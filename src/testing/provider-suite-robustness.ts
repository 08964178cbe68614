import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { isWebhookParseError, isWebhookVerificationError } from "../errors.js";
import type { Provider, WebhookKind, WebhookRequest } from "../provider.js";
import { describeError, expectWellFormed, settle } from "./provider-suite-checks.js";
import {
  type GarbageRequest,
  garbageBodies,
  garbageVariants,
  mutatedBodyRequests,
  randomBytesRequests,
  randomFieldRequests,
  randomHeaderRequests,
} from "./provider-suite-garbage.js";
import type { ProviderUnderTest } from "./provider-suite-types.js";

type Current = () => ProviderUnderTest;

/** Runs of each fast-check property: enough to find crashes, few enough to stay fast. */
const NUM_RUNS = 150;

const KINDS: readonly WebhookKind[] = ["inbound", "status"];

/**
 * Checks one malformed request: `verifyWebhook` resolves or rejects with a
 * `WebhookVerificationError`, and `parseWebhook` of either kind resolves with a
 * well-formed result or rejects with a `WebhookParseError`.
 */
async function expectOnlyTypedErrors(provider: Provider, garbage: GarbageRequest) {
  const { label, request } = garbage;
  const verified = await settle(() => provider.verifyWebhook(request));

  if (!verified.ok) {
    const detail = `${label}: verifyWebhook failed with ${describeError(verified.error)}`;

    expect(isWebhookVerificationError(verified.error), detail).toBe(true);
  }

  for (const kind of KINDS) {
    const parsed = await settle(() => provider.parseWebhook(request, kind));

    if (parsed.ok) {
      expectWellFormed(parsed.value, provider.name, `${label} (${kind})`);
    } else {
      const detail = `${label}: parseWebhook(${kind}) failed with ${describeError(parsed.error)}`;

      expect(isWebhookParseError(parsed.error), detail).toBe(true);
    }
  }
}

/** Signs the fixtures and collects the names of the headers the signer added or changed. */
function signedBases(subject: ProviderUnderTest) {
  const names = new Set<string>();
  const bases: WebhookRequest[] = [];

  for (const fixture of subject.fixtures) {
    const signed = subject.sign(fixture.request);

    for (const [name, value] of signed.headers) {
      if (fixture.request.headers.get(name) !== value) {
        names.add(name);
      }
    }

    bases.push(signed);
  }

  return { bases, headerNames: [...names] };
}

async function checkProperty(
  subject: ProviderUnderTest,
  build: (base: WebhookRequest, names: readonly string[]) => fc.Arbitrary<GarbageRequest>,
) {
  const { bases, headerNames } = signedBases(subject);
  const requests = fc.constantFrom(...bases).chain((base) => build(base, headerNames));
  const property = fc.asyncProperty(requests, (garbage) =>
    expectOnlyTypedErrors(subject.provider, garbage),
  );

  await fc.assert(property, { numRuns: NUM_RUNS });
}

/** Registers the tests that feed malformed and hostile webhooks to the provider. */
export function describeRobustnessTests(current: Current): void {
  describe("malformed input", () => {
    it("survives malformed bodies", async () => {
      const subject = current();
      const [base] = signedBases(subject).bases;

      for (const garbage of base === undefined ? [] : garbageBodies(base)) {
        await expectOnlyTypedErrors(subject.provider, garbage);
      }
    });

    it("survives broken requests", async () => {
      const subject = current();
      const { bases, headerNames } = signedBases(subject);

      for (const garbage of bases.flatMap((base) => garbageVariants(base, headerNames))) {
        await expectOnlyTypedErrors(subject.provider, garbage);
      }
    });

    it("survives random bytes", async () => {
      await checkProperty(current(), (base) => randomBytesRequests(base));
    });

    it("survives random headers", async () => {
      await checkProperty(current(), randomHeaderRequests);
    });

    it("survives mutated bodies", async () => {
      await checkProperty(current(), (base) => mutatedBodyRequests(base));
    });

    it("survives random field values", async () => {
      await checkProperty(current(), (base) => randomFieldRequests(base));
    });
  });
}
