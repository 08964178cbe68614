import { Gateway, MemoryOptOutStore } from "smsgate";
import { buildTwilioInbound, signedTwilioRequest } from "smsgate/testing";
import { twilio } from "smsgate/twilio";
import { expect, it } from "vitest";

// The example of docs/testing.md, run against the built package as an application imports it.
it("signed Twilio STOP through the built package", async () => {
  const authToken = "test-auth-token-0123456789abcdef";
  const store = new MemoryOptOutStore();
  const gateway = new Gateway({
    providers: [twilio({ accountSid: "AC00000000000000000000000000000000", authToken })],
    store,
  });

  const { params } = buildTwilioInbound({ from: "+12025550143", to: "+12025550100", body: "STOP" });
  const url = "https://sms.example.com/webhooks/twilio/inbound";
  const request = signedTwilioRequest({ authToken, url, params });

  const answer = await gateway.handleWebhook("twilio", request, { kind: "inbound" });

  expect(answer.status).toBe(200);
  expect(await store.isOptedOut("+12025550143")).toBe(true);
  await gateway.close();
});
