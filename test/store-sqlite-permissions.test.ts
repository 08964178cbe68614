import { execFileSync, spawnSync } from "node:child_process";
import { chmod, chown, mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { isStoreError } from "../src/errors.js";
import { openSqliteStore } from "../src/stores/sqlite.js";
import { assertBuilt, repoRoot } from "./helpers/cli.js";

const nobody = 65534;
const isRoot = process.getuid?.() === 0;

function hasSetpriv(): boolean {
  try {
    execFileSync("setpriv", ["--version"], { stdio: "ignore" });
    return true;
  } catch {
    return false;
  }
}

// Root writes any file whatever its mode, so as root the store is opened by a child process
// that runs as nobody. Another user can be denied the write by the file mode alone.
const canDenyWrites = !isRoot || hasSetpriv();

let directory: string | undefined;

afterEach(async () => {
  if (directory !== undefined) {
    await chmod(directory, 0o755);
    await rm(directory, { recursive: true, force: true });
    directory = undefined;
  }
});

/** Opens the store at `path` as a user that may not write it, and returns the error text. */
function openAsReader(path: string): string {
  const script =
    `import { openSqliteStore } from ${JSON.stringify(join(repoRoot, "dist/stores/sqlite.js"))};` +
    `try { openSqliteStore({ path: ${JSON.stringify(path)} }); console.log("opened"); }` +
    'catch (error) { console.log(error.name + ": " + error.message); }';
  const result = spawnSync(
    "setpriv",
    [`--reuid=${nobody}`, `--regid=${nobody}`, "--clear-groups", process.execPath],
    { input: script, encoding: "utf8", env: { ...process.env } },
  );

  return `${result.stdout}${result.stderr}`;
}

describe.skipIf(!canDenyWrites)("SQLite store on a file it may not write", () => {
  it("fails at open naming the permissions", async () => {
    directory = await mkdtemp(join(tmpdir(), "smsgate-readonly-"));
    const path = join(directory, "store.db");
    await openSqliteStore({ path }).close();
    // The directory stays writable, so SQLite can create its -wal and -shm files and opens
    // the read-only database file without an error of its own.
    await chmod(path, 0o444);
    await chmod(directory, 0o777);

    let message: string;

    if (isRoot) {
      assertBuilt();
      await chown(directory, 0, 0);
      message = openAsReader(path);
    } else {
      const error = (() => {
        try {
          openSqliteStore({ path });
          return undefined;
        } catch (caught) {
          return caught;
        }
      })();

      expect(isStoreError(error)).toBe(true);
      message = `StoreError: ${(error as Error).message}`;
    }

    expect(message).toContain("StoreError");
    expect(message).toContain("SQLITE_READONLY");
    expect(message).toContain("Check the permissions");
  });
});
