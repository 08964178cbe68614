import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { pseudonymOf } from "../src/consent/erasure.js";
import {
  clampOccurredAt,
  earliestOccurredAt,
  findOccurredAtProblem,
  latestOccurredAt,
  maxClockSkewMs,
  type OccurredAtProblem,
} from "../src/consent/event-time.js";
import { findIdentityProblem, isCanonicalIdentity } from "../src/consent/identity.js";
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
  validatePhone,
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
import { normalizeRecipient, parseSenderIdentity } from "../src/phone/index.js";

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

  it("clamps a later occurredAt to recordedAt", () => {
    const recordedAt = new Date("2025-01-15T10:00:00Z");
    const original = event({ occurredAt: new Date("2025-01-15T10:04:00Z") });

    const copy = copyConsentEvent(original, recordedAt);

    expect(copy.occurredAt).toEqual(recordedAt);
    expect(copy.occurredAt).not.toBe(recordedAt);
    expect(original.occurredAt).toEqual(new Date("2025-01-15T10:04:00Z"));
  });

  it("keeps occurredAt without recordedAt", () => {
    const occurredAt = new Date(Date.now() + 4 * 60_000);

    const copy = copyConsentEvent(event({ occurredAt }));

    expect(copy.occurredAt).toEqual(occurredAt);
  });
});

describe("clampOccurredAt", () => {
  const now = new Date("2025-06-01T12:00:00.000Z");

  it("keeps an earlier time", () => {
    const earlier = new Date("2025-06-01T11:59:59.999Z");

    expect(clampOccurredAt(earlier, now)).toBe(earlier);
  });

  it("keeps the same time", () => {
    expect(clampOccurredAt(new Date(now.getTime()), now)).toEqual(now);
  });

  it("returns a copy of now for a later time", () => {
    const clamped = clampOccurredAt(new Date("2025-06-01T12:04:00.000Z"), now);

    expect(clamped).toEqual(now);
    expect(clamped).not.toBe(now);
  });
});

const SERVICE_SID = "MG0123456789abcdef0123456789ABCDEF";
const PSEUDONYM = pseudonymOf("unit-test-pseudonym-key-0123456789abcdef", PHONE);

describe("isCanonicalIdentity", () => {
  const accepted: Array<[string, string]> = [
    ["E.164 number", "+12025550152"],
    ["shortest E.164 syntax", "+12"],
    ["longest E.164 number", "+123456789012345"],
    ["5-digit short code", "55501"],
    ["3-digit short code", "123"],
    ["8-digit short code", "12345678"],
    ["alphanumeric sender ID", "ACME"],
    ["sender ID with a space", "ACME Shop"],
    ["sender ID with punctuation", "A.B-C&D_1"],
    ["messaging service SID", SERVICE_SID],
    ["Conversations service SID", "IS00000000000000000000000000000001"],
    ["account SID", "AC00000000000000000000000000000001"],
    ["WhatsApp address", "whatsapp:+12025550143"],
    ["Messenger address", "messenger:1234567890123456"],
    ["pseudonym", PSEUDONYM],
  ];

  for (const [name, value] of accepted) {
    it(`accepts ${name}`, () => {
      expect(isCanonicalIdentity(value)).toBe(true);
      expect(findIdentityProblem(value)).toBeUndefined();
    });
  }

  const rejected: Array<[string, string, string]> = [
    ["spaces and hyphens", "+1 202-555-0152", "contains whitespace"],
    ["national format", "(202) 555-0151", "contains whitespace"],
    ["hyphens", "202-555-0153", "punctuation between the digits"],
    ["dots", "202.555.0153", "punctuation between the digits"],
    ["hyphens after +", "+1-202-555-0156", "after the +"],
    ["full-width digits", "＋１２０２５５５０１５４", "outside ASCII"],
    ["Arabic-Indic digits", "+١٢٠٢٥٥٥٠١٥٤", "outside ASCII"],
    ["an invisible mark", "\u200e+12025550152", "invisible characters"],
    ["leading space", " +12025550152", "contains whitespace"],
    ["trailing newline", "+12025550152\n", "contains whitespace"],
    ["00 prefix", "0012025550155", "international prefix 00"],
    ["digits without +", "12025550155", "has 11 digits"],
    ["2 digits", "12", "has 2 digits"],
    ["0 after +", "+0202555015", "after the +"],
    ["1 digit after +", "+1", "after the +"],
    ["16 digits after +", "+1234567890123456", "after the +"],
    ["letters after +", "+1202555015x", "after the +"],
    ["tel: URI", "tel:+12025550152", "tel: URI"],
    ["malformed pseudonym", "erased:abc", "is no pseudonym"],
    ["double space in a sender ID", "ACME  Shop", "contains whitespace"],
    ["sender ID of 12 characters", "ACME Shop UK", "is no phone number"],
    ["SID with 31 hex digits", "MG0123456789abcdef0123456789abcde", "is no phone number"],
    ["empty string", "", "is no phone number"],
    ["all senders", "*", "is no phone number"],
    ["NUL in a channel address", "whatsapp:+1202555\u00000152", "control character U+0000"],
    ["escape in a channel address", "whatsapp:+1202555\u001b0152", "control character U+001B"],
  ];

  for (const [name, value, reason] of rejected) {
    it(`rejects ${name}`, () => {
      expect(isCanonicalIdentity(value)).toBe(false);
      expect(findIdentityProblem(value)).toContain(reason);
    });
  }

  it("rejects values that are no strings", () => {
    for (const value of [undefined, null, 12025550152, ["+12025550152"]]) {
      expect(isCanonicalIdentity(value)).toBe(false);
    }
  });

  it("accepts what the sender parser returns", () => {
    const inputs = [
      "+1 202-555-0152",
      "＋１２０２５５５０１５４",
      " 55501 ",
      "ACME  Shop",
      SERVICE_SID,
      "whatsapp:+12025550143",
      "\u200eMessenger:1234567890",
    ];

    for (const input of inputs) {
      const { value } = parseSenderIdentity(input, { counterpart: PHONE });
      expect(isCanonicalIdentity(value), `${input} read as ${value}`).toBe(true);
    }
  });

  it("accepts what the recipient parser returns", () => {
    const inputs = ["(202) 555-0151", "011 44 7400 123456", "+1 202 555 0143 ext. 12", "55501"];

    for (const input of inputs) {
      const { value } = normalizeRecipient(input, { defaultRegion: "US" });
      expect(isCanonicalIdentity(value), `${input} read as ${value}`).toBe(true);
    }

    const prefixed = normalizeRecipient("0012025550155", { internationalPrefix00: true });
    expect(prefixed.value).toBe("+12025550155");
    expect(isCanonicalIdentity(prefixed.value)).toBe(true);
  });

  it("accepts Vonage international digits", () => {
    const { value } = parseSenderIdentity("12025550152", { internationalDigits: true });

    expect(value).toBe("+12025550152");
    expect(isCanonicalIdentity(value)).toBe(true);
  });
});

describe("validateConsentEvent note", () => {
  it("takes a note of 4096 characters", () => {
    expect(() => validateConsentEvent(event({ note: "n".repeat(4096) }))).not.toThrow();
  });

  it("counts an emoji as one character", () => {
    expect(() => validateConsentEvent(event({ note: "😀".repeat(4096) }))).not.toThrow();
  });

  it("rejects a longer note", () => {
    const error = thrown(() => validateConsentEvent(event({ note: "n".repeat(4097) })));

    expect(isInvalidConsentEventError(error)).toBe(true);
    expect((error as InvalidConsentEventError).field).toBe("event.note");
    expect((error as Error).message).toContain("at most 4096 characters (received 4097)");
  });
});

describe("validateConsentEvent identities", () => {
  it("rejects a phone with punctuation", () => {
    const error = thrown(() => validateConsentEvent(event({ phone: "+1 202-555-0152" })));
    const message = (error as Error).message;

    expect(isInvalidConsentEventError(error)).toBe(true);
    expect((error as InvalidConsentEventError).field).toBe("event.phone");
    expect(message).toContain('received "+1 202-555-0152"');
    expect(message).toContain("contains whitespace");
    expect(message).toContain("normalizePhoneNumber()");
    expect(message).toContain("+12025550152");
  });

  it("rejects a non-canonical sender", () => {
    const error = thrown(() => validateConsentEvent(event({ sender: "(202) 555-0100" })));

    expect(isInvalidConsentEventError(error)).toBe(true);
    expect((error as InvalidConsentEventError).field).toBe("event.sender");
    expect((error as Error).message).toContain('received "(202) 555-0100"');
  });

  it("accepts * as sender only", () => {
    expect(thrown(() => validateConsentEvent(event({ sender: "*" })))).toBeUndefined();

    const error = thrown(() => validateConsentEvent(event({ phone: "*" })));

    expect((error as InvalidConsentEventError).field).toBe("event.phone");
  });

  it("accepts every canonical kind", () => {
    const identities = ["55501", "ACME", SERVICE_SID, "whatsapp:+12025550143", PSEUDONYM];

    for (const identity of identities) {
      const asPhone = thrown(() => validateConsentEvent(event({ phone: identity })));
      const asSender = thrown(() => validateConsentEvent(event({ sender: identity })));

      expect(asPhone, identity).toBeUndefined();
      expect(asSender, identity).toBeUndefined();
    }
  });

  it("names the event of a receipt", () => {
    const receipt = {
      id: "twilio:AC1:SM1",
      provider: "twilio",
      events: [event(), event({ id: "e2", phone: "0012025550155" })],
      outbox: [],
      receivedAt: new Date(),
    };

    const error = thrown(() => validateWebhookReceipt(receipt));

    expect((error as InvalidConsentEventError).field).toBe("receipt.events[1].phone");
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

  it("resolveScope rejects a non-canonical sender", () => {
    const error = thrown(() => resolveScope("+1 202-555-0100"));

    expect(argumentOf(error)).toBe("scope");
    expect((error as Error).message).toContain('received "+1 202-555-0100"');
    expect(resolveScope("*")).toBe("*");
    expect(resolveScope(SERVICE_SID)).toBe(SERVICE_SID);
  });

  it("validatePhoneList names the entry", () => {
    const error = thrown(() => validatePhoneList([PHONE, ""]));

    expect(argumentOf(error)).toBe("phones[1]");
    expect(isInvalidRequestError(thrown(() => validatePhoneList(PHONE)))).toBe(true);
  });

  it("validatePhoneList rejects a non-canonical entry", () => {
    const error = thrown(() => validatePhoneList([PHONE, "55501", "(202) 555-0151"]));
    const message = (error as Error).message;

    expect(argumentOf(error)).toBe("phones[2]");
    expect(message).toContain('received "(202) 555-0151"');
    expect(message).toContain("normalizePhoneNumber()");
  });

  it("validatePhone rejects non-canonical forms", () => {
    const forms = ["+1 202-555-0152", "＋１２０２５５５０１５４", "0012025550155", "202-555-0151"];

    for (const form of forms) {
      const error = thrown(() => validatePhone(form));

      expect(argumentOf(error), form).toBe("phone");
      expect((error as Error).message, form).toContain(JSON.stringify(form));
    }
  });

  it("validatePhone names its argument", () => {
    expect(argumentOf(thrown(() => validatePhone("ACME  Shop", "sender")))).toBe("sender");
    expect(thrown(() => validatePhone(PSEUDONYM))).toBeUndefined();
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
