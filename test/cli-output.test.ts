import { Writable } from "node:stream";
import { describe, expect, it } from "vitest";
import { writeLineDrained } from "../src/cli/output.js";

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
