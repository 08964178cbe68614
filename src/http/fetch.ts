import type { Gateway } from "../gateway/gateway.js";
import type { WebhookRequest } from "../provider.js";
import { matchWebhookRoute } from "./routes.js";

/** Options of {@link createFetchHandler}. */
export interface FetchHandlerOptions {
  /**
   * Origin (and optional path prefix) the provider calls. The signed URL is this followed
   * by the request's path and query. When absent, the request URL is used as it is.
   */
  publicUrl?: string | undefined;
  /**
   * Largest body accepted, in bytes; larger requests get 413.
   * @default 65536
   */
  maxBodyBytes?: number | undefined;
}

/**
 * Creates a Fetch API handler (`Request` in, `Response` out) for runtimes and frameworks
 * that speak it. Routes: `/webhooks/{provider}/inbound` and `/webhooks/{provider}/status`.
 *
 * NOTE: a Fetch `Request` carries its URL already normalised by the WHATWG URL parser, so a
 * query with characters such as `'` may differ from the bytes the provider signed. Use the
 * `node:http` server for such URLs.
 */
export function createFetchHandler(
  gateway: Gateway,
  options: FetchHandlerOptions = {},
): (request: Request) => Promise<Response> {
  const maxBodyBytes = options.maxBodyBytes ?? 65536;
  const publicUrl = options.publicUrl?.replace(/\/+$/, "");

  return async (request) => {
    const url = new URL(request.url);
    const route = matchWebhookRoute(url.pathname);

    if (!route) {
      return Response.json({ error: "not-found" }, { status: 404 });
    }

    if (request.method !== "POST" && request.method !== "GET") {
      return Response.json(
        { error: "method-not-allowed" },
        { status: 405, headers: { allow: "GET, POST" } },
      );
    }

    const body = await readLimited(request, maxBodyBytes);

    if (!body) {
      return Response.json({ error: "payload-too-large" }, { status: 413 });
    }

    const webhook: WebhookRequest = {
      method: request.method,
      url: publicUrl ? `${publicUrl}${url.pathname}${url.search}` : request.url,
      headers: request.headers,
      body,
    };
    const answer = await gateway.handleWebhook(route.provider, webhook, { kind: route.kind });

    return new Response(answer.body, { status: answer.status, headers: answer.headers });
  };
}

/** Reads the body up to a limit; resolves undefined when it is larger. */
async function readLimited(request: Request, maxBytes: number): Promise<Uint8Array | undefined> {
  const declared = Number(request.headers.get("content-length") ?? "0");

  if (declared > maxBytes) {
    return undefined;
  }

  if (!request.body) {
    return new Uint8Array();
  }

  const chunks: Uint8Array[] = [];
  let size = 0;

  for await (const chunk of request.body) {
    size += chunk.byteLength;

    if (size > maxBytes) {
      return undefined;
    }

    chunks.push(chunk);
  }

  return Buffer.concat(chunks);
}
