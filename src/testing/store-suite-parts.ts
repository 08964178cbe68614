import { beforeEach, describe, expect, it } from "vitest";
import {
  type MessagePartInput,
  type OptOutStore,
  type PartStore,
  partGroupReuseAfterMs,
} from "../consent/types.js";
import { isInvalidRequestError } from "../errors.js";

const BASE_TIME = Date.UTC(2025, 0, 15, 10, 0, 0);

function part(groupKey: string, index: number, total = 3, offsetMs = 0): MessagePartInput {
  return {
    groupKey,
    index,
    total,
    partId: `${groupKey}-${index}`,
    payload: JSON.stringify({ index, text: `part ${index}` }),
    receivedAt: new Date(BASE_TIME + offsetMs),
  };
}

function receipt(id: string, completesPartGroup: string) {
  return {
    id,
    provider: "test",
    events: [],
    outbox: [],
    receivedAt: new Date(BASE_TIME),
    completesPartGroup,
  };
}

/** Whether a store keeps multipart parts. */
export function hasPartStore(store: OptOutStore): store is OptOutStore & PartStore {
  const candidate = store as Partial<PartStore>;

  return (
    typeof candidate.addMessagePart === "function" &&
    typeof candidate.stalePartGroups === "function"
  );
}

/**
 * Registers the conformance tests of `PartStore`; they are reported as skipped for a store
 * without it. `current` returns the store of the running test.
 */
export function describePartStore(current: () => OptOutStore): void {
  describe("message parts", () => {
    let store: OptOutStore & PartStore;

    beforeEach(({ skip }) => {
      const candidate = current();
      skip(!hasPartStore(candidate), "the store does not implement PartStore");
      store = candidate as OptOutStore & PartStore;
    });

    it("returns parts in index order", async () => {
      await store.addMessagePart(part("g1", 2));
      await store.addMessagePart(part("g1", 3));
      const group = await store.addMessagePart(part("g1", 1));

      expect(group.parts.map((entry) => entry.index)).toEqual([1, 2, 3]);
      expect(group.total).toBe(3);
      expect(group.completed).toBe(false);
      expect(JSON.parse(group.parts[0]?.payload ?? "{}").text).toBe("part 1");
    });

    it("keeps a repeated part once", async () => {
      await store.addMessagePart(part("g1", 1));
      const repeat = { ...part("g1", 1), payload: JSON.stringify({ text: "changed" }) };
      const group = await store.addMessagePart(repeat);

      expect(group.parts).toHaveLength(1);
      expect(JSON.parse(group.parts[0]?.payload ?? "{}").text).toBe("part 1");
    });

    it("keeps groups apart by key", async () => {
      await store.addMessagePart(part("g1", 1));
      const other = await store.addMessagePart(part("g2", 2));

      expect(other.parts.map((entry) => entry.index)).toEqual([2]);
    });

    it("ignores parts of a completed group", async () => {
      await store.addMessagePart(part("g1", 1));
      await store.commitWebhook(receipt("test:parts:g1", "g1"));
      const late = await store.addMessagePart(part("g1", 2));

      expect(late.completed).toBe(true);
      expect(late.parts.map((entry) => entry.index)).toEqual([1]);
    });

    it("restarts a group for another message", async () => {
      await store.addMessagePart(part("g1", 1));
      await store.commitWebhook(receipt("test:parts:g1", "g1"));
      const reused = await store.addMessagePart({ ...part("g1", 1, 2), partId: "other-1" });

      expect(reused.completed).toBe(false);
      expect(reused.total).toBe(2);
      expect(reused.parts.map((entry) => entry.partId)).toEqual(["other-1"]);
    });

    it("restarts a group after the reuse window", async () => {
      await store.addMessagePart(part("g1", 1));
      await store.commitWebhook(receipt("test:parts:g1", "g1"));
      const later = new Date(Date.now() + partGroupReuseAfterMs + 60_000);
      const reused = await store.addMessagePart({ ...part("g1", 2), receivedAt: later });

      expect(reused.completed).toBe(false);
      expect(reused.parts.map((entry) => entry.index)).toEqual([2]);
    });

    it("refuses a second delivery of a group", async () => {
      await store.addMessagePart(part("g1", 1));
      const first = await store.commitWebhook(receipt("test:parts:g1:a", "g1"));
      const second = await store.commitWebhook(receipt("test:parts:g1:b", "g1"));

      expect(first.duplicate).toBe(false);
      expect(second.duplicate).toBe(true);
    });

    it("completes a group it never saw", async () => {
      await store.commitWebhook(receipt("test:parts:g9", "g9"));
      const late = await store.addMessagePart(part("g9", 1));

      expect(late.completed).toBe(true);
      expect(late.parts).toHaveLength(0);
    });

    it("lists stale groups oldest first", async () => {
      await store.addMessagePart(part("late", 1, 2, 5_000));
      await store.addMessagePart(part("early", 1, 2, 1_000));
      await store.addMessagePart(part("fresh", 1, 2, 60_000));
      await store.addMessagePart(part("done", 1, 2, 0));
      await store.commitWebhook(receipt("test:parts:done", "done"));

      const stale = await store.stalePartGroups(new Date(BASE_TIME + 10_000), 10);
      const limited = await store.stalePartGroups(new Date(BASE_TIME + 10_000), 1);

      expect(stale.map((group) => group.groupKey)).toEqual(["early", "late"]);
      expect(limited.map((group) => group.groupKey)).toEqual(["early"]);
    });

    it("rejects an index above the total", async () => {
      const error = await store.addMessagePart(part("g1", 4, 3)).then(
        () => undefined,
        (rejection: unknown) => rejection,
      );

      expect(isInvalidRequestError(error)).toBe(true);
    });

    it("stores concurrent parts once each", async () => {
      const copies = [1, 2, 3, 1, 2, 3].map((index) => store.addMessagePart(part("g1", index)));
      const groups = await Promise.all(copies);
      const last = groups.at(-1);

      expect(last?.parts.map((entry) => entry.index)).toEqual([1, 2, 3]);
    });
  });
}
