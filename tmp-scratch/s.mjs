// src/cli/serve.ts

// src/cli/config.ts
import { readFile } from "node:fs/promises";
import { isIP } from "node:net";
import { constants } from "node:os";
import { parseArgs } from "node:util";
import { isSupportedCountry } from "libphonenumber-js";
import { z } from "zod";

// src/errors.ts
var brand = /* @__PURE__ */ Symbol.for("smsgate.error");
var SmsgateError = class extends Error {
  /** Stable machine-readable code, such as `SMSGATE_INVALID_PHONE_NUMBER`. */
  code;
  constructor(code2, message, options) {
    super(message, options);
    this.name = "SmsgateError";
    this.code = code2;
    Object.defineProperty(this, brand, { value: true });
  }
};
var InvalidPhoneNumberError = class extends SmsgateError {
  /** The text that was given, unchanged. */
  input;
  constructor(input, detail, options) {
    super(
      "SMSGATE_INVALID_PHONE_NUMBER",
      `Invalid phone number ${JSON.stringify(input)}: ${detail}`,
      options,
    );
    this.name = "InvalidPhoneNumberError";
    this.input = input;
  }
};
var RecipientOptedOutError = class extends SmsgateError {
  /** The recipient in E.164 form (or the short code). */
  to;
  /** The scope that was checked: a sender identity or `*`. */
  scope;
  constructor(to, scope) {
    super(
      "SMSGATE_RECIPIENT_OPTED_OUT",
      `Recipient ${redactPhone(to)} has opted out (scope ${scope}); the message was not sent`,
    );
    this.name = "RecipientOptedOutError";
    this.to = to;
    this.scope = scope;
  }
};
var ConsentCheckError = class extends SmsgateError {
  constructor(message, options) {
    super("SMSGATE_CONSENT_CHECK_FAILED", message, options);
    this.name = "ConsentCheckError";
  }
};
var StoreError = class extends SmsgateError {
  constructor(message, options) {
    super("SMSGATE_STORE_FAILED", message, options);
    this.name = "StoreError";
  }
};
var ProviderError = class extends SmsgateError {
  provider;
  reason;
  providerCode;
  httpStatus;
  requestId;
  rawBody;
  constructor(message, details) {
    super("SMSGATE_PROVIDER_ERROR", message, { cause: details.cause });
    this.name = "ProviderError";
    this.provider = details.provider;
    this.reason = details.reason;
    this.providerCode = details.providerCode;
    this.httpStatus = details.httpStatus;
    this.requestId = details.requestId;
    this.rawBody = details.rawBody;
  }
};
var WebhookVerificationError = class extends SmsgateError {
  failure;
  constructor(failure, message) {
    super("SMSGATE_WEBHOOK_VERIFICATION_FAILED", message);
    this.name = "WebhookVerificationError";
    this.failure = failure;
  }
};
var WebhookParseError = class extends SmsgateError {
  constructor(message, options) {
    super("SMSGATE_WEBHOOK_INVALID", message, options);
    this.name = "WebhookParseError";
  }
};
var InvalidRequestError = class extends SmsgateError {
  constructor(message) {
    super("SMSGATE_INVALID_REQUEST", message);
    this.name = "InvalidRequestError";
  }
};
var ConfigError = class extends SmsgateError {
  /** The option path, such as `providers.twilio.authToken`. */
  path;
  constructor(path, message, options) {
    super("SMSGATE_INVALID_CONFIG", path ? `${path}: ${message}` : message, options);
    this.name = "ConfigError";
    this.path = path;
  }
};
function hasCode(value, code2) {
  return isSmsgateError(value) && value.code === code2;
}
function isSmsgateError(value) {
  return typeof value === "object" && value !== null && brand in value;
}
function isRecipientOptedOutError(value) {
  return hasCode(value, "SMSGATE_RECIPIENT_OPTED_OUT");
}
function isProviderError(value) {
  return hasCode(value, "SMSGATE_PROVIDER_ERROR");
}
function isWebhookVerificationError(value) {
  return hasCode(value, "SMSGATE_WEBHOOK_VERIFICATION_FAILED");
}
function isWebhookParseError(value) {
  return hasCode(value, "SMSGATE_WEBHOOK_INVALID");
}
function isConfigError(value) {
  return hasCode(value, "SMSGATE_INVALID_CONFIG");
}
function redactPhone(phone) {
  if (phone.length <= 6) {
    return phone;
  }
  return `${phone.slice(0, phone.startsWith("+") ? 2 : 1)}***${phone.slice(-4)}`;
}

// src/cli/config.ts
var DEFAULT_CONFIG_FILE = "smsgate.config.json";
var publicUrlExample = "https://sms.example.com or https://example.com/sms";
function httpUrlProblem(value) {
  if (!/^https?:\/\//i.test(value)) {
    return `${JSON.stringify(value)} is not an http:// or https:// URL`;
  }
  if (!URL.canParse(value) || new URL(value).hostname === "") {
    return `${JSON.stringify(value)} is not a valid URL`;
  }
  return void 0;
}
var httpUrl = z.string().superRefine((value, ctx) => {
  const problem = httpUrlProblem(value);
  if (problem) {
    ctx.addIssue({ code: "custom", message: problem });
  }
});
var publicUrl = z
  .string()
  .superRefine((value, ctx) => {
    const problem =
      httpUrlProblem(value) ??
      (/[?#]/.test(value)
        ? `${JSON.stringify(value)} contains a query or fragment; give only the origin and an optional path prefix`
        : void 0);
    if (problem) {
      ctx.addIssue({ code: "custom", message: `${problem} (example: ${publicUrlExample})` });
    }
  })
  .transform((value) => value.replace(/\/+$/, ""));
function isAddressOrSubnet(value) {
  const [address = "", prefix, extra] = value.split("/");
  const family = isIP(address);
  if (family === 0 || extra !== void 0) {
    return false;
  }
  if (prefix === void 0) {
    return true;
  }
  const bits = Number(prefix);
  return /^\d{1,3}$/.test(prefix) && bits <= (family === 4 ? 32 : 128);
}
var trustedProxy = z.string().refine(isAddressOrSubnet, {
  error: (issue) =>
    `${JSON.stringify(issue.input)} is not an IP address or a subnet such as 10.0.0.0/8`,
});
var region = z
  .string()
  .transform((value) => value.toUpperCase())
  .refine((value) => isSupportedCountry(value), {
    error: (issue) =>
      `${JSON.stringify(issue.input)} is not a supported ISO 3166 alpha-2 region, such as US`,
  });
var notEmpty = { error: "must not be empty" };
var positiveInt = z
  .number()
  .int({ error: "must be a whole number" })
  .positive({ error: "must be greater than 0" });
var sqliteStore = z.strictObject({
  type: z.literal("sqlite"),
  /** Database file, relative to the current directory. @default "./smsgate.db" */
  path: z.string().min(1, notEmpty).default("./smsgate.db"),
  /** How long a writer waits for a lock held by another process, in milliseconds. */
  busyTimeoutMs: z
    .number()
    .int({ error: "must be a whole number" })
    .nonnegative({ error: "must not be negative" })
    .optional(),
});
var memoryStore = z.strictObject({ type: z.literal("memory") });
var store = z
  .discriminatedUnion("type", [sqliteStore, memoryStore])
  .default({ type: "sqlite", path: "./smsgate.db" });
var listen = z
  .strictObject({
    host: z.string().min(1, notEmpty).default("127.0.0.1"),
    /** TCP port; 0 picks any free port. */
    port: z
      .number()
      .int({ error: "must be a whole number" })
      .min(0, { error: "must be between 0 and 65535" })
      .max(65535, { error: "must be between 0 and 65535" })
      .default(8787),
  })
  .prefault({});
var limits = z
  .strictObject({
    maxBodyBytes: positiveInt.default(65536),
    headersTimeoutMs: positiveInt.default(1e4),
    requestTimeoutMs: positiveInt.default(3e4),
    maxConnections: positiveInt.default(1024),
  })
  .prefault({})
  .superRefine((value, ctx) => {
    if (value.headersTimeoutMs > value.requestTimeoutMs) {
      ctx.addIssue({
        code: "custom",
        path: ["headersTimeoutMs"],
        message: `${value.headersTimeoutMs} is longer than requestTimeoutMs (${value.requestTimeoutMs}); it must not exceed it`,
      });
    }
  });
var forward = z.strictObject({
  /** Where every webhook event is posted as JSON. */
  url: httpUrl,
  /** HMAC-SHA256 key of the `x-smsgate-signature` header. */
  secret: z.string().min(1, "is empty; set a long random secret shared with the app"),
  maxAttempts: positiveInt.default(20),
  timeoutMs: positiveInt.default(1e4),
});
var replyText = z.string().min(1, { error: "must not be empty; leave the key out instead" });
var replies = z.strictObject({
  optOut: replyText.optional(),
  optIn: replyText.optional(),
  help: replyText.optional(),
});
var twilio = z.strictObject({
  accountSid: z.string().regex(/^AC[0-9a-fA-F]{32}$/, {
    error: (issue) =>
      `${JSON.stringify(issue.input)} is not a Twilio Account SID (AC followed by 32 hex digits)`,
  }),
  /** Required unless `insecureSkipSignatureVerification` is true. */
  authToken: z.string().optional(),
  from: z.string().min(1, notEmpty).optional(),
  messagingServiceSid: z
    .string()
    .regex(/^MG[0-9a-fA-F]{32}$/, {
      error: (issue) =>
        `${JSON.stringify(issue.input)} is not a Messaging Service SID (MG followed by 32 hex digits)`,
    })
    .optional(),
  apiBaseUrl: httpUrl.optional(),
});
var providers = z.strictObject({ twilio: twilio.optional() });
var baseSchema = z.strictObject({
  publicUrl: publicUrl.optional(),
  trustProxy: z.array(trustedProxy).default([]),
  insecureSkipSignatureVerification: z.boolean().default(false),
  listen,
  store,
  defaultRegion: region.optional(),
  optOutScope: z.enum(["global", "sender"]).default("global"),
  keywords: z.strictObject({ yesIsOptIn: z.boolean().default(false) }).prefault({}),
  limits,
  forward: forward.optional(),
  replies: replies.optional(),
  providers: providers.optional(),
});
function checkProviderSecrets(config, ctx) {
  const twilioConfig = config.providers?.twilio;
  if (typeof twilioConfig !== "object" || config.insecureSkipSignatureVerification === true) {
    return;
  }
  if (typeof twilioConfig.authToken !== "string" || twilioConfig.authToken === "") {
    ctx.addIssue({
      code: "custom",
      path: ["providers", "twilio", "authToken"],
      message:
        'is missing or empty, so Twilio webhooks cannot be verified; set it (for example "${TWILIO_AUTH_TOKEN}")',
    });
  }
}
var configSchema = baseSchema.check(
  // The check also runs when other keys are invalid, so all problems show at once; it
  // reads the value defensively because that value may be only partly valid then.
  z.superRefine(checkProviderSecrets, { when: () => true }),
);
function formatOptionPath(path) {
  let text = "";
  for (const segment2 of path) {
    if (typeof segment2 === "number") {
      text += `[${segment2}]`;
    } else {
      text += text === "" ? String(segment2) : `.${String(segment2)}`;
    }
  }
  return text;
}
var variableName = /^[A-Za-z_][A-Za-z0-9_]*$/;
function expandString(value, path, env) {
  return value.replace(/\$\$\{|\$\{([^}]*)(\})?/g, (match, name, close) => {
    if (match === "$${") {
      return "${";
    }
    if (close === void 0 || name === void 0 || !variableName.test(name)) {
      throw new ConfigError(
        path,
        `invalid variable reference ${JSON.stringify(match)}; write \${NAME} with a letter, digit or underscore name, or $\${ for a literal \${`,
      );
    }
    const replacement = env[name];
    if (replacement === void 0) {
      throw new ConfigError(
        path,
        `environment variable ${name} is not set; set it, or write $\${${name}} for the literal text`,
      );
    }
    return replacement;
  });
}
function expandEnvironment(value, env = process.env, path = []) {
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
function allowedKeys(path, input) {
  let schema = baseSchema;
  let value = input;
  for (const segment2 of path) {
    schema = unwrapSchema(schema, value);
    const shape = objectShape(schema);
    const next = shape?.[String(segment2)];
    if (!next) {
      return [];
    }
    schema = next;
    value = value?.[String(segment2)];
  }
  return Object.keys(objectShape(unwrapSchema(schema, value)) ?? {});
}
function objectShape(schema) {
  const def = schema._zod.def;
  return def.type === "object" ? def.shape : void 0;
}
function unwrapSchema(schema, value) {
  const def = schema._zod.def;
  if (def.innerType) {
    return unwrapSchema(def.innerType, value);
  }
  if (def.type === "pipe" && def.in) {
    return unwrapSchema(def.in, value);
  }
  if (def.type === "union" && def.options) {
    const type = value?.type;
    const member = def.options.find((option) => {
      const typeSchema = objectShape(option)?.type?._zod.def;
      return typeSchema?.values?.includes(type) === true;
    });
    return member ?? schema;
  }
  return schema;
}
function describeIssue(issue, input) {
  if (issue.code === "unrecognized_keys") {
    const allowed = allowedKeys(issue.path, input);
    const keyPaths = issue.keys.map((key) => formatOptionPath([...issue.path, key]));
    const hint = allowed.length > 0 ? `; allowed keys here: ${allowed.join(", ")}` : "";
    return [keyPaths.join(", "), `unknown option, check the spelling${hint}`];
  }
  if (issue.code === "invalid_type" && issue.message.endsWith("received undefined")) {
    return [formatOptionPath(issue.path), `is required (expected ${issue.expected})`];
  }
  return [formatOptionPath(issue.path), issue.message];
}
function parseConfig(input, env = process.env) {
  const expanded = expandEnvironment(input, env);
  const result = configSchema.safeParse(expanded);
  if (result.success) {
    return result.data;
  }
  const described = result.error.issues.map((issue) => describeIssue(issue, expanded));
  const [first, ...rest] = described;
  const [path, message] = first ?? ["", "invalid configuration"];
  const others = rest.map(([otherPath, text]) => (otherPath ? `${otherPath}: ${text}` : text));
  throw new ConfigError(path, [message, ...others].join("\n"));
}
var stringToken = /"(?:[^"\\\u0000-\u001f]|\\(?:["\\/bfnrt]|u[0-9a-fA-F]{4}))*"/y;
var numberToken = /-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?/y;
function locateJsonError(text) {
  let index = 0;
  const fail = (reason) => {
    throw new JsonSyntaxProblem(index, reason);
  };
  const skipSpace = () => {
    while (/[ \t\n\r]/.test(text.charAt(index))) {
      index += 1;
    }
  };
  const expectLiteral = (literal) => {
    if (!text.startsWith(literal, index)) {
      fail(`unexpected ${describeChar(text.charAt(index))}`);
    }
    index += literal.length;
  };
  const readToken = (pattern, problem) => {
    pattern.lastIndex = index;
    if (!pattern.test(text)) {
      fail(problem);
    }
    index = pattern.lastIndex;
  };
  const readString2 = () => readToken(stringToken, "invalid or unterminated string");
  const readNumber = () => readToken(numberToken, "invalid number");
  const readList = (close, readItem) => {
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
  const readMember = () => {
    skipSpace();
    if (text.charAt(index) !== '"') {
      fail(`expected a property name in double quotes but found ${describeChar(text[index])}`);
    }
    readString2();
    skipSpace();
    if (text.charAt(index) !== ":") {
      fail(`expected ":" but found ${describeChar(text.charAt(index))}`);
    }
    index += 1;
    readValue();
  };
  const readValue = () => {
    skipSpace();
    const char = text.charAt(index);
    if (char === "{") {
      readList("}", readMember);
    } else if (char === "[") {
      readList("]", readValue);
    } else if (char === '"') {
      readString2();
    } else if (char === "-" || /\d/.test(char)) {
      readNumber();
    } else if (char === "t" || char === "f" || char === "n") {
      expectLiteral(char === "t" ? "true" : char === "f" ? "false" : "null");
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
    return void 0;
  } catch (error) {
    if (error instanceof JsonSyntaxProblem) {
      return error;
    }
    throw error;
  }
}
var JsonSyntaxProblem = class {
  constructor(offset, reason) {
    this.offset = offset;
    this.reason = reason;
  }
  offset;
  reason;
};
function describeChar(char) {
  return char ? JSON.stringify(char) : "end of file";
}
function lineAndColumn(text, offset) {
  const before = text.slice(0, offset).split("\n");
  return { line: before.length, column: (before.at(-1)?.length ?? 0) + 1 };
}
function parseJson(text, file) {
  try {
    return JSON.parse(text);
  } catch (error) {
    const located = locateJsonError(text) ?? { offset: text.length, reason: "invalid JSON" };
    const { line, column } = lineAndColumn(text, located.offset);
    throw new ConfigError(
      "",
      `Invalid JSON in ${file} at line ${line}, column ${column} (position ${located.offset}): ${located.reason}`,
      { cause: error },
    );
  }
}
async function readOptionalFile(file) {
  try {
    return await readFile(file, "utf8");
  } catch (error) {
    if (error.code === "ENOENT") {
      return void 0;
    }
    throw new ConfigError("", `Cannot read configuration file ${file}: ${String(error)}`, {
      cause: error,
    });
  }
}
async function loadConfig(path, env = process.env) {
  const file = path ?? DEFAULT_CONFIG_FILE;
  const text = await readOptionalFile(file);
  if (text === void 0) {
    if (path !== void 0) {
      throw new ConfigError("", `Configuration file ${path} not found; check the path`);
    }
    return parseConfig({}, env);
  }
  const document = parseJson(text.replace(/^\uFEFF/, ""), file);
  return parseConfig(document, env);
}

// src/cli/log.ts
import pino from "pino";

var phonePattern = /(\+|%2B)([1-9]\d{6,14})(?!\d)/gi;
function maskPhoneNumbers(text) {
  return text.replace(phonePattern, (_match, plus, digits) => {
    return plus + redactPhone(`+${digits}`).slice(1);
  });
}
var secretKey =
  /(?:token|secret|secrets|password|signature)$|^(?:authorization|cookie|set-cookie|body|rawbody)$/i;
var maxDepth = 8;
function scrub(value, depth = 0) {
  if (typeof value === "string") {
    return maskPhoneNumbers(value);
  }
  if (value instanceof Error) {
    return scrubError(value);
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
  const copy = {};
  for (const [key, item] of Object.entries(value)) {
    copy[key] = secretKey.test(key) ? "[redacted]" : scrub(item, depth + 1);
  }
  return copy;
}
function scrubError(error) {
  if (!(error instanceof Error)) {
    return scrub(error);
  }
  return scrub({ ...pino.stdSerializers.err(error) });
}
function createLogger(options = {}) {
  const destination = options.destination ?? process.stdout;
  return pino(
    {
      level: options.level ?? "info",
      timestamp: pino.stdTimeFunctions.isoTime,
      serializers: { err: scrubError, error: scrubError },
      formatters: {
        log: (object) => scrub(object),
      },
      hooks: {
        logMethod(args, method) {
          const masked = args.map((arg) => (typeof arg === "string" ? maskPhoneNumbers(arg) : arg));
          method.apply(this, masked);
        },
      },
    },
    { write: (text) => destination.write(text) },
  );
}

// src/cli/output.ts
var ExitCode = {
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
};
var UsageError = class extends Error {
  /** The command whose usage text should be pointed to, such as `optout add`. */
  command;
  constructor(message, command) {
    super(message);
    this.name = "UsageError";
    this.command = command;
  }
};
function writeLine(sink, text = "") {
  sink.write(`${text}
`);
}
function writeError(io, message) {
  writeLine(io.stderr, `smsgate: ${message}`);
}
function errorMessage(error) {
  return error instanceof Error ? error.message : String(error);
}

// src/cli/runtime.ts
import { randomBytes as randomBytes3 } from "node:crypto";
import { resolve } from "node:path";

// providers/twilio/errors.ts
var twilioErrorCodeReasons = Object.freeze({
  // The recipient replied STOP (or another opt-out word) to this sender or Messaging
  // Service. Twilio sends nothing to them until they reply START, so a retry never helps.
  21610: "opted-out",
  // The recipient cannot take SMS. `To` is not a valid number (21211), not a mobile
  // number (21614), a landline (21635), or missing (21604). Later, the handset may no
  // longer exist (30005), or it is a landline or out of a short code's reach (30006).
  21211: "invalid-recipient",
  21604: "invalid-recipient",
  21614: "invalid-recipient",
  21635: "invalid-recipient",
  30005: "invalid-recipient",
  30006: "invalid-recipient",
  // The number is valid but this route is closed: the To/From pair cannot be routed
  // (21612), Messaging Geo Permissions block the country (21408), or the destination
  // blocked the message (30004, known from secondary listings only).
  21612: "unroutable",
  21408: "unroutable",
  30004: "unroutable",
  // The sender or the account is set up wrong. `From` is not SMS-capable (21606), not
  // owned by the account (21212), a short code of another country (21659) or invalid
  // (21661). A trial account or a missing compliance profile gives 21608, and an
  // unregistered US 10DLC number gives 30034.
  21606: "sender-config",
  21212: "sender-config",
  21659: "sender-config",
  21661: "sender-config",
  21608: "sender-config",
  30034: "sender-config",
  // The Account SID and Auth Token (or API key) were not accepted.
  20003: "auth",
  // Too many requests (20429), or the sending number's queue is full (21611). Both clear
  // when the sender slows down.
  20429: "rate-limited",
  21611: "rate-limited",
  // Twilio or the carrier filtered the content as spam or against policy.
  30007: "content-filtered",
  // The handset was unreachable (off, no signal) or the carrier reported an unknown
  // delivery error. Both may succeed on a later attempt.
  30003: "transient",
  30008: "transient",
});
function twilioErrorReason(code2, httpStatus) {
  const key = code2 === void 0 ? "" : String(code2).trim();
  if (key !== "" && Object.hasOwn(twilioErrorCodeReasons, key)) {
    return twilioErrorCodeReasons[key];
  }
  return reasonForHttpStatus(httpStatus);
}
function reasonForHttpStatus(httpStatus) {
  if (httpStatus === 401 || httpStatus === 403) {
    return "auth";
  }
  if (httpStatus === 429) {
    return "rate-limited";
  }
  if (httpStatus === 408 || (httpStatus !== void 0 && httpStatus >= 500)) {
    return "transient";
  }
  return "unknown";
}
function mapTwilioErrorResponse(httpStatus, rawBody, requestId) {
  const body = readErrorBody(rawBody);
  const reason = twilioErrorReason(body?.code, httpStatus);
  return new ProviderError(describeError(httpStatus, body), {
    provider: "twilio",
    reason,
    providerCode: body?.code,
    httpStatus,
    requestId,
    rawBody,
  });
}
function readErrorBody(rawBody) {
  let parsed;
  try {
    parsed = JSON.parse(rawBody);
  } catch {
    return void 0;
  }
  if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed)) {
    return void 0;
  }
  const fields = parsed;
  return {
    code: readCode(fields.code),
    message: readText(fields.message) ?? joinProblemText(fields),
    moreInfo: readText(fields.more_info) ?? readText(fields.type),
  };
}
function readCode(value) {
  if (typeof value === "number" && Number.isFinite(value)) {
    return String(value);
  }
  return readText(value);
}
function readText(value) {
  return typeof value === "string" && value.trim() !== "" ? value : void 0;
}
function joinProblemText(fields) {
  const parts = [readText(fields.title), readText(fields.detail)].filter(Boolean);
  return parts.length > 0 ? parts.join(": ") : void 0;
}
function describeError(httpStatus, body) {
  if (body === void 0) {
    return `Twilio API request failed (HTTP ${httpStatus}) with a body that is not JSON`;
  }
  const code2 = body.code === void 0 ? "" : `, code ${body.code}`;
  const text = body.message === void 0 ? "" : `: ${redactPhones(body.message)}`;
  const link2 = body.moreInfo === void 0 ? "" : ` (${body.moreInfo})`;
  return `Twilio API request failed (HTTP ${httpStatus}${code2})${text}${link2}`;
}
function redactPhones(text) {
  return text.replace(/(?<![\w+])\+?\d{7,15}(?!\w)/g, (match) => redactPhone(match));
}

// providers/twilio/options.ts
import { z as z2 } from "zod";

var DEFAULT_TWILIO_API_BASE_URL = "https://api.twilio.com";
var DEFAULT_TWILIO_TIMEOUT_MS = 15e3;
var ACCOUNT_SID = /^AC[0-9a-fA-F]{32}$/;
var SERVICE_SID = /^MG[0-9a-fA-F]{32}$/;
var MAX_TIMEOUT_MS = 2147483647;
var untrimmed = (value) => value.trim() === value;
var twilioOptionsSchema = z2.object(
  {
    accountSid: z2.string({ error: "is required and must be a string" }).regex(ACCOUNT_SID, {
      error: (issue) =>
        `must be an Account SID, AC followed by 32 hexadecimal digits (got ${JSON.stringify(issue.input)})`,
    }),
    authToken: z2
      .string({ error: "is required and must be a string" })
      .min(1, { error: "must not be empty" })
      .refine(untrimmed, {
        error: "has leading or trailing whitespace; copy the token without it",
      }),
    from: z2
      .string({ error: "must be a string" })
      .min(1, { error: "must not be empty; leave it out to use only the Messaging Service" })
      .refine(untrimmed, { error: "has leading or trailing whitespace" })
      .optional(),
    messagingServiceSid: z2
      .string({ error: "must be a string" })
      .regex(SERVICE_SID, {
        error: (issue) =>
          `must be a Messaging Service SID, MG followed by 32 hexadecimal digits (got ${JSON.stringify(issue.input)})`,
      })
      .optional(),
    apiBaseUrl: z2
      .string({ error: "must be a string" })
      .refine(isHttpBaseUrl, {
        error: (issue) =>
          `must be an http or https URL without query or fragment (got ${JSON.stringify(issue.input)})`,
      })
      .transform((value) => value.replace(/\/+$/, ""))
      .default(DEFAULT_TWILIO_API_BASE_URL),
    dispatcher: z2
      .custom(isDispatcher, {
        error: "must be an undici Dispatcher (Pool, Agent, MockAgent, ...)",
      })
      .optional(),
    timeoutMs: z2
      .number({ error: "must be a number of milliseconds" })
      .int({ error: "must be a whole number of milliseconds" })
      .min(1, { error: "must be at least 1 millisecond" })
      .max(MAX_TIMEOUT_MS, { error: `must be at most ${MAX_TIMEOUT_MS} milliseconds` })
      .default(DEFAULT_TWILIO_TIMEOUT_MS),
  },
  { error: "must be an object with accountSid and authToken" },
);
function resolveTwilioOptions(options, configPath = "twilio") {
  const parsed = twilioOptionsSchema.safeParse(options);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const path = [configPath, ...(issue?.path ?? []).map(String)].filter(Boolean).join(".");
    throw new ConfigError(path, issue?.message ?? "invalid Twilio options");
  }
  const value = parsed.data;
  return {
    accountSid: value.accountSid,
    authToken: value.authToken,
    from: value.from,
    messagingServiceSid: value.messagingServiceSid,
    apiBaseUrl: value.apiBaseUrl,
    dispatcher: value.dispatcher,
    timeoutMs: value.timeoutMs,
  };
}
function isHttpBaseUrl(value) {
  if (!URL.canParse(value)) {
    return false;
  }
  const url = new URL(value);
  const httpScheme = url.protocol === "http:" || url.protocol === "https:";
  return httpScheme && !/[?#]/.test(value);
}
function isDispatcher(value) {
  return (
    typeof value === "object" &&
    value !== null &&
    typeof value.dispatch === "function" &&
    typeof value.close === "function"
  );
}

// providers/twilio/provider.ts
// providers/twilio/send.ts
import { Pool, request } from "undici";

// src/http/form.ts
var AMPERSAND = 38;
var EQUALS = 61;
var PLUS = 43;
var PERCENT = 37;
var SPACE = 32;
var utf8 = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true });
var encoder = new TextEncoder();
var LONE_SURROGATE = /\p{Surrogate}/u;
var QUOTE_LIMIT = 40;
function parseFormBody(body) {
  const bytes = toBytes(body);
  const pairs = [];
  let start = 0;
  while (start <= bytes.length) {
    let end = bytes.indexOf(AMPERSAND, start);
    if (end === -1) {
      end = bytes.length;
    }
    if (end > start) {
      pairs.push(parseSegment(bytes, start, end, pairs.length + 1));
    }
    start = end + 1;
  }
  return pairs;
}
function formFieldsToRecord(pairs) {
  const fields = /* @__PURE__ */ new Map();
  for (const [name, value] of pairs) {
    const existing = fields.get(name);
    if (existing === void 0) {
      fields.set(name, value);
    } else if (Array.isArray(existing)) {
      existing.push(value);
    } else {
      fields.set(name, [existing, value]);
    }
  }
  return Object.fromEntries(fields);
}
function encodeForm(pairs) {
  const params = new URLSearchParams();
  for (const [name, value] of pairs) {
    params.append(name, value);
  }
  return params.toString();
}
function toBytes(body) {
  if (typeof body !== "string") {
    return body;
  }
  if (LONE_SURROGATE.test(body)) {
    throw new WebhookParseError(
      "Form body contains an unpaired UTF-16 surrogate and cannot be read as UTF-8 text",
    );
  }
  return encoder.encode(body);
}
function parseSegment(bytes, start, end, position) {
  let split = bytes.indexOf(EQUALS, start);
  if (split === -1 || split > end) {
    split = end;
  }
  const name = decodeComponent(
    bytes,
    start,
    split,
    () => `the name of field ${position} (${quote(bytes.subarray(start, split))})`,
  );
  const valueStart = Math.min(split + 1, end);
  const value = decodeComponent(bytes, valueStart, end, () => `the value of field "${name}"`);
  return [name, value];
}
function decodeComponent(bytes, start, end, describe) {
  const decoded = new Uint8Array(end - start);
  let length = 0;
  for (let index = start; index < end; index += 1) {
    const byte = bytes[index];
    if (byte === PLUS) {
      decoded[length] = SPACE;
    } else if (byte === PERCENT) {
      decoded[length] = readEscape(bytes, index, end, describe);
      index += 2;
    } else {
      decoded[length] = byte;
    }
    length += 1;
  }
  try {
    return utf8.decode(decoded.subarray(0, length));
  } catch (error) {
    throw new WebhookParseError(
      `Form body has invalid UTF-8 in ${describe()}; the sender must encode text as UTF-8`,
      { cause: error },
    );
  }
}
function readEscape(bytes, index, end, describe) {
  const high = index + 1 < end ? hexValue(bytes[index + 1]) : -1;
  const low = index + 2 < end ? hexValue(bytes[index + 2]) : -1;
  if (high === -1 || low === -1) {
    const sequence = quote(bytes.subarray(index, Math.min(index + 3, end)));
    throw new WebhookParseError(
      `Form body has a malformed percent escape ${sequence} in ${describe()}; a % must be followed by two hexadecimal digits`,
    );
  }
  return high * 16 + low;
}
function hexValue(byte) {
  if (byte >= 48 && byte <= 57) {
    return byte - 48;
  }
  const lower = byte | 32;
  if (lower >= 97 && lower <= 102) {
    return lower - 97 + 10;
  }
  return -1;
}
function quote(bytes) {
  const text = Buffer.from(bytes.subarray(0, QUOTE_LIMIT)).toString("latin1");
  return JSON.stringify(text);
}

// providers/twilio/status.ts
var twilioStatusMap = Object.freeze({
  // A Messaging Service accepted the message and has not picked a sender yet. A scheduled
  // message is accepted and waits for its send time.
  accepted: "accepted",
  scheduled: "accepted",
  queued: "queued",
  sending: "sending",
  sent: "sent",
  delivered: "delivered",
  // Some parts of a multipart message reached the handset. It is final, like delivered.
  partially_delivered: "delivered",
  read: "read",
  undelivered: "undelivered",
  failed: "failed",
  canceled: "canceled",
  // `receiving` and `received` describe inbound messages, which have no delivery state.
  receiving: "unknown",
  received: "unknown",
});
function mapTwilioMessageStatus(status) {
  const key = (status ?? "").trim().toLowerCase();
  return Object.hasOwn(twilioStatusMap, key) ? twilioStatusMap[key] : "unknown";
}

// providers/twilio/send.ts
var SERVICE_SID2 = /^MG[0-9a-fA-F]{32}$/;
function buildTwilioMessageForm(options, message) {
  const form = [["To", message.to]];
  const sender = message.from || options.from;
  const fromIsService = sender !== void 0 && SERVICE_SID2.test(sender);
  const serviceSid2 = fromIsService ? sender : options.messagingServiceSid;
  if (sender !== void 0 && !fromIsService) {
    form.push(["From", sender]);
  }
  if (serviceSid2 !== void 0) {
    form.push(["MessagingServiceSid", serviceSid2]);
  }
  if (form.length === 1) {
    throw new ProviderError(
      "No sender for the Twilio message: set `from` or `messagingServiceSid` in the Twilio options, or pass `from` with the message",
      { provider: "twilio", reason: "sender-config" },
    );
  }
  appendContent(form, message);
  return form;
}
function appendContent(form, message) {
  const mediaUrls = message.mediaUrls ?? [];
  if (message.body !== "" || mediaUrls.length === 0) {
    form.push(["Body", message.body]);
  }
  for (const url of mediaUrls) {
    form.push(["MediaUrl", url]);
  }
  if (message.statusCallbackUrl !== void 0) {
    form.push(["StatusCallback", message.statusCallbackUrl]);
  }
}
async function sendTwilioMessage(options, dispatcher, message) {
  const form = buildTwilioMessageForm(options, message);
  const url = `${options.apiBaseUrl}/2010-04-01/Accounts/${options.accountSid}/Messages.json`;
  const response = await postForm(options, dispatcher, url, form);
  if (response.status !== 201) {
    throw mapTwilioErrorResponse(response.status, response.body, response.requestId);
  }
  return readMessage(response, message);
}
async function postForm(options, dispatcher, url, form) {
  const credentials = Buffer.from(`${options.accountSid}:${options.authToken}`, "utf8");
  try {
    const response = await request(url, {
      method: "POST",
      dispatcher,
      signal: AbortSignal.timeout(options.timeoutMs),
      headers: {
        authorization: `Basic ${credentials.toString("base64")}`,
        "content-type": "application/x-www-form-urlencoded; charset=utf-8",
        accept: "application/json",
        "user-agent": "smsgate",
      },
      body: encodeForm(form),
    });
    const body = await response.body.text();
    return { status: response.statusCode, body, requestId: firstHeader(response.headers) };
  } catch (error) {
    throw networkError(error, options.timeoutMs);
  }
}
function firstHeader(headers) {
  const value = headers["twilio-request-id"];
  return Array.isArray(value) ? value[0] : value;
}
function networkError(error, timeoutMs) {
  const name = error instanceof Error ? error.name : "";
  const code2 = error?.code;
  const timedOut =
    name === "TimeoutError" ||
    code2 === "UND_ERR_HEADERS_TIMEOUT" ||
    code2 === "UND_ERR_BODY_TIMEOUT";
  const detail = timedOut
    ? `timed out after ${timeoutMs} ms`
    : `failed: ${error instanceof Error ? error.message : String(error)}`;
  return new ProviderError(`Twilio API request ${detail}`, {
    provider: "twilio",
    reason: "transient",
    cause: error,
  });
}
function readMessage(response, message) {
  const parsed = parseJsonObject(response.body);
  const sid = parsed?.sid;
  if (parsed === void 0 || typeof sid !== "string" || sid === "") {
    throw new ProviderError(
      `Twilio returned HTTP ${response.status} without a Message body (no "sid"); check the Twilio console before sending again, because the message may exist`,
      {
        provider: "twilio",
        reason: "unknown",
        httpStatus: response.status,
        requestId: response.requestId,
        rawBody: response.body,
      },
    );
  }
  return {
    provider: "twilio",
    messageId: sid,
    status: mapTwilioMessageStatus(readString(parsed.status)),
    to: message.to,
    from: readString(parsed.from),
    segments: readSegments(parsed.num_segments),
    raw: parsed,
  };
}
function parseJsonObject(text) {
  try {
    const value = JSON.parse(text);
    if (typeof value === "object" && value !== null && !Array.isArray(value)) {
      return value;
    }
  } catch {}
  return void 0;
}
function readString(value) {
  return typeof value === "string" && value !== "" ? value : void 0;
}
function readSegments(value) {
  const text = typeof value === "number" ? String(value) : value;
  if (typeof text !== "string" || !/^\d+$/.test(text)) {
    return void 0;
  }
  const segments = Number.parseInt(text, 10);
  return segments > 0 ? segments : void 0;
}

// providers/twilio/twiml.ts
var XML_DECLARATION = '<?xml version="1.0" encoding="UTF-8"?>';
var FORBIDDEN_XML_CHARACTERS = /[^\t\n\r\u0020-\uD7FF\uE000-\uFFFD\u{10000}-\u{10FFFF}]/gu;
var XML_ESCAPES = {
  "&": "&amp;",
  "<": "&lt;",
  ">": "&gt;",
  '"': "&quot;",
  "'": "&apos;",
  // XML parsers turn a literal CR into LF, so it is written as a character reference.
  "\r": "&#xD;",
};
function twimlResponse(replyText2) {
  const text = replyText2 === void 0 ? "" : escapeXmlText(replyText2);
  const document = text === "" ? "<Response/>" : `<Response><Message>${text}</Message></Response>`;
  return {
    status: 200,
    headers: { "content-type": "text/xml; charset=utf-8" },
    body: `${XML_DECLARATION}${document}`,
  };
}
function escapeXmlText(text) {
  return text
    .replace(FORBIDDEN_XML_CHARACTERS, "")
    .replace(/[&<>"'\r]/g, (char) => XML_ESCAPES[char] ?? char);
}

// src/phone/normalize.ts
import {
  isSupportedCountry as isSupportedCountry2,
  Metadata,
  parsePhoneNumberWithError,
} from "libphonenumber-js/max";

// src/phone/text.ts
var invisible = /\p{Cf}/gu;
var whitespace = /\s+/g;
var digitZeros = [
  1632,
  // Arabic-Indic
  1776,
  // Eastern Arabic-Indic (Persian, Urdu)
  1984,
  // NKo
  2406,
  // Devanagari
  2534,
  // Bengali
  2662,
  // Gurmukhi
  2790,
  // Gujarati
  2918,
  // Oriya
  3046,
  // Tamil
  3174,
  // Telugu
  3302,
  // Kannada
  3430,
  // Malayalam
  3664,
  // Thai
  3792,
  // Lao
  4160,
  // Myanmar
  6112,
  // Khmer
];
var nonAsciiDigit = new RegExp(
  `[${digitZeros.map((zero) => `\\u${hex(zero)}-\\u${hex(zero + 9)}`).join("")}]`,
  "g",
);
function hex(codePoint) {
  return codePoint.toString(16).padStart(4, "0");
}
function toAsciiDigit(digit) {
  const codePoint = digit.charCodeAt(0);
  const zero = digitZeros.find((start) => codePoint >= start && codePoint <= start + 9) ?? 0;
  return String(codePoint - zero);
}
function cleanPhoneText(input) {
  return input
    .normalize("NFKC")
    .replace(invisible, "")
    .replace(nonAsciiDigit, toAsciiDigit)
    .replace(whitespace, " ")
    .trim();
}
var maxPhoneInputLength = 64;
function textProblem(input) {
  if (typeof input !== "string") {
    return `expected a string, got ${input === null ? "null" : typeof input}`;
  }
  if (input.length > maxPhoneInputLength) {
    return `too long (${input.length} characters, at most ${maxPhoneInputLength} are accepted)`;
  }
  return void 0;
}
function describeInput(input) {
  if (typeof input === "string") {
    return input;
  }
  const type = typeof input;
  if (type === "number" || type === "bigint" || type === "boolean" || type === "undefined") {
    return String(input);
  }
  return input === null ? "null" : `[${type}]`;
}

// src/phone/normalize.ts
var telScheme = /^tel:/i;
function normalizePhoneNumber(input, options = {}) {
  const region2 = checkRegion(options.defaultRegion);
  const text = cleanInput(input).replace(telScheme, "");
  const international = !region2 && options.internationalPrefix00 && text.startsWith("00");
  return parseValid(input, international ? `+${text.slice(2)}` : text, region2);
}
function normalizeInternationalDigits(input) {
  const text = cleanInput(input);
  const digits = text.startsWith("+") ? text.slice(1) : text;
  if (!/^\d+$/.test(digits)) {
    throw new InvalidPhoneNumberError(
      input,
      "expected only the digits of an international number, country code first (12025550143)",
    );
  }
  if (digits.startsWith("0")) {
    throw new InvalidPhoneNumberError(
      input,
      "an international number starts with its country code, not 0; is it in national format?",
    );
  }
  return parseValid(input, `+${digits}`, void 0);
}
function cleanInput(input) {
  const problem = textProblem(input);
  if (problem) {
    throw new InvalidPhoneNumberError(describeInput(input), problem);
  }
  const text = cleanPhoneText(input);
  if (text === "") {
    throw new InvalidPhoneNumberError(input, "empty");
  }
  return text;
}
function checkRegion(region2) {
  if (region2 === void 0 || isSupportedCountry2(region2)) {
    return region2;
  }
  throw new ConfigError(
    "defaultRegion",
    `${JSON.stringify(region2)} is not a supported region; use an upper-case ISO 3166-1 code such as "US"`,
  );
}
function parseValid(input, text, region2) {
  let parsed;
  try {
    parsed = parsePhoneNumberWithError(text, { defaultCountry: region2, extract: false });
  } catch (error) {
    throw new InvalidPhoneNumberError(input, parseFailure(error, text, region2), { cause: error });
  }
  if (!parsed.isValid()) {
    throw new InvalidPhoneNumberError(input, invalidNumber(parsed, text, region2));
  }
  const result = { e164: parsed.number };
  if (parsed.ext) {
    result.extension = parsed.ext;
  }
  if (parsed.country) {
    result.country = parsed.country;
  }
  return result;
}
function parseFailure(error, text, region2) {
  const reason = error instanceof Error ? error.message : "";
  if (!/\d/.test(text)) {
    return "contains no digits";
  }
  if (reason === "INVALID_COUNTRY") {
    return missingCountry(text, region2);
  }
  if (reason === "TOO_SHORT") {
    return "too short to be a phone number";
  }
  if (reason === "TOO_LONG") {
    return "too many digits for a phone number (E.164 allows 15)";
  }
  return "not a phone number: use digits, spaces, ( ) - . and an optional + or extension";
}
function missingCountry(text, region2) {
  if (text.startsWith("+")) {
    return "unknown country calling code after +";
  }
  if (region2) {
    return `not a ${region2} number`;
  }
  if (text.startsWith("00")) {
    return "starts with an international prefix but no defaultRegion is configured; write it as +<country code>\u2026, or configure defaultRegion or internationalPrefix00";
  }
  return "no country code; write it as +<country code>\u2026 or configure defaultRegion";
}
function invalidNumber(parsed, text, region2) {
  const read = `read as ${parsed.number}, which is not a valid number`;
  if (!region2 || text.startsWith("+")) {
    return read;
  }
  const prefix = internationalPrefix(region2);
  const dialled = prefix ? ` or ${region2}'s international prefix ${prefix}` : "";
  return `${read} in ${region2}; write an international number with +<country code>${dialled}`;
}
function internationalPrefix(region2) {
  const metadata = new Metadata();
  metadata.selectNumberingPlan(region2);
  const plan = metadata.numberingPlan;
  const prefix = plan?.defaultIDDPrefix() ?? plan?.IDDPrefix();
  return prefix && /^\d+$/.test(prefix) ? prefix : void 0;
}

// src/phone/sender.ts
var shortCode = /^\d{3,8}$/;
var maxShortCodeWithoutRegion = 6;
var ambiguousDigits =
  "7 or 8 digits with no country code may be a national number or a short code; write it as +<country code>\u2026 or configure defaultRegion";
var serviceSid = /^MG[0-9a-fA-F]{32}$/;
var channelAddress = /^[A-Za-z][A-Za-z0-9+.-]*:\S+$/;
var telUri = /^tel:/i;
var alphanumericId = /^(?=.*[A-Za-z])[A-Za-z0-9 .\-&_]{1,11}$/;
function parseSenderIdentity(input, options = {}) {
  const region2 = checkRegion(options.defaultRegion);
  const text = cleanInput(input);
  if (text.startsWith("+")) {
    return phoneIdentity(normalizePhoneNumber(input));
  }
  if (shortCode.test(text)) {
    return withCountry({ kind: "shortcode", value: text }, e164Country(options.counterpart));
  }
  const kind = nonPhoneKind(text);
  if (kind === "channel") {
    return withCountry({ kind, value: text }, e164Country(channelNumber(text)));
  }
  if (kind) {
    return { kind, value: text };
  }
  if (!/\d/.test(text)) {
    throw new InvalidPhoneNumberError(input, notSender);
  }
  if (options.internationalDigits && /^\d+$/.test(text)) {
    return phoneIdentity(normalizeInternationalDigits(input));
  }
  return phoneIdentity(normalizePhoneNumber(input, { defaultRegion: region2 }));
}
function normalizeRecipient(input, options = {}) {
  const text = cleanInput(input);
  if (shortCode.test(text)) {
    return nationalOrShortCode(input, text, options);
  }
  const kind = text.startsWith("+") ? void 0 : nonPhoneKind(text);
  if (kind) {
    throw new InvalidPhoneNumberError(input, notRecipient[kind]);
  }
  const phone = normalizePhoneNumber(input, options);
  const recipient = { value: phone.e164, kind: "e164" };
  if (phone.extension) {
    recipient.extension = phone.extension;
  }
  return recipient;
}
var notSender =
  "not a phone number, short code, messaging service, channel address or alphanumeric sender ID (1 to 11 letters, digits, spaces and . - & _)";
var notRecipient = {
  alphanumeric: "an alphanumeric sender ID cannot receive messages; give a phone number",
  service: "a messaging service cannot receive messages; give a phone number",
  channel: "channel addresses are not SMS recipients; give the phone number itself",
};
function nonPhoneKind(text) {
  if (serviceSid.test(text)) {
    return "service";
  }
  if (channelAddress.test(text) && !telUri.test(text)) {
    return "channel";
  }
  return alphanumericId.test(text) ? "alphanumeric" : void 0;
}
function nationalOrShortCode(input, text, options) {
  if (!options.defaultRegion) {
    if (text.length > maxShortCodeWithoutRegion) {
      throw new InvalidPhoneNumberError(input, ambiguousDigits);
    }
    return { value: text, kind: "shortcode" };
  }
  try {
    return { value: normalizePhoneNumber(text, options).e164, kind: "e164" };
  } catch (error) {
    if (!(error instanceof InvalidPhoneNumberError)) {
      throw error;
    }
  }
  return { value: text, kind: "shortcode" };
}
function phoneIdentity(phone) {
  return withCountry({ kind: "e164", value: phone.e164 }, phone.country);
}
function withCountry(identity, country) {
  if (country) {
    identity.country = country;
  }
  return identity;
}
function channelNumber(text) {
  return text.slice(text.indexOf(":") + 1);
}
function e164Country(value) {
  if (typeof value !== "string" || !value.trim().startsWith("+")) {
    return void 0;
  }
  try {
    return normalizePhoneNumber(value).country;
  } catch {
    return void 0;
  }
}

// providers/twilio/fields.ts
var SID_FIELDS = ["MessageSid", "SmsMessageSid", "SmsSid"];
function usesQueryFields(request3) {
  const method = request3.method.toUpperCase();
  return method === "GET" || method === "HEAD";
}
function hasJsonBody(request3) {
  const type = (request3.headers.get("content-type") ?? "").split(";")[0]?.trim().toLowerCase();
  return type === "application/json" || (type?.endsWith("+json") ?? false);
}
function queryOf(url) {
  const fragmentStart = url.indexOf("#");
  const beforeFragment = fragmentStart === -1 ? url : url.slice(0, fragmentStart);
  const queryStart = beforeFragment.indexOf("?");
  return queryStart === -1 ? "" : beforeFragment.slice(queryStart + 1);
}
function jsonBodyToPairs(body) {
  let parsed;
  try {
    parsed = JSON.parse(new TextDecoder("utf-8", { fatal: true }).decode(body));
  } catch (error) {
    throw new WebhookParseError("Twilio webhook body is not valid UTF-8 JSON", { cause: error });
  }
  if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed)) {
    throw new WebhookParseError("Twilio webhook JSON body must be an object of fields");
  }
  const pairs = [];
  for (const [name, value] of Object.entries(parsed)) {
    for (const item of Array.isArray(value) ? value : [value]) {
      pairs.push([name, jsonValueToText(item)]);
    }
  }
  return pairs;
}
function jsonValueToText(value) {
  if (typeof value === "string") {
    return value;
  }
  if (value === null || value === void 0) {
    return "";
  }
  return typeof value === "object" ? JSON.stringify(value) : String(value);
}
function readFormFields(request3) {
  return usesQueryFields(request3)
    ? parseFormBody(queryOf(request3.url))
    : parseFormBody(request3.body);
}
var TwilioFields = class {
  record;
  #first = /* @__PURE__ */ new Map();
  #defaultRegion;
  constructor(pairs, defaultRegion) {
    this.record = formFieldsToRecord(pairs);
    this.#defaultRegion = defaultRegion;
    for (const [name, value] of pairs) {
      if (!this.#first.has(name)) {
        this.#first.set(name, value);
      }
    }
  }
  /** Returns the first value exactly as sent, empty or not. */
  raw(name) {
    return this.#first.get(name);
  }
  /** Returns the first value, or `undefined` when the field is absent or empty. */
  text(name) {
    const value = this.#first.get(name);
    return value === void 0 || value === "" ? void 0 : value;
  }
  /** Reads a non-negative whole number, or `undefined` when absent or not a number. */
  count(name) {
    const value = this.text(name);
    return value !== void 0 && /^\d{1,6}$/.test(value) ? Number(value) : void 0;
  }
  /** Reads `MessageSid`, falling back to its legacy twins `SmsMessageSid` and `SmsSid`. */
  messageId() {
    for (const name of SID_FIELDS) {
      const value = this.text(name);
      if (value !== void 0) {
        return value;
      }
    }
    throw new WebhookParseError(
      "Twilio webhook has no MessageSid (nor SmsMessageSid or SmsSid); it is not a Twilio Messaging webhook",
    );
  }
  /** Parses a sender field that must be present, such as `From` of an inbound message. */
  requireSender(name, counterpart) {
    const sender = this.optionalSender(name, counterpart);
    if (sender === void 0) {
      throw new WebhookParseError(`Twilio webhook has no ${name} field`);
    }
    return sender;
  }
  /**
   * Parses a sender field when present. A short code takes its country from the
   * `counterpart` field.
   */
  optionalSender(name, counterpart) {
    const value = this.text(name);
    if (value === void 0) {
      return void 0;
    }
    try {
      return parseSenderIdentity(value, {
        defaultRegion: this.#defaultRegion,
        counterpart: this.text(counterpart),
      });
    } catch (error) {
      const detail = error instanceof Error ? error.message : String(error);
      throw new WebhookParseError(`Twilio webhook field ${name} is not a valid sender: ${detail}`, {
        cause: error,
      });
    }
  }
  // Media fields are numbered from 0. Without a usable NumMedia, the numbered fields present
  // from MediaUrl0 on are read, and more than the field count cannot exist.
  media() {
    const declared = this.count("NumMedia");
    const limit = Math.min(declared ?? Number.POSITIVE_INFINITY, this.#first.size);
    const media = [];
    for (let index = 0; index < limit; index += 1) {
      const url = this.text(`MediaUrl${index}`);
      if (url === void 0) {
        if (declared === void 0) {
          break;
        }
        continue;
      }
      media.push({ url, contentType: this.text(`MediaContentType${index}`) });
    }
    return media;
  }
};

// providers/twilio/signature.ts
import { createHash, createHmac, timingSafeEqual } from "node:crypto";

function buildTwilioSignatureString(url, params) {
  let data = url;
  for (const [name, values] of groupSortedValues(params)) {
    for (const value of values) {
      data += name + value;
    }
  }
  return data;
}
function computeTwilioSignature(authToken, url, params) {
  const data = buildTwilioSignatureString(url, params);
  return createHmac("sha1", authToken).update(data, "utf8").digest("base64");
}
function twilioSignatureUrlCandidates(url) {
  const parts = splitAuthority(url);
  if (parts === void 0) {
    return [url];
  }
  const defaultPort = DEFAULT_PORTS[parts.scheme.toLowerCase()];
  const withoutPort = join(parts, void 0);
  const withPort = parts.port !== void 0 || defaultPort === void 0 ? url : join(parts, defaultPort);
  return [.../* @__PURE__ */ new Set([url, withPort, withoutPort])];
}
function verifyTwilioSignature(input) {
  const { authToken, url, params, signature } = input;
  if (!signature || !authToken) {
    return false;
  }
  return twilioSignatureUrlCandidates(url).some((candidate) =>
    constantTimeEqual(computeTwilioSignature(authToken, candidate, params), signature),
  );
}
function verifyTwilioJsonSignature(input) {
  const { authToken, url, rawBody, signature } = input;
  const expectedHash = readBodyHash(url);
  if (
    expectedHash === void 0 ||
    !verifyTwilioSignature({ authToken, url, params: [], signature })
  ) {
    return false;
  }
  const actualHash = createHash("sha256").update(rawBody).digest("hex");
  return constantTimeEqual(actualHash, expectedHash.toLowerCase());
}
var DEFAULT_PORTS = { https: "443", http: "80" };
function splitAuthority(url) {
  const match = /^([A-Za-z][A-Za-z0-9+.-]*):\/\//.exec(url);
  if (match === null) {
    return void 0;
  }
  const authorityStart = match[0].length;
  const restStart = findAuthorityEnd(url, authorityStart);
  const authority = url.slice(authorityStart, restStart);
  const at = authority.lastIndexOf("@");
  const hostPort = authority.slice(at + 1);
  const [host, port] = splitPort(hostPort);
  return {
    scheme: match[1],
    prefix: url.slice(0, authorityStart + at + 1),
    host,
    port,
    rest: url.slice(restStart),
  };
}
function findAuthorityEnd(url, start) {
  for (let index = start; index < url.length; index += 1) {
    const char = url[index];
    if (char === "/" || char === "?" || char === "#") {
      return index;
    }
  }
  return url.length;
}
function splitPort(hostPort) {
  const colon = hostPort.lastIndexOf(":");
  if (colon === -1 || colon < hostPort.lastIndexOf("]")) {
    return [hostPort, void 0];
  }
  return [hostPort.slice(0, colon), hostPort.slice(colon + 1)];
}
function join(parts, port) {
  const portText = port === void 0 ? "" : `:${port}`;
  return `${parts.prefix}${parts.host}${portText}${parts.rest}`;
}
function groupSortedValues(params) {
  const groups = /* @__PURE__ */ new Map();
  for (const [name, value] of params) {
    const values = groups.get(name) ?? /* @__PURE__ */ new Set();
    values.add(value);
    groups.set(name, values);
  }
  const names = [...groups.keys()].sort();
  return names.map((name) => [name, [...(groups.get(name) ?? [])].sort()]);
}
function readBodyHash(url) {
  const fragmentStart = url.indexOf("#");
  const beforeFragment = fragmentStart === -1 ? url : url.slice(0, fragmentStart);
  const queryStart = beforeFragment.indexOf("?");
  if (queryStart === -1) {
    return void 0;
  }
  const values = beforeFragment
    .slice(queryStart + 1)
    .split("&")
    .filter((pair) => pair.startsWith("bodySHA256="))
    .map((pair) => pair.slice("bodySHA256=".length));
  return values.length === 1 ? values[0] : void 0;
}
function constantTimeEqual(expected, actual) {
  const expectedBytes = Buffer.from(expected, "utf8");
  const actualBytes = Buffer.from(actual, "utf8");
  if (expectedBytes.length !== actualBytes.length) {
    return false;
  }
  return timingSafeEqual(expectedBytes, actualBytes);
}

// providers/twilio/webhook.ts
var OPT_OUT_TYPES = {
  STOP: "opt-out",
  START: "opt-in",
  HELP: "help",
};
function verifyTwilioWebhook(request3, authToken) {
  const signature = request3.headers.get("x-twilio-signature");
  if (signature === null || signature.trim() === "") {
    throw new WebhookVerificationError(
      "missing-signature",
      "Twilio webhook has no X-Twilio-Signature header; only Twilio's signed requests are accepted",
    );
  }
  if (!signatureMatches(request3, authToken, signature)) {
    throw new WebhookVerificationError(
      "invalid-signature",
      `X-Twilio-Signature does not match ${request3.method} ${request3.url}. Check that this URL is the public URL configured at Twilio (scheme, host, port, path and query) and that the Auth Token is the primary token of the account that owns the number`,
    );
  }
}
function signatureMatches(request3, authToken, signature) {
  const url = request3.url;
  if (usesQueryFields(request3)) {
    return verifyTwilioSignature({ authToken, url, params: [], signature });
  }
  if (hasJsonBody(request3)) {
    return verifyTwilioJsonSignature({ authToken, url, rawBody: request3.body, signature });
  }
  try {
    return verifyTwilioSignature({ authToken, url, params: readFormFields(request3), signature });
  } catch (error) {
    if (isWebhookParseError(error)) {
      return false;
    }
    throw error;
  }
}
function parseTwilioWebhook(request3, kind, options = {}) {
  try {
    const pairs = readPairs(request3, options);
    const fields = new TwilioFields(pairs, options.defaultRegion);
    if (kind === "status") {
      return { inbound: [], reports: [readReport(fields, options)] };
    }
    return { inbound: [readInbound(fields, options)], reports: [] };
  } catch (error) {
    if (isWebhookParseError(error)) {
      throw error;
    }
    const detail = error instanceof Error ? error.message : String(error);
    throw new WebhookParseError(`Twilio webhook could not be parsed: ${detail}`, {
      cause: error,
    });
  }
}
function readPairs(request3, options) {
  if (usesQueryFields(request3) || !hasJsonBody(request3)) {
    return readFormFields(request3);
  }
  const signature = request3.headers.get("x-twilio-signature");
  const verified =
    options.authToken !== void 0 &&
    verifyTwilioJsonSignature({
      authToken: options.authToken,
      url: request3.url,
      rawBody: request3.body,
      signature,
    });
  if (!verified) {
    throw new WebhookParseError(
      "Twilio Messaging webhooks are form-encoded, and this JSON body has no valid bodySHA256 signature; configure the webhook with HTTP POST form parameters",
    );
  }
  return jsonBodyToPairs(request3.body);
}
function readInbound(fields, options) {
  const messageId = fields.messageId();
  const from = fields.requireSender("From", "To");
  const to = fields.requireSender("To", "From");
  return {
    provider: "twilio",
    messageId,
    accountId: fields.text("AccountSid"),
    from,
    to,
    serviceId: fields.text("MessagingServiceSid"),
    text: fields.raw("Body") ?? "",
    receivedAt: options.receivedAt ?? /* @__PURE__ */ new Date(),
    media: fields.media(),
    segments: fields.count("NumSegments"),
    providerIntent: readOptOutType(fields.text("OptOutType")),
    raw: fields.record,
  };
}
function readReport(fields, options) {
  const messageId = fields.messageId();
  const providerStatus = fields.text("MessageStatus") ?? fields.text("SmsStatus");
  if (providerStatus === void 0) {
    throw new WebhookParseError(
      "Twilio status callback has no MessageStatus (nor SmsStatus); check that this URL is used only as a StatusCallback",
    );
  }
  const errorCode = fields.text("ErrorCode");
  return {
    provider: "twilio",
    messageId,
    accountId: fields.text("AccountSid"),
    status: mapTwilioMessageStatus(providerStatus),
    providerStatus,
    errorCode,
    reason: errorCode === void 0 ? void 0 : twilioErrorReason(errorCode),
    to: fields.optionalSender("To", "From"),
    from: fields.optionalSender("From", "To"),
    serviceId: fields.text("MessagingServiceSid"),
    receivedAt: options.receivedAt ?? /* @__PURE__ */ new Date(),
    providerTime: parseDlrDoneDate(fields.text("RawDlrDoneDate")),
    raw: fields.record,
  };
}
function readOptOutType(value) {
  const key = value?.trim().toUpperCase() ?? "";
  return Object.hasOwn(OPT_OUT_TYPES, key) ? OPT_OUT_TYPES[key] : void 0;
}
function parseDlrDoneDate(value) {
  const match = /^(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})?$/.exec(value ?? "");
  if (match === null) {
    return void 0;
  }
  const part = (index) => Number(match[index] ?? "0");
  const parts = [2e3 + part(1), part(2) - 1, part(3), part(4), part(5), part(6)];
  const date = new Date(Date.UTC(...parts));
  const roundTrip = [
    date.getUTCFullYear(),
    date.getUTCMonth(),
    date.getUTCDate(),
    date.getUTCHours(),
    date.getUTCMinutes(),
    date.getUTCSeconds(),
  ];
  return roundTrip.every((value2, index) => value2 === parts[index]) ? date : void 0;
}

// providers/twilio/provider.ts
var serviceSidPattern = /^MG[0-9a-fA-F]{32}$/;
var TwilioProvider = class {
  /** Provider name used in routes, events and consent records. */
  name = "twilio";
  /** The account messages are sent from. */
  accountSid;
  /** The configured Messaging Service, when there is one. */
  messagingServiceSid;
  /** The Messaging Service when one is configured, else the configured number. */
  defaultSender;
  #options;
  #dispatcher;
  #ownsDispatcher;
  #closing;
  /**
   * @param configPath - Prefix of option paths in configuration errors.
   * @throws {ConfigError} naming the first invalid option.
   */
  constructor(options, configPath = "twilio") {
    this.#options = resolveTwilioOptions(options, configPath);
    this.accountSid = this.#options.accountSid;
    this.messagingServiceSid = this.#options.messagingServiceSid;
    this.defaultSender = this.#options.messagingServiceSid ?? this.#options.from;
    this.#ownsDispatcher = this.#options.dispatcher === void 0;
    this.#dispatcher =
      this.#options.dispatcher ?? new Pool(new URL(this.#options.apiBaseUrl).origin);
  }
  /**
   * Sends one message. Rejects with a {@link ProviderError}: reason `opted-out` for Twilio
   * 21610, `transient` for a network failure or timeout, and so on.
   */
  async send(message) {
    if (this.#closing !== void 0) {
      throw new ProviderError(
        "The Twilio provider is closed; create a new one with twilio(options) to send",
        { provider: this.name, reason: "unknown" },
      );
    }
    return sendTwilioMessage(this.#options, this.#dispatcher, message);
  }
  /**
   * Twilio blocks a person per Messaging Service when the message goes through one, and per
   * sending number otherwise, so the service comes first.
   */
  consentScopes(message) {
    const sender = message.from || this.#options.from;
    if (sender !== void 0 && serviceSidPattern.test(sender)) {
      return [sender];
    }
    const service = this.#options.messagingServiceSid;
    const scopes = service === void 0 ? [] : [service];
    return sender === void 0 ? scopes : [...scopes, sender];
  }
  /** Checks `X-Twilio-Signature` over `request.url` and the raw body. */
  async verifyWebhook(request3) {
    verifyTwilioWebhook(request3, this.#options.authToken);
  }
  /** Parses an inbound message or a status callback. */
  async parseWebhook(request3, kind) {
    return parseTwilioWebhook(request3, kind, { authToken: this.#options.authToken });
  }
  /** Builds the TwiML response. Status callbacks get an empty `<Response/>`. */
  webhookResponse(context) {
    return twimlResponse(context.kind === "inbound" ? context.replyText : void 0);
  }
  /**
   * Closes the connection pool the provider opened, after requests in flight finish. A
   * dispatcher passed in the options is left open for its owner. Calling it again returns
   * the same promise.
   */
  close() {
    this.#closing ??= this.#ownsDispatcher ? this.#dispatcher.close() : Promise.resolve();
    return this.#closing;
  }
};
function twilio2(options, configPath) {
  return new TwilioProvider(options, configPath);
}

// src/consent/types.ts
var ALL_SENDERS = "*";

// src/consent/state.ts
var INVALID_CONSENT_EVENT = "SMSGATE_INVALID_CONSENT_EVENT";
var InvalidConsentEventError = class extends SmsgateError {
  /** The path of the invalid field, such as `event.occurredAt`. */
  field;
  constructor(field, message) {
    super(INVALID_CONSENT_EVENT, `Invalid consent event: ${field} ${message}`);
    this.name = "InvalidConsentEventError";
    this.field = field;
  }
};
var consentActions = ["opt-out", "opt-in"];
var consentSources = ["keyword", "provider-flag", "provider-refusal", "manual", "import"];
var optionalEventFields = ["provider", "messageId", "providerCode", "text", "keyword"];
function compareEventPositions(a, b) {
  if (a.occurredAt !== b.occurredAt) {
    return a.occurredAt < b.occurredAt ? -1 : 1;
  }
  return a.seq - b.seq;
}
function isNewerPosition(candidate, current) {
  return current === void 0 || compareEventPositions(candidate, current) > 0;
}
function positionOf(stored) {
  return { occurredAt: stored.event.occurredAt.getTime(), seq: stored.seq };
}
function eventMatchesScope(sender, scope) {
  return scope === ALL_SENDERS || sender === scope || sender === ALL_SENDERS;
}
function findDecidingEvent(events, scope) {
  let newest;
  for (const stored of events) {
    if (!eventMatchesScope(stored.event.sender, scope)) {
      continue;
    }
    if (newest === void 0 || isNewerPosition(positionOf(stored), positionOf(newest))) {
      newest = stored;
    }
  }
  return newest;
}
function deriveConsentState(phone, events, scope) {
  const deciding = findDecidingEvent(events, scope);
  return {
    phone,
    optedOut: deciding?.event.action === "opt-out",
    scope,
    lastEvent: deciding === void 0 ? void 0 : copyConsentEvent(deciding.event),
  };
}
function copyConsentEvent(event, recordedAt) {
  const copy = {
    id: event.id,
    phone: event.phone,
    action: event.action,
    sender: event.sender,
    source: event.source,
    occurredAt: new Date(event.occurredAt.getTime()),
  };
  for (const field of optionalEventFields) {
    if (event[field] !== void 0) {
      copy[field] = event[field];
    }
  }
  const stamp = recordedAt ?? event.recordedAt;
  if (stamp !== void 0) {
    copy.recordedAt = new Date(stamp.getTime());
  }
  return copy;
}
function describeValue(value) {
  if (value instanceof Date) {
    return Number.isNaN(value.getTime()) ? "Invalid Date" : value.toISOString();
  }
  if (typeof value === "string") {
    const text = JSON.stringify(value);
    return text.length > 60 ? `${text.slice(0, 57)}..."` : text;
  }
  return value === null ? "null" : typeof value;
}
function invalidArgument(argument, message) {
  return new InvalidRequestError(`Invalid store argument ${argument}: ${message}`);
}
function isNonEmptyString(value) {
  return typeof value === "string" && value.length > 0;
}
function isValidDate(value) {
  return value instanceof Date && !Number.isNaN(value.getTime());
}
function requireEventString(record, path, key) {
  if (!isNonEmptyString(record[key])) {
    const received = describeValue(record[key]);
    throw new InvalidConsentEventError(
      `${path}.${key}`,
      `must be a non-empty string (received ${received})`,
    );
  }
}
function requireOneOf(record, path, key, allowed) {
  const value = record[key];
  if (typeof value !== "string" || !allowed.includes(value)) {
    const choices = allowed.map((item) => `"${item}"`).join(", ");
    throw new InvalidConsentEventError(
      `${path}.${key}`,
      `must be one of ${choices} (received ${describeValue(value)})`,
    );
  }
}
function validateConsentEvent(value, path = "event") {
  if (typeof value !== "object" || value === null) {
    throw new InvalidConsentEventError(
      path,
      `must be an object (received ${describeValue(value)})`,
    );
  }
  const record = value;
  requireEventString(record, path, "id");
  requireEventString(record, path, "phone");
  requireEventString(record, path, "sender");
  requireOneOf(record, path, "action", consentActions);
  requireOneOf(record, path, "source", consentSources);
  if (!isValidDate(record.occurredAt)) {
    const received = describeValue(record.occurredAt);
    throw new InvalidConsentEventError(
      `${path}.occurredAt`,
      `must be a valid Date (received ${received})`,
    );
  }
  for (const key of optionalEventFields) {
    const field = record[key];
    if (field !== void 0 && typeof field !== "string") {
      const received = describeValue(field);
      throw new InvalidConsentEventError(
        `${path}.${key}`,
        `must be a string or undefined (received ${received})`,
      );
    }
  }
}
function requireArgumentString(value, argument) {
  if (!isNonEmptyString(value)) {
    throw invalidArgument(
      argument,
      `must be a non-empty string (received ${describeValue(value)})`,
    );
  }
}
function validateOutboxMessage(value, path) {
  if (typeof value !== "object" || value === null) {
    throw invalidArgument(path, "must be an outbox message object");
  }
  const message = value;
  requireArgumentString(message.id, `${path}.id`);
  requireArgumentString(message.type, `${path}.type`);
  if (typeof message.payload !== "string") {
    const received = describeValue(message.payload);
    throw invalidArgument(`${path}.payload`, `must be a string (received ${received})`);
  }
}
function validateWebhookReceipt(value) {
  if (typeof value !== "object" || value === null) {
    throw invalidArgument("receipt", "must be a webhook receipt object");
  }
  const receipt = value;
  requireArgumentString(receipt.id, "receipt.id");
  requireArgumentString(receipt.provider, "receipt.provider");
  if (!isValidDate(receipt.receivedAt)) {
    const received = describeValue(receipt.receivedAt);
    throw invalidArgument("receipt.receivedAt", `must be a valid Date (received ${received})`);
  }
  if (!Array.isArray(receipt.events)) {
    throw invalidArgument("receipt.events", "must be an array of consent events");
  }
  if (!Array.isArray(receipt.outbox)) {
    throw invalidArgument("receipt.outbox", "must be an array of outbox messages");
  }
  receipt.events.forEach((event, index) => {
    validateConsentEvent(event, `receipt.events[${index}]`);
  });
  receipt.outbox.forEach((message, index) => {
    validateOutboxMessage(message, `receipt.outbox[${index}]`);
  });
}
function validatePhone(value, argument = "phone") {
  requireArgumentString(value, argument);
}
function validatePhoneList(value) {
  if (!Array.isArray(value)) {
    throw invalidArgument("phones", "must be an array of phone strings");
  }
  value.forEach((phone, index) => {
    requireArgumentString(phone, `phones[${index}]`);
  });
}
function resolveScope(scope) {
  if (scope === void 0) {
    return ALL_SENDERS;
  }
  requireArgumentString(scope, "scope");
  return scope;
}
function requirePositiveInteger(value, argument) {
  if (typeof value !== "number" || !Number.isSafeInteger(value) || value < 1) {
    throw invalidArgument(argument, `must be a positive integer (received ${String(value)})`);
  }
}
function validateOutboxClaim(limit, leaseMs) {
  requirePositiveInteger(limit, "limit");
  requirePositiveInteger(leaseMs, "leaseMs");
}
function validateOutboxId(id) {
  requireArgumentString(id, "id");
}
function validateOutboxRetry(id, notBefore, error) {
  validateOutboxId(id);
  if (!isValidDate(notBefore)) {
    const received = describeValue(notBefore);
    throw invalidArgument("notBefore", `must be a valid Date (received ${received})`);
  }
  if (typeof error !== "string") {
    throw invalidArgument("error", `must be a string (received ${typeof error})`);
  }
}

// src/consent/memory.ts
var MemoryOptOutStore = class {
  #eventIds = /* @__PURE__ */ new Set();
  #eventsByPhone = /* @__PURE__ */ new Map();
  #receiptIds = /* @__PURE__ */ new Set();
  #outbox = /* @__PURE__ */ new Map();
  #nextSeq = 1;
  #closed = false;
  /** Appends an event unless one with the same id exists. */
  async record(event) {
    this.#assertOpen("record");
    validateConsentEvent(event);
    return { recorded: this.#append(event) };
  }
  /** Checks whether the number is opted out in `scope` (default `*`). */
  async isOptedOut(phone, scope) {
    return (await this.getState(phone, scope)).optedOut;
  }
  /** Returns the numbers among `phones` that are opted out in `scope`. */
  async filterOptedOut(phones, scope) {
    this.#assertOpen("filterOptedOut");
    validatePhoneList(phones);
    const resolved = resolveScope(scope);
    const optedOut = /* @__PURE__ */ new Set();
    for (const phone of phones) {
      if (this.#state(phone, resolved).optedOut) {
        optedOut.add(phone);
      }
    }
    return optedOut;
  }
  /** Reads the current state of one number in `scope` (default `*`). */
  async getState(phone, scope) {
    this.#assertOpen("getState");
    validatePhone(phone);
    return this.#state(phone, resolveScope(scope));
  }
  /** Returns every event of a number, oldest first in commit order. */
  async history(phone) {
    this.#assertOpen("history");
    validatePhone(phone);
    const events = this.#eventsByPhone.get(phone) ?? [];
    return events.map((stored) => copyConsentEvent(stored.event));
  }
  /** Streams the state of every opted-out number in `scope` (default `*`), by phone. */
  async *listOptedOut(scope) {
    this.#assertOpen("listOptedOut");
    const resolved = resolveScope(scope);
    const phones = [...this.#eventsByPhone.keys()].sort();
    for (const phone of phones) {
      const state = this.#state(phone, resolved);
      if (state.optedOut) {
        yield state;
      }
    }
  }
  /**
   * Commits a webhook's receipt, events and outbox messages, all or nothing. An event or
   * outbox message whose id is stored already is skipped.
   */
  async commitWebhook(receipt) {
    this.#assertOpen("commitWebhook");
    validateWebhookReceipt(receipt);
    if (this.#receiptIds.has(receipt.id)) {
      return { duplicate: true };
    }
    this.#receiptIds.add(receipt.id);
    for (const event of receipt.events) {
      this.#append(event);
    }
    const now = Date.now();
    for (const message of receipt.outbox) {
      this.#enqueueOutbox(message, now);
    }
    return { duplicate: false };
  }
  /** Claims up to `limit` due messages in creation order and leases them for `leaseMs`. */
  async claimOutbox(limit, leaseMs) {
    this.#assertOpen("claimOutbox");
    validateOutboxClaim(limit, leaseMs);
    const now = Date.now();
    const claimed = [];
    for (const row of this.#outbox.values()) {
      if (claimed.length >= limit) {
        break;
      }
      if (row.notBefore <= now && row.leaseExpiresAt <= now) {
        row.leaseExpiresAt = now + leaseMs;
        row.attempts += 1;
        claimed.push({
          ...row.message,
          attempts: row.attempts,
          createdAt: new Date(row.createdAt),
        });
      }
    }
    return claimed;
  }
  /** Deletes a delivered message. An unknown id is ignored. */
  async completeOutbox(id) {
    this.#assertOpen("completeOutbox");
    validateOutboxId(id);
    this.#outbox.delete(id);
  }
  /** Releases a message's lease and schedules it for `notBefore`. Ignores an unknown id. */
  async retryOutbox(id, notBefore, error) {
    this.#assertOpen("retryOutbox");
    validateOutboxRetry(id, notBefore, error);
    const row = this.#outbox.get(id);
    if (row !== void 0) {
      row.notBefore = notBefore.getTime();
      row.leaseExpiresAt = 0;
      row.lastError = error;
    }
  }
  /** Marks the store closed; every later call rejects with a `StoreError`. */
  async close() {
    this.#closed = true;
  }
  #assertOpen(operation) {
    if (this.#closed) {
      throw new StoreError(
        `Memory store: ${operation} failed because the store is closed. Create a new store.`,
      );
    }
  }
  #append(event) {
    if (this.#eventIds.has(event.id)) {
      return false;
    }
    const stored = {
      event: copyConsentEvent(event, /* @__PURE__ */ new Date()),
      seq: this.#nextSeq,
    };
    this.#nextSeq += 1;
    this.#eventIds.add(event.id);
    const events = this.#eventsByPhone.get(event.phone);
    if (events === void 0) {
      this.#eventsByPhone.set(event.phone, [stored]);
    } else {
      events.push(stored);
    }
    return true;
  }
  #state(phone, scope) {
    return deriveConsentState(phone, this.#eventsByPhone.get(phone) ?? [], scope);
  }
  #enqueueOutbox(message, now) {
    if (this.#outbox.has(message.id)) {
      return;
    }
    this.#outbox.set(message.id, {
      message: { id: message.id, type: message.type, payload: message.payload },
      createdAt: now,
      notBefore: now,
      leaseExpiresAt: 0,
      attempts: 0,
      lastError: void 0,
    });
  }
};

// src/gateway/send.ts
import { randomUUID } from "node:crypto";
// src/gateway/gateway.ts
import { EventEmitter } from "node:events";

var maxBodyLength = 1600;
function prepareSend(options, request3) {
  validateRequest(request3);
  const provider = pickProvider(options, request3.provider);
  const to = normalizeRecipient(request3.to, { defaultRegion: options.defaultRegion }).value;
  const from = request3.from === void 0 ? void 0 : normalizeSender(options, request3.from, to);
  const message = {
    to,
    from,
    body: request3.body,
    mediaUrls: request3.mediaUrls,
    statusCallbackUrl: statusCallbackUrl(options, provider),
  };
  return { provider, message, scopes: consentScopes(options, provider, message) };
}
async function executeSend(options, prepared, recordRefusal) {
  await assertNotOptedOut(options, prepared);
  try {
    return await prepared.provider.send(prepared.message);
  } catch (error) {
    if (isProviderError(error) && error.reason === "opted-out") {
      await recordRefusal(refusalEvent(prepared, error.providerCode));
    }
    throw error;
  }
}
async function assertNotOptedOut(options, prepared) {
  const { to } = prepared.message;
  for (const scope of prepared.scopes) {
    let optedOut;
    try {
      optedOut = await options.store.isOptedOut(to, scope);
    } catch (error) {
      throw new ConsentCheckError(
        "The opt-out store could not be read, so the message was not sent; check that the store is reachable and retry",
        { cause: error },
      );
    }
    if (optedOut) {
      throw new RecipientOptedOutError(to, scope);
    }
  }
}
function refusalEvent(prepared, providerCode) {
  const { provider, message, scopes } = prepared;
  const sender = senderScopes(provider, message).at(0) ?? scopes.at(-1) ?? ALL_SENDERS;
  return {
    id: `${provider.name}:refusal:${randomUUID()}`,
    phone: message.to,
    action: "opt-out",
    sender,
    source: "provider-refusal",
    provider: provider.name,
    providerCode,
    occurredAt: /* @__PURE__ */ new Date(),
  };
}
function validateRequest(request3) {
  if (typeof request3 !== "object" || request3 === null) {
    throw new InvalidRequestError("send() needs an object with `to` and `body`");
  }
  if (typeof request3.to !== "string" || request3.to.trim() === "") {
    throw new InvalidRequestError("`to` is missing; pass the recipient's phone number");
  }
  const hasMedia = Array.isArray(request3.mediaUrls) && request3.mediaUrls.length > 0;
  if (typeof request3.body !== "string" || (request3.body === "" && !hasMedia)) {
    throw new InvalidRequestError("`body` is missing or empty; pass the message text");
  }
  if (request3.body.length > maxBodyLength) {
    throw new InvalidRequestError(
      `\`body\` has ${request3.body.length} characters; the maximum is ${maxBodyLength}`,
    );
  }
}
function pickProvider(options, name) {
  if (name === void 0) {
    return options.defaultProvider;
  }
  const provider = options.providers.get(name);
  if (!provider) {
    const known = [...options.providers.keys()].join(", ");
    throw new InvalidRequestError(`Unknown provider "${name}"; configured providers: ${known}`);
  }
  return provider;
}
function normalizeSender(options, from, to) {
  return parseSenderIdentity(from, { defaultRegion: options.defaultRegion, counterpart: to }).value;
}
function statusCallbackUrl(options, provider) {
  if (options.publicUrl === void 0) {
    return void 0;
  }
  return `${options.publicUrl}/webhooks/${provider.name}/status`;
}
function senderScopes(provider, message) {
  if (provider.consentScopes) {
    return provider.consentScopes(message);
  }
  const sender = message.from ?? provider.defaultSender;
  return sender === void 0 ? [] : [sender];
}
function consentScopes(options, provider, message) {
  if (options.optOutScope === "global") {
    return [ALL_SENDERS];
  }
  const scopes = senderScopes(provider, message);
  return scopes.length > 0 ? scopes : [ALL_SENDERS];
}

// src/gateway/bulk.ts
async function sendMany(options, requests, concurrency, recordRefusal) {
  const results = new Array(requests.length);
  const ready = [];
  requests.forEach((request3, index) => {
    try {
      ready.push({ index, prepared: prepareSend(options, request3) });
    } catch (error) {
      results[index] = { to: String(request3?.to), status: "failed", error };
    }
  });
  const allowed = await dropOptedOut(options, ready, results);
  await runBounded(allowed, Math.max(1, Math.floor(concurrency)), async ({ index, prepared }) => {
    results[index] = await sendOne(options, prepared, recordRefusal);
  });
  return results;
}
async function dropOptedOut(options, ready, results) {
  const byScope = /* @__PURE__ */ new Map();
  for (const { prepared } of ready) {
    for (const scope of prepared.scopes) {
      byScope.set(
        scope,
        (byScope.get(scope) ?? /* @__PURE__ */ new Set()).add(prepared.message.to),
      );
    }
  }
  const optedOut = /* @__PURE__ */ new Map();
  try {
    for (const [scope, phones] of byScope) {
      optedOut.set(scope, await options.store.filterOptedOut([...phones], scope));
    }
  } catch (cause) {
    const error = new ConsentCheckError(
      "The opt-out store could not be read, so no message was sent; retry when it is reachable",
      { cause },
    );
    for (const { index, prepared } of ready) {
      results[index] = { to: prepared.message.to, status: "failed", error };
    }
    return [];
  }
  return ready.filter(({ index, prepared }) => {
    const blocked = prepared.scopes.some((scope) => optedOut.get(scope)?.has(prepared.message.to));
    if (blocked) {
      results[index] = { to: prepared.message.to, status: "opted-out" };
    }
    return !blocked;
  });
}
async function sendOne(options, prepared, recordRefusal) {
  const to = prepared.message.to;
  try {
    const result = await executeSend(options, prepared, recordRefusal);
    return { to, status: "sent", result };
  } catch (error) {
    if (isRecipientOptedOutError(error)) {
      return { to, status: "opted-out" };
    }
    return { to, status: "failed", error };
  }
}
async function runBounded(items, concurrency, work) {
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const item = items[next];
      next += 1;
      await work(item);
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, items.length) }, worker));
}

// src/gateway/options.ts
import { isSupportedCountry as isSupportedCountry3 } from "libphonenumber-js";
import { z as z3 } from "zod";

// src/logger.ts
var ignore = () => {};
var silentLogger = {
  debug: ignore,
  info: ignore,
  warn: ignore,
  error: ignore,
};

// src/gateway/options.ts
var providerSchema = z3.custom(
  (value) =>
    typeof value === "object" &&
    value !== null &&
    typeof value.name === "string" &&
    typeof value.send === "function" &&
    typeof value.verifyWebhook === "function" &&
    typeof value.parseWebhook === "function" &&
    typeof value.webhookResponse === "function",
  { message: "must implement the Provider contract (name, send, verifyWebhook, ...)" },
);
var storeMethods = [
  "record",
  "isOptedOut",
  "filterOptedOut",
  "getState",
  "history",
  "commitWebhook",
  "close",
];
var storeSchema = z3.custom(
  (value) =>
    typeof value === "object" &&
    value !== null &&
    storeMethods.every((name) => typeof value[name] === "function"),
  { message: `must implement the OptOutStore contract (${storeMethods.join(", ")})` },
);
var loggerSchema = z3.custom(
  (value) =>
    typeof value === "object" &&
    value !== null &&
    ["debug", "info", "warn", "error"].every((level) => typeof value[level] === "function"),
  { message: "must have debug, info, warn and error methods (pino's interface)" },
);
var publicUrlSchema = z3
  .string()
  .refine((value) => /^https?:\/\/[^/?#]+(\/[^?#]*)?$/.test(value), {
    message: "must be an http or https origin with an optional path, without query or fragment",
  })
  .transform((value) => value.replace(/\/+$/, ""));
var gatewaySchema = z3.object({
  providers: z3.array(providerSchema).min(1, "configure at least one provider"),
  store: storeSchema,
  defaultRegion: z3
    .string()
    .refine((value) => isSupportedCountry3(value), {
      message: "must be an ISO 3166-1 alpha-2 region code that libphonenumber-js supports",
    })
    .optional(),
  optOutScope: z3.enum(["global", "sender"]).default("global"),
  keywords: z3
    .object({
      yesIsOptIn: z3.boolean().optional(),
      optOut: z3.array(z3.string()).optional(),
      optIn: z3.array(z3.string()).optional(),
      help: z3.array(z3.string()).optional(),
    })
    .default({}),
  publicUrl: publicUrlSchema.optional(),
  replies: z3
    .object({
      optOut: z3.string().min(1).optional(),
      optIn: z3.string().min(1).optional(),
      help: z3.string().min(1).optional(),
    })
    .default({}),
  forwardEvents: z3.boolean().default(false),
  insecureSkipSignatureVerification: z3.boolean().default(false),
  logger: loggerSchema.optional(),
});
function resolveGatewayOptions(options) {
  const parsed = gatewaySchema.safeParse(options);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const path = issue ? issue.path.join(".") : "";
    throw new ConfigError(path, issue?.message ?? "invalid gateway options");
  }
  const value = parsed.data;
  const providers2 = /* @__PURE__ */ new Map();
  for (const [index, provider] of value.providers.entries()) {
    if (providers2.has(provider.name)) {
      throw new ConfigError(
        `providers.${index}`,
        `a provider named "${provider.name}" is configured twice; give each one a unique name`,
      );
    }
    providers2.set(provider.name, provider);
  }
  return {
    providers: providers2,
    defaultProvider: value.providers[0],
    store: value.store,
    defaultRegion: value.defaultRegion,
    optOutScope: value.optOutScope,
    keywords: value.keywords,
    publicUrl: value.publicUrl,
    replies: value.replies,
    forwardEvents: value.forwardEvents,
    insecureSkipSignatureVerification: value.insecureSkipSignatureVerification,
    logger: value.logger ?? silentLogger,
  };
}

// src/keywords/lists.ts
var defaultOptOutKeywords = Object.freeze([
  "STOP",
  "STOPALL",
  "UNSUBSCRIBE",
  "UNSUB",
  "CANCEL",
  "END",
  "QUIT",
  "REVOKE",
  "OPTOUT",
  "REMOVE",
]);
var defaultOptInKeywords = Object.freeze(["START", "UNSTOP"]);
var yesOptInKeywords = Object.freeze(["YES"]);
var defaultHelpKeywords = Object.freeze(["HELP", "INFO"]);
var courtesyWords = Object.freeze([
  "please",
  "pls",
  "plz",
  "thanks",
  "thank you",
  "thx",
  "ty",
  "me",
  "now",
  "all",
]);
var messages =
  "(?:texts?|txts?|messages?|msgs?|sms|smses|reminders?|notifications?|alerts?|spam|marketing|promotions?|promos?|updates|calls)";
var determiner =
  "(?:(?:any ?more|all|any)(?: of)?(?: (?:the|these|those|this|your|ur|my))?|the|these|those|this|your|ur|my|such|more)";
var messageObject = `(?:${determiner} (?:[^ \\n]+ )?)?${messages}`;
var numberRef =
  "(?:my|this|the|our) (?:phone |cell |cellphone |mobile )?(?:number|no)|my (?:details|info|contact info|contact details|data)";
var sendingVerbs =
  "(?:sending|texting|txting|text|txt|messaging|message|msging|msg|contacting|contact|calling|call|emailing|email|spamming|spam|bothering|bother|pestering|harassing|receiving|getting)";
var contactVerbs = "(?:contact|text|txt|message|msg|sms|call|email|spam|bother)";
var optOutPhraseRules = Object.freeze([
  // "stop sending text reminders", "stop texting me", "quit messaging"
  { pattern: `(?:stop|stopall|quit|cease) ${sendingVerbs}`, negatable: true },
  // "stop these texts", "stop all the appointment reminders"
  { pattern: `(?:stop|stopall|quit|cease|cancel) ${messageObject}`, negatable: true },
  // "how do I unsubscribe", "I want to opt out": words with no other meaning here
  { pattern: "(?:unsubscribe|unsub|optout)", negatable: true },
  { pattern: "opt (?:me|us|my number) out", negatable: true },
  // "I already unsubscribed": the person believes they are out
  { pattern: "(?:unsubscribed|opted out)", negatable: true },
  // "remove me from your list", "delete my number", "lose my number"
  { pattern: "(?:remove|delete|erase) (?:me|us)", negatable: true },
  {
    pattern: `(?:remove|delete|erase|lose|forget|drop|scrub|purge) (?:${numberRef})`,
    negatable: true,
  },
  // "take me off this list", "get my number off"
  { pattern: `(?:take|get|cross|strike) (?:me|us|${numberRef}) off`, negatable: true },
  { pattern: "(?:revoke|withdraw) (?:my |our )?(?:consent|permission)", negatable: true },
  // "no more texts", "I do not want any more of these appointment reminders"
  { pattern: `no more (?:[^ \\n]+ )?${messages}`, negatable: false },
  {
    pattern:
      "(?:don't|dont|do not|no longer) (?:want|wish|need|like) (?:to (?:receive|get) )?" +
      messageObject,
    negatable: false,
  },
  // "don't contact me again", "do not text this number", "never text me again"
  {
    pattern: `(?:don't|dont|do not|never)(?: ever)? ${contactVerbs} (?:me|us|${numberRef})(?! back)`,
    negatable: false,
  },
  { pattern: `(?:don't|dont|do not|never) send (?:me |us )?${messageObject}`, negatable: false },
]);

// src/keywords/normalize.ts
var nonAscii = /[^\p{ASCII}]/u;
var marks = /\p{M}/gu;
var apostrophes = /[\u2018\u2019\u02bc\u2032\uff07`]/g;
var letterOrNumber = /^[\p{L}\p{N}]$/u;
var clauseBreaks = /* @__PURE__ */ new Set([
  ".",
  "!",
  "?",
  ";",
  ":",
  ",",
  "\n",
  "\r",
  "\x85",
  // next line
  "\u2028",
  // line separator
  "\u2029",
  // paragraph separator
  "\u3002",
  // ideographic full stop
  "\uFF61",
  // halfwidth ideographic full stop
  "\u061F",
  // Arabic question mark
  "\u06D4",
  // Arabic full stop
  "\u0964",
  // Devanagari danda
]);
var joinedForms = /(?<![^ \n])(?:(opt) (?=out(?![^ \n]))|(stop) (?=all(?![^ \n])))/g;
var word = 1;
var apostrophe = 2;
var clauseBreak = 3;
var other = 4;
function normalizeKeywordText(text) {
  return normalize(text, " ");
}
function normalizeClauses(text) {
  return normalize(text, "\n");
}
function normalize(text, clauseSeparator) {
  if (typeof text !== "string" || text === "") {
    return "";
  }
  const words = segment(fold(text), clauseSeparator);
  return words.includes(" ") ? words.replace(joinedForms, "$1$2") : words;
}
function fold(text) {
  if (!nonAscii.test(text)) {
    return text.toLowerCase();
  }
  return text
    .normalize("NFKD")
    .toLowerCase()
    .replace(marks, "")
    .normalize("NFC")
    .replace(apostrophes, "'");
}
function segment(text, clauseSeparator) {
  let out = "";
  let start = -1;
  let brokeClause = false;
  let index = 0;
  while (index < text.length) {
    const width = charWidth(text, index);
    const kind = classify(text, index, width);
    if (kind === word || (kind === apostrophe && start >= 0 && nextIsWord(text, index + 1))) {
      if (start < 0) {
        start = index;
      }
    } else {
      if (start >= 0) {
        out = append(out, text.slice(start, index), brokeClause ? clauseSeparator : " ");
        start = -1;
        brokeClause = false;
      }
      brokeClause ||= kind === clauseBreak;
    }
    index += width;
  }
  return start >= 0 ? append(out, text.slice(start), brokeClause ? clauseSeparator : " ") : out;
}
function append(out, next, separator) {
  return out === "" ? next : out + separator + next;
}
function charWidth(text, index) {
  const code2 = text.charCodeAt(index);
  if (code2 < 55296 || code2 > 56319 || index + 1 >= text.length) {
    return 1;
  }
  const next = text.charCodeAt(index + 1);
  return next >= 56320 && next <= 57343 ? 2 : 1;
}
function classify(text, index, width) {
  const code2 = text.charCodeAt(index);
  if (code2 < 128) {
    if ((code2 >= 97 && code2 <= 122) || (code2 >= 48 && code2 <= 57)) {
      return word;
    }
    if (code2 === 39) {
      return apostrophe;
    }
    return clauseBreaks.has(text[index]) ? clauseBreak : other;
  }
  const char = width === 1 ? text[index] : text.slice(index, index + 2);
  if (letterOrNumber.test(char)) {
    return word;
  }
  return clauseBreaks.has(char) ? clauseBreak : other;
}
function nextIsWord(text, index) {
  return index < text.length && classify(text, index, charWidth(text, index)) === word;
}

// src/keywords/classify.ts
var none = Object.freeze({ intent: null, match: "none" });
var ranks = { "opt-out": 3, "opt-in": 2, help: 1 };
var courtesy = new Set(courtesyWords.filter((courtesyWord) => !courtesyWord.includes(" ")));
var wordStart = "(?<![^ \\n])";
var wordEnd = "(?![^ \\n])";
var phrases = new RegExp(
  `${wordStart}(?:${optOutPhraseRules.map((rule) => `(${rule.pattern})`).join("|")})${wordEnd}`,
  "g",
);
var negations =
  "don't|dont|do not|did not|didn't|didnt|does not|doesn't|doesnt|never|not|can't|cant|cannot|won't|wont|shouldn't|shouldnt|wouldn't|wouldnt|no need to|did";
var conditions = "if|why|unless";
var fillers =
  "ever|you|u|i|we|they|want|wanna|to|please|pls|need|ask|asked|tell|told|them|really|just|even";
var negatedTail = new RegExp(`(?:^| )(?:${negations}|${conditions})(?: (?:${fillers}))* $`);
var conditionalTail = new RegExp(`(?:^| )(?:${conditions})(?: (?:${fillers}))* $`);
var tailLength = 60;
var defaults = compile({}, false);
var defaultsWithYes = compile({}, true);
var compiledOptions = /* @__PURE__ */ new WeakMap();
function classifyKeywords(text, options) {
  return classifyWith(text, compiledFor(options));
}
function classifyWith(text, compiled) {
  const normalized = normalizeClauses(text);
  if (normalized === "") {
    return none;
  }
  const whole = compiled.keywords.get(normalized);
  if (whole) {
    return whole.exact;
  }
  return classifyClauses(normalized, compiled);
}
function classifyClauses(normalized, compiled) {
  const clauses = readClauses(normalized, compiled);
  if (clauses.exact?.intent === "opt-out") {
    return clauses.exact.exact;
  }
  const phrase = findPhrase(normalized);
  if (phrase.keyword) {
    return { intent: "opt-out", match: "phrase", keyword: phrase.keyword };
  }
  if (clauses.exact) {
    return clauses.exact.exact;
  }
  const mentioned = stronger(clauses.mentioned, mentionedMultiWord(normalized, compiled));
  if (mentioned) {
    return mentioned.ambiguous;
  }
  return phrase.voided ? { intent: "opt-out", match: "ambiguous", keyword: phrase.voided } : none;
}
function readClauses(text, compiled) {
  const reading = { exact: void 0, mentioned: void 0 };
  let found;
  let alone = true;
  let thank = false;
  let clauseStart = 0;
  let index = 0;
  let space = text.indexOf(" ");
  let newline = text.indexOf("\n");
  for (;;) {
    if (space !== -1 && space < index) {
      space = text.indexOf(" ", index);
    }
    if (newline !== -1 && newline < index) {
      newline = text.indexOf("\n", index);
    }
    const clauseEnd = newline === -1 ? text.length : newline;
    const end = space !== -1 && space < clauseEnd ? space : clauseEnd;
    const token = text.slice(index, end);
    const keyword2 = compiled.keywords.get(token);
    const courteous = courtesy.has(token) || token === "thank" || (thank && token === "you");
    if (keyword2) {
      found = stronger(found, keyword2);
    } else if (!courteous) {
      alone = false;
    }
    if (thank && token !== "you") {
      alone = false;
    }
    thank = token === "thank" && !keyword2;
    if (end === clauseEnd) {
      const clause = alone && !thank ? found : clauseKeyword(text, clauseStart, end, compiled);
      reading.exact = stronger(reading.exact, clause);
      reading.mentioned = stronger(reading.mentioned, found ?? clause);
      found = void 0;
      alone = true;
      thank = false;
      clauseStart = end + 1;
    }
    if (end === text.length) {
      return reading;
    }
    index = end + 1;
  }
}
function clauseKeyword(text, start, end, compiled) {
  if (compiled.multiWord.length === 0) {
    return void 0;
  }
  return compiled.keywords.get(text.slice(start, end));
}
function findPhrase(text) {
  let voided;
  phrases.lastIndex = 0;
  for (let match = phrases.exec(text); match !== null; match = phrases.exec(text)) {
    const rule = optOutPhraseRules[match.findIndex((group, i) => i > 0 && group !== void 0) - 1];
    const tail = rule?.negatable === false ? conditionalTail : negatedTail;
    if (!tail.test(textBefore(text, match.index))) {
      return { keyword: phraseKeyword(match[0]) };
    }
    voided ??= phraseKeyword(match[0]);
  }
  return voided === void 0 ? {} : { voided };
}
function phraseKeyword(phrase) {
  return defaults.keywords.has(phrase) ? phrase.toUpperCase() : phrase;
}
function textBefore(text, index) {
  const from = Math.max(0, index - tailLength);
  let window = text.slice(from, index);
  const clauseStart = window.lastIndexOf("\n") + 1;
  if (clauseStart > 0) {
    window = window.slice(clauseStart);
  } else if (from > 0 && text[from - 1] !== " " && text[from - 1] !== "\n") {
    window = window.slice(window.indexOf(" ") + 1);
  }
  return window;
}
function mentionedMultiWord(text, compiled) {
  let found;
  for (const [pattern, keyword2] of compiled.multiWord) {
    if (pattern.test(text)) {
      found = stronger(found, keyword2);
    }
  }
  return found;
}
function escapeRegExp(text) {
  return text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}
function stronger(a, b) {
  if (!a) {
    return b;
  }
  return b && b.rank > a.rank ? b : a;
}
function compiledFor(options) {
  if (!options || (!options.optOut && !options.optIn && !options.help)) {
    return options?.yesIsOptIn ? defaultsWithYes : defaults;
  }
  const cached = compiledOptions.get(options);
  if (cached && sameOptions(cached.source, options)) {
    return cached;
  }
  const compiled = compile(options, options.yesIsOptIn === true);
  compiledOptions.set(options, compiled);
  return compiled;
}
function compile(options, yesIsOptIn) {
  const keywords = /* @__PURE__ */ new Map();
  const add = (intent, list, path) => {
    list?.forEach((entry, i) => {
      const folded = foldKeyword(entry, `${path}[${i}]`);
      const existing = keywords.get(folded);
      if (!existing || ranks[intent] > existing.rank) {
        keywords.set(folded, keyword(intent, folded.toUpperCase()));
      }
    });
  };
  add("help", defaultHelpKeywords, "help");
  add("help", checkList(options.help, "help"), "help");
  add("opt-in", defaultOptInKeywords, "optIn");
  add("opt-in", yesIsOptIn ? yesOptInKeywords : void 0, "optIn");
  add("opt-in", checkList(options.optIn, "optIn"), "optIn");
  add("opt-out", defaultOptOutKeywords, "optOut");
  add("opt-out", checkList(options.optOut, "optOut"), "optOut");
  const multiWord = [...keywords]
    .filter(([folded]) => folded.includes(" "))
    .map(([folded, entry]) => [new RegExp(`${wordStart}${escapeRegExp(folded)}${wordEnd}`), entry]);
  const { optOut, optIn, help } = options;
  return { keywords, multiWord, source: { yesIsOptIn, optOut, optIn, help } };
}
function sameOptions(a, b) {
  return (
    a.yesIsOptIn === (b.yesIsOptIn === true) &&
    a.optOut === b.optOut &&
    a.optIn === b.optIn &&
    a.help === b.help
  );
}
function checkList(list, path) {
  if (list === void 0 || Array.isArray(list)) {
    return list;
  }
  throw new ConfigError(path, "expected an array of keywords");
}
function foldKeyword(entry, path) {
  const folded = typeof entry === "string" ? normalizeKeywordText(entry) : "";
  if (folded === "") {
    throw new ConfigError(path, "a keyword must be text with at least one letter or digit");
  }
  return folded;
}
function keyword(intent, canonical) {
  return {
    intent,
    rank: ranks[intent],
    exact: Object.freeze({ intent, match: "exact", keyword: canonical }),
    ambiguous: Object.freeze({ intent, match: "ambiguous", keyword: canonical }),
  };
}

// src/gateway/consent.ts
function decideInbound(message, keywords) {
  const ownReading = classifyKeywords(message.text, keywords);
  const classification = message.providerIntent
    ? flaggedClassification(message.providerIntent, message.text, ownReading)
    : ownReading;
  const acts = classification.match === "exact" || classification.match === "phrase";
  const intent = acts ? classification.intent : null;
  const decision = {
    message,
    classification,
    review: classification.match === "ambiguous",
    help: intent === "help",
  };
  if (intent === "opt-out" || intent === "opt-in") {
    decision.event = inboundEvent(message, intent, classification);
  }
  return decision;
}
function reportEvent(report) {
  if (report.reason !== "opted-out" || report.to === void 0) {
    return void 0;
  }
  const sender = report.serviceId ?? report.from?.value;
  return {
    id: `${report.provider}:${report.accountId ?? "-"}:${report.messageId}:refusal`,
    phone: report.to.value,
    action: "opt-out",
    sender: sender ?? "*",
    source: "provider-refusal",
    provider: report.provider,
    messageId: report.messageId,
    providerCode: report.errorCode,
    occurredAt: report.providerTime ?? report.receivedAt,
  };
}
var maxFlaggedKeywordLength = 64;
function flaggedClassification(intent, text, ownReading) {
  if (ownReading.intent === intent && ownReading.keyword !== void 0) {
    return { intent, match: "exact", keyword: ownReading.keyword };
  }
  const keyword2 = text.trim().slice(0, maxFlaggedKeywordLength).toUpperCase();
  return { intent, match: "exact", keyword: keyword2 || void 0 };
}
function inboundEvent(message, action, classification) {
  return {
    id: `${message.provider}:${message.accountId ?? "-"}:${message.messageId}:${action}`,
    phone: message.from.value,
    action,
    sender: message.serviceId ?? message.to.value,
    source: message.providerIntent ? "provider-flag" : "keyword",
    provider: message.provider,
    messageId: message.messageId,
    text: message.text,
    keyword: classification.keyword,
    occurredAt: message.providerTime ?? message.receivedAt,
  };
}

// src/gateway/webhook.ts
function jsonAnswer(status, error, message) {
  return {
    status,
    headers: { "content-type": "application/json; charset=utf-8" },
    body: JSON.stringify({ error, message }),
  };
}
async function planWebhook(options, providerName, request3, kind) {
  const provider = options.providers.get(providerName);
  if (!provider) {
    return { response: jsonAnswer(404, "unknown-provider", `No provider "${providerName}"`) };
  }
  const rejection = await verify(options, provider, request3);
  if (rejection) {
    return { response: rejection };
  }
  let parsed;
  try {
    parsed = await provider.parseWebhook(request3, kind);
  } catch (error) {
    return { response: parseFailure2(options, provider, error) };
  }
  const decisions = parsed.inbound.map((message) => decideInbound(message, options.keywords));
  const receipt = buildReceipt(options, provider, kind, parsed, decisions);
  return { provider, kind, parsed, decisions, receipt };
}
function acceptedAnswer(options, plan, duplicate) {
  const replyText2 = duplicate ? void 0 : confirmationText(options, plan.decisions);
  return plan.provider.webhookResponse({ kind: plan.kind, replyText: replyText2 });
}
async function verify(options, provider, request3) {
  if (options.insecureSkipSignatureVerification) {
    return void 0;
  }
  try {
    await provider.verifyWebhook(request3);
    return void 0;
  } catch (error) {
    if (isWebhookVerificationError(error)) {
      const status = error.failure === "missing-signature" ? 401 : 403;
      options.logger.warn(
        { provider: provider.name, failure: error.failure, url: request3.url },
        "webhook rejected: signature check failed",
      );
      return jsonAnswer(status, error.failure, error.message);
    }
    options.logger.error(
      { provider: provider.name, err: error },
      "webhook rejected: signature verifier failed",
    );
    return jsonAnswer(403, "invalid-signature", "The signature could not be verified");
  }
}
function parseFailure2(options, provider, error) {
  if (isWebhookParseError(error)) {
    options.logger.warn({ provider: provider.name, err: error }, "webhook rejected: malformed");
    return jsonAnswer(400, "invalid-webhook", error.message);
  }
  options.logger.error({ provider: provider.name, err: error }, "webhook parser failed");
  return jsonAnswer(400, "invalid-webhook", "The webhook body could not be parsed");
}
function receiptId(provider, kind, parsed) {
  const inbound = parsed.inbound.map(
    (message) => `${message.accountId ?? "-"}:${message.messageId}`,
  );
  const reports = parsed.reports.map(
    (report) =>
      `${report.accountId ?? "-"}:${report.messageId}:${report.providerStatus}:` +
      (report.errorCode ?? ""),
  );
  return [`${provider.name}:${kind}`, ...inbound, ...reports].join("|");
}
function buildReceipt(options, provider, kind, parsed, decisions) {
  const id = receiptId(provider, kind, parsed);
  const events = [
    ...decisions.flatMap((decision) => (decision.event ? [decision.event] : [])),
    ...parsed.reports.flatMap((report) => {
      const event = reportEvent(report);
      return event ? [event] : [];
    }),
  ];
  const outbox = options.forwardEvents ? outboxMessages(id, parsed, decisions) : [];
  return { id, provider: provider.name, events, outbox, receivedAt: /* @__PURE__ */ new Date() };
}
function outboxMessages(receiptId2, parsed, decisions) {
  const entries = [];
  for (const decision of decisions) {
    entries.push([
      "inbound",
      { message: decision.message, classification: decision.classification },
    ]);
    if (decision.event) {
      entries.push([decision.event.action, decision.event]);
    }
    if (decision.review) {
      entries.push(["review", decision]);
    }
    if (decision.help) {
      entries.push(["help", decision.message]);
    }
  }
  for (const report of parsed.reports) {
    entries.push(["delivery-report", report]);
    const event = reportEvent(report);
    if (event) {
      entries.push([event.action, event]);
    }
  }
  return entries.map(([type, data], index) => ({
    id: `${receiptId2}#${index}`,
    type,
    payload: JSON.stringify(data),
  }));
}
function confirmationText(options, decisions) {
  for (const decision of decisions) {
    if (decision.event?.action === "opt-out" && options.replies.optOut) {
      return options.replies.optOut;
    }
    if (decision.event?.action === "opt-in" && options.replies.optIn) {
      return options.replies.optIn;
    }
    if (decision.help && options.replies.help) {
      return options.replies.help;
    }
  }
  return void 0;
}

// src/gateway/gateway.ts
var Gateway = class extends EventEmitter {
  #options;
  /** Commits in progress by receipt id, so a concurrent copy waits for the first one. */
  #inFlight = /* @__PURE__ */ new Map();
  constructor(options) {
    super();
    this.#options = resolveGatewayOptions(options);
  }
  /** The provider with this name, if configured. */
  provider(name) {
    return this.#options.providers.get(name);
  }
  /**
   * Sends one message unless the recipient opted out.
   *
   * @throws `InvalidPhoneNumberError` when `to` is not a valid number or short code.
   * @throws `RecipientOptedOutError` when the recipient opted out; the provider is not called.
   * @throws `ConsentCheckError` when the store cannot be read; nothing is sent.
   * @throws `ProviderError` when the provider refuses. An `opted-out` refusal is recorded
   * first, so the next send is refused locally.
   */
  async send(request3) {
    const prepared = prepareSend(this.#options, request3);
    return executeSend(this.#options, prepared, (event) => this.#recordRefusal(event));
  }
  /**
   * Sends to many recipients, checking all of them against the store in one call per scope.
   * Returns one result per request, in order, and throws for none of them.
   */
  async sendMany(requests, options = {}) {
    return sendMany(this.#options, requests, options.concurrency ?? 8, (event) =>
      this.#recordRefusal(event),
    );
  }
  /**
   * Runs a webhook through verification, parsing, classification and a durable commit, and
   * returns the HTTP answer. Never throws: a bad signature gives 401 or 403, a malformed body
   * 400, an unknown provider 404, and a store failure 503 so that the provider retries.
   */
  async handleWebhook(providerName, request3, options) {
    try {
      const plan = await planWebhook(this.#options, providerName, request3, options.kind);
      if ("response" in plan) {
        return plan.response;
      }
      const outcome = await this.#commitOnce(plan);
      if (!outcome.ok) {
        return jsonAnswer(503, "store-unavailable", "The event could not be stored; retry later");
      }
      return acceptedAnswer(this.#options, plan, outcome.duplicate);
    } catch (error) {
      this.#options.logger.error({ err: error, provider: providerName }, "webhook failed");
      return jsonAnswer(500, "internal-error", "The webhook could not be processed");
    }
  }
  /** Closes every provider's connections. The store is the caller's to close. */
  async close() {
    await Promise.all([...this.#options.providers.values()].map((provider) => provider.close?.()));
  }
  /**
   * Commits a webhook's receipt once. A copy that arrives while the first is committing
   * waits for that commit and shares its outcome, so side effects happen once.
   */
  async #commitOnce(plan) {
    const { id } = plan.receipt;
    const pending = this.#inFlight.get(id);
    if (pending) {
      const outcome = await pending;
      return outcome.ok ? { ok: true, duplicate: true } : outcome;
    }
    const commit = this.#commit(plan);
    this.#inFlight.set(id, commit);
    try {
      return await commit;
    } finally {
      this.#inFlight.delete(id);
    }
  }
  async #commit(plan) {
    try {
      const { duplicate } = await this.#options.store.commitWebhook(plan.receipt);
      if (!duplicate) {
        this.#emitPlan(plan);
      }
      return { ok: true, duplicate };
    } catch (error) {
      this.#options.logger.error(
        { err: error, provider: plan.provider.name, receipt: plan.receipt.id },
        "webhook not acknowledged: the store failed",
      );
      return { ok: false };
    }
  }
  #emitPlan(plan) {
    for (const decision of plan.decisions) {
      this.#emitSafely("inbound", decision.message, decision.classification);
      if (decision.help) {
        this.#emitSafely("help", decision.message);
      }
      if (decision.review) {
        this.#emitSafely("review", {
          message: decision.message,
          classification: decision.classification,
        });
      }
    }
    for (const report of plan.parsed.reports) {
      this.#emitSafely("report", report);
    }
    for (const event of plan.receipt.events) {
      this.#emitSafely(event.action, event);
    }
  }
  /** Records an opt-out learned from a refusal, as a receipt so it is forwarded too. */
  async #recordRefusal(event) {
    const outbox = this.#options.forwardEvents
      ? [{ id: `${event.id}#0`, type: event.action, payload: JSON.stringify(event) }]
      : [];
    try {
      await this.#options.store.commitWebhook({
        id: event.id,
        provider: event.provider ?? "unknown",
        events: [event],
        outbox,
        receivedAt: event.occurredAt,
      });
      this.#emitSafely("opt-out", event);
    } catch (error) {
      this.#options.logger.error(
        { err: error, phone: redactPhone(event.phone), provider: event.provider },
        "opt-out from a provider refusal could not be recorded",
      );
    }
  }
  /** Emits an event; a listener that throws is logged and does not affect the webhook. */
  #emitSafely(name, ...args) {
    try {
      this.emit(name, ...args);
    } catch (error) {
      this.#options.logger.error({ err: error, event: name }, "gateway event listener failed");
    }
  }
};

// src/stores/sqlite/errors.ts
var itemErrorPrefixes = ["SQLITE_CONSTRAINT", "SQLITE_TOOBIG", "SQLITE_MISMATCH", "SQLITE_RANGE"];
var hints = [
  [
    "SQLITE_BUSY",
    "Another connection held the write lock for longer than busyTimeoutMs. Retry, or raise busyTimeoutMs.",
  ],
  ["SQLITE_LOCKED", "A statement on the same connection holds a lock. Retry the operation."],
  ["SQLITE_FULL", "The disk or the file size limit is full. Free space and retry."],
  ["SQLITE_IOERR", "The operating system reported an I/O error. Check the disk and retry."],
  ["SQLITE_READONLY", "The file or its directory is not writable. Check the permissions."],
  ["SQLITE_CORRUPT", "The file is damaged. Restore it from a backup."],
  ["SQLITE_NOTADB", "The file is not an SQLite database. Choose another path."],
  [
    "SQLITE_CANTOPEN",
    "The file cannot be opened. Check that its directory exists and is writable.",
  ],
];
function sqliteCode(error) {
  if (typeof error !== "object" || error === null || !("code" in error)) {
    return void 0;
  }
  const { code: code2 } = error;
  return typeof code2 === "string" && code2.startsWith("SQLITE_") ? code2 : void 0;
}
function isDatabaseFailure(error) {
  const code2 = sqliteCode(error);
  if (code2 === void 0) {
    return !(error instanceof RangeError);
  }
  return !itemErrorPrefixes.some((prefix) => code2.startsWith(prefix));
}
function hintFor(code2) {
  if (code2 === void 0) {
    return "";
  }
  const match = hints.find(([prefix]) => code2.startsWith(prefix));
  return match === void 0 ? "" : ` ${match[1]}`;
}
function toStoreError(operation, path, error) {
  const code2 = sqliteCode(error);
  const detail = error instanceof Error ? error.message : String(error);
  const label = code2 === void 0 ? detail : `${detail} (${code2})`;
  return new StoreError(`SQLite store ${path}: ${operation} failed: ${label}.${hintFor(code2)}`, {
    cause: error,
  });
}
function closedStoreError(operation, path) {
  return new StoreError(
    `SQLite store ${path}: ${operation} failed because the store is closed. Open it again with openSqliteStore().`,
  );
}
function readonlyStoreError(operation, path) {
  return new StoreError(
    `SQLite store ${path}: ${operation} failed because the store was opened read-only. Open it without readonly to write.`,
  );
}

// src/stores/sqlite/group-commit.ts
var GroupCommitQueue = class {
  #options;
  #pending = [];
  #scheduled = false;
  #idleWaiters = [];
  constructor(options) {
    this.#options = options;
  }
  /** Queues `work` and returns its result once the transaction that ran it has committed. */
  enqueue(work) {
    return new Promise((resolve2, reject) => {
      this.#pending.push({ work, resolve: resolve2, reject });
      this.#schedule();
    });
  }
  /** Resolves when every queued write has settled. */
  drain() {
    if (this.#pending.length === 0 && !this.#scheduled) {
      return Promise.resolve();
    }
    return new Promise((resolve2) => {
      this.#idleWaiters.push(resolve2);
    });
  }
  #schedule() {
    if (this.#scheduled) {
      return;
    }
    this.#scheduled = true;
    setImmediate(() => {
      this.#flush();
    });
  }
  #flush() {
    this.#scheduled = false;
    const batch = this.#pending.splice(0, this.#options.maxBatchSize);
    this.#commitBatch(batch);
    if (this.#pending.length > 0) {
      this.#schedule();
      return;
    }
    const waiters = this.#idleWaiters;
    this.#idleWaiters = [];
    for (const resolve2 of waiters) {
      resolve2();
    }
  }
  #commitBatch(batch) {
    const results = [];
    try {
      this.#options.runInTransaction(() => {
        for (const write of batch) {
          results.push(write.work());
        }
      });
    } catch (error) {
      this.#commitEach(batch, error);
      return;
    }
    batch.forEach((write, index) => {
      write.resolve(results[index]);
    });
  }
  // The batch was rolled back. Each write is retried in its own transaction, so that one
  // bad write fails alone. After a failure of the database itself (locked past the busy
  // timeout, disk full) the rest fail with it instead of each waiting the busy timeout.
  #commitEach(batch, batchError) {
    if (batch.length === 1) {
      batch[0]?.reject(batchError);
      return;
    }
    let databaseFailure;
    for (const write of batch) {
      if (databaseFailure !== void 0) {
        write.reject(databaseFailure.error);
        continue;
      }
      try {
        let result;
        this.#options.runInTransaction(() => {
          result = write.work();
        });
        write.resolve(result);
      } catch (error) {
        write.reject(error);
        if (this.#options.isDatabaseFailure(error)) {
          databaseFailure = { error };
        }
      }
    }
  }
};

// src/stores/sqlite/open.ts
import { mkdirSync } from "node:fs";
import { dirname } from "node:path";
import Database from "better-sqlite3";
import { z as z4 } from "zod";

// src/stores/sqlite/migrations.ts
var initialSchema = `
CREATE TABLE webhook_receipts (
  id TEXT PRIMARY KEY,
  provider TEXT NOT NULL,
  received_at INTEGER NOT NULL,
  committed_at INTEGER NOT NULL
) WITHOUT ROWID;

CREATE TABLE consent_events (
  seq INTEGER PRIMARY KEY,
  id TEXT NOT NULL UNIQUE,
  phone TEXT NOT NULL,
  action TEXT NOT NULL CHECK (action IN ('opt-out', 'opt-in')),
  sender TEXT NOT NULL,
  source TEXT NOT NULL,
  provider TEXT,
  message_id TEXT,
  provider_code TEXT,
  text TEXT,
  keyword TEXT,
  occurred_at INTEGER NOT NULL,
  recorded_at INTEGER NOT NULL,
  receipt_id TEXT REFERENCES webhook_receipts (id)
);

CREATE INDEX consent_events_by_phone ON consent_events (phone, seq);

CREATE TABLE consent_by_sender (
  phone TEXT NOT NULL,
  sender TEXT NOT NULL,
  action TEXT NOT NULL,
  occurred_at INTEGER NOT NULL,
  seq INTEGER NOT NULL REFERENCES consent_events (seq),
  PRIMARY KEY (phone, sender)
) WITHOUT ROWID;

CREATE INDEX consent_by_sender_by_action ON consent_by_sender (action, sender, phone);

CREATE TABLE consent_by_phone (
  phone TEXT PRIMARY KEY,
  action TEXT NOT NULL,
  occurred_at INTEGER NOT NULL,
  seq INTEGER NOT NULL REFERENCES consent_events (seq)
) WITHOUT ROWID;

CREATE INDEX consent_by_phone_by_action ON consent_by_phone (action, phone);

CREATE TABLE outbox (
  seq INTEGER PRIMARY KEY,
  id TEXT NOT NULL UNIQUE,
  receipt_id TEXT NOT NULL REFERENCES webhook_receipts (id),
  type TEXT NOT NULL,
  payload TEXT NOT NULL,
  created_at INTEGER NOT NULL,
  not_before INTEGER NOT NULL,
  lease_expires_at INTEGER NOT NULL DEFAULT 0,
  attempts INTEGER NOT NULL DEFAULT 0,
  last_error TEXT
);

CREATE INDEX outbox_due ON outbox (not_before, seq);
`;
var migrations = [
  { version: 1, description: "consent log, derived state, receipts, outbox", sql: initialSchema },
];
var SCHEMA_VERSION = migrations.length;
function readSchemaVersion(db) {
  return db.pragma("user_version", { simple: true });
}
function newerVersionError(path, found) {
  return new StoreError(
    `SQLite store ${path} has schema version ${found}, but this version of smsgate knows versions 1 to ${SCHEMA_VERSION}. Upgrade smsgate to open it.`,
  );
}
function migrate(db, path) {
  const found = readSchemaVersion(db);
  if (found > SCHEMA_VERSION) {
    throw newerVersionError(path, found);
  }
  if (found === SCHEMA_VERSION) {
    return;
  }
  if (db.readonly) {
    throw new StoreError(
      `SQLite store ${path} has schema version ${found} and needs version ${SCHEMA_VERSION}, but it was opened read-only. Open it once without readonly to migrate it.`,
    );
  }
  applyMigrations(db, path);
}
function applyMigrations(db, path) {
  const run = db.transaction(() => {
    const current = readSchemaVersion(db);
    if (current > SCHEMA_VERSION) {
      throw newerVersionError(path, current);
    }
    for (const migration of migrations) {
      if (migration.version > current) {
        db.exec(migration.sql);
      }
    }
    db.pragma(`user_version = ${SCHEMA_VERSION}`);
  });
  run.immediate();
}

// src/stores/sqlite/open.ts
var MAX_TIMEOUT_MS2 = 2 ** 31 - 1;
var MEMORY_PATH = ":memory:";
var optionsSchema = z4.strictObject({
  path: z4
    .string({ error: "must be a file path string" })
    .min(1, { error: `must not be empty. Give a file path, or "${MEMORY_PATH}"` }),
  busyTimeoutMs: z4
    .number({ error: "must be a number of milliseconds" })
    .int({ error: "must be a whole number of milliseconds" })
    .min(0, { error: "must not be negative" })
    .max(MAX_TIMEOUT_MS2, { error: `must be at most ${MAX_TIMEOUT_MS2}` })
    .default(5e3),
  readonly: z4.boolean({ error: "must be true or false" }).default(false),
});
function describeValue2(value) {
  return typeof value === "string" || typeof value === "number" || typeof value === "boolean"
    ? JSON.stringify(value)
    : typeof value;
}
function parseSqliteOptions(input) {
  const result = optionsSchema.safeParse(input);
  if (result.success) {
    return result.data;
  }
  const issue = result.error.issues[0];
  if (issue === void 0 || issue.path.length === 0) {
    const keys = issue?.code === "unrecognized_keys" ? issue.keys.join(", ") : "";
    if (keys !== "") {
      throw new ConfigError(
        keys,
        "is not an option of the SQLite store. Remove it or correct its spelling",
      );
    }
    throw new ConfigError("options", "must be an object with a path");
  }
  const path = issue.path.join(".");
  const received = input[path];
  throw new ConfigError(path, `${issue.message} (received ${describeValue2(received)})`);
}
function createParentDirectory(path) {
  const directory = dirname(path);
  try {
    mkdirSync(directory, { recursive: true });
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    throw new StoreError(
      `Cannot open the SQLite store ${path}: creating its directory ${directory} failed (${reason}). Create the directory, or choose a path in a writable directory.`,
      { cause: error },
    );
  }
}
function openConnection(options) {
  try {
    return new Database(options.path, {
      readonly: options.readonly,
      fileMustExist: options.readonly,
      timeout: options.busyTimeoutMs,
    });
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    const advice = options.readonly
      ? "A read-only store needs an existing database file; check the path."
      : "Check that the path names a file, not a directory, and that it is writable.";
    throw new StoreError(`Cannot open the SQLite store ${options.path}: ${reason}. ${advice}`, {
      cause: error,
    });
  }
}
function configure(db, options) {
  db.pragma(`busy_timeout = ${options.busyTimeoutMs}`);
  if (!options.readonly && options.path !== MEMORY_PATH) {
    const mode = db.pragma("journal_mode = WAL", { simple: true });
    if (mode !== "wal") {
      throw new StoreError(
        `SQLite store ${options.path}: WAL journal mode is not available (got ${String(mode)}). Put the database on a local file system.`,
      );
    }
  }
  db.pragma("synchronous = FULL");
  db.pragma("foreign_keys = ON");
}
function openDatabase(options) {
  if (!options.readonly && options.path !== MEMORY_PATH) {
    createParentDirectory(options.path);
  }
  const db = openConnection(options);
  try {
    configure(db, options);
    migrate(db, options.path);
  } catch (error) {
    db.close();
    throw error instanceof StoreError ? error : toStoreError("open", options.path, error);
  }
  return db;
}
function readDiagnostics(db, path) {
  return {
    path,
    journalMode: String(db.pragma("journal_mode", { simple: true })),
    synchronous: Number(db.pragma("synchronous", { simple: true })),
    busyTimeoutMs: Number(db.pragma("busy_timeout", { simple: true })),
    foreignKeys: db.pragma("foreign_keys", { simple: true }) === 1,
    schemaVersion: readSchemaVersion(db),
    readonly: db.readonly,
  };
}

// src/stores/sqlite/statements.ts
var eventColumns = `e.seq, e.id, e.phone, e.action, e.sender, e.source, e.provider,
  e.message_id, e.provider_code, e.text, e.keyword, e.occurred_at, e.recorded_at`;
var decidingSenderRow = `SELECT s.seq FROM consent_by_sender AS s
  WHERE s.phone = @phone AND s.sender IN (@scope, '*')
  ORDER BY s.occurred_at DESC, s.seq DESC LIMIT 1`;
function listSenderArm(sender) {
  return `SELECT s.phone AS list_phone, ${eventColumns} FROM consent_by_sender AS s
    JOIN consent_events AS e ON e.seq = s.seq
    WHERE s.action = 'opt-out' AND s.sender = ${sender} AND s.phone > @after
      AND NOT EXISTS (SELECT 1 FROM consent_by_sender AS n
        WHERE n.phone = s.phone AND n.sender IN (@scope, '*')
          AND (n.occurred_at, n.seq) > (s.occurred_at, s.seq))`;
}
var sql = {
  insertEvent: `INSERT INTO consent_events (id, phone, action, sender, source, provider,
      message_id, provider_code, text, keyword, occurred_at, recorded_at, receipt_id)
    VALUES (@id, @phone, @action, @sender, @source, @provider, @messageId, @providerCode,
      @text, @keyword, @occurredAt, @recordedAt, @receiptId)
    ON CONFLICT (id) DO NOTHING
    RETURNING seq`,
  // The row changes only when the new event is newer in consent order.
  upsertSenderState: `INSERT INTO consent_by_sender (phone, sender, action, occurred_at, seq)
    VALUES (@phone, @sender, @action, @occurredAt, @seq)
    ON CONFLICT (phone, sender) DO UPDATE
      SET action = excluded.action, occurred_at = excluded.occurred_at, seq = excluded.seq
      WHERE (excluded.occurred_at, excluded.seq)
        > (consent_by_sender.occurred_at, consent_by_sender.seq)`,
  upsertPhoneState: `INSERT INTO consent_by_phone (phone, action, occurred_at, seq)
    VALUES (@phone, @action, @occurredAt, @seq)
    ON CONFLICT (phone) DO UPDATE
      SET action = excluded.action, occurred_at = excluded.occurred_at, seq = excluded.seq
      WHERE (excluded.occurred_at, excluded.seq)
        > (consent_by_phone.occurred_at, consent_by_phone.seq)`,
  insertReceipt: `INSERT INTO webhook_receipts (id, provider, received_at, committed_at)
    VALUES (@id, @provider, @receivedAt, @committedAt)
    ON CONFLICT (id) DO NOTHING`,
  insertOutbox: `INSERT INTO outbox (id, receipt_id, type, payload, created_at, not_before)
    VALUES (@id, @receiptId, @type, @payload, @createdAt, @createdAt)
    ON CONFLICT (id) DO NOTHING`,
  isOptedOutAny: `SELECT 1 FROM consent_by_phone WHERE phone = ? AND action = 'opt-out'`,
  isOptedOutSender: `SELECT s.action = 'opt-out' FROM consent_by_sender AS s
    WHERE s.phone = @phone AND s.sender IN (@scope, '*')
    ORDER BY s.occurred_at DESC, s.seq DESC LIMIT 1`,
  // CROSS JOIN keeps json_each as the outer loop, so each phone is one primary-key lookup.
  filterAny: `SELECT DISTINCT s.phone FROM json_each(?) AS j
    CROSS JOIN consent_by_phone AS s ON s.phone = j.value
    WHERE s.action = 'opt-out'`,
  filterSender: `SELECT DISTINCT j.value FROM json_each(@phones) AS j
    WHERE (SELECT s.action FROM consent_by_sender AS s
      WHERE s.phone = j.value AND s.sender IN (@scope, '*')
      ORDER BY s.occurred_at DESC, s.seq DESC LIMIT 1) = 'opt-out'`,
  stateAny: `SELECT ${eventColumns} FROM consent_by_phone AS s
    JOIN consent_events AS e ON e.seq = s.seq WHERE s.phone = ?`,
  stateSender: `SELECT ${eventColumns} FROM consent_events AS e
    WHERE e.seq = (${decidingSenderRow})`,
  history: `SELECT ${eventColumns} FROM consent_events AS e WHERE e.phone = ? ORDER BY e.seq`,
  listAny: `SELECT ${eventColumns} FROM consent_by_phone AS s
    JOIN consent_events AS e ON e.seq = s.seq
    WHERE s.action = 'opt-out' AND s.phone > @after
    ORDER BY s.phone LIMIT @limit`,
  // One arm per sender value, each read in phone order from its index and merged without a
  // sort. A phone with opted-out rows in both arms is listed once, by its newest row.
  listSender: `${listSenderArm("@scope")} UNION ALL ${listSenderArm("'*'")}
    ORDER BY list_phone LIMIT @limit`,
  claimOutbox: `UPDATE outbox
    SET lease_expires_at = @leaseExpiresAt, attempts = attempts + 1
    WHERE seq IN (SELECT seq FROM outbox
      WHERE not_before <= @now AND lease_expires_at <= @now
      ORDER BY seq LIMIT @limit)
    RETURNING seq, id, type, payload, created_at, attempts`,
  completeOutbox: "DELETE FROM outbox WHERE id = ?",
  retryOutbox: `UPDATE outbox SET not_before = @notBefore, lease_expires_at = 0,
    last_error = @error WHERE id = @id`,
};
function prepareStatements(db) {
  const entries = Object.entries(sql).map(([name, text]) => [name, db.prepare(text)]);
  const statements = Object.fromEntries(entries);
  statements.insertEvent.pluck();
  statements.isOptedOutAny.pluck();
  statements.isOptedOutSender.pluck();
  statements.filterAny.pluck();
  statements.filterSender.pluck();
  return statements;
}
function eventParameters(event, recordedAt, receiptId2) {
  return {
    id: event.id,
    phone: event.phone,
    action: event.action,
    sender: event.sender,
    source: event.source,
    provider: event.provider ?? null,
    messageId: event.messageId ?? null,
    providerCode: event.providerCode ?? null,
    text: event.text ?? null,
    keyword: event.keyword ?? null,
    occurredAt: event.occurredAt.getTime(),
    recordedAt,
    receiptId: receiptId2,
  };
}
function rowToEvent(row) {
  const event = {
    id: row.id,
    phone: row.phone,
    action: row.action,
    sender: row.sender,
    source: row.source,
    occurredAt: new Date(row.occurred_at),
    recordedAt: new Date(row.recorded_at),
  };
  if (row.provider !== null) event.provider = row.provider;
  if (row.message_id !== null) event.messageId = row.message_id;
  if (row.provider_code !== null) event.providerCode = row.provider_code;
  if (row.text !== null) event.text = row.text;
  if (row.keyword !== null) event.keyword = row.keyword;
  return event;
}
var MAX_JSON_PARAMETER_BYTES = 2 ** 27;
function toJsonArrayChunks(values, maxBytes = MAX_JSON_PARAMETER_BYTES) {
  const chunks = [];
  let start = 0;
  let size = 2;
  values.forEach((value, index) => {
    const itemBytes = value.length * 6 + 3;
    if (index > start && size + itemBytes > maxBytes) {
      chunks.push(JSON.stringify(values.slice(start, index)));
      start = index;
      size = 2;
    }
    size += itemBytes;
  });
  if (values.length > start) {
    chunks.push(JSON.stringify(values.slice(start)));
  }
  return chunks;
}

// src/stores/sqlite/queries.ts
var ConsentQueries = class {
  #db;
  #statements;
  constructor(db) {
    this.#db = db;
    this.#statements = prepareStatements(db);
  }
  /**
   * Appends an event unless its id exists. Call it inside a write transaction. The derived
   * rows change only when the event is newer than the one that decides them.
   */
  insertEvent(event, receiptId2) {
    const parameters = eventParameters(event, Date.now(), receiptId2);
    const seq = this.#statements.insertEvent.get(parameters);
    if (seq === void 0) {
      return false;
    }
    const state = { ...parameters, seq };
    this.#statements.upsertSenderState.run(state);
    this.#statements.upsertPhoneState.run(state);
    return true;
  }
  /**
   * Writes a receipt with its events and outbox messages. Call it inside a write
   * transaction. The receipt id is inserted first, so a redelivery finds it and writes nothing.
   */
  insertReceipt(receipt) {
    const committedAt = Date.now();
    const { id, provider, receivedAt } = receipt;
    const inserted = this.#statements.insertReceipt.run({ id, provider, receivedAt, committedAt });
    if (inserted.changes === 0) {
      return { duplicate: true };
    }
    for (const event of receipt.events) {
      this.insertEvent(event, id);
    }
    for (const message of receipt.outbox) {
      this.#statements.insertOutbox.run({ ...message, receiptId: id, createdAt: committedAt });
    }
    return { duplicate: false };
  }
  /** Checks whether the phone is opted out in `scope`. */
  isOptedOut(phone, scope) {
    if (scope === ALL_SENDERS) {
      return this.#statements.isOptedOutAny.get(phone) === 1;
    }
    return this.#statements.isOptedOutSender.get({ phone, scope }) === 1;
  }
  /**
   * Returns the opted-out phones among `phones`. It runs one query over a JSON array, or one
   * per chunk inside one read transaction when the array is too long for one parameter.
   */
  filterOptedOut(phones, scope) {
    const chunks = toJsonArrayChunks(phones);
    const optedOut = /* @__PURE__ */ new Set();
    const readChunks = () => {
      for (const chunk of chunks) {
        for (const phone of this.#filterChunk(chunk, scope)) {
          optedOut.add(phone);
        }
      }
    };
    if (chunks.length === 1) {
      readChunks();
    } else {
      this.#db.transaction(readChunks)();
    }
    return optedOut;
  }
  #filterChunk(phonesJson, scope) {
    const { filterAny, filterSender } = this.#statements;
    const rows =
      scope === ALL_SENDERS
        ? filterAny.all(phonesJson)
        : filterSender.all({ phones: phonesJson, scope });
    return rows;
  }
  /** Reads the event that decides the phone's state in `scope`, if any. */
  decidingEvent(phone, scope) {
    const { stateAny, stateSender } = this.#statements;
    const row = scope === ALL_SENDERS ? stateAny.get(phone) : stateSender.get({ phone, scope });
    return row;
  }
  /** Reads every event of the phone in commit order. */
  history(phone) {
    return this.#statements.history.all(phone);
  }
  /** Reads up to `limit` deciding opt-out events of phones after `after`, by phone. */
  listOptedOut(scope, after, limit) {
    const { listAny, listSender } = this.#statements;
    const page = { after, limit, scope };
    return scope === ALL_SENDERS ? listAny.all(page) : listSender.all(page);
  }
  /** Leases up to `limit` due messages. Call it inside a write transaction. */
  claimOutbox(limit, leaseMs) {
    const now = Date.now();
    const parameters = { now, leaseExpiresAt: now + leaseMs, limit };
    const rows = this.#statements.claimOutbox.all(parameters);
    rows.sort((a, b) => a.seq - b.seq);
    return rows.map((row) => ({
      id: row.id,
      type: row.type,
      payload: row.payload,
      attempts: row.attempts,
      createdAt: new Date(row.created_at),
    }));
  }
  /** Deletes one outbox message. */
  completeOutbox(id) {
    this.#statements.completeOutbox.run(id);
  }
  /** Releases a message's lease and sets its next attempt time and last error. */
  retryOutbox(id, notBefore, error) {
    this.#statements.retryOutbox.run({ id, notBefore: notBefore.getTime(), error });
  }
};

// src/stores/sqlite.ts
var MAX_GROUP_COMMIT_SIZE = 256;
var LIST_PAGE_SIZE = 500;
var SqliteOptOutStore = class _SqliteOptOutStore {
  /** The database file, as given. */
  path;
  #db;
  #queries;
  #queue;
  #immediate;
  #closing;
  constructor(db, path) {
    this.path = path;
    this.#db = db;
    this.#queries = new ConsentQueries(db);
    const transaction = db.transaction((work) => work());
    this.#immediate = (work) => transaction.immediate(work);
    this.#queue = new GroupCommitQueue({
      runInTransaction: this.#immediate,
      maxBatchSize: MAX_GROUP_COMMIT_SIZE,
      isDatabaseFailure,
    });
  }
  /**
   * Opens the store; see {@link openSqliteStore}.
   *
   * @throws {ConfigError} for invalid options.
   * @throws {StoreError} when opening fails.
   */
  static open(options) {
    const resolved = parseSqliteOptions(options);
    const db = openDatabase(resolved);
    try {
      return new _SqliteOptOutStore(db, resolved.path);
    } catch (error) {
      db.close();
      throw toStoreError("open", resolved.path, error);
    }
  }
  /** Appends an event unless one with the same id exists, and resolves once it is on disk. */
  async record(event) {
    this.#assertWritable("record");
    validateConsentEvent(event);
    const snapshot = copyConsentEvent(event);
    const recorded = await this.#write("record", () => this.#queries.insertEvent(snapshot, null));
    return { recorded };
  }
  /** Checks whether the number is opted out in `scope` (default `*`). */
  async isOptedOut(phone, scope) {
    this.#assertOpen("isOptedOut");
    validatePhone(phone);
    const resolved = resolveScope(scope);
    return this.#read("isOptedOut", () => this.#queries.isOptedOut(phone, resolved));
  }
  /** Returns the numbers among `phones` that are opted out in `scope`, in one query. */
  async filterOptedOut(phones, scope) {
    this.#assertOpen("filterOptedOut");
    validatePhoneList(phones);
    const resolved = resolveScope(scope);
    if (phones.length === 0) {
      return /* @__PURE__ */ new Set();
    }
    return this.#read("filterOptedOut", () => this.#queries.filterOptedOut(phones, resolved));
  }
  /** Reads the current state of one number in `scope` (default `*`). */
  async getState(phone, scope) {
    this.#assertOpen("getState");
    validatePhone(phone);
    const resolved = resolveScope(scope);
    const row = this.#read("getState", () => this.#queries.decidingEvent(phone, resolved));
    return {
      phone,
      optedOut: row?.action === "opt-out",
      scope: resolved,
      lastEvent: row === void 0 ? void 0 : rowToEvent(row),
    };
  }
  /** Returns every event of a number, oldest first in commit order. */
  async history(phone) {
    this.#assertOpen("history");
    validatePhone(phone);
    return this.#read("history", () => this.#queries.history(phone)).map(rowToEvent);
  }
  /**
   * Streams the state of every opted-out number in `scope` (default `*`), ordered by phone.
   * Rows are read in pages of 500 by phone, each page in its own read, so that the
   * connection serves other calls between pages. A page may therefore see writes committed
   * after the previous page was read.
   */
  async *listOptedOut(scope) {
    this.#assertOpen("listOptedOut");
    const resolved = resolveScope(scope);
    let after = "";
    for (;;) {
      const rows = this.#read("listOptedOut", () =>
        this.#queries.listOptedOut(resolved, after, LIST_PAGE_SIZE),
      );
      for (const row of rows) {
        yield { phone: row.phone, optedOut: true, scope: resolved, lastEvent: rowToEvent(row) };
      }
      const last = rows.at(-1);
      if (last === void 0 || rows.length < LIST_PAGE_SIZE) {
        return;
      }
      after = last.phone;
    }
  }
  /**
   * Commits a webhook's receipt, events and outbox messages in one transaction. An event or
   * outbox message whose id is stored already is skipped.
   */
  async commitWebhook(receipt) {
    this.#assertWritable("commitWebhook");
    validateWebhookReceipt(receipt);
    const snapshot = {
      id: receipt.id,
      provider: receipt.provider,
      receivedAt: receipt.receivedAt.getTime(),
      events: receipt.events.map((event) => copyConsentEvent(event)),
      outbox: receipt.outbox.map(({ id, type, payload }) => ({ id, type, payload })),
    };
    return this.#write("commitWebhook", () => this.#queries.insertReceipt(snapshot));
  }
  /** Claims up to `limit` due messages in creation order and leases them for `leaseMs`. */
  async claimOutbox(limit, leaseMs) {
    this.#assertWritable("claimOutbox");
    validateOutboxClaim(limit, leaseMs);
    let claimed = [];
    this.#writeNow("claimOutbox", () => {
      claimed = this.#queries.claimOutbox(limit, leaseMs);
    });
    return claimed;
  }
  /** Deletes a delivered message. An unknown id is ignored. */
  async completeOutbox(id) {
    this.#assertWritable("completeOutbox");
    validateOutboxId(id);
    this.#writeNow("completeOutbox", () => this.#queries.completeOutbox(id));
  }
  /** Releases a message's lease and schedules it for `notBefore`. Ignores an unknown id. */
  async retryOutbox(id, notBefore, error) {
    this.#assertWritable("retryOutbox");
    validateOutboxRetry(id, notBefore, error);
    this.#writeNow("retryOutbox", () => this.#queries.retryOutbox(id, notBefore, error));
  }
  /** Reads back the settings in effect on this store's connection. */
  async diagnostics() {
    this.#assertOpen("diagnostics");
    return this.#read("diagnostics", () => readDiagnostics(this.#db, this.path));
  }
  /**
   * Waits for queued writes, then closes the connection. Later calls reject with a
   * `StoreError`; calling `close()` again returns the same promise.
   */
  close() {
    this.#closing ??= this.#queue.drain().then(() => {
      try {
        this.#db.close();
      } catch (error) {
        throw toStoreError("close", this.path, error);
      }
    });
    return this.#closing;
  }
  #assertOpen(operation) {
    if (this.#closing !== void 0) {
      throw closedStoreError(operation, this.path);
    }
  }
  #assertWritable(operation) {
    this.#assertOpen(operation);
    if (this.#db.readonly) {
      throw readonlyStoreError(operation, this.path);
    }
  }
  #read(operation, work) {
    this.#assertOpen(operation);
    try {
      return work();
    } catch (error) {
      throw toStoreError(operation, this.path, error);
    }
  }
  // A write outside the group-commit queue, in its own transaction.
  #writeNow(operation, work) {
    try {
      this.#immediate(work);
    } catch (error) {
      throw toStoreError(operation, this.path, error);
    }
  }
  // Queues a write for group commit. It settles after its transaction.
  async #write(operation, work) {
    try {
      return await this.#queue.enqueue(work);
    } catch (error) {
      throw toStoreError(operation, this.path, error);
    }
  }
};
function openSqliteStore(options) {
  return SqliteOptOutStore.open(options);
}

// src/cli/dev.ts
import { randomBytes } from "node:crypto";
import { link, mkdir, readFile as readFile2, rm, writeFile } from "node:fs/promises";
import { dirname as dirname2 } from "node:path";

function isDevMode(config) {
  return Object.values(config.providers ?? {}).every((provider) => provider === void 0);
}
function devFilePath(storePath) {
  return `${storePath}.dev.json`;
}
function generateDevSecrets() {
  return {
    twilio: {
      accountSid: `AC${randomBytes(16).toString("hex")}`,
      authToken: randomBytes(16).toString("hex"),
    },
  };
}
function parseDevSecrets(value, path) {
  const twilio3 = value?.twilio;
  const accountSid = twilio3?.accountSid;
  const authToken = twilio3?.authToken;
  const valid =
    typeof accountSid === "string" &&
    /^AC[0-9a-fA-F]{32}$/.test(accountSid) &&
    typeof authToken === "string" &&
    authToken !== "";
  if (!valid) {
    throw new ConfigError(
      "",
      `Development secrets file ${path} is invalid: expected { "twilio": { "accountSid": "AC\u2026", "authToken": "\u2026" } }; delete it to generate a new one`,
    );
  }
  return { twilio: { accountSid, authToken } };
}
async function readDevSecrets(storePath) {
  const path = devFilePath(storePath);
  let text;
  try {
    text = await readFile2(path, "utf8");
  } catch (error) {
    if (error.code === "ENOENT") {
      return void 0;
    }
    throw error;
  }
  let parsed;
  try {
    parsed = JSON.parse(text);
  } catch {
    parsed = void 0;
  }
  return parseDevSecrets(parsed, path);
}
async function createFileAtomically(path, text) {
  const temporary = `${path}.${process.pid}.${randomBytes(4).toString("hex")}.tmp`;
  await writeFile(temporary, text, { mode: 384, flag: "wx" });
  try {
    await link(temporary, path);
    return true;
  } catch (error) {
    if (error.code === "EEXIST") {
      return false;
    }
    throw error;
  } finally {
    await rm(temporary, { force: true });
  }
}
async function loadOrCreateDevSecrets(storePath) {
  const path = devFilePath(storePath);
  const existing = await readDevSecrets(storePath);
  if (existing) {
    return { secrets: existing, path, created: false };
  }
  const secrets = generateDevSecrets();
  await mkdir(dirname2(path), { recursive: true });
  const created = await createFileAtomically(
    path,
    `${JSON.stringify(secrets, null, 2)}
`,
  );
  if (created) {
    return { secrets, path, created: true };
  }
  const winner = await readDevSecrets(storePath);
  if (!winner) {
    throw new Error(`Development secrets file ${path} disappeared while it was being read`);
  }
  return { secrets: winner, path, created: false };
}

// src/cli/loopback.ts
import { randomBytes as randomBytes2 } from "node:crypto";
import { appendFile } from "node:fs/promises";

function loopbackFilePath(storePath) {
  return `${storePath}.loopback.jsonl`;
}
var LoopbackProvider = class {
  /** `twilio`, so that routes and consent records match a real Twilio setup. */
  name = "twilio";
  /** The JSON Lines file sends are appended to. */
  filePath;
  #twilio;
  constructor(options) {
    this.filePath = loopbackFilePath(options.storePath);
    this.#twilio = twilio2(options.secrets.twilio, "development secrets twilio");
  }
  /** Appends the message to {@link filePath} and reports it as sent. */
  async send(message) {
    const record = {
      messageId: `LB${randomBytes2(16).toString("hex")}`,
      to: message.to,
      from: message.from ?? null,
      body: message.body,
      sentAt: /* @__PURE__ */ new Date().toISOString(),
    };
    if (message.mediaUrls && message.mediaUrls.length > 0) {
      record.mediaUrls = [...message.mediaUrls];
    }
    await appendFile(
      this.filePath,
      `${JSON.stringify(record)}
`,
      { mode: 384 },
    );
    return {
      provider: this.name,
      messageId: record.messageId,
      status: "sent",
      to: message.to,
      from: message.from,
      raw: record,
    };
  }
  verifyWebhook(request3) {
    return this.#twilio.verifyWebhook(request3);
  }
  parseWebhook(request3, kind) {
    return this.#twilio.parseWebhook(request3, kind);
  }
  webhookResponse(context) {
    return this.#twilio.webhookResponse(context);
  }
  close() {
    return this.#twilio.close();
  }
};
function createLoopbackProvider(options) {
  return new LoopbackProvider(options);
}

// src/cli/runtime.ts
var defaultStoreFile = "smsgate.db";
function openStore(config, cwd) {
  if (config.store.type === "memory") {
    return [new MemoryOptOutStore(), void 0];
  }
  const path = resolve(cwd, config.store.path);
  const store2 = openSqliteStore({
    path,
    ...(config.store.busyTimeoutMs === void 0 ? {} : { busyTimeoutMs: config.store.busyTimeoutMs }),
  });
  return [store2, path];
}
function buildProviders(config, logger) {
  const twilioConfig = config.providers?.twilio;
  if (!twilioConfig) {
    return [];
  }
  let authToken = twilioConfig.authToken ?? "";
  if (authToken === "") {
    authToken = `unset-${randomBytes3(16).toString("hex")}`;
    logger.warn(
      { option: "providers.twilio.authToken" },
      "No Twilio auth token is configured: sends through Twilio will fail authentication",
    );
  }
  const provider = twilio2(
    {
      accountSid: twilioConfig.accountSid,
      authToken,
      from: twilioConfig.from,
      messagingServiceSid: twilioConfig.messagingServiceSid,
      apiBaseUrl: twilioConfig.apiBaseUrl,
    },
    "providers.twilio",
  );
  return [provider];
}
async function setUpDevMode(storePath, cwd) {
  const base = storePath ?? resolve(cwd, defaultStoreFile);
  const loaded = await loadOrCreateDevSecrets(base);
  const provider = createLoopbackProvider({ storePath: base, secrets: loaded.secrets });
  const dev = {
    secretsPath: loaded.path,
    secretsCreated: loaded.created,
    loopbackPath: provider.filePath,
    accountSid: loaded.secrets.twilio.accountSid,
  };
  return { provider, dev };
}
function hasOutbox(store2) {
  return (
    typeof store2.claimOutbox === "function" &&
    typeof store2.completeOutbox === "function" &&
    typeof store2.retryOutbox === "function"
  );
}
async function closeProviders(providers2) {
  await Promise.allSettled(providers2.map((provider) => provider.close?.()));
}
async function createRuntime(config, options = {}) {
  const cwd = options.cwd ?? process.cwd();
  const logger = options.logger ?? silentLogger;
  const [store2, storePath] = openStore(config, cwd);
  const providers2 = [];
  try {
    if (config.forward && !hasOutbox(store2)) {
      throw new ConfigError("forward", "the configured store has no outbox to forward from");
    }
    let dev;
    if (isDevMode(config)) {
      const devMode = await setUpDevMode(storePath, cwd);
      providers2.push(devMode.provider);
      dev = devMode.dev;
    } else {
      providers2.push(...buildProviders(config, logger));
    }
    const gateway = new Gateway({
      providers: providers2,
      store: store2,
      defaultRegion: config.defaultRegion,
      optOutScope: config.optOutScope,
      keywords: { yesIsOptIn: config.keywords.yesIsOptIn },
      publicUrl: config.publicUrl,
      replies: config.replies,
      forwardEvents: Boolean(config.forward),
      insecureSkipSignatureVerification: config.insecureSkipSignatureVerification,
      logger,
    });
    return {
      config,
      gateway,
      store: store2,
      providers: providers2,
      dev,
      storePath,
      close: closeOnce(gateway, store2),
    };
  } catch (error) {
    await closeProviders(providers2);
    await store2.close();
    throw error;
  }
}
function closeOnce(gateway, store2) {
  let closing;
  return () => {
    closing ??= (async () => {
      try {
        await gateway.close();
      } finally {
        await store2.close();
      }
    })();
    return closing;
  };
}

// src/cli/context.ts
function reportStartupError(io, error) {
  if (isConfigError(error)) {
    writeError(io, `invalid configuration: ${error.message}`);
    return ExitCode.usage;
  }
  writeError(io, describeFailure(error));
  return ExitCode.failure;
}
function describeFailure(error) {
  if (isSmsgateError(error)) {
    return `${error.message} (${error.code})`;
  }
  return errorMessage(error);
}

// src/cli/forward.ts
import { createHmac as createHmac2, timingSafeEqual as timingSafeEqual2 } from "node:crypto";
import { request as request2 } from "undici";

var firstRetryMs = 1e3;
var maxRetryMs = 5 * 60 * 1e3;
var parkedUntil = /* @__PURE__ */ new Date("9999-12-31T23:59:59.000Z");
function retryDelayMs(failedAttempts, minimumMs = 0, random = Math.random) {
  const exponent = Math.min(Math.max(failedAttempts - 1, 0), 30);
  const base = Math.min(firstRetryMs * 2 ** exponent, maxRetryMs);
  const jittered = base * (0.75 + random() * 0.5);
  return Math.round(Math.min(Math.max(jittered, minimumMs), maxRetryMs));
}
function computeSignature(secret, timestamp, body) {
  return createHmac2("sha256", secret).update(`${timestamp}.`).update(body).digest("hex");
}
function signForwardBody(secret, body, timestamp = Math.floor(Date.now() / 1e3)) {
  return `t=${timestamp},v1=${computeSignature(secret, timestamp, body)}`;
}
function forwardBody(entry, attempt) {
  const data = JSON.parse(entry.payload);
  return JSON.stringify({ id: entry.id, type: entry.type, data, attempt });
}
function retryAfterMs(value) {
  const text = Array.isArray(value) ? value[0] : value;
  if (text === void 0) {
    return 0;
  }
  if (/^\d+$/.test(text.trim())) {
    return Number(text.trim()) * 1e3;
  }
  const date = Date.parse(text);
  return Number.isNaN(date) ? 0 : Math.max(date - Date.now(), 0);
}
function describeError2(error) {
  if (!(error instanceof Error)) {
    return String(error);
  }
  const code2 = error.code;
  const cause = error.cause instanceof Error ? `: ${error.cause.message}` : "";
  return `${typeof code2 === "string" ? `${code2} ` : ""}${error.message}${cause}`;
}
var OutboxForwarder = class {
  #store;
  #options;
  #timer;
  #batchSize;
  #leaseMs;
  #running;
  #pokedWhileRunning = false;
  #stopped = false;
  #claimFailures = 0;
  #lastClaimErrorLog = 0;
  constructor(store2, options) {
    this.#store = store2;
    this.#options = options;
    this.#batchSize = options.batchSize ?? 10;
    this.#leaseMs = options.timeoutMs * 2 + 5e3;
    this.#timer = setInterval(() => this.poke(), options.intervalMs ?? 500);
    this.#timer.unref();
  }
  poke() {
    if (this.#stopped) {
      return;
    }
    if (this.#running) {
      this.#pokedWhileRunning = true;
      return;
    }
    this.#running = this.#drain().finally(() => {
      this.#running = void 0;
      if (this.#pokedWhileRunning) {
        this.#pokedWhileRunning = false;
        this.poke();
      }
    });
  }
  async stop() {
    this.#stopped = true;
    clearInterval(this.#timer);
    while (this.#running) {
      await this.#running;
    }
  }
  /** Claims and posts batches until the outbox has nothing due. */
  async #drain() {
    while (!this.#stopped) {
      const entries = await this.#claim();
      if (entries.length === 0) {
        return;
      }
      await Promise.all(entries.map((entry) => this.#deliver(entry)));
      if (entries.length < this.#batchSize) {
        return;
      }
    }
  }
  async #claim() {
    try {
      const entries = await this.#store.claimOutbox(this.#batchSize, this.#leaseMs);
      if (this.#claimFailures > 0) {
        this.#options.logger.info(
          { failures: this.#claimFailures },
          "Reading the forwarding outbox works again",
        );
        this.#claimFailures = 0;
      }
      return entries;
    } catch (error) {
      this.#reportClaimFailure(error);
      return [];
    }
  }
  /** Logs a failed claim at most once a minute, with the count of failures. */
  #reportClaimFailure(error) {
    this.#claimFailures += 1;
    const now = Date.now();
    if (this.#claimFailures > 1 && now - this.#lastClaimErrorLog < 6e4) {
      return;
    }
    this.#lastClaimErrorLog = now;
    this.#options.logger.error(
      { err: error, failures: this.#claimFailures },
      "Reading the forwarding outbox failed; retrying",
    );
  }
  async #deliver(entry) {
    const attempt = Math.max(entry.attempts, 1);
    const context = { eventId: entry.id, eventType: entry.type, attempt };
    let body;
    try {
      body = forwardBody(entry, attempt);
    } catch (error) {
      this.#options.logger.error(
        { ...context, err: error },
        "Outbox event payload is not valid JSON; it stays in the outbox unsent",
      );
      await this.#reschedule(entry, parkedUntil, "payload is not valid JSON");
      return;
    }
    const outcome = await this.#post(entry, body);
    if (outcome.ok) {
      await this.#complete(entry, context);
      return;
    }
    await this.#handleFailure(entry, attempt, outcome);
  }
  async #complete(entry, context) {
    try {
      await this.#store.completeOutbox(entry.id);
      this.#options.logger.debug(context, "Forwarded event");
    } catch (error) {
      this.#options.logger.error(
        { ...context, err: error },
        "Forwarded event, but removing it from the outbox failed; it will be posted again",
      );
    }
  }
  async #handleFailure(entry, attempt, outcome) {
    const context = { eventId: entry.id, eventType: entry.type, attempt, error: outcome.error };
    if (attempt >= this.#options.maxAttempts) {
      this.#options.logger.error(
        { ...context, maxAttempts: this.#options.maxAttempts },
        "Forwarding failed on the last attempt; the event stays in the outbox unsent",
      );
      await this.#reschedule(entry, parkedUntil, outcome.error);
      return;
    }
    const delay = retryDelayMs(attempt, outcome.retryAfterMs);
    this.#options.logger.warn({ ...context, retryInMs: delay }, "Forwarding failed; will retry");
    await this.#reschedule(entry, new Date(Date.now() + delay), outcome.error);
  }
  async #reschedule(entry, notBefore, error) {
    try {
      await this.#store.retryOutbox(entry.id, notBefore, error);
    } catch (storeError) {
      this.#options.logger.error(
        { eventId: entry.id, err: storeError },
        "Scheduling a forwarding retry failed; the event is retried when its lease ends",
      );
    }
  }
  async #post(entry, body) {
    const { url, secret, timeoutMs, dispatcher } = this.#options;
    const headers = {
      "content-type": "application/json",
      "user-agent": "smsgate-forwarder",
      "x-smsgate-event-id": entry.id,
      "x-smsgate-event-type": entry.type,
      "x-smsgate-signature": signForwardBody(secret, body),
    };
    try {
      const response = await request2(url, {
        method: "POST",
        headers,
        body,
        signal: AbortSignal.timeout(timeoutMs),
        ...(dispatcher ? { dispatcher } : {}),
      });
      await response.body.dump();
      if (response.statusCode >= 200 && response.statusCode < 300) {
        return { ok: true };
      }
      const wait = retryAfterMs(response.headers["retry-after"]);
      return { ok: false, error: `HTTP ${response.statusCode}`, retryAfterMs: wait };
    } catch (error) {
      return { ok: false, error: describeError2(error), retryAfterMs: 0 };
    }
  }
};
function startForwarder(store2, options) {
  const forwarder = new OutboxForwarder(store2, options);
  forwarder.poke();
  return forwarder;
}

// src/cli/server.ts
import { randomUUID as randomUUID2 } from "node:crypto";
import { createServer } from "node:http";
// src/http/node.ts
import { BlockList, isIP as isIP2 } from "node:net";
import { performance } from "node:perf_hooks";

var PayloadTooLargeError = class extends Error {
  /** The limit that was exceeded, in bytes. */
  maxBytes;
  constructor(maxBytes, detail) {
    super(`Request body too large: ${detail}; the limit is ${maxBytes} bytes`);
    this.name = "PayloadTooLargeError";
    this.maxBytes = maxBytes;
  }
};
function readRequestBody(req, maxBytes) {
  const declared = Number(req.headers["content-length"]);
  if (Number.isFinite(declared) && declared > maxBytes) {
    return Promise.reject(
      new PayloadTooLargeError(maxBytes, `Content-Length is ${declared} bytes`),
    );
  }
  return new Promise((resolve2, reject) => {
    const chunks = [];
    let received = 0;
    const cleanup = () => {
      req.off("data", onData);
      req.off("end", onEnd);
      req.off("error", onError);
      req.off("close", onClose);
    };
    const onData = (chunk) => {
      received += chunk.length;
      if (received > maxBytes) {
        cleanup();
        req.pause();
        reject(new PayloadTooLargeError(maxBytes, `more than ${maxBytes} bytes were sent`));
        return;
      }
      chunks.push(chunk);
    };
    const onEnd = () => {
      cleanup();
      resolve2(new Uint8Array(Buffer.concat(chunks, received)));
    };
    const onError = (error) => {
      cleanup();
      reject(error);
    };
    const onClose = () => {
      cleanup();
      reject(new Error("The client closed the connection before the body was complete"));
    };
    req.on("data", onData);
    req.on("end", onEnd);
    req.on("error", onError);
    req.on("close", onClose);
  });
}
var blockLists = /* @__PURE__ */ new WeakMap();
function trustedProxies(entries) {
  const cached = blockLists.get(entries);
  if (cached) {
    return cached;
  }
  const list = new BlockList();
  for (const entry of entries) {
    const [address = "", prefix] = entry.split("/");
    const normalized = normalizeAddress(address);
    const family = isIP2(normalized) === 6 ? "ipv6" : "ipv4";
    if (prefix === void 0) {
      list.addAddress(normalized, family);
    } else {
      list.addSubnet(normalized, Number(prefix), family);
    }
  }
  blockLists.set(entries, list);
  return list;
}
function normalizeAddress(address) {
  const mapped = /^::ffff:(\d{1,3}(?:\.\d{1,3}){3})$/i.exec(address);
  return mapped?.[1] ?? address;
}
function isTrustedPeer(req, trustProxy) {
  const peer = req.socket.remoteAddress;
  if (trustProxy.length === 0 || peer === void 0) {
    return false;
  }
  const address = normalizeAddress(peer);
  const family = isIP2(address);
  if (family === 0) {
    return false;
  }
  return trustedProxies(trustProxy).check(address, family === 6 ? "ipv6" : "ipv4");
}
function lastHeaderValue(req, name) {
  const raw = req.headers[name];
  const joined = Array.isArray(raw) ? raw.join(",") : raw;
  const value = joined?.split(",").at(-1)?.trim();
  return value === "" ? void 0 : value;
}
var hostPattern = /^[A-Za-z0-9.\-_~!$&'()*+;=%[\]:]+$/;
function validHost(value) {
  return value !== void 0 && hostPattern.test(value) ? value : void 0;
}
function publicRequestUrl(req, options) {
  const target = req.url ?? "/";
  if (options.publicUrl !== void 0) {
    return `${options.publicUrl}${target}`;
  }
  const host = validHost(req.headers.host) ?? "localhost";
  if (!isTrustedPeer(req, options.trustProxy ?? [])) {
    return `http://${host}${target}`;
  }
  const proto = lastHeaderValue(req, "x-forwarded-proto")?.toLowerCase();
  const scheme = proto === "https" || proto === "http" ? proto : "http";
  const forwardedHost = validHost(lastHeaderValue(req, "x-forwarded-host"));
  return `${scheme}://${forwardedHost ?? host}${target}`;
}
function toWebhookRequest(req, body, url) {
  const headers = new Headers();
  const raw = req.rawHeaders;
  for (let index = 0; index + 1 < raw.length; index += 2) {
    headers.append(raw[index] ?? "", raw[index + 1] ?? "");
  }
  return { method: req.method ?? "GET", url, headers, body };
}

// src/cli/server.ts
var webhookPath = /^\/webhooks\/([^/]+)\/(inbound|status)$/;
function matchRoute(path) {
  if (path === "/healthz") {
    return { name: "/healthz", allow: ["GET", "HEAD"] };
  }
  const match = webhookPath.exec(path);
  if (match?.[1] && match[2]) {
    return {
      name: "/webhooks/:provider/:kind",
      // Providers can be configured to call with GET; the body is empty then.
      allow: ["GET", "POST"],
      provider: match[1],
      kind: match[2],
    };
  }
  return void 0;
}
function sendJson(res, status, body, headers = {}) {
  const text = JSON.stringify(body);
  res.writeHead(status, {
    "content-type": "application/json; charset=utf-8",
    "content-length": Buffer.byteLength(text),
    ...headers,
  });
  res.end(res.req.method === "HEAD" ? void 0 : text);
}
function sendError(res, status, error, message, headers = {}) {
  sendJson(res, status, { error, message }, headers);
}
function writeWebhookResponse(res, response) {
  res.writeHead(response.status, {
    ...response.headers,
    "content-length": Buffer.byteLength(response.body),
  });
  res.end(response.body);
}
var requestIdPattern = /^[A-Za-z0-9._:-]{1,128}$/;
function requestIdOf(req) {
  const given = req.headers["x-request-id"];
  return typeof given === "string" && requestIdPattern.test(given) ? given : randomUUID2();
}
var RateLimitedLog = class {
  constructor(limit) {
    this.limit = limit;
  }
  limit;
  #windowStart = 0;
  #count = 0;
  #skipped = 0;
  /** Returns the extra fields to log, or undefined when this entry should be skipped. */
  admit() {
    const now = Date.now();
    if (now - this.#windowStart >= 6e4) {
      const skipped = this.#skipped;
      this.#windowStart = now;
      this.#count = 0;
      this.#skipped = 0;
      this.#count += 1;
      return skipped > 0 ? { skippedSimilar: skipped } : {};
    }
    if (this.#count < this.limit) {
      this.#count += 1;
      return {};
    }
    this.#skipped += 1;
    return void 0;
  }
};
var healthTimeoutMs = 2e3;
var healthProbePhone = "+10000000000";
var HealthCheck = class {
  constructor(runtime, logger) {
    this.runtime = runtime;
    this.logger = logger;
  }
  runtime;
  logger;
  #healthy = true;
  async handle(res, requestId) {
    const ok = await this.#probe(requestId);
    sendJson(res, ok ? 200 : 503, { status: ok ? "ok" : "unavailable" });
  }
  async #probe(requestId) {
    let timer;
    const timeout = new Promise((_, reject) => {
      timer = setTimeout(
        () => reject(new Error(`the store did not answer within ${healthTimeoutMs} ms`)),
        healthTimeoutMs,
      );
    });
    try {
      await Promise.race([this.runtime.store.isOptedOut(healthProbePhone), timeout]);
      if (!this.#healthy) {
        this.logger.info({ requestId }, "Health check: the store answers again");
      }
      this.#healthy = true;
      return true;
    } catch (error) {
      if (this.#healthy) {
        this.logger.error({ err: error, requestId }, "Health check failed: store unavailable");
      }
      this.#healthy = false;
      return false;
    } finally {
      clearTimeout(timer);
    }
  }
};
async function handleWebhook(context, req, res, route2) {
  const { config, gateway } = context.runtime;
  const known = context.runtime.providers.some((provider) => provider.name === route2.provider);
  if (!known) {
    sendError(res, 404, "unknown-provider", `No provider "${route2.provider}" is configured`);
    return;
  }
  const body = await readRequestBody(req, config.limits.maxBodyBytes);
  const url = publicRequestUrl(req, { publicUrl: config.publicUrl, trustProxy: config.trustProxy });
  let request3;
  try {
    request3 = toWebhookRequest(req, body, url);
  } catch (error) {
    sendError(res, 400, "invalid-request", `Invalid request header: ${String(error)}`);
    return;
  }
  const response = await gateway.handleWebhook(route2.provider, request3, { kind: route2.kind });
  writeWebhookResponse(res, response);
}
function handleFailure(context, res, error, fields) {
  if (error instanceof PayloadTooLargeError) {
    context.logger.warn({ ...fields, maxBytes: error.maxBytes }, "Request body too large");
    sendError(res, 413, "payload-too-large", error.message, { connection: "close" });
    return;
  }
  if (res.req.destroyed && !res.headersSent) {
    context.logger.warn({ ...fields, err: error }, "Client went away before the body was read");
    res.destroy();
    return;
  }
  context.logger.error({ ...fields, err: error }, "Request handler failed");
  if (res.headersSent) {
    res.destroy();
  } else {
    sendError(res, 500, "internal-error", `Internal error; request id ${fields.requestId}`);
  }
}
async function route(context, req, res, requestId) {
  const target = req.url ?? "";
  if (!target.startsWith("/")) {
    sendError(res, 400, "invalid-request", "The request target must be a path");
    return void 0;
  }
  const matched = matchRoute(target.split("?", 1)[0] ?? "");
  if (!matched) {
    sendError(res, 404, "not-found", "No route for this path");
    return void 0;
  }
  if (!matched.allow.includes(req.method ?? "")) {
    const allow = matched.allow.join(", ");
    sendError(res, 405, "method-not-allowed", `Use ${allow}`, { allow });
    return matched.name;
  }
  if (matched.name === "/healthz") {
    await context.health.handle(res, requestId);
  } else {
    await handleWebhook(context, req, res, matched);
  }
  return matched.name;
}
async function handleRequest(context, req, res) {
  const started = performance.now();
  const requestId = requestIdOf(req);
  const path = (req.url ?? "").split("?", 1)[0]?.slice(0, 200);
  const fields = { requestId, method: req.method, path };
  let routeName;
  context.inFlight += 1;
  context.responses.set(req.socket, res);
  res.setHeader("x-request-id", requestId);
  if (context.closing) {
    res.setHeader("connection", "close");
  }
  res.once("close", () => {
    context.inFlight -= 1;
    const durationMs = Math.round((performance.now() - started) * 10) / 10;
    const finished = res.writableFinished;
    context.logger.info(
      { ...fields, route: routeName ?? null, status: res.statusCode, durationMs, finished },
      "request",
    );
  });
  try {
    routeName = await route(context, req, res, requestId);
  } catch (error) {
    routeName ??= matchRoute((req.url ?? "").split("?", 1)[0] ?? "")?.name;
    handleFailure(context, res, error, { ...fields, route: routeName ?? null });
  }
}
function handleClientError(context, error, socket) {
  const code2 = error.code;
  const extra = context.clientErrors.admit();
  if (extra) {
    context.logger.warn({ ...extra, code: code2, err: error }, "Client connection error");
  }
  const response = context.responses.get(socket);
  const canAnswer = socket.writable && !response?.headersSent && code2 !== "ECONNRESET";
  if (canAnswer) {
    const status =
      code2 === "ERR_HTTP_REQUEST_TIMEOUT"
        ? "408 Request Timeout"
        : code2 === "HPE_HEADER_OVERFLOW"
          ? "431 Request Header Fields Too Large"
          : "400 Bad Request";
    socket.end(`HTTP/1.1 ${status}\r
Connection: close\r
Content-Length: 0\r
\r
`);
  }
  socket.destroySoon();
}
function applyLimits(server, limits2) {
  server.headersTimeout = limits2.headersTimeoutMs;
  server.requestTimeout = limits2.requestTimeoutMs;
  server.maxConnections = limits2.maxConnections;
  server.keepAliveTimeout = 5e3;
  server.maxRequestsPerSocket = 1e3;
}
function checkingIntervalMs(limits2) {
  const shortest = Math.min(limits2.headersTimeoutMs, limits2.requestTimeoutMs);
  return Math.max(10, Math.min(1e3, Math.floor(shortest / 4)));
}
function listen2(server, host, port) {
  return new Promise((resolve2, reject) => {
    const onError = (error) => {
      const reason = error.code === "EADDRINUSE" ? "the address is already in use" : error.message;
      reject(
        new Error(
          `Cannot listen on ${host}:${port}: ${reason}; set listen.host and listen.port in the configuration, or stop the other process`,
          { cause: error },
        ),
      );
    };
    server.once("error", onError);
    server.listen(port, host, () => {
      server.off("error", onError);
      resolve2(server.address());
    });
  });
}
function localUrl(address) {
  let host = address.address;
  if (host === "0.0.0.0") {
    host = "127.0.0.1";
  } else if (host === "::") {
    host = "::1";
  }
  const shown = address.family === "IPv6" || host.includes(":") ? `[${host}]` : host;
  return `http://${shown}:${address.port}`;
}
function logStartup(runtime, logger, url, port) {
  const { config, dev } = runtime;
  const routes = [
    "POST /webhooks/:provider/inbound",
    "POST /webhooks/:provider/status",
    "GET /healthz",
  ];
  const providers2 = runtime.providers.map((provider) => provider.name);
  logger.info({ url, port, routes, providers: providers2 }, `smsgate server listening on ${url}`);
  const store2 = config.store.type === "sqlite" ? runtime.storePath : "memory (lost on exit)";
  logger.info(
    { store: config.store.type, storePath: runtime.storePath ?? null, mode: dev ? "dev" : "live" },
    `Store: ${store2}`,
  );
  const base = config.publicUrl ?? url;
  for (const name of providers2) {
    logger.info(
      { provider: name, inbound: `${base}/webhooks/${name}/inbound` },
      `Set the ${name} inbound webhook to ${base}/webhooks/${name}/inbound and the status callback to ${base}/webhooks/${name}/status`,
    );
  }
  if (dev) {
    logDevMode(dev, logger, url);
  }
  if (config.insecureSkipSignatureVerification) {
    logger.warn(
      { insecureSkipSignatureVerification: true },
      "Webhook signatures are NOT verified: anyone who can reach this server can opt numbers in or out. Use this only for local testing",
    );
  }
}
function logDevMode(dev, logger, url) {
  logger.info(
    { loopbackFile: dev.loopbackPath },
    `Development mode (no provider configured): sends are not delivered but appended to ${dev.loopbackPath}`,
  );
  logger.info(
    { devFile: dev.secretsPath, created: dev.secretsCreated, accountSid: dev.accountSid },
    `Twilio webhooks are verified with the development auth token in ${dev.secretsPath}. "smsgate simulate twilio inbound --from <number> --to <number> --body STOP" reads that file, signs the webhook and posts it to ${url}/webhooks/twilio/inbound`,
  );
}
async function shutDown(server, context, timeoutMs) {
  context.closing = true;
  const closed = new Promise((resolve2) => server.close(() => resolve2()));
  server.closeIdleConnections();
  let timer;
  const timedOut = new Promise((resolve2) => {
    timer = setTimeout(() => resolve2(true), timeoutMs);
    timer.unref();
  });
  const expired = await Promise.race([closed.then(() => false), timedOut]);
  clearTimeout(timer);
  if (expired) {
    context.logger.warn(
      { inFlight: context.inFlight, timeoutMs },
      "Requests still in flight at the shutdown deadline; closing their connections",
    );
    server.closeAllConnections();
    await closed;
  }
  context.logger.info({}, "smsgate server stopped");
}
async function startServer(runtime, options = {}) {
  const { limits: limits2, listen: listenConfig } = runtime.config;
  const logger = options.logger ?? silentLogger;
  const context = {
    runtime,
    logger,
    health: new HealthCheck(runtime, logger),
    clientErrors: new RateLimitedLog(10),
    responses: /* @__PURE__ */ new WeakMap(),
    inFlight: 0,
    closing: false,
  };
  const server = createServer(
    {
      headersTimeout: limits2.headersTimeoutMs,
      requestTimeout: limits2.requestTimeoutMs,
      connectionsCheckingInterval: checkingIntervalMs(limits2),
    },
    (req, res) => void handleRequest(context, req, res),
  );
  applyLimits(server, limits2);
  server.on("clientError", (error, socket) => handleClientError(context, error, socket));
  const host = options.host ?? listenConfig.host;
  const address = await listen2(server, host, options.port ?? listenConfig.port);
  const url = localUrl(address);
  logStartup(runtime, logger, url, address.port);
  let closing;
  return {
    url,
    port: address.port,
    close: () => {
      closing ??= shutDown(server, context, options.shutdownTimeoutMs ?? 1e4);
      return closing;
    },
  };
}

// src/cli/serve.ts
function parseServeArgs(argv) {
  try {
    const { values } = parseArgs({
      args: argv,
      options: { config: { type: "string", short: "c" } },
      strict: true,
      allowPositionals: false,
    });
    return { config: values.config };
  } catch (error) {
    throw new UsageError(error.message, "serve");
  }
}
function startForwarding(runtime, logger) {
  const forward2 = runtime.config.forward;
  const { store: store2 } = runtime;
  if (!forward2 || !store2.claimOutbox || !store2.completeOutbox || !store2.retryOutbox) {
    return void 0;
  }
  const outbox = {
    claimOutbox: store2.claimOutbox.bind(store2),
    completeOutbox: store2.completeOutbox.bind(store2),
    retryOutbox: store2.retryOutbox.bind(store2),
  };
  const forwarder = startForwarder(outbox, { ...forward2, logger });
  const poke = () => forwarder.poke();
  for (const event of ["inbound", "report", "opt-out", "opt-in", "help", "review"]) {
    runtime.gateway.on(event, poke);
  }
  const target = new URL(forward2.url);
  logger.info(
    { forwardTo: `${target.origin}${target.pathname}`, maxAttempts: forward2.maxAttempts },
    `Forwarding every webhook event to ${target.origin}${target.pathname}`,
  );
  return forwarder;
}
function watchForShutdown(logger, controls) {
  let received;
  let resolveRequested = () => {};
  const requested = new Promise((resolve2) => {
    resolveRequested = resolve2;
  });
  const onSignal = (signal) => {
    if (received !== void 0) {
      logger.warn({ signal }, "Second signal received; exiting without waiting");
      process.exit(128 + (constants.signals[signal] ?? 0));
    }
    received = signal;
    resolveRequested(signal);
  };
  const onAbort = () => resolveRequested("abort");
  process.on("SIGTERM", onSignal);
  process.on("SIGINT", onSignal);
  controls.shutdownSignal?.addEventListener("abort", onAbort, { once: true });
  if (controls.shutdownSignal?.aborted) {
    onAbort();
  }
  return {
    requested,
    dispose: () => {
      process.off("SIGTERM", onSignal);
      process.off("SIGINT", onSignal);
      controls.shutdownSignal?.removeEventListener("abort", onAbort);
    },
  };
}
async function serveUntilStopped(config, logger, controls) {
  const runtime = await createRuntime(config, { logger });
  const forwarder = startForwarding(runtime, logger);
  let server;
  try {
    server = await startServer(runtime, { logger });
  } catch (error) {
    await forwarder?.stop();
    await runtime.close();
    throw error;
  }
  const shutdown = watchForShutdown(logger, controls);
  controls.onListening?.(server);
  const signal = await shutdown.requested;
  logger.info({ signal }, "Shutting down: finishing requests in flight");
  try {
    await server.close();
    await forwarder?.stop();
    await runtime.close();
  } finally {
    shutdown.dispose();
  }
  logger.info({}, "Shutdown complete");
  return ExitCode.ok;
}
async function runServe(argv, io, controls = {}) {
  const args = parseServeArgs(argv);
  let config;
  try {
    config = await loadConfig(args.config, io.env ?? process.env);
  } catch (error) {
    return reportStartupError(io, error);
  }
  const logger = createLogger({ destination: io.stdout });
  try {
    return await serveUntilStopped(config, logger, controls);
  } catch (error) {
    logger.error({ err: error }, "smsgate server failed to start");
    return reportStartupError(io, error);
  }
}

// tmp-scratch/s.ts
var controller = new AbortController();
process.chdir(process.argv[2]);
var code = await runServe(
  [],
  { stdout: process.stdout, stderr: process.stderr, env: {} },
  {
    shutdownSignal: controller.signal,
    onListening: async (server) => {
      await fetch(`${server.url}/healthz`);
      await fetch(`${server.url}/webhooks/twilio/inbound`, {
        method: "POST",
        body: "From=%2B14155550143",
      });
      controller.abort();
    },
  },
);
console.log("exit", code);
