import { createHmac } from "node:crypto";
import { describe, expect, it } from "vitest";
import {
  buildTwilioSignatureString,
  computeTwilioSignature,
  twilio,
  twilioSignatureUrlCandidates,
  verifyTwilioJsonSignature,
  verifyTwilioSignature,
} from "../providers/twilio/index.js";
import { isWebhookVerificationError } from "../src/errors.js";
import { parseFormBody } from "../src/http/form.js";
import type { WebhookRequest } from "../src/provider.js";
import { signedTwilioRequest, signTwilioRequest } from "../src/testing/twilio.js";

const TOKEN = "12345";
const U = "https://mycompany.com/myapp.php?foo=1&bar=2";
const P: Array<[string, string]> = [
  ["CallSid", "CA1234567890ABCDE"],
  ["Caller", "+14158675309"],
  ["Digits", "1234"],
  ["From", "+14158675309"],
  ["To", "+18005551212"],
];
const V1 = "RSOYDt4T1cUTdK1PDd93/VVr8B8=";
const JSON_BODY = '{"property": "value", "boolean": true}';
const JSON_BODY_HASH = "0a1ff7634d9ab3b95db5c9a2dfe9416e41502b283a80c7cf19632632f96e6620";

function hmac(token: string, data: string): string {
  return createHmac("sha1", token).update(data, "utf8").digest("base64");
}

function verify(url: string, signature: string, params = P): boolean {
  return verifyTwilioSignature({ authToken: TOKEN, url, params, signature });
}

function requestFromCase(url: string, body: string, signature: string): WebhookRequest {
  return {
    method: "POST",
    url,
    headers: new Headers({
      "content-type": "application/x-www-form-urlencoded",
      "x-twilio-signature": signature,
    }),
    body: new TextEncoder().encode(body),
  };
}

describe("computeTwilioSignature vectors", () => {
  const vectors: Array<[string, string, string]> = [
    ["V1", U, V1],
    ["V2", "https://mycompany.com:443/myapp.php?foo=1&bar=2", "kvajT1Ptam85bY51eRf/AJRuM3w="],
    ["V3", "http://mycompany.com:80/myapp.php?foo=1&bar=2", "0ZXoZLH/DfblKGATFgpif+LLRf4="],
    ["V4", "http://mycompany.com:1234/myapp.php?foo=1&bar=2", "Zmvh+3yNM1Phv2jhDCwEM3q5ebU="],
    [
      "V10",
      "https://user:pass@mycompany.com/myapp.php?foo=1&bar=2",
      "CukzLTc1tT5dXEDIHm/tKBanW10=",
    ],
    [
      "V11",
      "https://user:pass@mycompany.com:443/myapp.php?foo=1&bar=2",
      "ZQFR1PTIZXF2MXB8ZnKCvnnA+rI=",
    ],
    ["V12", "https://user@mycompany.com/myapp.php?foo=1&bar=2", "2YRLlVAflCqxaNicjMpJcSTgzSs="],
  ];

  for (const [name, url, expected] of vectors) {
    it(`computes ${name}`, () => {
      expect(computeTwilioSignature(TOKEN, url, P)).toBe(expected);
    });

    it(`verifies ${name}`, () => {
      expect(verify(url, expected)).toBe(true);
    });
  }

  it("computes V5 repeated Digits", () => {
    const params: Array<[string, string]> = [
      ["Sid", "CA123"],
      ["SidAccount", "AC123"],
      ["Digits", "5678"],
      ["Digits", "1234"],
      ["Digits", "1234"],
    ];

    expect(buildTwilioSignatureString(U, params)).toBe(
      `${U}Digits1234Digits5678SidCA123SidAccountAC123`,
    );
    expect(computeTwilioSignature(TOKEN, U, params)).toBe("IK+Dwps556ElfBT0I3Rgjkr1wJU=");
    expect(verify(U, "IK+Dwps556ElfBT0I3Rgjkr1wJU=", params)).toBe(true);
  });

  it("computes V6 in either order", () => {
    const first: Array<[string, string]> = [
      ["MessagingBinding.Address", "+1415xxxxxxx"],
      ["MessagingBinding.Address", "+1325xxxxxxx"],
    ];
    const second = [...first].reverse();

    expect(computeTwilioSignature(TOKEN, U, first)).toBe("83O6e2vORAoJHUNzJjDWN1jz+BA=");
    expect(computeTwilioSignature(TOKEN, U, second)).toBe("83O6e2vORAoJHUNzJjDWN1jz+BA=");
  });

  it("rejects V6 with unsorted values", () => {
    const unsorted = `${U}MessagingBinding.Address+1415xxxxxxxMessagingBinding.Address+1325xxxxxxx`;
    const wrong = hmac(TOKEN, unsorted);
    const params: Array<[string, string]> = [
      ["MessagingBinding.Address", "+1415xxxxxxx"],
      ["MessagingBinding.Address", "+1325xxxxxxx"],
    ];

    expect(wrong).toBe("7e7kIr2yyzqR1xnzn3QO9iGSJvc=");
    expect(verify(U, wrong, params)).toBe(false);
  });
});

describe("signature negative controls", () => {
  const controls: Array<[string, string, string]> = [
    ["wrong scheme", "http://mycompany.com/myapp.php?foo=1&bar=2", "OyGYPqTF6ztdbRNCvuQO/oPvqQ4="],
    ["escaped ?", "https://mycompany.com/myapp.php%3Ffoo=1&bar=2", "8/3WsDjTlFFq1jX1Nfzol+o8170="],
    [
      "reordered query",
      "https://mycompany.com/myapp.php?bar=2&foo=1",
      "+fcHXW+RZj+FhJ/bV1RxUMCYXEI=",
    ],
  ];

  for (const [name, url, expected] of controls) {
    it(`computes ${name} value`, () => {
      expect(computeTwilioSignature(TOKEN, url, P)).toBe(expected);
    });

    it(`rejects V1 over ${name}`, () => {
      expect(verify(url, V1)).toBe(false);
    });
  }
});

describe("twilioSignatureUrlCandidates", () => {
  it("lists raw URL first", () => {
    const url = "https://example.com/path?name=William+O'hara";

    expect(twilioSignatureUrlCandidates(url)[0]).toBe(url);
  });

  it("adds and removes default port", () => {
    expect(twilioSignatureUrlCandidates(U)).toEqual([
      U,
      "https://mycompany.com:443/myapp.php?foo=1&bar=2",
    ]);
    expect(twilioSignatureUrlCandidates("http://h.example/p")).toEqual([
      "http://h.example/p",
      "http://h.example:80/p",
    ]);
  });

  it("strips a non-default port", () => {
    expect(twilioSignatureUrlCandidates("https://mycompany.com:1234/a?b=c")).toEqual([
      "https://mycompany.com:1234/a?b=c",
      "https://mycompany.com/a?b=c",
    ]);
  });

  it("keeps userinfo and IPv6 hosts", () => {
    expect(twilioSignatureUrlCandidates("https://u:p@[::1]:8443/x")).toEqual([
      "https://u:p@[::1]:8443/x",
      "https://u:p@[::1]/x",
    ]);
    expect(twilioSignatureUrlCandidates("https://u@[::1]/x")).toEqual([
      "https://u@[::1]/x",
      "https://u@[::1]:443/x",
    ]);
  });

  it("keeps path and query bytes", () => {
    const url = "https://h.example/a%2Fb/c d?x='y'&z=%27+q#frag";
    const candidates = twilioSignatureUrlCandidates(url);

    expect(candidates).toEqual([url, "https://h.example:443/a%2Fb/c d?x='y'&z=%27+q#frag"]);
  });

  it("returns unparseable URL alone", () => {
    expect(twilioSignatureUrlCandidates("/relative?x=1")).toEqual(["/relative?x=1"]);
  });
});

describe("verifyTwilioSignature", () => {
  it("accepts https with port 1234", () => {
    expect(verify("https://mycompany.com:1234/myapp.php?foo=1&bar=2", V1)).toBe(true);
  });

  it("accepts V1 over :443 URL", () => {
    expect(verify("https://mycompany.com:443/myapp.php?foo=1&bar=2", V1)).toBe(true);
  });

  it("accepts V2 over URL without port", () => {
    expect(verify(U, "kvajT1Ptam85bY51eRf/AJRuM3w=")).toBe(true);
  });

  it("hashes apostrophe and plus raw", () => {
    const url = "https://example.com/hooks/twilio?name=William+O'hara";
    const signature = computeTwilioSignature(TOKEN, url, P);
    const encoded = computeTwilioSignature(TOKEN, new URL(url).toString(), P);

    expect(new URL(url).toString()).toContain("%27");
    expect(signature).not.toBe(encoded);
    expect(verify(url, signature)).toBe(true);
  });

  it("rejects malformed signatures quietly", () => {
    const malformed = ["", "RSOYDt4T1cUTdK1PDd93/VVr8B8", "RSOYDt4T1cUTdK1PDd93/VVr8B8==", "***"];

    for (const signature of malformed) {
      expect(verify(U, signature)).toBe(false);
    }

    expect(verify(U, "ÄSOYDt4T1cUTdK1PDd93/VVr8B8=")).toBe(false);
    expect(verify(U, "not base64 at all, but 28 ch")).toBe(false);
    expect(verifyTwilioSignature({ authToken: TOKEN, url: U, params: P, signature: null })).toBe(
      false,
    );
  });

  it("rejects wrong token", () => {
    expect(verifyTwilioSignature({ authToken: "54321", url: U, params: P, signature: V1 })).toBe(
      false,
    );
  });

  it("rejects a changed parameter", () => {
    const changed = P.map(([name, value]): [string, string] =>
      name === "Digits" ? [name, "1235"] : [name, value],
    );

    expect(verify(U, V1, changed)).toBe(false);
  });
});

describe("verifyTwilioJsonSignature", () => {
  const v7Url = `${U}&bodySHA256=${JSON_BODY_HASH}`;
  const v9Url = `https://mycompany.com/myapp.php?bodySHA256=${JSON_BODY_HASH}`;

  it("computes V7 and V9", () => {
    expect(computeTwilioSignature(TOKEN, v7Url, [])).toBe("a9nBmqA0ju/hNViExpshrM61xv4=");
    expect(computeTwilioSignature(TOKEN, v9Url, [])).toBe("y77kIzt2vzLz71DgmJGsen2scGs=");
  });

  it("accepts V7 with body", () => {
    const input = { authToken: TOKEN, url: v7Url, rawBody: JSON_BODY };

    expect(verifyTwilioJsonSignature({ ...input, signature: "a9nBmqA0ju/hNViExpshrM61xv4=" })).toBe(
      true,
    );
  });

  it("accepts V9 with body bytes", () => {
    const rawBody = new TextEncoder().encode(JSON_BODY);
    const signature = "y77kIzt2vzLz71DgmJGsen2scGs=";

    expect(verifyTwilioJsonSignature({ authToken: TOKEN, url: v9Url, rawBody, signature })).toBe(
      true,
    );
  });

  it("rejects a changed body", () => {
    const signature = "a9nBmqA0ju/hNViExpshrM61xv4=";
    const rawBody = '{"property": "value", "boolean": false}';

    expect(verifyTwilioJsonSignature({ authToken: TOKEN, url: v7Url, rawBody, signature })).toBe(
      false,
    );
  });

  it("rejects re-serialised JSON body", () => {
    const signature = "a9nBmqA0ju/hNViExpshrM61xv4=";
    const rawBody = JSON.stringify(JSON.parse(JSON_BODY));

    expect(verifyTwilioJsonSignature({ authToken: TOKEN, url: v7Url, rawBody, signature })).toBe(
      false,
    );
  });

  it("rejects missing bodySHA256", () => {
    const signature = computeTwilioSignature(TOKEN, U, []);

    expect(verifyTwilioSignature({ authToken: TOKEN, url: U, params: [], signature })).toBe(true);
    expect(verifyTwilioJsonSignature({ authToken: TOKEN, url: U, rawBody: "", signature })).toBe(
      false,
    );
  });

  it("rejects repeated bodySHA256", () => {
    const url = `${v9Url}&bodySHA256=${JSON_BODY_HASH}`;
    const signature = computeTwilioSignature(TOKEN, url, []);

    expect(
      verifyTwilioJsonSignature({ authToken: TOKEN, url, rawBody: JSON_BODY, signature }),
    ).toBe(false);
  });

  it("rejects a wrong URL signature", () => {
    expect(
      verifyTwilioJsonSignature({
        authToken: TOKEN,
        url: v7Url,
        rawBody: JSON_BODY,
        signature: V1,
      }),
    ).toBe(false);
  });
});

describe("constructed inbound fixture", () => {
  const url = "https://hooks.example.com/twilio/inbound";
  const token = "test-auth-token-0000";
  const sid = "SM00000000000000000000000000000001";
  const params: Array<[string, string]> = [
    ["AccountSid", "AC00000000000000000000000000000000"],
    ["ApiVersion", "2010-04-01"],
    ["Body", "STOP"],
    ["From", "+15005550006"],
    ["MessageSid", sid],
    ["SmsMessageSid", sid],
    ["SmsSid", sid],
    ["MessagingServiceSid", "MG00000000000000000000000000000000"],
    ["NumMedia", "0"],
    ["NumSegments", "1"],
    ["OptOutType", "STOP"],
    ["SmsStatus", "received"],
    ["To", "+15017122661"],
    ["FromZip", ""],
  ];
  const check = (signature: string, list = params, at = url): boolean =>
    verifyTwilioSignature({ authToken: token, url: at, params: list, signature });

  it("matches fixture signature", () => {
    expect(computeTwilioSignature(token, url, params)).toBe("tJwale5bd2aY/aBFrKUJZj4A6R4=");
    expect(check("tJwale5bd2aY/aBFrKUJZj4A6R4=")).toBe(true);
  });

  it("matches fixture with :443", () => {
    const withPort = "https://hooks.example.com:443/twilio/inbound";

    expect(computeTwilioSignature(token, withPort, params)).toBe("tJDUYtr1fENi6tHIgU7PodO5TLs=");
    expect(check("tJDUYtr1fENi6tHIgU7PodO5TLs=")).toBe(true);
    expect(check("tJwale5bd2aY/aBFrKUJZj4A6R4=", params, withPort)).toBe(true);
  });

  it("rejects dropped FromZip", () => {
    const dropped = params.filter(([name]) => name !== "FromZip");

    expect(computeTwilioSignature(token, url, dropped)).toBe("thTY6uo3U8jbVkB5id3cw5QIFqc=");
    expect(check("tJwale5bd2aY/aBFrKUJZj4A6R4=", dropped)).toBe(false);
  });

  it("rejects lowercased Body", () => {
    const lowered = params.map(([name, value]): [string, string] =>
      name === "Body" ? [name, value.toLowerCase()] : [name, value],
    );

    expect(computeTwilioSignature(token, url, lowered)).toBe("MkleW4b/JbD0Udr9jHdUvvDAr+E=");
    expect(check("tJwale5bd2aY/aBFrKUJZj4A6R4=", lowered)).toBe(false);
  });
});

describe("signature field reports", () => {
  const token = "test-twilio-auth-token-0001";
  const inboundBody =
    "AccountSid=AC00000000000000000000000000000001&ApiVersion=2010-04-01&Body=STOP" +
    "&From=%2B12025550143&MessageSid=SM00000000000000000000000000000001&NumMedia=0" +
    "&NumSegments=1&SmsStatus=received&To=%2B12025550100";
  const provider = twilio({ accountSid: `AC${"0".repeat(31)}1`, authToken: token });

  it("tunnel validates public https URL", async () => {
    const params = parseFormBody(inboundBody);
    const publicUrl = "https://sms.example.com/hooks/twilio/inbound";
    const seenUrl = "http://sms.example.com/hooks/twilio/inbound";
    const header = "gH/569vCBNDeW18YiGgzGZ+mpEI=";

    expect(computeTwilioSignature(token, publicUrl, params)).toBe(header);
    expect(computeTwilioSignature(token, seenUrl, params)).toBe("qSr8Qvm8uFScHHFOjsis+QwTDK0=");
    await expect(
      provider.verifyWebhook(requestFromCase(publicUrl, inboundBody, header)),
    ).resolves.toBeUndefined();
  });

  it("tunnel rejects app-side http URL", async () => {
    const request = requestFromCase(
      "http://sms.example.com/hooks/twilio/inbound",
      inboundBody,
      "gH/569vCBNDeW18YiGgzGZ+mpEI=",
    );
    const error = await provider.verifyWebhook(request).catch((caught: unknown) => caught);

    expect(isWebhookVerificationError(error)).toBe(true);
    expect((error as { failure: string }).failure).toBe("invalid-signature");
  });

  it("tunnel ignores forwarded headers", async () => {
    const request = requestFromCase(
      "http://sms.example.com/hooks/twilio/inbound",
      inboundBody,
      "gH/569vCBNDeW18YiGgzGZ+mpEI=",
    );

    request.headers.set("host", "sms.example.com");
    request.headers.set("x-forwarded-proto", "https");

    await expect(provider.verifyWebhook(request)).rejects.toThrow(/does not match/);
  });

  it("repeated key signs sorted values", async () => {
    const url = "https://sms.example.com/hooks/twilio/conversations";
    const body =
      "AccountSid=AC00000000000000000000000000000001&EventType=onConversationAdd" +
      "&MessageBody=stop&MessagingBinding.Address=%2B12025550188" +
      "&MessagingBinding.Address=%2B12025550111" +
      "&MessagingBinding.AuthorAddress=%2B12025550143&RetryCount=0&Source=SMS&State=initializing";
    const params = parseFormBody(body);
    const signed =
      "https://sms.example.com/hooks/twilio/conversationsAccountSidAC00000000000000000000000000000001" +
      "EventTypeonConversationAddMessageBodystopMessagingBinding.Address+12025550111" +
      "MessagingBinding.Address+12025550188MessagingBinding.AuthorAddress+12025550143" +
      "RetryCount0SourceSMSStateinitializing";
    const arrivalOrder = signed.replace(
      "Address+12025550111MessagingBinding.Address+12025550188",
      "Address+12025550188MessagingBinding.Address+12025550111",
    );
    const lastOnly = params.filter(
      ([name, value]) => value !== "+12025550188" || name !== "MessagingBinding.Address",
    );

    expect(params.filter(([name]) => name === "MessagingBinding.Address")).toHaveLength(2);
    expect(buildTwilioSignatureString(url, params)).toBe(signed);
    expect(computeTwilioSignature(token, url, params)).toBe("K+NFct/3ilbzQ440wx90NRD0lwg=");
    expect(hmac(token, arrivalOrder)).toBe("ZqE93hL2LlQdNpuNRwMM0MqH6Do=");
    expect(computeTwilioSignature(token, url, lastOnly)).toBe("2k89Rwz0UWXq34mSlg2ryWjGYf8=");
    await expect(
      provider.verifyWebhook(requestFromCase(url, body, "K+NFct/3ilbzQ440wx90NRD0lwg=")),
    ).resolves.toBeUndefined();
    expect(
      verifyTwilioSignature({
        authToken: token,
        url,
        params,
        signature: "ZqE93hL2LlQdNpuNRwMM0MqH6Do=",
      }),
    ).toBe(false);
    expect(
      verifyTwilioSignature({
        authToken: token,
        url,
        params,
        signature: "2k89Rwz0UWXq34mSlg2ryWjGYf8=",
      }),
    ).toBe(false);
  });

  it("redelivered request validates", async () => {
    const request = requestFromCase(
      "https://sms.example.com/hooks/twilio/inbound",
      inboundBody,
      "gH/569vCBNDeW18YiGgzGZ+mpEI=",
    );

    await expect(provider.verifyWebhook(request)).resolves.toBeUndefined();
    await expect(provider.verifyWebhook(request)).resolves.toBeUndefined();
  });
});

describe("TwilioProvider.verifyWebhook", () => {
  const token = "verify-token";
  const url = "https://sms.example.com/webhooks/twilio/inbound?tenant=a'b";
  const provider = twilio({ accountSid: `AC${"ab".repeat(16)}`, authToken: token });
  const params: Array<[string, string]> = [
    ["MessageSid", "SM1"],
    ["Body", "hello world"],
    ["FromZip", ""],
  ];

  it("accepts signed POST", async () => {
    const request = signedTwilioRequest({ authToken: token, url, params });

    await expect(provider.verifyWebhook(request)).resolves.toBeUndefined();
  });

  it("accepts signed GET", async () => {
    const request = signedTwilioRequest({ authToken: token, url, params, method: "GET" });

    expect(request.url).toContain("Body=hello+world");
    await expect(provider.verifyWebhook(request)).resolves.toBeUndefined();
  });

  it("rejects missing header", async () => {
    const request = signedTwilioRequest({ authToken: token, url, params });

    request.headers.delete("x-twilio-signature");

    const error = await provider.verifyWebhook(request).catch((caught: unknown) => caught);

    expect(isWebhookVerificationError(error)).toBe(true);
    expect((error as { failure: string }).failure).toBe("missing-signature");
  });

  it("rejects tampered body", async () => {
    const request = signedTwilioRequest({ authToken: token, url, params });

    request.body = new TextEncoder().encode("MessageSid=SM1&Body=STOP&FromZip=");

    const error = await provider.verifyWebhook(request).catch((caught: unknown) => caught);

    expect((error as { failure: string }).failure).toBe("invalid-signature");
  });

  it("rejects malformed body", async () => {
    const request = signedTwilioRequest({ authToken: token, url, params });

    request.body = new TextEncoder().encode("Body=%zz");

    const error = await provider.verifyWebhook(request).catch((caught: unknown) => caught);

    expect((error as { failure: string }).failure).toBe("invalid-signature");
  });

  it("rejects GET with unsigned body", async () => {
    const request = signedTwilioRequest({ authToken: token, url, params, method: "GET" });
    const post = { ...request, method: "POST", body: new TextEncoder().encode("Body=STOP") };

    await expect(provider.verifyWebhook(post)).rejects.toThrow(/does not match/);
  });

  it("accepts JSON with bodySHA256", async () => {
    const rawBody = '{"MessageSid":"SM1"}';
    const hash = (await import("node:crypto")).createHash("sha256").update(rawBody).digest("hex");
    const signedUrl = `https://sms.example.com/hooks/json?bodySHA256=${hash}`;
    const request: WebhookRequest = {
      method: "POST",
      url: signedUrl,
      headers: new Headers({
        "content-type": "application/json",
        "x-twilio-signature": signTwilioRequest({ authToken: token, url: signedUrl, params: [] }),
      }),
      body: new TextEncoder().encode(rawBody),
    };

    await expect(provider.verifyWebhook(request)).resolves.toBeUndefined();

    request.body = new TextEncoder().encode('{"MessageSid":"SM2"}');

    await expect(provider.verifyWebhook(request)).rejects.toThrow(/does not match/);
  });
});
