import { describe, expect, it } from "vitest";
import { pseudonymOf } from "../src/consent/erasure.js";
import { MemoryOptOutStore } from "../src/consent/memory.js";
import type { ConsentEvent } from "../src/consent/types.js";
import { isConfigError, isRecipientOptedOutError } from "../src/errors.js";
import { Gateway } from "../src/gateway/gateway.js";
import { FakeProvider } from "../src/testing/fake-provider.js";

const KEY = "gateway-test-pseudonym-key-0123456789abcdef";
const PERSON = "+12025550180";
const OTHER = "+12025550181";

function event(action: ConsentEvent["action"], minute: number, id: string): ConsentEvent {
  return {
    id,
    phone: PERSON,
    action,
    sender: "*",
    source: "keyword",
    occurredAt: new Date(Date.UTC(2025, 0, 15, 10, minute)),
  };
}

async function erasedSetup(pseudonymKey: string | undefined = KEY) {
  const store = new MemoryOptOutStore();
  const provider = new FakeProvider({ defaultSender: "+12025550100" });
  const gateway = new Gateway({ providers: [provider], store, pseudonymKey });

  await store.record(event("opt-out", 0, "e1"));
  await store.forget(PERSON, pseudonymOf(KEY, PERSON));

  return { store, provider, gateway };
}

describe("send guard with pseudonyms", () => {
  it("blocks an erased number", async () => {
    const { provider, gateway } = await erasedSetup();

    const error = await gateway.send({ to: PERSON, body: "hi" }).catch((e: unknown) => e);

    expect(isRecipientOptedOutError(error)).toBe(true);
    expect(provider.sent).toHaveLength(0);
  });

  it("sendMany blocks an erased number", async () => {
    const { provider, gateway } = await erasedSetup();

    const results = await gateway.sendMany([
      { to: PERSON, body: "hi" },
      { to: OTHER, body: "hi" },
    ]);

    expect(results.map((result) => result.status)).toEqual(["opted-out", "sent"]);
    expect(provider.sent.map((message) => message.to)).toEqual([OTHER]);
  });

  it("later opt-in lifts the block", async () => {
    const { store, gateway } = await erasedSetup();
    await store.record(event("opt-in", 5, "e2"));

    await gateway.send({ to: PERSON, body: "hi" });
    const results = await gateway.sendMany([{ to: PERSON, body: "hi" }]);

    expect(results[0]?.status).toBe("sent");
  });

  it("late older opt-in keeps the block", async () => {
    const { store, provider, gateway } = await erasedSetup();
    await store.record({ ...event("opt-in", 0, "e2"), occurredAt: new Date(Date.UTC(2024, 0, 1)) });

    const error = await gateway.send({ to: PERSON, body: "hi" }).catch((e: unknown) => e);

    expect(isRecipientOptedOutError(error)).toBe(true);
    expect(provider.sent).toHaveLength(0);
  });

  it("without the key the pseudonym is unread", async () => {
    const store = new MemoryOptOutStore();
    const provider = new FakeProvider();
    const gateway = new Gateway({ providers: [provider], store });
    await store.record(event("opt-out", 0, "e1"));
    await store.forget(PERSON, pseudonymOf(KEY, PERSON));

    await gateway.send({ to: PERSON, body: "hi" });

    expect(provider.sent).toHaveLength(1);
  });

  it("rejects a short key", () => {
    const store = new MemoryOptOutStore();
    const create = () =>
      new Gateway({ providers: [new FakeProvider()], store, pseudonymKey: "short" });

    const error = (() => {
      try {
        create();
      } catch (caught) {
        return caught;
      }
    })();

    expect(isConfigError(error)).toBe(true);
    expect((error as Error).message).toContain("at least 32 non-blank characters");
  });
});
