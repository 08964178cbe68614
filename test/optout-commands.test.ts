import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import Database from "better-sqlite3";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { twilio } from "../providers/twilio/index.js";
import { runCli } from "../src/cli/main.js";
import { earliestOccurredAt, maxClockSkewMs } from "../src/cli/optout-import.js";
import { pseudonymKeyCheck, pseudonymOf } from "../src/consent/erasure.js";
import { Gateway } from "../src/gateway/gateway.js";
import { openSqliteStore } from "../src/stores/sqlite.js";
import { type FakeTwilioApi, startFakeTwilioApi } from "../src/testing/fake-twilio.js";
import { buildTwilioInbound, signedTwilioRequest } from "../src/testing/twilio.js";
import { createStoreFile, makeTempDir, removeTempDir, writeConfig } from "./helpers/cli.js";
import { captureIo } from "./helpers/io.js";

const KEY = "optout-test-pseudonym-key-0123456789abcdef";
const ENV = { SMSGATE_PSEUDONYM_KEY: KEY };

let dir: string;
let configPath: string;
let otherConfigPath: string;
let keylessConfigPath: string;
let fileCounter = 0;
let api: FakeTwilioApi;

beforeAll(async () => {
  dir = await makeTempDir("smsgate-optout-");
  api = await startFakeTwilioApi();
  // biome-ignore lint/suspicious/noTemplateCurlyInString: a configuration reference
  const privacy = { pseudonymKey: "${SMSGATE_PSEUDONYM_KEY}" };
  configPath = await writeConfig(dir, {
    store: { type: "sqlite", path: join(dir, "a.db") },
    defaultRegion: "US",
    privacy,
    providers: {
      twilio: {
        accountSid: api.accountSid,
        authToken: api.authToken,
        from: "+12025550100",
        apiBaseUrl: api.url,
      },
    },
  });
  otherConfigPath = await writeConfig(join(dir, "other"), {
    store: { type: "sqlite", path: join(dir, "b.db") },
    privacy,
  });
  keylessConfigPath = await writeConfig(join(dir, "keyless"), {
    store: { type: "sqlite", path: join(dir, "c.db") },
  });

  // Only `serve` creates a missing store, so the stores are created here.
  for (const name of ["a.db", "b.db", "c.db"]) {
    await createStoreFile(join(dir, name));
  }
});

afterAll(async () => {
  await api?.close();
  await removeTempDir(dir);
});

async function cli(...args: string[]) {
  const io = captureIo(ENV);
  const code = await runCli(args, io);

  return { code, stdout: io.out(), stderr: io.err() };
}

async function csvFile(text: string): Promise<string> {
  fileCounter += 1;
  const path = join(dir, `import-${fileCounter}.csv`);
  await writeFile(path, text);
  return path;
}

/**
 * Writes a configuration for the store `<name>.db` in the test directory, created when
 * missing, with `key` as its pseudonym key or none.
 */
async function keyedStoreConfig(name: string, key: string | undefined): Promise<string> {
  const path = join(dir, `${name}.db`);
  const privacy = key === undefined ? {} : { privacy: { pseudonymKey: key } };
  fileCounter += 1;

  await createStoreFile(path);
  return writeConfig(join(dir, `config-${fileCounter}`), {
    store: { type: "sqlite", path },
    ...privacy,
  });
}

async function status(phone: string, config = configPath) {
  const result = await cli("optout", "status", phone, "--json", "--config", config);
  return JSON.parse(result.stdout) as Record<string, unknown>;
}

describe("optout import", () => {
  it("reports a store failure as JSON", async () => {
    const config = await keyedStoreConfig("rejecting", undefined);
    const db = new Database(join(dir, "rejecting.db"));
    db.exec(
      "CREATE TRIGGER reject_events BEFORE INSERT ON consent_events " +
        "BEGIN SELECT RAISE(ABORT, 'inserts are switched off'); END",
    );
    db.close();
    const file = await csvFile("phone\n+12025550897\n");

    const result = await cli("optout", "import", file, "--json", "--config", config);
    const report = JSON.parse(result.stdout);

    expect(result.code).toBe(1);
    expect(report.imported).toBe(0);
    expect(report.error).toContain(`import of ${file} failed`);
    expect(report.error).toContain("inserts are switched off");
    expect(result.stderr).toContain("Nothing was imported; run the import again");
  });

  it("reads actions in any case", async () => {
    const file = await csvFile(
      "phone,action,scope,occurredAt\n" +
        "+12025550237,OPT-OUT,*,2025-01-15T10:00:00Z\n" +
        "+12025550238,Opt-Out,*,2025-01-15T10:00:00Z\n" +
        "+12025550238,Opt-In,*,2025-01-16T10:00:00Z\n",
    );

    const result = await cli("optout", "import", file, "--json", "--config", configPath);

    expect(result.code).toBe(0);
    expect(JSON.parse(result.stdout).imported).toBe(3);
    expect((await status("+12025550237")).optedOut).toBe(true);
    expect((await status("+12025550238")).optedOut).toBe(false);
  });

  it("rejected file reports JSON too", async () => {
    const file = await csvFile("name\nAnn\n");

    const result = await cli("optout", "import", file, "--json", "--config", configPath);
    const report = JSON.parse(result.stdout);

    expect(result.code).toBe(2);
    expect(report).toMatchObject({ imported: 0, skipped: 0, duplicate: false });
    expect(report.error).toContain("no phone column");
    expect(result.stderr).toContain("no phone column");
  });

  it("file without valid rows is no duplicate", async () => {
    const file = await csvFile("phone,action\n+12025550246,maybe\n");

    const first = await cli("optout", "import", file, "--json", "--config", configPath);
    const second = await cli("optout", "import", file, "--json", "--config", configPath);

    expect(first.code).toBe(5);
    expect(JSON.parse(second.stdout)).toMatchObject({ imported: 0, skipped: 1, duplicate: false });
  });

  it("skips an opt-in without scope", async () => {
    const phone = "+12025550242";
    await cli("optout", "add", phone, "--scope", "+12025550101", "--config", configPath);
    // A misspelled scope column: the row would otherwise lift the opt-outs of every sender.
    const file = await csvFile(`phone,action,scpe\n${phone},opt-in,+12025550100\n`);

    const result = await cli("optout", "import", file, "--json", "--config", configPath);
    const report = JSON.parse(result.stdout);
    const scoped = await cli(
      ...["optout", "status", phone, "--scope", "+12025550101", "--json"],
      ...["--config", configPath],
    );

    expect(result.code).toBe(5);
    expect(report.imported).toBe(0);
    expect(report.errors[0].message).toContain("opt-in has no scope");
    expect(report.warnings[0].message).toContain('unknown column "scpe"');
    expect(JSON.parse(scoped.stdout).optedOut).toBe(true);
  });

  it("imports valid rows and reports others", async () => {
    const file = await csvFile(
      "\uFEFFphone,action,scope,occurredAt,note\r\n" +
        '+12025550201,,,2025-01-15T10:00:00Z,"asked by mail, twice"\r\n' +
        "(202) 555-0202,opt-out,*,,\r\n" +
        "555-CALL-NOW,,,,\r\n" +
        "+12025550203,remove,,,\r\n" +
        "+12025550204,,,yesterday,\r\n" +
        "+12025550205,,\r\n" +
        "+12025550206,opt-in,*,,\r\n\r\n",
    );

    const result = await cli("optout", "import", file, "--json", "--config", configPath);
    const report = JSON.parse(result.stdout);

    expect(result.code).toBe(5);
    expect(report.imported).toBe(3);
    expect(report.skipped).toBe(4);
    expect(report.errors.map((e: { line: number }) => e.line)).toEqual([4, 5, 6, 7]);
    expect(report.errors[0].message).toContain('invalid phone number "555-CALL-NOW"');
    expect(report.errors[1].message).toContain("unknown action");
    expect(report.errors[2].message).toContain("invalid occurredAt");
    expect(report.errors[3].message).toContain("has 3 fields");
    expect((await status("+12025550201")).optedOut).toBe(true);
    expect((await status("+12025550202")).source).toBe("import");
    expect((await status("+12025550206")).optedOut).toBe(false);
  });

  it("second import writes nothing", async () => {
    const file = await csvFile("phone\n+12025550210\n");

    const first = await cli("optout", "import", file, "--config", configPath);
    const second = await cli("optout", "import", file, "--config", configPath);
    const history = await cli(
      "optout",
      "history",
      "+12025550210",
      "--json",
      "--config",
      configPath,
    );

    expect(first.code).toBe(0);
    expect(first.stdout).toContain("Imported 1 event from");
    expect(second.code).toBe(0);
    expect(second.stdout).toContain("imported before");
    expect(JSON.parse(history.stdout)).toHaveLength(1);
  });

  it("missing file exits 2", async () => {
    const result = await cli("optout", "import", join(dir, "nope.csv"), "--config", configPath);

    expect(result.code).toBe(2);
    expect(result.stderr).toContain("not found");
  });

  it("header without phone exits 2", async () => {
    const file = await csvFile("number,action\n+12025550211,opt-out\n");

    const result = await cli("optout", "import", file, "--config", configPath);

    expect(result.code).toBe(2);
    expect(result.stderr).toContain("no phone column");
    expect((await status("+12025550211")).optedOut).toBe(false);
  });

  it("reports an unknown column", async () => {
    const file = await csvFile("phone,colour\n+12025550212,red\n");

    const result = await cli("optout", "import", file, "--json", "--config", configPath);
    const report = JSON.parse(result.stdout);

    expect(report.imported).toBe(1);
    expect(report.errors).toEqual([]);
    expect(report.warnings[0].line).toBe(1);
    expect(report.warnings[0].message).toContain('unknown column "colour"');
  });

  it("skips a future occurredAt", async () => {
    const soon = new Date(Date.now() + maxClockSkewMs / 2).toISOString();
    const file = await csvFile(
      "phone,action,scope,occurredAt,note\n" +
        "+12025550195,opt-out,*,2025-01-15T10:00:00Z,\n" +
        "+12025550195,opt-in,*,2999-01-01T00:00:00Z,typo year\n" +
        "+12025550196,opt-out,*,2999-01-01,\n" +
        `+12025550197,opt-out,*,${soon},clock ahead\n`,
    );

    const result = await cli("optout", "import", file, "--json", "--config", configPath);
    const report = JSON.parse(result.stdout);

    expect(result.code).toBe(5);
    expect(report.imported).toBe(2);
    expect(report.skipped).toBe(2);
    expect(report.errors.map((e: { line: number }) => e.line)).toEqual([3, 4]);
    expect(report.errors[0].message).toContain(
      'occurredAt "2999-01-01T00:00:00Z" is in the future',
    );
    expect(report.errors[0].message).toContain("correct the date");
    expect((await status("+12025550195")).optedOut).toBe(true);
    expect((await status("+12025550196")).optedOut).toBe(false);
    expect((await status("+12025550197")).optedOut).toBe(true);
  });

  it("rejects dates that roll over", async () => {
    const cases: Array<[string, string]> = [
      ["2024-02-30T00:00:00Z", "day 30 does not exist in 2024-02, which has 29 days"],
      ["2023-02-29", "day 29 does not exist in 2023-02, which has 28 days"],
      ["2024-04-31", "day 31 does not exist in 2024-04, which has 30 days"],
      ["2024-01-00", "day 00 does not exist in 2024-01, which has 31 days"],
      ["2024-13-01", "month 13 does not exist"],
      ["2024-00-10", "month 00 does not exist"],
      ["2024-01-01T24:00:00Z", "hour 24 is out of range (00 to 23)"],
      ["2024-01-01T23:60:00Z", "minute 60 is out of range (00 to 59)"],
      ["2024-01-01T23:59:60Z", "second 60 is out of range (00 to 59)"],
      ["2024-01-01T10:00:00+24:00", "UTC offset hour 24 is out of range (00 to 23)"],
      ["2024-01-01T10:00:00+05:60", "UTC offset minute 60 is out of range (00 to 59)"],
    ];
    const rows = cases.map(([time], index) => `+1202555040${index % 10},${time}`);
    const file = await csvFile(
      `phone,occurredAt\n${rows.join("\n")}\n+12025550411,2024-02-29T23:59:59Z\n`,
    );

    const result = await cli("optout", "import", file, "--json", "--config", configPath);
    const report = JSON.parse(result.stdout);

    expect(result.code).toBe(5);
    expect(report.imported).toBe(1);
    expect(report.skipped).toBe(cases.length);
    cases.forEach(([time, reason], index) => {
      expect(report.errors[index]).toEqual({
        line: index + 2,
        message: `invalid occurredAt ${JSON.stringify(time)}: ${reason}`,
      });
    });
    expect((await status("+12025550400")).optedOut).toBe(false);

    const leapDay = await status("+12025550411");
    expect(leapDay.optedOut).toBe(true);
    expect(leapDay.since).toBe("2024-02-29T23:59:59.000Z");
  });

  it("STOP after future opt-in wins", async () => {
    const file = await csvFile("phone,action,occurredAt\n+12025550198,opt-in,2999-01-01\n");

    await cli("optout", "import", file, "--config", configPath);
    await cli("optout", "add", "+12025550198", "--config", configPath);
    const history = await cli(
      "optout",
      "history",
      "+12025550198",
      "--json",
      "--config",
      configPath,
    );

    expect((await status("+12025550198")).optedOut).toBe(true);
    expect(JSON.parse(history.stdout)).toHaveLength(1);
  });

  it("skips an occurredAt before 1990", async () => {
    const file = await csvFile("phone,occurredAt\n+12025550199,1899-12-31T00:00:00Z\n");

    const result = await cli("optout", "import", file, "--config", configPath);

    expect(result.code).toBe(5);
    expect(result.stdout).toContain("Imported 0 events");
    expect(result.stdout).toContain(
      `line 2: occurredAt "1899-12-31T00:00:00Z" is before ${earliestOccurredAt.toISOString()}`,
    );
  });

  it("unclosed quote fails the import", async () => {
    const rows = Array.from({ length: 9 }, (_, i) => `+1202555030${i},`);
    const file = await csvFile(
      `phone,note\n${rows.join("\n")}\n+12025550310,"never closed\n+12025550311,\n`,
    );

    const result = await cli("optout", "import", file, "--json", "--config", configPath);
    const history = await cli(
      "optout",
      "history",
      "+12025550300",
      "--json",
      "--config",
      configPath,
    );

    expect(result.code).toBe(2);
    expect(JSON.parse(result.stdout)).toMatchObject({ imported: 0 });
    expect(result.stderr).toContain("invalid CSV on line 11");
    expect(result.stderr).toContain("not closed by the end of the file");
    expect(result.stderr).toContain("Nothing was imported");
    expect(JSON.parse(history.stdout)).toEqual([]);
  });

  it("stray quote fails the import", async () => {
    const file = await csvFile('phone,note\n+12025550312,\n+12025550313,say "hi"\n');

    const result = await cli("optout", "import", file, "--config", configPath);

    expect(result.code).toBe(2);
    expect(result.stderr).toContain("invalid CSV on line 3: a quote inside an unquoted field");
    expect((await status("+12025550312")).optedOut).toBe(false);
  });

  it("reads sender identities", async () => {
    const service = "MG0123456789abcdef0123456789abcdef";
    const file = await csvFile(
      `phone\nwhatsapp:+12025550133\nACME\n${service}\n(202) 555-0134\n555-CALL-NOW\n`,
    );

    const result = await cli("optout", "import", file, "--json", "--config", configPath);
    const report = JSON.parse(result.stdout);
    const warned = report.warnings.map((warning: { line: number }) => warning.line);

    expect(result.code).toBe(5);
    expect(report.imported).toBe(4);
    expect(report.skipped).toBe(1);
    expect(warned).toEqual([2, 3, 4]);
    expect(report.warnings[0].message).toContain("is a channel address, not a phone number");
    expect(report.warnings[1].message).toContain("is an alphanumeric sender ID");
    expect(report.warnings[2].message).toContain("is a messaging service SID");
    expect(report.errors).toHaveLength(1);
    expect(report.errors[0].line).toBe(6);
    expect(report.errors[0].message).toContain('invalid phone number "555-CALL-NOW"');
    expect((await status("whatsapp:+12025550133")).optedOut).toBe(true);
    expect((await status("ACME")).optedOut).toBe(true);
    expect((await status(service)).optedOut).toBe(true);
    expect((await status("+12025550134")).optedOut).toBe(true);
    expect((await status("+12025550133")).optedOut).toBe(false);
  });

  it("skipped lines exit 5", async () => {
    const file = await csvFile("phone,occurredAt\n+12025550214,\n+12025550215,2026-02-30\n");

    const result = await cli("optout", "import", file, "--config", configPath);

    expect(result.code).toBe(5);
    expect(result.stdout).toContain("Imported 1 event");
    expect(result.stdout).toContain("Skipped 1 invalid line.");
    expect((await status("+12025550214")).optedOut).toBe(true);
  });

  it("repeated column rejects the file", async () => {
    const file = await csvFile("phone,phone,action\n+12025550224,+12025550225,opt-out\n");

    const result = await cli("optout", "import", file, "--config", configPath);

    expect(result.code).toBe(2);
    expect(result.stderr).toContain('names the column "phone" more than once');
    expect(result.stderr).toContain("Nothing was imported");
    expect((await status("+12025550224")).optedOut).toBe(false);
    expect((await status("+12025550225")).optedOut).toBe(false);
  });

  it("reads column names in any case", async () => {
    const file = await csvFile("PHONE,Action,OCCURREDAT\n+12025550226,opt-out,2025-01-15\n");
    const repeated = await csvFile("phone,action,Phone\n+12025550227,opt-out,+12025550229\n");

    const result = await cli("optout", "import", file, "--json", "--config", configPath);
    const rejected = await cli("optout", "import", repeated, "--config", configPath);

    expect(result.code).toBe(0);
    expect(JSON.parse(result.stdout).errors).toEqual([]);
    expect((await status("+12025550226")).since).toBe("2025-01-15T00:00:00.000Z");
    expect(rejected.code).toBe(2);
    expect(rejected.stderr).toContain('names the column "phone" more than once');
  });

  it("notes a word in the phone column", async () => {
    const file = await csvFile("phone,action\n+12025550228,opt-out\nbad,opt-out\n");

    const result = await cli("optout", "import", file, "--json", "--config", configPath);
    const report = JSON.parse(result.stdout);

    expect(result.code).toBe(0);
    expect(report.imported).toBe(2);
    expect(report.skipped).toBe(0);
    expect(report.errors).toEqual([]);
    expect(report.warnings).toHaveLength(1);
    expect(report.warnings[0].line).toBe(3);
    expect(report.warnings[0].message).toContain("blocks no send");
  });

  it("prints warnings apart from skipped lines", async () => {
    const file = await csvFile("phone,action\nbad,opt-out\n+12025550229,maybe\n");

    const result = await cli("optout", "import", file, "--config", configPath);
    const lines = result.stdout.split("\n");

    expect(result.code).toBe(5);
    expect(lines[0]).toMatch(/^Imported 1 event from /);
    expect(lines[1]).toBe("Warnings on 1 imported line:");
    expect(lines[2]).toMatch(/^ {2}line 2: phone "bad" .* blocks no send/);
    expect(lines[3]).toBe("Skipped 1 invalid line.");
    expect(lines[4]).toMatch(/^ {2}line 3: /);
  });

  it("skips a malformed pseudonym", async () => {
    const upper = pseudonymOf(KEY, "+12025550244").toUpperCase();
    const check = pseudonymKeyCheck(KEY);
    const file = await csvFile(
      `phone,pseudonymKeyCheck\n+12025550245,\nerased:abc,\n${upper},${check}\n`,
    );

    const result = await cli("optout", "import", file, "--json", "--config", configPath);
    const report = JSON.parse(result.stdout);

    expect(result.code).toBe(5);
    expect(report.imported).toBe(2);
    expect(report.skipped).toBe(1);
    expect(report.errors[0].line).toBe(3);
    expect(report.errors[0].message).toContain("not a pseudonym");
    expect((await status("+12025550244")).optedOut).toBe(true);
  });

  it("store failure exits 1", async () => {
    const broken = await writeConfig(join(dir, "broken"), {
      store: { type: "postgres", url: "postgres://nobody@127.0.0.1:1/none" },
    });
    const file = await csvFile("phone\n+12025550213\n");

    const result = await cli("optout", "import", file, "--config", broken);

    expect(result.code).toBe(1);
  });
});

describe("optout export", () => {
  it("round-trips into another store", async () => {
    const file = await csvFile('phone,scope,note\n+12025550220,+12025550100,"a, ""b"""\n');
    await cli("optout", "import", file, "--config", configPath);

    const exported = await cli("optout", "export", "--config", configPath);
    const copy = await csvFile(exported.stdout);
    const imported = await cli("optout", "import", copy, "--json", "--config", otherConfigPath);
    const state = await status("+12025550220", otherConfigPath);

    expect(exported.stdout.split("\n")[0]).toBe(
      "phone,action,scope,occurredAt,note,pseudonymKeyCheck",
    );
    expect(JSON.parse(imported.stdout).skipped).toBe(0);
    expect(state.optedOut).toBe(true);
    expect(state.sender).toBe("+12025550100");
  });

  it("carries one sender's block past another's opt-in", async () => {
    const phone = "+12025550236";
    const first = "+12025550100";
    const second = "+12025550199";
    await cli("optout", "add", phone, "--scope", first, "--config", configPath);
    await cli("optout", "remove", phone, "--scope", second, "--config", configPath);

    const exported = await cli("optout", "export", "--config", configPath);
    const copy = await csvFile(exported.stdout);
    const imported = await cli("optout", "import", copy, "--json", "--config", otherConfigPath);
    const optedOut = async (scope: string, config: string) => {
      const result = await cli(
        "optout",
        "status",
        phone,
        "--scope",
        scope,
        "--json",
        "--config",
        config,
      );

      return JSON.parse(result.stdout).optedOut as boolean;
    };
    const rows = exported.stdout.split("\n").filter((line) => line.startsWith(phone));

    expect(rows).toHaveLength(2);
    expect(rows[0]).toContain(`,opt-out,${first},`);
    expect(rows[1]).toContain(`,opt-in,${second},`);
    expect(JSON.parse(imported.stdout).skipped).toBe(0);
    expect(await optedOut(first, otherConfigPath)).toBe(true);
    expect(await optedOut(second, otherConfigPath)).toBe(false);
    expect(await optedOut("*", otherConfigPath)).toBe(await optedOut("*", configPath));
  });

  it("status with a sender shows what a send reads", async () => {
    const phone = "+12025550243";
    await cli("optout", "add", phone, "--scope", "+12025550100", "--config", configPath);

    const other = await cli(
      ...["optout", "status", phone, "--scope", "+12025550101", "--json"],
      ...["--config", configPath],
    );
    const text = await cli(
      ...["optout", "status", "+12025550277", "--scope", "+12025550101"],
      ...["--config", configPath],
    );
    const state = JSON.parse(other.stdout);

    // Under the default global scope, a send from any number is refused.
    expect(state.optedOut).toBe(true);
    expect(state.scope).toBe("+12025550101");
    expect(state.sender).toBe("+12025550100");
    expect(text.stdout).toContain("no consent events are recorded for this scope");
  });

  it("scope takes the digits send --from takes", async () => {
    const phone = "+12025550245";
    await cli("optout", "add", phone, "--scope", "12025550100", "--config", configPath);

    const result = await cli(
      ...["optout", "status", phone, "--scope", "+12025550100", "--json"],
      ...["--config", configPath],
    );

    expect(JSON.parse(result.stdout)).toMatchObject({ optedOut: true, sender: "+12025550100" });
  });

  it("status names a sender still blocked", async () => {
    const phone = "+12025550239";
    const first = "+12025550100";
    const second = "+12025550199";
    await cli("optout", "add", phone, "--scope", first, "--config", configPath);
    await cli("optout", "remove", phone, "--scope", second, "--config", configPath);

    const json = await status(phone);
    const text = await cli("optout", "status", phone, "--config", configPath);

    expect(json.optedOut).toBe(false);
    expect(json.blockedSenders).toEqual([
      { sender: first, since: expect.any(String), source: "manual" },
    ]);
    expect(text.stdout).toContain(`${phone} is not opted out (scope *)`);
    expect(text.stdout).toContain(`  but opted out for sender ${first} since `);
  });

  it("status omits senders * lifted", async () => {
    const phone = "+12025550238";
    await cli("optout", "add", phone, "--scope", "+12025550100", "--config", configPath);
    await cli("optout", "remove", phone, "--config", configPath);

    const json = await status(phone);
    const text = await cli("optout", "status", phone, "--config", configPath);

    // The guard reads the sender's row and the newer row of `*`, which lets the send go.
    expect(json.optedOut).toBe(false);
    expect(json.blockedSenders).toEqual([]);
    expect(text.stdout).not.toContain("but opted out for sender");
  });

  it("status names a remaining * opt-out", async () => {
    const phone = "+12025550237";
    await cli("optout", "add", phone, "--config", configPath);
    await cli("optout", "remove", phone, "--scope", "+12025550199", "--config", configPath);

    const json = await status(phone);
    const text = await cli("optout", "status", phone, "--config", configPath);
    const send = await cli(
      ...["send", "--to", phone, "--body", "hi", "--from", "+12025550100"],
      ...["--config", configPath],
    );

    expect(json.optedOut).toBe(false);
    expect(json.blockedSenders).toEqual([
      { sender: "*", since: expect.any(String), source: "manual" },
    ]);
    expect(text.stdout).toContain("but opted out for every sender without a newer opt-in");
    expect(send.code).toBe(3);
  });

  it("round-trips webhook senders", async () => {
    const source = await writeConfig(join(dir, "webhook-source"), {
      store: { type: "sqlite", path: join(dir, "d.db") },
    });
    const target = await writeConfig(join(dir, "webhook-target"), {
      store: { type: "sqlite", path: join(dir, "e.db") },
    });
    await createStoreFile(join(dir, "e.db"));
    const senders = ["whatsapp:+12025550133", "ACME", "+12025550135"];
    const store = openSqliteStore({ path: join(dir, "d.db") });
    const provider = twilio({ accountSid: api.accountSid, authToken: api.authToken });
    const gateway = new Gateway({ providers: [provider], store });
    const url = "https://sms.example.com/webhooks/twilio/inbound";

    for (const from of senders) {
      const stop = buildTwilioInbound({
        from,
        to: "+12025550100",
        body: "STOP",
        accountSid: api.accountSid,
      });
      const request = signedTwilioRequest({ authToken: api.authToken, url, params: stop.params });
      const answer = await gateway.handleWebhook("twilio", request, { kind: "inbound" });

      expect(answer.status).toBe(200);
    }

    await store.close();
    const exported = await cli("optout", "export", "--config", source);
    const copy = await csvFile(exported.stdout);
    const imported = await cli("optout", "import", copy, "--json", "--config", target);
    const report = JSON.parse(imported.stdout);

    expect(report.imported).toBe(senders.length);
    expect(report.skipped).toBe(0);

    for (const sender of senders) {
      const history = await cli("optout", "history", sender, "--json", "--config", target);
      const events = JSON.parse(history.stdout);

      expect((await status(sender, target)).optedOut, sender).toBe(true);
      expect(events, sender).toHaveLength(1);
      expect(events[0].phone, sender).toBe(sender);
    }
  });

  it("writes JSON Lines", async () => {
    const result = await cli("optout", "export", "--format", "jsonl", "--config", configPath);
    const records = result.stdout
      .trim()
      .split("\n")
      .map((line) => JSON.parse(line));
    const row = records.find((record) => record.phone === "+12025550220");

    expect(result.code).toBe(0);
    expect(row).toMatchObject({ action: "opt-out", scope: "+12025550100", note: 'a, "b"' });
  });

  it("lists what the guard refuses for a sender", async () => {
    const viaOther = "+12025550898";
    const viaSender = "+12025550899";
    const sender = "+12025550150";
    await cli("optout", "add", viaOther, "--scope", "+12025550151", "--config", configPath);
    await cli("optout", "add", viaSender, "--scope", sender, "--config", configPath);
    await cli("optout", "remove", viaSender, "--scope", "+12025550152", "--config", configPath);

    const listed = await cli(
      ...["optout", "list", "--scope", sender, "--json", "--config", configPath],
    );
    const exported = await cli(
      ...["optout", "export", "--scope", sender, "--format", "jsonl", "--config", configPath],
    );
    const phones = (text: string) =>
      text
        .trim()
        .split("\n")
        .map((line) => JSON.parse(line).phone);

    // Under the global scope the guard refuses both: one opted out over every sender, the
    // other for this sender alone.
    for (const phone of [viaOther, viaSender]) {
      const scoped = await cli(
        ...["optout", "status", phone, "--scope", sender, "--json", "--config", configPath],
      );
      expect(JSON.parse(scoped.stdout).optedOut, phone).toBe(true);
      expect(phones(listed.stdout), phone).toContain(phone);
      expect(phones(exported.stdout), phone).toContain(phone);
    }
    expect(phones(listed.stdout).filter((phone) => phone === viaOther)).toHaveLength(1);
  });

  it("writes only opt-outs of * with --scope *", async () => {
    const phone = "+12025550896";
    await cli("optout", "add", phone, "--scope", "+12025550100", "--config", configPath);
    await cli("optout", "remove", phone, "--scope", "+12025550101", "--config", configPath);

    const all = await cli("optout", "export", "--format", "jsonl", "--config", configPath);
    const scoped = await cli(
      ...["optout", "export", "--scope", "*", "--format", "jsonl", "--config", configPath],
    );
    const rows = (text: string) =>
      text
        .trim()
        .split("\n")
        .map((line) => JSON.parse(line))
        .filter((record) => record.phone === phone);

    expect(rows(all.stdout).map((row) => row.action)).toEqual(["opt-out", "opt-in"]);
    expect(scoped.code).toBe(0);
    expect(rows(scoped.stdout)).toEqual([]);
    expect(
      scoped.stdout
        .trim()
        .split("\n")
        .every((line) => JSON.parse(line).action === "opt-out"),
    ).toBe(true);
  });

  it("rejects an unknown format", async () => {
    const result = await cli("optout", "export", "--format", "xml", "--config", configPath);

    expect(result.code).toBe(2);
    expect(result.stderr).toContain("use csv or jsonl");
  });
});

describe("optout on the memory store", () => {
  // A provider keeps the CLI out of development mode, which would write its account file
  // beside the default SQLite path in the working directory.
  const memoryConfig = () => ({
    store: { type: "memory" },
    providers: {
      twilio: { accountSid: api.accountSid, authToken: api.authToken, apiBaseUrl: api.url },
    },
  });

  it("write commands exit 2", async () => {
    const memory = await writeConfig(join(dir, "memory"), memoryConfig());
    const file = await csvFile("phone\n+12025550143\n");
    const calls = [
      ["add", "+12025550143"],
      ["remove", "+12025550143"],
      ["forget", "+12025550143"],
      ["import", file],
    ];

    for (const [subcommand, argument] of calls) {
      const result = await cli("optout", subcommand ?? "", argument ?? "", "--config", memory);

      expect(result.code, subcommand).toBe(2);
      expect(result.stderr, subcommand).toContain("keeps nothing after the command exits");
      expect(result.stdout, subcommand).toBe("");
    }
  });

  it("read commands exit 2", async () => {
    const memory = await writeConfig(join(dir, "memory-read"), memoryConfig());
    const calls = [
      ["status", "+12025550143", "--json"],
      ["history", "+12025550143"],
      ["list"],
      ["export"],
    ];

    for (const call of calls) {
      const result = await cli("optout", ...call, "--config", memory);

      expect(result.code, call[0]).toBe(2);
      expect(result.stderr, call[0]).toContain("would read the memory store, which is empty");
      expect(result.stdout, call[0]).toBe("");
    }
  });

  it("send exits 2 without sending", async () => {
    const memory = await writeConfig(join(dir, "memory-send"), memoryConfig());
    const before = api.requests.length;

    const result = await cli(
      ...["send", "--to", "+12025550143", "--body", "hi", "--from", "+12025550100"],
      ...["--config", memory],
    );

    expect(result.code).toBe(2);
    expect(result.stderr).toContain(
      'store.type: send checks opt-outs in the store, and a "memory"',
    );
    expect(api.requests.length).toBe(before);
  });
});

describe("optout notes", () => {
  it("add rejects an overlong reason", async () => {
    const phone = "+12025550893";
    const reason = "n".repeat(4097);

    const result = await cli("optout", "add", phone, "--reason", reason, "--config", configPath);

    expect(result.code).toBe(2);
    expect(result.stderr).toContain("option --reason has 4097 characters");
    expect(await status(phone)).toMatchObject({ optedOut: false });
  });

  it("import skips an overlong note", async () => {
    const file = await csvFile(
      `phone,action,scope,note\n+12025550894,opt-out,*,${"n".repeat(4097)}\n` +
        "+12025550895,opt-out,*,short\n",
    );

    const result = await cli("optout", "import", file, "--config", configPath);

    expect(result.code).toBe(5);
    expect(result.stdout).toContain("has a note of 4097 characters");
    expect(await status("+12025550895")).toMatchObject({ optedOut: true });
  });
});

describe("optout add", () => {
  it("takes a + number the metadata does not list", async () => {
    // A webhook from +15555550143 is recorded under it, so its block must be readable.
    const phone = "+15555550143";

    const added = await cli("optout", "add", phone, "--config", configPath);
    const history = await cli("optout", "history", phone, "--json", "--config", configPath);
    const file = await csvFile(`phone,action,scope\n${phone},opt-in,*\n`);
    const imported = await cli("optout", "import", file, "--config", configPath);

    expect(added.code).toBe(0);
    expect(JSON.parse(history.stdout)).toHaveLength(1);
    expect(imported.code).toBe(0);
    expect(await status(phone)).toMatchObject({ phone, optedOut: false });
  });

  it("notes a sender ID blocks nothing", async () => {
    const result = await cli("optout", "add", "ACME2", "--config", configPath);
    const history = await cli("optout", "history", "ACME2", "--json", "--config", configPath);

    expect(result.code).toBe(0);
    expect(result.stdout).toContain("Recorded an opt-out for ACME2 (scope *)");
    expect(result.stdout).toContain("ACME2 is an alphanumeric sender ID, not an SMS recipient");
    expect(JSON.parse(history.stdout)).toHaveLength(1);
  });

  it("invalid identity exits 2 naming it", async () => {
    const result = await cli("optout", "add", "whatsapp:", "--config", configPath);

    expect(result.code).toBe(2);
    expect(result.stderr).toContain('"whatsapp:"');
  });
});

describe("optout forget", () => {
  const person = "+12025550230";
  const pseudonym = pseudonymOf(KEY, person);

  it("erases and keeps the block", async () => {
    await cli("optout", "add", person, "--reason", "Ann asked by phone", "--config", configPath);

    const result = await cli("optout", "forget", person, "--json", "--config", configPath);
    const history = await cli("optout", "history", person, "--json", "--config", configPath);
    const erased = await cli("optout", "history", pseudonym, "--json", "--config", configPath);
    const events = JSON.parse(erased.stdout);
    const state = await status(person);

    expect(result.code).toBe(0);
    expect(JSON.parse(result.stdout)).toEqual({
      phone: person,
      pseudonym,
      events: 1,
      channelAddressesErased: false,
    });
    expect(JSON.parse(history.stdout)).toEqual([]);
    expect(events).toHaveLength(1);
    expect(events[0].note).toBeUndefined();
    expect(events[0].action).toBe("opt-out");
    expect(state.optedOut).toBe(true);
    expect(state.erased).toBe(true);
  });

  it("history names the erased events", async () => {
    const result = await cli("optout", "history", person, "--config", configPath);

    expect(result.code).toBe(0);
    expect(result.stdout).toContain(`No consent events are recorded for ${person} under its`);
    expect(result.stdout).toContain("It was erased, and its pseudonym keeps 1 event");
  });

  it("send to an erased number exits 3", async () => {
    const before = api.requests.length;

    const result = await cli("send", "--to", person, "--body", "hi", "--config", configPath);

    expect(result.code).toBe(3);
    expect(api.requests).toHaveLength(before);
  });

  it("opt-in after erasure lifts it", async () => {
    await cli("optout", "remove", person, "--config", configPath);
    const afterStart = await status(person);
    await cli("optout", "add", person, "--config", configPath);
    const afterStop = await status(person);

    expect(afterStart.optedOut).toBe(false);
    expect(afterStart.erased).toBe(false);
    expect(afterStop.optedOut).toBe(true);
    expect(afterStop.erased).toBe(false);
  });

  it("names channel addresses it keeps", async () => {
    const number = "+12025550232";
    const address = `whatsapp:${number}`;
    await cli("optout", "add", address, "--config", configPath);

    const byNumber = await cli("optout", "forget", number, "--config", configPath);
    const byAddress = await cli("optout", "forget", address, "--json", "--config", configPath);
    const history = await cli("optout", "history", address, "--json", "--config", configPath);
    const state = await status(address);

    expect(byNumber.code).toBe(0);
    expect(byNumber.stdout).toContain(`Erased ${number}: 0 events moved`);
    expect(byNumber.stdout).toContain(`such as ${address}, are not erased`);
    expect(byNumber.stdout).toContain("smsgate optout forget ADDRESS");
    expect(byAddress.code).toBe(0);
    expect(JSON.parse(byAddress.stdout)).toEqual({
      phone: address,
      pseudonym: pseudonymOf(KEY, address),
      events: 1,
    });
    expect(JSON.parse(history.stdout)).toEqual([]);
    expect(state.optedOut).toBe(true);
    expect(state.erased).toBe(true);
  });

  it("rejects a sender ID", async () => {
    const result = await cli("optout", "forget", "ACME", "--config", configPath);

    expect(result.code).toBe(2);
    expect(result.stderr).toContain('cannot forget "ACME": it is an alphanumeric sender ID');
  });

  it("without a key exits 2", async () => {
    const result = await cli("optout", "forget", person, "--config", keylessConfigPath);

    expect(result.code).toBe(2);
    expect(result.stderr).toContain("privacy.pseudonymKey");
  });

  it("erased store without a key exits 2", async () => {
    const keyless = await writeConfig(join(dir, "erased-keyless"), {
      store: { type: "sqlite", path: join(dir, "a.db") },
      providers: { twilio: { accountSid: api.accountSid, authToken: api.authToken } },
    });
    const before = api.requests.length;

    const result = await cli("send", "--to", person, "--body", "hi", "--config", keyless);

    expect(result.code).toBe(2);
    expect(result.stderr).toContain("privacy.pseudonymKey: is missing");
    expect(api.requests).toHaveLength(before);
  });

  it("erased store with another key exits 2", async () => {
    const otherKey = await writeConfig(join(dir, "erased-other-key"), {
      store: { type: "sqlite", path: join(dir, "a.db") },
      privacy: { pseudonymKey: "another-pseudonym-key-0123456789abcdefgh" },
    });

    const status = await cli("optout", "status", person, "--config", otherKey);
    const forget = await cli("optout", "forget", "+12025550231", "--config", otherKey);

    expect(status.code).toBe(2);
    expect(status.stderr).toContain("differs from the key");
    expect(forget.code).toBe(2);
  });

  it("import of erased rows needs the key", async () => {
    const source = await keyedStoreConfig("erased-source", KEY);
    await cli("optout", "add", "+12025550237", "--config", source);
    await cli("optout", "forget", "+12025550237", "--config", source);
    const exported = await csvFile((await cli("optout", "export", "--config", source)).stdout);
    const keyless = await keyedStoreConfig("erased-keyless-target", undefined);

    const result = await cli("optout", "import", exported, "--config", keyless);
    const after = await cli("optout", "list", "--config", keyless);

    expect(result.code).toBe(2);
    expect(result.stderr).toContain("line 2 contains an erased number");
    expect(result.stderr).toContain("privacy.pseudonymKey");
    expect(after.code).toBe(0);
    expect(after.stdout).toContain("No numbers are opted out");
  });

  it("export keeps an opt-in after erasure", async () => {
    const number = "+12025550241";
    const source = await keyedStoreConfig("reopt-source", KEY);
    const target = await keyedStoreConfig("reopt-target", KEY);
    await cli("optout", "add", number, "--config", source);
    await cli("optout", "forget", number, "--config", source);
    await cli("optout", "remove", number, "--config", source);
    const exported = await csvFile((await cli("optout", "export", "--config", source)).stdout);

    const imported = await cli("optout", "import", exported, "--json", "--config", target);

    expect(JSON.parse(imported.stdout).skipped).toBe(0);
    expect((await status(number, source)).optedOut).toBe(false);
    expect((await status(number, target)).optedOut).toBe(false);
  });

  it("import of erased rows keeps the key check", async () => {
    const source = await keyedStoreConfig("check-source", KEY);
    await cli("optout", "add", "+12025550238", "--config", source);
    await cli("optout", "forget", "+12025550238", "--config", source);
    const exported = await csvFile((await cli("optout", "export", "--config", source)).stdout);
    const target = await keyedStoreConfig("check-target", KEY);
    const wrongKey = await keyedStoreConfig("check-target", "wrong-pseudonym-key-0123456789abcdef");

    const imported = await cli("optout", "import", exported, "--config", target);
    const blocked = await cli("optout", "status", "+12025550238", "--json", "--config", target);
    const withWrongKey = await cli("optout", "status", "+12025550238", "--config", wrongKey);

    expect(imported.code).toBe(0);
    expect(JSON.parse(blocked.stdout).optedOut).toBe(true);
    expect(withWrongKey.code).toBe(2);
    expect(withWrongKey.stderr).toContain("differs from the key");
  });

  it("import of erased rows rejects another key", async () => {
    const source = await keyedStoreConfig("wrong-key-source", KEY);
    await cli("optout", "add", "+12025550240", "--config", source);
    await cli("optout", "forget", "+12025550240", "--config", source);
    const exported = await csvFile((await cli("optout", "export", "--config", source)).stdout);
    const fresh = await keyedStoreConfig(
      "wrong-key-target",
      "wrong-pseudonym-key-0123456789abcdef",
    );

    const result = await cli("optout", "import", exported, "--config", fresh);
    const after = await cli("optout", "list", "--json", "--config", fresh);

    expect(result.code).toBe(2);
    expect(result.stderr).toContain("made with another pseudonym key");
    expect(result.stderr).toContain("Nothing was imported");
    expect(after.stdout).toBe("");
  });

  it("import of erased rows needs the check value", async () => {
    const target = await keyedStoreConfig("no-check-target", KEY);
    const file = await csvFile(`phone\n${pseudonymOf(KEY, "+12025550241")}\n`);

    const result = await cli("optout", "import", file, "--config", target);

    expect(result.code).toBe(2);
    expect(result.stderr).toContain("without a pseudonymKeyCheck value");
    expect((await cli("optout", "list", "--json", "--config", target)).stdout).toBe("");
  });

  it("export writes the key check of erased rows", async () => {
    const source = await keyedStoreConfig("check-export", KEY);
    await cli("optout", "add", "+12025550242", "--config", source);
    await cli("optout", "add", "+12025550243", "--config", source);
    await cli("optout", "forget", "+12025550242", "--config", source);

    const result = await cli("optout", "export", "--format", "jsonl", "--config", source);
    const rows = result.stdout
      .trim()
      .split("\n")
      .map((line) => JSON.parse(line));
    const erased = rows.find((row) => row.phone.startsWith("erased:"));
    const kept = rows.find((row) => row.phone === "+12025550243");

    expect(erased?.pseudonymKeyCheck).toBe(pseudonymKeyCheck(KEY));
    expect(kept?.pseudonymKeyCheck).toBeNull();
  });

  it("first start keeps the key of erased events", async () => {
    const config = await keyedStoreConfig("unchecked", KEY);
    const store = openSqliteStore({ path: join(dir, "unchecked.db") });
    await store.record({
      id: "erased:unchecked",
      phone: pseudonymOf(KEY, "+12025550239"),
      action: "opt-out",
      sender: "*",
      source: "manual",
      occurredAt: new Date(),
    });
    await store.close();
    const wrongKey = await keyedStoreConfig("unchecked", "wrong-pseudonym-key-0123456789abcdef");

    const first = await cli("optout", "status", "+12025550239", "--json", "--config", config);
    const second = await cli("optout", "status", "+12025550239", "--config", wrongKey);

    expect(first.code).toBe(0);
    expect(JSON.parse(first.stdout).optedOut).toBe(true);
    expect(second.code).toBe(2);
    expect(second.stderr).toContain("differs from the key");
  });

  it("ignoreLostPseudonymKey starts with a warning", async () => {
    const ignoring = await writeConfig(join(dir, "erased-ignoring"), {
      store: { type: "sqlite", path: join(dir, "a.db") },
      privacy: { ignoreLostPseudonymKey: true },
    });

    const result = await cli("optout", "status", person, "--config", ignoring);

    expect(result.code).toBe(0);
    expect(result.stderr).toContain("ignoreLostPseudonymKey is set");
  });
});
