import { describe, expect, it } from "vitest";
import { MemoryOptOutStore } from "../src/consent/memory.js";
import type { ConsentEvent } from "../src/consent/types.js";
import {
  type InvalidPhoneNumberError,
  isConsentCheckError,
  isInvalidPhoneNumberError,
  isInvalidRequestError,
  isProviderError,
  isRecipientOptedOutError,
} from "../src/errors.js";
import { Gateway } from "../src/gateway/gateway.js";
import type { GatewayOptions, SendRequest } from "../src/gateway/types.js";
import { FakeProvider, fakeRefusal } from "../src/testing/fake-provider.js";
import { rejection } from "./support/rejection.js";
import { controllableStore } from "./support/stores.js";

const sender = "+12025550100";

function optOut(phone: string, overrides: Partial<ConsentEvent> = {}): ConsentEvent {
  return {
    id: `test:${phone}:${overrides.sender ?? "*"}:${overrides.occurredAt?.getTime() ?? 0}`,
    phone,
    action: "opt-out",
    sender: "*",
    source: "manual",
    occurredAt: new Date("2025-05-01T12:00:00Z"),
    ...overrides,
  };
}

function setup(options: Partial<GatewayOptions> = {}, provider = new FakeProvider()) {
  const store = new MemoryOptOutStore();
  const gateway = new Gateway({ providers: [provider], store, ...options });

  return { gateway, store, provider };
}

describe("Gateway.send guard", () => {
  it("sends to a number with no events", async () => {
    const { gateway, provider } = setup();

    const result = await gateway.send({ to: "+12025550143", body: "hello", from: sender });

    expect(result.to).toBe("+12025550143");
    expect(provider.sent).toHaveLength(1);
    expect(provider.sent[0]?.from).toBe(sender);
  });

  it("refuses an opted-out recipient locally", async () => {
    const { gateway, store, provider } = setup();
    await store.record(optOut("+12025550143"));

    const error = await rejection(gateway.send({ to: "+12025550143", body: "hi" }));

    expect(isRecipientOptedOutError(error)).toBe(true);
    expect(provider.sent).toHaveLength(0);
  });

  it("blocks every written form of a number", async () => {
    const { gateway, store, provider } = setup({ defaultRegion: "US" });
    await store.record(optOut("+12025550143"));
    const forms = [
      "+1 202-555-0143 ext. 12",
      "(202) 555-0143 x12",
      "+1 202 555 0143;ext=12",
      "+12025550143#12",
      "(202) 555-0143",
      "202.555.0143",
    ];

    for (const to of forms) {
      const error = await rejection(gateway.send({ to, body: "hi" }));

      expect(isRecipientOptedOutError(error), to).toBe(true);
    }

    expect(provider.sent).toHaveLength(0);
  });

  it("rejects an invalid recipient by name", async () => {
    const { gateway, provider } = setup();

    const error = await rejection(gateway.send({ to: "81234567", body: "hi" }));

    expect(isInvalidPhoneNumberError(error)).toBe(true);
    expect((error as InvalidPhoneNumberError).input).toBe("81234567");
    expect((error as Error).message).toContain('"8***4567"');
    expect(provider.sent).toHaveLength(0);
  });

  it("reads a digits-only sender as international", async () => {
    const { gateway, provider } = setup();

    await gateway.send({ to: "+12025550143", body: "hi", from: "12025550100" });

    expect(provider.sent[0]?.from).toBe("+12025550100");
  });

  it("rejects a media URL of another scheme", async () => {
    const { gateway, provider } = setup();

    for (const url of ["file:///etc/passwd", "notaurl", "ftp://example.com/a.png"]) {
      const error = await rejection(
        gateway.send({ to: "+12025550143", body: "hi", mediaUrls: [url] }),
      );

      expect(isInvalidRequestError(error), url).toBe(true);
      expect((error as Error).message).toContain(url);
    }

    expect(provider.sent).toHaveLength(0);
  });

  it("rejects an empty body", async () => {
    const { gateway } = setup();

    const error = await rejection(gateway.send({ to: "+12025550143", body: "" }));

    expect(isInvalidRequestError(error)).toBe(true);
    expect((error as Error).message).toBe(
      "`body` is empty; pass the message text, or media URLs for a message without text",
    );
  });

  it("names fields of the wrong type", async () => {
    const { gateway, provider } = setup();
    const cases: Array<[Record<string, unknown>, string]> = [
      [
        { to: 12025550143, body: "hi" },
        "`to` must be a string (received number); pass the recipient's phone number",
      ],
      [
        { to: "+12025550143", body: 5 },
        "`body` must be a string (received number); pass the message text",
      ],
      [
        { to: null, body: "hi" },
        "`to` must be a string (received null); pass the recipient's phone number",
      ],
      [
        { to: "+12025550143", body: ["hi"] },
        "`body` must be a string (received array); pass the message text",
      ],
      [
        { to: "+12025550143", body: "hi", from: 12025550100 },
        "`from` must be a string (received number); omit it to use the provider's default sender",
      ],
      [
        { to: "+12025550143", body: "hi", provider: {} },
        "`provider` must be a string (received object); omit it to use the first provider",
      ],
      [
        { to: "+12025550143", body: "hi", mediaUrls: "https://example.com/a.png" },
        "`mediaUrls` must be an array of http or https URLs (received string)",
      ],
    ];

    for (const [request, message] of cases) {
      const error = await rejection(gateway.send(request as unknown as SendRequest));

      expect(isInvalidRequestError(error), message).toBe(true);
      expect((error as Error).message).toBe(message);
    }

    expect(provider.sent).toHaveLength(0);
  });

  it("names missing and empty fields", async () => {
    const { gateway, provider } = setup();
    const cases: Array<[Record<string, unknown>, string]> = [
      [{ body: "hi" }, "`to` is missing; pass the recipient's phone number"],
      [{ to: "  ", body: "hi" }, "`to` is empty; pass the recipient's phone number"],
      [{ to: "+12025550143" }, "`body` is missing; pass the message text"],
      [
        { to: "+12025550143", body: "hi", from: "" },
        "`from` is empty; omit it to use the provider's default sender",
      ],
      [
        { to: "+12025550143", body: "hi", provider: " " },
        "`provider` is empty; omit it to use the first provider",
      ],
    ];

    for (const [request, message] of cases) {
      const error = await rejection(gateway.send(request as unknown as SendRequest));

      expect(isInvalidRequestError(error), message).toBe(true);
      expect((error as Error).message).toBe(message);
    }

    expect(provider.sent).toHaveLength(0);
  });

  it("rejects a request that is no object", async () => {
    const { gateway } = setup();

    const error = await rejection(gateway.send("+12025550143" as unknown as SendRequest));

    expect(isInvalidRequestError(error)).toBe(true);
    expect((error as Error).message).toBe(
      "send() needs an object with `to` and `body` (received string)",
    );
  });

  it("rejects an unknown provider name", async () => {
    const { gateway } = setup();

    const error = await rejection(
      gateway.send({ to: "+12025550143", body: "hi", provider: "nope" }),
    );

    expect(isInvalidRequestError(error)).toBe(true);
    expect((error as Error).message).toContain("nope");
  });

  it("refuses to send when the store fails", async () => {
    const controls = controllableStore();
    const provider = new FakeProvider();
    const gateway = new Gateway({ providers: [provider], store: controls.store });
    controls.failing = true;

    const error = await rejection(gateway.send({ to: "+12025550143", body: "hi" }));

    expect(isConsentCheckError(error)).toBe(true);
    expect(provider.sent).toHaveLength(0);
  });

  it("asks for status callbacks at the public URL", async () => {
    const { gateway, provider } = setup({ publicUrl: "https://sms.example.com/base/" });

    await gateway.send({ to: "+12025550143", body: "hi" });

    expect(provider.sent[0]?.statusCallbackUrl).toBe(
      "https://sms.example.com/base/webhooks/fake/status",
    );
  });
});

describe("Gateway.send provider refusal", () => {
  it("records an opt-out refusal and refuses next", async () => {
    const provider = new FakeProvider({
      onSend: () => {
        throw fakeRefusal("opted-out", "21610");
      },
    });
    const { gateway, store } = setup({}, provider);
    const seen: ConsentEvent[] = [];
    gateway.on("opt-out", (event) => seen.push(event));

    const first = await rejection(
      gateway.send({ from: sender, to: "+12025550143", body: "Your survey is ready" }),
    );

    expect(isProviderError(first)).toBe(true);
    expect((first as { reason: string }).reason).toBe("opted-out");

    const history = await store.history("+12025550143");

    expect(history).toHaveLength(1);
    expect(history[0]?.source).toBe("provider-refusal");
    expect(history[0]?.provider).toBe("fake");
    expect(history[0]?.providerCode).toBe("21610");
    expect(history[0]?.sender).toBe(sender);
    expect(seen).toHaveLength(1);

    const second = await rejection(
      gateway.send({ from: sender, to: "+12025550143", body: "Reminder: your survey is ready" }),
    );

    expect(isRecipientOptedOutError(second)).toBe(true);
    expect(provider.sent).toHaveLength(1);
  });

  it("records nothing for other refusals", async () => {
    const provider = new FakeProvider({
      onSend: () => {
        throw fakeRefusal("invalid-recipient", "21211");
      },
    });
    const { gateway, store } = setup({}, provider);

    const error = await rejection(gateway.send({ to: "+12025550143", body: "hi" }));

    expect((error as { reason: string }).reason).toBe("invalid-recipient");
    expect(await store.history("+12025550143")).toHaveLength(0);
  });
});

describe("Gateway.send scopes", () => {
  it("global scope blocks every sender", async () => {
    const { gateway, store } = setup();
    await store.record(optOut("+12025550143", { sender: "+12025550111" }));

    const error = await rejection(gateway.send({ to: "+12025550143", body: "hi", from: sender }));

    expect(isRecipientOptedOutError(error)).toBe(true);
  });

  it("global opt-out outlives another sender's opt-in", async () => {
    const { gateway, store, provider } = setup();
    const later = new Date("2025-05-02T12:00:00Z");
    await store.record(optOut("+12025550143"));
    await store.record(
      optOut("+12025550143", { action: "opt-in", sender: "+12025550111", occurredAt: later }),
    );

    const error = await rejection(gateway.send({ to: "+12025550143", body: "hi", from: sender }));
    await gateway.send({ to: "+12025550143", body: "hi", from: "+12025550111" });

    expect(isRecipientOptedOutError(error)).toBe(true);
    expect((error as { scope: string }).scope).toBe(sender);
    expect(provider.sent.map((message) => message.from)).toEqual(["+12025550111"]);
  });

  it("global scope keeps a sender's STOP after another START", async () => {
    const { gateway, store, provider } = setup();
    const later = new Date("2025-05-02T12:00:00Z");
    await store.record(optOut("+12025550143", { sender }));
    await store.record(
      optOut("+12025550143", { action: "opt-in", sender: "+12025550111", occurredAt: later }),
    );

    const error = await rejection(gateway.send({ to: "+12025550143", body: "hi", from: sender }));
    const results = await gateway.sendMany([
      { to: "+12025550143", body: "hi", from: sender },
      { to: "+12025550143", body: "hi", from: "+12025550111" },
    ]);

    expect(isRecipientOptedOutError(error)).toBe(true);
    expect((error as { scope: string }).scope).toBe(sender);
    expect(results.map((result) => result.status)).toEqual(["opted-out", "sent"]);
    expect(provider.sent.map((message) => message.from)).toEqual(["+12025550111"]);
  });

  it("global opt-in to every sender lifts all", async () => {
    const { gateway, store, provider } = setup();
    const later = new Date("2025-05-02T12:00:00Z");
    await store.record(optOut("+12025550143", { sender }));
    await store.record(optOut("+12025550143", { action: "opt-in", occurredAt: later }));

    await gateway.send({ to: "+12025550143", body: "hi", from: sender });

    expect(provider.sent).toHaveLength(1);
  });

  it("sender scope blocks only that sender", async () => {
    const { gateway, store, provider } = setup({ optOutScope: "sender" });
    await store.record(optOut("+12025550143", { sender: "+12025550111" }));

    await gateway.send({ to: "+12025550143", body: "hi", from: sender });
    const error = await rejection(
      gateway.send({ to: "+12025550143", body: "hi", from: "+12025550111" }),
    );

    expect(provider.sent).toHaveLength(1);
    expect(isRecipientOptedOutError(error)).toBe(true);
  });

  it("sender scope uses the default sender", async () => {
    const provider = new FakeProvider({ defaultSender: "+12025550111" });
    const { gateway, store } = setup({ optOutScope: "sender" }, provider);
    await store.record(optOut("+12025550143", { sender: "+12025550111" }));

    const error = await rejection(gateway.send({ to: "+12025550143", body: "hi" }));

    expect(isRecipientOptedOutError(error)).toBe(true);
  });

  it("sender scope without a sender reads all", async () => {
    const { gateway, store, provider } = setup({ optOutScope: "sender" });
    await store.record(optOut("+12025550143", { sender: "+12025550111" }));

    const error = await rejection(gateway.send({ to: "+12025550143", body: "hi" }));

    expect(isRecipientOptedOutError(error)).toBe(true);
    expect(provider.sent).toHaveLength(0);
  });
});

describe("Gateway.sendMany", () => {
  it("skips opted-out recipients in bulk", async () => {
    const { gateway, store, provider } = setup();
    const contacts = { 701: "+12025550161", 702: "+12025550162", 703: "+12025550163" };
    await store.record(optOut(contacts[701]));
    const body = "Volunteer meeting moved to Thursday";

    const results = await gateway.sendMany(Object.values(contacts).map((to) => ({ to, body })));

    expect(results.map((result) => result.status)).toEqual(["opted-out", "sent", "sent"]);
    expect(provider.sent.map((message) => message.to)).toEqual([contacts[702], contacts[703]]);

    await gateway.send({ to: contacts[702], body: "Thanks for signing up" });

    expect(provider.sent).toHaveLength(3);
  });

  it("reports invalid numbers per recipient", async () => {
    const { gateway } = setup();

    const results = await gateway.sendMany([
      { to: "not a number", body: "hi" },
      { to: "+12025550162", body: "hi" },
    ]);

    expect(results[0]?.status).toBe("failed");
    expect(results[1]?.status).toBe("sent");
  });

  it("sends nothing when the store fails", async () => {
    const controls = controllableStore();
    const provider = new FakeProvider();
    const gateway = new Gateway({ providers: [provider], store: controls.store });
    controls.failing = true;

    const results = await gateway.sendMany([{ to: "+12025550162", body: "hi" }]);

    expect(results[0]?.status).toBe("failed");
    expect(provider.sent).toHaveLength(0);
  });

  it("bounds concurrent sends", async () => {
    let active = 0;
    let peak = 0;
    const provider = new FakeProvider({
      onSend: async () => {
        active += 1;
        peak = Math.max(peak, active);
        await new Promise((resolve) => setTimeout(resolve, 5));
        active -= 1;
      },
    });
    const { gateway } = setup({}, provider);
    const requests = Array.from({ length: 20 }, (_, index) => ({
      to: `+1202555${String(1000 + index)}`,
      body: "hi",
    }));

    const results = await gateway.sendMany(requests, { concurrency: 3 });

    expect(results.every((result) => result.status === "sent")).toBe(true);
    expect(peak).toBe(3);
  });

  it("rejects an invalid concurrency", async () => {
    const { gateway, provider } = setup();
    const requests = [{ to: "+12025550163", body: "hi" }];

    for (const concurrency of [Number.NaN, 0, -5, 1.5, Number.POSITIVE_INFINITY, "2"]) {
      const options = { concurrency } as { concurrency: number };
      const error = await rejection(gateway.sendMany(requests, options));

      expect(isInvalidRequestError(error), String(concurrency)).toBe(true);
      expect((error as Error).message).toContain("concurrency must be a whole number");
    }

    expect(provider.sent).toHaveLength(0);
  });

  it("rejects requests that are no array", async () => {
    const { gateway } = setup();

    for (const requests of [null, undefined, "+12025550163", { to: "+12025550163" }]) {
      const error = await rejection(gateway.sendMany(requests as never));

      expect(isInvalidRequestError(error), String(requests)).toBe(true);
      expect((error as Error).message).toContain("needs an array of send requests");
    }
  });
});

describe("Gateway options", () => {
  it("names a bad option path", () => {
    const store = new MemoryOptOutStore();

    expect(
      () => new Gateway({ providers: [new FakeProvider()], store, defaultRegion: "XX" as "US" }),
    ).toThrow(/defaultRegion/);
    expect(() => new Gateway({ providers: [], store })).toThrow(/providers/);
    expect(
      () =>
        new Gateway({
          providers: [new FakeProvider()],
          store,
          optOutScope: "everyone" as "global",
        }),
    ).toThrow(/optOutScope/);
  });

  it("rejects duplicate provider names", () => {
    const store = new MemoryOptOutStore();

    expect(
      () => new Gateway({ providers: [new FakeProvider(), new FakeProvider()], store }),
    ).toThrow(/twice/);
  });
});
