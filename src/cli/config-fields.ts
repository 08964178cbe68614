/**
 * Field schemas that several sections of the configuration file share.
 *
 * @module
 */

import { isIP } from "node:net";
import { z } from "zod";

/** Maximum characters of a string value that a message quotes; longer values are cut. */
const maxQuotedChars = 40;

// The user and password of a URL such as `postgres://user:pass@db/app`, up to the last `@`
// before the path, so a password that contains a raw `@` is masked whole.
const urlUserInfo = /^([a-z][a-z0-9+.-]*:\/\/)[^/?#]*@/i;

/**
 * Quotes a string value for a message as JSON. The user and password of a URL are
 * replaced by `***`, and a value longer than 40 characters is cut, with its length added.
 */
export function quoteValue(value: string): string {
  const masked = value.replace(urlUserInfo, "$1***@");
  const characters = Array.from(masked);
  if (characters.length <= maxQuotedChars) {
    return JSON.stringify(masked);
  }

  const start = JSON.stringify(characters.slice(0, maxQuotedChars).join(""));
  return `${start.slice(0, -1)}..." (${characters.length} characters)`;
}

/** Checks an http or https URL, returning a reason when it is not one. */
export function httpUrlProblem(value: string): string | undefined {
  if (!/^https?:\/\//i.test(value)) {
    return `${quoteValue(value)} is not an http:// or https:// URL`;
  }

  if (!URL.canParse(value) || new URL(value).hostname === "") {
    return `${quoteValue(value)} is not a valid URL`;
  }

  return undefined;
}

/** An http:// or https:// URL with a host. */
export const httpUrl = z.string().superRefine((value, ctx) => {
  const problem = httpUrlProblem(value);
  if (problem) {
    ctx.addIssue({ code: "custom", message: problem });
  }
});

/** The error of a `.min(1)` check on a string. */
export const notEmpty = { error: "must not be empty" };

/** A whole number greater than 0. */
export const positiveInt = z
  .number()
  .int({ error: "must be a whole number" })
  .positive({ error: "must be greater than 0" });

const listenHostExamples =
  "use an address of this machine, such as 127.0.0.1, ::1 or 0.0.0.0 for all IPv4 addresses, " +
  "or a host name such as localhost";

// A host name label as RFC 1123 allows it: letters, digits and inner hyphens, at most 63.
const hostLabel = /^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$/i;

/** Checks a host name such as `localhost` or `sms.internal`; a trailing dot is allowed. */
function isHostName(value: string): boolean {
  const name = value.endsWith(".") ? value.slice(0, -1) : value;
  const labels = name.split(".");

  // A last label of digits only would make the name look like an IPv4 address.
  const last = labels.at(-1) ?? "";
  return (
    name.length <= 253 && labels.every((label) => hostLabel.test(label)) && !/^\d+$/.test(last)
  );
}

/**
 * Checks the address that the server listens on, returning a reason when it is neither an
 * IPv4 or IPv6 address nor a host name. Nothing is looked up.
 */
export function listenHostProblem(value: string): string | undefined {
  if (isIP(value) !== 0) {
    return undefined;
  }

  const quoted = quoteValue(value);
  if (value.startsWith("[") && value.endsWith("]") && isIP(value.slice(1, -1)) === 6) {
    return `${quoted} is in brackets; write the IPv6 address without them, such as ::1`;
  }

  if (value.includes("://")) {
    return `${quoted} is a URL; give only the address or host name, such as 127.0.0.1`;
  }

  if (/^[^:]+:\d+$/.test(value)) {
    return `${quoted} contains a port; set the port in listen.port instead`;
  }

  if (/^[\d.]+$/.test(value)) {
    return (
      `${quoted} is not a valid IPv4 address, which is four numbers from 0 to 255 ` +
      `separated by dots; ${listenHostExamples}`
    );
  }

  if (value.includes(":")) {
    return `${quoted} is not a valid IPv6 address; ${listenHostExamples}`;
  }

  if (!isHostName(value)) {
    return `${quoted} is not an IP address or a host name; ${listenHostExamples}`;
  }

  return undefined;
}

/** The address the server listens on: an IP address or a host name, never looked up here. */
export const listenHost = z
  .string()
  .min(1, notEmpty)
  .superRefine((value, ctx) => {
    const problem = value === "" ? undefined : listenHostProblem(value);
    if (problem) {
      ctx.addIssue({ code: "custom", message: problem });
    }
  });
