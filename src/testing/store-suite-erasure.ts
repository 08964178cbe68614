import { beforeEach, describe, expect, it } from "vitest";
import { isOutboxStore } from "../consent/capabilities.js";
import { isErasureStore, pseudonymKeyCheck, pseudonymOf } from "../consent/erasure.js";
import { isPseudonymKeyStore } from "../consent/pseudonym-key.js";
import type {
  ConsentEvent,
  ErasureStore,
  OptOutStore,
  OutboxStore,
  PartStore,
  PseudonymKeyStore,
  WebhookReceipt,
} from "../consent/types.js";
import { isInvalidRequestError } from "../errors.js";
import { hasPartStore } from "./store-suite-parts.js";

const BASE_TIME = Date.UTC(2025, 0, 15, 10, 0, 0);
const APP_NUMBER = "+12025550100";
const PERSON = "+12025550170";
const OTHER = "+12025550171";
const KEY = "conformance-suite-pseudonym-key-0123456789";
const PSEUDONYM = pseudonymOf(KEY, PERSON);

let counter = 0;

function event(fields: Partial<ConsentEvent> = {}): ConsentEvent {
  counter += 1;

  return {
    id: `erasure:event:${counter}`,
    phone: PERSON,
    action: "opt-out",
    sender: APP_NUMBER,
    source: "keyword",
    provider: "test",
    messageId: `SM${counter}`,
    text: "STOP texting me, this is Ann",
    keyword: "STOP",
    note: "Ann's phone",
    occurredAt: new Date(BASE_TIME + counter * 1000),
    ...fields,
  };
}

function receipt(id: string, fields: Partial<WebhookReceipt> = {}): WebhookReceipt {
  return {
    id,
    provider: "test",
    events: [],
    outbox: [],
    receivedAt: new Date(BASE_TIME),
    ...fields,
  };
}

function inboundOutbox(id: string, from: string) {
  return { id, type: "inbound", payload: JSON.stringify({ message: { from, text: "hi" } }) };
}

/**
 * Registers the conformance tests of `ErasureStore`; they are reported as skipped for a
 * store without it. `current` returns the store of the running test.
 */
export function describeErasureStore(current: () => OptOutStore): void {
  describe("erasure", () => {
    let store: OptOutStore & ErasureStore;

    beforeEach(({ skip }) => {
      const candidate = current();
      skip(!isErasureStore(candidate), "the store does not implement ErasureStore");
      store = candidate as OptOutStore & ErasureStore;
    });

    it("moves events to the pseudonym", async () => {
      await store.record(event());
      await store.record(event({ action: "opt-in", keyword: "START" }));

      const result = await store.forget(PERSON, PSEUDONYM);

      expect(result.events).toBe(2);
      expect(await store.history(PERSON)).toEqual([]);
      expect((await store.history(PSEUDONYM)).map((e) => e.action)).toEqual(["opt-out", "opt-in"]);
    });

    it("clears texts and keeps facts", async () => {
      const original = event({ providerCode: "21610" });
      await store.record(original);

      await store.forget(PERSON, PSEUDONYM);
      const [moved] = await store.history(PSEUDONYM);

      expect(moved?.phone).toBe(PSEUDONYM);
      expect(moved?.text).toBeUndefined();
      expect(moved?.keyword).toBeUndefined();
      expect(moved?.note).toBeUndefined();
      expect(moved?.messageId).toBeUndefined();
      expect(moved?.action).toBe("opt-out");
      expect(moved?.sender).toBe(APP_NUMBER);
      expect(moved?.source).toBe("keyword");
      expect(moved?.provider).toBe("test");
      expect(moved?.providerCode).toBe("21610");
      expect(moved?.occurredAt.getTime()).toBe(original.occurredAt.getTime());
      expect(moved?.recordedAt).toBeInstanceOf(Date);
    });

    it("moves the derived state", async () => {
      await store.record(event());

      await store.forget(PERSON, PSEUDONYM);

      expect(await store.isOptedOut(PERSON)).toBe(false);
      expect(await store.isOptedOut(PSEUDONYM)).toBe(true);
      expect(await store.isOptedOut(PSEUDONYM, APP_NUMBER)).toBe(true);
      expect(await store.filterOptedOut([PERSON, PSEUDONYM])).toEqual(new Set([PSEUDONYM]));
    });

    it("second erasure keeps newest event", async () => {
      await store.record(event());
      await store.forget(PERSON, PSEUDONYM);
      await store.record(event({ action: "opt-in" }));

      const result = await store.forget(PERSON, PSEUDONYM);

      expect(result.events).toBe(1);
      expect(await store.history(PSEUDONYM)).toHaveLength(2);
      expect(await store.isOptedOut(PSEUDONYM)).toBe(false);
      expect(await store.isOptedOut(PSEUDONYM, APP_NUMBER)).toBe(false);
    });

    it("leaves other numbers alone", async () => {
      await store.record(event());
      await store.record(event({ phone: OTHER }));

      await store.forget(PERSON, PSEUDONYM);

      expect(await store.history(OTHER)).toHaveLength(1);
      expect((await store.history(OTHER))[0]?.text).toBe("STOP texting me, this is Ann");
      expect(await store.isOptedOut(OTHER)).toBe(true);
    });

    it("unknown number moves nothing", async () => {
      expect(await store.forget(PERSON, PSEUDONYM)).toEqual({ events: 0 });
      expect(await store.history(PSEUDONYM)).toEqual([]);
    });

    it("rejects invalid arguments", async () => {
      const asPhone = await store.forget(PSEUDONYM, PSEUDONYM).catch((e: unknown) => e);
      const badPseudonym = await store.forget(PERSON, "erased:xyz").catch((e: unknown) => e);

      expect(isInvalidRequestError(asPhone)).toBe(true);
      expect(isInvalidRequestError(badPseudonym)).toBe(true);
    });

    it("deletes outbox messages of the number", async ({ skip }) => {
      skip(!isOutboxStore(store), "the store does not implement OutboxStore");
      const outbox = store as unknown as OutboxStore;
      const messages = [inboundOutbox("o1", PERSON), inboundOutbox("o2", OTHER)];
      await store.commitWebhook(receipt("r1", { outbox: messages }));

      await store.forget(PERSON, PSEUDONYM);
      const claimed = await outbox.claimOutbox(10, 60_000);

      expect(claimed.map((entry) => entry.id)).toEqual(["o2"]);
    });

    it("renames receipts that name the number", async () => {
      const id = `parts:test:${PERSON}:${APP_NUMBER}:ref1:SM1`;
      await store.commitWebhook(receipt(id, { events: [event()] }));

      await store.forget(PERSON, PSEUDONYM);
      const renamed = id.replace(PERSON, PSEUDONYM);

      expect((await store.commitWebhook(receipt(renamed))).duplicate).toBe(true);
      expect(await store.isOptedOut(PSEUDONYM)).toBe(true);
    });

    it("deletes parts of the number", async ({ skip }) => {
      skip(!hasPartStore(store), "the store does not implement PartStore");
      const parts = store as unknown as PartStore;
      const part = (groupKey: string, from: string) => ({
        groupKey,
        index: 1,
        total: 2,
        partId: `${groupKey}-1`,
        payload: JSON.stringify({ from, text: "first half" }),
        receivedAt: new Date(BASE_TIME),
      });
      await parts.addMessagePart(part(`test:${PERSON}:${APP_NUMBER}:r1`, PERSON));
      await parts.addMessagePart(part(`test:${OTHER}:${APP_NUMBER}:r2`, OTHER));

      await store.forget(PERSON, PSEUDONYM);
      const waiting = await parts.stalePartGroups(new Date(BASE_TIME + 1), 10);

      expect(waiting.map((group) => group.groupKey)).toEqual([`test:${OTHER}:${APP_NUMBER}:r2`]);
      expect(waiting[0]?.parts).toHaveLength(1);
    });

    it("reports erased numbers and keeps one key check", async ({ skip }) => {
      skip(!isPseudonymKeyStore(store), "the store does not implement PseudonymKeyStore");
      const keys = store as unknown as PseudonymKeyStore;
      const first = pseudonymKeyCheck(KEY);
      const other = pseudonymKeyCheck(`${KEY}-other`);

      const empty = await keys.pseudonymKeyStatus();
      await store.record(event());
      await store.forget(PERSON, PSEUDONYM);
      const kept = await keys.keepPseudonymKeyCheck(first);
      const second = await keys.keepPseudonymKeyCheck(other);
      const after = await keys.pseudonymKeyStatus();

      expect(empty).toEqual({ erased: false, keyCheck: undefined });
      expect(kept).toBe(first);
      expect(second).toBe(first);
      expect(after).toEqual({ erased: true, keyCheck: first });
    });

    it("rejects a key check that is not 64 hex digits", async ({ skip }) => {
      skip(!isPseudonymKeyStore(store), "the store does not implement PseudonymKeyStore");
      const keys = store as unknown as PseudonymKeyStore;

      await expect(keys.keepPseudonymKeyCheck("not-hex")).rejects.toSatisfy(isInvalidRequestError);
    });
  });
}
