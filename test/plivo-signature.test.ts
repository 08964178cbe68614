import { createHmac } from "node:crypto";
import { describe, expect, it } from "vitest";
import {
  buildPlivoSignatureV2String,
  buildPlivoSignatureV3String,
  computePlivoSignatureV1,
  computePlivoSignatureV2,
  computePlivoSignatureV3,
  type PlivoOptions,
  type PlivoProvider,
  plivo,
  plivoSignatureBaseUrl,
  verifyPlivoSignatureV2,
  verifyPlivoSignatureV3,
  verifyPlivoWebhook,
} from "../providers/plivo/index.js";
import { isWebhookVerificationError, type WebhookVerificationError } from "../src/errors.js";
import type { WebhookRequest } from "../src/provider.js";
import { signedPlivoRequest, signPlivoV2, signPlivoV3 } from "../src/testing/plivo.js";

const AUTH_ID = "MAXXXXXXXXXXXXXXXXXX";

function provider(authToken: string, options: Partial<PlivoOptions> = {}): PlivoProvider {
  return plivo({ authId: AUTH_ID, authToken, from: "14155550199", ...options });
}

function formRequest(url: string, body: string, headers: Record<string, string>): WebhookRequest {
  return {
    method: "POST",
    url,
    headers: new Headers({ "content-type": "application/x-www-form-urlencoded", ...headers }),
    body: new TextEncoder().encode(body),
  };
}

async function verifyFailure(
  target: PlivoProvider,
  request: WebhookRequest,
): Promise<WebhookVerificationError> {
  const error = await target.verifyWebhook(request).then(
    () => new Error("expected a WebhookVerificationError, but the request verified"),
    (caught: unknown) => caught,
  );

  if (!isWebhookVerificationError(error)) {
    throw error;
  }

  return error;
}

function hmac(token: string, data: string): string {
  return createHmac("sha256", token).update(data, "utf8").digest("base64");
}

describe("V2 answer.url vector", () => {
  const signature = "ehV3IKhLysWBxC1sy8INm0qGoQYdYsHwuoKjsX7FsXc=";

  it("computes the signature", () => {
    expect(computePlivoSignatureV2("my_auth_token", "https://answer.url", "12345")).toBe(signature);
  });

  it("verifies the signature", () => {
    const input = { authToken: "my_auth_token", url: "https://answer.url", nonce: "12345" };

    expect(verifyPlivoSignatureV2({ ...input, signature })).toBe(true);
  });

  it("rejects wrong token", () => {
    const input = { authToken: "my_auth_tokens", url: "https://answer.url", nonce: "12345" };

    expect(verifyPlivoSignatureV2({ ...input, signature })).toBe(false);
  });

  it("keeps the empty path", () => {
    expect(buildPlivoSignatureV2String("https://answer.url", "12345")).toBe(
      "https://answer.url12345",
    );
    expect(plivoSignatureBaseUrl("https://answer.url?x=1")).toBe("https://answer.url");
  });

  it("signs trailing slash differently", () => {
    const slashed = computePlivoSignatureV2("my_auth_token", "https://answer.url/", "12345");
    const input = { authToken: "my_auth_token", url: "https://answer.url/", nonce: "12345" };

    expect(slashed).toBe("do1CXv+k99A6+B+eTcyqbxWlezFIxJ/1vz72787r37g=");
    expect(verifyPlivoSignatureV2({ ...input, signature })).toBe(false);
  });

  it("verifies through the provider", async () => {
    const request = formRequest("https://answer.url", "", {
      "x-plivo-signature-v2": signature,
      "x-plivo-signature-v2-nonce": "12345",
    });

    await expect(provider("my_auth_token").verifyWebhook(request)).resolves.toBeUndefined();

    const error = await verifyFailure(provider("my_auth_tokens"), request);

    expect(error.failure).toBe("invalid-signature");
  });
});

describe("V1 legacy vectors", () => {
  it("computes the call signature", () => {
    const params: Array<[string, string]> = [
      ["Duration", "300"],
      ["CallUUID", "97ceeb52-58b6-11e1-86da-77300b68f8bb"],
    ];

    expect(computePlivoSignatureV1(AUTH_ID, "http://foo.com/answer/", params)).toBe(
      "EJEt0ELanhr8hjMPIJnLNLex0dE=",
    );
  });

  it("computes the space signature", () => {
    expect(computePlivoSignatureV1(AUTH_ID, "http://foo.com/answer/", [["a", "1 2"]])).toBe(
      "n3Xfo4u+vRFyl3gsH8B0qDUIK5g=",
    );
  });

  it("rejects a V1-only request", async () => {
    const url = "http://foo.com/answer/";
    const request = formRequest(url, "a=1+2", {
      "x-plivo-signature": computePlivoSignatureV1("token", url, [["a", "1 2"]]),
    });
    const error = await verifyFailure(provider("token"), request);

    expect(error.failure).toBe("missing-signature");
    expect(error.message).toMatch(/legacy X-Plivo-Signature \(V1\) is not accepted/);
  });
});

describe("V3 call vectors", () => {
  const token = "Y2Q2ZDgxZmY5YWRiOTI5YmQ1Njg0MTAxZWIyOTc4";
  const nonce = "31627761595286130198";
  const uuid = "3e82ae9d-2c78-4d85-b1a4-6eae7dbafb36";
  const sipTo = "sip:PlivoSignature382029104058171078704104@phone-qa.voice.plivodev.com";
  const sipHeader = "<sip:PlivoSignature382029104058171078704104@52.9.11.55;transport=udp>;tag=1";
  const params: Array<[string, string]> = [
    ["Direction", "outbound"],
    ["From", "19792014278"],
    ["ALegUUID", uuid],
    ["CallStatus", "in-progress"],
    ["BillRate", "0.002"],
    ["ParentAuthID", "MANWVLYTK4ZWU1YTY4QA"],
    ["To", sipTo],
    ["ALegRequestUUID", uuid],
    ["CallUUID", uuid],
    ["RequestUUID", uuid],
    ["SIP-H-To", sipHeader],
    ["SessionStart", "2020-04-08 11:34:33.238707"],
    ["Event", "StartApp"],
  ];
  const withQuery =
    "https://plivobin.non-prod.plivops.com/api/v1/validate_signature03.xml/?a=b&c=d";
  const plain = "https://plivobin.non-prod.plivops.com/api/v1/validate_signature03.xml";
  const vectors: Array<[string, "POST" | "GET", string, string]> = [
    ["POST with query", "POST", withQuery, "k7Pusd4OxCIjR5IfA9iedDNu/h/gbdYqdzG/MiYtd1c="],
    ["GET with query", "GET", withQuery, "UBq8jAtd32wR8EK9VgxbBn4n5rpI/l1H9iN4WfSEHFQ="],
    ["POST without query", "POST", plain, "iAjE5QqI37mbkYe4w3jTMudqEzbDufdqi7sYwTu64e0="],
    ["GET without query", "GET", plain, "i/MQsaQSAd6fiKhOh2qeeeLHZ9faldADSb3/7+Akfbc="],
  ];

  for (const [name, method, url, expected] of vectors) {
    it(`computes ${name}`, () => {
      expect(computePlivoSignatureV3(token, { method, url, params, nonce })).toBe(expected);
    });

    it(`verifies ${name}`, () => {
      const input = { authToken: token, method, url, params, nonce };

      expect(verifyPlivoSignatureV3({ ...input, signature: expected })).toBe(true);
    });

    it(`rejects ${name} with other method`, () => {
      const other = method === "GET" ? "POST" : "GET";
      const input = { authToken: token, method: other, url, params, nonce };

      expect(verifyPlivoSignatureV3({ ...input, signature: expected })).toBe(false);
    });

    it(`rejects ${name} with changed param`, () => {
      const changed = params.map(([key, value]): [string, string] =>
        key === "CallStatus" ? [key, "completed"] : [key, value],
      );
      const input = { authToken: token, method, url, params: changed, nonce };

      expect(verifyPlivoSignatureV3({ ...input, signature: expected })).toBe(false);
    });
  }

  it("builds the POST string", () => {
    const expected =
      `${withQuery}.ALegRequestUUID${uuid}ALegUUID${uuid}BillRate0.002` +
      `CallStatusin-progressCallUUID${uuid}DirectionoutboundEventStartApp` +
      "From19792014278ParentAuthIDMANWVLYTK4ZWU1YTY4QA" +
      `RequestUUID${uuid}SIP-H-To${sipHeader}` +
      `SessionStart2020-04-08 11:34:33.238707To${sipTo}.${nonce}`;

    expect(buildPlivoSignatureV3String({ method: "POST", url: withQuery, params, nonce })).toBe(
      expected,
    );
  });

  it("builds the GET string", () => {
    const text = buildPlivoSignatureV3String({ method: "GET", url: plain, params, nonce });

    expect(text.startsWith(`${plain}?ALegRequestUUID=${uuid}&ALegUUID=${uuid}&`)).toBe(true);
    expect(text).toContain("&BillRate=0.002&");
    expect(text).toContain(`&SIP-H-To=${sipHeader}&SessionStart=`);
    expect(text.endsWith(`&To=${sipTo}.${nonce}`)).toBe(true);
  });

  it("accepts a comma-separated list", () => {
    const expected = vectors[0]?.[3] as string;
    const input = { authToken: token, method: "POST", url: withQuery, params, nonce };

    expect(verifyPlivoSignatureV3({ ...input, signature: `xxxx=,${expected}` })).toBe(true);
    expect(verifyPlivoSignatureV3({ ...input, signature: `${expected}, xxxx=` })).toBe(true);
    expect(verifyPlivoSignatureV3({ ...input, signature: "xxxx=,yyyy=" })).toBe(false);
    expect(verifyPlivoSignatureV3({ ...input, signature: ",,," })).toBe(false);
  });

  it("verifies a real GET", async () => {
    const query = params.map(([key, value]) => `${key}=${encodeURIComponent(value)}`).join("&");
    const request: WebhookRequest = {
      method: "GET",
      url: `${withQuery}&${query}`,
      headers: new Headers({
        "x-plivo-signature-v3": "UBq8jAtd32wR8EK9VgxbBn4n5rpI/l1H9iN4WfSEHFQ=",
        "x-plivo-signature-v3-nonce": nonce,
      }),
      body: new Uint8Array(),
    };

    await expect(provider(token).verifyWebhook(request)).resolves.toBeUndefined();
  });
});

describe("V3 inbound SMS vector", () => {
  const token = "test_auth_token";
  const nonce = "12345678901234567890";
  const url = "https://example.com/plivo/inbound";
  const signature = "Np39bYc2lr482IQ82WiMmpbG+ATWVzKw0WJNh/XDCWQ=";
  const body =
    "From=14155550100&To=14155550199&Text=STOP&Type=sms" +
    "&MessageUUID=6c2a1b2e-0f4e-11ee-9a3b-0242ac110003&Units=1&TotalRate=0" +
    "&TotalAmount=0&MessageIntent=optout";

  it("verifies the inbound request", async () => {
    const request = formRequest(url, body, {
      "x-plivo-signature-v3": signature,
      "x-plivo-signature-v3-nonce": nonce,
    });

    await expect(provider(token).verifyWebhook(request)).resolves.toBeUndefined();
  });

  it("rejects a changed intent", async () => {
    const forged = body.replace("MessageIntent=optout", "MessageIntent=optin");
    const request = formRequest(url, forged, {
      "x-plivo-signature-v3": signature,
      "x-plivo-signature-v3-nonce": nonce,
    });
    const error = await verifyFailure(provider(token), request);

    expect(error.failure).toBe("invalid-signature");
  });

  it("ignores body field order", async () => {
    const reordered = body.split("&").reverse().join("&");
    const request = formRequest(url, reordered, {
      "x-plivo-signature-v3": signature,
      "x-plivo-signature-v3-nonce": nonce,
    });

    await expect(provider(token).verifyWebhook(request)).resolves.toBeUndefined();
  });
});

describe("V2 with port and query", () => {
  const secret = "test-plivo-auth-token-0001";
  const url = "https://sms.example.com:8443/hooks/plivo/inbound?tenant=7";
  const nonce = "05429567804466091622";
  const signature = "QgdpuY16NDHk0wriP5pzcmlsvsAI6dzPF8xppzjchLg=";
  const body =
    "From=12025550143&To=12025550100&Text=STOP&Type=sms" +
    "&MessageUUID=00000000-0000-4000-8000-000000000006";
  const wrong: Array<[string, string, string]> = [
    [
      "port dropped",
      "https://sms.example.com/hooks/plivo/inbound05429567804466091622",
      "5VuP3ypZWvf86NNQtuliZaCbhzjTItfK2WE4eS/2S+o=",
    ],
    [
      "slash before nonce",
      "https://sms.example.com:8443/hooks/plivo/inbound/05429567804466091622",
      "l/gLbvHvHkHl/GELUnriTw4xUobPWAwdAYZ4T/4an4s=",
    ],
    [
      "query kept",
      "https://sms.example.com:8443/hooks/plivo/inbound?tenant=705429567804466091622",
      "aZ3C0H6+Q+yV0k1B4J/2K1AgeX6a6UFcUR5vNnNRe4A=",
    ],
  ];

  function reportRequest(v2Signature: string): WebhookRequest {
    return formRequest(url, body, {
      "x-plivo-signature-v2-nonce": nonce,
      "x-plivo-signature-v2": v2Signature,
    });
  }

  it("builds the signed message", () => {
    expect(buildPlivoSignatureV2String(url, nonce)).toBe(
      "https://sms.example.com:8443/hooks/plivo/inbound05429567804466091622",
    );
    expect(computePlivoSignatureV2(secret, url, nonce)).toBe(signature);
  });

  it("accepts the reported request", async () => {
    await expect(provider(secret).verifyWebhook(reportRequest(signature))).resolves.toBe(undefined);
  });

  it("parses the reported request", async () => {
    const parsed = await provider(secret).parseWebhook(reportRequest(signature), "inbound");
    const message = parsed.inbound[0];

    expect(message?.from.value).toBe("+12025550143");
    expect(message?.to.value).toBe("+12025550100");
    expect(message?.text).toBe("STOP");
    expect(message?.messageId).toBe("00000000-0000-4000-8000-000000000006");
    expect(message?.raw.tenant).toBeUndefined();
  });

  for (const [name, message, value] of wrong) {
    it(`computes ${name} value`, () => {
      expect(hmac(secret, message)).toBe(value);
    });

    it(`rejects ${name} value`, async () => {
      const error = await verifyFailure(provider(secret), reportRequest(value));

      expect(error.failure).toBe("invalid-signature");
      expect(error.message).not.toContain("tenant=7");
    });
  }
});

describe("V3 preferred over V2", () => {
  const token = "prefer-v3-token";
  const url = "https://sms.example.com/hooks/plivo/inbound";
  const genuine: Array<[string, string]> = [
    ["From", "14155550100"],
    ["To", "14155550199"],
    ["Text", "Hello"],
    ["MessageUUID", "11111111-2222-4333-8444-555555555555"],
  ];
  const forgedBody =
    "From=14155550123&To=14155550199&Text=START&MessageIntent=optin" +
    "&MessageUUID=11111111-2222-4333-8444-555555555555";

  function replay(keep: "v3-and-v2" | "v2"): WebhookRequest {
    const request = signedPlivoRequest({ authToken: token, url, params: genuine });

    if (keep === "v2") {
      request.headers.delete("x-plivo-signature-v3");
      request.headers.delete("x-plivo-signature-v3-nonce");
    }

    return { ...request, body: new TextEncoder().encode(forgedBody) };
  }

  it("rejects replayed V2 with V3", async () => {
    const request = replay("v3-and-v2");
    const error = await verifyFailure(provider(token), request);

    expect(request.headers.get("x-plivo-signature-v2")).not.toBeNull();
    expect(error.failure).toBe("invalid-signature");
    expect(error.message).toMatch(/X-Plivo-Signature-V3 does not match/);
  });

  it("accepts replayed V2 without V3", async () => {
    await expect(provider(token).verifyWebhook(replay("v2"))).resolves.toBeUndefined();
  });

  it("requireV3Signature rejects V2 only", async () => {
    const strict = provider(token, { requireV3Signature: true });
    const error = await verifyFailure(strict, replay("v2"));

    expect(error.failure).toBe("missing-signature");
    expect(error.message).toMatch(/requireV3Signature/);
  });

  it("requireV3Signature accepts V3", async () => {
    const strict = provider(token, { requireV3Signature: true });
    const request = signedPlivoRequest({ authToken: token, url, params: genuine });

    await expect(strict.verifyWebhook(request)).resolves.toBeUndefined();
  });

  it("ignores a bad V2 beside V3", async () => {
    const request = signedPlivoRequest({ authToken: token, url, params: genuine });

    request.headers.set("x-plivo-signature-v2", "AAAA");

    await expect(provider(token).verifyWebhook(request)).resolves.toBeUndefined();
  });

  it("rejects V3 nonce without signature", async () => {
    const request = signedPlivoRequest({ authToken: token, url, params: genuine });

    request.headers.delete("x-plivo-signature-v3");

    const error = await verifyFailure(provider(token), request);

    expect(error.failure).toBe("missing-signature");
    expect(error.message).toMatch(/X-Plivo-Signature-V3-Nonce but no X-Plivo-Signature-V3/);
  });

  it("rejects V3 without nonce", async () => {
    const request = signedPlivoRequest({ authToken: token, url, params: genuine });

    request.headers.delete("x-plivo-signature-v3-nonce");

    const error = await verifyFailure(provider(token), request);

    expect(error.failure).toBe("missing-signature");
    expect(error.message).toMatch(/no X-Plivo-Signature-V3-Nonce/);
  });
});

describe("main account signatures", () => {
  const subToken = "subaccount-token";
  const mainToken = "main-account-token";
  const url = "https://sms.example.com/hooks/plivo/status";
  const body = "MessageUUID=m-1&Status=delivered";
  const nonce = "98765432109876543210";

  function maV2Request(signingToken: string): WebhookRequest {
    return formRequest(url, body, {
      "x-plivo-signature-v2-nonce": nonce,
      "x-plivo-signature-ma-v2": signPlivoV2({ authToken: signingToken, url, nonce }),
    });
  }

  it("ignores Ma-V2 without its token", async () => {
    const error = await verifyFailure(provider(subToken), maV2Request(mainToken));

    expect(error.failure).toBe("missing-signature");
    expect(error.message).toMatch(/X-Plivo-Signature-Ma-V2.*Set mainAccountAuthToken/);
  });

  it("accepts Ma-V2 with its token", async () => {
    const configured = provider(subToken, { mainAccountAuthToken: mainToken });

    await expect(configured.verifyWebhook(maV2Request(mainToken))).resolves.toBeUndefined();
  });

  it("rejects Ma-V2 signed wrongly", async () => {
    const configured = provider(subToken, { mainAccountAuthToken: mainToken });
    const error = await verifyFailure(configured, maV2Request(subToken));

    expect(error.failure).toBe("invalid-signature");
  });

  it("rejects main token in V2 header", async () => {
    const configured = provider(subToken, { mainAccountAuthToken: mainToken });
    const request = formRequest(url, body, {
      "x-plivo-signature-v2-nonce": nonce,
      "x-plivo-signature-v2": signPlivoV2({ authToken: mainToken, url, nonce }),
    });
    const error = await verifyFailure(configured, request);

    expect(error.failure).toBe("invalid-signature");
  });

  it("accepts Ma-V3 with its token", async () => {
    const configured = provider(subToken, { mainAccountAuthToken: mainToken });
    const request = formRequest(url, body, {
      "x-plivo-signature-v3-nonce": nonce,
      "x-plivo-signature-ma-v3": signPlivoV3({
        authToken: mainToken,
        url,
        params: [
          ["MessageUUID", "m-1"],
          ["Status", "delivered"],
        ],
        nonce,
      }),
    });

    await expect(configured.verifyWebhook(request)).resolves.toBeUndefined();
    expect((await verifyFailure(provider(subToken), request)).failure).toBe("missing-signature");
  });

  it("accepts signer with both tokens", async () => {
    const request = signedPlivoRequest({
      authToken: subToken,
      mainAccountAuthToken: mainToken,
      url,
      params: [["MessageUUID", "m-2"]],
    });

    expect(request.headers.get("x-plivo-signature-ma-v3")).not.toBeNull();
    await expect(provider(subToken).verifyWebhook(request)).resolves.toBeUndefined();
  });
});

describe("PlivoProvider.verifyWebhook", () => {
  const token = "verify-token";
  const url = "https://sms.example.com/hooks/plivo/inbound?tenant=a'b%20c";
  const target = provider(token);
  const params: Array<[string, string]> = [
    ["From", "14155550100"],
    ["To", "14155550199"],
    ["Text", "hello world & more"],
    ["MessageIntent", ""],
  ];

  it("accepts signed POST", async () => {
    const request = signedPlivoRequest({ authToken: token, url, params });

    await expect(target.verifyWebhook(request)).resolves.toBeUndefined();
  });

  it("accepts signed GET", async () => {
    for (const versions of [["v3"], ["v2"]] as const) {
      const request = signedPlivoRequest({
        authToken: token,
        url,
        params,
        method: "GET",
        versions,
      });

      expect(request.url).toContain("Text=hello+world+%26+more");
      await expect(target.verifyWebhook(request)).resolves.toBeUndefined();
    }
  });

  it("rejects GET with changed query", async () => {
    const request = signedPlivoRequest({
      authToken: token,
      url,
      params,
      method: "GET",
      versions: ["v3"],
    });
    const changed = { ...request, url: request.url.replace("Text=hello", "Text=STOP") };

    expect((await verifyFailure(target, changed)).failure).toBe("invalid-signature");
  });

  it("V2 ignores the query", async () => {
    const request = signedPlivoRequest({ authToken: token, url, params, versions: ["v2"] });
    const moved = { ...request, url: url.replace("tenant=a", "tenant=z") };

    await expect(target.verifyWebhook(moved)).resolves.toBeUndefined();
  });

  it("rejects V3 with changed query", async () => {
    const request = signedPlivoRequest({ authToken: token, url, params, versions: ["v3"] });
    const moved = { ...request, url: url.replace("tenant=a", "tenant=z") };

    expect((await verifyFailure(target, moved)).failure).toBe("invalid-signature");
  });

  it("rejects changed port", async () => {
    const portUrl = "https://sms.example.com:8443/hooks/plivo/inbound";

    for (const version of ["v3", "v2"] as const) {
      const request = signedPlivoRequest({
        authToken: token,
        url: portUrl,
        params,
        versions: [version],
      });
      const moved = { ...request, url: "https://sms.example.com/hooks/plivo/inbound" };

      await expect(target.verifyWebhook(request)).resolves.toBeUndefined();
      expect((await verifyFailure(target, moved)).failure).toBe("invalid-signature");
    }
  });

  it("rejects missing headers", async () => {
    const request = signedPlivoRequest({ authToken: token, url, params, versions: [] });
    const error = await verifyFailure(target, request);

    expect(error.failure).toBe("missing-signature");
    expect(error.message).toMatch(/no X-Plivo-Signature-V3 or X-Plivo-Signature-V2/);
  });

  it("rejects V2 without nonce", async () => {
    const request = signedPlivoRequest({ authToken: token, url, params, versions: ["v2"] });

    request.headers.delete("x-plivo-signature-v2-nonce");

    expect((await verifyFailure(target, request)).failure).toBe("missing-signature");
  });

  it("rejects tampered body", async () => {
    const request = signedPlivoRequest({ authToken: token, url, params, versions: ["v3"] });

    request.body = new TextEncoder().encode("From=14155550100&To=14155550199&Text=STOP");

    expect((await verifyFailure(target, request)).failure).toBe("invalid-signature");
  });

  it("rejects malformed body", async () => {
    const request = signedPlivoRequest({ authToken: token, url, params, versions: ["v3"] });

    request.body = new TextEncoder().encode("Text=%zz");

    expect((await verifyFailure(target, request)).failure).toBe("invalid-signature");
  });

  it("rejects malformed query", async () => {
    const request = signedPlivoRequest({ authToken: token, url, params, versions: ["v3"] });
    const broken = { ...request, url: `${url}&x=%zz` };

    expect((await verifyFailure(target, broken)).failure).toBe("invalid-signature");
  });

  it("rejects wrong token", async () => {
    const request = signedPlivoRequest({ authToken: "other-token", url, params });

    expect((await verifyFailure(target, request)).failure).toBe("invalid-signature");
  });

  it("rejects garbage headers quietly", async () => {
    const values = [
      "",
      " ",
      "====",
      "not base64!",
      "\u00ff\u00fe",
      "a,".repeat(5000),
      "x".repeat(1e5),
    ];

    for (const value of values) {
      for (const header of ["x-plivo-signature-v3", "x-plivo-signature-v2"]) {
        const request = signedPlivoRequest({ authToken: token, url, params, versions: [] });

        request.headers.set(header, value);
        request.headers.set(`${header}-nonce`, value === "" ? "1" : value);

        const error = await verifyFailure(target, request);

        expect(["missing-signature", "invalid-signature"]).toContain(error.failure);
      }
    }
  });

  it("rejects garbage bodies quietly", async () => {
    const bodies = [
      new Uint8Array([0xff, 0xfe, 0x00, 0x01]),
      new TextEncoder().encode("Text=%C3%28"),
      new Uint8Array(1024 * 1024).fill(0x26),
      new TextEncoder().encode("\u0000=\u0000&\u0000"),
    ];

    for (const body of bodies) {
      const request = signedPlivoRequest({ authToken: token, url, params });
      const error = await verifyFailure(target, { ...request, body });

      expect(error.failure).toBe("invalid-signature");
    }
  });

  it("checks with the given function", () => {
    const request = signedPlivoRequest({ authToken: token, url, params });

    expect(() => verifyPlivoWebhook(request, { authToken: token })).not.toThrow();
    expect(() => verifyPlivoWebhook(request, { authToken: "x" })).toThrow(/does not match/);
  });
});

describe("buildPlivoSignatureV3String", () => {
  it("sorts names by code point", () => {
    const text = buildPlivoSignatureV3String({
      method: "POST",
      url: "https://a.example/x",
      params: [
        ["\u{1F600}", "2"],
        ["\uFFFD", "1"],
        ["B", "3"],
        ["a", "4"],
      ],
      nonce: "n",
    });

    expect(text).toBe("https://a.example/x?B3a4\uFFFD1\u{1F600}2.n");
  });

  it("repeats sorted values", () => {
    const text = buildPlivoSignatureV3String({
      method: "POST",
      url: "https://a.example/x?z=2&z=1",
      params: [
        ["k", "b"],
        ["k", "a"],
      ],
      nonce: "n",
    });

    expect(text).toBe("https://a.example/x?z=1&z=2.kakb.n");
  });

  it("uses decoded query values", () => {
    const text = buildPlivoSignatureV3String({
      method: "GET",
      url: "https://a.example/x?b=hello+world&a=%26",
      params: [],
      nonce: "n",
    });

    expect(text).toBe("https://a.example/x?a=&&b=hello world.n");
  });

  it("omits ? without params", () => {
    const post = { method: "POST", url: "https://a.example", params: [], nonce: "n" };

    expect(buildPlivoSignatureV3String(post)).toBe("https://a.example.n");
    expect(buildPlivoSignatureV3String({ ...post, method: "GET" })).toBe("https://a.example.n");
  });

  it("keeps query without body", () => {
    const post = { method: "POST", url: "https://a.example/?q=1", params: [], nonce: "n" };

    expect(buildPlivoSignatureV3String(post)).toBe("https://a.example/?q=1.n");
  });

  it("keeps empty values", () => {
    const params: Array<[string, string]> = [["E", ""]];
    const post = { method: "POST", url: "https://a.example/", params, nonce: "n" };

    expect(buildPlivoSignatureV3String(post)).toBe("https://a.example/?E.n");
  });
});
