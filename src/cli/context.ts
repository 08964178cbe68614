/**
 * Opening the configured runtime for one command, and turning the errors of that step
 * into exit codes.
 */
import {
  ConfigError,
  type InvalidPhoneNumberError,
  isConfigError,
  isInvalidPhoneNumberError,
  isSmsgateError,
} from "../errors.js";
import { loadConfig } from "./config.js";
import { createLogger } from "./log.js";
import { type CliIo, ExitCode, errorMessage, writeError } from "./output.js";
import { createRuntime, type Runtime, StoreNotFoundError } from "./runtime.js";

/** Options of {@link withRuntime}. */
export interface WithRuntimeOptions {
  /**
   * Whether the command sends through the providers. Only then are warnings that matter
   * for sends alone, such as a missing auth token, logged.
   * @default false
   */
  sends?: boolean | undefined;
}

/**
 * Loads the configuration, opens the runtime (store, providers, gateway), runs `use` and
 * closes the runtime again, also when `use` throws. The gateway's warnings and errors are
 * logged to stderr as JSON lines. A missing SQLite file is not created, because only
 * `serve` creates the store.
 */
export async function withRuntime<T>(
  configPath: string | undefined,
  io: CliIo,
  use: (runtime: Runtime) => Promise<T>,
  options: WithRuntimeOptions = {},
): Promise<T> {
  const config = await loadConfig(configPath, io.env ?? process.env);

  // A command's memory store starts empty, so the guard would pass every number, also those
  // that `smsgate serve` recorded as opted out in its own memory.
  if (options.sends && config.store.type === "memory") {
    throw new ConfigError(
      "store.type",
      'send checks opt-outs in the store, and a "memory" store is empty in this command, ' +
        'so it cannot see the opt-outs smsgate serve recorded; set store.type to "sqlite" or ' +
        '"postgres"',
    );
  }

  const logger = createLogger({ destination: io.stderr, level: "warn" });
  const runtime = await createRuntime(config, {
    logger,
    createStore: false,
    sends: options.sends ?? false,
  });

  try {
    return await use(runtime);
  } finally {
    await runtime.close();
  }
}

/**
 * Prints an error raised while loading the configuration or opening the runtime, and
 * returns its exit code: 2 for a configuration error or a missing SQLite store, 1 for
 * anything else.
 */
export function reportStartupError(io: CliIo, error: unknown): number {
  if (isConfigError(error)) {
    writeError(io, describeConfigError(error));

    return ExitCode.usage;
  }

  if (error instanceof StoreNotFoundError) {
    writeError(io, error.message);

    return ExitCode.usage;
  }

  writeError(io, describeFailure(error));

  return ExitCode.failure;
}

/**
 * Describes a configuration error as every command prints it after the program name:
 * `invalid configuration: store.path: …`.
 */
export function describeConfigError(error: ConfigError): string {
  return `invalid configuration: ${error.message}`;
}

/**
 * Prints an error raised by a command that reads numbers (`optout`, `simulate`) and
 * returns its exit code: 2 for an invalid number or configuration or a missing SQLite
 * store, 1 for anything else.
 */
export function reportCommandError(io: CliIo, error: unknown): number {
  if (isInvalidPhoneNumberError(error)) {
    writeError(io, describeInvalidNumber(error));

    return ExitCode.usage;
  }

  return reportStartupError(io, error);
}

/** Maximum length of an invalid input that the CLI prints whole. */
const maxPrintedInputLength = 64;

/**
 * Describes an invalid number as a sentence, with how to write numbers unless the message
 * already mentions `defaultRegion`, as the normaliser's messages about national numbers do.
 *
 * The library masks the digits of the input in the error's message, because applications
 * log it. The CLI prints the input as its user typed it, so that they can see the mistake,
 * and cuts only a long one.
 */
export function describeInvalidNumber(error: InvalidPhoneNumberError): string {
  const message = `Invalid phone number ${quoteInput(error.input)}: ${error.detail}`;

  if (message.includes("defaultRegion")) {
    return `${message}.`;
  }

  return (
    `${message}. Write numbers in E.164 form, such as +12025550143, or set ` +
    "defaultRegion in the configuration for national numbers."
  );
}

function quoteInput(input: string): string {
  if (input.length <= maxPrintedInputLength) {
    return JSON.stringify(input);
  }

  return `${JSON.stringify(`${input.slice(0, maxPrintedInputLength)}…`)} (${input.length} characters)`;
}

/** Describes an unexpected error in one line, with its code when it is an smsgate error. */
export function describeFailure(error: unknown): string {
  if (isSmsgateError(error)) {
    return `${error.message} (${error.code})`;
  }

  return errorMessage(error);
}
