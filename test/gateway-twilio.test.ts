import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { twilio } from "../providers/twilio/index.js";
import { MemoryOptOutStore } from "../src/consent/memory.js";
import type { OptOutStore } from "../src/consent/types.js";
import { isProviderError, isRecipientOptedOutError } from "../src/errors.js";
import { Gateway } from "../src/gateway/gateway.js";
import type { GatewayOptions } from "../src/gateway/types.js";
import { type FakeTwilioApi, startFakeTwilioApi } from "../src/testing/fake-twilio.js";
import {
  buildTwilioInbound,
  buildTwilioStatus,
  signedTwilioRequest,
  signTwilioRequest,
} from "../src/testing/twilio.js";
import { rejection } from "./support/rejection.js";
import { controllableStore } from "./support/stores.js";

const authToken = "test-twilio-auth-token-0001";
const accountSid = "AC00000000000000000000000000000001";
const service = "MG00000000000000000000000000000001";
const hookUrl = "https://sms.example.com/hooks/twilio/inbound";
const person = "+12025550143";
const ours = "+12025550100";

let api: FakeTwilioApi;

beforeEach(async () => {
  api = await startFakeTwilioApi({ accountSid, authToken });
});

afterEach(async () => {
  await api.close();
});

function setup(
  options: Partial<GatewayOptions> = {},
  twilioOptions: { from?: string; messagingServiceSid?: string } = { from: ours },
  store: OptOutStore = new MemoryOptOutStore(),
) {
  const provider = twilio({ accountSid, authToken, apiBaseUrl: api.url, ...twilioOptions });
  const gateway = new Gateway({ providers: [provider], store, ...options });

  return { gateway, store, provider };
}

function formRequest(body: string, signature: string, url = hookUrl) {
  const headers = new Headers({
    "content-type": "application/x-www-form-urlencoded",
    "x-twilio-signature": signature,
  });

  return { method: "POST", url, headers, body: new TextEncoder().encode(body) };
}

const redelivered =
  "AccountSid=AC00000000000000000000000000000001&ApiVersion=2010-04-01&Body=STOP" +
  "&From=%2B12025550143&MessageSid=SM00000000000000000000000000000001&NumMedia=0" +
  "&NumSegments=1&SmsStatus=received&To=%2B12025550100";

describe("Twilio through the gateway", () => {
  it("STOP blocks, START unblocks the next send", async () => {
    const { gateway } = setup();
    const stop = buildTwilioInbound({ from: person, to: ours, body: "STOP", accountSid });
    const start = buildTwilioInbound({ from: person, to: ours, body: "START", accountSid });

    const stopAnswer = await gateway.handleWebhook(
      "twilio",
      signedTwilioRequest({ authToken, url: hookUrl, params: stop.params }),
      { kind: "inbound" },
    );

    expect(stopAnswer.status).toBe(200);
    expect(stopAnswer.headers["content-type"]).toMatch(/text\/xml/);
    expect(stopAnswer.body).toContain("<Response");

    const refused = await rejection(gateway.send({ to: person, body: "hi" }));

    expect(isRecipientOptedOutError(refused)).toBe(true);
    expect(api.messages).toHaveLength(0);

    await gateway.handleWebhook(
      "twilio",
      signedTwilioRequest({ authToken, url: hookUrl, params: start.params }),
      { kind: "inbound" },
    );
    const sent = await gateway.send({ to: person, body: "hi" });

    expect(sent.messageId).toMatch(/^SM/);
    expect(api.messages).toHaveLength(1);
  });

  it("redelivered STOP records one event", async () => {
    const controls = controllableStore();
    const { gateway } = setup({}, { from: ours }, controls.store);
    controls.commitDelayMs = 300;
    const copy = () => formRequest(redelivered, "gH/569vCBNDeW18YiGgzGZ+mpEI=");

    const first = gateway.handleWebhook("twilio", copy(), { kind: "inbound" });
    await new Promise((resolve) => setTimeout(resolve, 100));
    const second = gateway.handleWebhook("twilio", copy(), { kind: "inbound" });
    const answers = await Promise.all([first, second]);

    expect(answers.map((answer) => answer.status)).toEqual([200, 200]);
    expect(await controls.inner.history(person)).toHaveLength(1);
    expect(controls.commits).toBe(1);
  });

  it("rejects the public URL seen as http", async () => {
    const { gateway, store } = setup();
    const httpUrl = "http://sms.example.com/hooks/twilio/inbound";

    const answer = await gateway.handleWebhook(
      "twilio",
      formRequest(redelivered, "gH/569vCBNDeW18YiGgzGZ+mpEI=", httpUrl),
      { kind: "inbound" },
    );

    expect(answer.status).toBe(403);
    expect(await store.history(person)).toHaveLength(0);
  });

  it("records STOP from a conversations event", async () => {
    const { gateway, store } = setup();
    const body =
      "AccountSid=AC00000000000000000000000000000001&EventType=onConversationAdd" +
      "&MessageBody=stop&MessagingBinding.Address=%2B12025550188" +
      "&MessagingBinding.Address=%2B12025550111" +
      "&MessagingBinding.AuthorAddress=%2B12025550143&RetryCount=0&Source=SMS&State=initializing";
    const url = "https://sms.example.com/hooks/twilio/conversations";

    const answer = await gateway.handleWebhook(
      "twilio",
      formRequest(body, "K+NFct/3ilbzQ440wx90NRD0lwg=", url),
      { kind: "inbound" },
    );
    const retry = body.replace("RetryCount=0", "RetryCount=1");
    const retryParams = [...new URLSearchParams(retry)] as Array<[string, string]>;
    const retryAnswer = await gateway.handleWebhook(
      "twilio",
      formRequest(retry, signTwilioRequest({ authToken, url, params: retryParams }), url),
      { kind: "inbound" },
    );

    expect(answer.status).toBe(200);
    expect(retryAnswer.status).toBe(200);
    expect(await store.isOptedOut(person)).toBe(true);
    expect(await store.history(person)).toHaveLength(1);
  });

  it("keeps a short code sender as it is", async () => {
    const { gateway, store } = setup();
    const params = buildTwilioInbound({ from: "55501", to: ours, body: "STOP", accountSid }).params;
    const seen: string[] = [];
    gateway.on("inbound", (message) => seen.push(`${message.from.kind}:${message.from.value}`));

    const answer = await gateway.handleWebhook(
      "twilio",
      signedTwilioRequest({ authToken, url: hookUrl, params }),
      { kind: "inbound" },
    );
    const [event] = await store.history("55501");

    expect(answer.status).toBe(200);
    expect(seen).toEqual(["shortcode:55501"]);
    expect(event?.phone).toBe("55501");
    expect(event?.sender).toBe(ours);
  });

  it("passes an ordinary short code message", async () => {
    const { gateway, store } = setup();
    const body =
      "AccountSid=AC00000000000000000000000000000001&Body=Your+verification+code+is+482913" +
      "&From=55501&MessageSid=SM00000000000000000000000000000010&To=%2B12025550100";
    const params = [...new URLSearchParams(body)] as Array<[string, string]>;
    const countries: Array<string | undefined> = [];
    gateway.on("inbound", (message) => countries.push(message.from.country));

    const answer = await gateway.handleWebhook(
      "twilio",
      signedTwilioRequest({ authToken, url: hookUrl, params }),
      { kind: "inbound" },
    );

    expect(answer.status).toBe(200);
    expect(countries).toEqual(["US"]);
    expect(await store.history("55501")).toHaveLength(0);
  });
});

describe("Twilio refusals through the gateway", () => {
  it("21610 at create is recorded per sender", async () => {
    const { gateway, store } = setup();
    const refused = "+15005550004";

    const first = await rejection(gateway.send({ to: refused, body: "Your survey is ready" }));
    const [event] = await store.history(refused);

    expect(isProviderError(first)).toBe(true);
    expect((first as { reason: string }).reason).toBe("opted-out");
    expect(event?.source).toBe("provider-refusal");
    expect(event?.provider).toBe("twilio");
    expect(event?.providerCode).toBe("21610");
    expect(event?.sender).toBe(ours);
    expect(await store.isOptedOut(refused, ours)).toBe(true);

    const second = await rejection(gateway.send({ to: refused, body: "Reminder" }));

    expect(isRecipientOptedOutError(second)).toBe(true);
    expect(api.requests).toHaveLength(1);
  });

  it("21610 in a status callback is recorded", async () => {
    const { gateway, store } = setup({}, { messagingServiceSid: service });
    const status = buildTwilioStatus({
      messageSid: "SM00000000000000000000000000000042",
      status: "failed",
      errorCode: "21610",
      from: ours,
      to: person,
      accountSid,
      messagingServiceSid: service,
    });
    const url = "https://sms.example.com/webhooks/twilio/status";

    const answer = await gateway.handleWebhook(
      "twilio",
      signedTwilioRequest({ authToken, url, params: status.params }),
      { kind: "status" },
    );
    const [event] = await store.history(person);

    expect(answer.status).toBe(200);
    expect(event?.action).toBe("opt-out");
    expect(event?.sender).toBe(service);
    expect(event?.providerCode).toBe("21610");
  });

  it("sender scope follows the messaging service", async () => {
    const { gateway, store } = setup({ optOutScope: "sender" }, { messagingServiceSid: service });
    const stop = buildTwilioInbound({
      from: person,
      to: ours,
      body: "STOP",
      accountSid,
      messagingServiceSid: service,
    });

    await gateway.handleWebhook(
      "twilio",
      signedTwilioRequest({ authToken, url: hookUrl, params: stop.params }),
      { kind: "inbound" },
    );
    const refused = await rejection(gateway.send({ to: person, body: "hi", from: "+12025550111" }));

    expect(isRecipientOptedOutError(refused)).toBe(true);
    expect(await store.isOptedOut(person, "+12025550111")).toBe(false);
    expect(api.messages).toHaveLength(0);
  });

  it("asks Twilio for status callbacks", async () => {
    const { gateway } = setup({ publicUrl: "https://sms.example.com" });

    await gateway.send({ to: person, body: "hi" });

    expect(api.messages[0]?.statusCallback).toBe("https://sms.example.com/webhooks/twilio/status");
  });
});
