import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import pg from "pg";
import { afterAll, describe, expect, it } from "vitest";
import { parseConfig } from "../src/cli/config.js";
import { createRuntime, StoreNotFoundError } from "../src/cli/runtime.js";
import { isConfigError } from "../src/errors.js";

const url = process.env.SMSGATE_TEST_POSTGRES_URL ?? "postgres://postgres@127.0.0.1:5432/test";
const schema = `smsgate_runtime_${randomBytes(4).toString("hex")}`;
const emptySchema = `${schema}_empty`;
const missingSchema = `${schema}_missing`;

// With no provider configured the runtime runs in development mode, which writes its
// account file beside the default SQLite path, so each runtime gets a directory of its own.
const cwd = mkdtempSync(join(tmpdir(), "smsgate-runtime-postgres-"));

async function withAdmin<T>(use: (admin: pg.Client) => Promise<T>): Promise<T> {
  const admin = new pg.Client({ connectionString: url });
  await admin.connect();

  try {
    return await use(admin);
  } finally {
    await admin.end();
  }
}

async function schemaExists(name: string): Promise<boolean> {
  const result = await withAdmin((admin) =>
    admin.query("SELECT 1 FROM pg_namespace WHERE nspname = $1", [name]),
  );

  return (result.rowCount ?? 0) > 0;
}

afterAll(async () => {
  rmSync(cwd, { recursive: true, force: true });
  await withAdmin(async (admin) => {
    for (const name of [schema, emptySchema, missingSchema]) {
      await admin.query(`DROP SCHEMA IF EXISTS "${name}" CASCADE`);
    }
  });
});

describe("postgres store in the configuration", () => {
  it("opens the configured schema", async () => {
    const config = parseConfig({ store: { type: "postgres", url, schema } }, {});
    const runtime = await createRuntime(config, { cwd });

    try {
      await runtime.store.record({
        id: "manual:1",
        phone: "+12025550143",
        action: "opt-out",
        sender: "*",
        source: "manual",
        occurredAt: new Date(),
      });

      expect(await runtime.store.isOptedOut("+12025550143")).toBe(true);
      expect(runtime.storePath).toBeUndefined();
    } finally {
      await runtime.close();
    }
  });

  it("missing schema is not created", async () => {
    const config = parseConfig({ store: { type: "postgres", url, schema: missingSchema } }, {});

    const error = await createRuntime(config, { cwd, createStore: false }).then(
      () => undefined,
      (rejection: unknown) => rejection,
    );

    expect(error).toBeInstanceOf(StoreNotFoundError);
    expect((error as Error).message).toContain(`PostgreSQL schema ${missingSchema}`);
    expect((error as Error).message).toContain("store.schema");
    expect(await schemaExists(missingSchema)).toBe(false);
  });

  it("schema without tables is not a store", async () => {
    await withAdmin((admin) => admin.query(`CREATE SCHEMA "${emptySchema}"`));
    const config = parseConfig({ store: { type: "postgres", url, schema: emptySchema } }, {});

    const error = await createRuntime(config, { cwd, createStore: false }).then(
      () => undefined,
      (rejection: unknown) => rejection,
    );
    const tables = await withAdmin((admin) =>
      admin.query("SELECT 1 FROM pg_tables WHERE schemaname = $1", [emptySchema]),
    );

    expect(error).toBeInstanceOf(StoreNotFoundError);
    expect(tables.rowCount).toBe(0);
  });

  it("existing store opens without creating", async () => {
    const config = parseConfig({ store: { type: "postgres", url, schema } }, {});
    await (await createRuntime(config, { cwd })).close();

    const runtime = await createRuntime(config, { cwd, createStore: false });

    expect(await runtime.store.isOptedOut("+12025550199")).toBe(false);
    await runtime.close();
  });

  it("rejects a URL of another scheme", () => {
    let error: unknown;

    try {
      parseConfig({ store: { type: "postgres", url: "mysql://db/app" } }, {});
    } catch (caught) {
      error = caught;
    }

    expect(isConfigError(error)).toBe(true);
    expect((error as Error).message).toContain("store.url");
  });

  it("reads a store without type as sqlite", () => {
    const config = parseConfig({ store: { path: "./x.db" } }, {});

    expect(config.store).toEqual({ type: "sqlite", path: "./x.db" });
  });
});
