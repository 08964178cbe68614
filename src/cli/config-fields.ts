/**
 * Field schemas that several sections of the configuration file share.
 *
 * @module
 */

import { z } from "zod";

/** Checks an http or https URL, returning a reason when it is not one. */
export function httpUrlProblem(value: string): string | undefined {
  if (!/^https?:\/\//i.test(value)) {
    return `${JSON.stringify(value)} is not an http:// or https:// URL`;
  }

  if (!URL.canParse(value) || new URL(value).hostname === "") {
    return `${JSON.stringify(value)} is not a valid URL`;
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
