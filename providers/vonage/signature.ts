/**
 * The SMS API `sig`, following "Signing Messages" in Vonage's developer documentation
 * (https://developer.nexmo.com/cn/concepts/guides/signing-messages, written in English).
 * The step numbers in the comments are the steps of its manual signing procedure.
 * Inbound SMS, delivery receipts and signed sends all use it, with the account's
 * signature secret as the key.
 */

import { createHash, createHmac, timingSafeEqual } from "node:crypto";
import { WebhookVerificationError } from "../../src/errors.js";

/** Signature methods of the SMS API, as named in the dashboard. */
export const vonageSignatureMethods = ["md5hash", "md5", "sha1", "sha256", "sha512"] as const;

/**
 * One of {@link vonageSignatureMethods}: `md5hash` is MD5 over the string followed by the
 * secret, the others are HMACs keyed with the secret.
 */
export type VonageSignatureMethod = (typeof vonageSignatureMethods)[number];

/** Parameters as names and values: an object, or pairs in any order. */
export type VonageSignatureParams =
  | Readonly<Record<string, string>>
  | ReadonlyArray<readonly [string, string]>;

/** Options of {@link buildVonageSignatureString}. */
export interface VonageSignatureStringOptions {
  /**
   * Leave out parameters whose value is empty or only whitespace, as Vonage's Java SDK
   * does. The documented algorithm keeps them.
   * @default false
   */
  skipBlankValues?: boolean | undefined;
}

/**
 * Builds the string that is hashed: `&name=value` for every parameter except `sig`,
 * sorted by name, with `&` and `=` inside each value replaced by `_`.
 *
 * @example buildVonageSignatureString({ text: "a&b", to: "1" }) // "&text=a_b&to=1"
 */
export function buildVonageSignatureString(
  params: VonageSignatureParams,
  options: VonageSignatureStringOptions = {},
): string {
  // Step 1: take every parameter except `sig` itself.
  const pairs = toPairs(params).filter(([name, value]) => {
    return name !== "sig" && !(options.skipBlankValues && value.trim() === "");
  });

  // Step 2: sort by name in byte order, so `message-timestamp` comes before `messageId`.
  pairs.sort(([left], [right]) => Buffer.compare(Buffer.from(left), Buffer.from(right)));

  // Steps 3 and 4: replace `&` and `=` inside each value with `_`, then join as
  // `&name=value` pairs with a leading `&`. The separators themselves stay.
  return pairs.map(([name, value]) => `&${name}=${value.replace(/[&=]/g, "_")}`).join("");
}

/**
 * Computes the `sig` of a set of parameters, in lower-case hexadecimal.
 *
 * @example computeVonageSignature(params, "my_secret_key_for_testing", "md5hash")
 */
export function computeVonageSignature(
  params: VonageSignatureParams,
  secret: string,
  method: VonageSignatureMethod = "md5hash",
  options: VonageSignatureStringOptions = {},
): string {
  const data = buildVonageSignatureString(params, options);

  // Step 5: `md5hash` appends the secret and takes MD5, and the other methods are HMACs.
  if (method === "md5hash") {
    return createHash("md5")
      .update(data + secret, "utf8")
      .digest("hex");
  }

  return createHmac(method, secret).update(data, "utf8").digest("hex");
}

/** Input of {@link verifyVonageSignature}. */
export interface VerifyVonageSignatureInput {
  /**
   * The webhook's fields as received: form or query pairs, or a JSON object. Anything
   * that is not a flat set of string values was not signed with `sig`.
   */
  params: unknown;
  /** The account's signature secret. */
  secret: string;
  /** @default "md5hash" */
  method?: VonageSignatureMethod | undefined;
  /**
   * Largest accepted difference between `timestamp` and `now`, in seconds.
   * @default 300
   */
  toleranceSeconds?: number | undefined;
  /** Current time in milliseconds since the epoch. @default Date.now() */
  now?: number | undefined;
}

const HEX = /^[0-9a-fA-F]+$/;
const UNIX_SECONDS = /^\d{1,12}$/;

/**
 * Checks the `sig` of a signed SMS API webhook, then its `timestamp`. The signature is
 * compared as hexadecimal without regard to case (PHP servers send upper case), in
 * constant time.
 *
 * @throws {WebhookVerificationError} `missing-signature` without `sig`, and
 * `invalid-signature` for a wrong signature or for fields that are not a flat set of
 * unique string values, such as a Messages API JSON body or a repeated form field.
 * `stale-timestamp` when `timestamp` is absent or outside the window.
 */
export function verifyVonageSignature(input: VerifyVonageSignatureInput): void {
  const { params, problem } = readSignedParams(input.params);
  const signature = params.get("sig");

  if (signature === undefined || signature.trim() === "") {
    throw new WebhookVerificationError(
      "missing-signature",
      "Vonage webhook has no sig field. Turn on signed webhooks for the account, " +
        "or verify it with the Messages API JWT if it came from the Messages API",
    );
  }

  if (problem !== undefined) {
    throw new WebhookVerificationError(
      "invalid-signature",
      `Vonage webhook is not signed with the SMS API sig, because ${problem}. ` +
        "A Messages API webhook is verified by its Authorization: Bearer JWT",
    );
  }

  const method = input.method ?? "md5hash";
  const expected = computeVonageSignature([...params], input.secret, method);

  if (!hexEqual(expected, signature.trim())) {
    throw new WebhookVerificationError(
      "invalid-signature",
      `Vonage sig does not match the fields with signature method ${method}. Check that ` +
        "the signature secret and method match the dashboard's API settings",
    );
  }

  checkTimestamp(params.get("timestamp"), input);
}

interface SignedParams {
  /** The string-valued fields, each name once. */
  params: Map<string, string>;
  /** Reason the fields cannot be an SMS API signed payload, when there is one. */
  problem: string | undefined;
}

/**
 * Reads the fields of a webhook as unique string values. Vonage signs only flat fields,
 * so a nested value or a repeated name means this is not an SMS API signed payload.
 */
function readSignedParams(value: unknown): SignedParams {
  const params = new Map<string, string>();
  let problem: string | undefined;

  if (typeof value !== "object" || value === null) {
    return { params, problem: "it is not a set of fields" };
  }

  const entries: unknown[] = Array.isArray(value) ? value : Object.entries(value);

  for (const entry of entries) {
    const read = readEntry(entry);

    if (typeof read === "string") {
      problem ??= read;
    } else if (params.has(read[0])) {
      problem ??= `it repeats the field ${JSON.stringify(read[0])}`;
    } else {
      params.set(read[0], read[1]);
    }
  }

  return { params, problem };
}

/** Returns the entry as a name and a string value, or the reason it is not one. */
function readEntry(entry: unknown): [string, string] | string {
  if (!Array.isArray(entry) || entry.length !== 2 || typeof entry[0] !== "string") {
    return "it is not a set of named fields";
  }

  const [name, value] = entry as [string, unknown];

  if (typeof value !== "string") {
    const kind = value === null ? "null" : Array.isArray(value) ? "an array" : typeof value;

    return `the field ${JSON.stringify(name)} is ${kind}, not a string`;
  }

  return [name, value];
}

function checkTimestamp(value: string | undefined, input: VerifyVonageSignatureInput): void {
  if (value === undefined || !UNIX_SECONDS.test(value)) {
    throw new WebhookVerificationError(
      "stale-timestamp",
      "Vonage signed webhook has no valid timestamp (Unix seconds), " +
        "so it cannot be checked for replay",
    );
  }

  const toleranceSeconds = input.toleranceSeconds ?? 300;
  const nowSeconds = Math.floor((input.now ?? Date.now()) / 1000);
  const skew = Math.abs(nowSeconds - Number(value));

  if (skew > toleranceSeconds) {
    throw new WebhookVerificationError(
      "stale-timestamp",
      `Vonage webhook timestamp ${value} is ${skew} seconds from now, more than the ` +
        `${toleranceSeconds} seconds allowed. Check the server clock if this repeats`,
    );
  }
}

/** Compares two hexadecimal strings without regard to case, in constant time. */
export function hexEqual(expected: string, actual: string): boolean {
  if (!HEX.test(actual) || expected.length !== actual.length) {
    return false;
  }

  // Both are ASCII hex of equal length here, so only the length can leak, and the
  // length of a valid signature is public.
  return timingSafeEqual(
    Buffer.from(expected.toLowerCase(), "ascii"),
    Buffer.from(actual.toLowerCase(), "ascii"),
  );
}

function toPairs(params: VonageSignatureParams): Array<[string, string]> {
  if (Array.isArray(params)) {
    return params.map(([name, value]) => [name, value]);
  }

  return Object.entries(params as Readonly<Record<string, string>>);
}
