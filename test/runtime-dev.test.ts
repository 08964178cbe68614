import { mkdtemp, readdir, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { parseConfig } from "../src/cli/config.js";
import { devFilePath } from "../src/cli/dev.js";
import { createRuntime } from "../src/cli/runtime.js";

let cwd: string;

beforeEach(async () => {
  cwd = await mkdtemp(join(tmpdir(), "smsgate-runtime-dev-"));
});

afterEach(async () => {
  await rm(cwd, { recursive: true, force: true });
});

const memoryConfig = () => parseConfig({ store: { type: "memory" } }, {});

describe("development secrets of a runtime", () => {
  it("writes no file without createStore", async () => {
    const runtime = await createRuntime(memoryConfig(), { cwd, createStore: false });

    try {
      expect(runtime.dev?.accountSid).toMatch(/^AC[0-9a-f]{32}$/);
      expect(runtime.dev?.secretsCreated).toBe(false);
      expect(await readdir(cwd)).toEqual([]);
    } finally {
      await runtime.close();
    }
  });

  it("reads the file a server wrote", async () => {
    const accountSid = `AC${"1".repeat(32)}`;
    const secrets = { twilio: { accountSid, authToken: "2".repeat(32) } };
    await writeFile(devFilePath(join(cwd, "smsgate.db")), JSON.stringify(secrets));

    const runtime = await createRuntime(memoryConfig(), { cwd, createStore: false });

    try {
      expect(runtime.dev?.accountSid).toBe(accountSid);
    } finally {
      await runtime.close();
    }
  });

  it("writes the file with createStore", async () => {
    const runtime = await createRuntime(memoryConfig(), { cwd, createStore: true });

    try {
      expect(runtime.dev?.secretsCreated).toBe(true);
      expect(await readdir(cwd)).toEqual(["smsgate.db.dev.json"]);
    } finally {
      await runtime.close();
    }
  });
});
