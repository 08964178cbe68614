import { join } from "node:path";
import { Writable } from "node:stream";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runCli, runWithStreams } from "../src/cli/main.js";
import { writeLineDrained } from "../src/cli/output.js";
import { type FakeTwilioApi, startFakeTwilioApi } from "../src/testing/fake-twilio.js";
import { createStoreFile, makeTempDir, removeTempDir, writeConfig } from "./helpers/cli.js";
import { captureIo } from "./helpers/io.js";

const recipient = "+12025550143";

let dir: string;
let api: FakeTwilioApi;
let configPath: string;

beforeAll(async () => {
  dir = await makeTempDir("smsgate-stdout-errors-");
  api = await startFakeTwilioApi();
  configPath = await writeConfig(dir, {
    store: { type: "sqlite", path: join(dir, "store.db") },
    providers: {
      twilio: {
        accountSid: api.accountSid,
        authToken: api.authToken,
        from: "+12025550100",
        apiBaseUrl: api.url,
      },
    },
  });
  await createStoreFile(join(dir, "store.db"));
});

afterAll(async () => {
  await api?.close();
  await removeTempDir(dir);
});

function errnoError(code: string, description: string): NodeJS.ErrnoException {
  const error: NodeJS.ErrnoException = new Error(`${code}: ${description}, write`);
  error.code = code;

  return error;
}

/**
 * Creates a stream whose every write fails with `code`. Like `process.stdout`, it is not
 * destroyed by the error, so each later write fails again.
 */
function failingStream(code: string, description: string): Writable & { attempts: number } {
  const stream = new Writable({
    autoDestroy: false,
    write(_chunk, _encoding, callback) {
      stream.attempts += 1;
      callback(errnoError(code, description));
    },
  }) as Writable & { attempts: number };

  stream.attempts = 0;

  return stream;
}

/** Creates a stream that keeps what is written, as text. */
function recordingStream(): Writable & { text: () => string } {
  let text = "";
  const stream = new Writable({
    write(chunk: Buffer, _encoding, callback) {
      text += chunk.toString();
      callback();
    },
  });

  return Object.assign(stream, { text: () => text });
}

/** Waits until the error events of the writes so far have been emitted. */
function settle(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

async function optoutStatus(phone: string): Promise<unknown> {
  const io = captureIo();
  await runCli(["optout", "status", phone, "--json", "--config", configPath], io);

  return JSON.parse(io.out());
}

describe("stdout write errors", () => {
  it("send on a full disk keeps exit 0", async () => {
    const stdout = failingStream("ENOSPC", "no space left on device");
    const stderr = recordingStream();
    const sent = api.messages.length;

    const code = await runWithStreams(
      ["send", "--to", recipient, "--body", "hi", "--config", configPath],
      { stdout, stderr },
    );
    await settle();

    expect(code).toBe(0);
    expect(api.messages.length).toBe(sent + 1);
    expect(stderr.text()).toBe(
      "smsgate: writing to stdout failed (ENOSPC: no space left on device, write); " +
        "the exit code still reports the command's result\n",
    );
  });

  it("optout add on a full disk keeps exit 0", async () => {
    const phone = "+12025550161";
    const stdout = failingStream("ENOSPC", "no space left on device");
    const stderr = recordingStream();

    const code = await runWithStreams(["optout", "add", phone, "--config", configPath], {
      stdout,
      stderr,
    });
    await settle();

    expect(code).toBe(0);
    expect(await optoutStatus(phone)).toMatchObject({ optedOut: true });
    expect(stderr.text().split("\n")).toEqual([
      expect.stringContaining("writing to stdout failed (ENOSPC"),
      "",
    ]);
  });

  it("keeps a failure exit code", async () => {
    const stdout = failingStream("EIO", "i/o error");
    const stderr = recordingStream();

    const code = await runWithStreams(
      ["send", "--to", "not-a-number", "--body", "hi", "--json", "--config", configPath],
      { stdout, stderr },
    );
    await settle();

    expect(code).toBe(2);
    expect(stderr.text()).toContain("writing to stdout failed (EIO: i/o error, write)");
  });

  it("closed pipe prints nothing", async () => {
    const stdout = failingStream("EPIPE", "broken pipe");
    const stderr = recordingStream();

    const code = await runWithStreams(["optout", "list", "--config", configPath], {
      stdout,
      stderr,
    });
    await settle();

    expect(code).toBe(0);
    expect(stderr.text()).toBe("");
  });

  it("failing stderr does not crash", async () => {
    const stdout = failingStream("ENOSPC", "no space left on device");
    const stderr = failingStream("ENOSPC", "no space left on device");

    const code = await runWithStreams(["optout", "status", recipient, "--config", configPath], {
      stdout,
      stderr,
    });
    await settle();

    expect(code).toBe(1);
    expect(stderr.attempts).toBe(1);
  });

  it("export on a full disk exits 1", async () => {
    const stdout = failingStream("ENOSPC", "no space left on device");
    const stderr = recordingStream();

    const code = await runWithStreams(["optout", "export", "--config", configPath], {
      stdout,
      stderr,
    });
    await settle();

    expect(code).toBe(1);
    expect(stderr.text()).toBe(
      "smsgate: writing to stdout failed (ENOSPC: no space left on device, write); " +
        "the output is incomplete, so the command exits 1\n",
    );
  });

  it("version on a full disk exits 1", async () => {
    const stdout = failingStream("EIO", "i/o error");
    const stderr = recordingStream();

    const code = await runWithStreams(["--version"], { stdout, stderr });

    expect(code).toBe(1);
  });

  it("writeLineDrained returns after a failed write", async () => {
    const stream = failingStream("ENOSPC", "no space left on device");
    stream.on("error", () => {});

    // Waiting for a `drain` that never comes would time the test out.
    await writeLineDrained(stream, "a line");
    await writeLineDrained(stream, "another line");

    expect(stream.attempts).toBe(1);
  });

  it("writeLineDrained returns on a destroyed stream", async () => {
    const stream = recordingStream();
    stream.destroy();
    stream.on("error", () => {});

    await writeLineDrained(stream, "a line");

    expect(stream.text()).toBe("");
  });
});
