import { randomBytes } from "node:crypto";
import net, { type AddressInfo } from "node:net";
import pg, { type PoolClient } from "pg";
import { afterAll, afterEach, beforeEach, describe, expect, it } from "vitest";
import { twilio } from "../providers/twilio/index.js";
import type { ConsentEvent, WebhookReceipt } from "../src/consent/types.js";
import { isConfigError, isConsentCheckError, isStoreError } from "../src/errors.js";
import { Gateway } from "../src/gateway/gateway.js";
import type { Logger } from "../src/logger.js";
import { MAX_TRANSACTION_ATTEMPTS, retryConflicts } from "../src/stores/postgres/connection.js";
import { quoteIdentifier } from "../src/stores/postgres/options.js";
import {
  isStoreMissingError,
  openPostgresStore,
  type PostgresOptOutStore,
  type PostgresStoreOptions,
  SCHEMA_VERSION,
  type StoreMissingError,
} from "../src/stores/postgres.js";
import { FakeProvider } from "../src/testing/fake-provider.js";
import { describeOptOutStore } from "../src/testing/store-suite.js";
import {
  buildTwilioInbound,
  signedTwilioRequest,
  TEST_TWILIO_ACCOUNT_SID,
} from "../src/testing/twilio.js";
import { rejection } from "./support/rejection.js";

const DEFAULT_URL = "postgres://postgres@127.0.0.1:5432/test";
const TEST_URL = process.env.SMSGATE_TEST_POSTGRES_URL ?? DEFAULT_URL;
const SENDER = "+12025550100";
const BASE_TIME = Date.UTC(2025, 0, 15, 10, 0, 0);

// One connection pool of the test itself, for setup and inspection behind the store's back.
const admin = new pg.Pool({ connectionString: TEST_URL, max: 4 });

afterAll(async () => {
  await admin.end();
});

function freshSchema(): string {
  return `smsgate_test_${randomBytes(6).toString("hex")}`;
}

async function dropSchema(schema: string): Promise<void> {
  await admin.query(`DROP SCHEMA IF EXISTS ${quoteIdentifier(schema)} CASCADE`);
}

describeOptOutStore("PostgresOptOutStore", async () => {
  const schema = freshSchema();
  const store = await openPostgresStore({ url: TEST_URL, schema });

  return { store, cleanup: () => dropSchema(schema) };
});

let counter = 0;

function event(phone: string, fields: Partial<ConsentEvent> = {}): ConsentEvent {
  counter += 1;
  return {
    id: `pg-test:${counter}`,
    phone,
    action: "opt-out",
    sender: SENDER,
    source: "keyword",
    occurredAt: new Date(BASE_TIME),
    ...fields,
  };
}

function receipt(id: string, fields: Partial<WebhookReceipt> = {}): WebhookReceipt {
  return { id, provider: "twilio", events: [], outbox: [], receivedAt: new Date(), ...fields };
}

function phoneNumber(index: number): string {
  return `+1202${String(5_550_000 + index).padStart(7, "0")}`;
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

// Polls `condition` every 10 ms, at most 1000 times, and fails when it never holds.
async function waitFor(what: string, condition: () => boolean | Promise<boolean>) {
  for (let attempt = 0; attempt < 1000; attempt += 1) {
    if (await condition()) {
      return;
    }

    await sleep(10);
  }

  throw new Error(`timed out waiting for ${what}`);
}

// Waits until `count` sessions named `applicationName` wait for a lock on the server.
async function waitForLockWaits(applicationName: string, count: number): Promise<void> {
  await waitFor(`${count} lock waits of ${applicationName}`, async () => {
    const result = await admin.query<{ waiting: number }>(
      `SELECT count(*)::integer AS waiting FROM pg_stat_activity
        WHERE application_name = $1 AND wait_event_type = 'Lock'`,
      [applicationName],
    );

    return (result.rows[0]?.waiting ?? 0) >= count;
  });
}

// Opens a transaction of the test's own and runs `sql` in it. endTransaction() ends it.
async function holdTransaction(sql: string, values: unknown[]): Promise<PoolClient> {
  const client = await admin.connect();
  await client.query("BEGIN");
  await client.query(sql, values);

  return client;
}

async function endTransaction(client: PoolClient, command: "COMMIT" | "ROLLBACK") {
  await client.query(command);
  client.release();
}

async function findFreePort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));

  return port;
}

function urlWithPort(port: number, password?: string): string {
  const url = new URL(TEST_URL);
  url.host = `127.0.0.1:${port}`;
  if (password !== undefined) {
    url.password = password;
  }

  return url.toString();
}

/**
 * A TCP proxy on 127.0.0.1 in front of the test server. `cut()` closes every connection
 * and stops listening, `stall()` keeps connections open but forwards nothing, and
 * `resume()` drops what is left and forwards new connections again on the same port.
 */
class TcpProxy {
  readonly #upstream: { host: string; port: number };
  readonly #sockets = new Set<net.Socket>();
  #server: net.Server | undefined;
  #stalled = false;
  port = 0;

  constructor() {
    const target = new URL(TEST_URL);
    this.#upstream = { host: target.hostname, port: Number(target.port || 5432) };
  }

  get url(): string {
    return urlWithPort(this.port);
  }

  async listen(): Promise<void> {
    const server = net.createServer((socket) => this.#accept(socket));
    await new Promise<void>((resolve, reject) => {
      server.once("error", reject);
      server.listen(this.port, "127.0.0.1", resolve);
    });

    this.port = (server.address() as AddressInfo).port;
    this.#server = server;
  }

  stall(): void {
    this.#stalled = true;
    for (const socket of this.#sockets) {
      socket.pause();
    }
  }

  async cut(): Promise<void> {
    const server = this.#server;
    this.#server = undefined;
    this.#dropAll();

    if (server !== undefined) {
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
  }

  async resume(): Promise<void> {
    this.#stalled = false;
    this.#dropAll();

    if (this.#server === undefined) {
      await this.listen();
    }
  }

  #dropAll(): void {
    for (const socket of this.#sockets) {
      socket.destroy();
    }
  }

  #track(socket: net.Socket): void {
    this.#sockets.add(socket);
    socket.on("close", () => this.#sockets.delete(socket));
    socket.on("error", () => socket.destroy());
  }

  #accept(client: net.Socket): void {
    this.#track(client);
    if (this.#stalled) {
      client.pause();
      return;
    }

    const upstream = net.connect(this.#upstream.port, this.#upstream.host);
    this.#track(upstream);
    client.on("data", (chunk) => upstream.write(chunk));
    upstream.on("data", (chunk) => client.write(chunk));
    client.on("close", () => upstream.destroy());
    upstream.on("close", () => client.destroy());
  }
}

function recordingLogger(): Logger & { warnings: unknown[] } {
  const warnings: unknown[] = [];
  const ignore = () => {};

  return {
    debug: ignore,
    info: ignore,
    error: ignore,
    warn: (entry) => warnings.push(entry),
    warnings,
  };
}

describe("PostgresOptOutStore on a server", () => {
  let schema: string;
  let quoted: string;
  const opened: PostgresOptOutStore[] = [];
  const schemas: string[] = [];
  const proxies: TcpProxy[] = [];

  async function open(options: Partial<PostgresStoreOptions> = {}) {
    const store = await openPostgresStore({ url: TEST_URL, schema, ...options });
    opened.push(store);
    return store;
  }

  async function startProxy(): Promise<TcpProxy> {
    const proxy = new TcpProxy();
    await proxy.listen();
    proxies.push(proxy);
    return proxy;
  }

  async function count(table: string): Promise<number> {
    const result = await admin.query<{ rows: number }>(
      `SELECT count(*)::integer AS rows FROM ${quoted}.${table}`,
    );
    return result.rows[0]?.rows ?? -1;
  }

  beforeEach(() => {
    schema = freshSchema();
    quoted = quoteIdentifier(schema);
    schemas.push(schema);
  });

  afterEach(async () => {
    for (const store of opened.splice(0)) {
      await store.close();
    }

    for (const proxy of proxies.splice(0)) {
      await proxy.cut();
    }

    for (const name of schemas.splice(0)) {
      await dropSchema(name);
    }
  });

  it("two pools commit a receipt once", async () => {
    const first = await open();
    const second = await open();

    for (let round = 0; round < 10; round += 1) {
      const webhook = receipt(`twilio:AC1:SM${round}`, {
        events: [event(phoneNumber(round))],
        outbox: [{ id: `m${round}`, type: "inbound", payload: "{}" }],
      });

      const results = await Promise.all([
        first.commitWebhook(structuredClone(webhook)),
        second.commitWebhook(structuredClone(webhook)),
      ]);

      expect(results.filter((result) => !result.duplicate)).toHaveLength(1);
    }

    expect(await count("consent_events")).toBe(10);
    expect(await count("webhook_receipts")).toBe(10);
    expect(await first.claimOutbox(100, 60_000)).toHaveLength(10);
    expect(await second.claimOutbox(100, 60_000)).toEqual([]);
  });

  it("second receipt waits on the unique key", async () => {
    const applicationName = `smsgate-test-${schema}`;
    const first = await open({ applicationName });
    const second = await open({ applicationName });
    const phone = phoneNumber(1);
    const webhook = receipt("twilio:AC1:SMwait", { events: [event(phone)] });
    // A transaction of the test inserts the receipt id, so both commits wait on the key.
    const holder = await holdTransaction(
      `INSERT INTO ${quoted}.webhook_receipts (id, provider, received_at, committed_at)
        VALUES ($1, 'twilio', now(), now())`,
      [webhook.id],
    );

    const commits = Promise.all([
      first.commitWebhook(structuredClone(webhook)),
      second.commitWebhook(structuredClone(webhook)),
    ]);
    await waitForLockWaits(applicationName, 2);
    await endTransaction(holder, "ROLLBACK");
    const results = await commits;

    expect(results.filter((result) => !result.duplicate)).toHaveLength(1);
    expect(results.filter((result) => result.duplicate)).toHaveLength(1);
    expect(await first.history(phone)).toHaveLength(1);
    expect(await count("consent_events")).toBe(1);
  });

  it("concurrent STOP and START end opted-in", async () => {
    const applicationName = `smsgate-test-${schema}`;
    const first = await open({ applicationName });
    const second = await open({ applicationName });

    for (let round = 0; round < 24; round += 1) {
      for (const stopArrivesFirst of [true, false]) {
        const phone = phoneNumber(round * 2 + (stopArrivesFirst ? 0 : 1));
        const earlier = new Date(BASE_TIME - 3_600_000);
        await first.record(event(phone, { action: "opt-in", occurredAt: earlier }));
        const stop = event(phone, { occurredAt: new Date(BASE_TIME) });
        const start = event(phone, { action: "opt-in", occurredAt: new Date(BASE_TIME + 60_000) });
        const [early, late] = stopArrivesFirst ? [stop, start] : [start, stop];

        // The test locks the phone's state rows, so both writes insert their events and then
        // wait for the same rows. After the commit they go on in the order they arrived.
        const holder = await holdTransaction(
          `SELECT 1 FROM ${quoted}.consent_by_sender WHERE phone = $1 FOR UPDATE`,
          [phone],
        );
        const writeEarly =
          round % 2 === 0
            ? first.record(early)
            : first.commitWebhook(receipt(`r:${early.id}`, { events: [early] }));
        await waitForLockWaits(applicationName, 1);
        const writeLate =
          round % 2 === 0
            ? second.record(late)
            : second.commitWebhook(receipt(`r:${late.id}`, { events: [late] }));
        await waitForLockWaits(applicationName, 2);
        await endTransaction(holder, "COMMIT");
        await Promise.all([writeEarly, writeLate]);

        const label = `round ${round}, STOP first: ${stopArrivesFirst}`;
        expect(await first.isOptedOut(phone), label).toBe(false);
        expect(await second.isOptedOut(phone, SENDER), label).toBe(false);
        expect((await second.getState(phone)).lastEvent?.id, label).toBe(start.id);
        expect(await first.filterOptedOut([phone]), label).toEqual(new Set());
        expect(await second.history(phone), label).toHaveLength(3);
      }
    }
  });

  it("two pools never share a claim", async () => {
    const first = await open();
    const second = await open();
    for (let batch = 0; batch < 4; batch += 1) {
      const outbox = Array.from({ length: 30 }, (_, index) => ({
        id: `m${batch * 30 + index}`,
        type: "inbound",
        payload: "{}",
      }));
      await first.commitWebhook(receipt(`r${batch}`, { outbox }));
    }

    const claimed: string[] = [];
    for (let round = 0; round < 100; round += 1) {
      const [a, b] = await Promise.all([
        first.claimOutbox(7, 60_000),
        second.claimOutbox(7, 60_000),
      ]);
      claimed.push(...a.map((entry) => entry.id), ...b.map((entry) => entry.id));
      if (a.length === 0 && b.length === 0) {
        break;
      }
    }

    expect(claimed).toHaveLength(120);
    expect(new Set(claimed).size).toBe(120);
  });

  it("claim skips rows locked elsewhere", async () => {
    const store = await open();
    const outbox = ["m1", "m2", "m3"].map((id) => ({ id, type: "inbound", payload: "{}" }));
    await store.commitWebhook(receipt("r1", { outbox }));
    const holder = await holdTransaction(
      `SELECT 1 FROM ${quoted}.outbox WHERE id = 'm1' FOR UPDATE`,
      [],
    );

    const whileLocked = await store.claimOutbox(10, 60_000);
    await endTransaction(holder, "COMMIT");
    const afterwards = await store.claimOutbox(10, 60_000);

    expect(whileLocked.map((entry) => entry.id)).toEqual(["m2", "m3"]);
    expect(afterwards.map((entry) => entry.id)).toEqual(["m1"]);
  });

  it("stores opening together migrate once", async () => {
    const applicationName = `smsgate-test-${schema}`;
    // The test takes the migration lock, so every opening store waits for it.
    const holder = await holdTransaction(
      "SELECT pg_advisory_xact_lock(hashtext('smsgate.migrate.' || $1))",
      [schema],
    );

    const opening = Promise.all([1, 2, 3].map(() => open({ applicationName })));
    await waitForLockWaits(applicationName, 3);
    await endTransaction(holder, "COMMIT");
    const [first, second, third] = await opening;
    await first?.record(event(phoneNumber(1)));
    const versions = await admin.query<{ version: number }>(
      `SELECT version FROM ${quoted}.schema_migrations ORDER BY version`,
    );

    expect(versions.rows.map((row) => row.version)).toEqual(
      Array.from({ length: SCHEMA_VERSION }, (_, index) => index + 1),
    );
    expect(await second?.isOptedOut(phoneNumber(1))).toBe(true);
    expect(await third?.isOptedOut(phoneNumber(1))).toBe(true);
  });

  it("reopening keeps everything", async () => {
    const first = await open();
    const stop = event(phoneNumber(1), { messageId: "SM1", keyword: "STOP", text: "STOP" });
    await first.record(stop);
    await first.commitWebhook(receipt("r1", { outbox: [{ id: "m1", type: "a", payload: "{}" }] }));
    await first.close();
    const before = await admin.query(`SELECT * FROM ${quoted}.schema_migrations`);

    const second = await open();
    const after = await admin.query(`SELECT * FROM ${quoted}.schema_migrations`);

    expect(await second.history(stop.phone)).toMatchObject([stop]);
    expect(await second.isOptedOut(stop.phone)).toBe(true);
    expect(await second.commitWebhook(receipt("r1"))).toEqual({ duplicate: true });
    expect((await second.claimOutbox(10, 60_000)).map((entry) => entry.id)).toEqual(["m1"]);
    expect(after.rows).toEqual(before.rows);
  });

  it("migrates a version 1 schema with its data", async () => {
    const first = await open();
    await first.record(event(phoneNumber(1)));
    await first.close();
    await admin.query(
      `DROP TABLE ${quoted}.webhook_nonces, ${quoted}.store_health, ${quoted}.store_settings`,
    );
    await admin.query(`DELETE FROM ${quoted}.schema_migrations WHERE version > 1`);

    const second = await open();
    const versions = await admin.query<{ version: number }>(
      `SELECT version FROM ${quoted}.schema_migrations ORDER BY version`,
    );

    expect(versions.rows.map((row) => row.version)).toEqual([1, 2]);
    expect(await second.isOptedOut(phoneNumber(1))).toBe(true);
    expect(await second.findNonce("test", "n-1")).toBeUndefined();
    await expect(second.checkHealth()).resolves.toBeUndefined();
  });

  it("rejects a newer schema version", async () => {
    await (await open()).close();
    await admin.query(
      `INSERT INTO ${quoted}.schema_migrations (version, description) VALUES ($1, 'future')`,
      [SCHEMA_VERSION + 1],
    );

    const error = await rejection(open());

    expect(isStoreError(error)).toBe(true);
    expect((error as Error).message).toContain(`schema version ${SCHEMA_VERSION + 1}`);
    expect((error as Error).message).toContain(`versions 1 to ${SCHEMA_VERSION}`);
    expect((error as Error).message).toContain(schema);
  });

  it("unreachable server names host and port", async () => {
    const port = await findFreePort();
    const url = urlWithPort(port, "s3cret-word");

    const error = await rejection(open({ url, connectTimeoutMs: 2000 }));

    expect(isStoreError(error)).toBe(true);
    const message = (error as Error).message;
    expect(message).toContain(`127.0.0.1:${port}`);
    expect(message).toContain("Check that PostgreSQL is running");
    expect(message).not.toContain("s3cret-word");
    expect((error as Error).cause).toBeDefined();
  });

  it("cut connection rejects, then recovers", async () => {
    const proxy = await startProxy();
    const logger = recordingLogger();
    const store = await open({ url: proxy.url, connectTimeoutMs: 1000, logger });
    const phone = phoneNumber(1);
    await store.record(event(phone));

    await proxy.cut();
    await waitFor("the pool's error event", () => logger.warnings.length > 0);
    const readError = await rejection(store.isOptedOut(phone));
    const writeError = await rejection(store.record(event(phoneNumber(2))));
    const commitError = await rejection(store.commitWebhook(receipt("r1")));
    await proxy.resume();

    for (const [operation, error] of [
      ["isOptedOut", readError],
      ["record", writeError],
      ["commitWebhook", commitError],
    ] as const) {
      expect(isStoreError(error), operation).toBe(true);
      expect((error as Error).message, operation).toContain(`${operation} failed`);
      expect((error as Error).cause, operation).toBeDefined();
    }
    expect(await store.isOptedOut(phone)).toBe(true);
    expect(await store.record(event(phoneNumber(2)))).toEqual({ recorded: true });
    expect(await store.commitWebhook(receipt("r1"))).toEqual({ duplicate: false });
  });

  it("cut inside a transaction rolls back", async () => {
    const proxy = await startProxy();
    const applicationName = `smsgate-test-${schema}`;
    const store = await open({ url: proxy.url, connectTimeoutMs: 1000, applicationName });
    const phone = phoneNumber(1);
    await store.record(event(phone, { action: "opt-in" }));
    const webhook = receipt("r1", { events: [event(phone, { occurredAt: new Date() })] });
    const holder = await holdTransaction(
      `SELECT 1 FROM ${quoted}.consent_by_sender WHERE phone = $1 FOR UPDATE`,
      [phone],
    );

    const commit = rejection(store.commitWebhook(webhook));
    await waitForLockWaits(applicationName, 1);
    await proxy.cut();
    const error = await commit;
    await endTransaction(holder, "ROLLBACK");
    await proxy.resume();

    expect(isStoreError(error)).toBe(true);
    expect((error as Error).message).toContain("commitWebhook failed");
    expect(await store.commitWebhook(webhook)).toEqual({ duplicate: false });
    expect(await store.history(phone)).toHaveLength(2);
    expect(await store.isOptedOut(phone)).toBe(true);
  });

  it("stalled connection times out", async () => {
    const proxy = await startProxy();
    const options = { url: proxy.url, connectTimeoutMs: 300, statementTimeoutMs: 300 };
    const store = await open(options);
    const phone = phoneNumber(1);
    await store.record(event(phone));

    proxy.stall();
    // The first read goes out on the idle connection and gets no response. The second needs
    // a new connection, whose start-up gets no response.
    const onIdle = await rejection(store.isOptedOut(phone));
    const onNew = await rejection(store.isOptedOut(phone));
    await proxy.resume();

    expect(isStoreError(onIdle)).toBe(true);
    expect((onIdle as Error).message).toContain("isOptedOut failed");
    expect(isStoreError(onNew)).toBe(true);
    expect(await store.isOptedOut(phone)).toBe(true);
  });

  it("gateway refuses sends while cut", async () => {
    const proxy = await startProxy();
    const store = await open({ url: proxy.url, connectTimeoutMs: 1000 });
    const provider = new FakeProvider();
    const gateway = new Gateway({ providers: [provider], store });

    await proxy.cut();
    const error = await rejection(gateway.send({ to: "+12025550143", body: "hi" }));
    await proxy.resume();
    await gateway.send({ to: "+12025550143", body: "hi" });

    expect(isConsentCheckError(error)).toBe(true);
    expect(provider.sent).toHaveLength(1);
  });

  it("statement timeout names the option", async () => {
    const store = await open({ statementTimeoutMs: 200 });
    const phone = phoneNumber(1);
    await store.record(event(phone));
    const holder = await holdTransaction(
      `SELECT 1 FROM ${quoted}.consent_by_sender WHERE phone = $1 FOR UPDATE`,
      [phone],
    );

    const error = await rejection(store.record(event(phone, { action: "opt-in" })));
    await endTransaction(holder, "ROLLBACK");
    const retried = await store.record(event(phone, { action: "opt-in" }));

    expect(isStoreError(error)).toBe(true);
    expect((error as Error).message).toContain("record failed");
    expect((error as Error).message).toContain("statementTimeoutMs");
    expect((error as { cause?: { code?: string } }).cause?.code).toBe("57014");
    expect(retried).toEqual({ recorded: true });
    expect(await store.isOptedOut(phone)).toBe(false);
  });

  it("failed receipt writes nothing", async () => {
    const store = await open();
    const phone = phoneNumber(1);
    await admin.query(`CREATE FUNCTION ${quoted}.reject_outbox() RETURNS trigger
      LANGUAGE plpgsql AS $$ BEGIN RAISE EXCEPTION 'outbox full'; END $$`);
    await admin.query(`CREATE TRIGGER reject_outbox BEFORE INSERT ON ${quoted}.outbox
      FOR EACH ROW EXECUTE FUNCTION ${quoted}.reject_outbox()`);
    const webhook = receipt("r1", {
      events: [event(phone)],
      outbox: [{ id: "m1", type: "inbound", payload: "{}" }],
    });

    const error = await rejection(store.commitWebhook(webhook));
    await admin.query(`DROP TRIGGER reject_outbox ON ${quoted}.outbox`);
    const history = await store.history(phone);
    const retry = await store.commitWebhook(webhook);

    expect(isStoreError(error)).toBe(true);
    expect((error as Error).message).toContain("commitWebhook failed");
    expect((error as Error).message).toContain("outbox full");
    expect(history).toEqual([]);
    expect(retry).toEqual({ duplicate: false });
    expect(await store.isOptedOut(phone)).toBe(true);
  });

  it("history keeps receipt event order", async () => {
    const store = await open();
    const phone = phoneNumber(1);
    const events = [3, 1, 4, 1.5, 2].map((minute) =>
      event(phone, { occurredAt: new Date(BASE_TIME + minute * 60_000) }),
    );

    await store.commitWebhook(receipt("r1", { events }));
    const history = await store.history(phone);

    expect(history.map((stored) => stored.id)).toEqual(events.map((stored) => stored.id));
    expect((await store.getState(phone)).lastEvent?.id).toBe(events[2]?.id);
  });

  it("repeated ids in one receipt", async () => {
    const store = await open();
    const stop = event(phoneNumber(1));
    const message = { id: "m1", type: "inbound", payload: "{}" };

    const result = await store.commitWebhook(
      receipt("r1", { events: [stop, stop], outbox: [message, message] }),
    );

    expect(result).toEqual({ duplicate: false });
    expect(await store.history(stop.phone)).toHaveLength(1);
    expect(await store.claimOutbox(10, 60_000)).toHaveLength(1);
  });

  it("mixed-case schema is quoted", async () => {
    schema = `Smsgate_Test_${randomBytes(4).toString("hex")}`;
    schemas.push(schema);
    const store = await open();
    await store.record(event(phoneNumber(1)));

    const found = await admin.query("SELECT 1 FROM pg_namespace WHERE nspname = $1", [schema]);

    expect(found.rowCount).toBe(1);
    expect(await store.isOptedOut(phoneNumber(1))).toBe(true);
  });

  it("diagnostics show synchronous commit on", async () => {
    const store = await open({ statementTimeoutMs: 7000, applicationName: "smsgate-diag" });

    const settings = await store.diagnostics();

    expect(settings.synchronousCommit).toBe("on");
    expect(settings.statementTimeout).toBe("7s");
    expect(settings.applicationName).toBe("smsgate-diag");
    expect(settings.schemaVersion).toBe(SCHEMA_VERSION);
    expect(settings.schema).toBe(schema);
    expect(settings.target).toContain("/test");
  });

  it("given pool stays open on close", async () => {
    const pool = new pg.Pool({ connectionString: TEST_URL, max: 2 });
    const store = await openPostgresStore({ pool, schema });
    await store.record(event(phoneNumber(1)));

    await store.close();
    const error = await rejection(store.isOptedOut(phoneNumber(1)));
    const stillOpen = await pool.query("SELECT 1 AS one");
    await pool.end();

    expect(isStoreError(error)).toBe(true);
    expect((error as Error).message).toContain("closed");
    expect(stillOpen.rows[0]?.one).toBe(1);
  });

  it("close ends the store's pool", async () => {
    const applicationName = `smsgate-test-${schema}`;
    const store = await open({ applicationName });
    await store.record(event(phoneNumber(1)));

    await store.close();
    await store.close();

    await waitFor("the store's connections to end", async () => {
      const result = await admin.query(
        "SELECT 1 FROM pg_stat_activity WHERE application_name = $1",
        [applicationName],
      );
      return result.rowCount === 0;
    });
    expect(isStoreError(await rejection(store.record(event(phoneNumber(2)))))).toBe(true);
  });
});

describe("PostgresOptOutStore behind a gateway", () => {
  const schema = freshSchema();
  let store: PostgresOptOutStore | undefined;

  afterEach(async () => {
    await store?.close();
    await dropSchema(schema);
  });

  it("records a signed STOP whose text has U+0000", async () => {
    store = await openPostgresStore({ url: TEST_URL, schema });
    const authToken = "a".repeat(32);
    const provider = twilio({ accountSid: TEST_TWILIO_ACCOUNT_SID, authToken, from: SENDER });
    const gateway = new Gateway({ providers: [provider], store });
    const url = "https://example.test/webhooks/twilio/inbound";
    const { params } = buildTwilioInbound({ from: "+12025550702", to: SENDER, body: "STOP\u0000" });
    const request = signedTwilioRequest({ authToken, url, params });

    const answer = await gateway.handleWebhook("twilio", request, { kind: "inbound" });
    const repeat = await gateway.handleWebhook("twilio", request, { kind: "inbound" });

    expect(answer.status).toBe(200);
    expect(repeat.status).toBe(200);
    expect(await store.isOptedOut("+12025550702")).toBe(true);
    expect((await store.history("+12025550702"))[0]?.text).toBe("STOP\uFFFD");
  });
});

describe("openPostgresStore with create false", () => {
  it("rejects a missing schema and creates nothing", async () => {
    const schema = freshSchema();

    const error = await rejection(openPostgresStore({ url: TEST_URL, schema, create: false }));
    const found = await admin.query("SELECT 1 FROM pg_namespace WHERE nspname = $1", [schema]);

    expect(isStoreMissingError(error)).toBe(true);
    expect(isStoreError(error)).toBe(true);
    expect((error as StoreMissingError).schema).toBe(schema);
    expect(found.rowCount).toBe(0);
  });

  it("opens a store created before", async () => {
    const schema = freshSchema();
    await (await openPostgresStore({ url: TEST_URL, schema })).close();

    const store = await openPostgresStore({ url: TEST_URL, schema, create: false });

    expect(await store.isOptedOut("+12025550143")).toBe(false);
    await store.close();
    await dropSchema(schema);
  });
});

describe("openPostgresStore options", () => {
  const pool = { connect() {}, query() {}, on() {}, end() {} };
  const cases: Array<[string, unknown]> = [
    ["url", {}],
    ["url", { url: "mysql://user:hunter2@db/app" }],
    ["url", { url: 42 }],
    ["pool", { url: TEST_URL, pool }],
    ["pool", { pool: "postgres://db/app" }],
    ["maxConnections", { pool, maxConnections: 5 }],
    ["schema", { url: TEST_URL, schema: "bad-name" }],
    ["schema", { url: TEST_URL, schema: "pg_store" }],
    ["schema", { url: TEST_URL, schema: "s".repeat(64) }],
    ["schema", { url: TEST_URL, schema: '"; DROP SCHEMA public; --' }],
    ["maxConnections", { url: TEST_URL, maxConnections: 0 }],
    ["connectTimeoutMs", { url: TEST_URL, connectTimeoutMs: 0 }],
    ["statementTimeoutMs", { url: TEST_URL, statementTimeoutMs: 1.5 }],
    ["applicationName", { url: TEST_URL, applicationName: "" }],
    ["logger", { url: TEST_URL, logger: console.log }],
    ["database", { url: TEST_URL, database: "test" }],
    ["options", undefined],
  ];

  it("quotes an invalid URL without its password", async () => {
    const inputs = [
      ["mysql://user:hunter2@db/app", '"mysql://user:***@db/app"'],
      ["postgres://u:hunter2@127.0.0.1:notaport/x", '"postgres://u:***@127.0.0.1:notaport/x"'],
    ];

    for (const [url, quoted] of inputs) {
      const error = await rejection(openPostgresStore({ url: url ?? "" }));
      const message = (error as Error).message;

      expect(isConfigError(error)).toBe(true);
      expect(message).toContain(`received ${quoted}`);
      expect(message).not.toContain("hunter2");
    }
  });

  for (const [option, input] of cases) {
    it(`rejects invalid ${option}`, async () => {
      const error = await rejection(openPostgresStore(input as PostgresStoreOptions));

      expect(isConfigError(error)).toBe(true);
      expect((error as { path: string }).path).toBe(option);
      expect((error as Error).message).not.toContain("hunter2");
    });
  }
});

describe("retryConflicts", () => {
  const deadlock = Object.assign(new Error("deadlock detected"), {
    severity: "ERROR",
    code: "40P01",
  });

  it("retries a deadlock", async () => {
    let calls = 0;

    const result = await retryConflicts(async () => {
      calls += 1;
      if (calls === 1) {
        throw deadlock;
      }

      return "done";
    });

    expect(result).toBe("done");
    expect(calls).toBe(2);
  });

  it("gives up after the last attempt", async () => {
    let calls = 0;

    const error = await rejection(
      retryConflicts(async () => {
        calls += 1;
        throw deadlock;
      }),
    );

    expect(error).toBe(deadlock);
    expect(calls).toBe(MAX_TRANSACTION_ATTEMPTS);
  });

  it("does not retry other errors", async () => {
    let calls = 0;
    const failure = Object.assign(new Error("duplicate key"), {
      severity: "ERROR",
      code: "23505",
    });

    const error = await rejection(
      retryConflicts(async () => {
        calls += 1;
        throw failure;
      }),
    );

    expect(error).toBe(failure);
    expect(calls).toBe(1);
  });
});
