import fc from "fast-check";
import { encodeForm } from "../../src/http/form.js";
import type { WebhookKind, WebhookRequest } from "../../src/provider.js";

/** Field names the Twilio, Vonage and Plivo parsers read, so generated forms reach them. */
export const webhookFieldNames = [
  // Twilio
  "AccountSid",
  "Body",
  "From",
  "To",
  "MessageSid",
  "SmsSid",
  "SmsMessageSid",
  "MessageStatus",
  "SmsStatus",
  "ErrorCode",
  "OptOutType",
  "NumMedia",
  "MediaUrl0",
  "MediaContentType0",
  "NumSegments",
  "MessagingServiceSid",
  "RawDlrDoneDate",
  "ConversationSid",
  "Author",
  // Vonage
  "msisdn",
  "to",
  "from",
  "messageId",
  "message_uuid",
  "text",
  "type",
  "keyword",
  "message-timestamp",
  "timestamp",
  "nonce",
  "sig",
  "concat",
  "concat-ref",
  "concat-total",
  "concat-part",
  "status",
  "err-code",
  "scts",
  "api-key",
  "channel",
  // Plivo
  "Text",
  "MessageUUID",
  "Units",
  "MessageIntent",
  "MediaCount",
  "Media1",
  "Status",
  "MessageTime",
  "DeliveryReportTime",
  "__proto__",
  "constructor",
] as const;

/** Header names the verifiers and parsers read. */
export const webhookHeaderNames = [
  "content-type",
  "x-twilio-signature",
  "i-twilio-idempotency-token",
  "authorization",
  "x-plivo-signature-v3",
  "x-plivo-signature-v3-nonce",
  "x-plivo-signature-v2",
  "x-plivo-signature-v2-nonce",
  "x-plivo-signature-ma-v3",
  "x-plivo-signature-ma-v2",
  "x-forwarded-host",
  "x-forwarded-proto",
] as const;

/** Content types, declared right, wrong or malformed. */
export const contentTypes = [
  "application/x-www-form-urlencoded",
  "application/x-www-form-urlencoded; charset=utf-8",
  "application/json",
  "application/json; charset=latin1",
  "application/vnd.vonage+json",
  "text/plain",
  "text/xml",
  "multipart/form-data; boundary=----x",
  "application/octet-stream",
  "",
  ";;;",
  "APPLICATION/JSON",
] as const;

/** Text of any code points: lone surrogates, NUL, controls, bidi marks and emoji included. */
export const anyText = (maxLength = 200): fc.Arbitrary<string> =>
  fc.oneof(
    fc.string({ unit: "binary", maxLength }),
    fc.string({ unit: "grapheme", maxLength }),
    fc.string({
      unit: fc.constantFrom(
        "\u0000",
        "\u202e",
        "\u200b",
        "\ufeff",
        "\ud800",
        "\udfff",
        "%",
        "&",
        "=",
        "+",
        " ",
        "S",
        "T",
        "O",
        "P",
        "0",
        "9",
      ),
      maxLength,
    }),
  );

/** Values that look like what providers send, and ones that nearly do. */
const fieldValue: fc.Arbitrary<string> = fc.oneof(
  fc.constantFrom(
    "+12025550143",
    "12025550143",
    "+1202555014",
    "2025550143",
    "+0000",
    "55501",
    "whatsapp:+12025550143",
    "AcmeInc",
    "STOP",
    "start",
    "UNSUBSCRIBE",
    "HELP",
    "optout",
    "SM00000000000000000000000000000000",
    "AC00000000000000000000000000000000",
    "MG00000000000000000000000000000000",
    "0A0000000123ABCD",
    "aaaaaaaa-bbbb-4ccc-8ddd-eeeeeeeeeeee",
    "2024-02-30 25:61:61",
    "2024-01-01 00:00:00",
    "9999999999",
    "delivered",
    "failed",
    "21610",
    "true",
    "-1",
    "1e309",
    "",
  ),
  fc.integer().map(String),
  anyText(80),
);

/** Form fields, names mostly ones the parsers read. */
export const formPairs: fc.Arbitrary<Array<[string, string]>> = fc.array(
  fc.tuple(fc.oneof(fc.constantFrom(...webhookFieldNames), anyText(20)), fieldValue),
  { maxLength: 24 },
);

/** Percent escapes and bytes that are not valid UTF-8 once decoded. */
const invalidUtf8Escapes = [
  "%C3%28",
  "%FF",
  "%ED%A0%80",
  "%C0%AF",
  "%E2%82",
  "%F4%90%80%80",
  "%zz",
  "%4",
];

/** Bytes of a body: random, form-encoded, JSON, invalid UTF-8 or with NUL bytes. */
export const hostileBody: fc.Arbitrary<Uint8Array> = fc.oneof(
  fc.uint8Array({ maxLength: 2048 }),
  formPairs.map((pairs) => new TextEncoder().encode(encodeForm(pairs))),
  fc
    .tuple(formPairs, fc.constantFrom(...invalidUtf8Escapes))
    .map(([pairs, badEscape]) =>
      new TextEncoder().encode(`${encodeForm(pairs)}&Body=${badEscape}`),
    ),
  fc.jsonValue().map((value) => new TextEncoder().encode(JSON.stringify(value))),
  fc
    .dictionary(fc.constantFrom(...webhookFieldNames), fc.jsonValue(), { maxKeys: 12 })
    .map((object) => new TextEncoder().encode(JSON.stringify(object))),
  fc
    .tuple(fc.constantFrom(...webhookFieldNames), fieldValue, fieldValue)
    .map(([name, first, second]) =>
      new TextEncoder().encode(
        `{"${name}":${JSON.stringify(first)},"${name}":${JSON.stringify(second)}}`,
      ),
    ),
  formPairs.map((pairs) => new TextEncoder().encode(`${encodeForm(pairs)}\u0000\u0000`)),
);

/** A header value that `Headers` accepts: Latin-1 without CR, LF or NUL. */
const headerValue: fc.Arbitrary<string> = fc.oneof(
  fc.constantFrom(...contentTypes),
  fc.base64String({ maxLength: 64 }),
  fc.string({
    unit: fc.integer({ min: 0x20, max: 0xff }).map((code) => String.fromCharCode(code)),
    maxLength: 80,
  }),
  fc
    .tuple(
      fc.base64String({ maxLength: 40 }),
      fc.base64String({ maxLength: 200 }),
      fc.base64String({ maxLength: 40 }),
    )
    .map(([header, payload, signature]) => `Bearer ${header}.${payload}.${signature}`),
);

/** Builds `Headers` from pairs, leaving out any pair `Headers` itself rejects. */
export function toHeaders(pairs: ReadonlyArray<readonly [string, string]>): Headers {
  const headers = new Headers();

  for (const [name, value] of pairs) {
    try {
      headers.append(name, value);
    } catch {
      // Not a valid header; a real HTTP parser would not deliver it either.
    }
  }

  return headers;
}

/** A query string of hostile fields, as a provider's GET webhook would carry them. */
const query: fc.Arbitrary<string> = fc.oneof(
  fc.constant(""),
  formPairs.map((pairs) => `?${encodeForm(pairs)}`),
  fc.constantFrom(...invalidUtf8Escapes).map((badEscape) => `?text=${badEscape}&msisdn=1`),
  anyText(60).map((text) => `?${text}`),
);

/** A webhook request of any method, URL query, headers and body, for a given route. */
export function hostileRequest(route: string): fc.Arbitrary<WebhookRequest> {
  return fc
    .record({
      method: fc.constantFrom("POST", "GET", "HEAD", "PUT", "DELETE", "post", ""),
      query,
      headers: fc.array(fc.tuple(fc.constantFrom(...webhookHeaderNames), headerValue), {
        maxLength: 8,
      }),
      body: hostileBody,
    })
    .map(({ method, query: search, headers, body }) => ({
      method,
      url: `${route}${search}`,
      headers: toHeaders(headers),
      body,
    }));
}

/** Either webhook kind. */
export const webhookKind: fc.Arbitrary<WebhookKind> = fc.constantFrom("inbound", "status");

/** Large and deeply nested bodies, too big to generate at random on every run. */
export function oversizedBodies(): Array<[label: string, body: Uint8Array]> {
  const encoder = new TextEncoder();
  const depth = 100_000;

  return [
    ["1 MB field value", encoder.encode(`From=%2B12025550143&Body=${"S".repeat(1_000_000)}`)],
    [
      "20k fields",
      encoder.encode(Array.from({ length: 20_000 }, (_, i) => `f${i}=${i}`).join("&")),
    ],
    ["100k empty segments", encoder.encode("&".repeat(100_000))],
    ["100k percent escapes", encoder.encode(`Body=${"%41".repeat(100_000)}`)],
    ["deep JSON array", encoder.encode(`${"[".repeat(depth)}${"]".repeat(depth)}`)],
    ["deep JSON object", encoder.encode(`${'{"a":'.repeat(depth)}1${"}".repeat(depth)}`)],
    [
      "deep JSON in a field",
      encoder.encode(
        `{"message_uuid":"aaaaaaaa-bbbb-4ccc-8ddd-eeeeeeeeeeee","channel":"sms",` +
          `"from":"12025550143","to":"12025550100","text":"STOP","message_type":"text",` +
          `"x":${"[".repeat(depth)}${"]".repeat(depth)}}`,
      ),
    ],
    ["1 MB of NUL bytes", new Uint8Array(1024 * 1024)],
    ["unterminated JSON", encoder.encode(`{"text":"${"a".repeat(500_000)}`)],
  ];
}
