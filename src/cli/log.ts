/**
 * The pino logger of the CLI and its server: JSON lines on stdout, with phone numbers
 * masked and secrets, signatures and message bodies replaced by `[redacted]`.
 */

import pino from "pino";
import { redactPhone } from "../errors.js";

/** Destination of log lines: anything with `write(text)`, such as `process.stdout`. */
export interface LogDestination {
  write(text: string): unknown;
}

/** Options of {@link createLogger}. */
export interface CreateLoggerOptions {
  /** @default process.stdout */
  destination?: LogDestination | undefined;
  /** Minimum level written. @default "info" */
  level?: pino.LevelWithSilent | undefined;
}

// E.164 numbers, also percent-encoded as they appear in form bodies and query strings.
const phonePattern = /(\+|%2B)([1-9]\d{6,14})(?!\d)/gi;

/** Masks every E.164 number in a text, keeping `+1***0143` as {@link redactPhone} does. */
export function maskPhoneNumbers(text: string): string {
  // Every match starts with `+` or `%`, and most logged strings contain neither.
  if (!text.includes("+") && !text.includes("%")) {
    return text;
  }

  return text.replace(phonePattern, (_match, plus: string, digits: string) => {
    return plus + redactPhone(`+${digits}`).slice(1);
  });
}

// Keys whose values are never written: `authToken`, `forwardSecret`, `x-twilio-signature`,
// `authorization`, a request or message `body`, the `rawPacket` (request bytes) of an error
// from Node's HTTP parser, and similar.
const secretKey =
  /(?:token|secret|secrets|password|signature)$|^(?:authorization|cookie|set-cookie|body|rawbody|rawpacket)$/i;

const maxDepth = 8;

/** Copies a log object with secret keys censored and phone numbers masked in strings. */
function scrub(value: unknown, depth = 0): unknown {
  if (typeof value === "string") {
    return maskPhoneNumbers(value);
  }

  if (value instanceof Error) {
    return scrubError(value);
  }

  // Raw bytes can hold a whole request, headers and body, so only their size is written.
  if (ArrayBuffer.isView(value)) {
    return `[${value.byteLength} bytes]`;
  }

  if (typeof value !== "object" || value === null || value instanceof Date) {
    return value;
  }

  if (depth >= maxDepth) {
    return "[truncated]";
  }

  if (Array.isArray(value)) {
    return value.map((item) => scrub(item, depth + 1));
  }

  const copy: Record<string, unknown> = {};
  for (const [key, item] of Object.entries(value)) {
    copy[key] = secretKey.test(key) ? "[redacted]" : scrub(item, depth + 1);
  }

  return copy;
}

/** Serializes an error with pino's standard serializer, then scrubs the result. */
function scrubError(error: unknown): unknown {
  if (!(error instanceof Error)) {
    return scrub(error);
  }

  return scrub({ ...pino.stdSerializers.err(error) });
}

/**
 * Creates the CLI's pino logger. Every string in a log object or message has its phone
 * numbers masked. Keys that end in `token`, `secret`, `password` or `signature`, and
 * `authorization`, `cookie`, `body` and `rawPacket` keys, are censored at any depth up to
 * eight levels. Byte arrays are written as their size only.
 */
export function createLogger(options: CreateLoggerOptions = {}): pino.Logger {
  const destination = options.destination ?? process.stdout;

  return pino(
    {
      level: options.level ?? "info",
      timestamp: pino.stdTimeFunctions.isoTime,
      serializers: { err: scrubError, error: scrubError },
      formatters: {
        log: (object) => scrub(object) as Record<string, unknown>,
      },
      hooks: {
        logMethod(args, method) {
          const masked = args.map((arg) => (typeof arg === "string" ? maskPhoneNumbers(arg) : arg));
          method.apply(this, masked as Parameters<typeof method>);
        },
      },
    },
    { write: (text: string) => destination.write(text) },
  );
}
