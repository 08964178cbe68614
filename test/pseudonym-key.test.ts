import { describe, expect, it } from "vitest";
import { pseudonymOf } from "../src/consent/erasure.js";
import { MemoryOptOutStore } from "../src/consent/memory.js";
import { keepPseudonymKey, verifyPseudonymKey } from "../src/consent/pseudonym-key.js";
import { isConfigError } from "../src/errors.js";
import { controllableStore } from "./support/stores.js";

const KEY = "pseudonym-key-for-the-key-check-tests-0123";
const OTHER_KEY = "another-pseudonym-key-for-the-check-tests";
const person = "+12025550143";

async function erasedStore(): Promise<MemoryOptOutStore> {
  const store = new MemoryOptOutStore();

  await store.record({
    id: "e1",
    phone: person,
    action: "opt-out",
    sender: "*",
    source: "manual",
    occurredAt: new Date(Date.UTC(2025, 0, 15)),
  });
  await store.forget(person, pseudonymOf(KEY, person));

  return store;
}

describe("verifyPseudonymKey", () => {
  it("passes a store without erased numbers", async () => {
    const store = new MemoryOptOutStore();

    await expect(verifyPseudonymKey(store, undefined)).resolves.toBeUndefined();
    await expect(verifyPseudonymKey(store, KEY)).resolves.toBeUndefined();
  });

  it("rejects a missing key on erased numbers", async () => {
    const store = await erasedStore();

    await expect(verifyPseudonymKey(store, undefined)).rejects.toSatisfy(isConfigError);
    await expect(verifyPseudonymKey(store, undefined)).rejects.toThrow(
      "privacy.pseudonymKey: is missing",
    );
  });

  it("rejects another key once one is kept", async () => {
    const store = await erasedStore();
    await keepPseudonymKey(store, KEY);

    await expect(verifyPseudonymKey(store, KEY)).resolves.toBeUndefined();
    await expect(verifyPseudonymKey(store, OTHER_KEY)).rejects.toThrow("differs from the key");
  });

  it("skips a store without key checks", async () => {
    const controls = controllableStore();

    await expect(verifyPseudonymKey(controls.store, undefined)).resolves.toBeUndefined();
    await expect(keepPseudonymKey(controls.store, KEY)).resolves.toBeUndefined();
  });
});

describe("keepPseudonymKey", () => {
  it("keeps the first key only", async () => {
    const store = new MemoryOptOutStore();

    await keepPseudonymKey(store, KEY);

    await expect(keepPseudonymKey(store, KEY)).resolves.toBeUndefined();
    await expect(keepPseudonymKey(store, OTHER_KEY)).rejects.toSatisfy(isConfigError);
    expect((await store.pseudonymKeyStatus()).erased).toBe(false);
  });
});
