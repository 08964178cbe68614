import { describe, expect, it } from "vitest";
import { MemoryOptOutStore } from "../src/consent/memory.js";
import type { ConsentEvent, OptOutStore } from "../src/consent/types.js";
import { InvalidConsentEventError } from "../src/errors.js";
import { Gateway } from "../src/gateway/gateway.js";
import type { GatewayOptions, ReviewItem } from "../src/gateway/types.js";
import { silentLogger } from "../src/logger.js";
import type {
  DeliveryReport,
  InboundMessage,
  ParsedWebhook,
  WebhookKind,
  WebhookRequest,
} from "../src/provider.js";
import { type FakeInbound, FakeProvider, type FakeReport } from "../src/testing/fake-provider.js";
import { controllableStore } from "./support/stores.js";

const person = "+12025550143";
const ours = "+12025550100";

function request(body: unknown, secret: string | null = "fake-secret"): WebhookRequest {
  const headers = new Headers({ "content-type": "application/json" });

  if (secret !== null) {
    headers.set("x-fake-signature", secret);
  }

  return {
    method: "POST",
    url: "https://sms.example.com/webhooks/fake/inbound",
    headers,
    body: new TextEncoder().encode(typeof body === "string" ? body : JSON.stringify(body)),
  };
}

function inbound(messageId: string, text: string, extra: Partial<FakeInbound> = {}) {
  return request({ inbound: [{ messageId, from: person, to: ours, text, ...extra }] });
}

function setup(
  options: Partial<GatewayOptions> = {},
  store: OptOutStore = new MemoryOptOutStore(),
) {
  const gateway = new Gateway({ providers: [new FakeProvider()], store, ...options });
  const seen = {
    inbound: [] as InboundMessage[],
    optOut: [] as ConsentEvent[],
    optIn: [] as ConsentEvent[],
    help: [] as InboundMessage[],
    review: [] as ReviewItem[],
    report: [] as DeliveryReport[],
  };

  gateway.on("inbound", (message) => seen.inbound.push(message));
  gateway.on("opt-out", (event) => seen.optOut.push(event));
  gateway.on("opt-in", (event) => seen.optIn.push(event));
  gateway.on("help", (message) => seen.help.push(message));
  gateway.on("review", (item) => seen.review.push(item));
  gateway.on("report", (report) => seen.report.push(report));

  return { gateway, store, seen };
}

describe("event times", () => {
  it("keeps a provider time in the past", async () => {
    const { gateway, seen } = setup();
    const earlier = "2025-05-01T12:00:00.250Z";

    await gateway.handleWebhook("fake", inbound("T1", "STOP", { providerTime: earlier }), {
      kind: "inbound",
    });

    expect(seen.optOut[0]?.occurredAt.toISOString()).toBe(earlier);
  });

  it("ends a whole-second time at its second's end", async () => {
    const { gateway, seen } = setup();

    await gateway.handleWebhook(
      "fake",
      inbound("W1", "STOP", { providerTime: "2025-05-01T12:00:00Z" }),
      { kind: "inbound" },
    );
    await gateway.handleWebhook(
      "fake",
      inbound("W2", "START", { providerTime: "2025-05-01T12:00:01Z" }),
      { kind: "inbound" },
    );

    expect(seen.optOut[0]?.occurredAt.toISOString()).toBe("2025-05-01T12:00:00.999Z");
    expect(seen.optIn[0]?.occurredAt.toISOString()).toBe("2025-05-01T12:00:01.999Z");
  });

  it("orders a second's events by receipt", async () => {
    const { gateway, store } = setup();
    const second = new Date(Math.floor(Date.now() / 1000) * 1000 - 1000);
    const providerTime = second.toISOString();

    await store.record({
      id: "manual-in",
      phone: person,
      action: "opt-in",
      sender: "*",
      source: "manual",
      occurredAt: new Date(second.getTime() + 345),
    });
    await gateway.handleWebhook("fake", inbound("W3", "STOP", { providerTime }), {
      kind: "inbound",
    });
    expect(await store.isOptedOut(person)).toBe(true);

    await gateway.handleWebhook("fake", inbound("W4", "START", { providerTime }), {
      kind: "inbound",
    });
    expect(await store.isOptedOut(person)).toBe(false);
  });

  it("uses receipt time for a future provider time", async () => {
    const { gateway, store, seen } = setup();
    const before = Date.now();

    await gateway.handleWebhook(
      "fake",
      inbound("T2", "START", { providerTime: "2999-01-01T00:00:00Z" }),
      {
        kind: "inbound",
      },
    );
    await gateway.handleWebhook("fake", inbound("T3", "STOP"), { kind: "inbound" });

    expect(seen.optIn[0]?.occurredAt.getTime()).toBeGreaterThanOrEqual(before);
    expect(seen.optIn[0]?.occurredAt.getTime()).toBeLessThanOrEqual(Date.now());
    expect(await store.isOptedOut(person)).toBe(true);
  });

  it("uses receipt time for a provider time before 1990", async () => {
    const { gateway, store, seen } = setup();
    const before = Date.now();

    const answer = await gateway.handleWebhook(
      "fake",
      inbound("T4", "STOP", { providerTime: "1970-01-01T00:00:00Z" }),
      { kind: "inbound" },
    );

    expect(answer.status).toBe(200);
    expect(seen.optOut[0]?.occurredAt.getTime()).toBeGreaterThanOrEqual(before);
    expect(await store.isOptedOut(person)).toBe(true);
  });

  it("caps a receipt time ahead of the clock", async () => {
    // Its clock runs an hour ahead, like another server that received a message part.
    class AheadProvider extends FakeProvider {
      override async parseWebhook(
        webhook: WebhookRequest,
        kind: WebhookKind,
      ): Promise<ParsedWebhook> {
        const parsed = await super.parseWebhook(webhook, kind);

        for (const message of parsed.inbound) {
          message.receivedAt = new Date(message.receivedAt.getTime() + 3_600_000);
        }

        return parsed;
      }
    }
    const store = new MemoryOptOutStore();
    const gateway = new Gateway({ providers: [new AheadProvider()], store });
    const optOuts: ConsentEvent[] = [];
    gateway.on("opt-out", (event) => optOuts.push(event));

    const answer = await gateway.handleWebhook("fake", inbound("T5", "STOP"), {
      kind: "inbound",
    });

    expect(answer.status).toBe(200);
    expect(optOuts[0]?.occurredAt.getTime()).toBeLessThanOrEqual(Date.now());
    expect(await store.isOptedOut(person)).toBe(true);
  });
});

describe("Gateway.handleWebhook answers", () => {
  it("records a STOP and answers 200", async () => {
    const { gateway, store, seen } = setup();

    const answer = await gateway.handleWebhook("fake", inbound("M1", "STOP"), { kind: "inbound" });

    expect(answer.status).toBe(200);
    expect(await store.isOptedOut(person)).toBe(true);
    expect(seen.optOut).toHaveLength(1);
    expect(seen.optOut[0]?.keyword).toBe("STOP");
    expect(seen.optOut[0]?.sender).toBe(ours);
    expect(seen.optOut[0]?.source).toBe("keyword");
    expect(seen.inbound).toHaveLength(1);
  });

  it("answers 401 without a signature", async () => {
    const { gateway, store } = setup();

    const answer = await gateway.handleWebhook("fake", request({ inbound: [] }, null), {
      kind: "inbound",
    });

    expect(answer.status).toBe(401);
    expect(await store.isOptedOut(person)).toBe(false);
  });

  it("answers 403 for a wrong signature", async () => {
    const { gateway, store } = setup();
    const forged = request(
      { inbound: [{ messageId: "M1", from: person, to: ours, text: "START" }] },
      "guess",
    );

    const answer = await gateway.handleWebhook("fake", forged, { kind: "inbound" });

    expect(answer.status).toBe(403);
    expect(await store.history(person)).toHaveLength(0);
  });

  it("accepts unsigned webhooks only when insecure", async () => {
    const { gateway, store } = setup({ insecureSkipSignatureVerification: true });
    const unsigned = request(
      { inbound: [{ messageId: "M1", from: person, to: ours, text: "STOP" }] },
      null,
    );

    const answer = await gateway.handleWebhook("fake", unsigned, { kind: "inbound" });

    expect(answer.status).toBe(200);
    expect(await store.isOptedOut(person)).toBe(true);
  });

  it("answers 400 for a malformed body", async () => {
    const { gateway } = setup();

    const answer = await gateway.handleWebhook("fake", request("{not json"), { kind: "inbound" });

    expect(answer.status).toBe(400);
  });

  it("logs a malformed body without stack", async () => {
    const warnings: Array<Record<string, unknown>> = [];
    const logger = {
      ...silentLogger,
      warn: (fields: Record<string, unknown>) => warnings.push(fields),
    };
    const { gateway } = setup({ logger });

    await gateway.handleWebhook("fake", request("{not json"), { kind: "inbound" });

    expect(warnings).toHaveLength(1);
    expect(warnings[0]?.provider).toBe("fake");
    expect(warnings[0]?.code).toBe("SMSGATE_WEBHOOK_INVALID");
    expect(String(warnings[0]?.reason)).not.toBe("");
    expect(warnings[0]).not.toHaveProperty("err");
  });

  it("answers 500 naming a missing kind", async () => {
    const { gateway, seen } = setup();

    for (const options of [undefined, {}, { kind: "inbound-sms" }]) {
      const answer = await gateway.handleWebhook("fake", inbound("M1", "STOP"), options as never);

      expect(answer.status).toBe(500);
      expect(answer.body).toContain("options.kind");
    }

    expect(seen.optOut).toHaveLength(0);
  });

  it("answers 500 for an invalid request", async () => {
    const { gateway, seen } = setup();
    const valid = inbound("M1", "STOP");
    const requests = [
      undefined,
      null,
      "STOP",
      { ...valid, url: undefined },
      { ...valid, headers: { "x-fake-signature": "fake-secret" } },
      { ...valid, body: '{"inbound":[]}' },
    ];

    for (const request of requests) {
      const answer = await gateway.handleWebhook("fake", request as never, { kind: "inbound" });

      expect(answer.status, JSON.stringify(request)).toBe(500);
      expect(answer.body).toContain("handleWebhook() needs a request");
    }

    expect(seen.optOut).toHaveLength(0);
  });

  it("answers 500 for an invalid logger", async () => {
    const { gateway, seen } = setup();
    const options = { kind: "inbound", logger: { info: () => {} } };

    const answer = await gateway.handleWebhook("fake", inbound("M1", "STOP"), options as never);

    expect(answer.status).toBe(500);
    expect(answer.body).toContain("options.logger");
    expect(seen.optOut).toHaveLength(0);
  });

  it("logs with the logger of the call", async () => {
    const gatewayLines: string[] = [];
    const callLines: Array<{ level: string; message: string | undefined }> = [];
    const record = (level: string) => (_: Record<string, unknown>, message?: string) => {
      callLines.push({ level, message });
    };
    const logger = {
      debug: record("debug"),
      info: record("info"),
      warn: record("warn"),
      error: record("error"),
    };
    const { gateway } = setup({
      logger: { ...silentLogger, warn: (_, message) => gatewayLines.push(String(message)) },
    });

    const rejected = await gateway.handleWebhook("fake", request("{not json"), {
      kind: "inbound",
      logger,
    });

    expect(rejected.status).toBe(400);
    expect(callLines).toEqual([{ level: "warn", message: "webhook rejected: malformed" }]);
    expect(gatewayLines).toEqual([]);
  });

  it("logs a redelivery by message ids", async () => {
    const lines: Array<{ fields: Record<string, unknown>; message: string | undefined }> = [];
    const { gateway, seen } = setup({
      logger: { ...silentLogger, info: (fields, message) => lines.push({ fields, message }) },
    });

    await gateway.handleWebhook("fake", inbound("R1", "STOP"), { kind: "inbound" });
    expect(lines).toEqual([]);

    const again = await gateway.handleWebhook("fake", inbound("R1", "STOP"), { kind: "inbound" });

    expect(again.status).toBe(200);
    expect(seen.optOut).toHaveLength(1);
    expect(lines).toEqual([
      {
        fields: { provider: "fake", kind: "inbound", messageIds: ["R1"] },
        message: "webhook already recorded: nothing changed",
      },
    ]);
    expect(JSON.stringify(lines)).not.toContain(person.slice(2));
  });

  it("answers 404 for an unknown provider", async () => {
    const { gateway } = setup();

    const answer = await gateway.handleWebhook("nope", inbound("M1", "STOP"), { kind: "inbound" });

    expect(answer.status).toBe(404);
  });

  it("answers 503 when the store fails", async () => {
    const controls = controllableStore();
    const { gateway, seen } = setup({}, controls.store);
    controls.failing = true;

    const answer = await gateway.handleWebhook("fake", inbound("M1", "STOP"), { kind: "inbound" });

    expect(answer.status).toBe(503);
    expect(seen.optOut).toHaveLength(0);

    controls.failing = false;
    const retry = await gateway.handleWebhook("fake", inbound("M1", "STOP"), { kind: "inbound" });

    expect(retry.status).toBe(200);
    expect(await controls.inner.isOptedOut(person)).toBe(true);
  });

  it("answers 400 when the store rejects the content", async () => {
    const controls = controllableStore();
    const { gateway, seen } = setup({}, controls.store);
    controls.store.commitWebhook = async () => {
      throw new InvalidConsentEventError("events[0].phone", "must be a consent identity");
    };

    const answer = await gateway.handleWebhook("fake", inbound("M1", "STOP"), { kind: "inbound" });

    expect(answer.status).toBe(400);
    expect(JSON.parse(answer.body ?? "{}").error).toBe("invalid-webhook");
    expect(answer.body).toContain("events[0].phone");
    expect(seen.optOut).toHaveLength(0);
  });

  it("survives a listener that throws", async () => {
    const { gateway, store } = setup();
    gateway.on("inbound", () => {
      throw new Error("listener bug");
    });

    const answer = await gateway.handleWebhook("fake", inbound("M1", "STOP"), { kind: "inbound" });

    expect(answer.status).toBe(200);
    expect(await store.isOptedOut(person)).toBe(true);
  });
});

describe("Gateway.handleWebhook redelivery", () => {
  it("records a repeated message once", async () => {
    const { gateway, store, seen } = setup();

    await gateway.handleWebhook("fake", inbound("M1", "STOP"), { kind: "inbound" });
    const again = await gateway.handleWebhook("fake", inbound("M1", "STOP"), { kind: "inbound" });

    expect(again.status).toBe(200);
    expect(await store.history(person)).toHaveLength(1);
    expect(seen.optOut).toHaveLength(1);
    expect(seen.inbound).toHaveLength(1);
  });

  it("overlapping copies wait for one commit", async () => {
    const controls = controllableStore();
    const { gateway, seen } = setup(
      { replies: { optOut: "You are unsubscribed." } },
      controls.store,
    );
    controls.commitDelayMs = 200;

    const first = gateway.handleWebhook("fake", inbound("M1", "STOP"), { kind: "inbound" });
    await new Promise((resolve) => setTimeout(resolve, 50));
    const second = gateway.handleWebhook("fake", inbound("M1", "STOP"), { kind: "inbound" });
    const answers = await Promise.all([first, second]);

    expect(answers.map((answer) => answer.status)).toEqual([200, 200]);
    expect(controls.commits).toBe(1);
    expect(await controls.inner.history(person)).toHaveLength(1);
    expect(seen.optOut).toHaveLength(1);

    const replies = answers.map((answer) => JSON.parse(answer.body).reply);

    expect(replies.filter((reply) => reply !== null)).toEqual(["You are unsubscribed."]);
  });

  it("overlapping copy gets 503 when commit fails", async () => {
    const controls = controllableStore();
    const { gateway } = setup({}, controls.store);
    controls.commitDelayMs = 100;
    controls.failing = true;

    const first = gateway.handleWebhook("fake", inbound("M1", "STOP"), { kind: "inbound" });
    const second = gateway.handleWebhook("fake", inbound("M1", "STOP"), { kind: "inbound" });
    const answers = await Promise.all([first, second]);

    expect(answers.map((answer) => answer.status)).toEqual([503, 503]);

    controls.failing = false;
    const retry = await gateway.handleWebhook("fake", inbound("M1", "STOP"), { kind: "inbound" });

    expect(retry.status).toBe(200);
    expect(await controls.inner.history(person)).toHaveLength(1);
  });
});

describe("Gateway.handleWebhook consent", () => {
  it("follows STOP, START and UNSTOP", async () => {
    const { gateway, store } = setup();
    const replies = ["STOP", "When does the course start?", "Start", "STOP", "unstop"];
    const states: boolean[] = [];

    for (const [index, text] of replies.entries()) {
      const id = `SM00000000000000000000000000000${181 + index}`;
      await gateway.handleWebhook("fake", inbound(id, text), { kind: "inbound" });
      states.push(await store.isOptedOut(person));
    }

    expect(states).toEqual([true, true, false, true, false]);

    const history = await store.history(person);

    expect(history.map((event) => event.action)).toEqual([
      "opt-out",
      "opt-in",
      "opt-out",
      "opt-in",
    ]);
    expect(history.map((event) => event.messageId)).toEqual([
      "SM00000000000000000000000000000181",
      "SM00000000000000000000000000000183",
      "SM00000000000000000000000000000184",
      "SM00000000000000000000000000000185",
    ]);
    expect(history.every((event) => event.occurredAt instanceof Date)).toBe(true);
    expect(history.map((event) => event.keyword)).toEqual(["STOP", "START", "STOP", "UNSTOP"]);
  });

  it("sends an ambiguous reply to review", async () => {
    const { gateway, store, seen } = setup();

    await gateway.handleWebhook("fake", inbound("M1", "When does the course start?"), {
      kind: "inbound",
    });

    expect(seen.review).toHaveLength(1);
    expect(await store.history(person)).toHaveLength(0);
  });

  it("logs an ambiguous reply without its text", async () => {
    const lines: Array<{ fields: Record<string, unknown>; message: string | undefined }> = [];
    const { gateway } = setup({
      logger: { ...silentLogger, info: (fields, message) => lines.push({ fields, message }) },
    });

    await gateway.handleWebhook("fake", inbound("M2", "When does the course start?"), {
      kind: "inbound",
    });

    expect(lines).toHaveLength(1);
    expect(lines[0]?.fields).toEqual({ provider: "fake", messageId: "M2", keyword: "START" });
    expect(lines[0]?.message).toContain("review");
    expect(JSON.stringify(lines)).not.toContain("course");
  });

  it("trusts the provider's flag over keywords", async () => {
    const { gateway, store, seen } = setup();
    const message = inbound("M1", "ARRET", { providerIntent: "opt-out" });

    await gateway.handleWebhook("fake", message, { kind: "inbound" });

    expect(await store.isOptedOut(person)).toBe(true);
    expect(seen.optOut[0]?.source).toBe("provider-flag");
    expect(seen.optOut[0]?.keyword).toBe("ARRET");
  });

  it("emits help without changing consent", async () => {
    const { gateway, store, seen } = setup();

    await gateway.handleWebhook("fake", inbound("M1", "HELP"), { kind: "inbound" });

    expect(seen.help).toHaveLength(1);
    expect(await store.history(person)).toHaveLength(0);
  });

  it("keeps the newest event by provider time", async () => {
    const { gateway, store } = setup();
    const start = inbound("M2", "START", { providerTime: "2025-05-01T10:05:00Z" });
    const stop = inbound("M1", "STOP", { providerTime: "2025-05-01T10:00:00Z" });

    await gateway.handleWebhook("fake", start, { kind: "inbound" });
    await gateway.handleWebhook("fake", stop, { kind: "inbound" });

    expect(await store.isOptedOut(person)).toBe(false);
    expect(await store.history(person)).toHaveLength(2);
  });

  it("records an opt-out from a delivery report", async () => {
    const { gateway, store, seen } = setup();
    const report: FakeReport = {
      messageId: "SM1",
      status: "failed",
      to: person,
      from: ours,
      errorCode: "21610",
      reason: "opted-out",
    };

    const answer = await gateway.handleWebhook("fake", request({ reports: [report] }), {
      kind: "status",
    });

    expect(answer.status).toBe(200);
    expect(seen.report).toHaveLength(1);
    expect(await store.isOptedOut(person)).toBe(true);

    const [event] = await store.history(person);

    expect(event?.source).toBe("provider-refusal");
    expect(event?.sender).toBe(ours);
    expect(event?.providerCode).toBe("21610");
  });

  it("logs a report's opt-out without recipient", async () => {
    const warnings: Array<{ fields: Record<string, unknown>; message: string | undefined }> = [];
    const { gateway, seen } = setup({
      logger: { ...silentLogger, warn: (fields, message) => warnings.push({ fields, message }) },
    });
    const report: FakeReport = {
      messageId: "SM2",
      status: "failed",
      errorCode: "21610",
      reason: "opted-out",
    };

    const answer = await gateway.handleWebhook("fake", request({ reports: [report] }), {
      kind: "status",
    });

    expect(answer.status).toBe(200);
    expect(seen.optOut).toHaveLength(0);
    expect(warnings).toHaveLength(1);
    expect(warnings[0]?.fields).toEqual({ provider: "fake", messageId: "SM2", errorCode: "21610" });
    expect(warnings[0]?.message).toContain("no recipient number");
  });

  it("emits no report older than the last", async () => {
    const { gateway, store, seen } = setup();
    const post = (messageId: string, status: FakeReport["status"]) =>
      gateway.handleWebhook("fake", request({ reports: [{ messageId, status }] }), {
        kind: "status",
      });

    await post("SM1", "delivered");
    await post("SM1", "sent");
    await post("SM1", "read");

    expect(seen.report.map((report) => report.status)).toEqual(["delivered", "read"]);
    expect((await (store as MemoryOptOutStore).deliveryStatus("fake", "SM1"))?.status).toBe("read");
  });

  it("ignores reports of other failures", async () => {
    const { gateway, store } = setup();
    const report: FakeReport = {
      messageId: "SM1",
      status: "undelivered",
      to: person,
      errorCode: "30003",
      reason: "transient",
    };

    await gateway.handleWebhook("fake", request({ reports: [report] }), { kind: "status" });

    expect(await store.history(person)).toHaveLength(0);
  });

  it("writes outbox messages when forwarding", async () => {
    const store = new MemoryOptOutStore();
    const { gateway } = setup({ forwardEvents: true }, store);

    await gateway.handleWebhook("fake", inbound("M1", "STOP"), { kind: "inbound" });
    const entries = await store.claimOutbox(10, 60_000);

    expect(entries.map((entry) => entry.type)).toEqual(["inbound", "opt-out"]);
    expect(JSON.parse(entries[1]?.payload ?? "{}").phone).toBe(person);
  });
});
