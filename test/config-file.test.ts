import { execFileSync } from "node:child_process";
import { existsSync } from "node:fs";
import { mkdtemp, rm, symlink, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { loadConfig } from "../src/cli/config.js";
import { formatByteSize, maxConfigFileBytes } from "../src/cli/config-file.js";
import { ConfigError } from "../src/errors.js";

let directory: string;

beforeEach(async () => {
  directory = await mkdtemp(join(tmpdir(), "smsgate-config-file-"));
});

afterEach(async () => {
  await rm(directory, { recursive: true, force: true });
});

async function configErrorOf(path: string): Promise<ConfigError> {
  try {
    await loadConfig(path, {});
  } catch (error) {
    if (error instanceof ConfigError) {
      return error;
    }

    throw error;
  }

  throw new Error("expected a ConfigError, but the configuration loaded");
}

describe("configuration file type", () => {
  it.runIf(existsSync("/dev/zero"))("rejects a character device", async () => {
    const error = await configErrorOf("/dev/zero");

    expect(error.message).toContain("/dev/zero");
    expect(error.message).toContain("a character device, not a regular file");
    expect(error.message).toContain("give the path of a JSON file");
  });

  it.runIf(process.platform !== "win32")("rejects a FIFO without blocking", async () => {
    const fifo = join(directory, "config.fifo");
    execFileSync("mkfifo", [fifo]);

    const error = await configErrorOf(fifo);

    expect(error.message).toContain(fifo);
    expect(error.message).toContain("a named pipe (FIFO), not a regular file");
  });

  it("rejects a directory", async () => {
    const error = await configErrorOf(directory);

    expect(error.message).toContain(directory);
    expect(error.message).toContain("it is a directory, not a regular file");
  });

  it("reads a file through a symlink", async () => {
    const file = join(directory, "real.json");
    const link = join(directory, "link.json");
    await writeFile(file, JSON.stringify({ optOutScope: "sender" }));
    await symlink(file, link);

    expect((await loadConfig(link, {})).optOutScope).toBe("sender");
  });

  it("treats a dangling symlink as missing", async () => {
    const link = join(directory, "dangling.json");
    await symlink(join(directory, "absent.json"), link);

    const error = await configErrorOf(link);

    expect(error.message).toContain(`${link} not found`);
  });
});

describe("configuration file size", () => {
  it("accepts a file at the limit", async () => {
    const file = join(directory, "padded.json");
    await writeFile(file, `{}${" ".repeat(maxConfigFileBytes - 2)}`);

    expect((await loadConfig(file, {})).optOutScope).toBe("global");
  });

  it("rejects a file over the limit", async () => {
    const file = join(directory, "large.json");
    await writeFile(file, `{}${" ".repeat(maxConfigFileBytes - 1)}`);

    const error = await configErrorOf(file);

    expect(error.message).toContain(file);
    expect(error.message).toContain(`${maxConfigFileBytes + 1} bytes`);
    expect(error.message).toContain("the limit of 1 MiB");
  });

  it("formats byte sizes", () => {
    expect(formatByteSize(1024 * 1024)).toBe("1 MiB");
    expect(formatByteSize(64 * 1024)).toBe("64 KiB");
    expect(formatByteSize(1000)).toBe("1000 bytes");
    expect(formatByteSize(0)).toBe("0 bytes");
  });
});

describe("configuration encoding", () => {
  it("rejects UTF-16 with and without a byte order mark", async () => {
    const text = '{ "store": { "type": "memory" } }';
    const files = {
      "bom.json": Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from(text, "utf16le")]),
      "plain.json": Buffer.from(text, "utf16le"),
    };

    for (const [name, bytes] of Object.entries(files)) {
      const file = join(directory, name);
      await writeFile(file, bytes);

      const error = await configErrorOf(file);

      expect(error.message, name).toContain(`${file} looks like UTF-16 text`);
    }
  });
});

describe("configuration nesting", () => {
  it("rejects thousands of levels", async () => {
    const file = join(directory, "deep.json");
    await writeFile(file, `${'{"x":'.repeat(3000)}1${"}".repeat(3000)}`);

    const error = await configErrorOf(file);

    expect(error.message).toContain(file);
    expect(error.message).toContain("more than 32 levels deep");
  });

  it("accepts a nested body template", async () => {
    const file = join(directory, "template.json");
    await writeFile(file, JSON.stringify({ x: { y: { z: [[[{ a: 1 }]]] } } }));

    const error = await configErrorOf(file);

    expect(error.message).not.toContain("levels deep");
  });
});

describe("configuration duplicate keys", () => {
  it("rejects a repeated top-level key", async () => {
    const file = join(directory, "twice.json");
    await writeFile(file, '{\n  "store": { "path": "a.db" },\n  "store": { "path": "b.db" }\n}\n');

    const error = await configErrorOf(file);

    expect(error.path).toBe("store");
    expect(error.message).toContain(file);
    expect(error.message).toContain("lines 2 and 3");
    expect(error.message).toContain("keep one of them");
  });

  it("names the path of a nested key", async () => {
    const file = join(directory, "nested.json");
    const text = [
      "{",
      '  "providers": {',
      '    "twilio": {',
      '      "accountSid": "AC00000000000000000000000000000000",',
      '      "authToken": "first",',
      '      "authToken": "second"',
      "    }",
      "  }",
      "}",
    ].join("\n");
    await writeFile(file, text);

    const error = await configErrorOf(file);

    expect(error.path).toBe("providers.twilio.authToken");
    expect(error.message).toContain("lines 5 and 6");
  });

  it("keeps secret values out of the message", async () => {
    const file = join(directory, "secret.json");
    await writeFile(file, '{"privacy": {"pseudonymKey": "hunter2", "pseudonymKey": "hunter3"}}');

    const error = await configErrorOf(file);

    expect(error.message).not.toContain("hunter");
  });

  it("accepts one key in sibling objects", async () => {
    const file = join(directory, "siblings.json");
    await writeFile(file, '{"listen": {"port": 0}, "limits": {"maxConnections": 5}}');

    expect((await loadConfig(file, {})).listen.port).toBe(0);
  });
});
