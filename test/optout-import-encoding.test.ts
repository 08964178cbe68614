import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runCli } from "../src/cli/main.js";
import { detectUtf16 } from "../src/cli/optout-csv.js";
import { createStoreFile, makeTempDir, removeTempDir, writeConfig } from "./helpers/cli.js";
import { captureIo } from "./helpers/io.js";

const csv = "phone,action\n+12025550171,opt-out\n";

let dir: string;
let configPath: string;

beforeAll(async () => {
  dir = await makeTempDir("smsgate-import-encoding-");
  configPath = await writeConfig(dir, { store: { type: "sqlite", path: join(dir, "store.db") } });
  await createStoreFile(join(dir, "store.db"));
});

afterAll(async () => {
  await removeTempDir(dir);
});

async function importFile(name: string, bytes: Buffer, ...options: string[]) {
  const file = join(dir, name);
  await writeFile(file, bytes);

  const io = captureIo();
  const code = await runCli(["optout", "import", file, "--config", configPath, ...options], io);

  return { file, code, stdout: io.out(), stderr: io.err() };
}

/** Encodes text as UTF-16 big-endian, which Node.js has no encoding name for. */
function utf16be(text: string): Buffer {
  return Buffer.from(text, "utf16le").swap16();
}

describe("detectUtf16", () => {
  it("detects byte order marks", () => {
    expect(detectUtf16(Buffer.from([0xff, 0xfe, 0x70, 0x00]))).toContain("byte order mark");
    expect(detectUtf16(Buffer.from([0xfe, 0xff, 0x00, 0x70]))).toContain("byte order mark");
  });

  it("detects NUL bytes", () => {
    expect(detectUtf16(Buffer.from("phone", "utf16le"))).toContain("NUL bytes");
  });

  it("accepts UTF-8 with and without BOM", () => {
    expect(detectUtf16(Buffer.from(`\uFEFF${csv}`, "utf8"))).toBeUndefined();
    expect(detectUtf16(Buffer.from("phone,note\n+1,café ☎\n", "utf8"))).toBeUndefined();
    expect(detectUtf16(Buffer.alloc(0))).toBeUndefined();
  });
});

describe("optout import encoding", () => {
  it.each([
    ["UTF-16LE with BOM", Buffer.from(`\uFEFF${csv}`, "utf16le"), "byte order mark"],
    ["UTF-16BE with BOM", utf16be(`\uFEFF${csv}`), "byte order mark"],
    ["UTF-16LE without BOM", Buffer.from(csv, "utf16le"), "NUL bytes"],
  ])("rejects %s", async (_name, bytes, sign) => {
    const result = await importFile("utf16.csv", bytes);

    expect(result.code).toBe(2);
    expect(result.stderr).toContain(`import file ${result.file} looks like UTF-16 text`);
    expect(result.stderr).toContain(sign);
    expect(result.stderr).toContain("save it as UTF-8");
    expect(result.stderr).not.toContain("phone column");
  });

  it("rejects UTF-16 under --json", async () => {
    const result = await importFile("utf16-json.csv", Buffer.from(csv, "utf16le"), "--json");
    const report = JSON.parse(result.stdout);

    expect(result.code).toBe(2);
    expect(report.imported).toBe(0);
    expect(report.error).toContain("looks like UTF-16 text");
  });

  it("rejects Latin-1 bytes", async () => {
    const bytes = Buffer.from("phone,note\n+12025550143,caf\xe9\n", "latin1");

    const result = await importFile("latin1.csv", bytes);

    expect(result.code).toBe(2);
    expect(result.stderr).toContain("is not valid UTF-8 at byte 27");
    expect(result.stderr).toContain("Latin-1 or Windows-1252");
    expect(result.stdout).not.toContain("Imported");
  });

  it("imports UTF-8 with BOM", async () => {
    const result = await importFile("utf8-bom.csv", Buffer.from(`\uFEFF${csv}`, "utf8"));

    expect(result.code).toBe(0);
    expect(result.stdout).toContain("Imported 1 event");
  });
});
