/**
 * Plivo webhook signatures, as Plivo's server SDKs compute them (plivo-python
 * `plivo/utils/__init__.py` for V2 and `plivo/utils/signature_v3.py` for V3). The step
 * numbers in the comments are the steps of each algorithm. Every URL is cut with string
 * operations, never a WHATWG `URL`, which would turn an empty path into `/` and re-encode
 * characters Plivo signed as they were.
 */

import { createHmac, timingSafeEqual } from "node:crypto";
import { parseFormBody } from "../../src/http/form.js";
import { queryOf } from "../../src/http/webhook-request.js";

/** Form parameters as received: repeated names and empty values included. */
export type PlivoSignatureParams = ReadonlyArray<readonly [string, string]>;

/**
 * Returns the URL without its query and fragment: scheme, userinfo, host, port and path,
 * byte for byte. An empty path stays empty (`https://answer.url`).
 */
export function plivoSignatureBaseUrl(url: string): string {
  const end = url.search(/[?#]/);

  return end === -1 ? url : url.slice(0, end);
}

/**
 * Builds the string of an `X-Plivo-Signature-V2` (and `-Ma-V2`): the callback URL as
 * configured without its query, followed directly by the nonce.
 *
 * @example
 * buildPlivoSignatureV2String("https://sms.example.com:8443/in?x=1", "123");
 * // "https://sms.example.com:8443/in123"
 */
export function buildPlivoSignatureV2String(url: string, nonce: string): string {
  // Step 1: scheme://host[:port]/path of the URL. The port stays, and the query goes,
  // because Plivo signs the URL it was configured with minus its query.
  const baseUrl = plivoSignatureBaseUrl(url);

  // Step 2: the nonce follows with no separator. A `/` between them gives a different
  // signature. The body is not signed at all.
  return baseUrl + nonce;
}

/**
 * Computes an `X-Plivo-Signature-V2` over {@link buildPlivoSignatureV2String}.
 *
 * @returns The base64 HMAC-SHA256 keyed with the Auth Token.
 */
export function computePlivoSignatureV2(authToken: string, url: string, nonce: string): string {
  // Step 3: HMAC-SHA256 of the UTF-8 string, keyed with the Auth Token, then base64.
  return hmacBase64("sha256", authToken, buildPlivoSignatureV2String(url, nonce));
}

/** The request an `X-Plivo-Signature-V3` covers. */
export interface PlivoSignatureV3Request {
  /** `GET` (or `HEAD`) signs the query layout; every other method the POST layout. */
  method: string;
  /** The public URL Plivo requested, with its query. */
  url: string;
  /** Form body parameters of a POST; extra callback parameters of a GET. */
  params: PlivoSignatureParams;
  /** The `X-Plivo-Signature-V3-Nonce` header value. */
  nonce: string;
}

/**
 * Builds the string of an `X-Plivo-Signature-V3` (and `-Ma-V3`).
 *
 * @throws {WebhookParseError} when the URL's query has a malformed percent escape or
 *   invalid UTF-8.
 * @example
 * buildPlivoSignatureV3String({
 *   method: "POST",
 *   url: "https://example.com/in?b=2&a=1",
 *   params: [["To", "1"], ["From", "2"]],
 *   nonce: "9",
 * });
 * // "https://example.com/in?a=1&b=2.From2To1.9"
 */
export function buildPlivoSignatureV3String(request: PlivoSignatureV3Request): string {
  // Step 1: scheme://host[:port]/path of the URL, without its query.
  const baseUrl = plivoSignatureBaseUrl(request.url);
  const query = parseFormBody(queryOf(request.url));
  const method = request.method.toUpperCase();
  const layout =
    method === "GET" || method === "HEAD"
      ? getLayout(query, request.params)
      : postLayout(query, request.params);

  // Step 4: a `.` and the nonce close the string.
  return `${baseUrl}${layout}.${request.nonce}`;
}

// Step 2 (GET): the query parameters and any extra parameters, merged and sorted by name,
// follow a `?` as `name=value` pairs joined by `&`. Without parameters nothing follows.
function getLayout(query: PlivoSignatureParams, params: PlivoSignatureParams): string {
  const pairs = sortParams([...query, ...params]);

  return pairs.length === 0 ? "" : `?${joinQuery(pairs)}`;
}

// Step 3 (POST): a `?` comes first when there is a query or a body parameter. The sorted
// query follows as `name=value&...`, then a `.` when both exist, and then the sorted body
// parameters as `namevalue` with no separators.
function postLayout(query: PlivoSignatureParams, params: PlivoSignatureParams): string {
  const queryText = joinQuery(sortParams(query));
  const bodyText = sortParams(params)
    .map(([name, value]) => name + value)
    .join("");
  const question = queryText !== "" || params.length > 0 ? "?" : "";
  const dot = queryText !== "" && params.length > 0 ? "." : "";

  return `${question}${queryText}${dot}${bodyText}`;
}

function joinQuery(pairs: PlivoSignatureParams): string {
  return pairs.map(([name, value]) => `${name}=${value}`).join("&");
}

/**
 * Sorts parameters by name in Unicode code point order, which is the order of Python's
 * `sorted` in plivo-python and the byte order of UTF-8, so `SIP-H-To` comes before
 * `SessionStart`. A repeated name appears
 * once per value, values sorted the same way. Values are used decoded and unescaped.
 */
function sortParams(params: PlivoSignatureParams): Array<readonly [string, string]> {
  const groups = new Map<string, string[]>();

  for (const [name, value] of params) {
    const values = groups.get(name) ?? [];

    values.push(value);
    groups.set(name, values);
  }

  const names = [...groups.keys()].sort(compareCodePoints);

  return names.flatMap((name) =>
    (groups.get(name) ?? []).sort(compareCodePoints).map((value) => [name, value] as const),
  );
}

// UTF-16 order differs from code point order only where a surrogate (a code point above
// U+FFFF) meets a unit from U+E000 to U+FFFF, so surrogates are weighted above them.
function compareCodePoints(left: string, right: string): number {
  const length = Math.min(left.length, right.length);

  for (let index = 0; index < length; index += 1) {
    const a = left.charCodeAt(index);
    const b = right.charCodeAt(index);

    if (a !== b) {
      return surrogateWeight(a) - surrogateWeight(b);
    }
  }

  return left.length - right.length;
}

function surrogateWeight(unit: number): number {
  return unit >= 0xd800 && unit <= 0xdfff ? unit + 0x10000 : unit;
}

/**
 * Computes an `X-Plivo-Signature-V3` over {@link buildPlivoSignatureV3String}.
 *
 * @returns The base64 HMAC-SHA256 keyed with the Auth Token.
 * @throws {WebhookParseError} as {@link buildPlivoSignatureV3String} does.
 */
export function computePlivoSignatureV3(
  authToken: string,
  request: PlivoSignatureV3Request,
): string {
  // Step 5: HMAC-SHA256 of the UTF-8 string, keyed with the Auth Token, then base64.
  return hmacBase64("sha256", authToken, buildPlivoSignatureV3String(request));
}

/**
 * Computes the legacy `X-Plivo-Signature` (V1): base64 HMAC-SHA1 over the URL followed by
 * every parameter name and value, sorted by name. `verifyPlivoWebhook` does not accept
 * it, because V2 and V3 replaced this legacy scheme. It is here to check old captures.
 */
export function computePlivoSignatureV1(
  authToken: string,
  url: string,
  params: PlivoSignatureParams,
): string {
  const data = sortParams(params).reduce((text, [name, value]) => text + name + value, url);

  return hmacBase64("sha1", authToken, data);
}

/** Input of {@link verifyPlivoSignatureV2}. */
export interface VerifyPlivoSignatureV2Input {
  authToken: string;
  /** The public URL Plivo requested, as configured at Plivo. */
  url: string;
  /** The `X-Plivo-Signature-V2-Nonce` header value. */
  nonce: string | null | undefined;
  /** The `X-Plivo-Signature-V2` (or `-Ma-V2`) header value. */
  signature: string | null | undefined;
}

/**
 * Checks a V2 signature, comparing in constant time. The header may list several
 * signatures separated by commas, and any one may match. Returns false, without throwing,
 * for a missing, empty, malformed or wrong signature or nonce.
 */
export function verifyPlivoSignatureV2(input: VerifyPlivoSignatureV2Input): boolean {
  const { authToken, url, nonce, signature } = input;

  if (!authToken || !nonce || !signature) {
    return false;
  }

  return matchesAny(computePlivoSignatureV2(authToken, url, nonce), signature);
}

/** Input of {@link verifyPlivoSignatureV3}. */
export interface VerifyPlivoSignatureV3Input extends Omit<PlivoSignatureV3Request, "nonce"> {
  authToken: string;
  /** The `X-Plivo-Signature-V3-Nonce` header value. */
  nonce: string | null | undefined;
  /** The `X-Plivo-Signature-V3` (or `-Ma-V3`) header value. */
  signature: string | null | undefined;
}

/**
 * Checks a V3 signature, comparing in constant time. The header may list several
 * signatures separated by commas, and any one may match. Returns false, without throwing,
 * for a missing, empty, malformed or wrong signature or nonce, and for a URL whose query
 * cannot be decoded (Plivo cannot have signed its parameters).
 */
export function verifyPlivoSignatureV3(input: VerifyPlivoSignatureV3Input): boolean {
  const { authToken, nonce, signature } = input;

  if (!authToken || !nonce || !signature) {
    return false;
  }

  let expected: string;

  try {
    expected = computePlivoSignatureV3(authToken, { ...input, nonce });
  } catch {
    return false;
  }

  return matchesAny(expected, signature);
}

// Step 5 of V3: the header may hold several comma-separated signatures, and any one may
// match. A V2 header is read the same way, because base64 never contains a comma.
function matchesAny(expected: string, header: string): boolean {
  const candidates = header
    .split(",")
    .map((candidate) => candidate.trim())
    .filter((candidate) => candidate !== "");
  let matched = false;

  // Every candidate is compared, so the time taken does not show which one matched.
  for (const candidate of candidates) {
    matched = constantTimeEqual(expected, candidate) || matched;
  }

  return matched;
}

function hmacBase64(algorithm: "sha1" | "sha256", key: string, data: string): string {
  return createHmac(algorithm, key).update(data, "utf8").digest("base64");
}

function constantTimeEqual(expected: string, actual: string): boolean {
  const expectedBytes = Buffer.from(expected, "utf8");
  const actualBytes = Buffer.from(actual, "utf8");

  // Only the length can leak here, and the length of a valid value is public.
  if (expectedBytes.length !== actualBytes.length) {
    return false;
  }

  return timingSafeEqual(expectedBytes, actualBytes);
}
