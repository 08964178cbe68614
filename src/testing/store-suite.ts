/**
 * The conformance suite of the `OptOutStore` contract. A store module calls
 * {@link describeOptOutStore} from a vitest test file; every test gets a fresh, empty store
 * from the factory. Outbox, message-part, delivery-status, erasure, nonce and health tests
 * run when the store also implements `OutboxStore`, `PartStore`, `StatusStore`,
 * `ErasureStore`, `NonceStore` or `HealthCheckStore`, and are skipped otherwise.
 *
 * Besides the `OptOutStore` contract, the suite expects an invalid event to be rejected with
 * code `SMSGATE_INVALID_CONSENT_EVENT`, which `validateConsentEvent` raises, an invalid read
 * argument with code `SMSGATE_INVALID_REQUEST`, and a call after `close()` to be rejected
 * with a `StoreError`. An event whose `occurredAt` is more than 5 minutes after the clock,
 * or before 1990, is invalid, and a later one within that range is recorded as the time of
 * recording. A phone or sender that is not a canonical identity, such as `+1 202-555-0152`
 * for +12025550152, is invalid in events and in reads.
 */

import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { isOutboxStore } from "../consent/capabilities.js";
import { isErasureStore } from "../consent/erasure.js";
import type {
  ConsentEvent,
  ErasureStore,
  OptOutStore,
  OutboxMessage,
  OutboxStore,
  WebhookReceipt,
} from "../consent/types.js";
import {
  type InvalidConsentEventError,
  isInvalidConsentEventError,
  isInvalidRequestError,
  isStoreError,
} from "../errors.js";
import { describeErasureStore } from "./store-suite-erasure.js";
import { describeNonceStore } from "./store-suite-nonces.js";
import { describeNulStore } from "./store-suite-nul.js";
import { describePartStore } from "./store-suite-parts.js";
import { describeSenderStateStore } from "./store-suite-senders.js";
import { describeStatusStore } from "./store-suite-statuses.js";

/** A store under test: the consent contract, and the outbox when it has one. */
export type StoreUnderTest = OptOutStore & Partial<OutboxStore>;

/** Creates one empty store for one test, and optionally how to remove it afterwards. */
export type StoreFactory = () => Promise<{
  store: StoreUnderTest;
  cleanup?: () => Promise<void>;
}>;

const BASE_TIME = Date.UTC(2025, 0, 15, 10, 0, 0);
const APP_NUMBER = "+12025550100";
const OTHER_SENDER = "+12025550101";

/** Spellings of numbers that are not the E.164 form the gateway stores and reads. */
const NON_CANONICAL_PHONES: ReadonlyArray<[string, string]> = [
  ["spaces and hyphens", "+1 202-555-0152"],
  ["national format", "(202) 555-0151"],
  ["full-width digits", "＋１２０２５５５０１５４"],
  ["00 prefix", "0012025550155"],
  ["hyphens without +", "202-555-0153"],
  ["hyphens after +", "+1-202-555-0156"],
  ["leading space", " +12025550157"],
  ["digits without +", "12025550158"],
  ["0 after +", "+0202555015"],
];

/** One identity of each canonical kind that a person or a sender can have. */
const CANONICAL_IDENTITIES: ReadonlyArray<[string, string]> = [
  ["E.164 number", "+12025550152"],
  ["short code", "55501"],
  ["alphanumeric sender ID", "ACME Shop"],
  ["messaging service SID", "MG0123456789abcdef0123456789abcdef"],
  ["channel address", "whatsapp:+12025550143"],
];

let eventCounter = 0;

function minutes(offset: number): Date {
  return new Date(BASE_TIME + offset * 60_000);
}

function makeEvent(fields: Partial<ConsentEvent> & Pick<ConsentEvent, "phone">): ConsentEvent {
  eventCounter += 1;
  return {
    id: `test:event:${eventCounter}`,
    action: "opt-out",
    sender: APP_NUMBER,
    source: "keyword",
    occurredAt: minutes(0),
    ...fields,
  };
}

function makeReceipt(fields: Partial<WebhookReceipt> & Pick<WebhookReceipt, "id">) {
  return { provider: "test", events: [], outbox: [], receivedAt: minutes(0), ...fields };
}

function minutesFromNow(offset: number): Date {
  return new Date(Date.now() + offset * 60_000);
}

function makeOutbox(id: string): OutboxMessage {
  return { id, type: "inbound", payload: JSON.stringify({ id }) };
}

function phoneNumber(index: number): string {
  return `+1202${String(5_000_000 + index).padStart(7, "0")}`;
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

async function collect<T>(items: AsyncIterable<T>): Promise<T[]> {
  const all: T[] = [];
  for await (const item of items) {
    all.push(item);
  }

  return all;
}

async function expectInvalidEvent(
  promise: Promise<unknown>,
  field: string,
): Promise<InvalidConsentEventError> {
  const error = await promise.then(
    () => undefined,
    (rejection: unknown) => rejection,
  );
  expect(isInvalidConsentEventError(error), `expected an invalid event, got ${String(error)}`).toBe(
    true,
  );
  expect((error as InvalidConsentEventError).field).toBe(field);

  return error as InvalidConsentEventError;
}

async function expectInvalidArgument(
  promise: Promise<unknown>,
  argument: string,
  value: string,
): Promise<void> {
  const error = await promise.then(
    () => undefined,
    (rejection: unknown) => rejection,
  );
  const label = `${argument} ${JSON.stringify(value)}`;
  expect(
    isInvalidRequestError(error),
    `${label}: expected an invalid request, got ${String(error)}`,
  ).toBe(true);
  expect((error as Error).message, label).toContain(`Invalid store argument ${argument}:`);
  expect((error as Error).message, label).toContain(JSON.stringify(value));
  expect((error as Error).message, label).toContain("normalizePhoneNumber()");
}

async function expectStoreError(promise: Promise<unknown>): Promise<void> {
  const error = await promise.then(
    () => undefined,
    (rejection: unknown) => rejection,
  );
  expect(isStoreError(error), `expected a StoreError, got ${String(error)}`).toBe(true);
}

/**
 * Registers the conformance tests of the `OptOutStore` contract (and of `OutboxStore` when
 * the store has it) under `describe(name)`.
 *
 * @example
 * ```ts
 * import { describeOptOutStore } from "smsgate/testing";
 * describeOptOutStore("crm store", async () => ({ store: await openCrmStore(testConfig) }));
 * ```
 */
export function describeOptOutStore(name: string, factory: StoreFactory): void {
  describe(name, () => {
    let store: StoreUnderTest;
    let cleanup: (() => Promise<void>) | undefined;
    let closedByTest = false;

    beforeEach(async () => {
      const created = await factory();
      store = created.store;
      cleanup = created.cleanup;
      closedByTest = false;
    });

    afterEach(async () => {
      if (!closedByTest) {
        await store.close();
      }

      await cleanup?.();
    });

    describe("record", () => {
      it("stores a new event", async () => {
        const event = makeEvent({ phone: "+12025550111", messageId: "SM1", keyword: "STOP" });

        const result = await store.record(event);
        const history = await store.history(event.phone);

        expect(result).toEqual({ recorded: true });
        expect(history).toHaveLength(1);
        expect(history[0]).toMatchObject({ ...event, recordedAt: expect.any(Date) });
      });

      it("is idempotent on event id", async () => {
        const event = makeEvent({ phone: "+12025550112" });
        await store.record(event);

        const repeat = await store.record({ ...event, action: "opt-in", occurredAt: minutes(5) });
        const history = await store.history(event.phone);

        expect(repeat).toEqual({ recorded: false });
        expect(history).toHaveLength(1);
        expect(history[0]?.action).toBe("opt-out");
        expect(history[0]?.occurredAt).toEqual(minutes(0));
        expect(await store.isOptedOut(event.phone)).toBe(true);
      });

      it("keeps optional fields", async () => {
        const event = makeEvent({
          phone: "+12025550113",
          source: "provider-refusal",
          provider: "twilio",
          messageId: "SM00000000000000000000000000000042",
          providerCode: "21610",
          text: "Stop. Thank you",
          keyword: "STOP",
          note: "confirmed by phone",
        });

        await store.record(event);
        const [stored] = await store.history(event.phone);

        expect(stored?.source).toBe("provider-refusal");
        expect(stored?.provider).toBe("twilio");
        expect(stored?.messageId).toBe("SM00000000000000000000000000000042");
        expect(stored?.providerCode).toBe("21610");
        expect(stored?.text).toBe("Stop. Thank you");
        expect(stored?.keyword).toBe("STOP");
        expect(stored?.note).toBe("confirmed by phone");
      });

      it("is unaffected by later mutation", async () => {
        const event = makeEvent({ phone: "+12025550114" });
        await store.record(event);

        event.action = "opt-in";
        event.occurredAt.setTime(minutes(60).getTime());
        const [stored] = await store.history("+12025550114");

        expect(stored?.action).toBe("opt-out");
        expect(stored?.occurredAt).toEqual(minutes(0));
      });

      it("rejects invalid events", async () => {
        const phone = "+12025550115";
        const invalid: Array<Record<string, unknown>> = [
          { ...makeEvent({ phone }), id: "" },
          { ...makeEvent({ phone }), phone: "" },
          { ...makeEvent({ phone }), sender: "" },
          { ...makeEvent({ phone }), action: "unsubscribe" },
          { ...makeEvent({ phone }), occurredAt: new Date(Number.NaN) },
          { ...makeEvent({ phone }), occurredAt: "2025-01-15T10:00:00Z" },
        ];

        for (const event of invalid) {
          const error = await store.record(event as unknown as ConsentEvent).catch((e) => e);
          expect(error?.code, JSON.stringify(event)).toBe("SMSGATE_INVALID_CONSENT_EVENT");
        }

        expect(await store.history(phone)).toEqual([]);
      });
    });

    describe("occurredAt range", () => {
      it("record rejects 10 minutes ahead", async () => {
        const phone = "+12025550116";
        const stop = makeEvent({ phone });
        await store.record(stop);
        const start = makeEvent({ phone, action: "opt-in", occurredAt: minutesFromNow(10) });

        const error = await expectInvalidEvent(store.record(start), "event.occurredAt");
        const state = await store.getState(phone);

        expect(error.message).toContain(`received ${start.occurredAt.toISOString()}`);
        expect(error.message).toContain("latest accepted");
        expect(error.message).toContain("correct the clock");
        expect((await store.history(phone)).map((event) => event.id)).toEqual([stop.id]);
        expect(state.optedOut).toBe(true);
        expect(state.lastEvent?.id).toBe(stop.id);
      });

      it("record stores nothing when ahead", async () => {
        const phone = "+12025550117";
        const stop = makeEvent({ phone, occurredAt: minutesFromNow(10) });

        await expectInvalidEvent(store.record(stop), "event.occurredAt");

        expect(await store.history(phone)).toEqual([]);
        expect(await store.isOptedOut(phone)).toBe(false);
        expect(await store.getState(phone)).toEqual({
          phone,
          optedOut: false,
          scope: "*",
          lastEvent: undefined,
        });
      });

      it("record accepts 4 minutes ahead as now", async () => {
        const phone = "+12025550118";
        const ahead = minutesFromNow(4);
        const stop = makeEvent({ phone, occurredAt: new Date(ahead.getTime()) });

        const before = Date.now();
        const result = await store.record(stop);
        const after = Date.now();
        const history = await store.history(phone);
        const state = await store.getState(phone);
        const stored = history[0]?.occurredAt.getTime();

        expect(result).toEqual({ recorded: true });
        expect(history).toHaveLength(1);
        expect(stored).toBeGreaterThanOrEqual(before);
        expect(stored).toBeLessThanOrEqual(after);
        expect(state.lastEvent?.occurredAt.getTime()).toBe(stored);
        expect(stop.occurredAt).toEqual(ahead);
        expect(await store.isOptedOut(phone)).toBe(true);
      });

      it("commitWebhook records a time ahead as now", async () => {
        const phone = "+12025550118";
        const stop = makeEvent({ phone, occurredAt: minutesFromNow(4) });

        const before = Date.now();
        await store.commitWebhook(makeReceipt({ id: "test:ahead", events: [stop] }));
        const after = Date.now();
        const stored = (await store.history(phone))[0]?.occurredAt.getTime();

        expect(stored).toBeGreaterThanOrEqual(before);
        expect(stored).toBeLessThanOrEqual(after);
        expect(await store.isOptedOut(phone)).toBe(true);
      });

      it("opt-in ahead loses to a later opt-out", async () => {
        const phone = "+12025550118";
        const start = makeEvent({
          phone,
          action: "opt-in",
          sender: "*",
          source: "import",
          occurredAt: minutesFromNow(4),
        });
        await store.record(start);
        const stop = makeEvent({ phone, occurredAt: new Date() });
        await store.record(stop);

        const state = await store.getState(phone);
        const history = await store.history(phone);
        const [startTime, stopTime] = history.map((event) => event.occurredAt.getTime());

        expect(state.optedOut).toBe(true);
        expect(state.lastEvent?.id).toBe(stop.id);
        expect(await store.isOptedOut(phone, APP_NUMBER)).toBe(true);
        expect(await store.filterOptedOut([phone])).toEqual(new Set([phone]));
        expect(history.map((event) => event.id)).toEqual([start.id, stop.id]);
        expect(startTime).toBeLessThanOrEqual(stopTime ?? Number.NEGATIVE_INFINITY);
        expect(stopTime).toBe(stop.occurredAt.getTime());
      });

      it("opt-in ahead loses to a later webhook STOP", async () => {
        const phone = "+12025550118";
        const start = makeEvent({ phone, action: "opt-in", occurredAt: minutesFromNow(4) });
        await store.commitWebhook(makeReceipt({ id: "test:import", events: [start] }));
        const stop = makeEvent({ phone, occurredAt: new Date() });
        await store.commitWebhook(makeReceipt({ id: "test:stop", events: [stop] }));

        const history = await store.history(phone);
        const [startTime, stopTime] = history.map((event) => event.occurredAt.getTime());

        expect(await store.isOptedOut(phone)).toBe(true);
        expect((await store.getState(phone)).lastEvent?.id).toBe(stop.id);
        expect(startTime).toBeLessThanOrEqual(stopTime ?? Number.NEGATIVE_INFINITY);
        expect(await collect(store.listOptedOut())).toHaveLength(1);
      });

      it("record rejects a time before 1990", async () => {
        const phone = "+12025550119";
        const stop = makeEvent({ phone, occurredAt: new Date("1989-12-31T23:59:59.999Z") });

        const error = await expectInvalidEvent(store.record(stop), "event.occurredAt");

        expect(error.message).toContain("1990-01-01T00:00:00.000Z");
        expect(await store.history(phone)).toEqual([]);
        expect(await store.isOptedOut(phone)).toBe(false);
      });

      it("record accepts 1990-01-01", async () => {
        const phone = "+12025550120";
        const stop = makeEvent({ phone, occurredAt: new Date("1990-01-01T00:00:00.000Z") });

        expect(await store.record(stop)).toEqual({ recorded: true });
        expect(await store.isOptedOut(phone)).toBe(true);
      });

      it("commitWebhook rejects a future event", async () => {
        const valid = makeEvent({ phone: "+12025550186" });
        const future = makeEvent({
          phone: "+12025550187",
          action: "opt-in",
          occurredAt: minutesFromNow(10),
        });
        const receipt = makeReceipt({
          id: "test:future",
          events: [valid, future],
          outbox: [makeOutbox("outbox:future")],
        });

        await expectInvalidEvent(store.commitWebhook(receipt), "receipt.events[1].occurredAt");

        expect(await store.history(valid.phone)).toEqual([]);
        expect(await store.history(future.phone)).toEqual([]);
        expect(await store.isOptedOut(valid.phone)).toBe(false);
        if (isOutboxStore(store)) {
          expect(await store.claimOutbox(10, 60_000)).toEqual([]);
        }
      });

      it("commitWebhook retry after rejection commits", async () => {
        const valid = makeEvent({ phone: "+12025550188" });
        const future = makeEvent({
          phone: "+12025550189",
          action: "opt-in",
          occurredAt: minutesFromNow(10),
        });
        const outbox = [makeOutbox("outbox:retry")];
        const rejected = makeReceipt({ id: "test:retry", events: [valid, future], outbox });
        await expectInvalidEvent(store.commitWebhook(rejected), "receipt.events[1].occurredAt");

        const corrected = { ...future, occurredAt: minutes(1) };
        const retry = makeReceipt({ id: "test:retry", events: [valid, corrected], outbox });
        const result = await store.commitWebhook(retry);

        expect(result).toEqual({ duplicate: false });
        expect(await store.history(valid.phone)).toHaveLength(1);
        expect(await store.history(future.phone)).toHaveLength(1);
        expect(await store.isOptedOut(valid.phone)).toBe(true);
        expect(await store.isOptedOut(future.phone)).toBe(false);
        if (isOutboxStore(store)) {
          const claimed = await store.claimOutbox(10, 60_000);
          expect(claimed.map((entry) => entry.id)).toEqual(["outbox:retry"]);
        }
      });
    });

    describe("identities", () => {
      it("record rejects non-canonical phones", async () => {
        for (const [name, phone] of NON_CANONICAL_PHONES) {
          const error = await expectInvalidEvent(store.record(makeEvent({ phone })), "event.phone");

          expect(error.message, name).toContain(JSON.stringify(phone));
          expect(error.message, name).toContain("normalizePhoneNumber()");
        }

        expect(await collect(store.listOptedOut())).toEqual([]);
        expect(await store.history("+12025550152")).toEqual([]);
        expect(await store.isOptedOut("+12025550152")).toBe(false);
      });

      it("record rejects a non-canonical sender", async () => {
        const phone = "+12025550152";
        const event = makeEvent({ phone, sender: "+1 202-555-0100" });

        await expectInvalidEvent(store.record(event), "event.sender");

        expect(await store.history(phone)).toEqual([]);
        expect(await store.isOptedOut(phone)).toBe(false);
      });

      it("commitWebhook rejects a non-canonical phone", async () => {
        const valid = makeEvent({ phone: "+12025550152" });
        const invalid = makeEvent({ phone: "(202) 555-0151" });
        const receipt = makeReceipt({
          id: "test:identity",
          events: [valid, invalid],
          outbox: [makeOutbox("outbox:identity")],
        });

        await expectInvalidEvent(store.commitWebhook(receipt), "receipt.events[1].phone");

        expect(await store.history(valid.phone)).toEqual([]);
        expect(await collect(store.listOptedOut())).toEqual([]);
        if (isOutboxStore(store)) {
          expect(await store.claimOutbox(10, 60_000)).toEqual([]);
        }
      });

      it("isOptedOut rejects non-canonical phones", async () => {
        for (const [, phone] of NON_CANONICAL_PHONES) {
          await expectInvalidArgument(store.isOptedOut(phone), "phone", phone);
        }
      });

      it("filterOptedOut rejects non-canonical phones", async () => {
        for (const [, phone] of NON_CANONICAL_PHONES) {
          const phones = ["+12025550143", phone];

          await expectInvalidArgument(store.filterOptedOut(phones), "phones[1]", phone);
        }
      });

      it("getState rejects non-canonical phones", async () => {
        for (const [, phone] of NON_CANONICAL_PHONES) {
          await expectInvalidArgument(store.getState(phone), "phone", phone);
        }
      });

      it("history rejects non-canonical phones", async () => {
        for (const [, phone] of NON_CANONICAL_PHONES) {
          await expectInvalidArgument(store.history(phone), "phone", phone);
        }
      });

      it("reads reject a non-canonical scope", async () => {
        const phone = "+12025550152";
        const scope = "+1 202-555-0100";

        await expectInvalidArgument(store.isOptedOut(phone, scope), "scope", scope);
        await expectInvalidArgument(store.filterOptedOut([phone], scope), "scope", scope);
        await expectInvalidArgument(store.getState(phone, scope), "scope", scope);
        await expectInvalidArgument(collect(store.listOptedOut(scope)), "scope", scope);
      });

      it("forget rejects a non-canonical phone", async ({ skip }) => {
        skip(!isErasureStore(store), "the store does not implement ErasureStore");
        const erasure = store as StoreUnderTest & ErasureStore;
        const pseudonym = `erased:${"0".repeat(64)}`;
        const phone = "+1 202-555-0152";

        await expectInvalidArgument(erasure.forget(phone, pseudonym), "phone", phone);
      });

      for (const [name, identity] of CANONICAL_IDENTITIES) {
        it(`accepts ${name} as phone and sender`, async () => {
          const stop = makeEvent({ phone: identity, sender: identity });

          expect(await store.record(stop)).toEqual({ recorded: true });

          const history = await store.history(identity);
          expect(history.map((event) => event.id)).toEqual([stop.id]);
          expect(history[0]?.phone).toBe(identity);
          expect(history[0]?.sender).toBe(identity);
          expect(await store.isOptedOut(identity)).toBe(true);
          expect(await store.isOptedOut(identity, identity)).toBe(true);
          expect(await store.filterOptedOut([identity], identity)).toEqual(new Set([identity]));
          expect((await store.getState(identity)).lastEvent?.id).toBe(stop.id);
        });
      }

      it("accepts a pseudonym as phone", async () => {
        const pseudonym = `erased:${"ab".repeat(32)}`;
        const stop = makeEvent({ phone: pseudonym });

        await store.record(stop);

        expect(await store.isOptedOut(pseudonym)).toBe(true);
        expect((await store.history(pseudonym)).map((event) => event.id)).toEqual([stop.id]);
      });
    });

    describe("history", () => {
      it("lists events in commit order", async () => {
        const phone = "+12025550121";
        const events = [
          makeEvent({ phone, occurredAt: minutes(5) }),
          makeEvent({ phone, action: "opt-in", occurredAt: minutes(0) }),
          makeEvent({ phone, occurredAt: minutes(10) }),
        ];
        const before = Date.now();
        for (const event of events) {
          await store.record(event);
        }
        const after = Date.now();

        const history = await store.history(phone);

        expect(history.map((event) => event.id)).toEqual(events.map((event) => event.id));
        for (const event of history) {
          expect(event.recordedAt).toBeInstanceOf(Date);
          expect(event.recordedAt?.getTime()).toBeGreaterThanOrEqual(before);
          expect(event.recordedAt?.getTime()).toBeLessThanOrEqual(after);
        }
      });

      it("is empty for unknown phone", async () => {
        expect(await store.history("+12025550122")).toEqual([]);
      });

      it("holds only the phone's events", async () => {
        await store.record(makeEvent({ phone: "+12025550123" }));
        await store.record(makeEvent({ phone: "+12025550124" }));

        const history = await store.history("+12025550123");

        expect(history).toHaveLength(1);
        expect(history[0]?.phone).toBe("+12025550123");
      });
    });

    describe("ordering", () => {
      it("late older opt-in does not override", async () => {
        const phone = "+12025550131";
        await store.record(makeEvent({ phone, occurredAt: minutes(5) }));
        await store.record(makeEvent({ phone, action: "opt-in", occurredAt: minutes(0) }));

        expect(await store.isOptedOut(phone)).toBe(true);
        expect((await store.getState(phone)).lastEvent?.occurredAt).toEqual(minutes(5));
      });

      it("STOP then START in order", async () => {
        const phone = "+12025550132";
        await store.record(makeEvent({ phone, occurredAt: minutes(0) }));
        await store.record(makeEvent({ phone, action: "opt-in", occurredAt: minutes(5) }));

        expect(await store.isOptedOut(phone)).toBe(false);
      });

      it("STOP then START in reverse order", async () => {
        const phone = "+12025550133";
        const start = makeEvent({ phone, action: "opt-in", occurredAt: minutes(5) });
        await store.record(start);
        await store.record(makeEvent({ phone, occurredAt: minutes(0) }));

        const state = await store.getState(phone);

        expect(state.optedOut).toBe(false);
        expect(state.lastEvent?.id).toBe(start.id);
        expect(await store.history(phone)).toHaveLength(2);
      });

      it("ties go to commit order", async () => {
        const first = "+12025550134";
        const second = "+12025550135";
        await store.record(makeEvent({ phone: first }));
        await store.record(makeEvent({ phone: first, action: "opt-in" }));
        await store.record(makeEvent({ phone: second, action: "opt-in" }));
        await store.record(makeEvent({ phone: second }));

        expect(await store.isOptedOut(first)).toBe(false);
        expect(await store.isOptedOut(second)).toBe(true);
        expect(await store.isOptedOut(first, APP_NUMBER)).toBe(false);
        expect(await store.isOptedOut(second, APP_NUMBER)).toBe(true);
      });

      it("holds within a sender scope", async () => {
        const phone = "+12025550136";
        await store.record(makeEvent({ phone, occurredAt: minutes(5) }));
        await store.record(makeEvent({ phone, action: "opt-in", occurredAt: minutes(0) }));

        expect(await store.isOptedOut(phone, APP_NUMBER)).toBe(true);
        expect(await store.filterOptedOut([phone], APP_NUMBER)).toEqual(new Set([phone]));
      });
    });

    describe("scopes", () => {
      it("no events means not opted out", async () => {
        const phone = "+12025550141";

        expect(await store.isOptedOut(phone)).toBe(false);
        expect(await store.isOptedOut(phone, APP_NUMBER)).toBe(false);
        expect(await store.getState(phone)).toEqual({
          phone,
          optedOut: false,
          scope: "*",
          lastEvent: undefined,
        });
      });

      it("sender opt-out blocks scope *", async () => {
        const phone = "+12025550142";
        await store.record(makeEvent({ phone, sender: APP_NUMBER }));

        expect(await store.isOptedOut(phone)).toBe(true);
        expect(await store.isOptedOut(phone, "*")).toBe(true);
        expect((await store.getState(phone)).scope).toBe("*");
      });

      it("sender opt-out blocks that sender only", async () => {
        const phone = "+12025550143";
        await store.record(makeEvent({ phone, sender: APP_NUMBER }));

        expect(await store.isOptedOut(phone, APP_NUMBER)).toBe(true);
        expect(await store.isOptedOut(phone, OTHER_SENDER)).toBe(false);
      });

      it("* event counts for every sender", async () => {
        const phone = "+12025550144";
        await store.record(makeEvent({ phone, sender: "*", source: "manual" }));

        expect(await store.isOptedOut(phone)).toBe(true);
        expect(await store.isOptedOut(phone, APP_NUMBER)).toBe(true);
        expect(await store.isOptedOut(phone, OTHER_SENDER)).toBe(true);
      });

      it("newest event of any sender decides *", async () => {
        const phone = "+12025550145";
        await store.record(makeEvent({ phone, sender: APP_NUMBER, occurredAt: minutes(0) }));
        await store.record(
          makeEvent({ phone, sender: OTHER_SENDER, action: "opt-in", occurredAt: minutes(5) }),
        );

        expect(await store.isOptedOut(phone)).toBe(false);
        expect(await store.isOptedOut(phone, APP_NUMBER)).toBe(true);
        expect(await store.isOptedOut(phone, OTHER_SENDER)).toBe(false);
      });

      it("sender opt-in after * opt-out", async () => {
        const phone = "+12025550146";
        await store.record(makeEvent({ phone, sender: "*", occurredAt: minutes(0) }));
        await store.record(
          makeEvent({ phone, sender: APP_NUMBER, action: "opt-in", occurredAt: minutes(5) }),
        );

        expect(await store.isOptedOut(phone)).toBe(false);
        expect(await store.isOptedOut(phone, APP_NUMBER)).toBe(false);
        expect(await store.isOptedOut(phone, OTHER_SENDER)).toBe(true);
      });

      it("getState returns the deciding event", async () => {
        const phone = "+12025550147";
        const stop = makeEvent({ phone, sender: APP_NUMBER, occurredAt: minutes(0) });
        const start = makeEvent({
          phone,
          sender: OTHER_SENDER,
          action: "opt-in",
          occurredAt: minutes(5),
        });
        await store.record(stop);
        await store.record(start);

        const any = await store.getState(phone);
        const app = await store.getState(phone, APP_NUMBER);

        expect(any).toMatchObject({ phone, optedOut: false, scope: "*" });
        expect(any.lastEvent).toMatchObject({ ...start, recordedAt: expect.any(Date) });
        expect(app).toMatchObject({ phone, optedOut: true, scope: APP_NUMBER });
        expect(app.lastEvent).toMatchObject({ ...stop, recordedAt: expect.any(Date) });
      });
    });

    describe("filterOptedOut", () => {
      it("returns empty set for no phones", async () => {
        await store.record(makeEvent({ phone: "+12025550151" }));

        const result = await store.filterOptedOut([]);

        expect(result).toBeInstanceOf(Set);
        expect(result.size).toBe(0);
      });

      it("checks a single phone", async () => {
        await store.record(makeEvent({ phone: "+12025550152" }));
        await store.record(makeEvent({ phone: "+12025550153", action: "opt-in" }));

        expect(await store.filterOptedOut(["+12025550152"])).toEqual(new Set(["+12025550152"]));
        expect(await store.filterOptedOut(["+12025550153"])).toEqual(new Set());
        expect(await store.filterOptedOut(["+12025550154"])).toEqual(new Set());
      });

      it("checks 5,000 phones with duplicates", async () => {
        const phones = Array.from({ length: 5000 }, (_, index) => phoneNumber(index));
        const events: ConsentEvent[] = [];
        const expected = new Set<string>();
        phones.forEach((phone, index) => {
          if (index % 3 === 0) {
            events.push(makeEvent({ phone, occurredAt: minutes(0) }));
          }

          if (index % 6 === 0) {
            events.push(makeEvent({ phone, action: "opt-in", occurredAt: minutes(1) }));
          } else if (index % 3 === 0) {
            expected.add(phone);
          }
        });
        await store.commitWebhook(makeReceipt({ id: "test:bulk", events }));

        const input = [...phones, ...phones.slice(0, 300), "+12025559999"];
        const result = await store.filterOptedOut(input);

        expect(result.size).toBe(expected.size);
        expect(result).toEqual(expected);
      });

      it("reads a sender scope", async () => {
        await store.record(makeEvent({ phone: "+12025550155", sender: APP_NUMBER }));
        await store.record(makeEvent({ phone: "+12025550156", sender: "*" }));
        await store.record(makeEvent({ phone: "+12025550157", sender: OTHER_SENDER }));
        const phones = ["+12025550155", "+12025550156", "+12025550157"];

        expect(await store.filterOptedOut(phones, APP_NUMBER)).toEqual(
          new Set(["+12025550155", "+12025550156"]),
        );
        expect(await store.filterOptedOut(phones)).toEqual(new Set(phones));
      });
    });

    describe("listOptedOut", () => {
      it("lists every opted-out phone", async () => {
        await store.record(makeEvent({ phone: "+12025550161" }));
        await store.record(makeEvent({ phone: "+12025550162", sender: OTHER_SENDER }));
        await store.record(makeEvent({ phone: "+12025550163", sender: "*" }));
        await store.record(makeEvent({ phone: "+12025550164", occurredAt: minutes(0) }));
        await store.record(
          makeEvent({ phone: "+12025550164", action: "opt-in", occurredAt: minutes(1) }),
        );
        await store.record(makeEvent({ phone: "+12025550165", action: "opt-in" }));

        const states = await collect(store.listOptedOut());

        const phones = states.map((state) => state.phone).sort();
        expect(phones).toEqual(["+12025550161", "+12025550162", "+12025550163"]);
        for (const state of states) {
          expect(state.optedOut).toBe(true);
          expect(state.scope).toBe("*");
          expect(state.lastEvent?.phone).toBe(state.phone);
          expect(state.lastEvent?.action).toBe("opt-out");
        }
      });

      it("lists a sender scope", async () => {
        const later = minutes(5);
        await store.record(makeEvent({ phone: "+12025550166", sender: APP_NUMBER }));
        await store.record(makeEvent({ phone: "+12025550167", sender: "*" }));
        await store.record(makeEvent({ phone: "+12025550168", sender: OTHER_SENDER }));
        await store.record(makeEvent({ phone: "+12025550169", sender: APP_NUMBER }));
        await store.record(
          makeEvent({ phone: "+12025550169", sender: "*", action: "opt-in", occurredAt: later }),
        );
        await store.record(makeEvent({ phone: "+12025550170", sender: "*" }));
        await store.record(
          makeEvent({ phone: "+12025550170", action: "opt-in", occurredAt: later }),
        );
        await store.record(makeEvent({ phone: "+12025550171", sender: APP_NUMBER }));
        await store.record(makeEvent({ phone: "+12025550171", sender: "*", occurredAt: later }));

        const app = await collect(store.listOptedOut(APP_NUMBER));
        const other = await collect(store.listOptedOut(OTHER_SENDER));

        expect(app.map((state) => state.phone).sort()).toEqual([
          "+12025550166",
          "+12025550167",
          "+12025550171",
        ]);
        expect(app.every((state) => state.scope === APP_NUMBER)).toBe(true);
        expect(app.find((state) => state.phone === "+12025550171")?.lastEvent?.sender).toBe("*");
        expect(other.map((state) => state.phone).sort()).toEqual([
          "+12025550167",
          "+12025550168",
          "+12025550170",
          "+12025550171",
        ]);
      });

      it("lists thousands of phones", async () => {
        const phones = Array.from({ length: 1234 }, (_, index) => phoneNumber(index));
        const senders = [APP_NUMBER, "*", OTHER_SENDER];
        const events = phones.map((phone, index) =>
          makeEvent({ phone, sender: senders[index % 3] ?? APP_NUMBER }),
        );
        await store.commitWebhook(makeReceipt({ id: "test:list", events }));

        const all = await collect(store.listOptedOut());
        const app = await collect(store.listOptedOut(APP_NUMBER));

        expect(all).toHaveLength(phones.length);
        expect(new Set(all.map((state) => state.phone))).toEqual(new Set(phones));
        const expectedApp = phones.filter((_, index) => index % 3 !== 2);
        expect(app).toHaveLength(expectedApp.length);
        expect(new Set(app.map((state) => state.phone))).toEqual(new Set(expectedApp));
      });
    });

    describe("commitWebhook", () => {
      it("commits events of a new receipt", async () => {
        const event = makeEvent({ phone: "+12025550181" });

        const result = await store.commitWebhook(makeReceipt({ id: "test:a", events: [event] }));

        expect(result).toEqual({ duplicate: false });
        expect(await store.isOptedOut(event.phone)).toBe(true);
        expect(await store.history(event.phone)).toHaveLength(1);
      });

      it("reports a duplicate receipt", async () => {
        const first = makeEvent({ phone: "+12025550182" });
        const second = makeEvent({
          phone: "+12025550182",
          action: "opt-in",
          occurredAt: minutes(5),
        });
        await store.commitWebhook(makeReceipt({ id: "test:b", events: [first] }));

        const result = await store.commitWebhook(makeReceipt({ id: "test:b", events: [second] }));

        expect(result).toEqual({ duplicate: true });
        expect(await store.history(first.phone)).toHaveLength(1);
        expect(await store.isOptedOut(first.phone)).toBe(true);
      });

      it("keeps event ids idempotent", async () => {
        const event = makeEvent({ phone: "+12025550183" });
        await store.record(event);

        const result = await store.commitWebhook(makeReceipt({ id: "test:c", events: [event] }));

        expect(result).toEqual({ duplicate: false });
        expect(await store.history(event.phone)).toHaveLength(1);
      });

      it("writes nothing for an invalid receipt", async () => {
        const valid = makeEvent({ phone: "+12025550184" });
        const invalid = {
          ...makeEvent({ phone: "+12025550185" }),
          occurredAt: new Date(Number.NaN),
        };
        const receipt = makeReceipt({ id: "test:d", events: [valid, invalid] });

        const error = await store.commitWebhook(receipt).catch((rejection) => rejection);

        expect(error).toBeInstanceOf(Error);
        expect(await store.history(valid.phone)).toEqual([]);
        expect(await store.history(invalid.phone)).toEqual([]);
        const retry = await store.commitWebhook(makeReceipt({ id: "test:d", events: [valid] }));
        expect(retry).toEqual({ duplicate: false });
        expect(await store.history(valid.phone)).toHaveLength(1);
      });

      it("commits 20 concurrent copies once", async () => {
        const phone = "+12025550143";
        const event = makeEvent({ phone, id: "twilio:SM00000000000000000000000000000001" });
        const receipt = makeReceipt({
          id: "twilio:AC00000000000000000000000000000001:SM00000000000000000000000000000001",
          events: [event],
          outbox: [makeOutbox("outbox:concurrent")],
        });
        const copies = Array.from({ length: 20 }, () => structuredClone(receipt));

        const results = await Promise.all(copies.map((copy) => store.commitWebhook(copy)));

        const fresh = results.filter((result) => !result.duplicate);
        expect(fresh).toHaveLength(1);
        expect(results.filter((result) => result.duplicate)).toHaveLength(19);
        expect(await store.history(phone)).toHaveLength(1);
        if (isOutboxStore(store)) {
          expect(await store.claimOutbox(100, 60_000)).toHaveLength(1);
        }
      });
    });

    describePartStore(() => store);
    describeStatusStore(() => store);

    describeSenderStateStore(() => store);
    describeNonceStore(() => store);
    describeNulStore(() => store);
    describeErasureStore(() => store);

    describe("outbox", () => {
      let outbox: OptOutStore & OutboxStore;

      beforeEach(({ skip }) => {
        skip(!isOutboxStore(store), "the store does not implement OutboxStore");
        outbox = store as OptOutStore & OutboxStore;
      });

      async function commitOutbox(receiptId: string, ids: string[]): Promise<void> {
        await outbox.commitWebhook(makeReceipt({ id: receiptId, outbox: ids.map(makeOutbox) }));
      }

      it("claims due messages in creation order", async () => {
        await commitOutbox("test:o1", ["o1", "o2"]);
        await commitOutbox("test:o2", ["o3"]);

        const claimed = await outbox.claimOutbox(10, 60_000);

        expect(claimed.map((entry) => entry.id)).toEqual(["o1", "o2", "o3"]);
        expect(claimed[0]).toMatchObject({ ...makeOutbox("o1"), attempts: 1 });
        expect(claimed[0]?.createdAt).toBeInstanceOf(Date);
      });

      it("leases claimed messages", async () => {
        await commitOutbox("test:o3", ["o4"]);
        await outbox.claimOutbox(10, 60_000);

        expect(await outbox.claimOutbox(10, 60_000)).toEqual([]);
      });

      it("claims at most the limit", async () => {
        await commitOutbox("test:o4", ["o5", "o6", "o7"]);

        const first = await outbox.claimOutbox(2, 60_000);
        const second = await outbox.claimOutbox(2, 60_000);

        expect(first.map((entry) => entry.id)).toEqual(["o5", "o6"]);
        expect(second.map((entry) => entry.id)).toEqual(["o7"]);
      });

      it("reclaims after lease expiry", async () => {
        await commitOutbox("test:o5", ["o8"]);
        await outbox.claimOutbox(10, 1);
        await sleep(20);

        const again = await outbox.claimOutbox(10, 60_000);

        expect(again.map((entry) => entry.id)).toEqual(["o8"]);
        expect(again[0]?.attempts).toBe(2);
      });

      it("retry schedules the next attempt", async () => {
        await commitOutbox("test:o6", ["o9"]);
        await outbox.claimOutbox(10, 60_000);

        await outbox.retryOutbox("o9", new Date(Date.now() + 3_600_000), "HTTP 500");
        const early = await outbox.claimOutbox(10, 60_000);
        await outbox.retryOutbox("o9", new Date(Date.now() - 1000), "HTTP 503");
        const due = await outbox.claimOutbox(10, 60_000);

        expect(early).toEqual([]);
        expect(due.map((entry) => entry.id)).toEqual(["o9"]);
        expect(due[0]?.attempts).toBe(2);
      });

      it("complete deletes the message", async () => {
        await commitOutbox("test:o7", ["o10", "o11"]);
        await outbox.claimOutbox(10, 1);

        await outbox.completeOutbox("o10");
        await sleep(20);
        const again = await outbox.claimOutbox(10, 60_000);

        expect(again.map((entry) => entry.id)).toEqual(["o11"]);
      });

      it("duplicate receipt adds no messages", async () => {
        await commitOutbox("test:o8", ["o12"]);
        await commitOutbox("test:o8", ["o13"]);

        const claimed = await outbox.claimOutbox(10, 60_000);

        expect(claimed.map((entry) => entry.id)).toEqual(["o12"]);
      });
    });

    describe("close", () => {
      it("rejects later calls with StoreError", async () => {
        const event = makeEvent({ phone: "+12025550191" });
        await store.record(event);
        await store.close();
        closedByTest = true;

        await expectStoreError(store.record(makeEvent({ phone: event.phone })));
        await expectStoreError(store.isOptedOut(event.phone));
        await expectStoreError(store.filterOptedOut([event.phone]));
        await expectStoreError(store.getState(event.phone));
        await expectStoreError(store.history(event.phone));
        await expectStoreError(collect(store.listOptedOut()));
        await expectStoreError(store.commitWebhook(makeReceipt({ id: "test:closed" })));
        if (isOutboxStore(store)) {
          await expectStoreError(store.claimOutbox(1, 1000));
          await expectStoreError(store.completeOutbox("none"));
          await expectStoreError(store.retryOutbox("none", new Date(), "error"));
        }
      });
    });

    describe("field reports", () => {
      it("keyword replies toggle opt-out", async () => {
        const phone = "+12025550143";
        const replies = [
          { sid: "SM00000000000000000000000000000181", text: "STOP", keyword: "STOP" },
          { sid: "SM00000000000000000000000000000182", text: "When does the course start?" },
          { sid: "SM00000000000000000000000000000183", text: "Start", keyword: "START" },
          { sid: "SM00000000000000000000000000000184", text: "STOP", keyword: "STOP" },
          { sid: "SM00000000000000000000000000000185", text: "unstop", keyword: "UNSTOP" },
        ];
        const optedOutAfterEach: boolean[] = [];
        const recorded: ConsentEvent[] = [];

        for (const [index, reply] of replies.entries()) {
          if (reply.keyword !== undefined) {
            const event = makeEvent({
              id: `twilio:${reply.sid}`,
              phone,
              action: reply.keyword === "STOP" ? "opt-out" : "opt-in",
              provider: "twilio",
              messageId: reply.sid,
              text: reply.text,
              keyword: reply.keyword,
              occurredAt: minutes(index),
            });
            await store.record(event);
            recorded.push(event);
          }

          optedOutAfterEach.push(await store.isOptedOut(phone));
        }

        expect(optedOutAfterEach).toEqual([true, true, false, true, false]);
        const history = await store.history(phone);
        expect(history).toHaveLength(4);
        history.forEach((event, index) => {
          expect(event.occurredAt).toEqual(recorded[index]?.occurredAt);
          expect(event.messageId).toBe(recorded[index]?.messageId);
          expect(event.keyword).toBe(recorded[index]?.keyword);
        });
      });

      it("opt-out is stored per number", async () => {
        await store.record(
          makeEvent({
            id: "twilio:SM00000000000000000000000000000019",
            phone: "+12025550143",
            sender: APP_NUMBER,
            messageId: "SM00000000000000000000000000000019",
            text: "STOP",
            keyword: "STOP",
          }),
        );

        expect(await store.isOptedOut("+12025550199")).toBe(false);
        expect(await store.isOptedOut("+12025550143")).toBe(true);
        expect(await store.isOptedOut("+12025550143", APP_NUMBER)).toBe(true);
        expect(await store.isOptedOut(APP_NUMBER)).toBe(false);
        expect(await store.filterOptedOut(["+12025550143", "+12025550199"])).toEqual(
          new Set(["+12025550143"]),
        );
      });
    });
  });
}
