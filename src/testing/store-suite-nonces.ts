import { beforeEach, describe, expect, it } from "vitest";
import { isHealthCheckStore, isNonceStore } from "../consent/capabilities.js";
import type {
  ConsentEvent,
  HealthCheckStore,
  NonceStore,
  OptOutStore,
  WebhookNonce,
  WebhookReceipt,
} from "../consent/types.js";

const BASE_TIME = Date.UTC(2025, 0, 15, 10, 0, 0);
const HASH_A = "a".repeat(64);
const HASH_B = "b".repeat(64);

function optOut(id: string, phone: string): ConsentEvent {
  return {
    id,
    phone,
    action: "opt-out",
    sender: "+12025550100",
    source: "keyword",
    occurredAt: new Date(BASE_TIME),
  };
}

function receipt(id: string, nonce: WebhookNonce | undefined, phone = "+12025550143") {
  const value: WebhookReceipt = {
    id,
    provider: "test",
    events: [optOut(`${id}:event`, phone)],
    outbox: [],
    receivedAt: new Date(BASE_TIME),
  };

  if (nonce !== undefined) {
    value.nonce = nonce;
  }

  return value;
}

/**
 * Registers the conformance tests of `NonceStore` and `HealthCheckStore`. They are reported
 * as skipped for a store without them. `current` returns the store of the running test.
 */
export function describeNonceStore(current: () => OptOutStore): void {
  describe("webhook nonces", () => {
    let store: OptOutStore & NonceStore;

    beforeEach(({ skip }) => {
      const candidate = current();
      skip(!isNonceStore(candidate), "the store does not implement NonceStore");
      store = candidate as OptOutStore & NonceStore;
    });

    it("keeps the nonce of a committed receipt", async () => {
      expect(await store.findNonce("test", "n-1")).toBeUndefined();

      const result = await store.commitWebhook(
        receipt("r1", { value: "n-1", requestHash: HASH_A }),
      );

      expect(result.duplicate).toBe(false);
      expect(result.replayed).not.toBe(true);
      expect(await store.findNonce("test", "n-1")).toBe(HASH_A);
      expect(await store.findNonce("other", "n-1")).toBeUndefined();
    });

    it("writes nothing for a nonce stored with another request", async () => {
      await store.commitWebhook(receipt("r1", { value: "n-1", requestHash: HASH_A }));
      const replay = await store.commitWebhook(
        receipt("r2", { value: "n-1", requestHash: HASH_B }, "+12025550144"),
      );

      expect(replay).toMatchObject({ duplicate: false, replayed: true });
      expect(await store.isOptedOut("+12025550144")).toBe(false);
      expect(await store.history("+12025550144")).toEqual([]);
      expect(await store.findNonce("test", "n-1")).toBe(HASH_A);
    });

    it("treats a repeat of the same request as a duplicate", async () => {
      await store.commitWebhook(receipt("r1", { value: "n-1", requestHash: HASH_A }));
      const repeat = await store.commitWebhook(
        receipt("r1", { value: "n-1", requestHash: HASH_A }),
      );

      expect(repeat.duplicate).toBe(true);
      expect(repeat.replayed).not.toBe(true);
      expect(await store.history("+12025550143")).toHaveLength(1);
    });

    it("keeps a new nonce that arrives with a duplicate receipt", async () => {
      await store.commitWebhook(receipt("r1", { value: "n-1", requestHash: HASH_A }));
      const retry = await store.commitWebhook(receipt("r1", { value: "n-2", requestHash: HASH_B }));

      expect(retry.duplicate).toBe(true);
      expect(await store.findNonce("test", "n-2")).toBe(HASH_B);
    });

    it("commits one of two concurrent nonce uses", async () => {
      const results = await Promise.all([
        store.commitWebhook(receipt("r1", { value: "n-1", requestHash: HASH_A })),
        store.commitWebhook(receipt("r2", { value: "n-1", requestHash: HASH_B }, "+12025550144")),
      ]);
      const committed = results.filter((result) => !result.duplicate && !result.replayed);
      const stored = await store.findNonce("test", "n-1");
      const [winner, loser] =
        stored === HASH_A ? ["+12025550143", "+12025550144"] : ["+12025550144", "+12025550143"];

      expect(committed).toHaveLength(1);
      expect(results.filter((result) => result.replayed)).toHaveLength(1);
      expect(await store.isOptedOut(winner)).toBe(true);
      expect(await store.isOptedOut(loser)).toBe(false);
    });

    it("keeps no nonce for a receipt that fails validation", async () => {
      const invalid = receipt("r1", { value: "n-1", requestHash: "not-a-hash" });

      await expect(store.commitWebhook(invalid)).rejects.toMatchObject({
        code: "SMSGATE_INVALID_REQUEST",
      });
      expect(await store.findNonce("test", "n-1")).toBeUndefined();
    });

    it("rejects an empty provider or nonce in findNonce", async () => {
      await expect(store.findNonce("", "n-1")).rejects.toMatchObject({
        code: "SMSGATE_INVALID_REQUEST",
      });
      await expect(store.findNonce("test", "")).rejects.toMatchObject({
        code: "SMSGATE_INVALID_REQUEST",
      });
    });
  });

  describe("health check", () => {
    it("resolves while the store takes writes", async ({ skip }) => {
      const candidate = current();
      skip(!isHealthCheckStore(candidate), "the store does not implement HealthCheckStore");

      await expect((candidate as OptOutStore & HealthCheckStore).checkHealth()).resolves.toBe(
        undefined,
      );
    });
  });
}
