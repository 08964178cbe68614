/**
 * The configuration file of `smsgate serve`, `send` and `optout`: one JSON file, with
 * `${VAR}` in any string value replaced from the environment, validated with zod.
 *
 * @module
 */

import type { CountryCode } from "libphonenumber-js";
import { isSupportedCountry } from "libphonenumber-js";
import { z } from "zod";
import { ConfigError } from "../errors.js";
import { isAddressOrSubnet } from "../http/node.js";
import {
  applicationNameField,
  maxConnectionsField,
  schemaNameField,
  timeoutMsField,
} from "../stores/postgres/fields.js";
import { busyTimeoutMsField } from "../stores/sqlite/fields.js";
import {
  httpUrl,
  httpUrlProblem,
  listenHost,
  notEmpty,
  positiveInt,
  quoteValue,
} from "./config-fields.js";
import {
  FileReadError,
  type FileReadProblem,
  maxConfigFileBytes,
  readRegularFile,
} from "./config-file.js";
import {
  configErrorMessage,
  describeReceived,
  describeReceivedValue,
  isSecretPath,
} from "./config-messages.js";
import { providersSchema, webhookSecretOptions } from "./config-providers.js";
import { findDuplicateKey } from "./json-duplicates.js";

/** File read by {@link loadConfig} when no path is given; a missing default file is fine. */
export const DEFAULT_CONFIG_FILE = "smsgate.config.json";

const publicUrlExample = "https://sms.example.com or https://example.com/sms";

const publicUrl = z
  .string()
  .superRefine((value, ctx) => {
    const problem =
      httpUrlProblem(value) ??
      (/[?#]/.test(value)
        ? `${quoteValue(value)} contains a query or fragment; ` +
          "give only the origin and an optional path prefix"
        : undefined);
    if (problem) {
      ctx.addIssue({ code: "custom", message: `${problem} (example: ${publicUrlExample})` });
    }
  })
  .transform((value) => value.replace(/\/+$/, ""));

const trustedProxy = z.string().refine(isAddressOrSubnet, {
  error: (issue) =>
    `${describeReceivedValue(issue.input)} is not an IP address or a subnet such as 10.0.0.0/8`,
});

const region = z
  .string()
  .transform((value) => value.toUpperCase())
  .refine((value): value is CountryCode => isSupportedCountry(value), {
    error: (issue) =>
      `${describeReceivedValue(issue.input)} is not a supported ISO 3166 alpha-2 region, such as US`,
  });

const sqliteStore = z.strictObject({
  type: z.literal("sqlite"),
  /** Database file, relative to the current directory. @default "./smsgate.db" */
  path: z.string().min(1, notEmpty).default("./smsgate.db"),
  /** How long a writer waits for a lock held by another process, in milliseconds. */
  busyTimeoutMs: busyTimeoutMsField.optional(),
});

const memoryStore = z.strictObject({ type: z.literal("memory") });

const postgresStore = z.strictObject({
  type: z.literal("postgres"),
  /** Connection string, such as `postgres://user:${PGPASSWORD}@db.internal:5432/app`. */
  url: z.string().regex(/^postgres(ql)?:\/\//, {
    error: "must be a postgres:// or postgresql:// connection string",
  }),
  /** Schema of the store's tables. @default "smsgate" */
  schema: schemaNameField.optional(),
  maxConnections: maxConnectionsField.optional(),
  connectTimeoutMs: timeoutMsField.optional(),
  statementTimeoutMs: timeoutMsField.optional(),
  applicationName: applicationNameField.optional(),
});

// Each store backend is one member of this union; a new backend adds one member. A store
// object without `type` is the default, SQLite.
const store = z
  .preprocess(
    (value) =>
      typeof value === "object" && value !== null && !Array.isArray(value) && !("type" in value)
        ? { type: "sqlite", ...value }
        : value,
    z.discriminatedUnion("type", [sqliteStore, memoryStore, postgresStore]),
  )
  .default({ type: "sqlite", path: "./smsgate.db" });

const listen = z
  .strictObject({
    host: listenHost.default("127.0.0.1"),
    /** TCP port; 0 picks any free port. */
    port: z
      .number()
      .int({ error: "must be a whole number" })
      .min(0, { error: "must be between 0 and 65535" })
      .max(65535, { error: "must be between 0 and 65535" })
      .default(8787),
  })
  .prefault({});

const limits = z
  .strictObject({
    maxBodyBytes: positiveInt.default(65536),
    headersTimeoutMs: positiveInt.default(10_000),
    requestTimeoutMs: positiveInt.default(30_000),
    maxConnections: positiveInt.default(1024),
  })
  .prefault({})
  .superRefine((value, ctx) => {
    if (value.headersTimeoutMs > value.requestTimeoutMs) {
      ctx.addIssue({
        code: "custom",
        path: ["headersTimeoutMs"],
        message:
          `${value.headersTimeoutMs} is longer than requestTimeoutMs ` +
          `(${value.requestTimeoutMs}); it must not exceed it`,
      });
    }
  });

const forward = z.strictObject({
  /** URL that every webhook event is posted to as JSON. */
  url: httpUrl,
  /** HMAC-SHA256 key of the `x-smsgate-signature` header. */
  secret: z.string().min(1, "is empty; set a long random secret shared with the app"),
  maxAttempts: positiveInt.default(20),
  timeoutMs: positiveInt.default(10_000),
});

const multipart = z
  .strictObject({
    /**
     * How long the parts of a multipart message wait for the rest before the message is
     * delivered flagged incomplete, in milliseconds.
     */
    timeoutMs: positiveInt.default(300_000),
  })
  .prefault({});

const replyText = z.string().min(1, { error: "must not be empty; leave the key out instead" });

const replies = z.strictObject({
  optOut: replyText.optional(),
  optIn: replyText.optional(),
  help: replyText.optional(),
});

const privacy = z
  .strictObject({
    /**
     * Secret of the pseudonyms that `optout forget` keeps erased numbers under, usually
     * `${SMSGATE_PSEUDONYM_KEY}`. The store keeps a check value of it, and every command
     * stops with a configuration error when the key is missing or another one while the
     * store holds erased numbers, because the guard could not find their pseudonyms.
     */
    pseudonymKey: z
      .string()
      .refine((key) => key.trim().length >= 32, {
        error: "has fewer than 32 non-blank characters; use a long random secret",
      })
      .optional(),
    /**
     * Start although `pseudonymKey` is missing or is not the key that made the store's
     * erased numbers. Their opt-outs are then not enforced, and a warning is logged.
     */
    ignoreLostPseudonymKey: z.boolean().default(false),
  })
  .prefault({});

const baseSchema = z.strictObject({
  publicUrl: publicUrl.optional(),
  trustProxy: z.array(trustedProxy).default([]),
  insecureSkipSignatureVerification: z.boolean().default(false),
  listen,
  store,
  defaultRegion: region.optional(),
  optOutScope: z.enum(["global", "sender"]).default("global"),
  keywords: z.strictObject({ yesIsOptIn: z.boolean().default(false) }).prefault({}),
  limits,
  multipart,
  forward: forward.optional(),
  replies: replies.optional(),
  providers: providersSchema.optional(),
  privacy,
});

/** Adds an issue for every configured provider that has no webhook secret. */
function checkProviderSecrets(
  config: z.output<typeof baseSchema>,
  ctx: z.core.$RefinementCtx<z.output<typeof baseSchema>>,
): void {
  if (config.insecureSkipSignatureVerification === true) {
    return;
  }

  for (const { provider, option, label, variable } of webhookSecretOptions) {
    const providerConfig: unknown = config.providers?.[provider];
    if (typeof providerConfig !== "object" || providerConfig === null) {
      continue;
    }

    // A secret of another type has a type error already.
    const secret = (providerConfig as Record<string, unknown>)[option];
    if (secret === undefined || secret === "") {
      ctx.addIssue({
        code: "custom",
        path: ["providers", provider, option],
        message:
          `is missing or empty, so ${label} webhooks cannot be verified; ` +
          `set it (for example "\${${variable}}")`,
      });
    }
  }
}

/**
 * The zod schema of the configuration file. Objects are strict, so a misspelt key is an
 * error, and every default is filled in.
 */
export const configSchema = baseSchema.check(
  // The check also runs when other keys are invalid, so all problems show at once. The
  // value may then be only partly valid, so the check reads it defensively.
  z.superRefine(checkProviderSecrets, { when: () => true }),
);

/** The validated configuration, with every default filled in. */
export type SmsgateConfig = z.output<typeof configSchema>;

/** The configuration file as written, before defaults. */
export type SmsgateConfigInput = z.input<typeof configSchema>;

type PathSegment = string | number | symbol;

/** Formats a path as `providers.twilio.authToken` or `trustProxy[1]`. */
export function formatOptionPath(path: readonly PathSegment[]): string {
  let text = "";
  for (const segment of path) {
    if (typeof segment === "number") {
      text += `[${segment}]`;
    } else {
      text += text === "" ? String(segment) : `.${String(segment)}`;
    }
  }

  return text;
}

const variableName = /^[A-Za-z_][A-Za-z0-9_]*$/;

/** Replaces `${VAR}` in one string; `$${` stands for a literal `${`. */
function expandString(value: string, path: string, env: NodeJS.ProcessEnv): string {
  return value.replace(/\$\$\{|\$\{([^}]*)(\})?/g, (match, name?: string, close?: string) => {
    if (match === "$${") {
      return "${";
    }

    if (close === undefined || name === undefined || !variableName.test(name)) {
      throw new ConfigError(
        path,
        `invalid variable reference ${JSON.stringify(match)}; write \${NAME} ` +
          "with a letter, digit or underscore name, or $${ for a literal ${",
      );
    }

    const replacement = env[name];
    if (replacement === undefined) {
      throw new ConfigError(
        path,
        `environment variable ${name} is not set; set it, or write $\${${name}} ` +
          "for the literal text",
      );
    }

    return replacement;
  });
}

/**
 * Replaces `${VAR}` in every string value of a parsed JSON document with the variable's
 * value from `env`. Keys are left as they are.
 *
 * @throws {ConfigError} naming the option path when a variable is not set.
 */
export function expandEnvironment(
  value: unknown,
  env: NodeJS.ProcessEnv = process.env,
  path: readonly PathSegment[] = [],
): unknown {
  if (typeof value === "string") {
    return expandString(value, formatOptionPath(path), env);
  }

  if (Array.isArray(value)) {
    return value.map((item, index) => expandEnvironment(item, env, [...path, index]));
  }

  if (typeof value === "object" && value !== null) {
    const entries = Object.entries(value).map(([key, item]) => [
      key,
      expandEnvironment(item, env, [...path, key]),
    ]);
    return Object.fromEntries(entries);
  }

  return value;
}

/** Lists the keys an object schema allows at `path`, for the unknown-key message. */
function allowedKeys(path: readonly PathSegment[], input: unknown): string[] {
  let schema: z.core.$ZodType = baseSchema;
  let value = input;
  for (const segment of path) {
    schema = unwrapSchema(schema, value);
    const shape = objectShape(schema);
    const next = shape?.[String(segment)];
    if (!next) {
      return [];
    }

    schema = next;
    value = (value as Record<string, unknown> | undefined)?.[String(segment)];
  }

  return Object.keys(objectShape(unwrapSchema(schema, value)) ?? {});
}

function objectShape(schema: z.core.$ZodType): Record<string, z.core.$ZodType> | undefined {
  const def = schema._zod.def as { type: string; shape?: Record<string, z.core.$ZodType> };
  return def.type === "object" ? def.shape : undefined;
}

/** Looks through defaults, optionals and pipes, and picks the union member for `value`. */
function unwrapSchema(schema: z.core.$ZodType, value: unknown): z.core.$ZodType {
  const def = schema._zod.def as {
    type: string;
    innerType?: z.core.$ZodType;
    in?: z.core.$ZodType;
    out?: z.core.$ZodType;
    options?: z.core.$ZodType[];
  };
  if (def.innerType) {
    return unwrapSchema(def.innerType, value);
  }

  // A preprocessing step is a pipe from a transform; the shape is on its output side.
  if (def.type === "pipe" && def.in) {
    const isTransform = def.in._zod.def.type === "transform";
    const side = isTransform && def.out ? def.out : def.in;

    return unwrapSchema(side, value);
  }

  if (def.type === "union" && def.options) {
    const type = (value as { type?: unknown } | undefined)?.type;
    const member = def.options.find((option) => {
      const typeSchema = objectShape(option)?.type?._zod.def as { values?: unknown[] };
      return typeSchema?.values?.includes(type) === true;
    });
    return member ?? schema;
  }

  return schema;
}

/** Turns one zod issue into `path: message` text. */
function describeIssue(issue: z.core.$ZodIssue, input: unknown): [string, string] {
  if (issue.code === "unrecognized_keys") {
    const allowed = allowedKeys(issue.path, input);
    const keyPaths = issue.keys.map((key) => formatOptionPath([...issue.path, key]));
    const hint = allowed.length > 0 ? `; allowed keys here: ${allowed.join(", ")}` : "";
    return [keyPaths.join(", "), `unknown option, check the spelling${hint}`];
  }

  if (isValueCheck(issue)) {
    const received = describeReceived(issue.input, isSecretPath(issue.path));
    return [formatOptionPath(issue.path), `${issue.message} (received ${received})`];
  }

  return [formatOptionPath(issue.path), issue.message];
}

/**
 * Checks for a failed range, whole-number or pattern check, whose message does not name
 * the value.
 */
function isValueCheck(issue: z.core.$ZodIssue): boolean {
  const isRange = issue.code === "too_small" || issue.code === "too_big";
  const isWhole = issue.code === "invalid_type" && issue.expected === "int";
  const isPattern = issue.code === "invalid_format" && issue.format === "regex";

  if (typeof issue.input === "number") {
    return isRange || isWhole;
  }

  return typeof issue.input === "string" && (isRange || isPattern);
}

/**
 * Drops the other issues of a field that has the wrong type, such as the missing-secret
 * check of an `authToken` given as a number, so that each field gets one message.
 */
function dropIssuesOfMistypedFields(issues: readonly z.core.$ZodIssue[]): z.core.$ZodIssue[] {
  const mistyped = new Set(
    issues
      .filter((issue) => issue.code === "invalid_type")
      .map((issue) => formatOptionPath(issue.path)),
  );

  return issues.filter(
    (issue) => issue.code === "invalid_type" || !mistyped.has(formatOptionPath(issue.path)),
  );
}

/**
 * Expands `${VAR}` references and validates a parsed configuration document.
 *
 * @throws {ConfigError} naming the option path of the first problem; the message lists
 *   every problem, one per line.
 */
export function parseConfig(input: unknown, env: NodeJS.ProcessEnv = process.env): SmsgateConfig {
  const expanded = expandEnvironment(input, env);
  // The error function applies to this parse only, because other code may share zod.
  const result = configSchema.safeParse(expanded, { error: configErrorMessage, reportInput: true });
  if (result.success) {
    return result.data;
  }

  const issues = dropIssuesOfMistypedFields(result.error.issues);
  const described = issues.map((issue) => describeIssue(issue, expanded));
  const [first, ...rest] = described;
  const [path, message] = first ?? ["", "invalid configuration"];
  const others = rest.map(([otherPath, text]) => (otherPath ? `${otherPath}: ${text}` : text));
  throw new ConfigError(path, [message, ...others].join("\n"));
}

// A JSON string may not contain a raw control character.
// biome-ignore lint/suspicious/noControlCharactersInRegex: the rule is about exactly these
const stringToken = /"(?:[^"\\\u0000-\u001f]|\\(?:["\\/bfnrt]|u[0-9a-fA-F]{4}))*"/y;

const numberToken = /-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?/y;

/** Finds the offset and reason of the first JSON syntax error, or undefined if none. */
function locateJsonError(text: string): { offset: number; reason: string } | undefined {
  let index = 0;

  const fail = (reason: string): never => {
    throw new JsonSyntaxProblem(index, reason);
  };

  const skipSpace = (): void => {
    while (/[ \t\n\r]/.test(text.charAt(index))) {
      index += 1;
    }
  };

  const expectLiteral = (literal: string): void => {
    if (!text.startsWith(literal, index)) {
      fail(`unexpected ${describeChar(text.charAt(index))}`);
    }
    index += literal.length;
  };

  const readToken = (pattern: RegExp, problem: string): void => {
    pattern.lastIndex = index;
    if (!pattern.test(text)) {
      fail(problem);
    }
    index = pattern.lastIndex;
  };

  const readString = (): void => readToken(stringToken, "invalid or unterminated string");

  const readNumber = (): void => readToken(numberToken, "invalid number");

  const readList = (close: string, readItem: () => void): void => {
    index += 1;
    skipSpace();
    if (text.charAt(index) === close) {
      index += 1;
      return;
    }

    for (;;) {
      readItem();
      skipSpace();
      const next = text.charAt(index);
      if (next === close) {
        index += 1;
        return;
      }
      if (next !== ",") {
        fail(`expected "," or "${close}" but found ${describeChar(next)}`);
      }
      index += 1;
    }
  };

  const readMember = (): void => {
    skipSpace();
    if (text.charAt(index) !== '"') {
      fail(`expected a property name in double quotes but found ${describeChar(text[index])}`);
    }
    readString();
    skipSpace();
    if (text.charAt(index) !== ":") {
      fail(`expected ":" but found ${describeChar(text.charAt(index))}`);
    }
    index += 1;
    readValue();
  };

  const readValue = (): void => {
    skipSpace();
    const char = text.charAt(index);
    if (char === "{") {
      readList("}", readMember);
    } else if (char === "[") {
      readList("]", readValue);
    } else if (char === '"') {
      readString();
    } else if (char === "-" || /\d/.test(char)) {
      readNumber();
    } else if (char === "t") {
      expectLiteral("true");
    } else if (char === "f") {
      expectLiteral("false");
    } else if (char === "n") {
      expectLiteral("null");
    } else {
      fail(`unexpected ${describeChar(char)}`);
    }
  };

  try {
    readValue();
    skipSpace();
    if (index < text.length) {
      fail(`unexpected ${describeChar(text.charAt(index))} after the end of the document`);
    }
    return undefined;
  } catch (error) {
    if (error instanceof JsonSyntaxProblem) {
      return error;
    }

    throw error;
  }
}

class JsonSyntaxProblem {
  constructor(
    readonly offset: number,
    readonly reason: string,
  ) {}
}

function describeChar(char: string | undefined): string {
  return char ? JSON.stringify(char) : "end of file";
}

/** Converts an offset to a 1-based line and column. */
function lineAndColumn(text: string, offset: number): { line: number; column: number } {
  const before = text.slice(0, offset).split("\n");
  return { line: before.length, column: (before.at(-1)?.length ?? 0) + 1 };
}

/** Parses JSON text, reporting the line and column of a syntax error. */
function parseJson(text: string, file: string): unknown {
  try {
    return JSON.parse(text);
  } catch (error) {
    const located = locateJsonError(text) ?? { offset: text.length, reason: "invalid JSON" };
    const { line, column } = lineAndColumn(text, located.offset);
    // The engine's own message quotes the document, which may contain secrets, so only
    // the located reason is shown.
    throw new ConfigError(
      "",
      `Invalid JSON in ${file} at line ${line}, column ${column} ` +
        `(position ${located.offset}): ${located.reason}`,
      { cause: error },
    );
  }
}

/** The fix that the message names for each problem of reading the configuration file. */
const readProblemFixes: Record<FileReadProblem, string> = {
  "not-regular": "give the path of a JSON file",
  "too-large": "give the path of the JSON configuration file",
  "permission-denied": "check the file's permissions",
  "read-failed": "check the file",
};

/** Reads the configuration file, returning undefined when it does not exist. */
async function readOptionalFile(file: string): Promise<string | undefined> {
  try {
    return await readRegularFile(file, maxConfigFileBytes);
  } catch (error) {
    if (!(error instanceof FileReadError)) {
      throw error;
    }

    const fix = readProblemFixes[error.problem];

    throw new ConfigError("", `Cannot read configuration file ${file}: ${error.message}; ${fix}`, {
      cause: error.cause ?? error,
    });
  }
}

/** Raises a {@link ConfigError} when an object of the configuration text repeats a key. */
function rejectDuplicateKeys(text: string, file: string): void {
  const duplicate = findDuplicateKey(text);

  if (duplicate === undefined) {
    return;
  }

  throw new ConfigError(
    formatOptionPath(duplicate.path),
    `the key is given more than once in ${file} (lines ${duplicate.firstLine} and ` +
      `${duplicate.line}), and JSON would use only the last; keep one of them`,
  );
}

/**
 * Loads the configuration: reads the JSON file, expands `${VAR}` from `env` and validates
 * it. Without `path`, {@link DEFAULT_CONFIG_FILE} in the current directory is read if it
 * exists, and the defaults are used if it does not.
 *
 * @example
 * const config = await loadConfig("./smsgate.config.json");
 * @throws {ConfigError} when the file given is missing or unreadable, is not a regular file,
 *   is larger than 1 MiB, is not valid JSON, repeats a key in an object, names an unset
 *   variable, or fails validation. The message names the option path.
 */
export async function loadConfig(
  path?: string,
  env: NodeJS.ProcessEnv = process.env,
): Promise<SmsgateConfig> {
  const file = path ?? DEFAULT_CONFIG_FILE;
  const text = await readOptionalFile(file);
  if (text === undefined) {
    if (path !== undefined) {
      throw new ConfigError("", `Configuration file ${path} not found; check the path`);
    }

    return parseConfig({}, env);
  }

  // Read as UTF-8, a UTF-16 byte order mark becomes two U+FFFD, and UTF-16 text has NULs.
  if (text.startsWith("\uFFFD\uFFFD") || text.includes("\u0000")) {
    throw new ConfigError(
      "",
      `Configuration file ${file} looks like UTF-16 text; save it as UTF-8 and try again`,
    );
  }

  const content = text.replace(/^\uFEFF/, "");
  if (content.trim() === "") {
    throw new ConfigError(
      "",
      `Configuration file ${file} is empty; write a JSON object such as {}`,
    );
  }

  const document = parseJson(content, file);

  if (typeof document !== "object" || document === null || Array.isArray(document)) {
    const found =
      document === null ? "null" : Array.isArray(document) ? "an array" : typeof document;

    throw new ConfigError(
      "",
      `Configuration file ${file} contains ${found}; it must contain one JSON object, such as {}`,
    );
  }

  rejectDuplicateKeys(content, file);
  rejectDeepNesting(document, file);

  return parseConfig(document, env);
}

/**
 * Deepest nesting of objects and arrays that a configuration file may have. The options,
 * with the body template of a generic provider, need far fewer levels, and the checks
 * walk a document recursively, which thousands of levels would overflow.
 */
const maxConfigDepth = 32;

/** Rejects a document nested deeper than {@link maxConfigDepth}, without recursion. */
function rejectDeepNesting(document: object, file: string): void {
  const pending: Array<[value: unknown, depth: number]> = [[document, 1]];

  for (let item = pending.pop(); item !== undefined; item = pending.pop()) {
    const [value, depth] = item;

    if (typeof value !== "object" || value === null) {
      continue;
    }

    if (depth > maxConfigDepth) {
      throw new ConfigError(
        "",
        `Configuration file ${file} nests objects or arrays more than ${maxConfigDepth} ` +
          "levels deep; no option is nested that deep, so check the file",
      );
    }

    for (const child of Object.values(value)) {
      pending.push([child, depth + 1]);
    }
  }
}
