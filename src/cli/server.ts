/**
 * The `node:http` webhook server: routes provider webhooks to the gateway, serves health
 * checks, enforces body size and client timeouts, and shuts down gracefully.
 */

import { randomUUID } from "node:crypto";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo, Socket } from "node:net";
import { performance } from "node:perf_hooks";
import { isHealthCheckStore } from "../consent/capabilities.js";
import {
  contentEncodingMessage,
  PayloadTooLargeError,
  publicRequestUrl,
  readRequestBody,
  toWebhookRequest,
  unsupportedContentEncoding,
} from "../http/node.js";
import { matchWebhookRoute } from "../http/routes.js";
import { type Logger, silentLogger } from "../logger.js";
import type { WebhookKind, WebhookResponse } from "../provider.js";
import { describeListenError } from "./listen-error.js";
import type { Runtime } from "./runtime.js";

/** Options of {@link startServer}; host and port override `listen` of the configuration. */
export interface ServerOptions {
  logger?: Logger | undefined;
  host?: string | undefined;
  /** 0 picks any free port. */
  port?: number | undefined;
  /**
   * How long `close()` waits for requests in flight before it closes their connections,
   * in milliseconds. @default 10000
   */
  shutdownTimeoutMs?: number | undefined;
}

/** A listening server. */
export interface RunningServer {
  /** Base URL to reach the server locally, such as `http://127.0.0.1:8787`. */
  url: string;
  /** The port listened on (the chosen one when 0 was asked for). */
  port: number;
  /**
   * Stops accepting connections, waits for requests in flight (up to
   * `shutdownTimeoutMs`), then closes the remaining connections.
   */
  close(): Promise<void>;
}

type Route =
  | { name: "/healthz"; allow: readonly string[] }
  | {
      name: "/webhooks/:provider/:kind";
      allow: readonly string[];
      provider: string;
      kind: WebhookKind;
    };

/** Matches a request path (without query) to a route. */
function matchRoute(path: string): Route | undefined {
  if (path === "/healthz") {
    return { name: "/healthz", allow: ["GET", "HEAD"] };
  }

  const webhook = matchWebhookRoute(path);
  if (webhook !== undefined) {
    // Providers can be configured to call with GET; the body is empty then.
    return { name: "/webhooks/:provider/:kind", allow: ["GET", "POST"], ...webhook };
  }

  return undefined;
}

/** Writes a JSON response; errors have the same shape as the gateway's own. */
function sendJson(
  res: ServerResponse,
  status: number,
  body: Record<string, unknown>,
  headers: Record<string, string> = {},
): void {
  const text = JSON.stringify(body);
  res.writeHead(status, {
    "content-type": "application/json; charset=utf-8",
    "content-length": Buffer.byteLength(text),
    ...headers,
  });
  res.end(res.req.method === "HEAD" ? undefined : text);
}

function sendError(
  res: ServerResponse,
  status: number,
  error: string,
  message: string,
  headers: Record<string, string> = {},
): void {
  sendJson(res, status, { error, message }, headers);
}

function writeWebhookResponse(res: ServerResponse, response: WebhookResponse): void {
  res.writeHead(response.status, {
    ...response.headers,
    "content-length": Buffer.byteLength(response.body),
  });
  res.end(response.body);
}

const requestIdPattern = /^[A-Za-z0-9._:-]{1,128}$/;

/** Uses the caller's `X-Request-Id` when it is a plain token, else a new UUID. */
function requestIdOf(req: IncomingMessage): string {
  const given = req.headers["x-request-id"];
  return typeof given === "string" && requestIdPattern.test(given) ? given : randomUUID();
}

/** Logs at most `limit` entries per minute, then one summary with the count skipped. */
class RateLimitedLog {
  #windowStart = 0;
  #count = 0;
  #skipped = 0;

  constructor(readonly limit: number) {}

  /** Returns the extra fields to log, or undefined when this entry should be skipped. */
  admit(): Record<string, unknown> | undefined {
    const now = Date.now();
    if (now - this.#windowStart >= 60_000) {
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
    return undefined;
  }
}

/** How long a health check may take before the store counts as unavailable. */
const healthTimeoutMs = 2000;

// Any phone value works: the read only proves that the store can serve the send guard.
const healthProbePhone = "+10000000000";

/**
 * Serves `GET /healthz`. The probe reads the store as the send guard does and, for a store
 * that can check it, commits one small write, so that a full disk or a lost connection
 * gives 503 even while reads still work. Requests that arrive while a probe runs get its
 * result.
 */
class HealthCheck {
  #healthy = true;
  #probing: Promise<boolean> | undefined;

  constructor(
    private readonly runtime: Runtime,
    private readonly logger: Logger,
  ) {}

  async handle(res: ServerResponse, requestId: string): Promise<void> {
    const ok = await this.#answer(requestId);
    sendJson(res, ok ? 200 : 503, { status: ok ? "ok" : "unavailable" });
  }

  #answer(requestId: string): Promise<boolean> {
    this.#probing ??= this.#probe(requestId).finally(() => {
      this.#probing = undefined;
    });

    return this.#probing;
  }

  async #probe(requestId: string): Promise<boolean> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () => reject(new Error(`the store did not respond within ${healthTimeoutMs} ms`)),
        healthTimeoutMs,
      );
    });

    try {
      await Promise.race([this.#check(), timeout]);
      if (!this.#healthy) {
        this.logger.info({ req: { id: requestId } }, "Health check: the store responds again");
      }
      this.#healthy = true;
      return true;
    } catch (error) {
      // Logged when the state changes, not on every poll of a load balancer.
      if (this.#healthy) {
        this.logger.error(
          { err: error, req: { id: requestId } },
          "Health check failed: store unavailable",
        );
      }
      this.#healthy = false;
      return false;
    } finally {
      clearTimeout(timer);
    }
  }

  async #check(): Promise<void> {
    const { store } = this.runtime;

    await store.isOptedOut(healthProbePhone);

    if (isHealthCheckStore(store)) {
      await store.checkHealth();
    }
  }
}

/** State shared by the request handlers of one server. */
interface ServerContext {
  runtime: Runtime;
  logger: Logger;
  health: HealthCheck;
  clientErrors: RateLimitedLog;
  /** Responses in progress, by socket, so a client error knows whether one started. */
  responses: WeakMap<Socket, ServerResponse>;
  /**
   * Sockets whose client error was handled. The parser can report an error again for data
   * that arrives before the socket closes, which would log the same line twice.
   */
  failedSockets: WeakSet<Socket>;
  inFlight: number;
  closing: boolean;
  /** Called during shutdown when the last request in flight ends. */
  onIdle?: (() => void) | undefined;
}

async function handleWebhook(
  context: ServerContext,
  req: IncomingMessage,
  res: ServerResponse,
  route: Extract<Route, { provider: string }>,
  requestId: string,
): Promise<void> {
  const { config, gateway } = context.runtime;
  const known = context.runtime.providers.some((provider) => provider.name === route.provider);
  if (!known) {
    sendError(res, 404, "unknown-provider", `No provider "${route.provider}" is configured`);
    return;
  }

  const encoding = unsupportedContentEncoding(req);
  if (encoding !== undefined) {
    // The body is never read, so the connection cannot carry another request.
    sendError(res, 415, "unsupported-content-encoding", contentEncodingMessage(encoding), {
      connection: "close",
    });
    return;
  }

  const body = await readRequestBody(req, config.limits.maxBodyBytes);
  const url = publicRequestUrl(req, { publicUrl: config.publicUrl, trustProxy: config.trustProxy });

  let request: ReturnType<typeof toWebhookRequest>;
  try {
    request = toWebhookRequest(req, body, url);
  } catch (error) {
    // Fetch `Headers` rejects a few values that the HTTP parser lets through.
    sendError(res, 400, "invalid-request", `Invalid request header: ${String(error)}`);
    return;
  }

  const logger = new RequestLogger(context.logger, requestId);
  const response = await gateway.handleWebhook(route.provider, request, {
    kind: route.kind,
    logger,
  });
  writeWebhookResponse(res, response);
}

/**
 * The request of a log line, under the key `req` as pino-http writes it. pino 10 escapes
 * each top-level string field in JavaScript but writes a nested object with one
 * `JSON.stringify`, which is cheaper on a line written for every request.
 */
interface RequestLogFields {
  id: string;
  method: string | undefined;
  /** The path without the query string, at most 200 characters. */
  path: string;
  /** The route pattern, such as `/webhooks/:provider/:kind`, or null when none matched. */
  route: string | null;
}

/**
 * Adds `req.id` to every line the gateway logs about one webhook, so that a rejection can be
 * matched with its request line. It costs two small objects per request, and nothing more
 * until a line is logged.
 */
class RequestLogger implements Logger {
  readonly #logger: Logger;
  readonly #request: { id: string };

  constructor(logger: Logger, id: string) {
    this.#logger = logger;
    this.#request = { id };
  }

  debug(object: Record<string, unknown>, message?: string): void {
    this.#logger.debug({ req: this.#request, ...object }, message);
  }

  info(object: Record<string, unknown>, message?: string): void {
    this.#logger.info({ req: this.#request, ...object }, message);
  }

  warn(object: Record<string, unknown>, message?: string): void {
    this.#logger.warn({ req: this.#request, ...object }, message);
  }

  error(object: Record<string, unknown>, message?: string): void {
    this.#logger.error({ req: this.#request, ...object }, message);
  }
}

/** Logs a request when its connection closes, with its status and duration in ms. */
function logRequest(
  logger: Logger,
  request: RequestLogFields,
  res: ServerResponse,
  started: number,
): void {
  const finished = res.writableFinished;

  logger.info(
    {
      req: request,
      // A response that never finished was not sent with its status code, so none is logged.
      res: { statusCode: finished ? res.statusCode : null },
      responseTime: Math.round((performance.now() - started) * 10) / 10,
    },
    finished ? "request completed" : "request aborted",
  );
}

/** Responds to a request whose handler threw: 413 for an oversized body, else 500. */
function handleFailure(
  context: ServerContext,
  res: ServerResponse,
  error: unknown,
  request: RequestLogFields,
): void {
  const fields = { req: request };

  if (error instanceof PayloadTooLargeError) {
    context.logger.warn({ ...fields, maxBytes: error.maxBytes }, "Request body too large");
    // The rest of the body is never read, so the connection cannot carry another request.
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
    sendError(res, 500, "internal-error", `Internal error; request id ${request.id}`);
  }
}

async function route(
  context: ServerContext,
  req: IncomingMessage,
  res: ServerResponse,
  requestId: string,
): Promise<string | undefined> {
  const target = req.url ?? "";
  if (!target.startsWith("/")) {
    sendError(res, 400, "invalid-request", "The request target must be a path");
    return undefined;
  }

  const matched = matchRoute(target.split("?", 1)[0] ?? "");
  if (!matched) {
    sendError(res, 404, "not-found", "No route for this path");
    return undefined;
  }

  if (!matched.allow.includes(req.method ?? "")) {
    const allow = matched.allow.join(", ");
    sendError(res, 405, "method-not-allowed", `Method ${req.method} is not allowed; use ${allow}`, {
      allow,
    });
    return matched.name;
  }

  if (matched.name === "/healthz") {
    await context.health.handle(res, requestId);
  } else {
    await handleWebhook(context, req, res, matched, requestId);
  }

  return matched.name;
}

/** Handles one request, responding to every failure itself. */
async function handleRequest(
  context: ServerContext,
  req: IncomingMessage,
  res: ServerResponse,
): Promise<void> {
  const started = performance.now();
  const requestId = requestIdOf(req);
  // The path only: a query can carry the fields of a GET webhook.
  const path = (req.url ?? "").split("?", 1)[0]?.slice(0, 200) ?? "";
  const request: RequestLogFields = { id: requestId, method: req.method, path, route: null };

  context.inFlight += 1;
  context.responses.set(req.socket, res);
  res.setHeader("x-request-id", requestId);
  if (context.closing) {
    res.setHeader("connection", "close");
  }

  res.once("close", () => {
    context.inFlight -= 1;
    logRequest(context.logger, request, res, started);

    if (context.closing && context.inFlight === 0) {
      context.onIdle?.();
    }
  });

  try {
    request.route = (await route(context, req, res, requestId)) ?? null;
  } catch (error) {
    request.route ??= matchRoute(path)?.name ?? null;
    handleFailure(context, res, error, request);
  }
}

/** Responds to requests the HTTP parser rejected or timed out, then closes the socket. */
function handleClientError(context: ServerContext, error: Error, socket: Socket): void {
  if (context.failedSockets.has(socket)) {
    socket.destroySoon();
    return;
  }

  context.failedSockets.add(socket);

  const code = (error as NodeJS.ErrnoException).code;
  const extra = context.clientErrors.admit();
  if (extra) {
    context.logger.warn({ ...extra, code, err: error }, "Client connection error");
  }

  const response = context.responses.get(socket);
  const canAnswer = socket.writable && !response?.headersSent && code !== "ECONNRESET";
  if (canAnswer) {
    const status =
      code === "ERR_HTTP_REQUEST_TIMEOUT"
        ? "408 Request Timeout"
        : code === "HPE_HEADER_OVERFLOW"
          ? "431 Request Header Fields Too Large"
          : "400 Bad Request";
    socket.end(`HTTP/1.1 ${status}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`);
  }

  socket.destroySoon();
}

/** Names the store for the start log: the SQLite path, the PostgreSQL schema, or memory. */
function describeStore(runtime: Runtime): string {
  const { store } = runtime.config;

  if (store.type === "postgres") {
    return `PostgreSQL, schema ${store.schema}`;
  }

  if (store.type === "memory") {
    return "memory (lost on exit)";
  }

  return runtime.storePath ?? "SQLite";
}

/** Configures Node's protections against slow and numerous clients. */
function applyLimits(server: Server, limits: Runtime["config"]["limits"]): void {
  server.headersTimeout = limits.headersTimeoutMs;
  server.requestTimeout = limits.requestTimeoutMs;
  server.maxConnections = limits.maxConnections;
  server.keepAliveTimeout = 5000;
  // No limit of requests per connection, because past it Node responds with 503 to requests
  // that a client already sent on the connection, and logs nothing.
  server.maxRequestsPerSocket = 0;
}

/** Returns how often Node checks the header and request timeouts, often enough for small limits. */
function checkingIntervalMs(limits: Runtime["config"]["limits"]): number {
  const shortest = Math.min(limits.headersTimeoutMs, limits.requestTimeoutMs);
  return Math.max(10, Math.min(1000, Math.floor(shortest / 4)));
}

function listen(server: Server, host: string, port: number): Promise<AddressInfo> {
  return new Promise((resolve, reject) => {
    const onError = (error: NodeJS.ErrnoException): void => {
      reject(new Error(describeListenError(error, host, port), { cause: error }));
    };

    server.once("error", onError);
    server.listen(port, host, () => {
      server.off("error", onError);
      resolve(server.address() as AddressInfo);
    });
  });
}

/** Builds the local base URL; an unspecified address is reached through loopback. */
function localUrl(address: AddressInfo): string {
  let host = address.address;
  if (host === "0.0.0.0") {
    host = "127.0.0.1";
  } else if (host === "::") {
    host = "::1";
  }

  const shown = address.family === "IPv6" || host.includes(":") ? `[${host}]` : host;
  return `http://${shown}:${address.port}`;
}

/** Logs where the server listens, which store it uses, and its routes. */
function logStartup(runtime: Runtime, logger: Logger, url: string, address: AddressInfo): void {
  const { config, dev } = runtime;
  // Webhooks also accept GET, which Twilio, the Vonage SMS API and Plivo can be set to use.
  const routes = [
    "POST /webhooks/:provider/inbound",
    "POST /webhooks/:provider/status",
    "GET /webhooks/:provider/inbound",
    "GET /webhooks/:provider/status",
    "GET /healthz",
  ];
  const providers = runtime.providers.map((provider) => provider.name);
  logger.info(
    { url, port: address.port, listen: address.address, routes, providers },
    `smsgate server listening on ${url} for ${providers.join(", ")} webhooks`,
  );

  logger.info(
    {
      store: config.store.type,
      storePath: runtime.storePath ?? null,
      mode: dev ? "development" : "production",
    },
    `Store: ${describeStore(runtime)}`,
  );

  if (dev) {
    logDevMode(dev, logger, url);
  } else {
    logProviderUrls(providers, config.publicUrl ?? url, logger);
  }

  if (config.insecureSkipSignatureVerification) {
    logger.warn(
      { insecureSkipSignatureVerification: true },
      "Webhook signatures are NOT verified: anyone who can reach this server can opt " +
        "numbers in or out. Use this only for local testing",
    );
  }
}

function logProviderUrls(providers: readonly string[], base: string, logger: Logger): void {
  for (const name of providers) {
    const inbound = `${base}/webhooks/${name}/inbound`;
    const status = `${base}/webhooks/${name}/status`;
    logger.info(
      { provider: name, inbound, status },
      `Set the ${name} inbound webhook to ${inbound} and the status callback to ${status}`,
    );
  }
}

function logDevMode(dev: NonNullable<Runtime["dev"]>, logger: Logger, url: string): void {
  const inbound = `${url}/webhooks/twilio/inbound`;
  logger.info(
    { inbound, status: `${url}/webhooks/twilio/status`, loopbackFile: dev.loopbackPath },
    `Development mode (no provider configured): post Twilio webhooks to ${inbound}. ` +
      `Sends are not delivered but appended to ${dev.loopbackPath}`,
  );
  logger.info(
    { devFile: dev.secretsPath, created: dev.secretsCreated, accountSid: dev.accountSid },
    `Twilio webhooks are verified with the development auth token in ${dev.secretsPath}. ` +
      `"smsgate simulate twilio inbound --from <number> --to <number> --body STOP" reads ` +
      `that file, signs the webhook and posts it to ${inbound}`,
  );
}

/** Closes the server, waiting for requests in flight up to the timeout. */
async function shutDown(server: Server, context: ServerContext, timeoutMs: number) {
  context.closing = true;
  const closed = new Promise<void>((resolve) => server.close(() => resolve()));
  server.closeIdleConnections();

  // A connection without a request in flight carries at most a request whose headers have
  // not all arrived, which no handler has seen, so it is closed once the last request ends
  // instead of holding the shutdown until the deadline.
  context.onIdle = () => server.closeAllConnections();
  if (context.inFlight === 0) {
    context.onIdle();
  }

  let timer: NodeJS.Timeout | undefined;
  const timedOut = new Promise<boolean>((resolve) => {
    timer = setTimeout(() => resolve(true), timeoutMs);
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

/**
 * Starts the webhook server for a runtime: `POST|GET /webhooks/:provider/inbound` and
 * `/status`, and `GET /healthz`. Limits and timeouts come from `runtime.config.limits`.
 * Logs its address, store and routes, and one line per request.
 *
 * @throws {Error} when the address cannot be listened on.
 */
export async function startServer(
  runtime: Runtime,
  options: ServerOptions = {},
): Promise<RunningServer> {
  const { limits, listen: listenConfig } = runtime.config;
  const logger = options.logger ?? silentLogger;
  const context: ServerContext = {
    runtime,
    logger,
    health: new HealthCheck(runtime, logger),
    clientErrors: new RateLimitedLog(10),
    responses: new WeakMap(),
    failedSockets: new WeakSet(),
    inFlight: 0,
    closing: false,
  };

  const server = createServer(
    {
      headersTimeout: limits.headersTimeoutMs,
      requestTimeout: limits.requestTimeoutMs,
      connectionsCheckingInterval: checkingIntervalMs(limits),
    },
    (req, res) => {
      res.on("error", (error) => logger.debug({ err: error }, "Response stream failed"));
      handleRequest(context, req, res).catch((error: unknown) => {
        // Only a bug in the failure handling itself gets here.
        logger.error({ err: error }, "Request handling failed unexpectedly");
        res.destroy();
      });
    },
  );
  applyLimits(server, limits);
  server.on("clientError", (error, socket) => handleClientError(context, error, socket as Socket));

  const host = options.host ?? listenConfig.host;
  const address = await listen(server, host, options.port ?? listenConfig.port);
  const url = localUrl(address);
  logStartup(runtime, logger, url, address);

  let closing: Promise<void> | undefined;
  return {
    url,
    port: address.port,
    close: () => {
      closing ??= shutDown(server, context, options.shutdownTimeoutMs ?? 10_000);
      return closing;
    },
  };
}
