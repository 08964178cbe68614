import { spawn } from "node:child_process";
import { copyFile, mkdir, readFile } from "node:fs/promises";
import { createServer, type IncomingHttpHeaders } from "node:http";
import type { AddressInfo } from "node:net";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runCli } from "../src/cli/main.js";
import { parseFormBody } from "../src/http/form.js";
import { type FakeTwilioApi, startFakeTwilioApi } from "../src/testing/fake-twilio.js";
import { signTwilioRequest } from "../src/testing/twilio.js";
import { makeTempDir, removeTempDir, repoRoot, writeConfig } from "./helpers/cli.js";
import { captureIo } from "./helpers/io.js";

const sender = "+12025550100";

let dir: string;
let api: FakeTwilioApi;
let configPath: string;

beforeAll(async () => {
  dir = await makeTempDir("smsgate-cli-");
  api = await startFakeTwilioApi();
  configPath = await writeConfig(dir, {
    store: { type: "sqlite", path: join(dir, "cli.db") },
    listen: { host: "127.0.0.1", port: 0 },
    providers: {
      twilio: {
        accountSid: api.accountSid,
        authToken: api.authToken,
        from: sender,
        apiBaseUrl: api.url,
      },
    },
  });
});

afterAll(async () => {
  await api?.close();
  await removeTempDir(dir);
});

async function cli(...argv: string[]) {
  const io = captureIo();
  const code = await runCli(argv, io);

  return { code, stdout: io.out(), stderr: io.err() };
}

describe("main", () => {
  it("no command prints usage and exits 2", async () => {
    const result = await cli();

    expect(result.code).toBe(2);
    expect(result.stderr).toContain("Usage: smsgate <command>");
    expect(result.stdout).toBe("");
  });

  it("--version prints the package version", async () => {
    const manifest = JSON.parse(await readFile(join(repoRoot, "package.json"), "utf8"));
    const result = await cli("--version");

    expect(result.code).toBe(0);
    expect(result.stdout.trim()).toBe(manifest.version);
  });

  it("help lists every command", async () => {
    const result = await cli("help");

    expect(result.code).toBe(0);
    for (const name of ["serve", "send", "optout", "simulate"]) {
      expect(result.stdout).toContain(`  ${name} `);
    }
  });

  it("help for a command shows its options", async () => {
    const result = await cli("help", "send");

    expect(result.code).toBe(0);
    expect(result.stdout).toContain("--to NUMBER");
    expect(result.stdout).toContain("3  the recipient has opted out");
  });

  it("command --help prints its usage", async () => {
    const result = await cli("optout", "--help");

    expect(result.code).toBe(0);
    expect(result.stdout).toContain("Usage: smsgate optout");
  });

  it("unknown command exits 2 naming it", async () => {
    const result = await cli("sned");

    expect(result.code).toBe(2);
    expect(result.stderr).toContain('unknown command "sned"');
  });

  it("help for unknown topic exits 2", async () => {
    const result = await cli("help", "nothing");

    expect(result.code).toBe(2);
    expect(result.stderr).toContain('unknown command "nothing"');
  });
});

describe("send arguments", () => {
  it("unknown flag exits 2 naming it", async () => {
    const result = await cli("send", "--to", "+12025550143", "--body", "hi", "--bogus");

    expect(result.code).toBe(2);
    expect(result.stderr).toContain("unknown option --bogus");
    expect(result.stderr).toContain('Run "smsgate help send"');
  });

  it("missing --to exits 2 naming it", async () => {
    const result = await cli("send", "--body", "hi", "--config", configPath);

    expect(result.code).toBe(2);
    expect(result.stderr).toContain("missing required option --to");
  });

  it("missing --body exits 2 naming it", async () => {
    const result = await cli("send", "--to", "+12025550143", "--config", configPath);

    expect(result.code).toBe(2);
    expect(result.stderr).toContain("missing required option --body");
  });

  it("option without value exits 2", async () => {
    const result = await cli("send", "--body", "hi", "--to");

    expect(result.code).toBe(2);
    expect(result.stderr).toContain("option --to needs a value");
  });

  it("repeated option exits 2", async () => {
    const result = await cli("send", "--to", "+12025550143", "--to", "+12025550144");

    expect(result.code).toBe(2);
    expect(result.stderr).toContain("option --to is given more than once");
  });

  it("extra positional exits 2", async () => {
    const result = await cli("send", "+12025550143", "--body", "hi");

    expect(result.code).toBe(2);
    expect(result.stderr).toContain('unexpected argument "+12025550143"');
  });

  it("missing config file exits 2 naming it", async () => {
    const missing = join(dir, "absent.json");
    const result = await cli("send", "--to", "+12025550143", "--body", "hi", "--config", missing);

    expect(result.code).toBe(2);
    expect(result.stderr).toContain(missing);
  });

  it("invalid number exits 2 naming it", async () => {
    const result = await cli("send", "--to", "12345abc", "--body", "hi", "--config", configPath);

    expect(result.code).toBe(2);
    expect(result.stderr).toContain('"12345abc"');
    expect(api.requests).toHaveLength(0);
  });

  it("invalid number --json has status invalid", async () => {
    const result = await cli(
      "send",
      ...["--to", "not-a-number", "--body", "hi", "--config", configPath, "--json"],
    );
    const outcome = JSON.parse(result.stdout);

    expect(result.code).toBe(2);
    expect(outcome.status).toBe("invalid");
    expect(outcome.to).toBe("not-a-number");
    expect(outcome.message).toContain('"not-a-number"');
  });

  it("unknown provider exits 2", async () => {
    const result = await cli(
      "send",
      ...["--to", "+12025550143", "--body", "hi", "--provider", "nope", "--config", configPath],
    );

    expect(result.code).toBe(2);
    expect(result.stderr).toContain('"nope"');
  });

  it("sent --json prints every field", async () => {
    const result = await cli(
      "send",
      ...["--to", "+12025550143", "--body", "hello", "--config", configPath, "--json"],
    );
    const outcome = JSON.parse(result.stdout);

    expect(result.code).toBe(0);
    expect(outcome).toEqual({
      status: "sent",
      to: "+12025550143",
      provider: "twilio",
      messageId: api.messages.at(-1)?.sid,
      reason: null,
      code: null,
      message: expect.stringContaining("Sent to +12025550143"),
    });
  });
});

describe("optout arguments", () => {
  it("missing subcommand exits 2", async () => {
    const result = await cli("optout");

    expect(result.code).toBe(2);
    expect(result.stderr).toContain("missing subcommand");
  });

  it("unknown subcommand exits 2 naming it", async () => {
    const result = await cli("optout", "purge", "+12025550143");

    expect(result.code).toBe(2);
    expect(result.stderr).toContain('unknown subcommand "purge"');
  });

  it("status without number exits 2", async () => {
    const result = await cli("optout", "status");

    expect(result.code).toBe(2);
    expect(result.stderr).toContain("missing phone number");
  });

  it("option foreign to subcommand exits 2", async () => {
    const result = await cli("optout", "history", "+12025550143", "--scope", sender);

    expect(result.code).toBe(2);
    expect(result.stderr).toContain('option --scope does not apply to "optout history"');
  });

  it("invalid number exits 2 naming it", async () => {
    const result = await cli("optout", "status", "555-CALL-NOW", "--config", configPath);

    expect(result.code).toBe(2);
    expect(result.stderr).toContain('"555-CALL-NOW"');
  });

  it("national number without region exits 2", async () => {
    const result = await cli("optout", "status", "(202) 555-0143", "--config", configPath);

    expect(result.code).toBe(2);
    expect(result.stderr).toContain('"(202) 555-0143"');
    expect(result.stderr).toContain("defaultRegion");
  });

  it("add then status reports opted out", async () => {
    const phone = "+12025550177";
    const added = await cli("optout", "add", phone, "--reason", "asked", "--config", configPath);
    const status = await cli("optout", "status", phone, "--json", "--config", configPath);
    const state = JSON.parse(status.stdout);

    expect(added.code).toBe(0);
    expect(added.stdout).toContain(`Recorded an opt-out for ${phone} (scope *)`);
    expect(state.optedOut).toBe(true);
    expect(state.source).toBe("manual");
  });
});

describe("simulate arguments", () => {
  it("unknown provider exits 2", async () => {
    const result = await cli("simulate", "vonage", "inbound");

    expect(result.code).toBe(2);
    expect(result.stderr).toContain('unknown provider "vonage"');
  });

  it("unknown kind exits 2", async () => {
    const result = await cli("simulate", "twilio", "outbound");

    expect(result.code).toBe(2);
    expect(result.stderr).toContain('unknown webhook kind "outbound"');
  });

  it("status option on inbound exits 2", async () => {
    const result = await cli(
      "simulate",
      ...["twilio", "inbound", "--from", "+1", "--to", "+1", "--body", "x", "--status", "sent"],
    );

    expect(result.code).toBe(2);
    expect(result.stderr).toContain('option --status does not apply to "simulate twilio inbound"');
  });

  it("invalid opt-out type exits 2", async () => {
    const result = await cli(
      "simulate",
      ...["twilio", "inbound", "--from", sender, "--to", sender, "--body", "x"],
      ...["--opt-out-type", "PAUSE"],
    );

    expect(result.code).toBe(2);
    expect(result.stderr).toContain('invalid --opt-out-type "PAUSE"');
  });

  it("invalid status exits 2", async () => {
    const result = await cli(
      "simulate",
      "twilio",
      "status",
      "--message-id",
      "SM1",
      "--status",
      "ok",
    );

    expect(result.code).toBe(2);
    expect(result.stderr).toContain('invalid --status "ok"');
  });

  it("port 0 without --url exits 2", async () => {
    const result = await cli(
      "simulate",
      ...["twilio", "inbound", "--from", "+12025550143", "--to", sender, "--body", "STOP"],
      ...["--config", configPath],
    );

    expect(result.code).toBe(2);
    expect(result.stderr).toContain("listen.port is 0");
    expect(result.stderr).toContain("--url");
  });

  it("refused connection says server is down", async () => {
    const url = await closedPortUrl();
    const result = await cli(
      "simulate",
      ...["twilio", "inbound", "--from", "+12025550143", "--to", sender, "--body", "STOP"],
      ...["--config", configPath, "--url", url],
    );

    expect(result.code).toBe(1);
    expect(result.stderr).toContain("the server is not running");
    expect(result.stderr).toContain("npx smsgate serve");
  });

  it("non-2xx answer exits 1", async () => {
    const server = createServer((_request, response) => {
      response.writeHead(403, { "content-type": "text/plain" }).end("forbidden here");
    });

    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));

    const { port } = server.address() as AddressInfo;
    const result = await cli(
      "simulate",
      ...["twilio", "status", "--message-id", "SM1", "--status", "delivered"],
      ...["--config", configPath, "--url", `http://127.0.0.1:${port}/webhooks/twilio/status`],
    );

    await new Promise((resolve) => server.close(resolve));

    expect(result.code).toBe(1);
    expect(result.stdout).toContain("HTTP 403 Forbidden");
    expect(result.stdout).toContain("forbidden here");
  });
});

/** Starts a local server that records each request and returns 200 with empty TwiML. */
async function startRecorder() {
  const received: Array<{ path: string; headers: IncomingHttpHeaders; body: string }> = [];
  const server = createServer((request, response) => {
    let body = "";

    request.setEncoding("utf8");
    request.on("data", (chunk: string) => {
      body += chunk;
    });
    request.on("end", () => {
      received.push({ path: request.url ?? "", headers: request.headers, body });
      response.writeHead(200, { "content-type": "text/xml" }).end("<Response/>");
    });
  });

  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));

  const { port } = server.address() as AddressInfo;

  return {
    port,
    received,
    close: () => new Promise((resolve) => server.close(resolve)),
  };
}

describe("simulate signing", () => {
  it("signs publicUrl plus request path", async () => {
    const recorder = await startRecorder();
    const authToken = "public-url-token";
    const publicConfig = await writeConfig(join(dir, "public"), {
      publicUrl: "https://sms.example.com/base/",
      store: { type: "sqlite", path: join(dir, "public.db") },
      providers: { twilio: { accountSid: api.accountSid, authToken, from: sender } },
    });
    const target = `http://127.0.0.1:${recorder.port}/webhooks/twilio/inbound?tenant=a`;
    const result = await cli(
      "simulate",
      ...["twilio", "inbound", "--from", "+12025550143", "--to", sender, "--body", "STOP"],
      ...["--config", publicConfig, "--url", target],
    );

    await recorder.close();

    const request = recorder.received[0];
    const params = parseFormBody(request?.body ?? "");
    const publicSignature = signTwilioRequest({
      authToken,
      url: "https://sms.example.com/base/webhooks/twilio/inbound?tenant=a",
      params,
    });

    expect(result.code).toBe(0);
    expect(request?.path).toBe("/webhooks/twilio/inbound?tenant=a");
    expect(request?.headers["x-twilio-signature"]).toBe(publicSignature);
    expect(request?.headers["content-type"]).toContain("application/x-www-form-urlencoded");
    expect(params).toContainEqual(["Body", "STOP"]);
    expect(params).toContainEqual(["AccountSid", api.accountSid]);
  });

  it("posts to configured listen address", async () => {
    const recorder = await startRecorder();
    const authToken = "listen-token";
    const listenConfig = await writeConfig(join(dir, "listen"), {
      listen: { host: "127.0.0.1", port: recorder.port },
      store: { type: "sqlite", path: join(dir, "listen.db") },
      providers: { twilio: { accountSid: api.accountSid, authToken, from: sender } },
    });
    const result = await cli(
      "simulate",
      ...["twilio", "status", "--message-id", `SM${"0f".repeat(16)}`, "--status", "failed"],
      ...["--error-code", "21610", "--to", "+12025550143", "--config", listenConfig],
    );

    await recorder.close();

    const request = recorder.received[0];
    const params = parseFormBody(request?.body ?? "");
    const url = `http://127.0.0.1:${recorder.port}/webhooks/twilio/status`;

    expect(result.code).toBe(0);
    expect(result.stdout).toBe("HTTP 200 OK\n<Response/>\n");
    expect(request?.path).toBe("/webhooks/twilio/status");
    expect(request?.headers["x-twilio-signature"]).toBe(
      signTwilioRequest({ authToken, url, params }),
    );
    expect(params).toContainEqual(["MessageStatus", "failed"]);
    expect(params).toContainEqual(["ErrorCode", "21610"]);
  });
});

describe("bin script", () => {
  it("without a build says to run it", async () => {
    const binDir = join(dir, "package", "bin");

    await mkdir(binDir, { recursive: true });
    await copyFile(join(repoRoot, "bin", "smsgate.js"), join(binDir, "smsgate.js"));

    const result = await new Promise<{ code: number | null; stderr: string }>((resolve) => {
      const child = spawn(process.execPath, [join(binDir, "smsgate.js"), "--version"]);
      let stderr = "";

      child.stderr.setEncoding("utf8").on("data", (chunk: string) => {
        stderr += chunk;
      });
      child.on("close", (code) => resolve({ code, stderr }));
    });

    expect(result.code).toBe(1);
    expect(result.stderr).toContain('Run "npm run build"');
  });
});

async function closedPortUrl(): Promise<string> {
  const server = createServer();

  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));

  const { port } = server.address() as AddressInfo;

  await new Promise((resolve) => server.close(resolve));

  return `http://127.0.0.1:${port}/webhooks/twilio/inbound`;
}
