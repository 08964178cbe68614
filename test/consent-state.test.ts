import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import {
  earliestOccurredAt,
  findOccurredAtProblem,
  latestOccurredAt,
  maxClockSkewMs,
  type OccurredAtProblem,
} from "../src/consent/event-time.js";
import {
  compareEventPositions,
  copyConsentEvent,
  deriveConsentState,
  eventMatchesScope,
  findDecidingEvent,
  isNewerPosition,
  resolveScope,
  type SequencedEvent,
  validateConsentEvent,
  validateOutboxClaim,
  validateOutboxRetry,
  validatePhoneList,
  validateWebhookReceipt,
} from "../src/consent/state.js";
import type { ConsentEvent } from "../src/consent/types.js";
import {
  type InvalidConsentEventError,
  isInvalidConsentEventError,
  isInvalidRequestError,
  isSmsgateError,
} from "../src/errors.js";

const PHONE = "+12025550143";
const APP = "+12025550100";
const OTHER = "+12025550101";

function event(fields: Partial<ConsentEvent> = {}): ConsentEvent {
  return {
    id: "twilio:SM1",
    phone: PHONE,
    action: "opt-out",
    sender: APP,
    source: "keyword",
    occurredAt: new Date("2025-01-15T10:00:00Z"),
    ...fields,
  };
}

function at(minute: number): Date {
  return new Date(Date.UTC(2025, 0, 15, 10, minute));
}

function sequenced(seq: number, fields: Partial<ConsentEvent>): SequencedEvent {
  return { seq, event: event({ id: `e${seq}`, ...fields }) };
}

function argumentOf(error: unknown): string | undefined {
  expect(isInvalidRequestError(error)).toBe(true);
  return /^Invalid store argument (\S+):/.exec((error as Error).message)?.[1];
}

function thrown(work: () => unknown): unknown {
  try {
    work();
  } catch (error) {
    return error;
  }

  return undefined;
}

describe("compareEventPositions", () => {
  it("orders by time first", () => {
    expect(compareEventPositions({ occurredAt: 1, seq: 9 }, { occurredAt: 2, seq: 1 })).toBe(-1);
    expect(compareEventPositions({ occurredAt: 2, seq: 1 }, { occurredAt: 1, seq: 9 })).toBe(1);
  });

  it("breaks ties by sequence", () => {
    expect(
      compareEventPositions({ occurredAt: 1, seq: 2 }, { occurredAt: 1, seq: 3 }),
    ).toBeLessThan(0);
    expect(
      compareEventPositions({ occurredAt: 1, seq: 3 }, { occurredAt: 1, seq: 2 }),
    ).toBeGreaterThan(0);
    expect(compareEventPositions({ occurredAt: 1, seq: 3 }, { occurredAt: 1, seq: 3 })).toBe(0);
  });

  it("isNewerPosition accepts no current", () => {
    expect(isNewerPosition({ occurredAt: 0, seq: 1 })).toBe(true);
    expect(isNewerPosition({ occurredAt: 0, seq: 1 }, { occurredAt: 0, seq: 1 })).toBe(false);
    expect(isNewerPosition({ occurredAt: 0, seq: 2 }, { occurredAt: 0, seq: 1 })).toBe(true);
  });
});

describe("eventMatchesScope", () => {
  it("scope * reads every sender", () => {
    expect(eventMatchesScope(APP, "*")).toBe(true);
    expect(eventMatchesScope("*", "*")).toBe(true);
  });

  it("sender scope reads itself and *", () => {
    expect(eventMatchesScope(APP, APP)).toBe(true);
    expect(eventMatchesScope("*", APP)).toBe(true);
    expect(eventMatchesScope(OTHER, APP)).toBe(false);
  });
});

describe("deriveConsentState", () => {
  it("no events is not opted out", () => {
    expect(deriveConsentState(PHONE, [], "*")).toEqual({
      phone: PHONE,
      optedOut: false,
      scope: "*",
      lastEvent: undefined,
    });
  });

  it("newest occurredAt wins over commit order", () => {
    const events = [
      sequenced(1, { action: "opt-in", occurredAt: at(5) }),
      sequenced(2, { action: "opt-out", occurredAt: at(0) }),
    ];

    const state = deriveConsentState(PHONE, events, "*");

    expect(state.optedOut).toBe(false);
    expect(state.lastEvent?.id).toBe("e1");
  });

  it("equal times go to commit order", () => {
    const stopFirst = [sequenced(1, { action: "opt-out" }), sequenced(2, { action: "opt-in" })];
    const startFirst = [sequenced(1, { action: "opt-in" }), sequenced(2, { action: "opt-out" })];

    expect(deriveConsentState(PHONE, stopFirst, "*").optedOut).toBe(false);
    expect(deriveConsentState(PHONE, startFirst, "*").optedOut).toBe(true);
    expect(deriveConsentState(PHONE, [...startFirst].reverse(), "*").optedOut).toBe(true);
  });

  it("reads the requested scope", () => {
    const events = [
      sequenced(1, { sender: "*", action: "opt-out", occurredAt: at(0) }),
      sequenced(2, { sender: APP, action: "opt-in", occurredAt: at(5) }),
      sequenced(3, { sender: OTHER, action: "opt-out", occurredAt: at(1) }),
    ];

    expect(deriveConsentState(PHONE, events, "*").optedOut).toBe(false);
    expect(deriveConsentState(PHONE, events, APP).optedOut).toBe(false);
    expect(deriveConsentState(PHONE, events, OTHER).optedOut).toBe(true);
    expect(deriveConsentState(PHONE, events, "+12025550102").optedOut).toBe(true);
    expect(deriveConsentState(PHONE, events, OTHER).scope).toBe(OTHER);
  });

  it("returns a copy of the deciding event", () => {
    const events = [sequenced(1, {})];

    const state = deriveConsentState(PHONE, events, "*");
    state.lastEvent?.occurredAt.setTime(0);

    expect(events[0]?.event.occurredAt).toEqual(new Date("2025-01-15T10:00:00Z"));
  });

  it("findDecidingEvent skips other senders", () => {
    const events = [sequenced(1, { sender: OTHER, occurredAt: at(9) }), sequenced(2, {})];

    expect(findDecidingEvent(events, APP)?.seq).toBe(2);
    expect(findDecidingEvent(events, "*")?.seq).toBe(1);
    expect(findDecidingEvent([sequenced(1, { sender: OTHER })], APP)).toBeUndefined();
  });
});

describe("copyConsentEvent", () => {
  it("drops undefined fields", () => {
    const copy = copyConsentEvent(event({ provider: undefined, keyword: "STOP" }));

    expect(Object.keys(copy)).not.toContain("provider");
    expect(copy.keyword).toBe("STOP");
  });

  it("copies dates and sets recordedAt", () => {
    const original = event();
    const recordedAt = new Date("2025-01-15T10:00:01Z");

    const copy = copyConsentEvent(original, recordedAt);

    expect(copy.occurredAt).not.toBe(original.occurredAt);
    expect(copy.occurredAt).toEqual(original.occurredAt);
    expect(copy.recordedAt).toEqual(recordedAt);
    expect(copy.recordedAt).not.toBe(recordedAt);
  });
});

describe("validateConsentEvent", () => {
  const cases: Array<[string, unknown]> = [
    ["event", null],
    ["event", "STOP"],
    ["event.id", event({ id: "" })],
    ["event.phone", { ...event(), phone: undefined }],
    ["event.sender", event({ sender: "" })],
    ["event.action", { ...event(), action: "stop" }],
    ["event.source", { ...event(), source: "sms" }],
    ["event.occurredAt", event({ occurredAt: new Date("not a date") })],
    ["event.occurredAt", { ...event(), occurredAt: 1736935200000 }],
    ["event.keyword", { ...event(), keyword: 5 }],
  ];

  for (const [field, value] of cases) {
    it(`rejects invalid ${field} (${typeof value})`, () => {
      const error = thrown(() => validateConsentEvent(value));

      expect(isInvalidConsentEventError(error)).toBe(true);
      expect(isSmsgateError(error)).toBe(true);
      expect((error as InvalidConsentEventError).field).toBe(field);
    });
  }

  it("accepts a complete event", () => {
    const full = event({ provider: "twilio", messageId: "SM1", text: "STOP", keyword: "STOP" });

    expect(thrown(() => validateConsentEvent(full))).toBeUndefined();
  });

  it("names the received value", () => {
    const error = thrown(() => validateConsentEvent({ ...event(), action: "stop" }));

    expect((error as Error).message).toContain('"stop"');
    expect((error as Error).message).toContain('"opt-out"');
    expect((error as InvalidConsentEventError).code).toBe("SMSGATE_INVALID_CONSENT_EVENT");
  });
});

describe("validateConsentEvent occurredAt range", () => {
  const now = new Date("2025-06-01T12:00:00.000Z");

  beforeEach(() => {
    vi.useFakeTimers({ toFake: ["Date"], now });
  });

  afterEach(() => {
    vi.useRealTimers();
  });

  it("accepts the clock skew limit", () => {
    const occurredAt = new Date(now.getTime() + maxClockSkewMs);

    expect(thrown(() => validateConsentEvent(event({ occurredAt })))).toBeUndefined();
  });

  it("rejects 1 ms past the limit", () => {
    const occurredAt = new Date(now.getTime() + maxClockSkewMs + 1);

    const error = thrown(() => validateConsentEvent(event({ occurredAt })));
    const message = (error as Error).message;

    expect(isInvalidConsentEventError(error)).toBe(true);
    expect((error as InvalidConsentEventError).field).toBe("event.occurredAt");
    expect(message).toContain("more than 5 minutes in the future");
    expect(message).toContain("received 2025-06-01T12:05:00.001Z");
    expect(message).toContain("latest accepted 2025-06-01T12:05:00.000Z");
    expect(message).toContain("Give the time the consent changed");
    expect(message).toContain("correct the clock");
  });

  it("names the path it is given", () => {
    const occurredAt = new Date("2999-01-01T00:00:00Z");

    const error = thrown(() => validateConsentEvent(event({ occurredAt }), "receipt.events[2]"));

    expect((error as InvalidConsentEventError).field).toBe("receipt.events[2].occurredAt");
  });

  it("accepts 1990-01-01", () => {
    const occurredAt = new Date(earliestOccurredAt.getTime());

    expect(thrown(() => validateConsentEvent(event({ occurredAt })))).toBeUndefined();
  });

  it("rejects 1 ms before 1990", () => {
    const occurredAt = new Date(earliestOccurredAt.getTime() - 1);

    const error = thrown(() => validateConsentEvent(event({ occurredAt })));
    const message = (error as Error).message;

    expect(isInvalidConsentEventError(error)).toBe(true);
    expect((error as InvalidConsentEventError).field).toBe("event.occurredAt");
    expect(message).toContain("is before 1990-01-01T00:00:00.000Z");
    expect(message).toContain("received 1989-12-31T23:59:59.999Z");
    expect(message).toContain("Give the time the consent changed");
  });

  it("checks each event of a receipt", () => {
    const future = event({ id: "e2", occurredAt: new Date("2999-01-01T00:00:00Z") });
    const receipt = {
      id: "twilio:AC1:SM1",
      provider: "twilio",
      events: [event(), future],
      outbox: [],
      receivedAt: now,
    };

    const error = thrown(() => validateWebhookReceipt(receipt));

    expect(isInvalidConsentEventError(error)).toBe(true);
    expect((error as InvalidConsentEventError).field).toBe("receipt.events[1].occurredAt");
  });
});

describe("findOccurredAtProblem", () => {
  const now = new Date("2025-06-01T12:00:00.000Z");
  const cases: Array<[string, Date, OccurredAtProblem | undefined]> = [
    ["now", now, undefined],
    ["at the skew limit", latestOccurredAt(now), undefined],
    ["past the skew limit", new Date(latestOccurredAt(now).getTime() + 1), "after-latest"],
    ["the earliest time", earliestOccurredAt, undefined],
    ["before 1990", new Date(earliestOccurredAt.getTime() - 1), "before-earliest"],
  ];

  for (const [name, time, expected] of cases) {
    it(`returns ${String(expected)} for ${name}`, () => {
      expect(findOccurredAtProblem(time, now)).toBe(expected);
    });
  }
});

describe("validateWebhookReceipt", () => {
  const receipt = {
    id: "twilio:AC1:SM1",
    provider: "twilio",
    events: [event()],
    outbox: [{ id: "m1", type: "inbound", payload: "{}" }],
    receivedAt: new Date(),
  };

  it("accepts a valid receipt", () => {
    expect(thrown(() => validateWebhookReceipt(receipt))).toBeUndefined();
  });

  it("names receipt fields", () => {
    const noId = thrown(() => validateWebhookReceipt({ ...receipt, id: "" }));
    const noEvents = thrown(() => validateWebhookReceipt({ ...receipt, events: undefined }));
    const badPayload = thrown(() =>
      validateWebhookReceipt({ ...receipt, outbox: [{ id: "m1", type: "x", payload: {} }] }),
    );

    expect(isInvalidRequestError(noId)).toBe(true);
    expect(argumentOf(noId)).toBe("receipt.id");
    expect(argumentOf(noEvents)).toBe("receipt.events");
    expect(argumentOf(badPayload)).toBe("receipt.outbox[0].payload");
  });

  it("names the invalid event index", () => {
    const events = [event(), event({ sender: "" })];

    const error = thrown(() => validateWebhookReceipt({ ...receipt, events }));

    expect((error as InvalidConsentEventError).field).toBe("receipt.events[1].sender");
  });
});

describe("store arguments", () => {
  it("resolveScope defaults to *", () => {
    expect(resolveScope(undefined)).toBe("*");
    expect(resolveScope(APP)).toBe(APP);
    expect(isInvalidRequestError(thrown(() => resolveScope("")))).toBe(true);
  });

  it("validatePhoneList names the entry", () => {
    const error = thrown(() => validatePhoneList([PHONE, ""]));

    expect(argumentOf(error)).toBe("phones[1]");
    expect(isInvalidRequestError(thrown(() => validatePhoneList(PHONE)))).toBe(true);
  });

  it("outbox claim needs positive integers", () => {
    expect(thrown(() => validateOutboxClaim(1, 1))).toBeUndefined();
    expect(argumentOf(thrown(() => validateOutboxClaim(0, 1)))).toBe("limit");
    expect(argumentOf(thrown(() => validateOutboxClaim(1, Number.POSITIVE_INFINITY)))).toBe(
      "leaseMs",
    );
  });

  it("outbox retry checks each argument", () => {
    const cases: Array<[string, unknown[]]> = [
      ["id", ["", new Date(), "x"]],
      ["notBefore", ["m1", "soon", "x"]],
      ["error", ["m1", new Date(), undefined]],
    ];

    for (const [argument, [id, notBefore, message]] of cases) {
      const error = thrown(() => validateOutboxRetry(id, notBefore, message));
      expect(argumentOf(error)).toBe(argument);
    }
  });
});
