import type { Dispatcher } from "undici";
import type { z } from "zod";
import { ConfigError } from "./errors.js";

/**
 * Validates a provider module's options with its zod schema. Throws a `ConfigError` whose
 * path starts with `configPath` (`providers.twilio` from a configuration file, or the
 * provider's name) and names the first invalid option.
 */
export function parseProviderOptions<Schema extends z.ZodType>(
  schema: Schema,
  options: unknown,
  configPath: string,
  label: string,
): z.output<Schema> {
  const parsed = schema.safeParse(options);

  if (parsed.success) {
    return parsed.data;
  }

  const issue = parsed.error.issues[0];
  const path = [configPath, ...(issue?.path ?? []).map(String)].filter(Boolean).join(".");

  throw new ConfigError(path, issue?.message ?? `invalid ${label} options`);
}

/** Checks that a value is an http or https base URL without query or fragment. */
export function isHttpBaseUrl(value: string): boolean {
  if (!URL.canParse(value)) {
    return false;
  }

  const url = new URL(value);
  const httpScheme = url.protocol === "http:" || url.protocol === "https:";

  return httpScheme && !/[?#]/.test(value);
}

/** Checks that a value can serve as an undici dispatcher (a Pool, Agent or MockAgent). */
export function isDispatcher(value: unknown): value is Dispatcher {
  return (
    typeof value === "object" &&
    value !== null &&
    typeof (value as Dispatcher).dispatch === "function" &&
    typeof (value as Dispatcher).close === "function"
  );
}
