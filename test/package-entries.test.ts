import { execFileSync } from "node:child_process";
import { describe, expect, it } from "vitest";
import { assertBuilt } from "./helpers/cli.js";

const entries = [
  "smsgate",
  "smsgate/twilio",
  "smsgate/vonage",
  "smsgate/plivo",
  "smsgate/generic",
  "smsgate/stores/sqlite",
  "smsgate/stores/postgres",
  "smsgate/testing",
];

function runNode(args: string[]): string {
  return execFileSync(process.execPath, args, { cwd: process.cwd(), encoding: "utf8" });
}

describe("built package entry points", () => {
  it.each(entries)("%s loads with require and import", (entry) => {
    assertBuilt();

    const required = runNode([
      "-e",
      `console.log(Object.keys(require(${JSON.stringify(entry)})).length)`,
    ]);
    const imported = runNode([
      "--input-type=module",
      "-e",
      `console.log(Object.keys(await import(${JSON.stringify(entry)})).length)`,
    ]);

    expect(Number(required)).toBeGreaterThan(0);
    expect(Number(required)).toBe(Number(imported));
  });

  it("signs webhooks with the CommonJS testing build", () => {
    assertBuilt();

    const output = runNode([
      "-e",
      "const { signTwilioRequest, describeOptOutStore } = require('smsgate/testing');" +
        "const signature = signTwilioRequest({ authToken: 't', url: 'https://a.example/', params: [] });" +
        "let code; try { describeOptOutStore('s', async () => ({})); } catch (e) { code = e.code; }" +
        "console.log(JSON.stringify({ signature, code }))",
    ]);
    const { signature, code } = JSON.parse(output);

    expect(signature).toMatch(/^[A-Za-z0-9+/]{27}=$/);
    expect(code).toBe("SMSGATE_ESM_ONLY");
  });

  it("normalises numbers in the CommonJS build", () => {
    assertBuilt();

    const output = runNode([
      "-e",
      "const { normalizePhoneNumber } = require('smsgate');" +
        "console.log(JSON.stringify([normalizePhoneNumber('+12025550143'), normalizePhoneNumber('+442079460958')]))",
    ]);

    expect(JSON.parse(output)).toEqual([
      { e164: "+12025550143", country: "US" },
      { e164: "+442079460958", country: "GB" },
    ]);
  });
});
