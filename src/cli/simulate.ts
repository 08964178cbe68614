/**
 * `smsgate simulate <provider> inbound|status`: posts a webhook signed the way the
 * provider signs it to a running server, and prints the HTTP status and the response
 * body. The fields and signatures of each provider are built in `simulate-<provider>.ts`.
 */
import { STATUS_CODES } from "node:http";
import { isIP } from "node:net";
import { Agent, request } from "undici";
import { loadConfig, type SmsgateConfig } from "./config.js";
import { describeFailure, reportCommandError } from "./context.js";
import { type CliIo, ExitCode, UsageError, writeError, writeLine } from "./output.js";
import { plivoSimulator } from "./simulate-plivo.js";
import { twilioSimulator } from "./simulate-twilio.js";
import { vonageSimulator } from "./simulate-vonage.js";
import type { ProviderSimulator, SignedWebhook, WebhookKind } from "./simulate-webhook.js";
import {
  type OptionSpec,
  optionalString,
  type ParsedArgs,
  parseCommandArgs,
  readConfigOption,
  rejectExtraPositionals,
} from "./usage.js";

const simulateOptions: OptionSpec = {
  from: { type: "string" },
  to: { type: "string" },
  body: { type: "string" },
  "message-id": { type: "string" },
  "opt-out-type": { type: "string" },
  "messaging-service-sid": { type: "string" },
  "concat-ref": { type: "string" },
  "concat-total": { type: "string" },
  "concat-part": { type: "string" },
  intent: { type: "string" },
  status: { type: "string" },
  "error-code": { type: "string" },
  method: { type: "string" },
  url: { type: "string" },
  config: { type: "string" },
};

/** Options that every provider and webhook kind takes. */
const sharedOptions = ["method", "url", "config", "help"];

const simulators: ReadonlyMap<string, ProviderSimulator> = new Map([
  ["twilio", twilioSimulator],
  ["vonage", vonageSimulator],
  ["plivo", plivoSimulator],
]);

const providerNames = [...simulators.keys()];

/** Time limit for connecting and for the server's response, in milliseconds. */
const responseTimeoutMs = 15_000;

/** Runs `smsgate simulate ...` and resolves with its exit code. */
export async function runSimulate(argv: string[], io: CliIo): Promise<number> {
  const args = parseCommandArgs(argv, simulateOptions, "simulate");
  const { provider, simulator, kind } = checkTarget(args);
  const draft = simulator.draft(kind, args);
  const configPath = readConfigOption(args, "simulate");

  let targetUrl: string;
  let webhook: SignedWebhook;

  try {
    const config = await loadConfig(configPath, io.env ?? process.env);
    const url = optionalString(args, "url");

    targetUrl = url === undefined ? localUrl(config, provider, kind) : checkUrl(url);
    webhook = await draft.sign({
      config,
      targetUrl,
      signedUrlFor: (target) => signedUrlFor(config, target),
      io,
    });
  } catch (error) {
    return reportSetupError(io, error);
  }

  // A GET's query repeats the fields, phone numbers included, so only the target is shown.
  const fields = webhook.method === "GET" ? "fields in the query, " : "";

  writeLine(
    io.stderr,
    `${webhook.method} ${targetUrl} (${kind}, ${fields}${webhook.messageLabel})`,
  );

  return send(io, targetUrl, webhook);
}

/** The simulator and webhook kind that the positional arguments name. */
interface SimulateTarget {
  provider: string;
  simulator: ProviderSimulator;
  kind: WebhookKind;
}

function checkTarget(args: ParsedArgs): SimulateTarget {
  const [provider, kind] = args.positionals;
  const choices = providerNames.join("|");

  if (provider === undefined) {
    throw new UsageError(
      `missing provider: smsgate simulate <${choices}> <inbound|status>`,
      "simulate",
    );
  }

  const simulator = simulators.get(provider);

  if (simulator === undefined) {
    throw new UsageError(
      `unknown provider ${JSON.stringify(provider)}; use ${providerNames.join(", ")}`,
      "simulate",
    );
  }

  if (kind !== "inbound" && kind !== "status") {
    const problem = kind === undefined ? "missing webhook kind" : `unknown webhook kind "${kind}"`;

    throw new UsageError(`${problem}; use inbound or status`, "simulate");
  }

  rejectExtraPositionals(args.positionals, 2, "simulate");
  rejectForeignOptions(args, { provider, simulator, kind });

  return { provider, simulator, kind };
}

function rejectForeignOptions(args: ParsedArgs, target: SimulateTarget): void {
  const allowed = [...target.simulator.options[target.kind], ...sharedOptions];

  for (const [name, value] of Object.entries(args.values)) {
    if (value !== undefined && !allowed.includes(name)) {
      throw new UsageError(
        `option --${name} does not apply to "simulate ${target.provider} ${target.kind}"`,
        "simulate",
      );
    }
  }
}

/** Checks `--url` and drops its fragment, which is never sent. */
function checkUrl(url: string): string {
  if (!/^https?:\/\//i.test(url) || !URL.canParse(url)) {
    throw new UsageError(
      `invalid --url ${JSON.stringify(url)}; give an http:// or https:// URL, ` +
        "such as http://127.0.0.1:8787/webhooks/twilio/inbound",
      "simulate",
    );
  }

  return url.split("#")[0] ?? url;
}

/** Builds the URL of the configured local server: `http://<listen.host>:<listen.port>/...`. */
function localUrl(config: SmsgateConfig, provider: string, kind: WebhookKind): string {
  const { host, port } = config.listen;

  if (port === 0) {
    throw new UsageError(
      "listen.port is 0 in the configuration, so the server picks a free port when it " +
        "starts; pass --url with the address the server logged",
      "simulate",
    );
  }

  return `http://${connectHost(host)}:${port}/webhooks/${provider}/${kind}`;
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
 * Returns the URL the provider would have called: `publicUrl` followed by the target's path and query
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

function reportSetupError(io: CliIo, error: unknown): number {
  if (error instanceof UsageError) {
    throw error;
  }

  return reportCommandError(io, error);
}

async function send(io: CliIo, targetUrl: string, webhook: SignedWebhook): Promise<number> {
  const agent = new Agent({
    headersTimeout: responseTimeoutMs,
    bodyTimeout: responseTimeoutMs,
    connect: { timeout: responseTimeoutMs },
  });
  const headers = { ...webhook.headers, "user-agent": "smsgate-simulate" };

  try {
    const response = await request(webhook.url, {
      method: webhook.method,
      headers,
      body: webhook.body,
      dispatcher: agent,
    });
    const text = await response.body.text();

    writeLine(io.stdout, `HTTP ${response.statusCode} ${STATUS_CODES[response.statusCode] ?? ""}`);
    writeLine(io.stdout, text);

    return response.statusCode >= 200 && response.statusCode < 300 ? ExitCode.ok : ExitCode.failure;
  } catch (error) {
    writeError(io, describeRequestError(targetUrl, error));

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
