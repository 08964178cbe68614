import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parseJsonLines } from "./helpers/cli.js";
import { json, SENDER, type Stack, startStack } from "./helpers/stack.js";

let stack: Stack;

beforeAll(async () => {
  stack = await startStack();
});

afterAll(async () => {
  expect(await stack?.stop()).toBe(0);
});

type Json = Record<string, unknown>;

describe("smsgate optout", () => {
  it("status before and after STOP", async () => {
    const person = "+12025550150";
    const before = json(await stack.cli("optout", "status", person, "--json")) as Json;

    expect(before).toMatchObject({ phone: person, optedOut: false, scope: "*" });
    expect(before.since).toBeNull();
    expect(before.source).toBeNull();

    await stack.simulate("inbound", "--from", person, "--to", SENDER, "--body", "STOP");

    const after = json(await stack.cli("optout", "status", person, "--json")) as Json;

    expect(after).toMatchObject({ phone: person, optedOut: true, scope: "*" });
    expect(after.source).toBe("keyword");
    expect(after.keyword).toBe("STOP");
    expect(Number.isNaN(Date.parse(String(after.since)))).toBe(false);
  });

  it("status human output", async () => {
    const person = "+12025550151";

    await stack.simulate("inbound", "--from", person, "--to", SENDER, "--body", "stop");

    const status = await stack.cli("optout", "status", person);

    expect(status.code).toBe(0);
    expect(status.stdout).toContain(`${person} is opted out (scope *)`);
    expect(status.stdout).toContain("keyword STOP");
  });

  it("history lists events oldest first", async () => {
    const person = "+12025550152";

    await stack.simulate("inbound", "--from", person, "--to", SENDER, "--body", "STOP");
    await stack.simulate("inbound", "--from", person, "--to", SENDER, "--body", "START");

    const result = await stack.cli("optout", "history", person, "--json");
    const events = json(result) as Json[];

    expect(result.code).toBe(0);
    expect(events).toHaveLength(2);
    expect(events.map((event) => event.action)).toEqual(["opt-out", "opt-in"]);
    expect(events.map((event) => event.source)).toEqual(["keyword", "keyword"]);
    expect(events.map((event) => event.keyword)).toEqual(["STOP", "START"]);
    expect(events.map((event) => event.phone)).toEqual([person, person]);
    expect(events[0]?.provider).toBe("twilio");
  });

  it("history human output", async () => {
    const person = "+12025550153";

    await stack.simulate("inbound", "--from", person, "--to", SENDER, "--body", "STOP");

    const history = await stack.cli("optout", "history", person);
    const lines = history.stdout.trim().split("\n");

    expect(history.code).toBe(0);
    expect(lines[0]).toMatch(/^TIME\s+ACTION\s+SENDER\s+SOURCE/);
    expect(lines[1]).toContain("opt-out");
    expect(lines[1]).toContain("keyword");
    expect(lines[1]).toContain('"STOP"');
  });

  it("add and remove record manual events", async () => {
    const person = "+12025550154";
    const add = await stack.cli("optout", "add", person, "--reason", "asked by phone");

    expect(add.code).toBe(0);
    expect(add.stdout).toContain(`Recorded an opt-out for ${person} (scope *)`);

    const added = json(await stack.cli("optout", "status", person, "--json")) as Json;

    expect(added.optedOut).toBe(true);
    expect(added.source).toBe("manual");

    const remove = await stack.cli("optout", "remove", person);

    expect(remove.code).toBe(0);
    expect(remove.stdout).toContain(`Recorded an opt-in for ${person} (scope *)`);

    const removed = json(await stack.cli("optout", "status", person, "--json")) as Json;
    const history = json(await stack.cli("optout", "history", person, "--json")) as Json[];

    expect(removed.optedOut).toBe(false);
    expect(history.map((event) => event.action)).toEqual(["opt-out", "opt-in"]);
    expect(history.map((event) => event.source)).toEqual(["manual", "manual"]);
    expect(history[0]?.note).toBe("asked by phone");
    expect(history[0]?.text).toBeUndefined();
  });

  it("add with sender scope", async () => {
    const person = "+12025550155";
    const other = "+12025550199";

    await stack.cli("optout", "add", person, "--scope", SENDER);

    const own = json(await stack.cli("optout", "status", person, "--scope", SENDER, "--json"));
    const foreign = json(await stack.cli("optout", "status", person, "--scope", other, "--json"));
    const any = json(await stack.cli("optout", "status", person, "--json"));

    expect(own).toMatchObject({ optedOut: true, scope: SENDER, sender: SENDER });
    // Under the default global scope the opt-out of one sender refuses sends from every
    // sender while it is the number's newest event, and the status shows it.
    expect(foreign).toMatchObject({ optedOut: true, scope: other, sender: SENDER });
    expect(any).toMatchObject({ optedOut: true, scope: "*" });
  });

  it("add blocks send without provider call", async () => {
    const person = "+12025550156";

    await stack.cli("optout", "add", person);

    const before = stack.api.requests.length;
    const send = await stack.cli("send", "--to", person, "--body", "hi");

    expect(send.code).toBe(3);
    expect(stack.api.requests.length).toBe(before);
  });

  it("list prints JSON lines", async () => {
    const person = "+12025550157";

    await stack.cli("optout", "add", person);

    const result = await stack.cli("optout", "list", "--json");
    const states = parseJsonLines(result.stdout);
    const listed = states.find((state) => state.phone === person);

    expect(result.code).toBe(0);
    expect(result.stdout.trim().startsWith("[")).toBe(false);
    expect(listed).toMatchObject({ phone: person, optedOut: true, source: "manual" });
    expect(states.every((state) => state.optedOut === true)).toBe(true);
  });

  it("list human output", async () => {
    const person = "+12025550158";

    await stack.cli("optout", "add", person);

    const result = await stack.cli("optout", "list");

    const [header, ...lines] = result.stdout.split("\n");
    const line = lines.find((text) => text.startsWith(`${person} `));

    expect(result.code).toBe(0);
    expect(header).toMatch(/^PHONE\s+SINCE\s+SOURCE\s+SENDER$/);
    expect(line).toMatch(new RegExp(`^\\${person}\\s+\\d{4}-`));
    expect(line?.indexOf("manual")).toBe(header?.indexOf("SOURCE"));
    expect(line?.indexOf("*")).toBe(header?.indexOf("SENDER"));
  });

  it("invalid number exits 2 naming it", async () => {
    const result = await stack.cli("optout", "add", "12");

    expect(result.code).toBe(2);
    expect(result.stderr).toContain('"12"');
  });
});
