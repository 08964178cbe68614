import { describe, expect, it } from "vitest";
import { twilio } from "../providers/twilio/index.js";
import { MemoryOptOutStore } from "../src/consent/memory.js";
import type { ConsentEvent } from "../src/consent/types.js";
import { Gateway } from "../src/gateway/gateway.js";
import { normalizePhoneNumber } from "../src/phone/index.js";
import { buildTwilioInbound, signedTwilioRequest } from "../src/testing/twilio.js";

const authToken = "test-twilio-auth-token-0019";
const accountSid = "AC00000000000000000000000000000019";
const ownNumber = "+12025550100";
const url = "https://sms.example.com/webhooks/twilio/inbound";

/** A CRM whose contacts keep their numbers as people typed them, with a "do not SMS" flag. */
function crmContacts() {
  return [
    { id: 501, phone: "(202) 555-0143", doNotSms: 0 },
    { id: 502, phone: "202.555.0199", doNotSms: 0 },
    // The app's own number, stored as a contact, must never be flagged by a reply to it.
    { id: 503, phone: "(202) 555-0100", doNotSms: 0 },
  ];
}

/**
 * Sets the CRM flag from the gateway's consent events, as docs/stores.md describes: the
 * contact's number is normalised to E.164 before it is compared with the event's.
 */
function syncFlags(gateway: Gateway, contacts: ReturnType<typeof crmContacts>) {
  const apply = (event: ConsentEvent, flag: number) => {
    for (const contact of contacts) {
      if (normalizePhoneNumber(contact.phone, { defaultRegion: "US" }).e164 === event.phone) {
        contact.doNotSms = flag;
      }
    }
  };

  gateway.on("opt-out", (event) => apply(event, 1));
  gateway.on("opt-in", (event) => apply(event, 0));
}

function inbound(from: string, body: string, messageSid: string) {
  const { params } = buildTwilioInbound({ from, to: ownNumber, body, messageSid, accountSid });

  return signedTwilioRequest({ authToken, url, params });
}

describe("CRM flag from consent events", () => {
  it("matches a national-format contact", async () => {
    const store = new MemoryOptOutStore();
    const gateway = new Gateway({ providers: [twilio({ accountSid, authToken })], store });
    const contacts = crmContacts();
    syncFlags(gateway, contacts);

    const request = inbound("+12025550143", "STOP", "SM00000000000000000000000000000019");
    const answer = await gateway.handleWebhook("twilio", request, { kind: "inbound" });
    const flags = Object.fromEntries(contacts.map((contact) => [contact.id, contact.doNotSms]));

    expect(answer.status).toBe(200);
    expect(flags).toEqual({ 501: 1, 502: 0, 503: 0 });
    expect(await store.isOptedOut("+12025550143")).toBe(true);
    await gateway.close();
  });

  it("stores an unmatched opt-out by number", async () => {
    const store = new MemoryOptOutStore();
    const gateway = new Gateway({ providers: [twilio({ accountSid, authToken })], store });
    const contacts = crmContacts();
    syncFlags(gateway, contacts);

    const request = inbound("+12025550177", "STOP", "SM00000000000000000000000000000020");
    const answer = await gateway.handleWebhook("twilio", request, { kind: "inbound" });

    expect(answer.status).toBe(200);
    expect(contacts.every((contact) => contact.doNotSms === 0)).toBe(true);
    expect(await store.isOptedOut("+12025550177")).toBe(true);
    await gateway.close();
  });
});
