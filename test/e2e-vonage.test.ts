import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { WebhookRequest } from "../src/provider.js";
import type { FakeVonageApi } from "../src/testing/fake-vonage.js";
import { startFakeVonageApi } from "../src/testing/fake-vonage.js";
import { buildVonageInbound, signedVonageRequest } from "../src/testing/vonage.js";
import { json, SENDER, type ServeStack, startServeStack } from "./helpers/stack.js";

const signatureSecret = "e2e-vonage-signature-secret";

let stack: ServeStack<FakeVonageApi>;

beforeAll(async () => {
  const api = await startFakeVonageApi();

  stack = await startServeStack({
    provider: "vonage",
    api,
    providerConfig: {
      apiKey: api.apiKey,
      apiSecret: api.apiSecret,
      signatureSecret,
      signatureMethod: "sha256",
      from: SENDER,
      apiBaseUrl: api.url,
    },
  });
});

afterAll(async () => {
  const code = await stack?.stop();
  const logs = stack.server.stdout() + stack.server.stderr();

  expect(code).toBe(0);
  expect(logs).not.toContain(signatureSecret);
  expect(logs).not.toContain(stack.api.apiSecret);
});

type Json = Record<string, unknown>;

function inboundUrl(): string {
  return `${stack.server.url}/webhooks/vonage/inbound`;
}

/** Builds an SMS API inbound webhook from `person` to the stack's number. */
function inbound(person: string, text: string, secret: string | undefined, method = "POST") {
  const built = buildVonageInbound({ msisdn: person.slice(1), to: SENDER.slice(1), text });

  return signedVonageRequest({
    url: inboundUrl(),
    params: built.params,
    secret,
    signatureMethod: "sha256",
    method: method === "GET" ? "GET" : "POST",
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

describe("vonage end to end", () => {
  it("inbound STOP blocks the send", async () => {
    const person = "+12025550143";
    const stop = await stack.simulate(
      "inbound",
      ...["--from", person, "--to", SENDER, "--body", "STOP"],
    );

    expect(stop.code).toBe(0);
    expect(stop.stdout).toMatch(/^HTTP 204 /);

    const before = stack.api.requests.length;
    const send = await stack.cli("send", "--provider", "vonage", "--to", person, "--body", "hi");

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
      ...["--provider", "vonage", "--to", person, "--body", "welcome back", "--json"],
    );
    const outcome = json(send) as Json;
    const delivered = stack.api.messages.filter((message) => message.to === person.slice(1));

    expect(start.code).toBe(0);
    expect(send.code).toBe(0);
    expect(outcome.status).toBe("sent");
    expect(outcome.provider).toBe("vonage");
    expect(delivered).toHaveLength(1);
    expect(delivered[0]?.text).toBe("welcome back");
    expect(delivered[0]?.from).toBe(SENDER.slice(1));
    expect(outcome.messageId).toBe(delivered[0]?.id);
  });

  it("receipt err-code 9 records opt-out", async () => {
    const person = "+12025550145";
    const receipt = await stack.simulate(
      "status",
      ...["--message-id", "0B00000000000009", "--status", "rejected", "--error-code", "9"],
      ...["--from", SENDER, "--to", person],
    );
    const current = await state(person);

    expect(receipt.code).toBe(0);
    expect(receipt.stdout).toMatch(/^HTTP 2\d\d /);
    expect(current.optedOut).toBe(true);
    expect(current.source).toBe("provider-refusal");
    expect(current.provider).toBe("vonage");

    const before = stack.api.requests.length;
    const send = await stack.cli("send", "--provider", "vonage", "--to", person, "--body", "hi");

    expect(send.code).toBe(3);
    expect(stack.api.requests).toHaveLength(before);
  });

  it("wrong sig gets 403, records nothing", async () => {
    const person = "+12025550146";
    const post = await deliver(inbound(person, "STOP", "not-the-secret"));
    const get = await deliver(inbound(person, "STOP", "not-the-secret", "GET"));
    const logs = await stack.server.waitForStdout("signature check failed");

    expect(post.status).toBe(403);
    expect(get.status).toBe(403);
    expect(await history(person)).toEqual([]);
    expect(logs).toContain("signature check failed");
    expect(logs).not.toContain(person.slice(1));
  });

  it("missing sig gets 401, records nothing", async () => {
    const person = "+12025550147";
    const response = await deliver(inbound(person, "STOP", undefined));

    expect(response.status).toBe(401);
    expect(await history(person)).toEqual([]);
  });

  it("signed GET webhooks are recorded", async () => {
    const person = "+12025550148";
    const stop = inbound(person, "STOP", signatureSecret, "GET");
    const response = await deliver(stop);

    expect(stop.url).toContain("sig=");
    expect(response.status).toBe(204);
    expect((await state(person)).optedOut).toBe(true);

    const start = await stack.simulate(
      "inbound",
      ...["--from", person, "--to", SENDER, "--body", "START", "--method", "GET"],
    );

    expect(start.code).toBe(0);
    expect(start.stderr).toContain("fields in the query");
    expect((await state(person)).optedOut).toBe(false);
  });

  it("three parts opt out after the last", async () => {
    const person = "+12025550149";
    const texts = ["Please do not send me any more reminders, ", "this is my work phone. ", "STOP"];
    const recorded: number[] = [];

    for (const part of [2, 3, 1]) {
      const result = await stack.simulate(
        "inbound",
        ...["--from", person, "--to", SENDER, "--body", texts[part - 1] ?? ""],
        ...["--concat-ref", "e2e-3", "--concat-total", "3", "--concat-part", String(part)],
      );

      expect(result.code, `part ${part}`).toBe(0);
      recorded.push((await history(person)).length);
    }

    const events = await history(person);

    expect(recorded).toEqual([0, 0, 1]);
    expect(events[0]?.action).toBe("opt-out");
    expect(events[0]?.keyword).toBe("STOP");
    expect(events[0]?.text).toBe(texts.join(""));
  });
});
