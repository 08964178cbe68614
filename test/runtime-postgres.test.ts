import { randomBytes } from "node:crypto";
import pg from "pg";
import { afterAll, describe, expect, it } from "vitest";
import { parseConfig } from "../src/cli/config.js";
import { createRuntime } from "../src/cli/runtime.js";
import { isConfigError } from "../src/errors.js";

const url = process.env.SMSGATE_TEST_POSTGRES_URL ?? "postgres://postgres@127.0.0.1:5432/test";
const schema = `smsgate_runtime_${randomBytes(4).toString("hex")}`;

afterAll(async () => {
  const admin = new pg.Client({ connectionString: url });
  await admin.connect();
  await admin.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
  await admin.end();
});

describe("postgres store in the configuration", () => {
  it("opens the configured schema", async () => {
    const config = parseConfig({ store: { type: "postgres", url, schema } }, {});
    const runtime = await createRuntime(config);

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
