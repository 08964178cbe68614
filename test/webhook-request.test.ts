import { describe, expect, it } from "vitest";
import { hasJsonBody, mediaTypeOf, queryOf, usesQueryFields } from "../src/http/webhook-request.js";
import type { WebhookRequest } from "../src/provider.js";

function request(method: string, contentType?: string): WebhookRequest {
  const headers = new Headers();
  if (contentType !== undefined) {
    headers.set("content-type", contentType);
  }

  return { method, url: "https://example.test/hook", headers, body: new Uint8Array() };
}

describe("webhook request readers", () => {
  it.each([
    ["GET", true],
    ["get", true],
    ["HEAD", true],
    ["POST", false],
    ["PUT", false],
  ])("usesQueryFields for %s is %s", (method, expected) => {
    expect(usesQueryFields(request(method))).toBe(expected);
  });

  it.each([
    [undefined, ""],
    ["", ""],
    ["application/json", "application/json"],
    ["Application/JSON; charset=utf-8", "application/json"],
    ["  application/x-www-form-urlencoded ;charset=UTF-8", "application/x-www-form-urlencoded"],
    ["text/plain;", "text/plain"],
  ])("mediaTypeOf %j is %j", (contentType, expected) => {
    expect(mediaTypeOf(request("POST", contentType))).toBe(expected);
  });

  it.each([
    ["application/json", true],
    ["application/vnd.api+json; charset=utf-8", true],
    ["application/x-www-form-urlencoded", false],
    ["text/json-ish", false],
    [undefined, false],
  ])("hasJsonBody for %j is %s", (contentType, expected) => {
    expect(hasJsonBody(request("POST", contentType))).toBe(expected);
  });

  it.each([
    ["https://example.test/hook", ""],
    ["https://example.test/hook?", ""],
    ["https://example.test/hook?a=1&b=2", "a=1&b=2"],
    ["https://example.test/hook?a=1#frag?x=2", "a=1"],
    ["https://example.test/hook#frag?x=2", ""],
    ["https://example.test/hook?a=%2B1&b=?c", "a=%2B1&b=?c"],
  ])("queryOf %s is %j", (url, expected) => {
    expect(queryOf(url)).toBe(expected);
  });
});
