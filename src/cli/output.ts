/**
 * Printing for the CLI commands: human-readable lines or JSON, and the exit codes every
 * command shares.
 */

/** Somewhere text can be written, such as `process.stdout` or a buffer in a test. */
export interface TextSink {
  write(text: string): unknown;
}

/** The output streams a command writes to. Commands never touch `process` directly. */
export interface CliIo {
  stdout: TextSink;
  stderr: TextSink;
  /** Environment the configuration reads; `process.env` when absent. */
  env?: Record<string, string | undefined> | undefined;
}

/** Exit codes of every command. Scripts may rely on them. */
export const ExitCode = {
  /** The command did what was asked. */
  ok: 0,
  /** Anything else failed, such as the store being unavailable. */
  failure: 1,
  /** Invalid usage or configuration, including an invalid phone number. */
  usage: 2,
  /** The recipient has opted out, so the message was not sent. */
  optedOut: 3,
  /** The provider rejected the message for a reason other than an opt-out. */
  rejected: 4,
  /** `optout import` imported the valid lines of a file but skipped invalid ones. */
  skippedLines: 5,
} as const;

/** One of the values of {@link ExitCode}. */
export type ExitCodeValue = (typeof ExitCode)[keyof typeof ExitCode];

/** Raised for invalid command-line usage; the CLI prints the message and exits 2. */
export class UsageError extends Error {
  /** The command whose usage text should be pointed to, such as `optout add`. */
  readonly command: string | undefined;

  constructor(message: string, command?: string) {
    super(message);
    this.name = "UsageError";
    this.command = command;
  }
}

// C0 controls but tab and line feed, DEL, and C1 controls. ESC starts the terminal's escape
// sequences (colors, cursor moves, window titles), and a C1 CSI does the same on some.
// biome-ignore lint/suspicious/noControlCharactersInRegex: matching them is the purpose
const TERMINAL_CONTROLS = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f]/g;

/**
 * Escapes the control characters of text for a terminal, as `\u001b`, leaving tab and line
 * feed. Lines can carry text from elsewhere, such as a provider's error message or a reply,
 * and a raw escape sequence would act on the terminal instead of being shown.
 */
export function escapeTerminalControls(text: string): string {
  return text.replace(TERMINAL_CONTROLS, (character) => {
    return `\\u${character.charCodeAt(0).toString(16).padStart(4, "0")}`;
  });
}

/** Writes one line to a sink, with its control characters escaped. */
export function writeLine(sink: TextSink, text = ""): void {
  sink.write(`${escapeTerminalControls(text)}\n`);
}

/** A sink with the backpressure signal of a Node.js writable stream. */
interface DrainableSink extends TextSink {
  readonly destroyed?: boolean;
  readonly writableNeedDrain?: boolean;
  once(event: "drain" | "close", listener: () => void): unknown;
  removeListener(event: "drain" | "close", listener: () => void): unknown;
}

function isDrainable(sink: TextSink): sink is DrainableSink {
  const candidate = sink as Partial<DrainableSink>;

  return typeof candidate.once === "function" && typeof candidate.removeListener === "function";
}

/**
 * Writes one line as it is and, when the sink is a stream whose buffer is full, waits until
 * it drains (or closes), so that streaming a long output does not buffer all of it. Its
 * control characters are kept, because it writes data such as CSV, whose notes must come
 * back unchanged from an import; text for people goes through {@link writeLine}.
 */
export async function writeLineDrained(sink: TextSink, text: string): Promise<void> {
  const accepted = sink.write(`${text}\n`);

  if (accepted !== false || !isDrainable(sink)) {
    return;
  }

  // A write can also be refused because it failed, or because the stream is destroyed and
  // has emitted `close` already. No `drain` follows then, so waiting would never end.
  if (sink.writableNeedDrain === false || sink.destroyed === true) {
    return;
  }

  // Whichever event comes first removes the other listener, so that a long stream of
  // waits does not pile up `close` listeners on the sink.
  await new Promise<void>((resolve) => {
    const done = () => {
      sink.removeListener("drain", done);
      sink.removeListener("close", done);
      resolve();
    };

    sink.once("drain", done);
    sink.once("close", done);
  });
}

/** Writes a value as one line of JSON, with dates as ISO 8601 strings. */
export function writeJson(sink: TextSink, value: unknown): void {
  writeLine(sink, JSON.stringify(value));
}

/** Writes an error message to stderr, prefixed with the program name. */
export function writeError(io: CliIo, message: string): void {
  writeLine(io.stderr, `smsgate: ${message}`);
}

/** A sink that reports a failed write with an `error` event, as Node.js streams do. */
export interface ErrorEmittingSink extends TextSink {
  on(event: "error", listener: (error: Error) => void): unknown;
}

/** The stdout and stderr of the process, or streams that stand in for them in a test. */
export interface ProcessStreams {
  stdout: ErrorEmittingSink;
  stderr: ErrorEmittingSink;
}

/**
 * Keeps a failed write to stdout from crashing the process with exit code 1 after the
 * command acted, such as ENOSPC on a full disk, EIO, or EPIPE from a reader that stopped
 * early. A caller that retries on exit code 1 would repeat a send. The command runs on
 * with its output dropped. A command whose output is its result, such as `optout export`,
 * then exits 1 (see the caller), and any other keeps its own exit code. The first error is named on
 * stderr, except EPIPE, because a reader such as `head` closes the pipe on purpose.
 * Errors of stderr itself are ignored, because nothing is left to report them on.
 */
export function reportOutputErrors(
  streams: ProcessStreams,
  outputIsTheResult: boolean,
): OutputFailure {
  const failure: OutputFailure = { lost: false };

  streams.stderr.on("error", () => {});
  streams.stdout.on("error", (error) => {
    if (failure.lost || (error as NodeJS.ErrnoException).code === "EPIPE") {
      return;
    }

    failure.lost = true;
    writeLine(
      streams.stderr,
      outputIsTheResult
        ? `smsgate: writing to stdout failed (${errorMessage(error)}); the output is ` +
            "incomplete, so the command exits 1"
        : `smsgate: writing to stdout failed (${errorMessage(error)}); the exit code still ` +
            "reports the command's result",
    );
  });

  return failure;
}

/**
 * Whether a write to stdout failed for another reason than a reader that closed the pipe,
 * so that output was lost.
 */
export interface OutputFailure {
  lost: boolean;
}

/**
 * Formats rows as columns separated by two spaces, each as wide as its widest cell.
 * The last column is not padded.
 */
export function formatTable(rows: readonly (readonly string[])[]): string[] {
  const widths: number[] = [];
  for (const row of rows) {
    row.forEach((cell, index) => {
      widths[index] = Math.max(widths[index] ?? 0, cell.length);
    });
  }

  return rows.map((row) =>
    row
      .map((cell, index) => (index === row.length - 1 ? cell : cell.padEnd(widths[index] ?? 0)))
      .join("  ")
      .trimEnd(),
  );
}

/** Returns the message of an error, or the value as text when it is not an `Error`. */
export function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
