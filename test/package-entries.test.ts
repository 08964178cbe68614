import { execFileSync } from "node:child_process";
import { describe, expect, it } from "vitest";
import { assertBuilt } from "./helpers/cli.js";

// Every entry point but `smsgate/testing`, which imports vitest, and vitest refuses to be
// loaded with require().
const entries = [
  "smsgate",
  "smsgate/twilio",
  "smsgate/vonage",
  "smsgate/plivo",
  "smsgate/generic",
  "smsgate/stores/sqlite",
  "smsgate/stores/postgres",
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
