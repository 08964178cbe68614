/**
 * `X-Twilio-Signature`, following "Webhooks security" in Twilio's documentation
 * (https://www.twilio.com/docs/usage/webhooks/webhooks-security). The step numbers in the
 * comments are the steps of that algorithm.
 */

import {
  createHash,
  createHmac,
  createSecretKey,
  type KeyObject,
  timingSafeEqual,
} from "node:crypto";

/** Form parameters as received: repeated names and empty values included. */
export type TwilioSignatureParams = ReadonlyArray<readonly [string, string]>;

/**
 * Builds the string Twilio signs: the URL followed by every parameter name and value.
 *
 * @param url - The full URL Twilio requested, exactly as configured at Twilio.
 * @param params - The POST form parameters; none for GET and JSON webhooks.
 */
export function buildTwilioSignatureString(url: string, params: TwilioSignatureParams): string {
  // Step 1: start with the full URL: scheme, host, optional port, path and query.
  return url + signedParamsText(params);
}

// The part of the signed string after the URL, the same for every URL candidate.
function signedParamsText(params: TwilioSignatureParams): string {
  let text = "";

  // Step 2: append each parameter name followed by its value, names sorted by UTF-16 code
  // unit, with no separators. An empty value appends only the name.
  // Step 3: a repeated name appears once per distinct value, values de-duplicated and
  // sorted, as Twilio's own SDKs compute it.
  const groups = groupValues(params);

  // The default sort compares UTF-16 code units, which is the order Twilio signs in.
  for (const name of [...groups.keys()].sort()) {
    const values = groups.get(name) ?? "";

    if (typeof values === "string") {
      text += name + values;
      continue;
    }

    for (const value of [...values].sort()) {
      text += name + value;
    }
  }

  return text;
}

/**
 * Computes the `X-Twilio-Signature` of a request over
 * {@link buildTwilioSignatureString}.
 *
 * @returns The base64 HMAC-SHA1 (with `=` padding).
 */
export function computeTwilioSignature(
  authToken: string,
  url: string,
  params: TwilioSignatureParams,
): string {
  return signString(authToken, buildTwilioSignatureString(url, params));
}

function signString(authToken: string, data: string): string {
  // Step 4: HMAC-SHA1 keyed with the Auth Token over the UTF-8 string, then base64.
  return createHmac("sha1", secretKeyOf(authToken)).update(data, "utf8").digest("base64");
}

/** The key of the Auth Token last used. A server verifies with one or a few tokens. */
let lastKey: { authToken: string; key: KeyObject } | undefined;

// A `KeyObject` contains the key bytes, so an HMAC keyed with it skips encoding the token.
function secretKeyOf(authToken: string): KeyObject {
  if (lastKey?.authToken !== authToken) {
    lastKey = { authToken, key: createSecretKey(authToken, "utf8") };
  }

  return lastKey.key;
}

/**
 * Lists the URLs a signature may have been computed over, most likely first: the URL
 * exactly as given, then with the scheme's default port added (`:443`, `:80`), then with
 * any port removed. Twilio is not consistent about the default port, so every SDK of theirs
 * tries both. A URL that already has a port is kept as is in the second form.
 *
 * Only the authority is edited, by string operations, so userinfo, path and query keep their
 * exact bytes. A WHATWG `URL` would re-encode characters such as `'`.
 */
export function twilioSignatureUrlCandidates(url: string): string[] {
  const parts = splitAuthority(url);

  if (parts === undefined) {
    return [url];
  }

  const defaultPort = DEFAULT_PORTS[parts.scheme.toLowerCase()];
  const withoutPort = join(parts, undefined);
  const withPort =
    parts.port !== undefined || defaultPort === undefined ? url : join(parts, defaultPort);

  return [...new Set([url, withPort, withoutPort])];
}

/** Input of {@link verifyTwilioSignature}. */
export interface VerifyTwilioSignatureInput {
  authToken: string;
  /** The public URL Twilio requested, unchanged. */
  url: string;
  /** POST form parameters as received; none for GET. */
  params: TwilioSignatureParams;
  /** The `X-Twilio-Signature` header value. */
  signature: string | null | undefined;
}

/**
 * Checks an `X-Twilio-Signature` over the URL candidates of
 * {@link twilioSignatureUrlCandidates}, comparing in constant time. Returns false, without
 * throwing, for a missing, empty, malformed or wrong signature.
 */
export function verifyTwilioSignature(input: VerifyTwilioSignatureInput): boolean {
  const { authToken, url, params, signature } = input;

  if (!signature || !authToken) {
    return false;
  }

  const paramsText = signedParamsText(params);
  const matches = (candidate: string): boolean =>
    constantTimeEqual(signString(authToken, candidate + paramsText), signature);

  // The first candidate is the URL as given, which is the one that matches almost always,
  // so the other candidates are built only when it fails.
  return matches(url) || twilioSignatureUrlCandidates(url).slice(1).some(matches);
}

/** Input of {@link verifyTwilioJsonSignature}. */
export interface VerifyTwilioJsonSignatureInput {
  authToken: string;
  /** The public URL Twilio requested, with its `bodySHA256` query parameter. */
  url: string;
  /** The request body exactly as received. */
  rawBody: Uint8Array | string;
  /** The `X-Twilio-Signature` header value. */
  signature: string | null | undefined;
}

/**
 * Checks a webhook with a JSON body. Twilio signs only the URL, which carries
 * `bodySHA256=<hex SHA-256 of the body>` in its query, so both must hold: the signature
 * matches the URL with no parameters appended, and the body hashes to `bodySHA256`. Both
 * comparisons take constant time. Returns false when `bodySHA256` is missing or repeated.
 */
export function verifyTwilioJsonSignature(input: VerifyTwilioJsonSignatureInput): boolean {
  const { authToken, url, rawBody, signature } = input;
  const expectedHash = readBodyHash(url);

  if (
    expectedHash === undefined ||
    !verifyTwilioSignature({ authToken, url, params: [], signature })
  ) {
    return false;
  }

  const actualHash = createHash("sha256").update(rawBody).digest("hex");

  return constantTimeEqual(actualHash, expectedHash.toLowerCase());
}

const DEFAULT_PORTS: Readonly<Record<string, string>> = { https: "443", http: "80" };

interface UrlParts {
  scheme: string;
  /** Everything from the scheme up to and including `//` and any `userinfo@`. */
  prefix: string;
  host: string;
  port: string | undefined;
  /** Path, query and fragment, unchanged. */
  rest: string;
}

function splitAuthority(url: string): UrlParts | undefined {
  const match = /^([A-Za-z][A-Za-z0-9+.-]*):\/\//.exec(url);

  if (match === null) {
    return undefined;
  }

  const authorityStart = match[0].length;
  const restStart = findAuthorityEnd(url, authorityStart);
  const authority = url.slice(authorityStart, restStart);
  const at = authority.lastIndexOf("@");
  const hostPort = authority.slice(at + 1);
  const [host, port] = splitPort(hostPort);

  return {
    scheme: match[1] as string,
    prefix: url.slice(0, authorityStart + at + 1),
    host,
    port,
    rest: url.slice(restStart),
  };
}

function findAuthorityEnd(url: string, start: number): number {
  for (let index = start; index < url.length; index += 1) {
    const char = url[index];

    if (char === "/" || char === "?" || char === "#") {
      return index;
    }
  }

  return url.length;
}

// An IPv6 literal is bracketed (`[::1]:8080`), so only a colon after `]` starts a port.
function splitPort(hostPort: string): [string, string | undefined] {
  const colon = hostPort.lastIndexOf(":");

  if (colon === -1 || colon < hostPort.lastIndexOf("]")) {
    return [hostPort, undefined];
  }

  return [hostPort.slice(0, colon), hostPort.slice(colon + 1)];
}

function join(parts: UrlParts, port: string | undefined): string {
  const portText = port === undefined ? "" : `:${port}`;

  return `${parts.prefix}${parts.host}${portText}${parts.rest}`;
}

function groupValues(params: TwilioSignatureParams): Map<string, string | Set<string>> {
  // Most names occur once, so a set is made only for a name that repeats.
  const groups = new Map<string, string | Set<string>>();

  for (const [name, value] of params) {
    const values = groups.get(name);

    if (values === undefined) {
      groups.set(name, value);
    } else if (typeof values === "string") {
      groups.set(name, new Set([values, value]));
    } else {
      values.add(value);
    }
  }

  return groups;
}

function readBodyHash(url: string): string | undefined {
  const fragmentStart = url.indexOf("#");
  const beforeFragment = fragmentStart === -1 ? url : url.slice(0, fragmentStart);
  const queryStart = beforeFragment.indexOf("?");

  if (queryStart === -1) {
    return undefined;
  }

  const values = beforeFragment
    .slice(queryStart + 1)
    .split("&")
    .filter((pair) => pair.startsWith("bodySHA256="))
    .map((pair) => pair.slice("bodySHA256=".length));

  // A second `bodySHA256` could make the signed URL and the checked hash disagree.
  return values.length === 1 ? values[0] : undefined;
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
