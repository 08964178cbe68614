/**
 * Messages of the configuration file's type and value errors. They name the expected type
 * or values and the value received, but only the type of a secret's value.
 *
 * @module
 */

import type { z } from "zod";
import { quoteValue } from "./config-fields.js";
import { isSecretKey } from "./log.js";

type PathSegment = string | number | symbol;

// Option names whose values are secrets, beyond those the logger redacts: `privateKey`,
// `pseudonymKey`, `apiKey`.
const secretOptionName = /key$/i;

/** Checks whether an option path leads to a secret, such as `providers.twilio.authToken`. */
export function isSecretPath(path: readonly PathSegment[]): boolean {
  return path.some(
    (segment) =>
      typeof segment === "string" && (isSecretKey(segment) || secretOptionName.test(segment)),
  );
}

/** Names a JSON value's type with an article, as in "received an array". */
function describeType(value: unknown): string {
  if (value === null) {
    return "null";
  }

  if (value === undefined) {
    return "no value";
  }

  if (Array.isArray(value)) {
    return "an array";
  }

  return typeof value === "object" ? "an object" : `a ${typeof value}`;
}

/**
 * Describes a received value: `the string "8787"`, `the number 5`, `true`, `null`,
 * `an array`. Under a secret path only the type is named, such as `a string`.
 */
export function describeReceived(value: unknown, secret: boolean): string {
  if (secret) {
    return describeType(value);
  }

  if (typeof value === "string") {
    return `the string ${quoteValue(value)}`;
  }

  if (typeof value === "number") {
    return `the number ${value}`;
  }

  return typeof value === "boolean" ? String(value) : describeType(value);
}

/**
 * Describes a received value that a message names as it is: a string is only quoted,
 * such as `"mongo"`, and other values read as in {@link describeReceived}.
 */
export function describeReceivedValue(value: unknown, secret = false): string {
  return typeof value === "string" && !secret ? quoteValue(value) : describeReceived(value, secret);
}

const expectedTypes: Readonly<Record<string, string>> = {
  array: "an array",
  boolean: "true or false",
  int: "a whole number",
  number: "a number",
  object: "an object",
  record: "an object",
  string: "a string",
};

function describeExpected(expected: string): string {
  return expectedTypes[expected] ?? `a ${expected}`;
}

/** Lists allowed values as JSON: `"sqlite", "memory", "postgres"`. */
function listValues(values: readonly unknown[]): string {
  return values.map((value) => JSON.stringify(value)).join(", ");
}

/** Describes a value that is not one of `values`, or that is missing. */
function describeAllowedValues(
  values: readonly unknown[],
  input: unknown,
  secret: boolean,
): string {
  const allowed = values.length === 1 ? listValues(values) : `one of ${listValues(values)}`;
  if (input === undefined) {
    return `is required; set it to ${allowed}`;
  }

  return `must be ${allowed} (received ${describeReceivedValue(input, secret)})`;
}

/** Reads the discriminator of a union member that matched no option, such as `store.type`. */
function discriminatorValue(input: unknown, discriminator: string): unknown {
  if (typeof input !== "object" || input === null || Array.isArray(input)) {
    return input;
  }

  return (input as Record<string, unknown>)[discriminator];
}

/**
 * The error function that the configuration file is parsed with. It rewrites zod's type,
 * value and discriminator messages, such as `must be a number (received the string
 * "8787")`, and returns undefined for every other issue, so zod's own message or the
 * schema's `error` option applies.
 */
export function configErrorMessage(issue: z.core.$ZodRawIssue): string | undefined {
  const secret = isSecretPath(issue.path ?? []);

  if (issue.code === "invalid_type") {
    const expected = describeExpected(issue.expected);
    if (issue.input === undefined) {
      return `is required; set it to ${expected}`;
    }

    return `must be ${expected} (received ${describeReceived(issue.input, secret)})`;
  }

  if (issue.code === "invalid_value") {
    return describeAllowedValues(issue.values, issue.input, secret);
  }

  // A discriminated union that matched no member lists the discriminator's values.
  const options: unknown = issue.code === "invalid_union" ? issue.options : undefined;
  if (
    issue.code === "invalid_union" &&
    issue.discriminator !== undefined &&
    Array.isArray(options)
  ) {
    const received = discriminatorValue(issue.input, issue.discriminator);
    return describeAllowedValues(options, received, secret);
  }

  return undefined;
}
