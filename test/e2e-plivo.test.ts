import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { WebhookRequest } from "../src/provider.js";
import { type FakePlivoApi, startFakePlivoApi } from "../src/testing/fake-plivo.js";
import { buildPlivoInbound, signedPlivoRequest } from "../src/testing/plivo.js";
import { json, SENDER, type ServeStack, startServeStack } from "./helpers/stack.js";

let stack: ServeStack<FakePlivoApi>;

beforeAll(async () => {
  const api = await startFakePlivoApi();

  stack = await startServeStack({
    provider: "plivo",
    api,
    providerConfig: {
      authId: api.authId,
      authToken: api.authToken,
      from: SENDER,
      apiBaseUrl: api.url,
    },
  });
});

afterAll(async () => {
  const code = await stack?.stop();
  const logs = stack.server.stdout() + stack.server.stderr();

  expect(code).toBe(0);
  expect(logs).not.toContain(stack.api.authToken);
});

type Json = Record<string, unknown>;

/** Builds an inbound webhook from `person` to the stack's number, signed with `authToken`. */
function inbound(person: string, text: string, authToken: string, method: "GET" | "POST") {
  const built = buildPlivoInbound({ from: person.slice(1), to: SENDER.slice(1), text });

  return signedPlivoRequest({
    authToken,
    url: `${stack.server.url}/webhooks/plivo/inbound`,
    params: built.params,
    method,
  });
}

function deliver(request: WebhookRequest): Promise<Response> {
  return fetch(request.url, {
    method: request.method,
    headers: request.headers,
    body: request.method === "GET" ? undefined : request.body,
  });
}

async function history(person: string): Promise<Json[]> {
  return json(await stack.cli("optout", "history", person, "--json")) as Json[];
}

async function state(person: string): Promise<Json> {
  return json(await stack.cli("optout", "status", person, "--json")) as Json;
}

describe("plivo end to end", () => {
  it("inbound STOP blocks the send", async () => {
    const person = "+12025550143";
    const stop = await stack.simulate(
      "inbound",
      ...["--from", person, "--to", SENDER, "--body", "STOP"],
    );

    expect(stop.code).toBe(0);
    expect(stop.stdout).toMatch(/^HTTP 200 /);
    expect(stop.stdout).toContain("<Response");

    const before = stack.api.requests.length;
    const send = await stack.cli("send", "--provider", "plivo", "--to", person, "--body", "hi");

    expect(send.code).toBe(3);
    expect(send.stderr).toContain(`${person} has opted out`);
    expect(stack.api.requests).toHaveLength(before);
  });

  it("START lets one send through", async () => {
    const person = "+12025550144";

    await stack.simulate("inbound", "--from", person, "--to", SENDER, "--body", "STOP");

    const start = await stack.simulate(
      "inbound",
      ...["--from", person, "--to", SENDER, "--body", "START"],
    );
    const send = await stack.cli(
      "send",
      ...["--provider", "plivo", "--to", person, "--body", "welcome back", "--json"],
    );
    const outcome = json(send) as Json;
    const delivered = stack.api.messages.filter((message) => message.dst === person.slice(1));

    expect(start.code).toBe(0);
    expect(send.code).toBe(0);
    expect(outcome.status).toBe("sent");
    expect(outcome.provider).toBe("plivo");
    expect(delivered).toHaveLength(1);
    expect(delivered[0]?.text).toBe("welcome back");
    expect(delivered[0]?.src).toBe(SENDER.slice(1));
    expect(outcome.messageId).toBe(delivered[0]?.messageUuid);
  });

  it("status ErrorCode 200 records opt-out", async () => {
    const person = "+12025550145";
    const status = await stack.simulate(
      "status",
      ...["--message-id", "0f6b7c2e-1d5a-4a77-9e3b-5c1f0e2d4a60", "--status", "failed"],
      ...["--error-code", "200", "--from", SENDER, "--to", person],
    );
    const current = await state(person);

    expect(status.code).toBe(0);
    expect(status.stdout).toMatch(/^HTTP 2\d\d /);
    expect(current.optedOut).toBe(true);
    expect(current.source).toBe("provider-refusal");
    expect(current.provider).toBe("plivo");

    const before = stack.api.requests.length;
    const send = await stack.cli("send", "--provider", "plivo", "--to", person, "--body", "hi");

    expect(send.code).toBe(3);
    expect(stack.api.requests).toHaveLength(before);
  });

  it("wrong signature gets 403, records nothing", async () => {
    const person = "+12025550146";
    const response = await deliver(inbound(person, "STOP", "not-the-auth-token", "POST"));

    expect(response.status).toBe(403);
    expect(await history(person)).toEqual([]);
  });

  it("MessageIntent optout is honoured", async () => {
    const person = "+12025550147";
    const result = await stack.simulate(
      "inbound",
      ...["--from", person, "--to", SENDER, "--body", "Thanks for the reminder"],
      ...["--intent", "optout"],
    );
    const current = await state(person);

    expect(result.code).toBe(0);
    expect(current.optedOut).toBe(true);
    expect(current.source).toBe("provider-flag");
  });

  it("signed GET webhooks are recorded", async () => {
    const person = "+12025550148";
    const stop = inbound(person, "STOP", stack.api.authToken, "GET");
    const response = await deliver(stop);

    expect(stop.url).toContain("Text=STOP");
    expect(response.status).toBe(200);
    expect((await state(person)).optedOut).toBe(true);

    const start = await stack.simulate(
      "inbound",
      ...["--from", person, "--to", SENDER, "--body", "START", "--method", "GET"],
    );

    expect(start.code).toBe(0);
    expect(start.stderr).toContain("fields in the query");
    expect((await state(person)).optedOut).toBe(false);
  });
});
