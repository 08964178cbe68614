/**
 * `smsgate simulate twilio inbound|status`: posts a webhook signed the way Twilio signs
 * it to a running server, and prints the HTTP status and the response body.
 */
import { STATUS_CODES } from "node:http";
import { isIP } from "node:net";
import { resolve } from "node:path";
import { Agent, request } from "undici";
import { ConfigError } from "../errors.js";
import {
  type BuiltTwilioWebhook,
  buildTwilioInbound,
  buildTwilioStatus,
  randomTwilioMessageSid,
  signTwilioRequest,
} from "../testing/twilio.js";
import { loadConfig, type SmsgateConfig } from "./config.js";
import { describeFailure, reportCommandError } from "./context.js";
import { readDevSecrets } from "./dev.js";
import { type CliIo, ExitCode, UsageError, writeError, writeLine } from "./output.js";
import {
  type OptionSpec,
  optionalString,
  type ParsedArgs,
  parseCommandArgs,
  rejectExtraPositionals,
  requireString,
} from "./usage.js";

const simulateOptions: OptionSpec = {
  from: { type: "string" },
  to: { type: "string" },
  body: { type: "string" },
  "message-id": { type: "string" },
  "opt-out-type": { type: "string" },
  "messaging-service-sid": { type: "string" },
  status: { type: "string" },
  "error-code": { type: "string" },
  url: { type: "string" },
  config: { type: "string" },
};

const kindOptions: Record<WebhookKind, string[]> = {
  inbound: ["from", "to", "body", "message-id", "opt-out-type", "messaging-service-sid"],
  status: ["message-id", "status", "error-code", "from", "to"],
};

type WebhookKind = "inbound" | "status";

/** `MessageStatus` values of Twilio's Messages API (`message_enum_status`). */
const twilioStatuses = [
  "queued",
  "sending",
  "sent",
  "failed",
  "delivered",
  "undelivered",
  "receiving",
  "received",
  "accepted",
  "scheduled",
  "read",
  "partially_delivered",
  "canceled",
];

const optOutTypes = ["STOP", "START", "HELP"];

/** Store file beside which the development token is kept when the store is not SQLite. */
const devStoreFile = "smsgate.db";

/** Time limit for connecting and for the server's response, in milliseconds. */
const responseTimeoutMs = 15_000;

/** A webhook ready to post. */
interface SignedWebhook {
  targetUrl: string;
  messageId: string;
  body: string;
  /** Absent when the configuration skips signature checks and has no auth token. */
  signature: string | undefined;
}

/** Runs `smsgate simulate ...` and resolves with its exit code. */
export async function runSimulate(argv: string[], io: CliIo): Promise<number> {
  const args = parseCommandArgs(argv, simulateOptions, "simulate");
  const kind = checkTarget(args);
  const draft = buildDraft(kind, args);

  let webhook: SignedWebhook;

  try {
    const config = await loadConfig(optionalString(args, "config"), io.env ?? process.env);

    webhook = await signWebhook(config, kind, draft, optionalString(args, "url"), io);
  } catch (error) {
    return reportSetupError(io, error);
  }

  return post(io, kind, webhook);
}

function checkTarget(args: ParsedArgs): WebhookKind {
  const [provider, kind] = args.positionals;

  if (provider === undefined) {
    throw new UsageError("missing provider: smsgate simulate twilio <inbound|status>", "simulate");
  }

  if (provider !== "twilio") {
    throw new UsageError(
      `unknown provider ${JSON.stringify(provider)}; only twilio can be simulated`,
      "simulate",
    );
  }

  if (kind !== "inbound" && kind !== "status") {
    const problem = kind === undefined ? "missing webhook kind" : `unknown webhook kind "${kind}"`;

    throw new UsageError(`${problem}; use inbound or status`, "simulate");
  }

  rejectExtraPositionals(args.positionals, 2, "simulate");
  rejectForeignOptions(args, kind);

  return kind;
}

function rejectForeignOptions(args: ParsedArgs, kind: WebhookKind): void {
  const allowed = [...kindOptions[kind], "url", "config", "help"];

  for (const [name, value] of Object.entries(args.values)) {
    if (value !== undefined && !allowed.includes(name)) {
      throw new UsageError(
        `option --${name} does not apply to "simulate twilio ${kind}"`,
        "simulate",
      );
    }
  }
}

/**
 * A webhook's fields, built once the account SID is known. The account SID comes from
 * the configuration, which is read after the arguments were checked.
 */
interface WebhookDraft {
  messageId: string;
  build(accountSid: string | undefined): BuiltTwilioWebhook;
}

function buildDraft(kind: WebhookKind, args: ParsedArgs): WebhookDraft {
  return kind === "inbound" ? inboundDraft(args) : statusDraft(args);
}

function inboundDraft(args: ParsedArgs): WebhookDraft {
  const messageId = optionalString(args, "message-id") ?? randomTwilioMessageSid();
  const optOutType = optionalString(args, "opt-out-type")?.toUpperCase();
  const serviceSid = optionalString(args, "messaging-service-sid");

  if (optOutType !== undefined && !optOutTypes.includes(optOutType)) {
    throw new UsageError(
      `invalid --opt-out-type ${JSON.stringify(optOutType)}; use STOP, START or HELP`,
      "simulate",
    );
  }

  if (serviceSid !== undefined && !/^MG[0-9a-fA-F]{32}$/.test(serviceSid)) {
    throw new UsageError(
      `invalid --messaging-service-sid ${JSON.stringify(serviceSid)}; ` +
        "a Messaging Service SID is MG followed by 32 hexadecimal digits",
      "simulate",
    );
  }

  const fields = {
    from: requireString(args, "from", "simulate"),
    to: requireString(args, "to", "simulate"),
    body: requireBody(args),
    messageSid: messageId,
    optOutType,
    messagingServiceSid: serviceSid,
  };

  return { messageId, build: (accountSid) => buildTwilioInbound({ ...fields, accountSid }) };
}

/** `--body` may be empty (an MMS without text), but it must be given. */
function requireBody(args: ParsedArgs): string {
  const body = optionalString(args, "body");

  if (body === undefined) {
    throw new UsageError("missing required option --body", "simulate");
  }

  return body;
}

function statusDraft(args: ParsedArgs): WebhookDraft {
  const messageId = requireString(args, "message-id", "simulate");
  const status = requireString(args, "status", "simulate");
  const errorCode = optionalString(args, "error-code");

  if (!twilioStatuses.includes(status)) {
    throw new UsageError(
      `invalid --status ${JSON.stringify(status)}; use one of ${twilioStatuses.join(", ")}`,
      "simulate",
    );
  }

  if (errorCode !== undefined && !/^\d+$/.test(errorCode)) {
    throw new UsageError(
      `invalid --error-code ${JSON.stringify(errorCode)}; Twilio error codes are digits, ` +
        "such as 21610",
      "simulate",
    );
  }

  const fields = {
    messageSid: messageId,
    status,
    errorCode,
    from: optionalString(args, "from"),
    to: optionalString(args, "to"),
  };

  return { messageId, build: (accountSid) => buildTwilioStatus({ ...fields, accountSid }) };
}

async function signWebhook(
  config: SmsgateConfig,
  kind: WebhookKind,
  draft: WebhookDraft,
  url: string | undefined,
  io: CliIo,
): Promise<SignedWebhook> {
  const targetUrl = url === undefined ? localUrl(config, kind) : checkUrl(url);
  const signedUrl = signedUrlFor(config, targetUrl);
  const { accountSid, authToken } = await twilioCredentials(config);
  const built = draft.build(accountSid);

  if (authToken === undefined) {
    writeError(io, "no Twilio auth token is configured, so the webhook is sent unsigned");
  }

  const signature =
    authToken === undefined
      ? undefined
      : signTwilioRequest({ authToken, url: signedUrl, params: built.params });

  return { targetUrl, messageId: draft.messageId, body: built.body, signature };
}

function checkUrl(url: string): string {
  if (!/^https?:\/\//i.test(url) || !URL.canParse(url)) {
    throw new UsageError(
      `invalid --url ${JSON.stringify(url)}; give an http:// or https:// URL, ` +
        "such as http://127.0.0.1:8787/webhooks/twilio/inbound",
      "simulate",
    );
  }

  return url;
}

/** Builds the URL of the configured local server: `http://<listen.host>:<listen.port>/...`. */
function localUrl(config: SmsgateConfig, kind: WebhookKind): string {
  const { host, port } = config.listen;

  if (port === 0) {
    throw new UsageError(
      "listen.port is 0 in the configuration, so the server picks a free port when it " +
        "starts; pass --url with the address the server logged",
      "simulate",
    );
  }

  return `http://${connectHost(host)}:${port}/webhooks/twilio/${kind}`;
}

/** Returns the host to connect to, turning a wildcard listen address into loopback. */
function connectHost(host: string): string {
  if (host === "0.0.0.0") {
    return "127.0.0.1";
  }

  if (host === "::" || host === "[::]") {
    return "[::1]";
  }

  return isIP(host) === 6 ? `[${host}]` : host;
}

/**
 * Returns the URL Twilio would have called: `publicUrl` followed by the target's path and query
 * when `publicUrl` is set, else the target URL. The path is cut from the URL text rather
 * than re-serialised, because the signature covers the exact characters.
 */
function signedUrlFor(config: SmsgateConfig, targetUrl: string): string {
  if (config.publicUrl === undefined) {
    return targetUrl;
  }

  const afterOrigin = targetUrl.replace(/^[a-z][a-z0-9+.-]*:\/\/[^/?#]*/i, "");
  const pathAndQuery = afterOrigin.split("#")[0] ?? "";

  return `${config.publicUrl}${pathAndQuery.startsWith("/") ? "" : "/"}${pathAndQuery}`;
}

/** The account a webhook is signed for; the token is absent when none is configured. */
interface TwilioCredentials {
  accountSid: string | undefined;
  authToken: string | undefined;
}

/**
 * Reads the configured account and auth token, else the development ones beside the SQLite
 * store. The token is absent only when signature checks are switched off and no token is
 * configured, because the configuration rejects that combination otherwise.
 */
async function twilioCredentials(config: SmsgateConfig): Promise<TwilioCredentials> {
  const configured = config.providers?.twilio;

  if (configured !== undefined) {
    const token = configured.authToken;

    return {
      accountSid: configured.accountSid,
      authToken: token === undefined || token === "" ? undefined : token,
    };
  }

  const storePath = config.store.type === "sqlite" ? config.store.path : devStoreFile;
  const secrets = await readDevSecrets(resolve(storePath));

  if (secrets === undefined) {
    throw new ConfigError(
      "providers.twilio",
      `is not configured, and no development token was found beside ${storePath}; ` +
        'start "smsgate serve" with the same configuration once to create it',
    );
  }

  return secrets.twilio;
}

function reportSetupError(io: CliIo, error: unknown): number {
  if (error instanceof UsageError) {
    throw error;
  }

  return reportCommandError(io, error);
}

async function post(io: CliIo, kind: WebhookKind, webhook: SignedWebhook): Promise<number> {
  const agent = new Agent({
    headersTimeout: responseTimeoutMs,
    bodyTimeout: responseTimeoutMs,
    connect: { timeout: responseTimeoutMs },
  });
  const headers: Record<string, string> = {
    "content-type": "application/x-www-form-urlencoded; charset=utf-8",
    "user-agent": "smsgate-simulate",
  };

  if (webhook.signature !== undefined) {
    headers["x-twilio-signature"] = webhook.signature;
  }

  writeLine(io.stderr, `POST ${webhook.targetUrl} (${kind}, MessageSid ${webhook.messageId})`);

  try {
    const response = await request(webhook.targetUrl, {
      method: "POST",
      headers,
      body: webhook.body,
      dispatcher: agent,
    });
    const text = await response.body.text();

    writeLine(io.stdout, `HTTP ${response.statusCode} ${STATUS_CODES[response.statusCode] ?? ""}`);
    writeLine(io.stdout, text);

    return response.statusCode >= 200 && response.statusCode < 300 ? ExitCode.ok : ExitCode.failure;
  } catch (error) {
    writeError(io, describeRequestError(webhook.targetUrl, error));

    return ExitCode.failure;
  } finally {
    await agent.close();
  }
}

function describeRequestError(url: string, error: unknown): string {
  const code = errorCode(error);

  if (code === "ECONNREFUSED") {
    return (
      `could not connect to ${url}: connection refused, so the server is not running ` +
      'there. Start it with "npx smsgate serve" (with the same --config), or pass --url'
    );
  }

  if (code === "UND_ERR_HEADERS_TIMEOUT" || code === "UND_ERR_CONNECT_TIMEOUT") {
    return `request to ${url} timed out after ${responseTimeoutMs / 1000} s`;
  }

  return `request to ${url} failed: ${describeFailure(error)}`;
}

/** Finds the error code of a network error, also in `cause` and `AggregateError`. */
function errorCode(error: unknown): string | undefined {
  const candidates = [
    error,
    (error as { cause?: unknown }).cause,
    ...((error as { errors?: unknown[] }).errors ?? []),
  ];

  for (const candidate of candidates) {
    const code = (candidate as { code?: unknown } | undefined)?.code;

    if (typeof code === "string") {
      return code;
    }
  }

  return undefined;
}
