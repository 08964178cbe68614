/**
 * `smsgate optout`: reads and edits the consent log of the configured store.
 */
import { randomUUID } from "node:crypto";
import { pseudonymOf, readJoinedState } from "../consent/erasure.js";
import {
  characterCount,
  consentSources,
  decidingEventsBySender,
  isTooLongNote,
  MAX_NOTE_LENGTH,
} from "../consent/state.js";
import {
  ALL_SENDERS,
  type ConsentAction,
  type ConsentEvent,
  type ConsentState,
  type OptOutStore,
} from "../consent/types.js";
import { isInvalidPhoneNumberError } from "../errors.js";
import type { CountryCode } from "../phone/index.js";
import { reportCommandError, withRuntime } from "./context.js";
import { type ExportFormat, exportFormats, runExport } from "./optout-export.js";
import { runForget } from "./optout-forget.js";
import {
  type ConsentIdentity,
  describeKind,
  isSendRecipient,
  readConsentIdentity,
} from "./optout-identity.js";
import { runImport } from "./optout-import.js";
import { normalizeScope } from "./optout-scope.js";
import {
  type CliIo,
  ExitCode,
  formatTable,
  UsageError,
  writeError,
  writeJson,
  writeLine,
  writeLineDrained,
} from "./output.js";
import type { Runtime } from "./runtime.js";
import {
  type OptionSpec,
  optionalNonBlankString,
  optionalString,
  type ParsedArgs,
  parseCommandArgs,
  readConfigOption,
  rejectExtraPositionals,
} from "./usage.js";

const optoutOptions: OptionSpec = {
  scope: { type: "string" },
  reason: { type: "string" },
  config: { type: "string" },
  json: { type: "boolean" },
  format: { type: "string" },
};

/** Rules of each subcommand: whether it takes a number, and its options besides `--config`. */
const subcommands: Record<string, { number: boolean; options: string[] }> = {
  status: { number: true, options: ["scope", "json"] },
  add: { number: true, options: ["scope", "reason", "json"] },
  remove: { number: true, options: ["scope", "reason", "json"] },
  history: { number: true, options: ["json"] },
  list: { number: false, options: ["scope", "json"] },
  import: { number: true, options: ["json"] },
  export: { number: false, options: ["scope", "format"] },
  forget: { number: true, options: ["json"] },
};

/** One invocation of a subcommand, after its arguments were checked. */
interface OptoutCall {
  subcommand: string;
  number: string | undefined;
  scope: string | undefined;
  reason: string | undefined;
  format: ExportFormat;
  json: boolean;
}

/** Runs `smsgate optout ...` and resolves with its exit code. */
export async function runOptout(argv: string[], io: CliIo): Promise<number> {
  const args = parseCommandArgs(argv, optoutOptions, "optout");
  const call = checkCall(args);

  try {
    return await withRuntime(readConfigOption(args, "optout"), io, (runtime) =>
      dispatch(runtime, call, io),
    );
  } catch (error) {
    // A scope can be checked only after the configuration gives its region. The CLI prints
    // usage errors with a pointer to the help.
    if (error instanceof UsageError) {
      throw error;
    }

    return reportCommandError(io, error);
  }
}

function checkCall(args: ParsedArgs): OptoutCall {
  const [subcommand, number] = args.positionals;

  if (subcommand === undefined) {
    throw new UsageError(
      "missing subcommand; use status, add, remove, history, list, import, export or forget",
      "optout",
    );
  }

  const rules = subcommands[subcommand];

  if (rules === undefined) {
    throw new UsageError(`unknown subcommand ${JSON.stringify(subcommand)}`, "optout");
  }

  if (rules.number && number === undefined) {
    const argument = subcommand === "import" ? "file" : "phone number";
    const placeholder = subcommand === "import" ? "FILE" : "NUMBER";
    const message = `missing ${argument}: smsgate optout ${subcommand} ${placeholder}`;
    throw new UsageError(message, "optout");
  }

  rejectExtraPositionals(args.positionals, rules.number ? 2 : 1, "optout");
  rejectForeignOptions(args, subcommand, rules.options);

  return {
    subcommand,
    number,
    scope: optionalNonBlankString(args, "scope", "optout", scopeExpected),
    reason: checkReason(optionalString(args, "reason")),
    format: checkFormat(optionalString(args, "format")),
    json: args.values.json === true,
  };
}

function checkReason(reason: string | undefined): string | undefined {
  if (reason !== undefined && isTooLongNote(reason)) {
    throw new UsageError(
      `option --reason has ${characterCount(reason)} characters, but a reason has at most ` +
        `${MAX_NOTE_LENGTH}; shorten it`,
      "optout",
    );
  }

  return reason;
}

function checkFormat(format: string | undefined): ExportFormat {
  if (format === undefined) {
    return "csv";
  }

  if (!(exportFormats as readonly string[]).includes(format)) {
    throw new UsageError(`invalid --format ${JSON.stringify(format)}; use csv or jsonl`, "optout");
  }

  return format as ExportFormat;
}

function rejectForeignOptions(args: ParsedArgs, subcommand: string, allowed: string[]): void {
  for (const [name, value] of Object.entries(args.values)) {
    if (value === undefined || name === "config" || name === "help") {
      continue;
    }

    if (!allowed.includes(name)) {
      throw new UsageError(`option --${name} does not apply to "optout ${subcommand}"`, "optout");
    }
  }
}

/** Subcommands that write to the store. */
export const writingSubcommands: ReadonlySet<string> = new Set([
  "add",
  "remove",
  "import",
  "forget",
]);

async function dispatch(runtime: Runtime, call: OptoutCall, io: CliIo): Promise<number> {
  // The memory store lives only as long as this process, so a write would be reported as
  // done and then lost when the command exits.
  if (runtime.config.store.type === "memory" && writingSubcommands.has(call.subcommand)) {
    writeError(
      io,
      `optout ${call.subcommand} would write to the memory store, which keeps nothing after ` +
        "the command exits; set store.type to sqlite or postgres to keep opt-outs",
    );
    return ExitCode.usage;
  }

  // The memory store of a command starts empty, so a read would return "not opted out" for
  // a number that `smsgate serve` recorded as opted out in its own memory.
  if (runtime.config.store.type === "memory") {
    writeError(
      io,
      `optout ${call.subcommand} would read the memory store, which is empty in this ` +
        "command and holds none of the opt-outs smsgate serve recorded; set store.type to " +
        "sqlite or postgres to read them",
    );
    return ExitCode.usage;
  }

  if (call.subcommand === "import") {
    return runImport(runtime, io, call.number ?? "", call.json);
  }

  const region = runtime.config.defaultRegion;
  const identity =
    call.number === undefined ? noIdentity : readConsentIdentity(call.number, region);
  const phone = identity.value;
  const scope = readScopeOption(call.scope, region);
  const { store } = runtime;

  switch (call.subcommand) {
    case "status":
      return printStatus(io, await readStatus(runtime, phone, scope), call.json);
    case "export":
      return runExport(runtime, io, call.format, {
        scope: call.scope === undefined ? undefined : scope,
        list: (listed) => listBlocked(runtime, listed),
      });
    case "forget":
      return runForget(runtime, io, identity, call.json);
    case "add":
      return recordManual(io, store, manualEvent(identity, "opt-out", scope, call), call);
    case "remove":
      return recordManual(io, store, manualEvent(identity, "opt-in", scope, call), call);
    case "history":
      return printHistory(io, runtime, phone, await store.history(phone), call.json);
    default:
      return printList(io, listBlocked(runtime, scope), scope, call.json);
  }
}

/** The values `--scope` takes, for its error messages. */
const scopeExpected =
  "a sender (phone number, short code, sender ID or messaging service SID) or * for every sender";

/** Normalises `--scope`, raising a {@link UsageError} that names the option. */
function readScopeOption(scope: string | undefined, region: CountryCode | undefined): string {
  try {
    return normalizeScope(scope, region);
  } catch (error) {
    if (!isInvalidPhoneNumberError(error)) {
      throw error;
    }

    throw new UsageError(
      `invalid --scope ${JSON.stringify(scope)}: ${error.detail}. ` + `Give ${scopeExpected}`,
      "optout",
    );
  }
}

/** The identity of the subcommands without a NUMBER argument, which never read it. */
const noIdentity: ConsentIdentity = { value: "", kind: "e164" };

/** A manual event, with the kind of its identity for the confirmation message. */
interface ManualEvent {
  event: ConsentEvent;
  identity: ConsentIdentity;
}

function manualEvent(
  identity: ConsentIdentity,
  action: ConsentAction,
  scope: string,
  call: OptoutCall,
): ManualEvent {
  const event: ConsentEvent = {
    id: `manual:${randomUUID()}`,
    phone: identity.value,
    action,
    sender: scope,
    source: "manual",
    note: call.reason,
    occurredAt: new Date(),
  };

  return { event, identity };
}

async function recordManual(
  io: CliIo,
  store: OptOutStore,
  manual: ManualEvent,
  call: OptoutCall,
): Promise<number> {
  const { event, identity } = manual;

  await store.record(event);

  const state = await store.getState(event.phone, event.sender);

  if (call.json) {
    writeJson(io.stdout, { event, state: stateJson(state) });

    return ExitCode.ok;
  }

  const verb = event.action === "opt-out" ? "an opt-out" : "an opt-in";

  writeLine(io.stdout, `Recorded ${verb} for ${event.phone} (scope ${event.sender}).`);
  writeLine(io.stdout, describeState(state));

  if (!isSendRecipient(identity)) {
    writeLine(
      io.stdout,
      `Note: ${event.phone} is ${describeKind(identity.kind)}, not an SMS recipient, so the ` +
        "send guard never reads this event. To block sends, record the phone number itself.",
    );
  }

  return ExitCode.ok;
}

/** Converts a state to the object that `optout status --json` and `optout list --json` print. */
export function stateJson(state: ConsentState): Record<string, unknown> {
  const last = state.lastEvent;

  return {
    phone: state.phone,
    optedOut: state.optedOut,
    scope: state.scope,
    since: last?.occurredAt.toISOString() ?? null,
    source: last?.source ?? null,
    sender: last?.sender ?? null,
    provider: last?.provider ?? null,
    keyword: last?.keyword ?? null,
  };
}

/**
 * A state with `erased` set when the number's pseudonym decides it, and with the opt-outs
 * of single senders that a read with `*` does not show.
 */
type StatusState = ConsentState & { erased?: boolean; blockedSenders?: ConsentEvent[] };

/**
 * Reads the state that decides a send to `phone` in `scope`. Under the global opt-out scope
 * the send guard also reads `*`, so an opt-out that decides `*` decides a sender's scope
 * too, and is returned with that scope.
 */
async function readStatus(runtime: Runtime, phone: string, scope: string): Promise<StatusState> {
  const state = await readScopeState(runtime, phone, scope);

  if (scope === ALL_SENDERS) {
    if (!state.optedOut) {
      state.blockedSenders = await readBlockedSenders(runtime, phone);
    }

    return state;
  }

  if (state.optedOut || runtime.config.optOutScope !== "global") {
    return state;
  }

  const overEverySender = await readScopeState(runtime, phone, ALL_SENDERS);

  return overEverySender.optedOut ? { ...overEverySender, scope } : state;
}

/** Reads a number's state, together with its pseudonym when a key is configured. */
async function readScopeState(
  runtime: Runtime,
  phone: string,
  scope: string,
): Promise<StatusState> {
  const key = runtime.config.privacy.pseudonymKey;

  if (key === undefined) {
    return runtime.store.getState(phone, scope);
  }

  return readJoinedState(runtime.store, phone, pseudonymOf(key, phone), scope);
}

/**
 * Returns the opt-outs that still decide single senders of a number whose newest event is
 * an opt-in, such as a STOP to one number followed by a START to another. Under the global
 * scope the send guard refuses those senders too.
 */
async function readBlockedSenders(runtime: Runtime, phone: string): Promise<ConsentEvent[]> {
  // NOTE: only the number's own events are read, not those of its pseudonym, so a
  // single-sender block that an erasure moved to the pseudonym is not listed here.
  const history = await runtime.store.history(phone);
  const sequenced = history.map((event, seq) => ({ event, seq }));
  const deciding = decidingEventsBySender(sequenced);
  // The guard reads a sender's row and the `*` row and takes the newer one, so only the
  // senders whose deciding event comes after the one of `*`, in consent order, are blocked.
  const overEverySender = deciding.findIndex((event) => event.sender === ALL_SENDERS);
  const blocked = deciding.slice(overEverySender + 1).filter(isOptOut);
  const global = deciding[overEverySender];

  // An opt-out for `*` still blocks every sender without a newer opt-in of its own, such
  // as after a STOP for every sender and a START to one number.
  return global !== undefined && isOptOut(global) ? [global, ...blocked] : blocked;
}

function isOptOut(event: ConsentEvent): boolean {
  return event.action === "opt-out";
}

function printStatus(io: CliIo, state: StatusState, json: boolean): number {
  const blocked = state.blockedSenders ?? [];

  if (json) {
    const erased = state.erased === undefined ? {} : { erased: state.erased };
    const blockedSenders = blocked.map((event) => ({
      sender: event.sender,
      since: event.occurredAt.toISOString(),
      source: event.source,
    }));

    writeJson(io.stdout, { ...stateJson(state), ...erased, blockedSenders });
    return ExitCode.ok;
  }

  writeLine(io.stdout, describeState(state));

  for (const event of blocked) {
    const senders =
      event.sender === ALL_SENDERS
        ? "every sender without a newer opt-in of its own"
        : `sender ${event.sender}`;

    writeLine(
      io.stdout,
      `  but opted out for ${senders} since ${event.occurredAt.toISOString()}: ` +
        `${describeEvent(event)}.`,
    );
  }

  return ExitCode.ok;
}

function describeState(state: StatusState): string {
  const erasure = state.erased === true ? " by an erased record" : "";
  const verdict = state.optedOut ? `is opted out${erasure}` : "is not opted out";
  const head = `${state.phone} ${verdict} (scope ${state.scope})`;
  const last = state.lastEvent;

  if (last === undefined) {
    const scopeNote = state.scope === ALL_SENDERS ? "" : " for this scope";

    return `${head}; no consent events are recorded${scopeNote}.`;
  }

  return `${head} since ${last.occurredAt.toISOString()}: ${describeEvent(last)}.`;
}

/** How each source of consent is named in text output. */
const sourceLabels: Record<ConsentEvent["source"], string> = {
  keyword: "keyword",
  "provider-flag": "provider flag",
  "provider-refusal": "provider refusal",
  manual: "manual edit",
  import: "import",
};

/** Describes an event as `opt-out by keyword STOP, provider twilio, sender +1…`. */
function describeEvent(event: ConsentEvent): string {
  const cause = [sourceLabels[event.source]];

  if (event.keyword !== undefined) {
    cause.push(event.keyword);
  }

  if (event.providerCode !== undefined) {
    cause.push(`code ${event.providerCode}`);
  }

  const parts = [`${event.action} by ${cause.join(" ")}`];

  if (event.provider !== undefined) {
    parts.push(`provider ${event.provider}`);
  }

  parts.push(`sender ${event.sender}`);

  return parts.join(", ");
}

/**
 * Counts the events that `optout forget` moved from a number to its pseudonym, which still
 * decide its sends. Returns 0 when no pseudonym key is configured.
 */
async function countErasedEvents(runtime: Runtime, phone: string): Promise<number> {
  const key = runtime.config.privacy.pseudonymKey;

  if (key === undefined) {
    return 0;
  }

  return (await runtime.store.history(pseudonymOf(key, phone))).length;
}

async function printHistory(
  io: CliIo,
  runtime: Runtime,
  phone: string,
  events: readonly ConsentEvent[],
  json: boolean,
): Promise<number> {
  if (json) {
    writeJson(io.stdout, events);

    return ExitCode.ok;
  }

  // The pseudonym's events are read only for the text of a number without events.
  const erasedEvents = events.length === 0 ? await countErasedEvents(runtime, phone) : 0;

  if (erasedEvents > 0) {
    writeLine(
      io.stdout,
      `No consent events are recorded for ${phone} under its number. It was erased, and ` +
        `its pseudonym keeps ${erasedEvents} ${erasedEvents === 1 ? "event" : "events"} ` +
        "without the number and the text. optout status shows the state that decides its sends.",
    );

    return ExitCode.ok;
  }

  if (events.length === 0) {
    writeLine(io.stdout, `No consent events are recorded for ${phone}.`);

    return ExitCode.ok;
  }

  const header = ["TIME", "ACTION", "SENDER", "SOURCE", "PROVIDER", "KEYWORD/CODE", "TEXT"];
  const rows = events.map((event) => [
    event.occurredAt.toISOString(),
    event.action,
    event.sender,
    event.source,
    event.provider ?? "-",
    event.keyword ?? event.providerCode ?? "-",
    quoteOrDash(event.text ?? event.note),
  ]);

  for (const line of formatTable([header, ...rows])) {
    writeLine(io.stdout, line);
  }

  return ExitCode.ok;
}

/**
 * Lists the numbers that a send from `scope` is refused for. Under the global opt-out scope
 * the guard also refuses a number whose newest event over every sender is an opt-out,
 * whichever sender received it, so those numbers come first, each with the scope asked
 * for. The numbers opted out in `scope` alone follow.
 */
async function* listBlocked(runtime: Runtime, scope: string): AsyncIterable<ConsentState> {
  const { store } = runtime;

  if (scope === ALL_SENDERS || runtime.config.optOutScope !== "global") {
    yield* store.listOptedOut(scope);
    return;
  }

  for await (const state of store.listOptedOut(ALL_SENDERS)) {
    yield { ...state, scope };
  }

  for await (const state of store.listOptedOut(scope)) {
    if (!(await store.isOptedOut(state.phone))) {
      yield state;
    }
  }
}

/**
 * Streams the opted-out numbers: one JSON object per line with `--json`, else one text
 * line per number. Lines are written as the store yields them, waiting whenever the
 * output stream's buffer is full, so a long list neither waits nor piles up in memory.
 */
async function printList(
  io: CliIo,
  states: AsyncIterable<ConsentState>,
  scope: string,
  json: boolean,
): Promise<number> {
  let count = 0;

  for await (const state of states) {
    if (!json && count === 0) {
      await writeLineDrained(io.stdout, listHeader);
    }

    const line = json ? JSON.stringify(stateJson(state)) : listLine(state);

    await writeLineDrained(io.stdout, line);

    count += 1;
  }

  if (!json && count === 0) {
    writeLine(io.stdout, `No numbers are opted out (scope ${scope}).`);
  }

  return ExitCode.ok;
}

/**
 * Fixed widths of the columns of `optout list` before the last, because its lines are
 * written as the store yields them. They fit an E.164 number, an ISO 8601 time and the
 * longest source name. A longer identity, such as a channel address, widens its own line.
 */
const listWidths = [16, 24, Math.max(...consentSources.map((source) => source.length))];

function formatListLine(cells: readonly string[]): string {
  return cells.map((cell, index) => cell.padEnd(listWidths[index] ?? 0)).join("  ");
}

const listHeader = formatListLine(["PHONE", "SINCE", "SOURCE", "SENDER"]);

function listLine(state: ConsentState): string {
  const last = state.lastEvent;
  const since = last?.occurredAt.toISOString() ?? "-";

  return formatListLine([state.phone, since, last?.source ?? "-", last?.sender ?? "-"]);
}

function quoteOrDash(value: string | undefined): string {
  return value === undefined ? "-" : JSON.stringify(value);
}
