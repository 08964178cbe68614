import { beforeEach, describe, expect, it } from "vitest";
import { isNonceStore, isOutboxStore } from "../consent/capabilities.js";
import type { ConsentEvent, OptOutStore, WebhookReceipt } from "../consent/types.js";
import { hasPartStore } from "./store-suite-parts.js";
import { hasStatusStore } from "./store-suite-statuses.js";

const BASE_TIME = Date.UTC(2025, 0, 15, 10, 0, 0);

function nulEvent(id: string, phone: string): ConsentEvent {
  return {
    id,
    phone,
    action: "opt-out",
    sender: "+12025550100",
    source: "keyword",
    provider: "test",
    messageId: "SM\u0000nul",
    text: "STOP\u0000",
    keyword: "STOP",
    note: "a\u0000b",
    occurredAt: new Date(BASE_TIME),
  };
}

function nulReceipt(id: string, events: ConsentEvent[]): WebhookReceipt {
  return {
    id,
    provider: "test",
    events,
    outbox: [],
    receivedAt: new Date(BASE_TIME),
  };
}

/**
 * Registers the conformance tests for U+0000 in stored strings. Every store accepts it and
 * writes U+FFFD in its place in event texts and ids, because PostgreSQL's `text` cannot
 * store it and an opt-out must be recorded whatever its text contains. `current` returns
 * the store of the running test.
 */
export function describeNulStore(current: () => OptOutStore): void {
  describe("U+0000 in stored strings", () => {
    let store: OptOutStore;

    beforeEach(() => {
      store = current();
    });

    it("record stores U+FFFD in event fields", async () => {
      const event = nulEvent("nul:record\u0000", "+12025550191");

      const result = await store.record(event);
      const history = await store.history(event.phone);

      expect(result).toEqual({ recorded: true });
      expect(await store.isOptedOut(event.phone)).toBe(true);
      expect(history).toHaveLength(1);
      expect(history[0]?.id).toBe("nul:record\uFFFD");
      expect(history[0]?.text).toBe("STOP\uFFFD");
      expect(history[0]?.note).toBe("a\uFFFDb");
      expect(history[0]?.messageId).toBe("SM\uFFFDnul");
    });

    it("record stays idempotent on such an id", async () => {
      const event = nulEvent("nul:repeat\u0000", "+12025550192");
      await store.record(event);

      const repeat = await store.record(event);

      expect(repeat).toEqual({ recorded: false });
      expect(await store.history(event.phone)).toHaveLength(1);
    });

    it("commitWebhook commits once with such ids", async () => {
      const event = nulEvent("nul:event\u0000", "+12025550193");
      const receipt = nulReceipt("test:nul\u0000receipt", [event]);

      const first = await store.commitWebhook(receipt);
      const repeat = await store.commitWebhook(structuredClone(receipt));

      expect(first).toEqual({ duplicate: false });
      expect(repeat).toEqual({ duplicate: true });
      expect(await store.isOptedOut(event.phone)).toBe(true);
      expect((await store.history(event.phone))[0]?.text).toBe("STOP\uFFFD");
    });

    it("keeps outbox messages with U+0000", async ({ skip }) => {
      const outbox = store;
      if (!isOutboxStore(outbox)) {
        return skip("the store does not implement OutboxStore");
      }

      const receipt = nulReceipt("test:nul-outbox", []);
      receipt.outbox = [{ id: "nul:outbox\u0000", type: "inbound", payload: '{"text":"a"}' }];
      await outbox.commitWebhook(receipt);

      const claimed = await outbox.claimOutbox(10, 60_000);
      const id = claimed[0]?.id ?? "";
      await outbox.retryOutbox(id, new Date(0), "failed with \u0000 in the message");
      await outbox.completeOutbox(id);

      expect(claimed).toHaveLength(1);
      expect(await outbox.claimOutbox(10, 60_000)).toEqual([]);
    });

    it("finds a status by a message id with U+0000", async ({ skip }) => {
      const statuses = store;
      if (!hasStatusStore(statuses)) {
        return skip("the store does not implement StatusStore");
      }

      const receipt = nulReceipt("test:nul-status", []);
      receipt.statuses = [
        {
          provider: "test",
          messageId: "SM\u0000status",
          status: "delivered",
          rank: 3,
          occurredAt: new Date(BASE_TIME),
        },
      ];

      await statuses.commitWebhook(receipt);

      expect((await statuses.deliveryStatus("test", "SM\u0000status"))?.status).toBe("delivered");
    });

    it("groups message parts with U+0000 in their key", async ({ skip }) => {
      const parts = store;
      if (!hasPartStore(parts)) {
        return skip("the store does not implement PartStore");
      }

      const base = { groupKey: "test:nul\u0000group", total: 2, receivedAt: new Date(BASE_TIME) };

      await parts.addMessagePart({ ...base, index: 1, partId: "p\u00001", payload: '"a\u0000"' });
      const group = await parts.addMessagePart({ ...base, index: 2, partId: "p2", payload: '"b"' });

      expect(group.parts.map((part) => part.index)).toEqual([1, 2]);
    });

    it("finds a nonce with U+0000", async ({ skip }) => {
      const nonces = store;
      if (!isNonceStore(nonces)) {
        return skip("the store does not implement NonceStore");
      }

      const receipt = nulReceipt("test:nul-nonce", []);
      receipt.nonce = { value: "nonce\u0000", requestHash: "ab".repeat(32) };

      await nonces.commitWebhook(receipt);

      expect(await nonces.findNonce("test", "nonce\u0000")).toBe("ab".repeat(32));
    });
  });
}
