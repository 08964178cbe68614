/**
 * A `node:http` request listener that passes provider webhooks to a gateway, for an
 * application that runs its own server. `smsgate serve` adds request ids, request logs,
 * time limits and a health check on top of the same steps.
 *
 * @module
 */

import type { IncomingMessage, ServerResponse } from "node:http";
import { ConfigError } from "../errors.js";
import type { Gateway } from "../gateway/gateway.js";
import { jsonAnswer } from "../gateway/webhook.js";
import { isLogger, type Logger, silentLogger } from "../logger.js";
import type { WebhookResponse } from "../provider.js";
import {
  contentEncodingMessage,
  isAddressOrSubnet,
  PayloadTooLargeError,
  publicRequestUrl,
  readRequestBody,
  toWebhookRequest,
  unsupportedContentEncoding,
} from "./node.js";
import { matchWebhookRoute } from "./routes.js";

/** Options of {@link createNodeHandler}. */
export interface NodeHandlerOptions {
  /**
   * Origin (and optional path prefix) the provider calls, such as `https://sms.example.com`.
   * The signed URL is this followed by the request's path and query, byte for byte. Without
   * it, the URL is built from the `Host` header, and from `X-Forwarded-Proto` and
   * `X-Forwarded-Host` when the peer is listed in `trustProxy`.
   */
  publicUrl?: string | undefined;
  /** IP addresses or CIDR subnets of proxies whose forwarded headers are honoured. */
  trustProxy?: readonly string[] | undefined;
  /**
   * Largest body accepted, in bytes; a larger request gets 413 and its connection is closed.
   * @default 65536
   */
  maxBodyBytes?: number | undefined;
  /** Receives the failures that no response reports, such as a client that went away. */
  logger?: Logger | undefined;
}

/** A `node:http` request listener. Its promise never rejects. */
export type NodeRequestListener = (req: IncomingMessage, res: ServerResponse) => Promise<void>;

interface ResolvedOptions {
  publicUrl: string | undefined;
  trustProxy: readonly string[];
  maxBodyBytes: number;
  logger: Logger;
}

/**
 * Creates a request listener for `http.createServer()` that serves the webhook routes
 * `/webhooks/{provider}/inbound` and `/webhooks/{provider}/status` (GET and POST). It reads
 * the body under a size limit, keeps the path, query and headers exactly as received for
 * the signature check, and writes the gateway's response. Other paths get 404 and other
 * methods 405, with a JSON body `{ error, message }`.
 *
 * @throws {ConfigError} when an option is invalid.
 * @example
 * http.createServer(createNodeHandler(gateway, { publicUrl: "https://sms.example.com" }))
 *   .listen(3000);
 */
export function createNodeHandler(
  gateway: Gateway,
  options: NodeHandlerOptions = {},
): NodeRequestListener {
  if (typeof (gateway as Partial<Gateway> | null)?.handleWebhook !== "function") {
    throw new ConfigError("gateway", "must be a Gateway, the first argument of createNodeHandler");
  }

  const resolved = resolveOptions(options);

  return async (req, res) => {
    try {
      await handleRequest(gateway, resolved, req, res);
    } catch (error) {
      try {
        handleFailure(resolved.logger, res, error);
      } catch {
        res.destroy();
      }
    }
  };
}

function resolveOptions(options: NodeHandlerOptions): ResolvedOptions {
  if (typeof options !== "object" || options === null) {
    throw new ConfigError("options", "must be an object, such as { publicUrl }");
  }

  const maxBodyBytes = options.maxBodyBytes ?? 65536;

  if (!Number.isSafeInteger(maxBodyBytes) || maxBodyBytes < 1) {
    throw new ConfigError(
      "maxBodyBytes",
      `must be a positive whole number of bytes, got ${String(maxBodyBytes)}`,
    );
  }

  return {
    publicUrl: checkPublicUrl(options.publicUrl),
    trustProxy: checkTrustProxy(options.trustProxy),
    maxBodyBytes,
    logger: checkLogger(options.logger),
  };
}

function checkTrustProxy(trustProxy: readonly string[] | undefined): readonly string[] {
  if (trustProxy === undefined) {
    return [];
  }

  if (!Array.isArray(trustProxy)) {
    throw new ConfigError("trustProxy", 'must be an array, such as ["10.0.0.0/8"]');
  }

  trustProxy.forEach((entry: unknown, index) => {
    if (typeof entry !== "string" || !isAddressOrSubnet(entry)) {
      throw new ConfigError(
        `trustProxy[${index}]`,
        `${JSON.stringify(entry) ?? String(entry)} is not an IP address or a subnet such as 10.0.0.0/8`,
      );
    }
  });

  return [...trustProxy];
}

function checkLogger(logger: Logger | undefined): Logger {
  if (logger === undefined) {
    return silentLogger;
  }

  if (!isLogger(logger)) {
    throw new ConfigError(
      "logger",
      "must have debug, info, warn and error methods (pino's interface)",
    );
  }

  return logger;
}

/** Checks `publicUrl` and removes trailing slashes, since every request path starts with one. */
function checkPublicUrl(publicUrl: string | undefined): string | undefined {
  if (publicUrl === undefined) {
    return undefined;
  }

  if (typeof publicUrl !== "string" || !/^https?:\/\/[^/?#\s]+(?:\/[^?#\s]*)?$/.test(publicUrl)) {
    throw new ConfigError(
      "publicUrl",
      `must be an http or https URL without query, such as "https://sms.example.com", ` +
        `got ${JSON.stringify(publicUrl)}`,
    );
  }

  return publicUrl.replace(/\/+$/, "");
}

async function handleRequest(
  gateway: Gateway,
  options: ResolvedOptions,
  req: IncomingMessage,
  res: ServerResponse,
): Promise<void> {
  const route = matchWebhookRoute((req.url ?? "").split("?", 1)[0] ?? "");

  if (route === undefined) {
    writeResponse(res, jsonAnswer(404, "not-found", "No route for this path"));
    return;
  }

  if (req.method !== "POST" && req.method !== "GET") {
    const answer = jsonAnswer(405, "method-not-allowed", `${req.method} is not allowed here`);

    writeResponse(res, withHeaders(answer, { allow: "GET, POST" }));
    return;
  }

  const encoding = unsupportedContentEncoding(req);
  if (encoding !== undefined) {
    const answer = jsonAnswer(
      415,
      "unsupported-content-encoding",
      contentEncodingMessage(encoding),
    );

    // The body is never read, so the connection cannot carry another request.
    writeResponse(res, withHeaders(answer, { connection: "close" }));
    return;
  }

  const body = await readRequestBody(req, options.maxBodyBytes);
  const url = publicRequestUrl(req, options);
  let request: ReturnType<typeof toWebhookRequest>;

  try {
    request = toWebhookRequest(req, body, url);
  } catch (error) {
    // Fetch `Headers` rejects a few values that the HTTP parser lets through.
    logSafely(() => options.logger.warn({ err: error }, "Webhook rejected: invalid header"));
    writeResponse(
      res,
      jsonAnswer(400, "invalid-request", `Invalid request header: ${String(error)}`),
    );
    return;
  }

  writeResponse(res, await gateway.handleWebhook(route.provider, request, { kind: route.kind }));
}

/** Logs with the caller's logger, whose own failure must not make the listener reject. */
function logSafely(log: () => void): void {
  try {
    log();
  } catch {
    // The response below still goes out; there is nowhere left to report the failure.
  }
}

function handleFailure(logger: Logger, res: ServerResponse, error: unknown): void {
  if (error instanceof PayloadTooLargeError) {
    const answer = jsonAnswer(413, "payload-too-large", error.message);

    logSafely(() => logger.warn({ maxBytes: error.maxBytes }, "Webhook rejected: body too large"));
    // The rest of the body is never read, so the connection cannot carry another request.
    writeResponse(res, withHeaders(answer, { connection: "close" }));
    return;
  }

  if (res.req.destroyed && !res.headersSent) {
    logSafely(() =>
      logger.warn({ err: error }, "Client went away before the webhook body was read"),
    );
    res.destroy();
    return;
  }

  logSafely(() => logger.error({ err: error }, "Webhook request failed"));
  if (res.headersSent) {
    res.destroy();
  } else {
    writeResponse(res, jsonAnswer(500, "internal-error", "Internal error"));
  }
}

function withHeaders(response: WebhookResponse, headers: Record<string, string>): WebhookResponse {
  return { ...response, headers: { ...response.headers, ...headers } };
}

function writeResponse(res: ServerResponse, response: WebhookResponse): void {
  res.writeHead(response.status, {
    ...response.headers,
    "content-length": Buffer.byteLength(response.body),
  });
  res.end(response.body);
}
