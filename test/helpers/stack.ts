import { join } from "node:path";
import { type FakeTwilioApi, startFakeTwilioApi } from "../../src/testing/fake-twilio.js";
import {
  assertBuilt,
  type CliResult,
  makeTempDir,
  removeTempDir,
  runCli,
  type ServeProcess,
  startServe,
  writeConfig,
} from "./cli.js";

/** The Twilio number the configured provider sends from. */
export const SENDER = "+12025550100";

/** A built `smsgate serve` on a temporary SQLite file, with a fake Twilio API behind it. */
export interface Stack {
  dir: string;
  dbPath: string;
  configPath: string;
  api: FakeTwilioApi;
  server: ServeProcess;
  /** Runs the built CLI with `--config` pointing at the stack's configuration. */
  cli(...args: string[]): Promise<CliResult>;
  /** Runs `simulate twilio <kind>` against the stack's server. */
  simulate(kind: "inbound" | "status", ...args: string[]): Promise<CliResult>;
  /** Stops the server and the fake API, removes the files, returns the exit code. */
  stop(): Promise<number | null>;
}

/**
 * Starts a fake Twilio API and `smsgate serve` configured to send through it, listening
 * on 127.0.0.1 with a free port.
 */
export async function startStack(): Promise<Stack> {
  assertBuilt();

  const dir = await makeTempDir();
  const api = await startFakeTwilioApi();
  const dbPath = join(dir, "smsgate.db");
  const configPath = await writeConfig(dir, {
    listen: { host: "127.0.0.1", port: 0 },
    store: { type: "sqlite", path: dbPath },
    providers: {
      twilio: {
        accountSid: api.accountSid,
        authToken: api.authToken,
        from: SENDER,
        apiBaseUrl: api.url,
      },
    },
  });

  let server: ServeProcess;

  try {
    server = await startServe(["--config", configPath], { cwd: dir });
  } catch (error) {
    await api.close();
    await removeTempDir(dir);
    throw error;
  }

  const cli = (...args: string[]) => runCli([...args, "--config", configPath], { cwd: dir });

  return {
    dir,
    dbPath,
    configPath,
    api,
    server,
    cli,
    simulate: (kind, ...args) =>
      cli("simulate", "twilio", kind, "--url", `${server.url}/webhooks/twilio/${kind}`, ...args),
    async stop() {
      const code = await server.stop();

      await api.close();
      await removeTempDir(dir);

      return code;
    },
  };
}

/** Parses the stdout of a `--json` command. */
export function json(result: CliResult): unknown {
  try {
    return JSON.parse(result.stdout);
  } catch {
    throw new Error(
      `stdout is not JSON (exit ${result.code}):\n${result.stdout}\n${result.stderr}`,
    );
  }
}
