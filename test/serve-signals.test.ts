import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { makeTempDir, removeTempDir, writeConfig } from "./helpers/cli.js";
import { killRunningServers, launchServer } from "./helpers/server-process.js";

let dir: string | undefined;

afterEach(async () => {
  await killRunningServers();

  if (dir !== undefined) {
    await removeTempDir(dir);
    dir = undefined;
  }
});

describe("smsgate serve signals", () => {
  for (const signal of ["SIGTERM", "SIGINT", "SIGHUP"] as const) {
    it(`${signal} shuts down cleanly`, async () => {
      dir = await makeTempDir("smsgate-signals-");
      const configPath = await writeConfig(dir, {
        listen: { host: "127.0.0.1", port: 0 },
        store: { type: "sqlite", path: join(dir, "smsgate.db") },
      });
      const server = await launchServer(configPath, { cwd: dir });

      const exit = await server.kill(signal);

      expect(exit).toEqual({ code: 0, signal: null });
      expect(server.stdout()).toContain(`"signal":"${signal}"`);
      expect(server.stdout()).toContain("Shutdown complete");
    });
  }
});
