/**
 * `smsgate send`: sends one message through the gateway's opt-out guard and reports the
 * outcome as text or JSON, with an exit code per outcome.
 */

import { ALL_SENDERS } from "../consent/types.js";
import {
  isConfigError,
  isConsentCheckError,
  isInvalidPhoneNumberError,
  isInvalidRequestError,
  isProviderError,
  isRecipientOptedOutError,
  type ProviderError,
} from "../errors.js";
import type { SendRequest } from "../gateway/types.js";
import { normalizeRecipient } from "../phone/index.js";
import type { SendResult } from "../provider.js";
import {
  describeConfigError,
  describeFailure,
  describeInvalidNumber,
  withRuntime,
} from "./context.js";
import { type CliIo, ExitCode, UsageError, writeError, writeJson, writeLine } from "./output.js";
import { type Runtime, StoreNotFoundError } from "./runtime.js";
import {
  type OptionSpec,
  optionalNonBlankString,
  optionalString,
  type ParsedArgs,
  parseCommandArgs,
  readConfigOption,
  rejectExtraPositionals,
  requireString,
  stringList,
} from "./usage.js";

const sendOptions: OptionSpec = {
  to: { type: "string" },
  body: { type: "string" },
  from: { type: "string" },
  provider: { type: "string" },
  "media-url": { type: "string", multiple: true },
  config: { type: "string" },
  json: { type: "boolean" },
};

/** Outcome of `smsgate send`, printed as is by `--json`. */
export interface SendOutcome {
  status: "sent" | "opted-out" | "rejected" | "invalid" | "error";
  /** The recipient: normalised to E.164 when that step was reached, else as given. */
  to: string;
  provider: string | null;
  messageId: string | null;
  /** Normalised reason of a provider rejection, such as `invalid-recipient`. */
  reason: string | null;
  /** The provider's own error code, such as `21610`. */
  code: string | null;
  message: string;
}

const exitCodes: Record<SendOutcome["status"], number> = {
  sent: ExitCode.ok,
  "opted-out": ExitCode.optedOut,
  rejected: ExitCode.rejected,
  invalid: ExitCode.usage,
  error: ExitCode.failure,
};

/** Runs `smsgate send` and resolves with its exit code. */
export async function runSend(argv: string[], io: CliIo): Promise<number> {
  let args: ParsedArgs | undefined;
  let command: SendCommand;

  try {
    args = parseCommandArgs(argv, sendOptions, "send");
    command = readSendCommand(args);
  } catch (error) {
    const json = args === undefined ? hasJsonOption(argv) : args.values.json === true;

    if (!(json && error instanceof UsageError)) {
      throw error;
    }

    // Under --json, invalid usage prints the outcome object as an invalid number does.
    writeJson(io.stdout, usageOutcome(error, args));

    return ExitCode.usage;
  }

  const sent = await sendOnce(command.configPath, io, command.request);

  printOutcome(io, sent, args.values.json === true);

  return sent.exitCode;
}

/** Checks for `--json` among arguments that could not be parsed, before any `--`. */
function hasJsonOption(argv: readonly string[]): boolean {
  const end = argv.indexOf("--");

  return (end === -1 ? argv : argv.slice(0, end)).includes("--json");
}

/** The message and configuration path that the arguments of `send` give. */
interface SendCommand {
  request: SendRequest;
  configPath: string | undefined;
}

/** Reads the options of `send`, raising a {@link UsageError} for a missing or empty one. */
function readSendCommand(args: ParsedArgs): SendCommand {
  rejectExtraPositionals(args.positionals, 0, "send");

  const mediaUrls = stringList(args, "media-url");
  const to = requireString(args, "to", "send");
  // A message with media may have no text; one without media needs a body.
  const body =
    mediaUrls.length > 0
      ? (optionalString(args, "body") ?? "")
      : requireString(args, "body", "send");
  const request: SendRequest = {
    to,
    body,
    from: optionalNonBlankString(args, "from", "send", "a sending number, short code or sender ID"),
    provider: optionalNonBlankString(args, "provider", "send", "twilio, vonage or plivo"),
    mediaUrls: mediaUrls.length > 0 ? mediaUrls : undefined,
  };

  return { request, configPath: readConfigOption(args, "send") };
}

/**
 * Describes invalid usage as the outcome `--json` prints. `to` and `provider` are the values
 * given when the arguments could be parsed, and `to` is empty otherwise.
 */
function usageOutcome(error: UsageError, args: ParsedArgs | undefined): SendOutcome {
  return {
    status: "invalid",
    to: args === undefined ? "" : (optionalString(args, "to") ?? ""),
    provider: args === undefined ? null : (optionalString(args, "provider") ?? null),
    messageId: null,
    reason: null,
    code: null,
    message: `Not sent: ${error.message}. Run "smsgate help send" for usage.`,
  };
}

/**
 * The outcome of a send, its exit code, and whether the command stopped before sending
 * because the configuration was invalid or the SQLite store was missing.
 */
interface SendAttempt {
  outcome: SendOutcome;
  exitCode: number;
  startupError: boolean;
}

async function sendOnce(
  configPath: string | undefined,
  io: CliIo,
  request: SendRequest,
): Promise<SendAttempt> {
  try {
    const result = await withRuntime(
      configPath,
      io,
      (runtime) => {
        noteDroppedExtension(io, runtime, request.to);

        return sendAndConfirm(runtime, request);
      },
      { sends: true },
    );

    return { outcome: sentOutcome(result), exitCode: ExitCode.ok, startupError: false };
  } catch (error) {
    const outcome = failedOutcome(error, request);
    const startupError = isConfigError(error) || error instanceof StoreNotFoundError;
    const exitCode = startupError ? ExitCode.usage : exitCodes[outcome.status];

    return { outcome, exitCode, startupError };
  }
}

/**
 * Prints a note on stderr when the recipient was written with an extension, which the
 * normaliser splits off. An invalid recipient prints nothing here, because the send
 * reports it.
 */
function noteDroppedExtension(io: CliIo, runtime: Runtime, to: string): void {
  let recipient: ReturnType<typeof normalizeRecipient>;

  try {
    recipient = normalizeRecipient(to, { defaultRegion: runtime.config.defaultRegion });
  } catch {
    return;
  }

  if (recipient.extension !== undefined) {
    writeLine(
      io.stderr,
      `Note: extension ${recipient.extension} of ${JSON.stringify(to)} was dropped, because ` +
        `SMS goes to the number itself, ${recipient.value}.`,
    );
  }
}

/** Raised in place of an opt-out refusal whose consent event is missing from the store. */
class UnrecordedRefusal extends Error {
  readonly refusal: ProviderError;

  constructor(refusal: ProviderError) {
    super(refusal.message);
    this.refusal = refusal;
  }
}

/**
 * Sends, and after an opt-out refusal reads the store back, so that the output states
 * whether the opt-out was recorded rather than assuming it.
 */
async function sendAndConfirm(runtime: Runtime, request: SendRequest): Promise<SendResult> {
  try {
    return await runtime.gateway.send(request);
  } catch (error) {
    if (isProviderError(error) && error.reason === "opted-out") {
      const recorded = await isRecorded(runtime, request.to);

      throw recorded ? error : new UnrecordedRefusal(error);
    }

    throw error;
  }
}

async function isRecorded(runtime: Runtime, to: string): Promise<boolean> {
  try {
    const phone = normalizeRecipient(to, { defaultRegion: runtime.config.defaultRegion }).value;

    return await runtime.store.isOptedOut(phone, ALL_SENDERS);
  } catch {
    return false;
  }
}

function sentOutcome(result: SendResult): SendOutcome {
  return {
    status: "sent",
    to: result.to,
    provider: result.provider,
    messageId: result.messageId,
    reason: null,
    code: null,
    message:
      `Sent to ${result.to} through ${result.provider}: ` +
      `message ${result.messageId}, status ${result.status}.`,
  };
}

/** Classifies an error of a send by its type guard. */
export function failedOutcome(error: unknown, request: SendRequest): SendOutcome {
  const base = {
    to: request.to,
    provider: request.provider ?? null,
    messageId: null,
    reason: null,
    code: null,
  };

  if (isRecipientOptedOutError(error)) {
    return {
      ...base,
      status: "opted-out",
      to: error.to,
      message:
        `Not sent: ${error.to} has opted out (scope ${error.scope}), ` +
        "so the message was refused before it reached the provider.",
    };
  }

  if (isProviderError(error)) {
    return providerOutcome(error, request, true);
  }

  if (error instanceof UnrecordedRefusal) {
    return providerOutcome(error.refusal, request, false);
  }

  if (isInvalidPhoneNumberError(error)) {
    return { ...base, status: "invalid", message: `Not sent: ${describeInvalidNumber(error)}` };
  }

  if (isInvalidRequestError(error)) {
    return { ...base, status: "invalid", message: `Not sent: ${error.message}.` };
  }

  if (isConfigError(error)) {
    return { ...base, status: "error", message: describeConfigError(error) };
  }

  if (error instanceof StoreNotFoundError) {
    return { ...base, status: "error", message: error.message };
  }

  if (isConsentCheckError(error)) {
    const cause = error.cause === undefined ? "" : ` Cause: ${describeFailure(error.cause)}`;

    return { ...base, status: "error", message: `Not sent: ${error.message}.${cause}` };
  }

  return { ...base, status: "error", message: `Not sent: ${describeFailure(error)}` };
}

function providerOutcome(
  error: ProviderError,
  request: SendRequest,
  recorded: boolean,
): SendOutcome {
  const code = error.providerCode ?? null;
  const codeText = code === null ? "" : `, code ${code}`;
  const base = {
    to: request.to,
    provider: error.provider,
    messageId: null,
    reason: error.reason,
    code,
  };

  if (error.reason === "opted-out") {
    return {
      ...base,
      status: "opted-out",
      message:
        `Not sent: ${error.provider} rejected the message because the recipient ` +
        `has opted out at the provider (reason opted-out${codeText}). ` +
        (recorded
          ? "The opt-out is now recorded, so later sends are refused before the provider."
          : "Recording the opt-out failed; check that the store is writable."),
    };
  }

  // A transient failure without an HTTP status got no response from the provider (connection
  // refused, timed out), so it is not the provider's rejection: exit 1, not 4.
  if (error.reason === "transient" && error.httpStatus === undefined) {
    return { ...base, status: "error", message: unansweredMessage(error) };
  }

  return {
    ...base,
    status: "rejected",
    message:
      `Not sent: ${error.provider} rejected the message ` +
      `(reason ${error.reason}${codeText}): ${error.message}`,
  };
}

/** Error codes of a request that never reached the provider, so no message was accepted. */
const unreachedCodes: ReadonlySet<unknown> = new Set([
  "ECONNREFUSED",
  "ENOTFOUND",
  "EAI_AGAIN",
  "EHOSTUNREACH",
  "ENETUNREACH",
  "UND_ERR_CONNECT_TIMEOUT",
]);

/**
 * Describes a send that got no response. A request that never connected can be sent again,
 * but after a timeout or a dropped connection the provider may have accepted the message,
 * and sending it again could deliver it twice.
 */
function unansweredMessage(error: ProviderError): string {
  const cause = error.cause as { code?: unknown; cause?: { code?: unknown } } | undefined;
  const reached = !unreachedCodes.has(cause?.code) && !unreachedCodes.has(cause?.cause?.code);

  if (!reached) {
    return (
      `Not sent: ${error.provider} could not be reached (${error.message}). Check the ` +
      "network and the provider's API address (apiBaseUrl, or send.url of a generic " +
      "provider), then retry."
    );
  }

  return (
    `Not confirmed: ${error.provider} sent no complete response (${error.message}). It ` +
    "may have accepted the message, so check the provider's message log before sending it " +
    "again."
  );
}

function printOutcome(io: CliIo, attempt: SendAttempt, json: boolean): void {
  const { outcome } = attempt;

  if (json) {
    writeJson(io.stdout, outcome);

    return;
  }

  // An invalid configuration or a missing store is printed as every command prints it.
  if (attempt.startupError) {
    writeError(io, outcome.message);

    return;
  }

  writeLine(outcome.status === "sent" ? io.stdout : io.stderr, outcome.message);
}
