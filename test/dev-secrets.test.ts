import { execFileSync } from "node:child_process";
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { devFilePath, loadOrCreateDevSecrets, readDevSecrets } from "../src/cli/dev.js";
import { ConfigError } from "../src/errors.js";

let directory: string;
let storePath: string;

beforeEach(async () => {
  directory = await mkdtemp(join(tmpdir(), "smsgate-dev-secrets-"));
  storePath = join(directory, "smsgate.db");
});

afterEach(async () => {
  await rm(directory, { recursive: true, force: true });
});

async function configErrorOf(read: () => Promise<unknown>): Promise<ConfigError> {
  try {
    await read();
  } catch (error) {
    if (error instanceof ConfigError) {
      return error;
    }

    throw error;
  }

  throw new Error("expected a ConfigError, but the secrets were read");
}

describe("development secrets file", () => {
  it("directory names the path and fix", async () => {
    const path = devFilePath(storePath);
    await mkdir(path);

    const error = await configErrorOf(() => readDevSecrets(storePath));

    expect(error.message).toContain(`development secrets file ${path}`);
    expect(error.message).toContain("it is a directory");
    expect(error.message).toContain("remove or rename it");
  });

  it("directory stops serve's creation too", async () => {
    await mkdir(devFilePath(storePath));

    const error = await configErrorOf(() => loadOrCreateDevSecrets(storePath));

    expect(error.message).toContain("it is a directory");
  });

  it.runIf(process.platform !== "win32")("FIFO is rejected without blocking", async () => {
    const path = devFilePath(storePath);
    execFileSync("mkfifo", [path]);

    const error = await configErrorOf(() => readDevSecrets(storePath));

    expect(error.message).toContain(path);
    expect(error.message).toContain("a named pipe (FIFO)");
  });

  it("oversized file names the limit", async () => {
    const path = devFilePath(storePath);
    await writeFile(path, " ".repeat(64 * 1024 + 1));

    const error = await configErrorOf(() => readDevSecrets(storePath));

    expect(error.message).toContain(path);
    expect(error.message).toContain("the limit of 64 KiB");
  });

  it("missing file reads as none", async () => {
    expect(await readDevSecrets(storePath)).toBeUndefined();
  });
});
