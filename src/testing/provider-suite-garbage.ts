import fc from "fast-check";
import { encodeForm, parseFormBody } from "../http/form.js";
import type { WebhookRequest } from "../provider.js";

/** A malformed or hostile webhook, with a label for assertion messages. */
export interface GarbageRequest {
  label: string;
  request: WebhookRequest;
}

/** Content types a hostile sender may declare, right or wrong for the body. */
export const garbageContentTypes = [
  "",
  "application/json",
  "application/json; charset=utf-16",
  "application/vnd.api+json",
  "application/x-www-form-urlencoded",
  "application/x-www-form-urlencoded; charset=latin1",
  "multipart/form-data; boundary=x",
  "text/plain",
  "application/xml",
  "application/octet-stream",
] as const;

const METHODS = ["POST", "GET", "PUT", "HEAD", "DELETE", "OPTIONS", "post", ""] as const;

const encoder = new TextEncoder();

// Deep enough to overflow a recursive walker, small enough to build quickly.
const DEPTH = 20_000;
const HUGE = 1024 * 1024;

/** Builds a request from a base: the base's URL and headers unless replaced. */
function variant(
  base: WebhookRequest,
  body: string | Uint8Array,
  contentType?: string,
): WebhookRequest {
  const headers = new Headers(base.headers);

  if (contentType !== undefined) {
    headers.set("content-type", contentType);
  }

  const bytes = typeof body === "string" ? encoder.encode(body) : body;

  return { method: base.method, url: base.url, headers, body: bytes };
}

function jsonBodies(): Array<[string, string]> {
  const deepArray = `${"[".repeat(DEPTH)}${"]".repeat(DEPTH)}`;
  const deepObject = `${'{"a":'.repeat(DEPTH)}1${"}".repeat(DEPTH)}`;

  return [
    ["empty JSON object", "{}"],
    ["JSON array", "[]"],
    ["JSON null", "null"],
    ["JSON true", "true"],
    ["JSON number", "0"],
    ["JSON string", '"text"'],
    ["JSON infinity", "1e999"],
    ["deep array", deepArray],
    ["deep object", deepObject],
    ["deep data payload", `{"data":{"payload":${deepObject}}}`],
    ["duplicate keys", '{"id":"1","id":"2","from":"+14155550100","from":7,"text":null}'],
    ["prototype keys", '{"__proto__":{"polluted":true},"constructor":{"prototype":{"x":1}}}'],
    ["NUL in JSON", '{"from":"\\u0000","to":"\\u0000\\u0000","text":"\\u0000"}'],
    ["lone surrogate", '{"text":"\\ud800","from":"\\udfff"}'],
    ["huge JSON string", `{"text":"${"a".repeat(HUGE)}"}`],
    ["truncated JSON", '{"data":{"payload":{"id":"'],
  ];
}

function formBodies(): Array<[string, string]> {
  return [
    ["lone percent", "%"],
    ["bad escape", "%zz=%zz"],
    ["invalid UTF-8 escape", "From=%ff&To=%fe&Body=%c3"],
    ["empty pairs", "=&=&==&&&"],
    ["NUL in form", "From=%00&To=%00&Body=%00"],
    ["prototype fields", "__proto__=1&constructor=2&hasOwnProperty=3"],
    ["many fields", "a=1&".repeat(100_000)],
    ["huge form value", `Body=${"a".repeat(HUGE)}`],
  ];
}

function byteBodies(): Array<[string, Uint8Array]> {
  return [
    ["empty body", new Uint8Array()],
    ["invalid UTF-8", new Uint8Array([0xff, 0xfe, 0xfd])],
    ["truncated UTF-8", new Uint8Array([0x7b, 0x22, 0xc3])],
    ["encoded surrogate", new Uint8Array([0xed, 0xa0, 0x80])],
    ["overlong UTF-8", new Uint8Array([0xc0, 0xaf])],
    ["NUL bytes", new Uint8Array(64)],
    ["huge body", new Uint8Array(HUGE).fill(0x61)],
  ];
}

/**
 * Returns a fixed list of malformed bodies sent with the base's URL and headers: invalid
 * UTF-8, NUL bytes, huge and deep bodies, duplicate keys and broken form encoding.
 */
export function garbageBodies(base: WebhookRequest): GarbageRequest[] {
  const list: GarbageRequest[] = [];

  for (const [label, body] of jsonBodies()) {
    list.push({ label, request: variant(base, body, "application/json") });
  }

  for (const [label, body] of formBodies()) {
    list.push({ label, request: variant(base, body, "application/x-www-form-urlencoded") });
  }

  for (const [label, body] of byteBodies()) {
    list.push({ label, request: variant(base, body) });
  }

  return list;
}

/**
 * Returns a fixed list of broken variants of a base request: its body with wrong content
 * types, a BOM or cut in half, broken URLs and methods, and hostile values in the headers
 * named (the signature headers).
 */
export function garbageVariants(
  base: WebhookRequest,
  headerNames: readonly string[],
): GarbageRequest[] {
  return [
    ...wrongContentTypes(base),
    ...brokenRequests(base),
    ...hostileHeaders(base, headerNames),
  ];
}

function wrongContentTypes(base: WebhookRequest): GarbageRequest[] {
  const withBom = new Uint8Array([0xef, 0xbb, 0xbf, ...base.body]);
  const half = base.body.subarray(0, Math.floor(base.body.length / 2));
  const list = garbageContentTypes.map((type) => ({
    label: `base body as ${JSON.stringify(type)}`,
    request: variant(base, base.body, type),
  }));

  list.push({ label: "base body after a BOM", request: variant(base, withBom) });
  list.push({ label: "base body cut in half", request: variant(base, half) });

  return list;
}

function brokenRequests(base: WebhookRequest): GarbageRequest[] {
  const urls = [
    "",
    "not a url",
    "http://[::1",
    `${base.url}?%zz=%`,
    `${base.url}?${"q".repeat(1e5)}`,
  ];
  const list = urls.map((url) => ({
    label: `URL ${JSON.stringify(url.slice(0, 40))}`,
    request: { ...variant(base, base.body), url },
  }));

  for (const method of METHODS) {
    list.push({
      label: `method ${JSON.stringify(method)}`,
      request: { ...variant(base, base.body), method },
    });
  }

  return list;
}

const HOSTILE_VALUES = [
  "",
  "0",
  "-1",
  "NaN",
  "1e3",
  "99999999999999999999",
  "sha256=",
  "t=1,v1=",
  "=".repeat(64),
  "é".repeat(32),
  "x".repeat(10_000),
];

function hostileHeaders(base: WebhookRequest, names: readonly string[]): GarbageRequest[] {
  return names.flatMap((name) =>
    HOSTILE_VALUES.map((value) => {
      const request = variant(base, base.body);

      request.headers.set(name, value);

      return { label: `header ${name}: ${JSON.stringify(value.slice(0, 20))}`, request };
    }),
  );
}

const headerValue = fc.stringMatching(/^[\x20-\x7e]{0,80}$/);

/** Generates bodies of random bytes, with a random method and content type. */
export function randomBytesRequests(base: WebhookRequest): fc.Arbitrary<GarbageRequest> {
  return fc
    .record({
      body: fc.uint8Array({ maxLength: 2048 }),
      type: fc.constantFrom(...garbageContentTypes),
      method: fc.constantFrom(...METHODS),
    })
    .map(({ body, type, method }) => ({
      label: `random bytes (${body.length}) as ${type} ${method}`,
      request: { ...variant(base, body, type), method },
    }));
}

/** Generates the base body with random headers, many of them the provider's own. */
export function randomHeaderRequests(
  base: WebhookRequest,
  names: readonly string[],
): fc.Arbitrary<GarbageRequest> {
  const name = fc.oneof(
    fc.constantFrom("content-type", "authorization", ...names),
    fc.stringMatching(/^[a-z][a-z0-9-]{0,24}$/),
  );

  return fc.dictionary(name, headerValue, { maxKeys: 8 }).map((headers) => {
    const request = variant(base, base.body);

    for (const [key, value] of Object.entries(headers)) {
      request.headers.set(key, value);
    }

    return { label: `headers ${JSON.stringify(headers).slice(0, 200)}`, request };
  });
}

/** Generates the base body with bytes inserted, removed or replaced at random places. */
export function mutatedBodyRequests(base: WebhookRequest): fc.Arbitrary<GarbageRequest> {
  const edit = fc.record({
    at: fc.nat(),
    remove: fc.nat({ max: 8 }),
    insert: fc.uint8Array({ maxLength: 8 }),
  });

  return fc.array(edit, { minLength: 1, maxLength: 6 }).map((edits) => {
    let body = Uint8Array.from(base.body);

    for (const { at, remove, insert } of edits) {
      const position = body.length === 0 ? 0 : at % (body.length + 1);

      body = Uint8Array.from([
        ...body.subarray(0, position),
        ...insert,
        ...body.subarray(position + remove),
      ]);
    }

    const text = Buffer.from(body.subarray(0, 300)).toString("latin1");

    return { label: `mutated body ${JSON.stringify(text)}`, request: variant(base, body) };
  });
}

/**
 * Generates bodies in the base's own format (JSON or form) whose fields have random
 * values: the base's field names with random text, numbers, objects and arrays.
 */
export function randomFieldRequests(base: WebhookRequest): fc.Arbitrary<GarbageRequest> {
  const json = readJson(base.body);

  if (json !== undefined) {
    return randomJsonFields(base, json);
  }

  const names = readFormNames(base.body);
  const name = fc.oneof(fc.constantFrom("x", ...names), fc.string({ maxLength: 12 }));
  const value = fc.oneof(fc.string({ maxLength: 40 }), fc.constantFrom("", "+", "0", "STOP"));

  return fc.array(fc.tuple(name, value), { maxLength: 24 }).map((pairs) => {
    const body = encodeForm(pairs);

    return { label: `random form ${body.slice(0, 300)}`, request: variant(base, body) };
  });
}

function randomJsonFields(base: WebhookRequest, json: unknown): fc.Arbitrary<GarbageRequest> {
  const found = leafPaths(json).filter((path) => path.length > 0);
  const paths = found.length > 0 ? found : [["x"]];
  const replacement = fc.tuple(fc.constantFrom(...paths), fc.jsonValue({ maxDepth: 3 }));

  return fc.array(replacement, { minLength: 1, maxLength: 6 }).map((replacements) => {
    const copy = structuredClone(json);

    for (const [path, value] of replacements) {
      setPath(copy, path, value);
    }

    const body = JSON.stringify(copy) ?? "null";

    return { label: `random JSON ${body.slice(0, 300)}`, request: variant(base, body) };
  });
}

function readJson(body: Uint8Array): unknown {
  try {
    const value: unknown = JSON.parse(new TextDecoder("utf-8", { fatal: true }).decode(body));

    return typeof value === "object" && value !== null ? value : undefined;
  } catch {
    return undefined;
  }
}

function readFormNames(body: Uint8Array): string[] {
  try {
    return [...new Set(parseFormBody(body).map(([name]) => name))];
  } catch {
    return [];
  }
}

// Every path from the root to a node below it, so that any level may be replaced.
function leafPaths(value: unknown, prefix: string[] = []): string[][] {
  const paths = [prefix];

  if (typeof value === "object" && value !== null) {
    for (const [key, child] of Object.entries(value)) {
      paths.push(...leafPaths(child, [...prefix, key]));
    }
  }

  return paths;
}

function setPath(root: unknown, path: string[], value: unknown): void {
  let node = root as Record<string, unknown>;

  for (const key of path.slice(0, -1)) {
    const next = node[key];

    if (typeof next !== "object" || next === null) {
      return;
    }

    node = next as Record<string, unknown>;
  }

  const last = path.at(-1);

  if (last !== undefined) {
    node[last] = value;
  }
}
