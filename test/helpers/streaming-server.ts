import { createServer, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { setTimeout as sleep } from "node:timers/promises";

/** A response whose body the server writes in chunks. */
export interface StreamedResponse {
  status: number;
  headers?: Record<string, string> | undefined;
  /** Body length in bytes. The body is the letter `a` repeated. */
  bytes: number;
  /** Size of each write, in bytes. Defaults to 64 KiB. */
  chunkBytes?: number | undefined;
  /** Pause after each write, in milliseconds. Defaults to none. */
  intervalMs?: number | undefined;
}

/** State of the server's side of a connection at the moment it closed. */
export interface ServerSideClose {
  /** Body bytes the server had passed to `write()` by then. */
  sentBytes: number;
  /** Whether the server had written the whole body and ended the response. */
  finished: boolean;
}

/** A running streaming server. */
export interface StreamingServer {
  /** Origin of the server, such as `http://127.0.0.1:49152`. */
  url: string;
  /** Resolves once the connection of the first request closes. */
  connectionClosed: Promise<ServerSideClose>;
  /** Stops the server and ends open connections. */
  close(): Promise<void>;
}

/**
 * Starts a `node:http` server on 127.0.0.1 with a free port that reads each request body,
 * then sends `response`, written chunk by chunk with backpressure. It stops writing once
 * the client closes the connection.
 */
export async function startStreamingServer(response: StreamedResponse): Promise<StreamingServer> {
  let reportClose: (close: ServerSideClose) => void = () => {};
  const connectionClosed = new Promise<ServerSideClose>((resolve) => {
    reportClose = resolve;
  });
  let first = true;

  const server = createServer((request, outgoing) => {
    const progress = { sentBytes: 0 };

    if (first) {
      first = false;
      request.socket.once("close", () => {
        reportClose({ sentBytes: progress.sentBytes, finished: outgoing.writableFinished });
      });
    }

    request.resume();
    request.once("end", () => {
      void writeBody(outgoing, response, progress).catch(() => outgoing.destroy());
    });
  });

  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));

  const { port } = server.address() as AddressInfo;

  return {
    url: `http://127.0.0.1:${port}`,
    connectionClosed,
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

async function writeBody(
  outgoing: ServerResponse,
  response: StreamedResponse,
  progress: { sentBytes: number },
): Promise<void> {
  const chunk = Buffer.alloc(response.chunkBytes ?? 64 * 1024, 0x61);

  outgoing.writeHead(response.status, {
    "content-length": String(response.bytes),
    ...response.headers,
  });

  while (progress.sentBytes < response.bytes && !outgoing.destroyed) {
    const size = Math.min(chunk.length, response.bytes - progress.sentBytes);
    const flushed = outgoing.write(chunk.subarray(0, size));

    progress.sentBytes += size;

    if (!flushed) {
      await drainOrClose(outgoing);
    }

    if (response.intervalMs !== undefined) {
      await sleep(response.intervalMs);
    }
  }

  if (!outgoing.destroyed) {
    outgoing.end();
  }
}

function drainOrClose(outgoing: ServerResponse): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      outgoing.off("drain", done);
      outgoing.off("close", done);
      resolve();
    };

    outgoing.on("drain", done);
    outgoing.on("close", done);
  });
}
