import { readFile, writeFile } from "node:fs/promises";
import { Writable } from "node:stream";
import { describe, expect, it } from "vitest";
import { escapeTerminalControls, writeLine, writeLineDrained } from "../src/cli/output.js";
import { startFakeTwilioApi } from "../src/testing/fake-twilio.js";
import { createStoreFile, makeTempDir, removeTempDir, runCli } from "./helpers/cli.js";
import { writeTwilioServerConfig } from "./helpers/webhooks.js";

/** Creates a writable stream that accepts one chunk per event-loop turn, so its buffer fills. */
function slowStream(lines: string[]): Writable {
  return new Writable({
    highWaterMark: 16,
    write(chunk: Buffer, _encoding, callback) {
      lines.push(chunk.toString());
      setImmediate(callback);
    },
  });
}

describe("writeLineDrained", () => {
  it("waits for drain without keeping listeners", async () => {
    const lines: string[] = [];
    const stream = slowStream(lines);
    const closeListeners = stream.listenerCount("close");
    const drainListeners = stream.listenerCount("drain");

    for (let index = 0; index < 50; index += 1) {
      await writeLineDrained(stream, `line ${index} with more than sixteen bytes`);
    }

    expect(lines).toHaveLength(50);
    expect(stream.listenerCount("close")).toBe(closeListeners);
    expect(stream.listenerCount("drain")).toBe(drainListeners);
  });

  it("resolves when the stream closes", async () => {
    const stream = new Writable({
      highWaterMark: 16,
      write() {
        // Never calls back, so the buffer stays full until the stream is destroyed.
      },
    });

    const waiting = writeLineDrained(stream, "a line longer than sixteen bytes");
    stream.destroy();
    await waiting;

    expect(stream.listenerCount("close")).toBe(0);
    expect(stream.listenerCount("drain")).toBe(0);
  });
});

describe("terminal control characters", () => {
  it("escapes ESC, CR and C1, keeps tab", () => {
    const text = "\u001b[31mred\u001b[0m\r\u009b2J\tend";

    expect(escapeTerminalControls(text)).toBe("\\u001b[31mred\\u001b[0m\\u000d\\u009b2J\tend");
  });

  it("writeLine escapes before the line feed", () => {
    const written: string[] = [];

    writeLine({ write: (text) => written.push(text) }, "a\u0007b\nc");

    expect(written).toEqual(["a\\u0007b\nc\n"]);
  });

  it("send prints a provider's message escaped", async () => {
    const api = await startFakeTwilioApi({
      respond: () => ({
        status: 400,
        json: { code: 21211, message: "\u001b[31mred\u001b[0m invalid", status: 400 },
      }),
    });
    const dir = await makeTempDir("smsgate-controls-");

    try {
      const { configPath, dbPath } = await writeTwilioServerConfig(dir, api);
      await createStoreFile(dbPath);
      const result = await runCli(
        ["send", "--to", "+12025550143", "--body", "hi", "--config", configPath],
        { cwd: dir },
      );

      expect(result.code).toBe(4);
      expect(result.stderr).toContain("\\u001b[31mred\\u001b[0m invalid");
      expect(result.stderr).not.toContain("\u001b");
    } finally {
      await api.close();
      await removeTempDir(dir);
    }
  });
});

describe("send timeout from the configuration", () => {
  it("gives up after providers.twilio.timeoutMs", async () => {
    const api = await startFakeTwilioApi({
      respond: () => ({ status: 201, json: { sid: "SMslow" }, delayMs: 5000 }),
    });
    const dir = await makeTempDir("smsgate-timeout-");

    try {
      const { configPath, dbPath } = await writeTwilioServerConfig(dir, api);
      await createStoreFile(dbPath);
      const config = JSON.parse(await readFile(configPath, "utf8"));
      config.providers.twilio.timeoutMs = 300;
      await writeFile(configPath, JSON.stringify(config));

      // The default limit of 15 s would wait for the response, which comes after 5 s.
      const result = await runCli(
        ["send", "--to", "+12025550143", "--body", "hi", "--config", configPath],
        { cwd: dir },
      );

      expect(result.code).toBe(1);
      expect(result.stderr).toContain("sent no complete response");
    } finally {
      await api.close();
      await removeTempDir(dir);
    }
  });
});
