import { createServer, type RequestListener, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { setTimeout as sleep } from "node:timers/promises";
import { type Dispatcher, errors, MockAgent, Pool } from "undici";
import { afterEach, describe, expect, it } from "vitest";
import { DeadlineQueue, TimedOperation } from "../src/http/deadlines.js";
import { headerValue, MAX_RESPONSE_BYTES, requestText } from "../src/http/request.js";
import { startStreamingServer } from "./helpers/streaming-server.js";

const cleanups: Array<() => Promise<void>> = [];

afterEach(async () => {
  while (cleanups.length > 0) {
    await cleanups.pop()?.();
  }
});

/** An operation that records when it expired, in ms after it was added. */
class Probe extends TimedOperation {
  expiredAfterMs: number | undefined;
  readonly #addedAt = performance.now();

  expire(): void {
    this.expiredAfterMs = performance.now() - this.#addedAt;
  }
}

/** Starts a server on 127.0.0.1 and returns a pool connected to it. */
async function serve(listener: RequestListener, connections?: number): Promise<Pool> {
  const server: Server = createServer(listener);

  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));

  const { port } = server.address() as AddressInfo;
  const pool = new Pool(`http://127.0.0.1:${port}`, { connections });

  cleanups.push(
    () => new Promise((resolve) => server.close(() => resolve())),
    async () => {
      server.closeAllConnections();
      await pool.destroy();
    },
  );

  return pool;
}

const get = { path: "/", method: "GET" } as const;

async function rejection(promise: Promise<unknown>): Promise<Error> {
  return promise.then(
    () => new Error("expected a rejection, the request succeeded"),
    (error: unknown) => error as Error,
  );
}

describe("DeadlineQueue", () => {
  it("expires after the time limit", async () => {
    const queue = new DeadlineQueue(30);
    const probe = new Probe();

    queue.add(probe);
    await sleep(80);

    expect(probe.expiredAfterMs).toBeGreaterThanOrEqual(30);
    expect(probe.expiredAfterMs).toBeLessThan(80);
    expect(probe.queued).toBe(false);
  });

  it("never expires a removed operation", async () => {
    const queue = new DeadlineQueue(20);
    const removed = new Probe();
    const kept = new Probe();

    queue.add(removed);
    queue.add(kept);
    queue.remove(removed);
    queue.remove(removed);
    await sleep(60);

    expect(removed.expiredAfterMs).toBeUndefined();
    expect(kept.expiredAfterMs).toBeGreaterThanOrEqual(20);
  });

  it("expires later operations on time", async () => {
    const queue = new DeadlineQueue(40);
    const first = new Probe();
    const second = new Probe();

    queue.add(first);
    await sleep(25);
    queue.add(second);
    queue.remove(first);
    await sleep(100);

    expect(first.expiredAfterMs).toBeUndefined();
    expect(second.expiredAfterMs).toBeGreaterThanOrEqual(40);
    expect(second.expiredAfterMs).toBeLessThan(100);
  });

  it("expires operations in start order", async () => {
    const queue = new DeadlineQueue(10);
    const order: number[] = [];

    for (let index = 0; index < 5; index += 1) {
      queue.add(
        new (class extends TimedOperation {
          expire(): void {
            order.push(index);
          }
        })(),
      );
    }

    await sleep(50);

    expect(order).toEqual([0, 1, 2, 3, 4]);
  });
});

describe("requestText", () => {
  it("reads status, body and headers", async () => {
    const pool = await serve((_request, response) => {
      response.setHeader("x-request-id", ["first", "second"]);
      response.writeHead(201, { "content-type": "application/json" }).end('{"ok":true}');
    });
    const response = await requestText(pool, get, new DeadlineQueue(1000));

    expect(response.status).toBe(201);
    expect(response.body).toBe('{"ok":true}');
    expect(headerValue(response.rawHeaders, "x-request-id")).toBe("first");
    expect(headerValue(response.rawHeaders, "content-type")).toBe("application/json");
    expect(headerValue(response.rawHeaders, "missing")).toBeUndefined();
  });

  it("decodes a body split inside a character", async () => {
    const bytes = Buffer.from("\ufeffgrüße ✓", "utf8");
    const pool = await serve(async (_request, response) => {
      response.writeHead(200);
      response.write(bytes.subarray(0, 7));
      await sleep(10);
      response.end(bytes.subarray(7));
    });
    const response = await requestText(pool, get, new DeadlineQueue(1000));

    expect(response.body).toBe("grüße ✓");
  });

  it("aborts a body over the size limit", async () => {
    const server = await startStreamingServer({ status: 200, bytes: 4 * MAX_RESPONSE_BYTES });
    const pool = new Pool(server.url);

    cleanups.push(
      () => server.close(),
      () => pool.destroy(),
    );

    const error = await rejection(requestText(pool, get, new DeadlineQueue(5000)));
    const close = await server.connectionClosed;

    expect(error).toBeInstanceOf(errors.ResponseExceededMaxSizeError);
    expect((error as { code?: string }).code).toBe("UND_ERR_RES_EXCEEDED_MAX_SIZE");
    expect(error.message).toBe(
      "The response body is longer than 4194304 bytes, so it was not read",
    );
    expect(close.finished).toBe(false);
    expect(close.sentBytes).toBeLessThan(4 * MAX_RESPONSE_BYTES);
  });

  it("aborts one byte over the size limit", async () => {
    const server = await startStreamingServer({ status: 200, bytes: MAX_RESPONSE_BYTES + 1 });
    const pool = new Pool(server.url);

    cleanups.push(
      () => server.close(),
      () => pool.destroy(),
    );

    const error = await rejection(requestText(pool, get, new DeadlineQueue(5000)));

    expect((error as { code?: string }).code).toBe("UND_ERR_RES_EXCEEDED_MAX_SIZE");
    expect(error.message).toContain(`longer than ${MAX_RESPONSE_BYTES} bytes`);
    await expect(server.connectionClosed).resolves.toBeDefined();
  });

  it("reads a body at the size limit", async () => {
    const server = await startStreamingServer({ status: 200, bytes: MAX_RESPONSE_BYTES });
    const pool = new Pool(server.url);

    cleanups.push(
      () => server.close(),
      () => pool.destroy(),
    );

    const response = await requestText(pool, get, new DeadlineQueue(5000));

    expect(response.status).toBe(200);
    expect(response.body).toHaveLength(MAX_RESPONSE_BYTES);
    expect(response.body).toBe("a".repeat(MAX_RESPONSE_BYTES));
  });

  it("times out a body that keeps streaming", async () => {
    const server = await startStreamingServer({
      status: 200,
      bytes: 64 * 1024,
      chunkBytes: 1024,
      intervalMs: 20,
    });
    const pool = new Pool(server.url);

    cleanups.push(
      () => server.close(),
      () => pool.destroy(),
    );

    const started = performance.now();
    const error = await rejection(requestText(pool, get, new DeadlineQueue(150)));
    const elapsedMs = performance.now() - started;
    const close = await server.connectionClosed;

    expect(error).toBeInstanceOf(DOMException);
    expect(error.name).toBe("TimeoutError");
    expect(error.message).toBe("The operation was aborted due to timeout");
    expect(elapsedMs).toBeGreaterThanOrEqual(149);
    expect(elapsedMs).toBeLessThan(1000);
    expect(close.finished).toBe(false);
    expect(close.sentBytes).toBeGreaterThan(0);
    expect(close.sentBytes).toBeLessThan(64 * 1024);
  });

  it("reads an empty body", async () => {
    const pool = await serve((_request, response) => {
      response.writeHead(204).end();
    });
    const response = await requestText(pool, get, new DeadlineQueue(1000));

    expect(response.status).toBe(204);
    expect(response.body).toBe("");
  });

  it("skips informational responses", async () => {
    const pool = await serve((_request, response) => {
      response.writeProcessing();
      response.writeHead(200, { "x-final": "yes" }).end("done");
    });
    const response = await requestText(pool, get, new DeadlineQueue(1000));

    expect(response.status).toBe(200);
    expect(headerValue(response.rawHeaders, "x-final")).toBe("yes");
    expect(response.body).toBe("done");
  });

  it("times out waiting for headers", async () => {
    const pool = await serve(() => {
      // Never responds.
    });
    const started = performance.now();
    const error = await rejection(requestText(pool, get, new DeadlineQueue(50)));

    expect(error.name).toBe("TimeoutError");
    expect(error).toBeInstanceOf(DOMException);
    expect(performance.now() - started).toBeGreaterThanOrEqual(49);
  });

  it("times out reading the body", async () => {
    const pool = await serve((_request, response) => {
      response.writeHead(200, { "content-length": "10" });
      response.write("12345");
    });
    const error = await rejection(requestText(pool, get, new DeadlineQueue(50)));

    expect(error.name).toBe("TimeoutError");
  });

  it("times out a request waiting for a connection", async () => {
    let received = 0;
    const pool = await serve(async (_request, response) => {
      received += 1;
      await sleep(150);
      response.end("slow");
    }, 1);
    const deadlines = new DeadlineQueue(60);
    const first = requestText(pool, get, new DeadlineQueue(1000));
    const second = rejection(requestText(pool, get, deadlines));

    expect((await first).body).toBe("slow");
    expect((await second).name).toBe("TimeoutError");
    expect(received).toBe(1);
  });

  it("passes on connection errors", async () => {
    const pool = await serve((request) => {
      request.socket.destroy();
    });
    const error = await rejection(requestText(pool, get, new DeadlineQueue(1000)));

    expect(error.name).not.toBe("TimeoutError");
    expect((error as { code?: string }).code).toMatch(/^UND_ERR/);
  });

  it("rejects on a closed pool", async () => {
    const pool = new Pool("http://127.0.0.1:1");

    await pool.close();

    const error = await rejection(requestText(pool, get, new DeadlineQueue(1000)));

    expect((error as { code?: string }).code).toBe("UND_ERR_DESTROYED");
  });

  it("rejects when dispatch throws", async () => {
    const thrown = new Error("dispatch failed");
    const dispatcher = {
      dispatch: () => {
        throw thrown;
      },
    } as unknown as Pool;
    const error = await rejection(requestText(dispatcher, get, new DeadlineQueue(1000)));

    expect(error).toBe(thrown);
  });

  it("aborts an oversized MockAgent reply", async () => {
    const agent = new MockAgent();

    agent.disableNetConnect();
    agent
      .get("https://api.example")
      .intercept({ path: "/messages", method: "POST" })
      .reply(200, Buffer.alloc(MAX_RESPONSE_BYTES + 1, 0x61));
    cleanups.push(() => agent.close());

    const error = await rejection(
      requestText(
        agent,
        { origin: "https://api.example", path: "/messages", method: "POST", body: "a=1" },
        new DeadlineQueue(1000),
      ),
    );

    expect((error as { code?: string }).code).toBe("UND_ERR_RES_EXCEEDED_MAX_SIZE");
    expect(error.message).toContain(`longer than ${MAX_RESPONSE_BYTES} bytes`);
  });

  it("reads parsed headers without rawHeaders", async () => {
    const dispatcher = {
      dispatch(_options: Dispatcher.DispatchOptions, handler: Dispatcher.DispatchHandler) {
        const controller = {
          aborted: false,
          paused: false,
          reason: null,
          abort: (reason: Error) => handler.onResponseError?.(controller, reason),
          pause: () => {},
          resume: () => {},
        };

        handler.onRequestStart?.(controller, {});
        handler.onResponseStart?.(controller, 200, { "x-id": "7", "set-cookie": ["a=1", "b=2"] });
        handler.onResponseData?.(controller, Buffer.from("ok"));
        handler.onResponseEnd?.(controller, {});

        return true;
      },
    } as unknown as Dispatcher;
    const response = await requestText(dispatcher, get, new DeadlineQueue(1000));

    expect(response.status).toBe(200);
    expect(response.body).toBe("ok");
    expect(headerValue(response.rawHeaders, "x-id")).toBe("7");
    expect(headerValue(response.rawHeaders, "set-cookie")).toBe("a=1");
  });

  it("works through a MockAgent", async () => {
    const agent = new MockAgent();

    agent.disableNetConnect();
    agent
      .get("https://api.example")
      .intercept({ path: "/messages", method: "POST" })
      .reply(201, "created", { headers: { "x-id": "42" } });
    cleanups.push(() => agent.close());

    const response = await requestText(
      agent,
      { origin: "https://api.example", path: "/messages", method: "POST", body: "a=1" },
      new DeadlineQueue(1000),
    );

    expect(response.status).toBe(201);
    expect(response.body).toBe("created");
    expect(headerValue(response.rawHeaders, "x-id")).toBe("42");
  });
});
