/**
 * Help texts of the CLI commands and the argument parser they share.
 */
import { type ParseArgsConfig, parseArgs } from "node:util";
import { UsageError } from "./output.js";

/** Option definitions in the shape `node:util` `parseArgs` takes. */
export type OptionSpec = NonNullable<ParseArgsConfig["options"]>;

const configOption = `  --config FILE     Configuration file (JSON). Default: smsgate.config.json in the
                    current directory if it exists, else development mode with
                    smsgate.db in the current directory.`;

const helpOption = "  -h, --help        Print this help and exit.";

const mainUsage = `Usage: smsgate <command> [options]

Commands:
  serve       Start the webhook server.
  send        Send one SMS through the opt-out guard.
  optout      Show and edit the opt-out state of phone numbers.
  simulate    Post a signed Twilio, Vonage or Plivo webhook to a running server.
  help        Print help for a command.

Options:
  -h, --help     Print this help and exit.
  -v, --version  Print the version and exit.

Run "smsgate help <command>" for the options of one command.`;

const serveUsage = `Usage: smsgate serve [--config FILE]

Starts the webhook server. It receives the webhooks of each configured provider
(twilio, vonage, plivo) by POST or GET on /webhooks/<provider>/inbound and
/webhooks/<provider>/status, answers GET /healthz, and logs JSON lines to
stdout. It stops on SIGINT or SIGTERM.

Options:
${configOption}
${helpOption}`;

const sendUsage = `Usage: smsgate send --to NUMBER --body TEXT [options]

Sends one SMS, unless the recipient has opted out.

Options:
  --to NUMBER       Recipient phone number, in E.164 form (+12025550143), or in
                    national form when the configuration sets defaultRegion.
                    An extension (ext. 5) is dropped with a note on stderr,
                    because SMS goes to the number itself.
  --body TEXT       Message text.
  --from SENDER     Sending number, short code or sender ID. Default: the
                    provider's configured sender.
  --provider NAME   Provider to send through: twilio, vonage or plivo. Default:
                    the first configured one, in the order twilio, vonage,
                    plivo.
  --media-url URL   Media attachment URL; repeat for several.
  --json            Print one JSON object with status, to, provider, messageId,
                    reason, code and message instead of text.
${configOption}
${helpOption}

The SQLite store must exist, so that a mistyped store.path cannot open an empty
store without the recorded opt-outs. "smsgate serve" creates it on its first
start.

Exit codes:
  0  sent
  1  another failure, such as the opt-out store being unavailable
  2  invalid usage or configuration, an invalid recipient number, or no store
     at store.path
  3  the recipient has opted out (the message was not sent)
  4  the provider rejected the message for another reason`;

const optoutUsage = `Usage: smsgate optout <subcommand> [options]

Subcommands:
  status NUMBER     Print whether the number is opted out.
  add NUMBER        Record a manual opt-out.
  remove NUMBER     Record a manual opt-in.
  history NUMBER    Print every consent event of the number, oldest first.
  list              Print every number that is opted out.
  import FILE       Record the events of a CSV file in one transaction. Columns:
                    phone (required), action (opt-out or opt-in), scope,
                    occurredAt (ISO 8601, from 1990 to at most 5 minutes
                    ahead), note. Invalid lines are skipped and listed; a file
                    that is not valid CSV writes nothing and exits 2.
                    Importing the same file again writes nothing.
  export            Write every opted-out number as CSV with the import
                    columns, or as JSON Lines. Current state only, no history.
  forget NUMBER     Erase the number's texts and personal data, keeping its
                    block under a keyed pseudonym (needs privacy.pseudonymKey).

Options:
  --scope SENDER    Sender whose opt-outs are read or written: a phone number,
                    short code, sender ID or messaging service SID, or * for
                    every sender. Default: *. Not used by history.
  --reason TEXT     Note stored with the event (add and remove only).
  --format FORMAT   Output of export: csv or jsonl. Default: csv.
  --json            Print JSON: status prints one object; history prints one
                    array; list prints one object per line (JSON Lines);
                    import prints { imported, skipped, duplicate, errors,
                    warnings }.
${configOption}
${helpOption}

Numbers in national form need defaultRegion in the configuration. NUMBER may
also be a sender that webhooks store as it is: a channel address
(whatsapp:+12025550143), a sender ID or a messaging service SID. Their events
block no send, because the send guard checks phone numbers and short codes.
The SQLite store must exist; "smsgate serve" creates it on its first start.

Exit codes:
  0  success
  1  another failure, such as the opt-out store being unavailable
  2  invalid usage or configuration, no store at store.path, an invalid phone
     number, a missing import file, a file that is not valid CSV or an import
     header without a phone column
  5  import recorded the valid lines but skipped invalid ones`;

const simulateUsage = `Usage:
  smsgate simulate PROVIDER inbound --from NUMBER --to NUMBER --body TEXT [options]
  smsgate simulate PROVIDER status --message-id ID --status STATUS [options]

PROVIDER is twilio, vonage or plivo. Posts a webhook signed exactly as that
provider signs it, then prints the HTTP status and the response body.

  twilio  X-Twilio-Signature over the URL and the fields, made with
          providers.twilio.authToken or, in development mode, with the
          development token beside the store.
  vonage  With providers.vonage.api "sms" (the default): the SMS API fields
          with timestamp, nonce and sig, made with signatureSecret and
          signatureMethod. With "messages": a JSON body with an HS256 JWT in
          the Authorization header, made with signatureSecret. Neither
          signature covers the URL.
  plivo   X-Plivo-Signature-V3 and -V2 over the URL (and, for V3, the
          fields), made with providers.plivo.authToken.

The signed URL is publicUrl followed by the request path when the
configuration sets publicUrl, else the target URL. Vonage and Plivo numbers
are sent as Vonage and Plivo write them, without the leading +.

Options for inbound:
  --from NUMBER                  Number of the person replying.
  --to NUMBER                    Number that received the reply.
  --body TEXT                    Text of the reply, such as STOP.
  --message-id ID                Message ID. Default: a new random ID in the
                                 provider's format.
  --opt-out-type TYPE            twilio: OptOutType field, as Twilio Advanced
                                 Opt-Out sends it: STOP, START or HELP.
                                 Default: none.
  --messaging-service-sid SID    twilio: MessagingServiceSid field (MG...).
                                 Default: none.
  --intent INTENT                plivo: MessageIntent field, Plivo's own
                                 opt-out flag: optout, optin or help.
                                 Default: none.
  --concat-ref REF               vonage, SMS API: reference shared by the
                                 parts of a multipart SMS. Give it with
                                 --concat-total and --concat-part, and post
                                 each part with its own command.
  --concat-total COUNT           vonage, SMS API: number of parts, 1 to 255.
  --concat-part NUMBER           vonage, SMS API: number of this part, 1 to
                                 --concat-total.

Options for status:
  --message-id ID                ID of the message the report is about.
  --status STATUS                The provider's status, such as delivered or
                                 failed.
  --error-code CODE              Error code, such as 21610 (twilio), 9
                                 (vonage) or 200 (plivo). Default: none.
  --from NUMBER                  Sender of the message. Default: none.
  --to NUMBER                    Recipient of the message. Default: none.
                                 A Vonage SMS API delivery receipt needs both
                                 --from and --to.

Options for both:
  --method METHOD                GET or POST. GET sends the fields in the
                                 query, as a provider set to call with GET
                                 does. Not for the Vonage Messages API.
                                 Default: POST.
  --url URL                      Where to send. Default: the local server,
                                 http://<listen.host>:<listen.port>/webhooks/<provider>/<kind>.
${configOption}
${helpOption}

Exit codes:
  0  the server answered with a 2xx status
  1  the server answered with another status, or could not be reached
  2  invalid usage or configuration`;

const usageTexts: Record<string, string> = {
  "": mainUsage,
  serve: serveUsage,
  send: sendUsage,
  optout: optoutUsage,
  simulate: simulateUsage,
};

/** Names of the commands that have a help text. */
export const commandNames = ["serve", "send", "optout", "simulate", "help"] as const;

/**
 * Returns the help text of a command (the first word of it counts), or the main usage
 * when `command` is empty. Returns `undefined` for an unknown command.
 */
export function usageText(command = ""): string | undefined {
  const name = command.split(" ")[0] ?? "";

  return name === "help" ? mainUsage : usageTexts[name];
}

/** The options and positionals that {@link parseCommandArgs} returns. */
export interface ParsedArgs {
  values: Record<string, string | boolean | string[] | undefined>;
  positionals: string[];
}

/**
 * Parses a command's arguments strictly: an unknown option, a missing value or an
 * option given twice raises a {@link UsageError} that names it.
 */
export function parseCommandArgs(
  argv: readonly string[],
  options: OptionSpec,
  command: string,
): ParsedArgs {
  let parsed: ParsedArgs;

  try {
    parsed = parseArgs({
      args: [...argv],
      options: { ...options, help: { type: "boolean", short: "h" } },
      allowPositionals: true,
      strict: true,
      tokens: true,
    });
  } catch (error) {
    throw new UsageError(describeParseError(error, command, options), command);
  }

  rejectRepeatedOptions(parsed as ParsedWithTokens, options, command);

  return { values: parsed.values, positionals: parsed.positionals };
}

interface ParsedWithTokens extends ParsedArgs {
  tokens?: Array<{ kind: string; name?: string; rawName?: string }>;
}

function rejectRepeatedOptions(
  parsed: ParsedWithTokens,
  options: OptionSpec,
  command: string,
): void {
  const seen = new Set<string>();

  for (const token of parsed.tokens ?? []) {
    if (token.kind !== "option" || token.name === undefined) {
      continue;
    }

    const repeatable = options[token.name]?.multiple === true;

    if (seen.has(token.name) && !repeatable) {
      throw new UsageError(`option --${token.name} is given more than once`, command);
    }

    seen.add(token.name);
  }
}

/** The value each option takes, for the message of an option given without one. */
const optionValues = new Map<string, string>([
  ["config", "the path of a configuration file"],
  ["to", "a phone number"],
  ["from", "a phone number or sender ID"],
  ["body", "the message text"],
  ["provider", "a provider name, such as twilio"],
  ["media-url", "the URL of a media attachment"],
  ["scope", "a sender, or * for every sender"],
  ["reason", "the note to store with the event"],
  ["format", "csv or jsonl"],
  ["message-id", "a message ID"],
  ["opt-out-type", "STOP, START or HELP"],
  ["messaging-service-sid", "a messaging service SID (MG...)"],
  ["concat-ref", "the reference shared by the parts"],
  ["concat-total", "the number of parts"],
  ["concat-part", "the number of this part"],
  ["intent", "optout, optin or help"],
  ["status", "a status, such as delivered"],
  ["error-code", "an error code, such as 21610"],
  ["method", "GET or POST"],
  ["url", "a URL"],
]);

/**
 * Returns the long form of the option that a parseArgs message quotes. The quote is
 * `-c, --config <value>` for a missing value, whichever form was given, but `-c` alone for
 * an ambiguous one.
 */
function longOptionName(quoted: string, options: OptionSpec): string {
  const long = /--[^\s,<]+/.exec(quoted)?.[0];

  if (long !== undefined) {
    return long;
  }

  const short = quoted.replace(/^-/, "");
  const name = Object.keys(options).find((key) => options[key]?.short === short);

  return name === undefined ? quoted : `--${name}`;
}

function describeParseError(error: unknown, command: string, options: OptionSpec): string {
  const code = (error as { code?: string }).code;
  const message = error instanceof Error ? error.message : String(error);
  const quoted = /'([^']+)'/.exec(message)?.[1] ?? "";

  if (code === "ERR_PARSE_ARGS_UNKNOWN_OPTION") {
    return `unknown option ${quoted} for "smsgate ${command}"`;
  }

  if (code === "ERR_PARSE_ARGS_INVALID_OPTION_VALUE") {
    const name = longOptionName(quoted, options);

    if (message.includes("ambiguous")) {
      return `option ${name} needs a value; write ${name}=VALUE for a value that starts with -`;
    }

    if (message.includes("argument missing")) {
      const value = optionValues.get(name.slice(2));

      return value === undefined
        ? `option ${name} needs a value`
        : `option ${name} needs a value: give ${value}`;
    }

    return `option ${name} does not take a value`;
  }

  return message;
}

/** Returns a string option, raising a {@link UsageError} when it is missing or empty. */
export function requireString(args: ParsedArgs, name: string, command: string): string {
  const value = args.values[name];

  if (typeof value !== "string") {
    throw new UsageError(`missing required option --${name}`, command);
  }

  if (value === "") {
    throw new UsageError(`--${name} must not be empty`, command);
  }

  return value;
}

/** Returns a string option, or `undefined` when it was not given. */
export function optionalString(args: ParsedArgs, name: string): string | undefined {
  const value = args.values[name];

  return typeof value === "string" ? value : undefined;
}

/**
 * Returns a string option, or `undefined` when it was not given. An empty or blank value
 * raises a {@link UsageError} that names the option and the expected value (`expected`).
 */
export function optionalNonBlankString(
  args: ParsedArgs,
  name: string,
  command: string,
  expected: string,
): string | undefined {
  const value = optionalString(args, name);

  if (value !== undefined && value.trim() === "") {
    throw new UsageError(`--${name} must not be empty; give ${expected}`, command);
  }

  return value;
}

/** Returns `--config FILE`, or `undefined` when it was not given. An empty path is rejected. */
export function readConfigOption(args: ParsedArgs, command: string): string | undefined {
  return optionalNonBlankString(args, "config", command, "the path of the configuration file");
}

/** Returns a repeatable string option as an array, empty when it was not given. */
export function stringList(args: ParsedArgs, name: string): string[] {
  const value = args.values[name];

  return Array.isArray(value) ? value : [];
}

/** Raises a {@link UsageError} when more positionals were given than a command takes. */
export function rejectExtraPositionals(
  positionals: readonly string[],
  max: number,
  command: string,
): void {
  const extra = positionals[max];

  if (extra !== undefined) {
    throw new UsageError(`unexpected argument ${JSON.stringify(extra)}`, command);
  }
}
