import { createHmac } from "node:crypto";
import { mkdtemp, rm } from "node:fs/promises";
import { createServer, type IncomingHttpHeaders, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import Database from "better-sqlite3";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import {
  type Forwarder,
  retryDelayMs,
  signForwardBody,
  startForwarder,
  verifyForwardSignature,
} from "../src/cli/forward.js";
import { MemoryOptOutStore } from "../src/consent/memory.js";
import type { OptOutStore, OutboxStore } from "../src/consent/types.js";
import * as library from "../src/index.js";
import type { Logger } from "../src/logger.js";
import { openSqliteStore } from "../src/stores/sqlite.js";

const secret = "forward-test-secret";

interface LogEntry {
  level: "debug" | "info" | "warn" | "error";
  object: Record<string, unknown>;
  message: string | undefined;
}

function recordingLogger(): Logger & { entries: LogEntry[] } {
  const entries: LogEntry[] = [];
  const at =
    (level: LogEntry["level"]) =>
    (object: Record<string, unknown>, message?: string): void => {
      entries.push({ level, object, message });
    };
  return { entries, debug: at("debug"), info: at("info"), warn: at("warn"), error: at("error") };
}

interface Received {
  headers: IncomingHttpHeaders;
  body: string;
}

interface App {
  url: string;
  port: number;
  received: Received[];
  close(): Promise<void>;
}

type Responder = (request: Received, index: number) => number | Promise<number>;

/** Starts a receiving app on 127.0.0.1 that responds with `respond`'s status. */
async function startApp(respond: Responder, port = 0): Promise<App> {
  const received: Received[] = [];
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (chunk: Buffer) => chunks.push(chunk));
    req.on("end", async () => {
      const request = { headers: req.headers, body: Buffer.concat(chunks).toString("utf8") };
      const index = received.push(request) - 1;
      res.writeHead(await respond(request, index));
      res.end();
    });
  });
  await new Promise<void>((resolve) => server.listen(port, "127.0.0.1", resolve));
  const actual = (server.address() as AddressInfo).port;

  return {
    url: `http://127.0.0.1:${actual}/smsgate-events`,
    port: actual,
    received,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** Returns a port that nothing listens on (it was just free). */
async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

async function waitFor(condition: () => boolean, what: string): Promise<void> {
  for (let waited = 0; !condition(); waited += 20) {
    if (waited > 15_000) {
      throw new Error(`timed out waiting for ${what}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

async function enqueue(store: OptOutStore, id: string, type: string, payload: string) {
  await store.commitWebhook({
    id: `receipt-${id}`,
    provider: "test",
    events: [],
    outbox: [{ id, type, payload }],
    receivedAt: new Date(),
  });
}

let apps: App[] = [];
let forwarders: Forwarder[] = [];
let stores: Array<OptOutStore & OutboxStore> = [];
let directory: string;

beforeEach(async () => {
  directory = await mkdtemp(join(tmpdir(), "smsgate-forward-"));
});

afterEach(async () => {
  await Promise.all(forwarders.map((forwarder) => forwarder.stop()));
  await Promise.all(apps.map((app) => app.close()));
  await Promise.all(stores.map((store) => store.close()));
  await rm(directory, { recursive: true, force: true });
  apps = [];
  forwarders = [];
  stores = [];
});

function memoryStore(): MemoryOptOutStore {
  const store = new MemoryOptOutStore();
  stores.push(store);
  return store;
}

function sqliteStore(): ReturnType<typeof openSqliteStore> {
  const store = openSqliteStore({ path: join(directory, "forward.db") });
  stores.push(store);
  return store;
}

function start(
  store: OutboxStore,
  url: string,
  logger: Logger = recordingLogger(),
  overrides: { maxAttempts?: number; intervalMs?: number } = {},
): Forwarder {
  const forwarder = startForwarder(store, {
    url,
    secret,
    maxAttempts: overrides.maxAttempts ?? 5,
    timeoutMs: 2000,
    logger,
    intervalMs: overrides.intervalMs ?? 50,
  });
  forwarders.push(forwarder);
  return forwarder;
}

describe("forwarder delivery", () => {
  it("posts a signed event", async () => {
    const app = await startApp(() => 204);
    apps.push(app);
    const store = memoryStore();
    await enqueue(store, "evt-1", "opt-out", '{"phone":"+14155550143"}');

    const forwarder = start(store, app.url);
    await waitFor(() => app.received.length === 1, "one delivery");
    await forwarder.stop();

    const [request] = app.received;
    expect(JSON.parse(request?.body ?? "")).toEqual({
      id: "evt-1",
      type: "opt-out",
      data: { phone: "+14155550143" },
      attempt: 1,
    });
    expect(request?.headers["content-type"]).toBe("application/json");
    expect(request?.headers["x-smsgate-event-id"]).toBe("evt-1");
    expect(request?.headers["x-smsgate-event-type"]).toBe("opt-out");
    const signature = request?.headers["x-smsgate-signature"] as string;
    expect(signature).toMatch(/^t=\d+,v1=[0-9a-f]{64}$/);
    expect(verifyForwardSignature(secret, signature, request?.body ?? "")).toBe(true);
    expect(verifyForwardSignature("other-secret", signature, request?.body ?? "")).toBe(false);
    expect(await store.claimOutbox(10, 1000)).toEqual([]);
  });

  it("retries after a 500", async () => {
    const app = await startApp((_request, index) => (index === 0 ? 500 : 200));
    apps.push(app);
    const store = memoryStore();
    const logger = recordingLogger();
    await enqueue(store, "evt-2", "inbound", '{"text":"STOP"}');

    const forwarder = start(store, app.url, logger);
    await waitFor(() => app.received.length === 2, "a retry");
    await forwarder.stop();

    const bodies = app.received.map((request) => JSON.parse(request.body));
    expect(bodies.map((body) => body.id)).toEqual(["evt-2", "evt-2"]);
    expect(bodies.map((body) => body.attempt)).toEqual([1, 2]);
    for (const request of app.received) {
      const header = request.headers["x-smsgate-signature"] as string;
      expect(verifyForwardSignature(secret, header, request.body)).toBe(true);
    }
    const warning = logger.entries.find((entry) => entry.level === "warn");
    expect(warning?.object.error).toBe("HTTP 500");
    expect(warning?.object.eventId).toBe("evt-2");
    expect(await store.claimOutbox(10, 1000)).toEqual([]);
  });

  it("loses nothing while the app is down", async () => {
    const port = await freePort();
    const store = sqliteStore();
    const logger = recordingLogger();
    for (const id of ["a", "b", "c"]) {
      await enqueue(store, `evt-${id}`, "inbound", `{"n":"${id}"}`);
    }

    const forwarder = start(store, `http://127.0.0.1:${port}/smsgate-events`, logger);
    const refused = () => logger.entries.filter((entry) => entry.level === "warn");
    await waitFor(() => refused().length >= 3, "three refused posts");
    const app = await startApp(() => 200, port);
    apps.push(app);
    await waitFor(() => app.received.length >= 3, "three deliveries");
    await forwarder.stop();

    expect(String(refused()[0]?.object.error)).toContain("ECONNREFUSED");
    const ids = app.received.map((request) => JSON.parse(request.body).id).sort();
    expect(ids).toEqual(["evt-a", "evt-b", "evt-c"]);
    expect(await store.claimOutbox(10, 1000)).toEqual([]);
  });

  it("keeps an event after the last attempt", async () => {
    const app = await startApp(() => 503);
    apps.push(app);
    const store = sqliteStore();
    const logger = recordingLogger();
    await enqueue(store, "evt-3", "delivery-report", '{"status":"failed"}');

    const forwarder = start(store, app.url, logger, { maxAttempts: 1 });
    await waitFor(() => logger.entries.some((entry) => entry.level === "error"), "an error");
    await forwarder.stop();

    const error = logger.entries.find((entry) => entry.level === "error");
    expect(error?.object.eventId).toBe("evt-3");
    expect(error?.object.maxAttempts).toBe(1);
    expect(app.received).toHaveLength(1);
    expect(await store.claimOutbox(10, 1000)).toEqual([]);
    const db = new Database(join(directory, "forward.db"), { readonly: true });
    const rows = db.prepare("SELECT id, attempts, last_error FROM outbox").all();
    db.close();
    expect(rows).toEqual([{ id: "evt-3", attempts: 1, last_error: "HTTP 503" }]);
  });

  it("keeps a payload that is not JSON", async () => {
    const app = await startApp(() => 200);
    apps.push(app);
    const store = sqliteStore();
    const logger = recordingLogger();
    await enqueue(store, "evt-bad", "inbound", "not json");

    const forwarder = start(store, app.url, logger);
    await waitFor(() => logger.entries.some((entry) => entry.level === "error"), "an error");
    await forwarder.stop();

    expect(app.received).toHaveLength(0);
    const db = new Database(join(directory, "forward.db"), { readonly: true });
    const rows = db.prepare("SELECT id, last_error FROM outbox").all();
    db.close();
    expect(rows).toEqual([{ id: "evt-bad", last_error: "payload is not valid JSON" }]);
  });

  it("delivers on poke", async () => {
    const app = await startApp(() => 200);
    apps.push(app);
    const store = memoryStore();
    const forwarder = start(store, app.url, recordingLogger(), { intervalMs: 3_600_000 });

    await enqueue(store, "evt-4", "opt-in", "{}");
    forwarder.poke();
    await waitFor(() => app.received.length === 1, "the poked delivery");

    expect(JSON.parse(app.received[0]?.body ?? "").id).toBe("evt-4");
  });

  it("stop waits for posts in flight", async () => {
    let release: () => void = () => {};
    const held = new Promise<void>((resolve) => {
      release = resolve;
    });
    const app = await startApp(async () => {
      await held;
      return 200;
    });
    apps.push(app);
    const store = memoryStore();
    await enqueue(store, "evt-5", "inbound", "{}");

    const forwarder = start(store, app.url);
    await waitFor(() => app.received.length === 1, "the post to start");
    let stopped = false;
    const stopping = forwarder.stop().then(() => {
      stopped = true;
    });
    await new Promise((resolve) => setTimeout(resolve, 50));
    const stoppedWhileHeld = stopped;
    release();
    await stopping;

    expect(stoppedWhileHeld).toBe(false);
    expect(await store.claimOutbox(10, 1000)).toEqual([]);
  });
});

describe("retryDelayMs", () => {
  const middle = () => 0.5;

  it("doubles from one second", () => {
    expect(retryDelayMs(1, 0, middle)).toBe(1000);
    expect(retryDelayMs(2, 0, middle)).toBe(2000);
    expect(retryDelayMs(3, 0, middle)).toBe(4000);
    expect(retryDelayMs(9, 0, middle)).toBe(256_000);
  });

  it("caps at five minutes", () => {
    expect(retryDelayMs(10, 0, middle)).toBe(300_000);
    expect(retryDelayMs(1000, 0, () => 1)).toBe(300_000);
  });

  it("varies by a quarter", () => {
    expect(retryDelayMs(2, 0, () => 0)).toBe(1500);
    expect(retryDelayMs(2, 0, () => 1)).toBe(2500);
  });

  it("honours a longer Retry-After", () => {
    expect(retryDelayMs(1, 30_000, middle)).toBe(30_000);
    expect(retryDelayMs(1, 3_600_000, middle)).toBe(300_000);
  });
});

describe("verifyForwardSignature", () => {
  const body = '{"id":"evt","type":"inbound","data":{},"attempt":1}';
  const now = () => Math.floor(Date.now() / 1000);

  it("accepts a fresh signature", () => {
    expect(verifyForwardSignature(secret, signForwardBody(secret, body), body)).toBe(true);
  });

  it("is exported by the package entry", () => {
    const header = library.signForwardBody(secret, body);

    expect(library.verifyForwardSignature(secret, header, body)).toBe(true);
    expect(library.verifyForwardSignature("other-secret", header, body)).toBe(false);
  });

  it("accepts bytes as the body", () => {
    const header = signForwardBody(secret, body);

    expect(verifyForwardSignature(secret, header, new TextEncoder().encode(body))).toBe(true);
  });

  it("matches an independent HMAC", () => {
    const timestamp = now();
    const digest = createHmac("sha256", secret).update(`${timestamp}.${body}`).digest("hex");

    expect(signForwardBody(secret, body, timestamp)).toBe(`t=${timestamp},v1=${digest}`);
  });

  it("accepts within the tolerance", () => {
    const header = signForwardBody(secret, body, now() - 250);

    expect(verifyForwardSignature(secret, header, body)).toBe(true);
  });

  it("rejects an old timestamp", () => {
    const header = signForwardBody(secret, body, now() - 400);

    expect(verifyForwardSignature(secret, header, body)).toBe(false);
    expect(verifyForwardSignature(secret, header, body, 600)).toBe(true);
  });

  it("rejects a future timestamp", () => {
    const header = signForwardBody(secret, body, now() + 400);

    expect(verifyForwardSignature(secret, header, body)).toBe(false);
  });

  it("rejects a tampered body", () => {
    const header = signForwardBody(secret, body);

    expect(verifyForwardSignature(secret, header, body.replace("inbound", "opt-in"))).toBe(false);
  });

  it("rejects a tampered timestamp", () => {
    const timestamp = now();
    const header = signForwardBody(secret, body, timestamp).replace(
      `t=${timestamp}`,
      `t=${timestamp - 1}`,
    );

    expect(verifyForwardSignature(secret, header, body)).toBe(false);
  });

  it("rejects a tampered signature", () => {
    const header = signForwardBody(secret, body);
    const last = header.at(-1) === "0" ? "1" : "0";

    expect(verifyForwardSignature(secret, `${header.slice(0, -1)}${last}`, body)).toBe(false);
  });

  it("rejects malformed headers", () => {
    const valid = signForwardBody(secret, body);
    const v1 = valid.split(",")[1] ?? "";

    for (const header of [undefined, "", "garbage", v1, `t=abc,${v1}`, `t=${now()}`]) {
      expect(verifyForwardSignature(secret, header, body)).toBe(false);
    }
  });

  it("throws for a parsed body", () => {
    const header = signForwardBody(secret, body);
    const parsed: unknown = JSON.parse(body);
    const check = () => verifyForwardSignature(secret, header, parsed as string);

    expect(check).toThrow(TypeError);
    expect(check).toThrow("raw request body as a string or bytes");
    expect(check).toThrow("before JSON parsing, but received an object");
  });

  it("throws for other body types", () => {
    const cases: Array<[unknown, string]> = [
      [undefined, "received undefined"],
      [null, "received null"],
      [[1, 2], "received an array"],
      [42, "received a number"],
    ];

    for (const [rawBody, described] of cases) {
      for (const header of [signForwardBody(secret, body), undefined]) {
        const check = () => verifyForwardSignature(secret, header, rawBody as string);

        expect(check).toThrow(TypeError);
        expect(check).toThrow(described);
      }
    }
  });

  it("accepts a Buffer as the body", () => {
    const header = signForwardBody(secret, body);

    expect(verifyForwardSignature(secret, header, Buffer.from(body))).toBe(true);
  });

  it("accepts any matching v1", () => {
    const valid = signForwardBody(secret, body);
    const rotated = valid.replace("v1=", `v1=${"0".repeat(64)},v1=`);

    expect(verifyForwardSignature(secret, rotated, body)).toBe(true);
  });
});
