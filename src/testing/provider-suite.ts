/**
 * The conformance suite of the `Provider` contract. A provider module calls
 * {@link describeProvider} from a vitest test file with a factory that starts the module's
 * fake API, builds the provider against it and hands over recorded webhooks, the module's
 * own test signer, ways to break a signature, its error-code table and one expected send.
 *
 * Every test gets a fresh provider from the factory and closes it afterwards. A call that
 * never settles fails its test by vitest's test timeout.
 */

import { afterEach, beforeEach, describe } from "vitest";
import { describeRobustnessTests } from "./provider-suite-robustness.js";
import { describeErrorCodeTests, describeSendTests } from "./provider-suite-send.js";
import type { ProviderFactory, ProviderUnderTest } from "./provider-suite-types.js";
import { describeFixtureTests, describeSignatureTests } from "./provider-suite-webhooks.js";

export type {
  ErrorCodeCases,
  ExpectedInbound,
  ExpectedReport,
  InboundFixture,
  ProviderFactory,
  ProviderUnderTest,
  SendExpectation,
  SendRefusal,
  StatusFixture,
  WebhookAttacks,
  WebhookFixture,
} from "./provider-suite-types.js";

/**
 * Registers the conformance tests of the `Provider` contract under `describe(name)`:
 *
 * - every fixture parses to its expected fields, verifies once signed, and goes through a
 *   `Gateway`, where an opt-out flag or an `opted-out` report ends as an opt-out;
 * - a tampered body, a wrong URL, a missing signature and a stale timestamp are rejected
 *   with a `WebhookVerificationError` of the matching `failure`;
 * - every documented error code maps to its reason, and an unknown one to `unknown`;
 * - a send reaches the fake API as expected and its result is read back, and each refusal
 *   becomes a `ProviderError` with its reason;
 * - malformed input (a fixed list, and random bytes, headers and fields from fast-check)
 *   makes `verifyWebhook` reject with nothing but a `WebhookVerificationError`, and
 *   `parseWebhook` with nothing but a `WebhookParseError`.
 *
 * @example
 * ```ts
 * import { describeProvider } from "smsgate/testing";
 *
 * describeProvider("acme", async () => {
 *   const api = await startFakeAcmeApi();
 *   const provider = acme({ apiKey: api.apiKey, apiBaseUrl: api.url });
 *
 *   return { provider, api, close: async () => { await provider.close(); await api.close(); },
 *     fixtures, sign, attacks, errorCodes, sendExpectation, refusals };
 * });
 * ```
 */
export function describeProvider(name: string, factory: ProviderFactory): void {
  describe(name, () => {
    let subject: ProviderUnderTest | undefined;

    const current = (): ProviderUnderTest => {
      if (subject === undefined) {
        throw new Error("The provider factory did not run before this test");
      }

      return subject;
    };

    beforeEach(async () => {
      subject = await factory();
    });

    afterEach(async () => {
      await subject?.close();
      subject = undefined;
    });

    describeFixtureTests(current);
    describeSignatureTests(current);
    describeErrorCodeTests(current);
    describeSendTests(current);
    describeRobustnessTests(current);
  });
}
