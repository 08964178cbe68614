import { describe, expect, it } from "vitest";
import { MemoryOptOutStore } from "../src/consent/memory.js";
import type { ConsentEvent } from "../src/consent/types.js";
import { isInvalidConsentEventError, isInvalidRequestError, isStoreError } from "../src/errors.js";
import { describeOptOutStore } from "../src/testing/store-suite.js";

describeOptOutStore("MemoryOptOutStore", async () => ({ store: new MemoryOptOutStore() }));

function argumentOf(error: unknown): string | undefined {
  expect(isInvalidRequestError(error)).toBe(true);
  return /^Invalid store argument (\S+):/.exec((error as Error).message)?.[1];
}

function stopEvent(id: string): ConsentEvent {
  return {
    id,
    phone: "+12025550143",
    action: "opt-out",
    sender: "+12025550100",
    source: "keyword",
    occurredAt: new Date("2025-01-15T10:00:00Z"),
  };
}

describe("MemoryOptOutStore specifics", () => {
  it("names the invalid event field", async () => {
    const store = new MemoryOptOutStore();
    const event = { ...stopEvent("e1"), sender: "" };

    const error = await store.record(event).catch((rejection: unknown) => rejection);

    expect(isInvalidConsentEventError(error)).toBe(true);
    expect((error as { field: string }).field).toBe("event.sender");
    expect((error as Error).message).toContain('received ""');
  });

  it("names the invalid receipt event", async () => {
    const store = new MemoryOptOutStore();
    const bad = { ...stopEvent("e2"), action: "remove" } as unknown as ConsentEvent;
    const receipt = {
      id: "r1",
      provider: "twilio",
      events: [stopEvent("e1"), bad],
      outbox: [],
      receivedAt: new Date(),
    };

    const error = await store.commitWebhook(receipt).catch((rejection: unknown) => rejection);

    expect((error as { field: string }).field).toBe("receipt.events[1].action");
  });

  it("rejects an empty scope", async () => {
    const store = new MemoryOptOutStore();

    const error = await store.isOptedOut("+12025550143", "").catch((e: unknown) => e);

    expect(isInvalidRequestError(error)).toBe(true);
    expect(argumentOf(error)).toBe("scope");
  });

  it("rejects invalid outbox arguments", async () => {
    const store = new MemoryOptOutStore();

    const zero = await store.claimOutbox(0, 1000).catch((e: unknown) => e);
    const fraction = await store.claimOutbox(1, 1.5).catch((e: unknown) => e);
    const date = await store.retryOutbox("o1", new Date(Number.NaN), "x").catch((e: unknown) => e);

    expect(argumentOf(zero)).toBe("limit");
    expect(argumentOf(fraction)).toBe("leaseMs");
    expect(argumentOf(date)).toBe("notBefore");
  });

  it("returned events are copies", async () => {
    const store = new MemoryOptOutStore();
    await store.record(stopEvent("e1"));

    const [first] = await store.history("+12025550143");
    if (first !== undefined) {
      first.action = "opt-in";
    }

    expect(await store.isOptedOut("+12025550143")).toBe(true);
    expect((await store.history("+12025550143"))[0]?.action).toBe("opt-out");
  });

  it("overrides a given recordedAt", async () => {
    const store = new MemoryOptOutStore();
    const given = new Date("2000-01-01T00:00:00Z");

    await store.record({ ...stopEvent("e1"), recordedAt: given });
    const [stored] = await store.history("+12025550143");

    expect(stored?.recordedAt).toBeInstanceOf(Date);
    expect(stored?.recordedAt?.getTime()).not.toBe(given.getTime());
  });

  it("close twice resolves", async () => {
    const store = new MemoryOptOutStore();

    await store.close();
    await store.close();

    const error = await store.isOptedOut("+12025550143").catch((e: unknown) => e);
    expect(isStoreError(error)).toBe(true);
  });
});
