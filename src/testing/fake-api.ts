import { createServer, type IncomingHttpHeaders, type IncomingMessage } from "node:http";
import type { AddressInfo } from "node:net";
import { type FormPair, parseFormBody } from "../http/form.js";

/** A request as the fake API server received it. */
export interface RecordedRequest {
  method: string;
  /** Path and query exactly as sent, such as `/2010-04-01/Accounts/AC.../Messages.json`. */
  path: string;
  /** Header names in lower case, as `node:http` gives them. */
  headers: IncomingHttpHeaders;
  /** The body decoded as UTF-8. */
  body: string;
  /** The body's form fields when it is a valid form body, else an empty list. */
  form: FormPair[];
  /** Client port of the connection, to tell reused keep-alive connections apart. */
  remotePort: number | undefined;
}

/** The response the fake API server sends. */
export interface FakeResponse {
  status: number;
  headers?: Record<string, string> | undefined;
  /** Body text. Ignored when `json` is given. */
  body?: string | undefined;
  /** A value sent as JSON with `content-type: application/json`. */
  json?: unknown;
  /** Milliseconds to wait before responding, to test client time limits. */
  delayMs?: number | undefined;
  /** Destroys the connection without a response, to test network errors. */
  destroyConnection?: boolean | undefined;
}

/** A running fake API server. */
export interface FakeApi {
  /** Origin of the server, such as `http://127.0.0.1:49152`. */
  url: string;
  /** Every request received, in order. */
  requests: RecordedRequest[];
  /** Stops the server and ends open keep-alive connections. */
  close(): Promise<void>;
}

/** Answers one recorded request. */
export type FakeApiHandler = (request: RecordedRequest) => FakeResponse | Promise<FakeResponse>;

/**
 * Starts a real `node:http` server on 127.0.0.1 with a free port that records every
 * request and responds with the handler's response. A handler that throws gives a 500 whose
 * body is the error message.
 *
 * @example
 * const api = await startFakeApi(() => ({ status: 200, json: { ok: true } }));
 * await fetch(`${api.url}/ping`);
 * await api.close();
 */
export async function startFakeApi(handler: FakeApiHandler): Promise<FakeApi> {
  const requests: RecordedRequest[] = [];
  const server = createServer((incoming, outgoing) => {
    void (async () => {
      const recorded = await record(incoming);

      requests.push(recorded);

      const response = await runHandler(handler, recorded);

      if (response.delayMs !== undefined) {
        await new Promise((resolve) => setTimeout(resolve, response.delayMs));
      }

      if (response.destroyConnection) {
        outgoing.socket?.destroy();
        return;
      }

      const { headers, body } = serialize(response);

      outgoing.writeHead(response.status, headers).end(body);
    })().catch(() => outgoing.socket?.destroy());
  });

  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => resolve());
  });

  const { port } = server.address() as AddressInfo;

  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.close((error) => (error ? reject(error) : resolve()));
        server.closeAllConnections();
      }),
  };
}

async function record(incoming: IncomingMessage): Promise<RecordedRequest> {
  const chunks: Buffer[] = [];

  for await (const chunk of incoming) {
    chunks.push(chunk as Buffer);
  }

  const bytes = Buffer.concat(chunks);

  return {
    method: incoming.method ?? "GET",
    path: incoming.url ?? "/",
    headers: incoming.headers,
    body: bytes.toString("utf8"),
    form: readForm(incoming.headers, bytes),
    remotePort: incoming.socket.remotePort,
  };
}

function readForm(headers: IncomingHttpHeaders, bytes: Uint8Array): FormPair[] {
  const type = headers["content-type"] ?? "";

  if (!type.toLowerCase().startsWith("application/x-www-form-urlencoded")) {
    return [];
  }

  try {
    return parseFormBody(bytes);
  } catch {
    return [];
  }
}

async function runHandler(
  handler: FakeApiHandler,
  request: RecordedRequest,
): Promise<FakeResponse> {
  try {
    return await handler(request);
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);

    return { status: 500, headers: { "content-type": "text/plain" }, body: message };
  }
}

function serialize(response: FakeResponse): { headers: Record<string, string>; body: string } {
  if (response.json === undefined) {
    return { headers: { ...response.headers }, body: response.body ?? "" };
  }

  return {
    headers: { "content-type": "application/json", ...response.headers },
    body: JSON.stringify(response.json),
  };
}
