/**
 * Turns a `node:http` request into a {@link WebhookRequest}: the raw body bytes under a
 * size limit, the public URL the provider signed, and the headers as received.
 *
 * @module
 */

import type { IncomingMessage } from "node:http";
import { BlockList, isIP } from "node:net";
import type { WebhookRequest } from "../provider.js";

/** Raised by {@link readRequestBody} when a body is larger than the limit; respond with 413. */
export class PayloadTooLargeError extends Error {
  /** The limit that was exceeded, in bytes. */
  readonly maxBytes: number;

  constructor(maxBytes: number, detail: string) {
    super(`Request body too large: ${detail}; the limit is ${maxBytes} bytes`);
    this.name = "PayloadTooLargeError";
    this.maxBytes = maxBytes;
  }
}

/**
 * Reads the whole request body, up to `maxBytes`. A `Content-Length` over the limit is
 * rejected before any byte is read. A body that grows past the limit stops being read,
 * so the rest is never buffered; the caller should respond with 413 and close the connection.
 *
 * @throws {PayloadTooLargeError} when the body is over the limit.
 */
export function readRequestBody(req: IncomingMessage, maxBytes: number): Promise<Uint8Array> {
  const declared = Number(req.headers["content-length"]);
  if (Number.isFinite(declared) && declared > maxBytes) {
    return Promise.reject(
      new PayloadTooLargeError(maxBytes, `Content-Length is ${declared} bytes`),
    );
  }

  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let received = 0;

    const cleanup = (): void => {
      req.off("data", onData);
      req.off("end", onEnd);
      req.off("error", onError);
      req.off("close", onClose);
    };

    const onData = (chunk: Buffer): void => {
      received += chunk.length;
      if (received > maxBytes) {
        cleanup();
        req.pause();
        reject(new PayloadTooLargeError(maxBytes, `more than ${maxBytes} bytes were sent`));
        return;
      }

      chunks.push(chunk);
    };

    // A webhook body usually arrives in one chunk, which is returned without a copy.
    const onEnd = (): void => {
      cleanup();
      resolve(chunks.length === 1 ? (chunks[0] as Buffer) : Buffer.concat(chunks, received));
    };

    const onError = (error: Error): void => {
      cleanup();
      reject(error);
    };

    const onClose = (): void => {
      cleanup();
      reject(new Error("The client closed the connection before the body was complete"));
    };

    req.on("data", onData);
    req.on("end", onEnd);
    req.on("error", onError);
    req.on("close", onClose);
  });
}

/**
 * Returns the `Content-Encoding` of a request when it is one the webhook routes cannot
 * read, such as `gzip`, or undefined for none or `identity`. Providers send webhook bodies
 * uncompressed, and a compressed body would fail the signature check with a misleading 403.
 */
export function unsupportedContentEncoding(req: IncomingMessage): string | undefined {
  const encoding = req.headers["content-encoding"]?.trim().toLowerCase();

  return encoding === undefined || encoding === "" || encoding === "identity"
    ? undefined
    : encoding.slice(0, 100);
}

/** Builds the message of a 415 for a Content-Encoding that {@link unsupportedContentEncoding} found. */
export function contentEncodingMessage(encoding: string): string {
  return (
    `Content-Encoding ${JSON.stringify(encoding)} is not supported; ` +
    "send the webhook body uncompressed"
  );
}

/** Options of {@link publicRequestUrl}, which finds the URL a provider called. */
export interface PublicUrlOptions {
  /** Origin and optional path prefix, without a trailing slash. */
  publicUrl?: string | undefined;
  /**
   * IP addresses or CIDR subnets of proxies whose `X-Forwarded-Proto` and
   * `X-Forwarded-Host` are honoured when `publicUrl` is not set.
   */
  trustProxy?: readonly string[] | undefined;
}

/** Checks whether a value is an IP address or a CIDR subnet such as `10.0.0.0/8`. */
export function isAddressOrSubnet(value: string): boolean {
  const [address = "", prefix, extra] = value.split("/");
  const family = isIP(address);
  if (family === 0 || extra !== undefined) {
    return false;
  }

  if (prefix === undefined) {
    return true;
  }

  const bits = Number(prefix);
  return /^\d{1,3}$/.test(prefix) && bits <= (family === 4 ? 32 : 128);
}

const blockLists = new WeakMap<readonly string[], BlockList>();

/** Builds (once per array) the set of trusted proxy addresses. */
function trustedProxies(entries: readonly string[]): BlockList {
  const cached = blockLists.get(entries);
  if (cached) {
    return cached;
  }

  const list = new BlockList();
  for (const entry of entries) {
    const [address = "", prefix] = entry.split("/");
    const normalized = normalizeAddress(address);
    const family = isIP(normalized) === 6 ? "ipv6" : "ipv4";
    if (prefix === undefined) {
      list.addAddress(normalized, family);
    } else {
      list.addSubnet(normalized, Number(prefix), family);
    }
  }

  blockLists.set(entries, list);
  return list;
}

/** Turns an IPv4-mapped IPv6 address (`::ffff:10.0.0.1`) into its IPv4 form. */
export function normalizeAddress(address: string): string {
  const mapped = /^::ffff:(\d{1,3}(?:\.\d{1,3}){3})$/i.exec(address);
  return mapped?.[1] ?? address;
}

/** Checks whether the peer of the connection is one of the trusted proxies. */
function isTrustedPeer(req: IncomingMessage, trustProxy: readonly string[]): boolean {
  const peer = req.socket.remoteAddress;
  if (trustProxy.length === 0 || peer === undefined) {
    return false;
  }

  const address = normalizeAddress(peer);
  const family = isIP(address);
  if (family === 0) {
    return false;
  }

  return trustedProxies(trustProxy).check(address, family === 6 ? "ipv6" : "ipv4");
}

/**
 * Returns the last value of a header that proxies append to (`a, b`), which is the value
 * the nearest proxy set.
 */
function lastHeaderValue(req: IncomingMessage, name: string): string | undefined {
  const raw = req.headers[name];
  const joined = Array.isArray(raw) ? raw.join(",") : raw;
  const value = joined?.split(",").at(-1)?.trim();
  return value === "" ? undefined : value;
}

// A host with an optional port, and nothing that could change the path or the userinfo.
const hostPattern = /^[A-Za-z0-9.\-_~!$&'()*+;=%[\]:]+$/;

function validHost(value: string | undefined): string | undefined {
  return value !== undefined && hostPattern.test(value) ? value : undefined;
}

/**
 * Returns the URL the provider called, which is the URL it signed: `publicUrl` followed by
 * `req.url` exactly as received (path and query, byte for byte). Without `publicUrl`, the
 * scheme and host come from `X-Forwarded-Proto` and `X-Forwarded-Host` when the peer is a
 * trusted proxy, else from `http://` and the `Host` header, because forwarded headers from
 * any other peer are under the client's control.
 */
export function publicRequestUrl(req: IncomingMessage, options: PublicUrlOptions): string {
  const target = req.url ?? "/";
  if (options.publicUrl !== undefined) {
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

/**
 * Builds the {@link WebhookRequest} the gateway takes. Headers come from `req.rawHeaders`,
 * so a repeated header keeps every value.
 */
export function toWebhookRequest(
  req: IncomingMessage,
  body: Uint8Array,
  url: string,
): WebhookRequest {
  const headers = new Headers();
  const raw = req.rawHeaders;
  for (let index = 0; index + 1 < raw.length; index += 2) {
    headers.append(raw[index] ?? "", raw[index + 1] ?? "");
  }

  return { method: req.method ?? "GET", url, headers, body };
}
