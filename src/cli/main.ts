/**
 * The `smsgate` command line: parses the command name and dispatches to the command.
 * Built to `dist/cli.js`, which runs the CLI when it is the program's entry point and
 * exports {@link runCli} for `bin/smsgate.js` and for tests.
 *
 * @module
 */
import { readFileSync, realpathSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { runOptout, writingSubcommands } from "./optout.js";
import {
  type CliIo,
  ExitCode,
  type ProcessStreams,
  reportOutputErrors,
  UsageError,
  writeError,
  writeLine,
} from "./output.js";
import { runSend } from "./send.js";
import { runServe } from "./serve.js";
import { runSimulate } from "./simulate.js";
import { usageText } from "./usage.js";

type Command = (argv: string[], io: CliIo) => Promise<number>;

const commands: Record<string, Command> = {
  serve: runServe,
  send: runSend,
  optout: runOptout,
  simulate: runSimulate,
};

/**
 * Runs the CLI with the arguments after the program name and resolves with the exit
 * code. Writes only to `io`.
 */
export async function runCli(argv: readonly string[], io: CliIo): Promise<number> {
  const [first, ...rest] = argv;

  if (first === undefined) {
    writeLine(io.stderr, usageText());

    return ExitCode.usage;
  }

  if (first === "-v" || first === "--version") {
    writeLine(io.stdout, readVersion());

    return ExitCode.ok;
  }

  if (first === "-h" || first === "--help" || first === "help") {
    return printHelp(rest, io);
  }

  const command = commands[first];

  if (command === undefined) {
    return reportUsageError(io, unknownCommandMessage(first));
  }

  if (rest.includes("-h") || rest.includes("--help")) {
    writeLine(io.stdout, usageText(first));

    return ExitCode.ok;
  }

  try {
    return await command(rest, io);
  } catch (error) {
    if (error instanceof UsageError) {
      return reportUsageError(io, error.message, error.command ?? first);
    }

    throw error;
  }
}

function printHelp(rest: readonly string[], io: CliIo): number {
  const topic = rest[0];
  const text = usageText(topic ?? "");

  if (text === undefined) {
    return reportUsageError(io, unknownCommandMessage(topic ?? ""));
  }

  writeLine(io.stdout, text);

  return ExitCode.ok;
}

function unknownCommandMessage(name: string): string {
  return name.startsWith("-")
    ? `unknown option ${name}; options go after the command name`
    : `unknown command ${JSON.stringify(name)}`;
}

function reportUsageError(io: CliIo, message: string, command?: string): number {
  const help = command ? `smsgate help ${command.split(" ")[0]}` : "smsgate help";

  writeError(io, message);
  writeLine(io.stderr, `Run "${help}" for usage.`);

  return ExitCode.usage;
}

/** Reads the version from the package.json of the installed package. */
export function readVersion(): string {
  let directory = dirname(fileURLToPath(import.meta.url));

  for (;;) {
    const version = packageVersion(join(directory, "package.json"));

    if (version !== undefined) {
      return version;
    }

    const parent = dirname(directory);

    if (parent === directory) {
      return "unknown";
    }

    directory = parent;
  }
}

function packageVersion(path: string): string | undefined {
  try {
    const manifest = JSON.parse(readFileSync(path, "utf8")) as {
      name?: unknown;
      version?: unknown;
    };

    return manifest.name === "smsgate" && typeof manifest.version === "string"
      ? manifest.version
      : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Runs the CLI on `process.argv` with the process's own streams and sets
 * `process.exitCode`.
 */
export async function run(argv: readonly string[] = process.argv.slice(2)): Promise<void> {
  process.exitCode = await runWithStreams(argv, {
    stdout: process.stdout,
    stderr: process.stderr,
  });
}

/**
 * Runs the CLI on the given process streams and resolves with the exit code. An unexpected
 * error is printed with its stack and gives exit code 1.
 */
export async function runWithStreams(
  argv: readonly string[],
  streams: ProcessStreams,
): Promise<number> {
  // A write to stdout can fail after the command acted, such as on a full disk or when a
  // reader stops early, as `smsgate optout list | head` does. The command then ends with
  // its own exit code instead of crashing. The server is left alone, because it logs to
  // stdout and shuts down only on a signal.
  const outputIsTheResult = producesOnlyOutput(argv);
  const failure =
    argv[0] === "serve" ? { lost: false } : reportOutputErrors(streams, outputIsTheResult);

  try {
    const code = await runCli(argv, streams);

    // A failed write reports its error on a later turn of the event loop.
    await new Promise((resolve) => setImmediate(resolve));

    // An export that lost rows to a full disk must not look like a finished backup.
    return failure.lost && outputIsTheResult && code === ExitCode.ok ? ExitCode.failure : code;
  } catch (error) {
    const detail = error instanceof Error ? (error.stack ?? error.message) : String(error);

    writeError(streams, `unexpected error: ${detail}`);

    return ExitCode.failure;
  }
}

/**
 * Checks whether a command's only result is its output, as for `optout export`, help and
 * the version. Commands that act, such as `send` or `optout add`, report their action in
 * their exit code whether or not their output arrived.
 */
function producesOnlyOutput(argv: readonly string[]): boolean {
  const [command, ...rest] = argv;

  if (command === "optout") {
    const subcommand = rest.find((token) => !token.startsWith("-"));

    // Every subcommand that does not write to the store only reads it and prints the result.
    return subcommand !== undefined && !writingSubcommands.has(subcommand);
  }

  return ["help", "-h", "--help", "-v", "--version"].includes(command ?? "");
}

function isEntryPoint(): boolean {
  const script = process.argv[1];

  if (script === undefined) {
    return false;
  }

  try {
    return realpathSync(script) === realpathSync(fileURLToPath(import.meta.url));
  } catch {
    return false;
  }
}

if (isEntryPoint()) {
  await run();
}
