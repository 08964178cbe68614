import { describe, expect, it } from "vitest";
import { runCli } from "../src/cli/main.js";
import { captureIo } from "./helpers/io.js";

async function cli(...argv: string[]) {
  const io = captureIo();
  const code = await runCli(argv, io);

  return { code, stdout: io.out(), stderr: io.err() };
}

describe("option without a value", () => {
  it.each([
    [["serve", "--config"], "option --config needs a value: give the path of a configuration file"],
    [["serve", "-c"], "option --config needs a value: give the path of a configuration file"],
    [["send", "--config"], "option --config needs a value: give the path of a configuration file"],
    [["optout", "list", "--config"], "option --config needs a value"],
    [["simulate", "twilio", "inbound", "--config"], "option --config needs a value"],
    [["send", "--body", "hi", "--to"], "option --to needs a value: give a phone number"],
    [["optout", "list", "--scope"], "option --scope needs a value: give a sender"],
    [["simulate", "twilio", "status", "--status"], "option --status needs a value: give a status"],
  ])("%j names the long option", async (argv, message) => {
    const result = await cli(...argv);

    expect(result.code).toBe(2);
    expect(result.stderr).toContain(`smsgate: ${message}`);
    expect(result.stderr).not.toContain("-c,");
  });

  it("value starting with a dash names the fix", async () => {
    const result = await cli("serve", "-c", "--json");

    expect(result.code).toBe(2);
    expect(result.stderr).toContain(
      "option --config needs a value; write --config=VALUE for a value that starts with -",
    );
  });

  it("value of a flag names the long option", async () => {
    const result = await cli("serve", "--help=yes");

    expect(result.code).toBe(2);
    expect(result.stderr).toContain("option --help does not take a value");
  });
});

describe("send usage errors under --json", () => {
  it.each([
    [["--to", "+12025550143", "--body", ""], "--body must not be empty"],
    [["--body", "hi"], "missing required option --to"],
    [["--to", "+12025550143"], "missing required option --body"],
    [["--to", "", "--body", "hi"], "--to must not be empty"],
    [["--to", "+12025550143", "--body", "hi", "--from", " "], "--from must not be empty"],
    [["--to", "+12025550143", "--body", "hi", "--config", ""], "--config must not be empty"],
    [["--to", "+12025550143", "--body", "hi", "extra"], 'unexpected argument "extra"'],
    [["--to", "+12025550143", "--body", "hi", "--bogus"], "unknown option --bogus"],
    [["--body", "hi", "--to"], "option --to needs a value"],
  ])("%j prints the invalid outcome", async (args, message) => {
    const result = await cli("send", "--json", ...args);
    const outcome = JSON.parse(result.stdout);

    expect(result.code).toBe(2);
    expect(result.stderr).toBe("");
    expect(Object.keys(outcome)).toEqual([
      "status",
      "to",
      "provider",
      "messageId",
      "reason",
      "code",
      "message",
    ]);
    expect(outcome.status).toBe("invalid");
    expect(outcome.message).toContain(message);
    expect(outcome.message).toContain('Run "smsgate help send" for usage.');
  });

  it("names the recipient and provider given", async () => {
    const result = await cli(
      "send",
      ...["--to", "+12025550143", "--provider", "twilio", "--body", "", "--json"],
    );
    const outcome = JSON.parse(result.stdout);

    expect(outcome.to).toBe("+12025550143");
    expect(outcome.provider).toBe("twilio");
    expect(outcome.messageId).toBeNull();
  });

  it("--json after -- is not the option", async () => {
    const result = await cli("send", "--bogus", "--", "--json");

    expect(result.code).toBe(2);
    expect(result.stdout).toBe("");
    expect(result.stderr).toContain("unknown option --bogus");
  });

  it("prints text without --json", async () => {
    const result = await cli("send", "--to", "+12025550143", "--body", "");

    expect(result.code).toBe(2);
    expect(result.stdout).toBe("");
    expect(result.stderr).toContain("smsgate: --body must not be empty");
  });
});
