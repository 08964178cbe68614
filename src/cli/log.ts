/**
 * The pino logger of the CLI and its server: JSON lines on stdout, with phone numbers
 * masked and secrets, signatures and message bodies replaced by `[redacted]`.
 */

import pino from "pino";
import { maskPhoneNumbers } from "../errors.js";
import { setOwnProperty } from "../own-property.js";

/** Destination of log lines: anything with `write(text)`, such as `process.stdout`. */
export interface LogDestination {
  write(text: string): unknown;
}

/** A log destination that keeps lines back until the end of the event-loop turn. */
export interface BufferedLogDestination extends LogDestination {
  /** Writes every kept line to the destination now, in one write. */
  flush(): void;
}

/** Maximum characters kept back; reaching it writes the lines at once. */
const maxBufferedChars = 64 * 1024;

/**
 * Collects the lines written during one event-loop turn and writes them to `destination` in
 * one write at the end of the turn, or at once when they reach 64 KiB. A server under load
 * logs a line per request, and one write per line costs a system call each. The lines keep
 * their order. Call `flush()` before the process exits, so that none are lost.
 */
export function bufferLogLines(destination: LogDestination): BufferedLogDestination {
  let lines: string[] = [];
  let size = 0;
  let scheduled: NodeJS.Immediate | undefined;

  const flush = (): void => {
    if (scheduled !== undefined) {
      clearImmediate(scheduled);
      scheduled = undefined;
    }

    if (lines.length === 0) {
      return;
    }

    const text = lines.length === 1 ? (lines[0] as string) : lines.join("");
    lines = [];
    size = 0;
    destination.write(text);
  };

  return {
    write(text: string): void {
      lines.push(text);
      size += text.length;

      if (size >= maxBufferedChars) {
        flush();
        return;
      }

      scheduled ??= setImmediate(flush);
    },
    flush,
  };
}

/** Options of {@link createLogger}. */
export interface CreateLoggerOptions {
  /** @default process.stdout */
  destination?: LogDestination | undefined;
  /** Minimum level written. @default "info" */
  level?: pino.LevelWithSilent | undefined;
}

export { maskPhoneNumbers };

// Keys whose values are never written: `authToken`, `forwardSecret`, `x-twilio-signature`,
// `authorization`, a request or message `body`, the `rawPacket` (request bytes) of an error
// from Node's HTTP parser, and similar.
const secretKey =
  /(?:token|secret|secrets|password|signature)$|^(?:authorization|cookie|set-cookie|body|rawbody|rawpacket)$/i;

// Keys whose strings are written unmasked: the paths of files the operator configured, such
// as `storePath`, `loopbackFile` and `leftoverFiles`, whose digits are no phone number.
const pathKey = /^[a-z]+(?:Path|File|Files)$/;

const maxDepth = 8;

/**
 * Checks whether the string under a key is written as it is: a configured file path, or the
 * request id under `req`, which the response sends back in `X-Request-Id` and a log line must
 * match.
 */
function isVerbatim(key: string, item: unknown, inRequest: boolean): boolean {
  if (typeof item === "string") {
    return (inRequest && key === "id") || pathKey.test(key);
  }

  return Array.isArray(item) && pathKey.test(key) && item.every((path) => typeof path === "string");
}

/** Copies a log object with secret keys censored and phone numbers masked in strings. */
function scrub(value: unknown, depth = 0, inRequest = false): unknown {
  if (typeof value === "string") {
    return maskPhoneNumbers(value);
  }

  // Numbers, booleans and the other primitives are written as they are.
  if (typeof value !== "object" || value === null) {
    return value;
  }

  if (value instanceof Error) {
    return scrubError(value);
  }

  // Raw bytes can hold a whole request, headers and body, so only their size is written.
  if (ArrayBuffer.isView(value)) {
    return `[${value.byteLength} bytes]`;
  }

  if (value instanceof Date) {
    return value;
  }

  if (depth >= maxDepth) {
    return "[truncated]";
  }

  if (Array.isArray(value)) {
    return value.map((item) => scrub(item, depth + 1));
  }

  // A spread copies the object several times faster than adding its keys one by one, and
  // most values stay as they are.
  const copy: Record<string, unknown> = { ...value };
  for (const key of Object.keys(copy)) {
    const item = copy[key];

    if (isVerbatim(key, item, inRequest)) {
      continue;
    }

    const scrubbed = isSecretKey(key) ? "[redacted]" : scrub(item, depth + 1, key === "req");

    if (scrubbed !== item) {
      setOwnProperty(copy, key, scrubbed);
    }
  }

  return copy;
}

// Most lines repeat a few keys, so each key is tested against the pattern once. The cache
// is bounded, because a logged object could carry keys from a request.
const secretKeyCache = new Map<string, boolean>();
const maxCachedKeys = 1000;

/** Checks whether the value under a key is never written, such as `authToken` or `body`. */
export function isSecretKey(key: string): boolean {
  const cached = secretKeyCache.get(key);
  if (cached !== undefined) {
    return cached;
  }

  const secret = secretKey.test(key);
  if (secretKeyCache.size < maxCachedKeys) {
    secretKeyCache.set(key, secret);
  }

  return secret;
}

/**
 * Serializes an error with pino's standard serializer, then scrubs the result. The message
 * is rebuilt by {@link messageWithCauses}.
 */
function scrubError(error: unknown): unknown {
  if (!(error instanceof Error)) {
    return scrub(error);
  }

  return scrub({ ...pino.stdSerializers.err(error), message: messageWithCauses(error) });
}

/** Maximum causes followed from one error, so that a cycle or a long chain ends. */
const maxCauses = 8;

/**
 * Joins the message of an error and those of its causes with `: `, as pino's serializer
 * does, but leaves out a cause's message that the text already contains. Errors such as
 * `WebhookParseError` quote the message of their cause, which pino would write twice.
 */
function messageWithCauses(error: Error): string {
  let message = error.message;
  let cause = error.cause;
  const seen = new Set<unknown>([error]);

  while (isErrorLike(cause) && !seen.has(cause) && seen.size <= maxCauses) {
    seen.add(cause);

    if (cause.message !== "" && !message.includes(cause.message)) {
      message = message === "" ? cause.message : `${message}: ${cause.message}`;
    }

    cause = (cause as { cause?: unknown }).cause;
  }

  return message;
}

/** Checks for what pino's serializer treats as an error: an object with a string message. */
function isErrorLike(value: unknown): value is { message: string } {
  return (
    typeof value === "object" &&
    value !== null &&
    typeof (value as { message?: unknown }).message === "string"
  );
}

let lastTime = { ms: Number.NaN, field: "" };

// The `time` field as pino's isoTime writes it. A server under load writes several lines in
// one millisecond, so the formatted field is kept for the millisecond it was made in.
function isoTime(): string {
  const ms = Date.now();

  if (ms !== lastTime.ms) {
    lastTime = { ms, field: `,"time":"${new Date(ms).toISOString()}"` };
  }

  return lastTime.field;
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
      timestamp: isoTime,
      serializers: { err: scrubError, error: scrubError },
      formatters: {
        log: (object) => scrub(object) as Record<string, unknown>,
      },
      hooks: {
        logMethod(args, method) {
          // pino passes a new array on every call, so it is masked in place.
          for (let index = 0; index < args.length; index += 1) {
            const arg = args[index];
            if (typeof arg === "string") {
              args[index] = maskPhoneNumbers(arg);
            }
          }

          method.apply(this, args);
        },
      },
    },
    { write: (text: string) => destination.write(text) },
  );
}
