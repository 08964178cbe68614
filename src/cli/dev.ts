/**
 * Development mode, used when the configuration names no provider: a Twilio account SID
 * and auth token generated on first start and kept beside the database, so that
 * `smsgate simulate` can sign webhooks the server accepts.
 */

import { randomBytes } from "node:crypto";
import { link, mkdir, rm, writeFile } from "node:fs/promises";
import { dirname } from "node:path";
import { ConfigError } from "../errors.js";
import type { SmsgateConfig } from "./config.js";
import { FileReadError, readRegularFile } from "./config-file.js";

/** Maximum size of the development secrets file, which contains about 120 bytes. */
const maxDevFileBytes = 64 * 1024;

/** The contents of the development secrets file. */
export interface DevSecrets {
  twilio: {
    /** `AC` followed by 32 hex digits; no real account has it. */
    accountSid: string;
    /** 32 hex digits. */
    authToken: string;
  };
}

/** The result of {@link loadOrCreateDevSecrets}. */
export interface LoadedDevSecrets {
  secrets: DevSecrets;
  /** The secrets file. */
  path: string;
  /** True when this call generated the file. */
  created: boolean;
}

/** Checks whether a configuration runs in development mode, which it does with no provider. */
export function isDevMode(config: Pick<SmsgateConfig, "providers">): boolean {
  const { generic, ...named } = config.providers ?? {};
  const noGeneric = generic === undefined || Object.keys(generic).length === 0;

  return noGeneric && Object.values(named).every((provider) => provider === undefined);
}

/** Returns the development secrets file of a store: `<store path>.dev.json`. */
export function devFilePath(storePath: string): string {
  return `${storePath}.dev.json`;
}

/** Generates a fresh account SID and auth token from the system's secure random source. */
function generateDevSecrets(): DevSecrets {
  return {
    twilio: {
      accountSid: `AC${randomBytes(16).toString("hex")}`,
      authToken: randomBytes(16).toString("hex"),
    },
  };
}

/** Checks the shape of a parsed secrets file. */
function parseDevSecrets(value: unknown, path: string): DevSecrets {
  const twilio = (value as { twilio?: Record<string, unknown> } | null)?.twilio;
  const accountSid = twilio?.accountSid;
  const authToken = twilio?.authToken;
  const valid =
    typeof accountSid === "string" &&
    /^AC[0-9a-fA-F]{32}$/.test(accountSid) &&
    typeof authToken === "string" &&
    authToken !== "";
  if (!valid) {
    throw new ConfigError(
      "",
      `Development secrets file ${path} is invalid: expected ` +
        '{ "twilio": { "accountSid": "AC…", "authToken": "…" } }; delete it to generate a new one',
    );
  }

  return { twilio: { accountSid, authToken } };
}

/**
 * Reads the development secrets of a store, or returns undefined when the file does not
 * exist yet (the server creates it on its first start).
 *
 * @throws {ConfigError} when the file exists but cannot be read or is not valid.
 */
export async function readDevSecrets(storePath: string): Promise<DevSecrets | undefined> {
  const path = devFilePath(storePath);
  let text: string | undefined;
  try {
    text = await readRegularFile(path, maxDevFileBytes);
  } catch (error) {
    if (!(error instanceof FileReadError)) {
      throw error;
    }

    throw new ConfigError(
      "",
      `Cannot read development secrets file ${path}: ${error.message}; remove or rename it, ` +
        "so that smsgate serve generates a new one on its next start",
      { cause: error.cause ?? error },
    );
  }

  if (text === undefined) {
    return undefined;
  }

  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    parsed = undefined;
  }

  return parseDevSecrets(parsed, path);
}

/**
 * Writes a file only if none exists at `path`, with its whole contents visible at once:
 * the text goes to a temporary file that is then hard-linked into place.
 *
 * @returns false when the file already existed.
 */
async function createFileAtomically(path: string, text: string): Promise<boolean> {
  const temporary = `${path}.${process.pid}.${randomBytes(4).toString("hex")}.tmp`;
  await writeFile(temporary, text, { mode: 0o600, flag: "wx" });
  try {
    await link(temporary, path);
    return true;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "EEXIST") {
      return false;
    }

    throw error;
  } finally {
    await rm(temporary, { force: true });
  }
}

/**
 * Reads the development secrets of a store, or generates secrets that are kept in memory
 * when the file does not exist. Commands other than `serve` use it, because they sign nothing
 * that a server checks later, so that they leave no secrets file in the working directory.
 *
 * @throws {ConfigError} when an existing file is not valid.
 */
export async function readOrGenerateDevSecrets(storePath: string): Promise<LoadedDevSecrets> {
  const path = devFilePath(storePath);
  const existing = await readDevSecrets(storePath);

  return { secrets: existing ?? generateDevSecrets(), path, created: false };
}

/**
 * Reads the development secrets of a store, generating and writing them (mode 0600) on
 * first use. Two processes starting at once end up with the same secrets, because only
 * one of them can create the file and the other reads it.
 *
 * @throws {ConfigError} when an existing file is not valid.
 */
export async function loadOrCreateDevSecrets(storePath: string): Promise<LoadedDevSecrets> {
  const path = devFilePath(storePath);
  const existing = await readDevSecrets(storePath);
  if (existing) {
    return { secrets: existing, path, created: false };
  }

  const secrets = generateDevSecrets();
  await mkdir(dirname(path), { recursive: true });
  const created = await createFileAtomically(path, `${JSON.stringify(secrets, null, 2)}\n`);
  if (created) {
    return { secrets, path, created: true };
  }

  const winner = await readDevSecrets(storePath);
  if (!winner) {
    throw new Error(`Development secrets file ${path} disappeared while it was being read`);
  }

  return { secrets: winner, path, created: false };
}
