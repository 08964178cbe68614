/**
 * The subset of pino's interface smsgate calls. Pass a pino logger, or anything with
 * these methods; the default discards every entry.
 */
export interface Logger {
  debug(object: Record<string, unknown>, message?: string): void;
  info(object: Record<string, unknown>, message?: string): void;
  warn(object: Record<string, unknown>, message?: string): void;
  error(object: Record<string, unknown>, message?: string): void;
}

const loggerMethods = ["debug", "info", "warn", "error"] as const;

/** Checks whether a value has the four methods of {@link Logger}. */
export function isLogger(value: unknown): value is Logger {
  if (typeof value !== "object" || value === null) {
    return false;
  }

  const candidate = value as Record<string, unknown>;
  return loggerMethods.every((method) => typeof candidate[method] === "function");
}

const ignore = (): void => {};

/** A logger that discards everything, used when none is given. */
export const silentLogger: Logger = {
  debug: ignore,
  info: ignore,
  warn: ignore,
  error: ignore,
};
