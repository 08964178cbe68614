import { spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { copyFile, mkdir, readFile, writeFile } from "node:fs/promises";
import { createServer, type IncomingHttpHeaders } from "node:http";
import type { AddressInfo } from "node:net";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parsePlivoWebhook, verifyPlivoWebhook } from "../providers/plivo/index.js";
import { parseVonageWebhook, verifyVonageWebhook } from "../providers/vonage/index.js";
import { runCli } from "../src/cli/main.js";
import { parseFormBody } from "../src/http/form.js";
import type { WebhookRequest } from "../src/provider.js";
import { type FakePlivoApi, startFakePlivoApi } from "../src/testing/fake-plivo.js";
import { type FakeTwilioApi, startFakeTwilioApi } from "../src/testing/fake-twilio.js";
import { type FakeVonageApi, startFakeVonageApi } from "../src/testing/fake-vonage.js";
import { signTwilioRequest } from "../src/testing/twilio.js";
import {
  createStoreFile,
  makeTempDir,
  removeTempDir,
  repoRoot,
  writeConfig,
} from "./helpers/cli.js";
import { captureIo } from "./helpers/io.js";

const sender = "+12025550100";

const vonageSecret = "cli-vonage-signature-secret";

// Vonage's Messages API documents no opt-out code, so the tests configure one.
const vonageOptOutCode = "1360";

let dir: string;
let api: FakeTwilioApi;
let vonageApi: FakeVonageApi;
let plivoApi: FakePlivoApi;
let configPath: string;
/** Plivo, Vonage (SMS API) and Twilio, written in that key order. */
let allConfigPath: string;
/** Vonage on the Messages API, with an opt-out error code. */
let messagesConfigPath: string;

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

  vonageApi = await startFakeVonageApi({ smsStatuses: { "12025550188": "7" } });
  plivoApi = await startFakePlivoApi();

  const vonage = {
    apiKey: vonageApi.apiKey,
    apiSecret: vonageApi.apiSecret,
    signatureSecret: vonageSecret,
    signatureMethod: "sha1",
    from: sender,
    apiBaseUrl: vonageApi.url,
  };

  allConfigPath = await writeConfig(join(dir, "all"), {
    store: { type: "sqlite", path: join(dir, "all.db") },
    listen: { host: "127.0.0.1", port: 0 },
    providers: {
      plivo: {
        authId: plivoApi.authId,
        authToken: plivoApi.authToken,
        from: sender,
        apiBaseUrl: plivoApi.url,
      },
      vonage,
      twilio: {
        accountSid: api.accountSid,
        authToken: api.authToken,
        from: sender,
        apiBaseUrl: api.url,
      },
    },
  });
  messagesConfigPath = await writeConfig(join(dir, "messages"), {
    store: { type: "sqlite", path: join(dir, "messages.db") },
    listen: { host: "127.0.0.1", port: 0 },
    providers: {
      vonage: { ...vonage, api: "messages", optOutErrorCodes: [vonageOptOutCode] },
    },
  });

  // Only `serve` creates a missing store, so the stores of the commands run here are
  // created in advance.
  for (const name of ["cli.db", "all.db", "refusal.db"]) {
    await createStoreFile(join(dir, name));
  }
});

afterAll(async () => {
  await api?.close();
  await vonageApi?.close();
  await plivoApi?.close();
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
    expect(result.stdout).toContain("5  import recorded the valid lines but skipped invalid ones");
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

  it("invalid number is printed as typed", async () => {
    const result = await cli("send", "--to", "+1202555014", "--body", "hi", "--config", configPath);

    expect(result.code).toBe(2);
    expect(result.stderr).toContain('Invalid phone number "+1202555014": ');
    expect(result.stderr).not.toContain('"+1***');
    expect(api.requests).toHaveLength(0);
  });

  it("long invalid input is cut", async () => {
    const input = `+1${"2".repeat(100)}`;
    const result = await cli("send", "--to", input, "--body", "hi", "--config", configPath);

    expect(result.code).toBe(2);
    expect(result.stderr).toContain(`"${input.slice(0, 64)}…" (102 characters)`);
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

describe("send messages", () => {
  it("empty --body names the option", async () => {
    const result = await cli("send", "--to", "+12025550143", "--body", "", "--config", configPath);

    expect(result.code).toBe(2);
    expect(result.stderr).toBe(
      'smsgate: --body must not be empty\nRun "smsgate help send" for usage.\n',
    );
  });

  it("empty --to names the option", async () => {
    const result = await cli("send", "--to", "", "--body", "hi", "--config", configPath);

    expect(result.code).toBe(2);
    expect(result.stderr).toBe(
      'smsgate: --to must not be empty\nRun "smsgate help send" for usage.\n',
    );
  });

  it("empty --from names the option", async () => {
    const result = await cli(
      "send",
      ...["--to", "+12025550143", "--body", "hi", "--from", "", "--config", configPath],
    );

    expect(result.code).toBe(2);
    expect(result.stderr).toBe(
      "smsgate: --from must not be empty; give a sending number, short code or sender ID\n" +
        'Run "smsgate help send" for usage.\n',
    );
  });

  it("empty --config names the option", async () => {
    const result = await cli("send", "--to", "+12025550143", "--body", "hi", "--config", "");

    expect(result.code).toBe(2);
    expect(result.stderr).toBe(
      "smsgate: --config must not be empty; give the path of the configuration file\n" +
        'Run "smsgate help send" for usage.\n',
    );
  });

  it("notes a dropped extension", async () => {
    const result = await cli(
      "send",
      ...["--to", "+1 (202) 555-0143 ext. 5", "--body", "hi", "--config", configPath],
    );

    expect(result.code).toBe(0);
    expect(result.stderr).toBe(
      'Note: extension 5 of "+1 (202) 555-0143 ext. 5" was dropped, because SMS goes to ' +
        "the number itself, +12025550143.\n",
    );
    expect(result.stdout).toContain("Sent to +12025550143");
    expect(api.messages.at(-1)?.to).toBe("+12025550143");
  });

  it("no note without an extension", async () => {
    const result = await cli(
      "send",
      "--to",
      "+12025550143",
      "--body",
      "hi",
      "--config",
      configPath,
    );

    expect(result.code).toBe(0);
    expect(result.stderr).toBe("");
  });
});

describe("invalid configuration", () => {
  let badConfigPath: string;

  beforeAll(async () => {
    badConfigPath = await writeConfig(join(dir, "bad"), { listen: { port: "8787" } });
  });

  const commands: Array<[string, string[]]> = [
    ["serve", ["serve"]],
    ["send", ["send", "--to", "+12025550143", "--body", "hi"]],
    ["optout", ["optout", "status", "+12025550143"]],
    ["simulate", ["simulate", "twilio", "inbound", "--from", "+1", "--to", "+1", "--body", "x"]],
  ];

  for (const [name, argv] of commands) {
    it(`${name} prints the shared prefix`, async () => {
      const result = await cli(...argv, "--config", badConfigPath);

      expect(result.code).toBe(2);
      expect(result.stderr).toMatch(/^smsgate: invalid configuration: listen\.port: /);
    });
  }
});

describe("missing store", () => {
  const person = "+12025550166";

  function missingStoreMessage(path: string): string {
    return (
      `smsgate: no SQLite store exists at ${path}; run \`smsgate serve\` once to create ` +
      "it, or check store.path in the configuration\n"
    );
  }

  async function configWithStore(name: string, path: string): Promise<string> {
    return writeConfig(join(dir, name), {
      store: { type: "sqlite", path },
      providers: {
        twilio: {
          accountSid: api.accountSid,
          authToken: api.authToken,
          from: sender,
          apiBaseUrl: api.url,
        },
      },
    });
  }

  it("mistyped path sends nothing", async () => {
    const added = await cli("optout", "add", person, "--config", configPath);
    const mistyped = join(dir, "cli.dbb");
    const mistypedConfig = await configWithStore("mistyped", mistyped);
    const requests = api.requests.length;

    const result = await cli("send", "--to", person, "--body", "hi", "--config", mistypedConfig);

    expect(added.code).toBe(0);
    expect(result.code).toBe(2);
    expect(result.stderr).toBe(missingStoreMessage(mistyped));
    expect(api.requests).toHaveLength(requests);
    expect(existsSync(mistyped)).toBe(false);
  });

  it("send --json names the path", async () => {
    const missing = join(dir, "absent-json.db");
    const missingConfig = await configWithStore("absent-json", missing);

    const result = await cli(
      "send",
      ...["--to", person, "--body", "hi", "--json", "--config", missingConfig],
    );
    const outcome = JSON.parse(result.stdout);

    expect(result.code).toBe(2);
    expect(outcome.status).toBe("error");
    expect(outcome.message).toBe(
      `no SQLite store exists at ${missing}; run \`smsgate serve\` once to create it, or ` +
        "check store.path in the configuration",
    );
    expect(existsSync(missing)).toBe(false);
  });

  it("creates no missing directory", async () => {
    const parent = join(dir, "nowhere", "deeper");
    const missing = join(parent, "x.db");
    const missingConfig = await configWithStore("nowhere-config", missing);

    const result = await cli("send", "--to", person, "--body", "hi", "--config", missingConfig);

    expect(result.code).toBe(2);
    expect(result.stderr).toBe(missingStoreMessage(missing));
    expect(existsSync(join(dir, "nowhere"))).toBe(false);
  });

  it("every optout subcommand stops", async () => {
    const missing = join(dir, "absent-optout.db");
    const missingConfig = await configWithStore("absent-optout", missing);
    const csv = join(dir, "absent-optout.csv");
    await writeFile(csv, `phone\n${person}\n`);
    const subcommands = [
      ["status", person],
      ["add", person],
      ["remove", person],
      ["history", person],
      ["list"],
      ["import", csv],
      ["export"],
      ["forget", person],
    ];

    for (const subcommand of subcommands) {
      const result = await cli("optout", ...subcommand, "--config", missingConfig);

      expect(result.code, subcommand.join(" ")).toBe(2);
      expect(result.stderr, subcommand.join(" ")).toBe(missingStoreMessage(missing));
      expect(result.stdout, subcommand.join(" ")).toBe("");
    }

    expect(existsSync(missing)).toBe(false);
  });
});

describe("provider without auth token", () => {
  const person = "+12025550167";
  const twilioWarning = "No Twilio auth token is configured";
  const plivoWarning = "No Plivo auth token is configured";
  let tokenlessConfigPath: string;

  beforeAll(async () => {
    tokenlessConfigPath = await writeConfig(join(dir, "tokenless"), {
      store: { type: "sqlite", path: join(dir, "tokenless.db") },
      insecureSkipSignatureVerification: true,
      providers: {
        twilio: { accountSid: api.accountSid, from: sender, apiBaseUrl: api.url },
        plivo: { authId: plivoApi.authId, from: sender, apiBaseUrl: plivoApi.url },
      },
    });
    await createStoreFile(join(dir, "tokenless.db"));
  });

  it("optout status prints nothing on stderr", async () => {
    const result = await cli("optout", "status", person, "--config", tokenlessConfigPath);

    expect(result.code).toBe(0);
    expect(result.stderr).toBe("");
  });

  it("other optout subcommands print no warning", async () => {
    const subcommands = [
      ["add", person],
      ["remove", person],
      ["history", person],
      ["list"],
      ["export"],
    ];

    for (const subcommand of subcommands) {
      const result = await cli("optout", ...subcommand, "--config", tokenlessConfigPath);

      expect(result.code, subcommand.join(" ")).toBe(0);
      expect(result.stderr, subcommand.join(" ")).toBe("");
    }
  });

  it("send warns about each missing token", async () => {
    const result = await cli(
      "send",
      ...["--to", person, "--body", "hi", "--config", tokenlessConfigPath],
    );

    expect(result.stderr).toContain(twilioWarning);
    expect(result.stderr).toContain(plivoWarning);
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

  it("empty --scope names the option", async () => {
    const result = await cli(
      "optout",
      "add",
      "+12025550178",
      "--scope",
      "",
      "--config",
      configPath,
    );
    const status = await cli("optout", "status", "+12025550178", "--json", "--config", configPath);

    expect(result.code).toBe(2);
    expect(result.stderr).toBe(
      "smsgate: --scope must not be empty; give a sender (phone number, short code, sender " +
        "ID or messaging service SID) or * for every sender\n" +
        'Run "smsgate help optout" for usage.\n',
    );
    expect(JSON.parse(status.stdout).optedOut).toBe(false);
  });

  it("invalid --scope names the option", async () => {
    const result = await cli(
      "optout",
      ...["status", "+12025550178", "--scope", "no sender!", "--config", configPath],
    );

    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/^smsgate: invalid --scope "no sender!": /);
    expect(result.stderr).toContain(
      "Give a sender (phone number, short code, sender ID or messaging service SID) or * " +
        "for every sender\n",
    );
    expect(result.stderr).not.toContain("Invalid phone number");
    expect(result.stderr).toContain('Run "smsgate help optout" for usage.');
  });
});

describe("simulate arguments", () => {
  it("unknown provider exits 2", async () => {
    const result = await cli("simulate", "telnyx", "inbound");

    expect(result.code).toBe(2);
    expect(result.stderr).toContain('unknown provider "telnyx"; use twilio, vonage, plivo');
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

/** A request as the recording server received it. */
interface Received {
  method: string;
  path: string;
  headers: IncomingHttpHeaders;
  body: string;
}

/** Starts a local server that records each request and returns 200 with empty TwiML. */
async function startRecorder() {
  const received: Received[] = [];
  const server = createServer((request, response) => {
    let body = "";

    request.setEncoding("utf8");
    request.on("data", (chunk: string) => {
      body += chunk;
    });
    request.on("end", () => {
      received.push({
        method: request.method ?? "",
        path: request.url ?? "",
        headers: request.headers,
        body,
      });
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

describe("send through vonage and plivo", () => {
  const send = (...args: string[]) =>
    cli("send", "--body", "hi", "--json", "--config", allConfigPath, ...args);

  it("default provider is twilio", async () => {
    const result = await send("--to", "+12025550181");
    const outcome = JSON.parse(result.stdout);

    expect(result.code).toBe(0);
    expect(outcome.provider).toBe("twilio");
    expect(api.messages.at(-1)?.to).toBe("+12025550181");
  });

  it("--provider vonage sends through vonage", async () => {
    const result = await send("--to", "+12025550182", "--provider", "vonage");
    const outcome = JSON.parse(result.stdout);

    expect(result.code).toBe(0);
    expect(outcome.provider).toBe("vonage");
    expect(outcome.messageId).toBe(vonageApi.messages.at(-1)?.id);
    expect(vonageApi.messages.at(-1)?.to).toBe("12025550182");
  });

  it("--provider plivo sends through plivo", async () => {
    const result = await send("--to", "+12025550183", "--provider", "plivo");
    const outcome = JSON.parse(result.stdout);

    expect(result.code).toBe(0);
    expect(outcome.provider).toBe("plivo");
    expect(outcome.messageId).toBe(plivoApi.messages.at(-1)?.messageUuid);
    expect(plivoApi.messages.at(-1)?.dst).toBe("12025550183");
  });

  it("vonage rejection exits 4", async () => {
    const result = await send("--to", "+12025550188", "--provider", "vonage");
    const outcome = JSON.parse(result.stdout);

    expect(result.code).toBe(4);
    expect(outcome.status).toBe("rejected");
    expect(outcome.provider).toBe("vonage");
    expect(outcome.reason).toBe("invalid-recipient");
    expect(outcome.code).toBe("7");
  });

  it("plivo invalid number exits 2", async () => {
    const before = plivoApi.requests.length;
    const result = await send("--to", "555-CALL-NOW", "--provider", "plivo");

    expect(result.code).toBe(2);
    expect(JSON.parse(result.stdout).status).toBe("invalid");
    expect(plivoApi.requests).toHaveLength(before);
  });

  it("unknown provider names the configured ones", async () => {
    const result = await send("--to", "+12025550184", "--provider", "telnyx");

    expect(result.code).toBe(2);
    expect(JSON.parse(result.stdout).message).toContain("twilio, vonage, plivo");
  });

  it("vonage opt-out refusal exits 3, recorded", async () => {
    const person = "+12025550185";
    const refusal = await startFakeVonageApi({
      respond: () => ({
        status: 422,
        json: {
          type: `https://developer.vonage.com/api-errors/messages#${vonageOptOutCode}`,
          title: "Opted out",
          detail: "The recipient has opted out of messages from this sender",
        },
      }),
    });
    const refusalConfig = await writeConfig(join(dir, "refusal"), {
      store: { type: "sqlite", path: join(dir, "refusal.db") },
      providers: {
        vonage: {
          apiKey: refusal.apiKey,
          apiSecret: refusal.apiSecret,
          signatureSecret: vonageSecret,
          from: sender,
          api: "messages",
          apiBaseUrl: refusal.url,
          optOutErrorCodes: [vonageOptOutCode],
        },
      },
    });
    const first = await cli("send", "--to", person, "--body", "hi", "--config", refusalConfig);
    const requests = refusal.requests.length;
    const second = await cli("send", "--to", person, "--body", "hi", "--config", refusalConfig);
    const status = await cli("optout", "status", person, "--json", "--config", refusalConfig);
    const state = JSON.parse(status.stdout);

    await refusal.close();

    expect(first.code).toBe(3);
    expect(first.stderr).toContain("vonage rejected the message");
    expect(first.stderr).toContain("now recorded");
    expect(second.code).toBe(3);
    expect(refusal.requests).toHaveLength(requests);
    expect(state.optedOut).toBe(true);
    expect(state.source).toBe("provider-refusal");
  });
});

describe("simulate vonage and plivo arguments", () => {
  const person = "+12025550143";
  const inbound = (provider: string, ...args: string[]) =>
    cli("simulate", provider, "inbound", "--from", person, "--to", sender, ...args);

  it("plivo rejects vonage options", async () => {
    const result = await inbound("plivo", "--body", "x", "--concat-ref", "7");

    expect(result.code).toBe(2);
    expect(result.stderr).toContain(
      'option --concat-ref does not apply to "simulate plivo inbound"',
    );
  });

  it("vonage rejects plivo options", async () => {
    const result = await inbound("vonage", "--body", "x", "--intent", "optout");

    expect(result.code).toBe(2);
    expect(result.stderr).toContain('option --intent does not apply to "simulate vonage inbound"');
  });

  it("invalid plivo intent exits 2", async () => {
    const result = await inbound("plivo", "--body", "x", "--intent", "stop");

    expect(result.code).toBe(2);
    expect(result.stderr).toContain('invalid --intent "stop"; use one of optout, optin, help');
  });

  it("missing plivo body exits 2", async () => {
    const result = await inbound("plivo");

    expect(result.code).toBe(2);
    expect(result.stderr).toContain("missing required option --body");
  });

  it("incomplete concat options exit 2", async () => {
    const result = await inbound(
      "vonage",
      "--body",
      "x",
      "--concat-ref",
      "7",
      "--concat-total",
      "3",
    );

    expect(result.code).toBe(2);
    expect(result.stderr).toContain("missing --concat-part");
  });

  it("concat part over total exits 2", async () => {
    const result = await inbound(
      "vonage",
      ...["--body", "x", "--concat-ref", "7", "--concat-total", "3", "--concat-part", "4"],
    );

    expect(result.code).toBe(2);
    expect(result.stderr).toContain('invalid --concat-part "4"; give a whole number from 1 to 3');
  });

  it("invalid method exits 2", async () => {
    const result = await inbound("plivo", "--body", "x", "--method", "PUT");

    expect(result.code).toBe(2);
    expect(result.stderr).toContain('invalid --method "PUT"; use GET or POST');
  });

  it("invalid plivo status exits 2", async () => {
    const result = await cli("simulate", "plivo", "status", "--message-id", "m1", "--status", "ok");

    expect(result.code).toBe(2);
    expect(result.stderr).toContain('invalid --status "ok"; use one of queued, sent');
  });

  it("invalid vonage receipt status exits 2", async () => {
    const result = await cli(
      "simulate",
      ...["vonage", "status", "--message-id", "m1", "--status", "sent", "--from", sender],
      ...["--to", person, "--config", allConfigPath, "--url", await closedPortUrl()],
    );

    expect(result.code).toBe(2);
    expect(result.stderr).toContain('invalid --status "sent"; use one of accepted');
  });

  it("vonage receipt without --to exits 2", async () => {
    const result = await cli(
      "simulate",
      ...["vonage", "status", "--message-id", "m1", "--status", "delivered", "--from", sender],
      ...["--config", allConfigPath, "--url", await closedPortUrl()],
    );

    expect(result.code).toBe(2);
    expect(result.stderr).toContain("give --to and --from");
  });

  it("GET on messages API exits 2", async () => {
    const result = await inbound(
      "vonage",
      ...["--body", "STOP", "--method", "GET", "--config", messagesConfigPath],
      ...["--url", await closedPortUrl()],
    );

    expect(result.code).toBe(2);
    expect(result.stderr).toContain("--method GET does not apply to the Vonage Messages API");
  });

  it("unconfigured provider exits 2", async () => {
    for (const provider of ["vonage", "plivo"]) {
      const result = await inbound(
        provider,
        ...["--body", "STOP", "--config", configPath, "--url", await closedPortUrl()],
      );

      expect(result.code, provider).toBe(2);
      expect(result.stderr, provider).toContain(`providers.${provider}: is not configured`);
    }
  });
});

/** Returns the first request a recorder received, failing when there is none. */
function firstReceived(recorder: { received: Received[] }): Received {
  const received = recorder.received[0];

  if (received === undefined) {
    throw new Error("the recording server received no request");
  }

  return received;
}

/** Turns a recorded request into the request a provider verifies. */
function webhookRequest(received: Received, origin: string): WebhookRequest {
  const headers = new Headers();

  for (const [name, value] of Object.entries(received.headers)) {
    if (typeof value === "string") {
      headers.set(name, value);
    }
  }

  return {
    method: received.method,
    url: `${origin}${received.path}`,
    headers,
    body: new TextEncoder().encode(received.body),
  };
}

describe("simulate vonage and plivo signing", () => {
  it("vonage sig verifies with sha1", async () => {
    const recorder = await startRecorder();
    const url = `http://127.0.0.1:${recorder.port}/webhooks/vonage/inbound`;
    const result = await cli(
      "simulate",
      ...["vonage", "inbound", "--from", "+12025550143", "--to", sender, "--body", "STOP"],
      ...["--message-id", "0A00000000000001", "--config", allConfigPath, "--url", url],
    );

    await recorder.close();

    const received = firstReceived(recorder);
    const request = webhookRequest(received, `http://127.0.0.1`);
    const parsed = parseVonageWebhook(request, "inbound");
    const params = parseFormBody(received.body ?? "");

    expect(result.code).toBe(0);
    expect(result.stderr).toContain("(inbound, messageId 0A00000000000001)");
    expect(received.method).toBe("POST");
    expect(received.headers["content-type"]).toContain("application/x-www-form-urlencoded");
    expect(params).toContainEqual(["msisdn", "12025550143"]);
    expect(params).toContainEqual(["to", "12025550100"]);
    expect(() =>
      verifyVonageWebhook(request, { signatureSecret: vonageSecret, signatureMethod: "sha1" }),
    ).not.toThrow();
    expect(() =>
      verifyVonageWebhook(request, { signatureSecret: vonageSecret, signatureMethod: "md5hash" }),
    ).toThrow();
    expect(parsed.inbound[0]?.from.value).toBe("+12025550143");
    expect(parsed.inbound[0]?.text).toBe("STOP");
    expect(params).toContainEqual(["api-key", vonageApi.apiKey]);
  });

  it("vonage GET carries sig in query", async () => {
    const recorder = await startRecorder();
    const url = `http://127.0.0.1:${recorder.port}/webhooks/vonage/status`;
    const result = await cli(
      "simulate",
      ...["vonage", "status", "--message-id", "0B00000000000002", "--status", "rejected"],
      ...["--error-code", "9", "--from", sender, "--to", "+12025550143", "--method", "GET"],
      ...["--config", allConfigPath, "--url", url],
    );

    await recorder.close();

    const received = firstReceived(recorder);
    const request = webhookRequest(received, "http://127.0.0.1");
    const report = parseVonageWebhook(request, "status").reports[0];

    expect(result.code).toBe(0);
    expect(received.method).toBe("GET");
    expect(received.body).toBe("");
    expect(received.path).toMatch(/^\/webhooks\/vonage\/status\?.*&sig=[0-9a-f]+/);
    expect(() =>
      verifyVonageWebhook(request, { signatureSecret: vonageSecret, signatureMethod: "sha1" }),
    ).not.toThrow();
    expect(report?.errorCode).toBe("9");
    expect(report?.reason).toBe("opted-out");
    expect(report?.to?.value).toBe("+12025550143");
    expect(received.path).toContain(`api-key=${vonageApi.apiKey}&`);
  });

  it("vonage messages JWT verifies", async () => {
    const recorder = await startRecorder();
    const url = `http://127.0.0.1:${recorder.port}/webhooks/vonage/inbound`;
    const result = await cli(
      "simulate",
      ...["vonage", "inbound", "--from", "+12025550143", "--to", sender, "--body", "STOP"],
      ...["--config", messagesConfigPath, "--url", url],
    );

    await recorder.close();

    const received = firstReceived(recorder);
    const request = webhookRequest(received, "http://127.0.0.1");
    const body = JSON.parse(received.body ?? "{}");

    expect(result.code).toBe(0);
    expect(result.stderr).toContain(`message_uuid ${body.message_uuid}`);
    expect(received.headers.authorization).toMatch(/^Bearer /);
    expect(received.headers["content-type"]).toBe("application/json");
    expect(body.text).toBe("STOP");
    expect(body.from).toBe("12025550143");
    expect(() => verifyVonageWebhook(request, { signatureSecret: vonageSecret })).not.toThrow();
    expect(() => verifyVonageWebhook(request, { signatureSecret: "other" })).toThrow();
  });

  it("plivo signs publicUrl plus path", async () => {
    const recorder = await startRecorder();
    const authToken = "plivo-public-token";
    const publicConfig = await writeConfig(join(dir, "plivo-public"), {
      publicUrl: "https://sms.example.com/base",
      store: { type: "sqlite", path: join(dir, "plivo-public.db") },
      providers: { plivo: { authId: plivoApi.authId, authToken, from: sender } },
    });
    const target = `http://127.0.0.1:${recorder.port}/webhooks/plivo/inbound?tenant=a`;
    const result = await cli(
      "simulate",
      ...["plivo", "inbound", "--from", "+12025550143", "--to", sender, "--body", "hello"],
      ...["--intent", "OPTOUT", "--config", publicConfig, "--url", target],
    );

    await recorder.close();

    const received = firstReceived(recorder);
    const publicRequest = webhookRequest(received, "https://sms.example.com/base");
    const localRequest = webhookRequest(received, "http://127.0.0.1");
    const message = parsePlivoWebhook(publicRequest, "inbound").inbound[0];

    expect(result.code).toBe(0);
    expect(received.path).toBe("/webhooks/plivo/inbound?tenant=a");
    expect(received.headers["x-plivo-signature-v3"]).toBeDefined();
    expect(received.headers["x-plivo-signature-v2"]).toBeDefined();
    expect(() => verifyPlivoWebhook(publicRequest, { authToken })).not.toThrow();
    expect(() => verifyPlivoWebhook(localRequest, { authToken })).toThrow();
    expect(message?.providerIntent).toBe("opt-out");
    expect(message?.from.value).toBe("+12025550143");
  });

  it("plivo GET signs URL with query", async () => {
    const recorder = await startRecorder();
    const listenConfig = await writeConfig(join(dir, "plivo-listen"), {
      listen: { host: "127.0.0.1", port: recorder.port },
      store: { type: "sqlite", path: join(dir, "plivo-listen.db") },
      providers: {
        plivo: { authId: plivoApi.authId, authToken: plivoApi.authToken, from: sender },
      },
    });
    const result = await cli(
      "simulate",
      ...["plivo", "status", "--message-id", "5c1f0e2d-4a60-4a77-9e3b-0f6b7c2e1d5a"],
      ...["--status", "failed", "--error-code", "200", "--to", "+12025550143"],
      ...["--method", "GET", "--config", listenConfig],
    );

    await recorder.close();

    const received = firstReceived(recorder);
    const request = webhookRequest(received, `http://127.0.0.1:${recorder.port}`);
    const report = parsePlivoWebhook(request, "status").reports[0];

    expect(result.code).toBe(0);
    expect(received.method).toBe("GET");
    expect(received.path).toMatch(/^\/webhooks\/plivo\/status\?MessageUUID=/);
    expect(() =>
      verifyPlivoWebhook(request, { authToken: plivoApi.authToken, requireV3Signature: true }),
    ).not.toThrow();
    expect(report?.errorCode).toBe("200");
    expect(report?.reason).toBe("opted-out");
  });

  it("twilio GET signs URL with query", async () => {
    const recorder = await startRecorder();
    const url = `http://127.0.0.1:${recorder.port}/webhooks/twilio/inbound`;
    const result = await cli(
      "simulate",
      ...["twilio", "inbound", "--from", "+12025550143", "--to", sender, "--body", "STOP"],
      ...["--method", "get", "--config", configPath, "--url", url],
    );

    await recorder.close();

    const received = firstReceived(recorder);
    const signature = signTwilioRequest({
      authToken: api.authToken,
      url: `http://127.0.0.1:${recorder.port}${received.path}`,
      params: [],
    });

    expect(result.code).toBe(0);
    expect(received.method).toBe("GET");
    expect(received.path).toContain("Body=STOP");
    expect(received.headers["x-twilio-signature"]).toBe(signature);
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
