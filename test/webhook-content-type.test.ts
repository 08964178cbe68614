import { describe, expect, it } from "vitest";
import { parsePlivoWebhook } from "../providers/plivo/webhook.js";
import { parseTwilioWebhook } from "../providers/twilio/webhook.js";
import { parseVonageWebhook } from "../providers/vonage/webhook.js";
import { isWebhookParseError } from "../src/errors.js";
import type { ParsedWebhook, WebhookRequest } from "../src/provider.js";

const inboundForms: Record<string, string> = {
  twilio:
    "MessageSid=SM0123456789abcdef0123456789abcdef&AccountSid=AC0123456789abcdef0123456789abcdef" +
    "&From=%2B12025550702&To=%2B12025550100&Body=STOP",
  vonage: "msisdn=12025550702&to=12025550100&messageId=0A000000123&text=STOP&type=text",
  plivo: "From=12025550702&To=12025550100&MessageUUID=m-1&Text=STOP&Type=sms",
};

const parsers: Record<string, (request: WebhookRequest) => ParsedWebhook> = {
  twilio: (request) => parseTwilioWebhook(request, "inbound"),
  vonage: (request) => parseVonageWebhook(request, "inbound"),
  plivo: (request) => parsePlivoWebhook(request, "inbound"),
};

function post(body: string, contentType: string | undefined): WebhookRequest {
  const headers = new Headers();

  if (contentType !== undefined) {
    headers.set("content-type", contentType);
  }

  return {
    method: "POST",
    url: "https://example.test/webhooks/inbound",
    headers,
    body: new TextEncoder().encode(body),
  };
}

function parseError(run: () => unknown): Error {
  try {
    run();
  } catch (error) {
    expect(isWebhookParseError(error)).toBe(true);
    return error as Error;
  }

  throw new Error("expected a WebhookParseError");
}

describe.each(Object.keys(parsers))("%s webhook content type", (provider) => {
  const parse = parsers[provider] as (request: WebhookRequest) => ParsedWebhook;
  const form = inboundForms[provider] ?? "";

  it("rejects multipart/form-data by name", () => {
    const request = post(form, "multipart/form-data; boundary=x");

    const error = parseError(() => parse(request));

    expect(error.message).toContain('content type "multipart/form-data"');
    expect(error.message).toContain("application/x-www-form-urlencoded or JSON");
  });

  it("rejects text/plain by name", () => {
    const error = parseError(() => parse(post(form, "text/plain")));

    expect(error.message).toContain('content type "text/plain"');
  });

  it("reads a form with charset", () => {
    const parsed = parse(post(form, "application/x-www-form-urlencoded; charset=UTF-8"));

    expect(parsed.inbound).toHaveLength(1);
    expect(parsed.inbound[0]?.text).toBe("STOP");
  });

  it("reads a form without content type", () => {
    const parsed = parse(post(form, undefined));

    expect(parsed.inbound).toHaveLength(1);
    expect(parsed.inbound[0]?.text).toBe("STOP");
  });
});
