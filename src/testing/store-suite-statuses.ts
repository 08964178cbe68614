import { beforeEach, describe, expect, it } from "vitest";
import type { OptOutStore, StatusStore, StatusUpdate } from "../consent/types.js";

const BASE_TIME = Date.UTC(2025, 0, 15, 10, 0, 0);

function update(messageId: string, status: string, rank: number): StatusUpdate {
  return { provider: "test", messageId, status, rank, occurredAt: new Date(BASE_TIME + rank) };
}

function receipt(id: string, statuses: StatusUpdate[]) {
  return {
    id,
    provider: "test",
    events: [],
    outbox: [],
    receivedAt: new Date(BASE_TIME),
    statuses,
  };
}

/** Checks whether a store keeps delivery statuses. */
export function hasStatusStore(store: OptOutStore): store is OptOutStore & StatusStore {
  return typeof (store as Partial<StatusStore>).deliveryStatus === "function";
}

/**
 * Registers the conformance tests of `StatusStore`; they are reported as skipped for a
 * store without it. `current` returns the store of the running test.
 */
export function describeStatusStore(current: () => OptOutStore): void {
  describe("delivery statuses", () => {
    let store: OptOutStore & StatusStore;

    beforeEach(({ skip }) => {
      const candidate = current();
      skip(!hasStatusStore(candidate), "the store does not implement StatusStore");
      store = candidate as OptOutStore & StatusStore;
    });

    it("keeps the newest status", async () => {
      const first = await store.commitWebhook(receipt("r1", [update("SM1", "sent", 4)]));
      const second = await store.commitWebhook(receipt("r2", [update("SM1", "delivered", 5)]));
      const stored = await store.deliveryStatus("test", "SM1");

      expect(first.advanced).toEqual([true]);
      expect(second.advanced).toEqual([true]);
      expect(stored?.status).toBe("delivered");
      expect(stored?.rank).toBe(5);
    });

    it("never moves a status backwards", async () => {
      await store.commitWebhook(receipt("r1", [update("SM1", "delivered", 5)]));
      const late = await store.commitWebhook(receipt("r2", [update("SM1", "sent", 4)]));
      const same = await store.commitWebhook(receipt("r3", [update("SM1", "failed", 5)]));
      const stored = await store.deliveryStatus("test", "SM1");

      expect(late.advanced).toEqual([false]);
      expect(same.advanced).toEqual([false]);
      expect(stored?.status).toBe("delivered");
    });

    it("keeps messages apart", async () => {
      const result = await store.commitWebhook(
        receipt("r1", [update("SM1", "delivered", 5), update("SM2", "queued", 2)]),
      );

      expect(result.advanced).toEqual([true, true]);
      expect((await store.deliveryStatus("test", "SM2"))?.status).toBe("queued");
      expect(await store.deliveryStatus("test", "SM3")).toBeUndefined();
    });

    it("writes no status for a duplicate", async () => {
      await store.commitWebhook(receipt("r1", [update("SM1", "sent", 4)]));
      const repeat = await store.commitWebhook(receipt("r1", [update("SM1", "read", 6)]));

      expect(repeat.duplicate).toBe(true);
      expect((await store.deliveryStatus("test", "SM1"))?.status).toBe("sent");
    });
  });
}
