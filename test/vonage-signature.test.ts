import { createHash, generateKeyPairSync, sign } from "node:crypto";
import { describe, expect, it } from "vitest";
import {
  buildVonageSignatureString,
  computeVonageSignature,
  decodeVonageJwt,
  signVonageHs256Jwt,
  type VonageSignatureMethod,
  verifyVonageJwt,
  verifyVonageSignature,
  verifyVonageWebhook,
  vonage,
} from "../providers/vonage/index.js";
import {
  isWebhookVerificationError,
  type WebhookVerificationError,
  type WebhookVerificationFailure,
} from "../src/errors.js";
import type { WebhookRequest } from "../src/provider.js";
import {
  buildVonageInbound,
  signedVonageMessagesRequest,
  signedVonageRequest,
  signVonageJwt,
  signVonageSmsRequest,
} from "../src/testing/vonage.js";

const SECRET = "my_secret_key_for_testing";
const V1_PARAMS = {
  "message-timestamp": "2013-11-21 15:27:30",
  messageId: "020000001B0FE827",
  msisdn: "14843472194",
  text: "Test again",
  timestamp: "1385047698",
  to: "13239877404",
  type: "text",
};
const V1_TIME = 1385047698 * 1000;

function verificationFailure(run: () => unknown): WebhookVerificationError {
  let caught: unknown;

  try {
    run();
  } catch (error) {
    caught = error;
  }

  if (!isWebhookVerificationError(caught)) {
    throw new Error(`expected a WebhookVerificationError, got ${String(caught)}`);
  }

  return caught;
}

function expectFailure(run: () => unknown, failure: WebhookVerificationFailure): void {
  expect(verificationFailure(run).failure).toBe(failure);
}

describe("SMS signature vectors", () => {
  it("builds the documented string", () => {
    expect(buildVonageSignatureString(V1_PARAMS)).toBe(
      "&message-timestamp=2013-11-21 15:27:30&messageId=020000001B0FE827" +
        "&msisdn=14843472194&text=Test again&timestamp=1385047698&to=13239877404&type=text",
    );
  });

  const v1: Array<[string, VonageSignatureMethod, string]> = [
    ["V-1", "md5hash", "d2e7b1dc968737c5998ad624e02f90b7"],
    ["V-2", "md5", "DDEBD46008C2D4E93CCE578A332A52D5"],
    ["V-3", "sha1", "27D0D05C2876C7CB1720DBCDBA4D492E1E55C09A"],
    ["V-4", "sha256", "DDB8397C2B90AAC7F3882D306475C9A5058C92322EEF43C92B298B6E0FC0D330"],
    [
      "V-5",
      "sha512",
      "E0D3C650F8C9D1A5C174D10DDDBFB003E561F59B265616208B0487C5D819481C" +
        "D3C311D59CF6165ECD1139622D5BA3A256C0D763AC4A9AD9144B5A426B94FE82",
    ],
  ];

  for (const [name, method, expected] of v1) {
    it(`computes ${name} ${method}`, () => {
      expect(computeVonageSignature(V1_PARAMS, SECRET, method)).toBe(expected.toLowerCase());
    });

    it(`verifies ${name} ${method}`, () => {
      const params = { ...V1_PARAMS, sig: expected };

      expect(() =>
        verifyVonageSignature({ params, secret: SECRET, method, now: V1_TIME }),
      ).not.toThrow();
    });
  }

  it("computes V-6 with & and =", () => {
    const params = {
      keyword: "TEST",
      "message-timestamp": "2017-04-04 22:57:47",
      messageId: "0B00000042AC53BD",
      msisdn: "14843472194",
      nonce: "929d6744-bd28-42c8-b6cf-31d5b4f43732",
      text: "Test with & and =",
      timestamp: "1491346667",
      to: "12192259404",
      type: "text",
    };

    expect(buildVonageSignatureString(params)).toContain("&text=Test with _ and _&");
    expect(computeVonageSignature(params, SECRET)).toBe("e06d9763e3fd0b9c31beb5fc2fcb011c");
  });

  it("computes V-7 with nonce", () => {
    const params = {
      keyword: "TESTINGS",
      "message-timestamp": "2017-04-04 23:05:22",
      messageId: "0C00000027217D5B",
      msisdn: "14843472194",
      nonce: "c4ab6ed2-9bf5-48a0-af91-107e29bdd399",
      text: "Testings",
      timestamp: "1491347122",
      to: "12192259404",
      type: "text",
    };

    expect(computeVonageSignature(params, SECRET)).toBe("ff933bf31c79ab3fc6a38d100191c48f");
  });

  it("ignores sig in V-9", () => {
    const params = { ...V1_PARAMS, sig: "anything" };

    expect(computeVonageSignature(params, SECRET)).toBe("d2e7b1dc968737c5998ad624e02f90b7");
  });

  it("computes V-10 outbound", () => {
    const params = {
      api_key: "not_a_key",
      from: "12192259404",
      text: "Test&test=something",
      timestamp: "1490638615",
      to: "14843472194",
    };

    expect(computeVonageSignature(params, SECRET)).toBe("17f5e3b22f778ec73464c01d180e9d0f");
  });

  it("computes V-11 HMAC set", () => {
    const params = {
      api_key: "fake_api_key",
      to: "14155550100",
      from: "AcmeInc",
      text: "Test From Nexmo",
      type: "text",
      timestamp: "1540924779",
    };
    const secret = "71efab63122f1d179f51c46bac838fb5";
    const expected: Array<[VonageSignatureMethod, string]> = [
      ["md5", "51CDAFEBB4BBCE9525B195C1617CB8D2"],
      ["sha1", "0162AEC64BC183B2E1256545951FE5639DC98020"],
      ["sha256", "9FEC5EF6D0F2B3D2BB7558B6E4042569823CAB9EA0DD30503472B7B304601975"],
      [
        "sha512",
        "40BD12B9A4B6000AD1138EEFD24FFE9FBD72AEE13C3FA04B32BB69DBC256AD0A" +
          "04A463B1A9AF6660D10F6E1E769EE14B9CFF6A635502E93AFCD0BFAB29F38F87",
      ],
    ];

    for (const [method, signature] of expected) {
      expect(computeVonageSignature(params, secret, method), method).toBe(signature.toLowerCase());
    }
  });

  it("computes Python SDK set", () => {
    const secret = "signature_secret";
    const plain = { param1: "value1", param2: "value2", timestamp: "1234567890" };

    expect(computeVonageSignature(plain, secret, "sha256")).toBe(
      "280c4320703dbc98bfa22db676655ed2acfbfe8792b062ff7622e67f1183c287",
    );
    expect(computeVonageSignature(plain, secret, "md5")).toBe("724c2bf6ca423c36e20631b11d1c5753");
    expect(
      computeVonageSignature(
        { param1: "value&1", param2: "value=2", timestamp: "1234567890" },
        secret,
        "md5",
      ),
    ).toBe("2bbf0abafb2c55e5af6231513896a2ac");
    expect(computeVonageSignature({ ...plain, timestamp: "12345" }, secret, "md5")).toBe(
      "bc7e95bb4e341090b3a202a2885903a5",
    );
    expect(computeVonageSignature({ param: "value", timestamp: "1234567890" }, secret, "md5")).toBe(
      "655a4d0b7f064dff438defc52b012cf5",
    );
  });

  it("computes Java SDK set", () => {
    const params = { a: "alphabet", b: "bananas", timestamp: "2100" };
    const expected: Array<[VonageSignatureMethod, string]> = [
      ["md5hash", "7d43241108912b32cc315b48ce681acf"],
      ["sha1", "b7f749de27b4adcf736cc95c9a7e059a16c85127"],
      ["md5", "e0afe267aefd6dd18a848c1681517a19"],
      ["sha256", "8d1b0428276b6a070578225914c3502cc0687a454dfbbbb370c76a14234cb546"],
      [
        "sha512",
        "1c834a1f6a377d4473971387b065cb38e2ad6c4869ba77b7b53e207a344e87ba" +
          "04b456dfc697b371a2d1ce476d01dafd4394aa97525eff23badad39d2389a710",
      ],
    ];

    for (const [method, signature] of expected) {
      expect(computeVonageSignature(params, "abcde", method), method).toBe(signature);
    }
  });

  it("keeps blank values by default", () => {
    const params = { a: "alphabet", b: "  ", timestamp: "2100" };

    expect(buildVonageSignatureString(params)).toBe("&a=alphabet&b=  &timestamp=2100");
    expect(computeVonageSignature(params, "abcde")).toBe("553454f86c23355d13a26585dd8933dd");
  });

  it("skips blank values on request", () => {
    const params = { a: "alphabet", b: "  ", timestamp: "2100" };
    const options = { skipBlankValues: true };

    expect(buildVonageSignatureString(params, options)).toBe("&a=alphabet&timestamp=2100");
    expect(computeVonageSignature(params, "abcde", "md5hash", options)).toBe(
      "a3368bf718ba104dcb392d8877e8eb2b",
    );
  });

  it("sorts names in byte order", () => {
    const pairs: Array<[string, string]> = [
      ["b", "2"],
      ["B", "1"],
      ["a-b", "3"],
      ["aB", "4"],
      ["ä", "5"],
    ];

    expect(buildVonageSignatureString(pairs)).toBe("&B=1&a-b=3&aB=4&b=2&ä=5");
  });

  it("accepts pairs and objects alike", () => {
    expect(computeVonageSignature(Object.entries(V1_PARAMS), SECRET)).toBe(
      computeVonageSignature(V1_PARAMS, SECRET),
    );
  });
});

describe("signature negative controls", () => {
  // Vonage's Node SDK signs outbound requests over a different string: the form-encoded
  // pairs with every & and = replaced, separators included, and no leading &.
  const variantBase = "api_key_12345_timestamp_10907902800";
  const variantSignature = "d7f81394898d98c876e782b3c98391b8";
  const variantParams = { api_key: "12345", timestamp: "10907902800" };

  it("reproduces Node variant vector", () => {
    const md5 = createHash("md5").update(`${variantBase}ABCDE`).digest("hex");

    expect(md5).toBe(variantSignature);
  });

  it("rejects Node variant vector", () => {
    expect(computeVonageSignature(variantParams, "ABCDE")).not.toBe(variantSignature);
    expectFailure(
      () =>
        verifyVonageSignature({
          params: { ...variantParams, sig: variantSignature },
          secret: "ABCDE",
          now: 10907902800 * 1000,
        }),
      "invalid-signature",
    );
  });

  it("rejects V-1 under variant string", () => {
    const variant = Object.entries(V1_PARAMS)
      .map(([name, value]) => `${name}=${encodeURIComponent(value)}`)
      .join("&")
      .replace(/[&=]/g, "_");
    const md5 = createHash("md5").update(`${variant}${SECRET}`).digest("hex");

    expect(md5).not.toBe("d2e7b1dc968737c5998ad624e02f90b7");
  });
});

describe("verifyVonageSignature", () => {
  const signed = { ...V1_PARAMS, sig: "d2e7b1dc968737c5998ad624e02f90b7" };

  it("compares hex in any case", () => {
    const upper = { ...signed, sig: signed.sig.toUpperCase() };
    const padded = { ...signed, sig: ` ${signed.sig} ` };

    expect(() =>
      verifyVonageSignature({ params: upper, secret: SECRET, now: V1_TIME }),
    ).not.toThrow();
    expect(() =>
      verifyVonageSignature({ params: padded, secret: SECRET, now: V1_TIME }),
    ).not.toThrow();
  });

  it("rejects wrong secret", () => {
    expectFailure(
      () => verifyVonageSignature({ params: signed, secret: "other", now: V1_TIME }),
      "invalid-signature",
    );
  });

  it("rejects wrong method", () => {
    expectFailure(
      () => verifyVonageSignature({ params: signed, secret: SECRET, method: "md5", now: V1_TIME }),
      "invalid-signature",
    );
  });

  it("rejects a changed field", () => {
    const params = { ...signed, text: "Test again!" };

    expectFailure(
      () => verifyVonageSignature({ params, secret: SECRET, now: V1_TIME }),
      "invalid-signature",
    );
  });

  it("rejects an added field", () => {
    const params = { ...signed, extra: "" };

    expectFailure(
      () => verifyVonageSignature({ params, secret: SECRET, now: V1_TIME }),
      "invalid-signature",
    );
  });

  it("rejects malformed signatures", () => {
    for (const sig of [
      "zz",
      "d2e7b1dc968737c5998ad624e02f90b",
      "d2e7b1dc968737c5998ad624e02f90b7a",
    ]) {
      expectFailure(
        () =>
          verifyVonageSignature({ params: { ...V1_PARAMS, sig }, secret: SECRET, now: V1_TIME }),
        "invalid-signature",
      );
    }
  });

  it("reports missing sig", () => {
    expectFailure(
      () => verifyVonageSignature({ params: V1_PARAMS, secret: SECRET, now: V1_TIME }),
      "missing-signature",
    );
    expectFailure(
      () => verifyVonageSignature({ params: { ...V1_PARAMS, sig: " " }, secret: SECRET }),
      "missing-signature",
    );
  });

  it("rejects repeated fields", () => {
    const pairs = [...Object.entries(signed), ["text", "Test again"]];

    expectFailure(
      () => verifyVonageSignature({ params: pairs, secret: SECRET, now: V1_TIME }),
      "invalid-signature",
    );
  });

  it("accepts timestamps inside window", () => {
    for (const offset of [-300, 0, 300]) {
      const now = V1_TIME + offset * 1000;

      expect(() => verifyVonageSignature({ params: signed, secret: SECRET, now })).not.toThrow();
    }
  });

  it("rejects stale timestamps", () => {
    for (const offset of [-301, 301, 86_400]) {
      const now = V1_TIME + offset * 1000;

      expectFailure(
        () => verifyVonageSignature({ params: signed, secret: SECRET, now }),
        "stale-timestamp",
      );
    }
  });

  it("applies custom tolerance", () => {
    const now = V1_TIME + 30_000;

    expectFailure(
      () => verifyVonageSignature({ params: signed, secret: SECRET, now, toleranceSeconds: 10 }),
      "stale-timestamp",
    );
    expect(() =>
      verifyVonageSignature({ params: signed, secret: SECRET, now, toleranceSeconds: 60 }),
    ).not.toThrow();
  });

  it("rejects missing timestamp", () => {
    const { timestamp: _timestamp, ...rest } = V1_PARAMS;
    const params = { ...rest, sig: computeVonageSignature(rest, SECRET) };

    expectFailure(
      () => verifyVonageSignature({ params, secret: SECRET, now: V1_TIME }),
      "stale-timestamp",
    );
  });

  it("rejects non-numeric timestamp", () => {
    const fields = { ...V1_PARAMS, timestamp: "2013-11-21" };
    const params = { ...fields, sig: computeVonageSignature(fields, SECRET) };

    expectFailure(
      () => verifyVonageSignature({ params, secret: SECRET, now: V1_TIME }),
      "stale-timestamp",
    );
  });
});

describe("wrong-shape payloads", () => {
  // A Messages API inbound body is nested JSON; it is verified by its JWT instead.
  const messagesBody = {
    channel: "sms",
    message_uuid: "aaaaaaaa-bbbb-cccc-dddd-0123456789ab",
    text: "hi",
    usage: { currency: "EUR", price: "0.0333" },
    sms: { num_messages: "1" },
    sig: "d2e7b1dc968737c5998ad624e02f90b7",
  };

  it("rejects nested objects cleanly", () => {
    const error = verificationFailure(() =>
      verifyVonageSignature({ params: messagesBody, secret: SECRET }),
    );

    expect(error).not.toBeInstanceOf(TypeError);
    expect(error.failure).toBe("invalid-signature");
    expect(error.message).toContain("not signed with the SMS API sig");
  });

  it("rejects every non-string value", () => {
    const values: unknown[] = [1, true, null, ["a"], { a: "b" }, 1.5];

    for (const value of values) {
      const params = { ...V1_PARAMS, sig: "d2e7b1dc968737c5998ad624e02f90b7", text: value };

      expectFailure(() => verifyVonageSignature({ params, secret: SECRET }), "invalid-signature");
    }
  });

  it("rejects non-object payloads", () => {
    const payloads: unknown[] = [null, undefined, "sig=abc", 42, [["sig"]], [[1, "x"]], [null]];

    for (const params of payloads) {
      const error = verificationFailure(() => verifyVonageSignature({ params, secret: SECRET }));

      expect(["invalid-signature", "missing-signature"]).toContain(error.failure);
    }
  });

  it("reports nested body without sig", () => {
    const { sig: _sig, ...unsigned } = messagesBody;

    expectFailure(
      () => verifyVonageSignature({ params: unsigned, secret: SECRET }),
      "missing-signature",
    );
  });
});

describe("ampersand and equals field report", () => {
  const secret = "test-vonage-signature-secret-0001";
  const url = "https://sms.example.com/hooks/vonage/inbound";
  const query =
    "api-key=abcd1234&keyword=STOP&message-timestamp=2025-05-01+12%3A00%3A00" +
    "&messageId=0A0000000123ABCD&msisdn=12025550143" +
    "&nonce=6d1b5c0e-0000-4000-8000-000000000006" +
    "&text=STOP+%26+remove+me%2C+account%3D42&timestamp=1746100800&to=12025550100&type=text";
  const md5hash = "018cd61f52b82154fe63a589a1ef5879";
  const sha256 = "3df962e8d0243c1e711ecb60547b08bf493ca3b0d2419197771371a21a769270";
  const now = 1746100800 * 1000;
  const fields = Object.fromEntries(new URLSearchParams(query));

  function getRequest(sig: string): WebhookRequest {
    return {
      method: "GET",
      url: `${url}?${query}&sig=${sig}`,
      headers: new Headers(),
      body: new Uint8Array(),
    };
  }

  function postRequest(sig: string): WebhookRequest {
    const headers = new Headers({ "content-type": "application/x-www-form-urlencoded" });

    return { method: "POST", url, headers, body: new TextEncoder().encode(`${query}&sig=${sig}`) };
  }

  it("hashes the substituted string", () => {
    expect(buildVonageSignatureString(fields)).toBe(
      "&api-key=abcd1234&keyword=STOP&message-timestamp=2025-05-01 12:00:00" +
        "&messageId=0A0000000123ABCD&msisdn=12025550143" +
        "&nonce=6d1b5c0e-0000-4000-8000-000000000006" +
        "&text=STOP _ remove me, account_42&timestamp=1746100800&to=12025550100&type=text",
    );
  });

  it("computes md5hash and HMAC-SHA256", () => {
    expect(computeVonageSignature(fields, secret, "md5hash")).toBe(md5hash);
    expect(computeVonageSignature(fields, secret, "sha256")).toBe(sha256);
    expect(signVonageSmsRequest(fields, secret, "sha256")).toBe(sha256);
  });

  it("differs without substitution", () => {
    const unsubstituted = Object.entries(fields)
      .sort(([left], [right]) => (left < right ? -1 : 1))
      .map(([name, value]) => `&${name}=${value}`)
      .join("");
    const md5 = createHash("md5")
      .update(unsubstituted + secret)
      .digest("hex");

    expect(md5).toBe("2494b7607ce2dae966c3e3c0e0ef85c1");
    expect(md5).not.toBe(md5hash);
  });

  it("accepts GET with md5hash", async () => {
    const provider = vonage({
      apiKey: "abcd1234",
      apiSecret: "s",
      signatureSecret: secret,
      clock: () => now,
    });

    await expect(provider.verifyWebhook(getRequest(md5hash))).resolves.toBeUndefined();
  });

  it("accepts POST form with md5hash", async () => {
    const provider = vonage({
      apiKey: "abcd1234",
      apiSecret: "s",
      signatureSecret: secret,
      clock: () => now,
    });

    await expect(provider.verifyWebhook(postRequest(md5hash))).resolves.toBeUndefined();
  });

  it("accepts either case of sha256", async () => {
    const provider = vonage({
      apiKey: "abcd1234",
      apiSecret: "s",
      signatureSecret: secret,
      signatureMethod: "sha256",
      clock: () => now,
    });

    await expect(provider.verifyWebhook(getRequest(sha256))).resolves.toBeUndefined();
    await expect(
      provider.verifyWebhook(postRequest(sha256.toUpperCase())),
    ).resolves.toBeUndefined();
  });

  it("rejects unsubstituted signature", async () => {
    const provider = vonage({
      apiKey: "abcd1234",
      apiSecret: "s",
      signatureSecret: secret,
      clock: () => now,
    });
    const error = await provider
      .verifyWebhook(getRequest("2494b7607ce2dae966c3e3c0e0ef85c1"))
      .catch((caught: unknown) => caught);

    expect(isWebhookVerificationError(error)).toBe(true);
    expect((error as WebhookVerificationError).failure).toBe("invalid-signature");
  });

  it("keeps the original text", async () => {
    const provider = vonage({
      apiKey: "abcd1234",
      apiSecret: "s",
      signatureSecret: secret,
      clock: () => now,
    });
    const parsed = await provider.parseWebhook(postRequest(md5hash), "inbound");

    expect(parsed.inbound[0]?.text).toBe("STOP & remove me, account=42");
    expect(parsed.inbound[0]?.raw.sig).toBe(md5hash);
  });

  it("rejects nested JSON with sig", async () => {
    const provider = vonage({
      apiKey: "abcd1234",
      apiSecret: "s",
      signatureSecret: secret,
      clock: () => now,
    });
    const body = JSON.stringify({
      channel: "sms",
      text: "hi",
      sms: { num_messages: "1" },
      sig: md5hash,
    });
    const request: WebhookRequest = {
      method: "POST",
      url,
      headers: new Headers({ "content-type": "application/json" }),
      body: new TextEncoder().encode(body),
    };
    const error = await provider.verifyWebhook(request).catch((caught: unknown) => caught);

    expect(error).not.toBeInstanceOf(TypeError);
    expect((error as WebhookVerificationError).failure).toBe("invalid-signature");
  });
});

describe("Messages API JWT vectors", () => {
  const j1 =
    "eyJ0eXAiOiJKV1QiLCJhbGciOiJIUzI1NiJ9.eyJpc3MiOiJPbmxpbmUgSldUIEJ1aWxkZXIiLCJpYXQiOjE2OTc2" +
    "MzQ2ODAsImV4cCI6MzMyNTQ1NDA4MjgsImF1ZCI6IiIsInN1YiI6IiJ9." +
    "88vJc3I2HhuqEDixHXVhc9R30tA6U_HQHZTC29y6CGM";
  const j2Secret = "test_signature_secret";
  const j2Body =
    '{"channel":"sms","message_uuid":"aaaaaaaa-bbbb-cccc-dddd-0123456789ab","to":"447700900000",' +
    '"from":"447700900001","timestamp":"2020-01-01T14:00:00.000Z","text":"STOP",' +
    '"message_type":"text","sms":{"num_messages":"1","keyword":"STOP"}}';
  const j2Hash = "409fe9974acb83cb85c3cf9144adef687eb35a860ba99d7e5290dc4bada160ff";
  const j2 =
    "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJpYXQiOjE1ODc0OTQ5NjIsImp0aSI6ImM1YmE4ZjI0LTFhMTQtNG" +
    "MxMC1iZmRmLTNmYmU4Y2U1MTFiNSIsImlzcyI6IlZvbmFnZSIsInBheWxvYWRfaGFzaCI6IjQwOWZlOTk3NGFjYjgz" +
    "Y2I4NWMzY2Y5MTQ0YWRlZjY4N2ViMzVhODYwYmE5OWQ3ZTUyOTBkYzRiYWRhMTYwZmYiLCJhcGlfa2V5IjoiYTFiMm" +
    "MzZCIsImFwcGxpY2F0aW9uX2lkIjoiYWFhYWFhYWEtYmJiYi1jY2NjLWRkZGQtMDEyMzQ1Njc4OWFiIn0." +
    "Wms5LpjY9ietvs_FRzstuDdiYbJeuPQwGsFrklKtIpQ";
  const j2Time = 1587494962 * 1000;

  it("decodes J-1 with its secret", () => {
    const claims = decodeVonageJwt(j1, "qwertyuiopasdfghjklzxcvbnm123456");

    expect(claims.iss).toBe("Online JWT Builder");
    expect(claims.iat).toBe(1697634680);
  });

  it("rejects J-1 with wrong secret", () => {
    expectFailure(() => decodeVonageJwt(j1, "asdf"), "invalid-signature");
  });

  it("rejects J-1 without payload_hash", () => {
    expectFailure(
      () =>
        verifyVonageJwt({
          authorization: `Bearer ${j1}`,
          secret: "qwertyuiopasdfghjklzxcvbnm123456",
          rawBody: "{}",
          now: 1697634680 * 1000,
        }),
      "invalid-signature",
    );
  });

  it("hashes J-2 body", () => {
    expect(createHash("sha256").update(j2Body).digest("hex")).toBe(j2Hash);
  });

  it("signs J-2 exactly", () => {
    const token = signVonageJwt({
      secret: j2Secret,
      payload: j2Body,
      iat: 1587494962,
      jti: "c5ba8f24-1a14-4c10-bfdf-3fbe8ce511b5",
      apiKey: "a1b2c3d",
      applicationId: "aaaaaaaa-bbbb-cccc-dddd-0123456789ab",
    });

    expect(token).toBe(j2);
  });

  it("verifies J-2 with body", () => {
    const claims = verifyVonageJwt({
      authorization: `Bearer ${j2}`,
      secret: j2Secret,
      rawBody: new TextEncoder().encode(j2Body),
      now: j2Time,
    });

    expect(claims.payload_hash).toBe(j2Hash);
    expect(claims.api_key).toBe("a1b2c3d");
    expect(claims.iss).toBe("Vonage");
  });

  it("rejects J-2 with changed body", () => {
    const changed = j2Body.replace('"STOP"', '"STAR"');

    expectFailure(
      () =>
        verifyVonageJwt({
          authorization: `Bearer ${j2}`,
          secret: j2Secret,
          rawBody: changed,
          now: j2Time,
        }),
      "invalid-signature",
    );
  });

  it("rejects J-2 re-serialised body", () => {
    const reserialised = JSON.stringify(JSON.parse(j2Body), null, 1);

    expectFailure(
      () =>
        verifyVonageJwt({
          authorization: `Bearer ${j2}`,
          secret: j2Secret,
          rawBody: reserialised,
          now: j2Time,
        }),
      "invalid-signature",
    );
  });

  it("rejects J-2 with wrong secret", () => {
    expectFailure(
      () =>
        verifyVonageJwt({
          authorization: `Bearer ${j2}`,
          secret: "other",
          rawBody: j2Body,
          now: j2Time,
        }),
      "invalid-signature",
    );
  });

  it("rejects stale J-2", () => {
    for (const offset of [-301, 301]) {
      expectFailure(
        () =>
          verifyVonageJwt({
            authorization: `Bearer ${j2}`,
            secret: j2Secret,
            rawBody: j2Body,
            now: j2Time + offset * 1000,
          }),
        "stale-timestamp",
      );
    }
  });

  it("accepts J-2 inside window", () => {
    const input = { authorization: `bearer  ${j2} `, secret: j2Secret, rawBody: j2Body };

    expect(() => verifyVonageJwt({ ...input, now: j2Time + 300_000 })).not.toThrow();
    expectFailure(
      () => verifyVonageJwt({ ...input, now: j2Time + 100_000, toleranceSeconds: 50 }),
      "stale-timestamp",
    );
  });
});

describe("JWT algorithm pinning", () => {
  const secret = "pinning-secret";
  const body = '{"message_uuid":"x"}';
  const claims = {
    iat: 1_700_000_000,
    payload_hash: createHash("sha256").update(body).digest("hex"),
  };
  const now = 1_700_000_000_000;
  const encode = (value: unknown) => Buffer.from(JSON.stringify(value)).toString("base64url");

  it("accepts HS256", () => {
    const token = signVonageHs256Jwt(claims, secret);

    expect(() =>
      verifyVonageJwt({ authorization: `Bearer ${token}`, secret, rawBody: body, now }),
    ).not.toThrow();
  });

  it("rejects alg none", () => {
    const token = `${encode({ alg: "none", typ: "JWT" })}.${encode(claims)}.`;
    const unsigned = `${encode({ alg: "none", typ: "JWT" })}.${encode(claims)}.AA`;

    expectFailure(() => decodeVonageJwt(token, secret), "invalid-signature");
    expectFailure(() => decodeVonageJwt(unsigned, secret), "invalid-signature");
  });

  it("rejects RS256 tokens", () => {
    const { privateKey } = generateKeyPairSync("rsa", { modulusLength: 2048 });
    const header = encode({ alg: "RS256", typ: "JWT" });
    const payload = encode(claims);
    const signature = sign("sha256", Buffer.from(`${header}.${payload}`), privateKey);
    const token = `${header}.${payload}.${signature.toString("base64url")}`;

    expectFailure(() => decodeVonageJwt(token, secret), "invalid-signature");
    expectFailure(
      () => verifyVonageJwt({ authorization: `Bearer ${token}`, secret, rawBody: body, now }),
      "invalid-signature",
    );
  });

  it("rejects HS256 key confusion", () => {
    // An attacker signing with HMAC under another algorithm name gains nothing.
    for (const alg of ["HS512", "HS384", "hs256", "ES256", "PS256", undefined]) {
      const header = encode({ alg, typ: "JWT" });
      const token = signVonageHs256Jwt(claims, secret).split(".");
      const forged = `${header}.${token[1]}.${token[2]}`;

      expectFailure(() => decodeVonageJwt(forged, secret), "invalid-signature");
    }
  });

  it("rejects malformed tokens", () => {
    const valid = signVonageHs256Jwt(claims, secret);
    const malformed = [
      "",
      "abc",
      "a.b",
      "a.b.c.d",
      `${valid}=`,
      `${valid.split(".")[0]}..${valid.split(".")[2]}`,
      `${encode("text")}.${encode(claims)}.x`,
      `${Buffer.from([0xff, 0xfe]).toString("base64url")}.${encode(claims)}.x`,
      `${encode({ alg: "HS256" })}.${encode([1, 2])}.x`,
    ];

    for (const token of malformed) {
      expectFailure(() => decodeVonageJwt(token, secret), "invalid-signature");
    }
  });

  it("rejects bad iat, exp and nbf", () => {
    const cases: Array<[Record<string, unknown>, WebhookVerificationFailure]> = [
      [{ ...claims, iat: undefined }, "stale-timestamp"],
      [{ ...claims, iat: "1700000000" }, "stale-timestamp"],
      [{ ...claims, exp: 1_699_999_999 }, "stale-timestamp"],
      [{ ...claims, nbf: 1_700_000_301 }, "stale-timestamp"],
      [{ ...claims, payload_hash: undefined }, "invalid-signature"],
      [{ ...claims, payload_hash: "abc" }, "invalid-signature"],
    ];

    for (const [tokenClaims, failure] of cases) {
      const token = signVonageHs256Jwt(tokenClaims, secret);

      expectFailure(
        () => verifyVonageJwt({ authorization: `Bearer ${token}`, secret, rawBody: body, now }),
        failure,
      );
    }
  });

  it("reports missing bearer token", () => {
    for (const authorization of [null, undefined, "", "Bearer", "Basic abc", "Bearer a b"]) {
      expectFailure(
        () => verifyVonageJwt({ authorization, secret, rawBody: body, now }),
        "missing-signature",
      );
    }
  });
});

describe("verifyVonageWebhook", () => {
  const secret = "webhook-secret";
  const url = "https://sms.example.com/webhooks/vonage/inbound";
  const now = 1_746_100_800_000;
  const options = { signatureSecret: secret, now };
  const inbound = buildVonageInbound({
    msisdn: "12025550143",
    to: "12025550100",
    text: "STOP",
    messageTimestamp: new Date(now),
  });
  const signedInput = { url, params: inbound.params, secret, timestamp: now / 1000 };

  it("accepts signed GET", () => {
    const request = signedVonageRequest({ ...signedInput, method: "GET" });

    expect(() => verifyVonageWebhook(request, options)).not.toThrow();
  });

  it("accepts signed POST form", () => {
    expect(() => verifyVonageWebhook(signedVonageRequest(signedInput), options)).not.toThrow();
  });

  it("accepts signed POST JSON", () => {
    const request = signedVonageRequest({ ...signedInput, json: true });

    expect(request.headers.get("content-type")).toBe("application/json");
    expect(() => verifyVonageWebhook(request, options)).not.toThrow();
  });

  it("accepts every signature method", () => {
    for (const signatureMethod of ["md5hash", "md5", "sha1", "sha256", "sha512"] as const) {
      const request = signedVonageRequest({ ...signedInput, signatureMethod });

      expect(() => verifyVonageWebhook(request, { ...options, signatureMethod })).not.toThrow();
      expectFailure(
        () =>
          verifyVonageWebhook(request, {
            ...options,
            signatureMethod: signatureMethod === "md5hash" ? "md5" : "md5hash",
          }),
        "invalid-signature",
      );
    }
  });

  it("rejects tampered form body", () => {
    const request = signedVonageRequest(signedInput);
    const body = new TextDecoder().decode(request.body).replace("text=STOP", "text=START");

    expectFailure(
      () => verifyVonageWebhook({ ...request, body: new TextEncoder().encode(body) }, options),
      "invalid-signature",
    );
  });

  it("rejects unreadable bodies", () => {
    const headers = new Headers({ "content-type": "application/x-www-form-urlencoded" });
    const bodies = [new Uint8Array([0x61, 0x3d, 0xff]), new TextEncoder().encode("a=%zz")];

    for (const body of bodies) {
      expectFailure(
        () => verifyVonageWebhook({ method: "POST", url, headers, body }, options),
        "invalid-signature",
      );
    }

    const json = new Headers({ "content-type": "application/json" });

    expectFailure(
      () =>
        verifyVonageWebhook(
          { method: "POST", url, headers: json, body: new TextEncoder().encode("{") },
          options,
        ),
      "invalid-signature",
    );
  });

  it("reports unsigned request", () => {
    const request = signedVonageRequest({ url, params: inbound.params });

    expectFailure(() => verifyVonageWebhook(request, options), "missing-signature");
  });

  it("reports missing secret", () => {
    const request = signedVonageRequest(signedInput);

    expectFailure(
      () => verifyVonageWebhook(request, { signatureSecret: undefined }),
      "missing-secret",
    );
    expectFailure(() => verifyVonageWebhook(request, { signatureSecret: "" }), "missing-secret");
  });

  it("reports stale request", () => {
    const request = signedVonageRequest({ ...signedInput, timestamp: now / 1000 - 600 });

    expectFailure(() => verifyVonageWebhook(request, options), "stale-timestamp");
  });

  it("picks JWT for Bearer", () => {
    const request = signedVonageMessagesRequest({
      url,
      body: { message_uuid: "u1", from: "12025550143", to: "12025550100", text: "hi" },
      secret,
      iat: now / 1000,
    });

    expect(() => verifyVonageWebhook(request, options)).not.toThrow();
    expectFailure(
      () => verifyVonageWebhook(request, { ...options, signatureSecret: "other" }),
      "invalid-signature",
    );
  });

  it("prefers JWT over sig", () => {
    const signed = signedVonageRequest({ ...signedInput, json: true });
    const token = signVonageJwt({ secret: "other", payload: signed.body, iat: now / 1000 });

    signed.headers.set("authorization", `Bearer ${token}`);

    expectFailure(() => verifyVonageWebhook(signed, options), "invalid-signature");
  });

  it("ignores Basic authorization", () => {
    const request = signedVonageRequest(signedInput);

    request.headers.set("authorization", "Basic dXNlcjpwYXNz");

    expect(() => verifyVonageWebhook(request, options)).not.toThrow();
  });

  it("reports Messages body without token", () => {
    const request = signedVonageMessagesRequest({
      url,
      body: { message_uuid: "u1", sms: { num_messages: "1" } },
    });

    expectFailure(() => verifyVonageWebhook(request, options), "missing-signature");
  });

  it("rejects stale JWT", () => {
    const request = signedVonageMessagesRequest({
      url,
      body: { message_uuid: "u1" },
      secret,
      iat: now / 1000 - 301,
    });

    expectFailure(() => verifyVonageWebhook(request, options), "stale-timestamp");
  });

  it("provider rejects without secret", async () => {
    const provider = vonage({ apiKey: "k", apiSecret: "s" });
    const error = await provider
      .verifyWebhook(signedVonageRequest(signedInput))
      .catch((caught: unknown) => caught);

    expect((error as WebhookVerificationError).failure).toBe("missing-secret");
  });

  it("provider applies its tolerance", async () => {
    const request = signedVonageRequest({ ...signedInput, timestamp: now / 1000 - 60 });
    const strict = vonage({
      apiKey: "k",
      apiSecret: "s",
      signatureSecret: secret,
      signatureToleranceSeconds: 30,
      clock: () => now,
    });
    const lenient = vonage({
      apiKey: "k",
      apiSecret: "s",
      signatureSecret: secret,
      clock: () => now,
    });
    const error = await strict.verifyWebhook(request).catch((caught: unknown) => caught);

    expect((error as WebhookVerificationError).failure).toBe("stale-timestamp");
    await expect(lenient.verifyWebhook(request)).resolves.toBeUndefined();
  });
});
