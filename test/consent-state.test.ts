import { describe, expect, it } from "vitest";
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
