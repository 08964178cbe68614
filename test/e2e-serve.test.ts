import { existsSync, realpathSync } from "node:fs";
import { readdir, readFile, stat, writeFile } from "node:fs/promises";
import { createServer } from "node:net";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { buildTwilioInbound, signTwilioRequest } from "../src/testing/twilio.js";
import {
  type CliResult,
  makeTempDir,
  parseJsonLines,
  removeTempDir,
  runCli,
  type ServeProcess,
  startServe,
} from "./helpers/cli.js";
import { json, SENDER, type Stack, startStack } from "./helpers/stack.js";

let stack: Stack;

beforeAll(async () => {
  stack = await startStack();
});

afterAll(async () => {
  const code = await stack?.stop();
  const logs = stack.server.stdout() + stack.server.stderr();

  expect(code).toBe(0);
  expect(logs).not.toContain(stack.api.authToken);
});

type Json = Record<string, unknown>;

function inboundUrl(): string {
  return `${stack.server.url}/webhooks/twilio/inbound`;
}

/** Builds and signs an inbound webhook body as Twilio would post it. */
function signedInbound(from: string, body: string, messageSid?: string) {
  const built = buildTwilioInbound({
    from,
    to: SENDER,
    body,
    messageSid,
    accountSid: stack.api.accountSid,
  });
  const signature = signTwilioRequest({
    authToken: stack.api.authToken,
    url: inboundUrl(),
    params: built.params,
  });

  return { body: built.body, signature };
}

function post(body: string, signature: string): Promise<Response> {
  return fetch(inboundUrl(), {
    method: "POST",
    headers: {
      "content-type": "application/x-www-form-urlencoded; charset=utf-8",
      "x-twilio-signature": signature,
    },
    body,
  });
}

describe("smsgate serve", () => {
  it("logs its URL on start", () => {
    const lines = parseJsonLines(stack.server.stdout());

    expect(stack.server.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(lines.some((line) => line.url === stack.server.url)).toBe(true);
  });

  it("healthz answers 200", async () => {
    const response = await fetch(`${stack.server.url}/healthz`);

    expect(response.status).toBe(200);
  });

  it("simulated STOP gets 200 TwiML", async () => {
    const result = await stack.simulate(
      "inbound",
      ...["--from", "+12025550160", "--to", SENDER, "--body", "STOP"],
    );

    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/^HTTP 200 OK\n/);
    expect(result.stdout).toContain("<Response");
  });

  it("simulated START with OptOutType", async () => {
    const person = "+12025550161";

    await stack.simulate("inbound", "--from", person, "--to", SENDER, "--body", "STOP");

    const result = await stack.simulate(
      "inbound",
      ...["--from", person, "--to", SENDER, "--body", "go on", "--opt-out-type", "START"],
    );
    const state = json(await stack.cli("optout", "status", person, "--json")) as Json;

    expect(result.code).toBe(0);
    expect(state.optedOut).toBe(false);
    expect(state.source).toBe("provider-flag");
  });

  it("bad signature gets 403, records nothing", async () => {
    const person = "+12025550162";
    const { body } = signedInbound(person, "STOP");
    const response = await post(body, "bm90IGEgcmVhbCBzaWduYXR1cmU=");
    const history = json(await stack.cli("optout", "history", person, "--json"));

    expect(response.status).toBe(403);
    expect(history).toEqual([]);
  });

  it("duplicate STOP at once records one event", async () => {
    const person = "+12025550163";
    const { body, signature } = signedInbound(person, "STOP", `SM${"ab".repeat(16)}`);
    const responses = await Promise.all([post(body, signature), post(body, signature)]);
    const history = json(await stack.cli("optout", "history", person, "--json")) as Json[];

    expect(responses.map((response) => response.status)).toEqual([200, 200]);
    expect(history).toHaveLength(1);
    expect(history[0]?.action).toBe("opt-out");
  });

  it("status callback 21610 records opt-out", async () => {
    const person = "+12025550164";
    const result = await stack.simulate(
      "status",
      ...["--message-id", `SM${"cd".repeat(16)}`, "--status", "failed"],
      ...["--error-code", "21610", "--from", SENDER, "--to", person],
    );
    const state = json(await stack.cli("optout", "status", person, "--json")) as Json;

    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/^HTTP 2\d\d /);
    expect(state.optedOut).toBe(true);
    expect(state.source).toBe("provider-refusal");
  });
});

/** Returns a TCP port on 127.0.0.1 that was free a moment ago. */
async function freePort(): Promise<number> {
  const server = createServer();

  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));

  const address = server.address();
  const port = typeof address === "object" && address !== null ? address.port : 0;

  await new Promise((resolve) => server.close(resolve));

  return port;
}

describe("development mode", () => {
  let dir: string;
  let server: ServeProcess | undefined;
  let sendBeforeServe: CliResult;
  let filesBeforeServe: string[];

  beforeAll(async () => {
    dir = await makeTempDir("smsgate-dev-");
    // The default file smsgate.config.json sets only the port, because the default
    // port 8787 may be taken by another server on this machine. It configures no
    // provider, so the server runs in development mode.
    await writeFile(
      join(dir, "smsgate.config.json"),
      JSON.stringify({ listen: { port: await freePort() } }),
    );
    sendBeforeServe = await runCli(["send", "--to", "+12025550143", "--body", "hi"], { cwd: dir });
    filesBeforeServe = await readdir(dir);
    server = await startServe([], { cwd: dir });
  });

  afterAll(async () => {
    const code = await server?.stop();

    await removeTempDir(dir);
    expect(code).toBe(0);
  });

  it("send before serve creates nothing", () => {
    const path = join(realpathSync(dir), "smsgate.db");

    expect(sendBeforeServe.code).toBe(2);
    expect(sendBeforeServe.stderr).toBe(
      `smsgate: no SQLite store exists at ${path}; run \`smsgate serve\` once to create ` +
        "it, or check store.path in the configuration\n",
    );
    expect(filesBeforeServe).toEqual(["smsgate.config.json"]);
  });

  it("creates store and token files", async () => {
    const config = JSON.parse(await readFile(join(dir, "smsgate.config.json"), "utf8"));

    expect(server?.url).toBe(`http://127.0.0.1:${config.listen.port}`);

    const secrets = JSON.parse(await readFile(join(dir, "smsgate.db.dev.json"), "utf8"));
    const logs = (server?.stdout() ?? "") + (server?.stderr() ?? "");

    expect(existsSync(join(dir, "smsgate.db"))).toBe(true);
    expect(secrets.twilio.authToken).toMatch(/^[0-9a-f]{32}$/);
    expect(logs).not.toContain(secrets.twilio.authToken);
  });

  it("creates the store with mode 0600", async () => {
    for (const name of ["smsgate.db", "smsgate.db-wal", "smsgate.db-shm", "smsgate.db.dev.json"]) {
      expect((await stat(join(dir, name))).mode & 0o777, name).toBe(0o600);
    }
  });

  it("simulate, send and loopback work", async () => {
    const person = "+12025550143";
    const run = (...args: string[]) => runCli(args, { cwd: dir });
    const inbound = ["simulate", "twilio", "inbound", "--from", person, "--to", SENDER];

    const stop = await run(...inbound, "--body", "STOP");
    const refused = await run("send", "--to", person, "--body", "hi");
    const start = await run(...inbound, "--body", "START");
    const sent = await run("send", "--to", person, "--body", "hi");
    const loopback = parseJsonLines(await readFile(join(dir, "smsgate.db.loopback.jsonl"), "utf8"));

    expect(stop.code).toBe(0);
    expect(stop.stdout).toContain("HTTP 200");
    expect(refused.code).toBe(3);
    expect(start.code).toBe(0);
    expect(sent.code).toBe(0);
    expect(loopback).toHaveLength(1);
    expect(loopback[0]).toMatchObject({ to: person, body: "hi" });
  });
});
