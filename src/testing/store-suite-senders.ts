import { beforeEach, describe, expect, it } from "vitest";
import { isSenderStateStore } from "../consent/capabilities.js";
import type {
  ConsentEvent,
  OptOutStore,
  SenderStateStore,
  SenderStates,
} from "../consent/types.js";

const BASE_TIME = Date.UTC(2025, 0, 15, 10, 0, 0);
const FIRST_SENDER = "+12025550100";
const SECOND_SENDER = "+12025550199";

let counter = 0;

function event(
  phone: string,
  action: ConsentEvent["action"],
  sender: string,
  minute: number,
): ConsentEvent {
  counter += 1;

  return {
    id: `test:senders:${counter}`,
    phone,
    action,
    sender,
    source: "keyword",
    occurredAt: new Date(BASE_TIME + minute * 60_000),
  };
}

async function collect(states: AsyncIterable<SenderStates>): Promise<SenderStates[]> {
  const all: SenderStates[] = [];

  for await (const state of states) {
    all.push(state);
  }

  return all;
}

/** Reduces each listed number to its phone and `action sender` per deciding event. */
function summary(states: SenderStates[]): Array<[string, string[]]> {
  return states.map((state) => [
    state.phone,
    state.events.map((item) => `${item.action} ${item.sender}`),
  ]);
}

/**
 * Registers the conformance tests of `SenderStateStore`; they are reported as skipped for a
 * store without it. `current` returns the store of the running test.
 */
export function describeSenderStateStore(current: () => OptOutStore): void {
  describe("sender states", () => {
    let store: OptOutStore & SenderStateStore;

    beforeEach(({ skip }) => {
      const candidate = current();
      skip(!isSenderStateStore(candidate), "the store does not implement SenderStateStore");
      store = candidate as OptOutStore & SenderStateStore;
    });

    it("lists each sender's deciding event", async () => {
      // A STOP to one sender, then a START to another: blocked for the first sender only.
      await store.record(event("+12025550181", "opt-out", FIRST_SENDER, 0));
      await store.record(event("+12025550181", "opt-in", SECOND_SENDER, 2));
      // An older STOP of the same sender is replaced by its newer START.
      await store.record(event("+12025550182", "opt-out", FIRST_SENDER, 0));
      await store.record(event("+12025550182", "opt-in", FIRST_SENDER, 1));
      await store.record(event("+12025550183", "opt-out", "*", 3));
      await store.record(event("+12025550183", "opt-out", FIRST_SENDER, 1));
      await store.record(event("+12025550184", "opt-in", "*", 0));

      const states = await collect(store.listSenderStates());

      expect(summary(states)).toEqual([
        ["+12025550181", [`opt-out ${FIRST_SENDER}`, `opt-in ${SECOND_SENDER}`]],
        ["+12025550182", [`opt-in ${FIRST_SENDER}`]],
        ["+12025550183", [`opt-out ${FIRST_SENDER}`, "opt-out *"]],
        ["+12025550184", ["opt-in *"]],
      ]);
      expect(states[0]?.events[0]?.occurredAt.getTime()).toBe(BASE_TIME);
    });

    it("orders a number's events by consent", async () => {
      await store.record(event("+12025550185", "opt-in", SECOND_SENDER, 5));
      await store.record(event("+12025550185", "opt-out", FIRST_SENDER, 1));
      await store.record(event("+12025550185", "opt-out", "*", 3));

      const states = await collect(store.listSenderStates());

      expect(summary(states)).toEqual([
        ["+12025550185", [`opt-out ${FIRST_SENDER}`, "opt-out *", `opt-in ${SECOND_SENDER}`]],
      ]);
    });

    it("lists more numbers than a page", async () => {
      const phones = Array.from(
        { length: 1203 },
        (_, index) => `+1202${String(6_000_000 + index).padStart(7, "0")}`,
      );
      const events = phones.flatMap((phone, index) => [
        event(phone, "opt-out", FIRST_SENDER, 0),
        event(phone, index % 2 === 0 ? "opt-in" : "opt-out", SECOND_SENDER, 1),
      ]);

      await store.commitWebhook({
        id: "test:senders:page",
        provider: "test",
        events,
        outbox: [],
        receivedAt: new Date(BASE_TIME),
      });
      const states = await collect(store.listSenderStates());

      expect(states.map((state) => state.phone)).toEqual(phones);
      expect(states.every((state) => state.events.length === 2)).toBe(true);
    });
  });
}
