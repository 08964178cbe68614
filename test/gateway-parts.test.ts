import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { MemoryOptOutStore } from "../src/consent/memory.js";
import type { OptOutStore } from "../src/consent/types.js";
import { Gateway } from "../src/gateway/gateway.js";
import { silentLogger } from "../src/logger.js";
import type { InboundMessage, WebhookRequest } from "../src/provider.js";
import { openSqliteStore } from "../src/stores/sqlite.js";
import { type FakeInbound, FakeProvider } from "../src/testing/fake-provider.js";
import { controllableStore } from "./support/stores.js";

const person = "+12025550143";
const ours = "+12025550100";

const parts = {
  1:
    "Hi, this is Sam from flat 2. I have already asked twice by phone and I really do not " +
    "want any more of these appointment reminders sent to this mobile, ",
  2:
    "it is my work phone and my employer can read it. Please take me off your list " +
    "completely and do not text this number again, not even for the yearly ",
  3: "check-up. STOP",
};

function part(index: 1 | 2 | 3, overrides: Partial<FakeInbound> = {}): FakeInbound {
  return {
    messageId: `0A0000000000008${index}`,
    from: person,
    to: ours,
    text: parts[index],
    providerTime: `2025-05-01T12:00:0${index}Z`,
    part: { reference: "108", total: 3, index },
    ...overrides,
  };
}

function request(item: FakeInbound): WebhookRequest {
  return {
    method: "POST",
    url: "https://sms.example.com/webhooks/fake/inbound",
    headers: new Headers({ "x-fake-signature": "fake-secret" }),
    body: new TextEncoder().encode(JSON.stringify({ inbound: [item] })),
  };
}

const directories: string[] = [];
const stores: OptOutStore[] = [];

afterEach(async () => {
  await Promise.all(stores.splice(0).map((store) => store.close()));

  for (const directory of directories.splice(0)) {
    fs.rmSync(directory, { recursive: true, force: true });
  }
});

function sqliteFile(): string {
  const directory = fs.mkdtempSync(path.join(os.tmpdir(), "smsgate-parts-"));
  directories.push(directory);

  return path.join(directory, "consent.db");
}

function setup(store: OptOutStore) {
  const warnings: Array<{ fields: Record<string, unknown>; message: string | undefined }> = [];
  const logger = {
    ...silentLogger,
    warn: (fields: Record<string, unknown>, message?: string) => {
      warnings.push({ fields, message });
    },
  };
  const gateway = new Gateway({ providers: [new FakeProvider()], store, logger });
  const inbound: InboundMessage[] = [];
  gateway.on("inbound", (message) => inbound.push(message));

  return { gateway, inbound, warnings };
}

const storeKinds = {
  memory: () => new MemoryOptOutStore(),
  sqlite: () => {
    const store = openSqliteStore({ path: sqliteFile() });
    stores.push(store);

    return store;
  },
};

describe.each(Object.entries(storeKinds))("multipart messages on %s", (_, makeStore) => {
  it("assembles scrambled parts once", async () => {
    const store = makeStore();
    const { gateway, inbound } = setup(store);
    const arrivals = [part(2), part(3), part(3), part(1)];
    const statuses: number[] = [];
    const optedOutAfter: boolean[] = [];

    for (const item of arrivals) {
      statuses.push(
        (await gateway.handleWebhook("fake", request(item), { kind: "inbound" })).status,
      );
      optedOutAfter.push(await store.isOptedOut(person));
    }

    expect(statuses).toEqual([200, 200, 200, 200]);
    expect(optedOutAfter).toEqual([false, false, false, true]);
    expect(inbound).toHaveLength(1);
    expect(inbound[0]?.text).toBe(`${parts[1]}${parts[2]}${parts[3]}`);
    expect(inbound[0]?.text).toHaveLength(313);
    expect(inbound[0]?.incomplete).toBeUndefined();
    expect(inbound[0]?.providerTime?.toISOString()).toBe("2025-05-01T12:00:01.000Z");
    expect(await store.history(person)).toHaveLength(1);
  });

  it("ignores a part after delivery", async () => {
    const store = makeStore();
    const { gateway, inbound } = setup(store);

    for (const item of [part(1), part(2), part(3), part(2)]) {
      await gateway.handleWebhook("fake", request(item), { kind: "inbound" });
    }

    const flushed = await gateway.flushIncompleteMessages(0);

    expect(inbound).toHaveLength(1);
    expect(flushed).toBe(0);
    expect(await store.history(person)).toHaveLength(1);
  });

  it("reads a reused reference as new", async () => {
    const store = makeStore();
    const { gateway, inbound } = setup(store);
    const next = (index: 1 | 2 | 3) =>
      part(index, { messageId: `0B0000000000009${index}`, text: `second ${index} ` });

    for (const item of [part(1), part(2), part(3), next(1), next(2), next(3)]) {
      await gateway.handleWebhook("fake", request(item), { kind: "inbound" });
    }

    expect(inbound.map((message) => message.text)).toEqual([
      `${parts[1]}${parts[2]}${parts[3]}`,
      "second 1 second 2 second 3 ",
    ]);
  });

  it("keeps references apart per sender", async () => {
    const store = makeStore();
    const { gateway, inbound } = setup(store);
    const other = "+12025550199";

    await gateway.handleWebhook("fake", request(part(1)), { kind: "inbound" });
    await gateway.handleWebhook("fake", request(part(2, { from: other })), { kind: "inbound" });
    await gateway.handleWebhook("fake", request(part(3, { from: other })), { kind: "inbound" });

    expect(inbound).toHaveLength(0);
  });

  it("delivers a timed-out message as incomplete", async () => {
    const store = makeStore();
    const { gateway, inbound, warnings } = setup(store);

    await gateway.handleWebhook("fake", request(part(1)), { kind: "inbound" });
    await gateway.handleWebhook("fake", request(part(3)), { kind: "inbound" });
    const notYet = await gateway.flushIncompleteMessages(60_000);
    const flushed = await gateway.flushIncompleteMessages(0);
    const again = await gateway.flushIncompleteMessages(0);

    expect(notYet).toBe(0);
    expect(flushed).toBe(1);
    expect(again).toBe(0);
    expect(inbound).toHaveLength(1);
    expect(inbound[0]?.incomplete).toBe(true);
    expect(inbound[0]?.text).toBe(`${parts[1]}${parts[3]}`);
    expect(await store.isOptedOut(person)).toBe(true);
    expect(warnings).toEqual([
      {
        fields: { provider: "fake", messageId: inbound[0]?.messageId, parts: 2, total: 3 },
        message: "multipart message delivered with parts missing",
      },
    ]);

    await gateway.handleWebhook("fake", request(part(2)), { kind: "inbound" });

    expect(inbound).toHaveLength(1);
  });

  it("no part alone opts out", async () => {
    const store = makeStore();
    const { gateway } = setup(store);
    const stop = part(2, { text: "STOP" });

    await gateway.handleWebhook("fake", request(stop), { kind: "inbound" });

    expect(await store.isOptedOut(person)).toBe(false);
  });
});

describe("multipart parts on a second gateway", () => {
  it("survives a restart between parts", async () => {
    const file = sqliteFile();
    const first = openSqliteStore({ path: file });
    await setup(first).gateway.handleWebhook("fake", request(part(1)), { kind: "inbound" });
    await setup(first).gateway.handleWebhook("fake", request(part(2)), { kind: "inbound" });
    await first.close();

    const second = openSqliteStore({ path: file });
    stores.push(second);
    const { gateway, inbound } = setup(second);
    await gateway.handleWebhook("fake", request(part(3)), { kind: "inbound" });

    expect(inbound).toHaveLength(1);
    expect(inbound[0]?.text).toHaveLength(313);
    expect(await second.isOptedOut(person)).toBe(true);
  });

  it("answers 503 when a part cannot be stored", async () => {
    const controls = controllableStore();
    const { gateway } = setup(controls.store);
    controls.store = Object.assign(controls.store, {
      addMessagePart: () => Promise.reject(new Error("disk full")),
      stalePartGroups: () => Promise.resolve([]),
    });

    const answer = await gateway.handleWebhook("fake", request(part(1)), { kind: "inbound" });

    expect(answer.status).toBe(503);
  });
});
