import { describe, expect, it } from "vitest";
import { isProviderError, providerErrorReasons } from "../errors.js";
import {
  describeError,
  expectWellFormed,
  readRequestField,
  settle,
} from "./provider-suite-checks.js";
import type { ProviderUnderTest } from "./provider-suite-types.js";

type Current = () => ProviderUnderTest;

const DEFAULT_UNKNOWN_CODE = "987654";

/** Registers the tests that map each documented error code of a status webhook. */
export function describeErrorCodeTests(current: Current): void {
  describe("error codes", () => {
    it("maps each documented code", async () => {
      const { errorCodes } = current();
      const entries = Object.entries(errorCodes.reasons);
      const known: readonly string[] = providerErrorReasons;

      expect(entries.length, "the factory gave no documented error codes").toBeGreaterThan(0);

      for (const [code, reason] of entries) {
        expect(known.includes(reason), `code ${code}: ${reason} is not a reason`).toBe(true);
        expect(await reportedReason(current, code), `code ${code}`).toEqual({ code, reason });
      }
    });

    it("maps an unknown code to unknown", async () => {
      const { errorCodes } = current();
      const code = errorCodes.unknownCode ?? DEFAULT_UNKNOWN_CODE;

      expect(Object.hasOwn(errorCodes.reasons, code), `${code} is documented`).toBe(false);
      expect(await reportedReason(current, code)).toEqual({ code, reason: "unknown" });
    });
  });
}

async function reportedReason(current: Current, code: string) {
  const { provider, errorCodes } = current();
  const label = `status webhook with code ${code}`;
  const outcome = await settle(() =>
    provider.parseWebhook(errorCodes.statusWebhook(code), "status"),
  );

  if (!outcome.ok) {
    expect.fail(`${label}: parseWebhook rejected: ${describeError(outcome.error)}`);
  }

  expectWellFormed(outcome.value, provider.name, label);
  expect(outcome.value.reports, `${label}: reports`).toHaveLength(1);

  const report = outcome.value.reports[0];

  return { code: report?.errorCode, reason: report?.reason };
}

/** Registers the tests that send through the fake API. */
export function describeSendTests(current: Current): void {
  describe("send", () => {
    it("sends through the fake API", async () => {
      const { provider, api, sendExpectation: expected } = current();
      const before = api.requests.length;
      const result = await provider.send(expected.message);
      const request = api.requests.at(-1);

      expect(api.requests.length, "the fake API received no request").toBeGreaterThan(before);
      expect(request?.method, "API request method").toBe(expected.method);
      expect(request?.path, "API request path").toBe(expected.path);

      for (const [name, value] of Object.entries(expected.headers ?? {})) {
        expect(request?.headers[name], `API request header ${name}`).toBe(value);
      }

      for (const [name, value] of Object.entries(expected.body ?? {})) {
        const actual = request === undefined ? undefined : readRequestField(request, name);

        expect(actual, `API request body field ${name}`).toBe(value);
      }

      expect(result.provider, "result provider").toBe(provider.name);
      expect(result.messageId, "result messageId").toBe(expected.messageId());
      expect(result.messageId, "result messageId").not.toBe("");
      expect(result.status, "result status").toBe(expected.status);
      expect(result.to, "result to").toBe(expected.message.to);
    });

    it("maps each refusal", async () => {
      const { provider, refusals = [] } = current();

      expect(refusals.length, "the factory gave no refused send").toBeGreaterThan(0);

      for (const refusal of refusals) {
        const outcome = await settle(() => provider.send(refusal.message));

        if (outcome.ok) {
          expect.fail(`${refusal.name}: the send was accepted`);
        }

        const error = outcome.error;
        const label = `${refusal.name}: ${describeError(error)}`;

        expect(isProviderError(error), label).toBe(true);
        expect((error as { reason?: unknown }).reason, label).toBe(refusal.reason);
        expect((error as { provider?: unknown }).provider, label).toBe(provider.name);

        if (refusal.providerCode !== undefined) {
          const code = (error as { providerCode?: unknown }).providerCode;

          expect(code, label).toBe(refusal.providerCode);
        }
      }
    });
  });
}
