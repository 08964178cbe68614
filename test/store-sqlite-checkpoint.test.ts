import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { openSqliteStore } from "../src/stores/sqlite.js";

const PAGE_BYTES = 4096;

describe("SQLite WAL checkpoints", () => {
  let directory: string;
  let file: string;

  beforeEach(() => {
    directory = fs.mkdtempSync(path.join(os.tmpdir(), "smsgate-checkpoint-"));
    file = path.join(directory, "consent.db");
  });

  afterEach(() => {
    fs.rmSync(directory, { recursive: true, force: true });
  });

  it("waits past 1,000 WAL pages", async () => {
    const store = openSqliteStore({ path: file });
    const databaseBytesBefore = fs.statSync(file).size;
    // 20 payloads of 400,000 characters fill about 2,000 overflow pages.
    const outbox = Array.from({ length: 20 }, (_, index) => ({
      id: `checkpoint:${index}`,
      type: "inbound",
      payload: "x".repeat(400_000),
    }));

    await store.commitWebhook({
      id: "checkpoint:receipt",
      provider: "test",
      events: [],
      outbox,
      receivedAt: new Date(),
    });
    const walPages = fs.statSync(`${file}-wal`).size / PAGE_BYTES;
    const databaseBytesAfter = fs.statSync(file).size;

    await store.close();

    expect(walPages).toBeGreaterThan(1_500);
    expect(databaseBytesAfter).toBe(databaseBytesBefore);
    expect(fs.statSync(file).size).toBeGreaterThan(1_500 * PAGE_BYTES);
  });
});
