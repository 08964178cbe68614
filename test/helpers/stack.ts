import { join } from "node:path";
import type { FakeApi } from "../../src/testing/fake-api.js";
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

/** The number the configured provider sends from. */
export const SENDER = "+12025550100";

/** A built `smsgate serve` on a temporary SQLite file, with a fake provider API behind it. */
export interface ServeStack<Api extends FakeApi> {
  dir: string;
  dbPath: string;
  configPath: string;
  api: Api;
  server: ServeProcess;
  /** Runs the built CLI with `--config` pointing at the stack's configuration. */
  cli(...args: string[]): Promise<CliResult>;
  /** Runs `simulate <provider> <kind>` against the stack's server. */
  simulate(kind: "inbound" | "status", ...args: string[]): Promise<CliResult>;
  /** Stops the server and the fake API, removes the files, returns the exit code. */
  stop(): Promise<number | null>;
}

/** A stack with a fake Twilio API. */
export type Stack = ServeStack<FakeTwilioApi>;

/** What {@link startServeStack} configures. */
export interface ServeStackOptions<Api extends FakeApi> {
  /** The provider name, as in `providers.<name>` and the webhook routes. */
  provider: "twilio" | "vonage" | "plivo";
  /** The running fake API; the stack closes it. */
  api: Api;
  /** The provider's section of the configuration. */
  providerConfig: Record<string, unknown>;
}

/**
 * Starts `smsgate serve` with one provider that sends through a running fake API,
 * listening on 127.0.0.1 with a free port.
 */
export async function startServeStack<Api extends FakeApi>(
  options: ServeStackOptions<Api>,
): Promise<ServeStack<Api>> {
  const { provider, api } = options;
  let dir: string | undefined;

  try {
    assertBuilt();
    dir = await makeTempDir();
  } catch (error) {
    await api.close();
    throw error;
  }

  const dbPath = join(dir, "smsgate.db");
  const configPath = await writeConfig(dir, {
    listen: { host: "127.0.0.1", port: 0 },
    store: { type: "sqlite", path: dbPath },
    providers: { [provider]: options.providerConfig },
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
  const webhookUrl = (kind: string) => `${server.url}/webhooks/${provider}/${kind}`;

  return {
    dir,
    dbPath,
    configPath,
    api,
    server,
    cli,
    simulate: (kind, ...args) =>
      cli("simulate", provider, kind, "--url", webhookUrl(kind), ...args),
    async stop() {
      const code = await server.stop();

      await api.close();
      await removeTempDir(dir);

      return code;
    },
  };
}

/**
 * Starts a fake Twilio API and `smsgate serve` configured to send through it, listening
 * on 127.0.0.1 with a free port.
 */
export async function startStack(): Promise<Stack> {
  const api = await startFakeTwilioApi();

  return startServeStack({
    provider: "twilio",
    api,
    providerConfig: {
      accountSid: api.accountSid,
      authToken: api.authToken,
      from: SENDER,
      apiBaseUrl: api.url,
    },
  });
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
