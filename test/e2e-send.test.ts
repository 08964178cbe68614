import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { json, SENDER, type Stack, startStack } from "./helpers/stack.js";

let stack: Stack;

beforeAll(async () => {
  stack = await startStack();
});

afterAll(async () => {
  expect(await stack?.stop()).toBe(0);
});

/** Requests the fake Twilio API received so far. */
function apiRequests(): number {
  return stack.api.requests.length;
}

describe("smsgate send", () => {
  it("STOP reply blocks the next send", async () => {
    const person = "+12025550143";
    const stop = await stack.simulate(
      "inbound",
      ...["--from", person, "--to", SENDER, "--body", "STOP"],
    );

    expect(stop.code).toBe(0);
    expect(stop.stdout).toContain("HTTP 200");

    const before = apiRequests();
    const send = await stack.cli("send", "--to", person, "--body", "hi");

    expect(send.code).toBe(3);
    expect(send.stderr).toContain(`${person} has opted out`);
    expect(apiRequests()).toBe(before);
    expect(stack.api.messages.filter((message) => message.to === person)).toHaveLength(0);
  });

  it("START reply lets one send through", async () => {
    const person = "+12025550144";

    await stack.simulate("inbound", "--from", person, "--to", SENDER, "--body", "STOP");
    await stack.simulate("inbound", "--from", person, "--to", SENDER, "--body", "START");

    const send = await stack.cli("send", "--to", person, "--body", "welcome back", "--json");
    const outcome = json(send) as Record<string, unknown>;
    const delivered = stack.api.messages.filter((message) => message.to === person);

    expect(send.code).toBe(0);
    expect(outcome.status).toBe("sent");
    expect(delivered).toHaveLength(1);
    expect(delivered[0]?.body).toBe("welcome back");
    expect(outcome.messageId).toBe(delivered[0]?.sid);
  });

  it("provider opt-out code is recorded", async () => {
    const person = "+15005550004";
    const first = await stack.cli("send", "--to", person, "--body", "hi", "--json");
    const outcome = json(first) as Record<string, unknown>;

    expect(first.code).toBe(3);
    expect(outcome.status).toBe("opted-out");
    expect(outcome.code).toBe("21610");
    expect(outcome.reason).toBe("opted-out");
    expect(outcome.message).toContain("now recorded");

    const status = await stack.cli("optout", "status", person, "--scope", SENDER, "--json");
    const state = json(status) as Record<string, unknown>;

    expect(status.code).toBe(0);
    expect(state.optedOut).toBe(true);
    expect(state.scope).toBe(SENDER);
    expect(state.sender).toBe(SENDER);
    expect(state.source).toBe("provider-refusal");

    const before = apiRequests();
    const second = await stack.cli("send", "--to", person, "--body", "hi again");

    expect(second.code).toBe(3);
    expect(second.stderr).toContain("refused before it reached the provider");
    expect(apiRequests()).toBe(before);
  });

  it("other provider rejection exits 4", async () => {
    const send = await stack.cli("send", "--to", "+15005550001", "--body", "hi", "--json");
    const outcome = json(send) as Record<string, unknown>;

    expect(send.code).toBe(4);
    expect(outcome.status).toBe("rejected");
    expect(outcome.code).toBe("21211");
    expect(outcome.reason).toBe("invalid-recipient");
    expect(outcome.provider).toBe("twilio");
  });

  it("other provider rejection human message", async () => {
    const send = await stack.cli("send", "--to", "+15005550001", "--body", "hi");

    expect(send.code).toBe(4);
    expect(send.stderr).toContain("twilio rejected the message");
    expect(send.stderr).toContain("code 21211");
  });

  it("invalid number exits 2 naming it", async () => {
    const before = apiRequests();
    const send = await stack.cli("send", "--to", "+1 555 CALL", "--body", "hi");

    expect(send.code).toBe(2);
    expect(send.stderr).toContain('"+1 555 CALL"');
    expect(apiRequests()).toBe(before);
  });

  it("send while server holds store", async () => {
    const person = "+12025550145";
    const first = await stack.cli("send", "--to", person, "--body", "one");

    await stack.simulate("inbound", "--from", person, "--to", SENDER, "--body", "STOP");

    const second = await stack.cli("send", "--to", person, "--body", "two");
    const health = await fetch(`${stack.server.url}/healthz`);

    expect(first.code).toBe(0);
    expect(first.stdout).toContain(`Sent to ${person} through twilio`);
    expect(second.code).toBe(3);
    expect(health.status).toBe(200);
  });
});
