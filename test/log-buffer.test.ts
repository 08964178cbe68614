import { describe, expect, it } from "vitest";
import { bufferLogLines, createLogger } from "../src/cli/log.js";

function nextTurn(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

function recordingSink(): { writes: string[]; write: (text: string) => void } {
  const writes: string[] = [];
  return { writes, write: (text) => writes.push(text) };
}

describe("bufferLogLines", () => {
  it("writes one turn in one write", async () => {
    const sink = recordingSink();
    const buffered = bufferLogLines(sink);

    buffered.write("one\n");
    buffered.write("two\n");
    buffered.write("three\n");

    expect(sink.writes).toEqual([]);
    await nextTurn();
    expect(sink.writes).toEqual(["one\ntwo\nthree\n"]);
  });

  it("writes each turn separately", async () => {
    const sink = recordingSink();
    const buffered = bufferLogLines(sink);

    buffered.write("first turn\n");
    await nextTurn();
    buffered.write("second turn\n");
    await nextTurn();

    expect(sink.writes).toEqual(["first turn\n", "second turn\n"]);
  });

  it("writes at once at 64 KiB", () => {
    const sink = recordingSink();
    const buffered = bufferLogLines(sink);
    const line = `${"x".repeat(1023)}\n`;

    for (let index = 0; index < 63; index += 1) {
      buffered.write(line);
    }
    expect(sink.writes).toEqual([]);

    buffered.write(line);
    expect(sink.writes).toHaveLength(1);
    expect(sink.writes[0]).toHaveLength(64 * 1024);
  });

  it("flush writes kept lines now", async () => {
    const sink = recordingSink();
    const buffered = bufferLogLines(sink);

    buffered.write("held\n");
    buffered.flush();
    expect(sink.writes).toEqual(["held\n"]);

    await nextTurn();
    expect(sink.writes).toEqual(["held\n"]);
  });

  it("flush without lines writes nothing", () => {
    const sink = recordingSink();
    const buffered = bufferLogLines(sink);

    buffered.flush();

    expect(sink.writes).toEqual([]);
  });
});

describe("createLogger", () => {
  it("writes ISO 8601 times", () => {
    const sink = recordingSink();
    const logger = createLogger({ destination: sink });
    const before = Date.now();

    logger.info({ status: 200 }, "request");
    logger.info({ status: 201 }, "request");

    const lines = sink.writes.map((text) => JSON.parse(text) as { time: string; status: number });
    expect(lines.map((line) => line.status)).toEqual([200, 201]);
    for (const line of lines) {
      expect(line.time).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/);
      expect(Date.parse(line.time)).toBeGreaterThanOrEqual(before);
      expect(Date.parse(line.time)).toBeLessThanOrEqual(Date.now());
    }
  });

  it("keeps request ids and file paths", () => {
    const sink = recordingSink();
    const logger = createLogger({ destination: sink });

    logger.info(
      {
        req: { id: "order-20250115-0042", path: "/webhooks/%2B12025550143/x" },
        storePath: "/srv/app-1796438423/smsgate.db",
        leftoverFiles: ["/srv/app-1796438423/smsgate.db.dev.json"],
        id: "order-20250115-0042",
      },
      "request completed",
    );

    const line = JSON.parse(sink.writes.join("")) as Record<string, unknown>;
    expect(line.req).toEqual({ id: "order-20250115-0042", path: "/webhooks/%2B1***0143/x" });
    expect(line.storePath).toBe("/srv/app-1796438423/smsgate.db");
    expect(line.leftoverFiles).toEqual(["/srv/app-1796438423/smsgate.db.dev.json"]);
    expect(line.id).toBe("order-2***0042");
  });

  it("masks numbers and secret keys", () => {
    const sink = recordingSink();
    const logger = createLogger({ destination: sink });

    logger.info(
      { from: "+12025550143", authToken: "token-value", nested: { signature: "abc" } },
      "STOP from %s to %s",
      "+14155550160",
      "+442079460958",
    );

    const text = sink.writes.join("");
    const line = JSON.parse(text) as Record<string, unknown>;
    expect(line.msg).toBe("STOP from +1***0160 to +4***0958");
    expect(line.from).toBe("+1***0143");
    expect(line.authToken).toBe("[redacted]");
    expect(line.nested).toEqual({ signature: "[redacted]" });
    expect(text).not.toContain("token-value");
    expect(text).not.toContain("2025550143");
  });
});
