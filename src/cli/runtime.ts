/**
 * Wires a validated configuration into a running gateway: opens the store, builds the
 * providers (or the loopback provider of development mode) and the {@link Gateway}.
 * `serve`, `send` and `optout` all use it, also at the same time on one SQLite file.
 */

import { existsSync } from "node:fs";
import { resolve } from "node:path";
import type { CountryCode } from "libphonenumber-js";
import { MemoryOptOutStore } from "../consent/memory.js";
import { verifyPseudonymKey } from "../consent/pseudonym-key.js";
import type { OptOutStore, OutboxStore } from "../consent/types.js";
import { ConfigError, isConfigError } from "../errors.js";
import { Gateway } from "../gateway/gateway.js";
import { type Logger, silentLogger } from "../logger.js";
import type { Provider } from "../provider.js";
import { openSqliteStore } from "../stores/sqlite.js";
import type { SmsgateConfig } from "./config.js";
import { devFilePath, isDevMode, loadOrCreateDevSecrets, readOrGenerateDevSecrets } from "./dev.js";
import { createLoopbackProvider, loopbackFilePath } from "./loopback.js";
import { addConfiguredProviders } from "./providers.js";

/** Files and account of development mode; absent when a provider is configured. */
export interface DevInfo {
  /**
   * The development secrets file (`<store path>.dev.json`). A runtime that does not create
   * its store writes no such file. Without one, it keeps secrets of its own in memory.
   */
  secretsPath: string;
  /** True when this start generated the secrets file. */
  secretsCreated: boolean;
  /** The JSON Lines file the loopback provider appends sends to. */
  loopbackPath: string;
  /** The development account SID; webhooks must carry it as `AccountSid`. */
  accountSid: string;
}

/** The store of a runtime: every store the CLI opens also has an outbox. */
export type RuntimeStore = OptOutStore & Partial<OutboxStore>;

/** A configuration turned into live objects. Close it when done. */
export interface Runtime {
  config: SmsgateConfig;
  gateway: Gateway;
  store: RuntimeStore;
  providers: Provider[];
  dev: DevInfo | undefined;
  /** Absolute path of the SQLite file; undefined for the memory and PostgreSQL stores. */
  storePath: string | undefined;
  /** Closes the providers' connections, then the store. Calling it again is harmless. */
  close(): Promise<void>;
}

/**
 * Raised in place of opening an empty store when the SQLite file or the PostgreSQL schema
 * is missing and the command does not create it. The configuration may be valid, because
 * only `serve` creates the store.
 */
export class StoreNotFoundError extends Error {
  /** Absolute path of the missing SQLite file, or the missing PostgreSQL schema. */
  readonly path: string;

  constructor(path: string, options?: { cause?: unknown; postgres?: boolean }) {
    const store = options?.postgres
      ? `smsgate store exists in PostgreSQL schema ${path}`
      : `SQLite store exists at ${path}`;
    const option = options?.postgres ? "store.schema" : "store.path";

    super(
      `no ${store}; run \`smsgate serve\` once to create it, or check ${option} in the ` +
        "configuration",
      options,
    );
    this.name = "StoreNotFoundError";
    this.path = path;
  }
}

/** Options of {@link createRuntime}. */
export interface RuntimeOptions {
  /** Receives the gateway's diagnostics. @default a logger that discards everything */
  logger?: Logger | undefined;
  /** Directory relative store paths are resolved against. @default process.cwd() */
  cwd?: string | undefined;
  /**
   * Creates the SQLite file (and its directories), or the PostgreSQL schema and its tables,
   * when they do not exist. Only `serve` passes true from the CLI. Every other command stops with a {@link StoreNotFoundError},
   * so a mistyped path cannot open an empty store and send to numbers that opted out.
   * @default true
   */
  createStore?: boolean | undefined;
  /**
   * Whether the command sends through the providers. When false, warnings that matter
   * only for sends, such as a missing auth token, are not logged.
   * @default true
   */
  sends?: boolean | undefined;
}

// In development mode with the memory store, the secrets and loopback files still need a
// place that `smsgate simulate` finds, so they go beside the default database path.
const defaultStoreFile = "smsgate.db";

/**
 * Opens the configured store. A missing SQLite file is created, with its directory, and a
 * missing PostgreSQL schema with its tables, only when `create` is true. The PostgreSQL driver is loaded only when that store is configured.
 *
 * @throws {StoreNotFoundError} when the SQLite file or the PostgreSQL schema is missing and
 *   `create` is false.
 */
async function openStore(
  config: SmsgateConfig,
  cwd: string,
  logger: Logger,
  create: boolean,
): Promise<[RuntimeStore, string | undefined]> {
  const options = config.store;

  if (options.type === "memory") {
    return [new MemoryOptOutStore(), undefined];
  }

  if (options.type === "postgres") {
    const { isStoreMissingError, openPostgresStore } = await import("../stores/postgres.js");
    const { type: _type, ...connection } = options;

    try {
      return [await openPostgresStore({ ...connection, create, logger }), undefined];
    } catch (error) {
      if (isStoreMissingError(error)) {
        throw new StoreNotFoundError(error.schema, { cause: error, postgres: true });
      }

      throw underStore(error);
    }
  }

  const path = resolve(cwd, options.path);
  const existed = existsSync(path);

  try {
    const store = openSqliteStore({
      path,
      create,
      ...(options.busyTimeoutMs === undefined ? {} : { busyTimeoutMs: options.busyTimeoutMs }),
    });

    if (!existed) {
      warnOfEarlierStore(path, logger);
    }

    return [store, path];
  } catch (error) {
    if (create || existsSync(path)) {
      throw underStore(error);
    }

    throw new StoreNotFoundError(path, { cause: error });
  }
}

/**
 * Warns when a new SQLite store was created beside the development files of an earlier one,
 * which are created with the store and left when only the store file is deleted. The
 * opt-outs of that store are gone, unless the file was moved and `store.path` is wrong.
 */
function warnOfEarlierStore(path: string, logger: Logger): void {
  const leftovers = [devFilePath(path), loopbackFilePath(path)].filter((file) => existsSync(file));

  if (leftovers.length > 0) {
    logger.warn(
      { storePath: path, leftoverFiles: leftovers },
      `Created a new, empty store at ${path}, but files of an earlier store are beside it. ` +
        "If that store was deleted or moved, its opt-outs are not in the new one: restore it " +
        "or correct store.path",
    );
  }
}

/**
 * Puts `store.` before the option path of a store's own configuration error, such as
 * `schema`, so that it names the option in the configuration file. Other errors pass.
 */
function underStore(error: unknown): unknown {
  if (!isConfigError(error)) {
    return error;
  }

  // A ConfigError's message is `<path>: <detail>`, or the detail alone without a path.
  const detail = error.path === "" ? error.message : error.message.slice(error.path.length + 2);
  const path = error.path === "" ? "store" : `store.${error.path}`;

  return new ConfigError(path, detail, { cause: error });
}

/**
 * Sets up the loopback provider and its secrets for development mode. The secrets file is
 * written only by a runtime that creates its store, which `serve` is.
 */
async function setUpDevMode(
  storePath: string | undefined,
  cwd: string,
  createStore: boolean,
): Promise<{ provider: Provider; dev: DevInfo }> {
  const base = storePath ?? resolve(cwd, defaultStoreFile);
  const loaded = createStore
    ? await loadOrCreateDevSecrets(base)
    : await readOrGenerateDevSecrets(base);
  const provider = createLoopbackProvider({ storePath: base, secrets: loaded.secrets });

  const dev: DevInfo = {
    secretsPath: loaded.path,
    secretsCreated: loaded.created,
    loopbackPath: provider.filePath,
    accountSid: loaded.secrets.twilio.accountSid,
  };
  return { provider, dev };
}

/** Checks whether a store implements the outbox methods the forwarder needs. */
export function hasOutbox(store: RuntimeStore): store is OptOutStore & OutboxStore {
  return (
    typeof store.claimOutbox === "function" &&
    typeof store.completeOutbox === "function" &&
    typeof store.retryOutbox === "function"
  );
}

/** Closes providers that were built before a later step failed. */
async function closeProviders(providers: readonly Provider[]): Promise<void> {
  await Promise.allSettled(providers.map((provider) => provider.close?.()));
}

/**
 * Opens the store, builds the providers and the gateway. The providers are built in the
 * order Twilio, Vonage, Plivo, and the first one built is the default of `send`. Without
 * any provider in the configuration, runs in development mode: webhooks are verified with a development
 * token kept in `<store path>.dev.json`, and sends go to `<store path>.loopback.jsonl`.
 *
 * @throws {ConfigError} when a provider's options are invalid, or when `forward` is set
 *   and the store has no outbox.
 * @throws {StoreNotFoundError} when the SQLite file is missing and `createStore` is false.
 * @throws {StoreError} when the store cannot be opened.
 */
export async function createRuntime(
  config: SmsgateConfig,
  options: RuntimeOptions = {},
): Promise<Runtime> {
  const cwd = options.cwd ?? process.cwd();
  const logger = options.logger ?? silentLogger;
  const createStore = options.createStore ?? true;
  const [store, storePath] = await openStore(config, cwd, logger, createStore);
  const providers: Provider[] = [];

  try {
    if (config.forward && !hasOutbox(store)) {
      throw new ConfigError("forward", "the configured store has no outbox to forward from");
    }

    await checkPseudonymKey(config, store, logger);

    let dev: DevInfo | undefined;
    if (isDevMode(config)) {
      const devMode = await setUpDevMode(storePath, cwd, createStore);
      providers.push(devMode.provider);
      dev = devMode.dev;
    } else {
      const sendWarningLogger = options.sends === false ? silentLogger : logger;
      addConfiguredProviders(config, sendWarningLogger, providers);
    }

    const gateway = new Gateway({
      providers,
      store,
      defaultRegion: config.defaultRegion as CountryCode | undefined,
      optOutScope: config.optOutScope,
      keywords: { yesIsOptIn: config.keywords.yesIsOptIn },
      publicUrl: config.publicUrl,
      replies: config.replies,
      forwardEvents: Boolean(config.forward),
      insecureSkipSignatureVerification: config.insecureSkipSignatureVerification,
      pseudonymKey: config.privacy.pseudonymKey,
      logger,
    });

    return {
      config,
      gateway,
      store,
      providers,
      dev,
      storePath,
      close: closeOnce(gateway, store),
    };
  } catch (error) {
    await closeProviders(providers);
    await store.close();
    throw error;
  }
}

/**
 * Stops with a configuration error when the store's erased numbers were made with another
 * pseudonym key or the key is missing, unless `privacy.ignoreLostPseudonymKey` is set.
 */
async function checkPseudonymKey(
  config: SmsgateConfig,
  store: OptOutStore,
  logger: Logger,
): Promise<void> {
  try {
    await verifyPseudonymKey(store, config.privacy.pseudonymKey);
  } catch (error) {
    if (!isConfigError(error) || !config.privacy.ignoreLostPseudonymKey) {
      throw error;
    }

    logger.warn(
      { reason: error.message },
      "privacy.ignoreLostPseudonymKey is set: opt-outs of erased numbers are not enforced",
    );
  }
}

/** Returns a close function that closes the gateway, then the store, only once. */
function closeOnce(gateway: Gateway, store: OptOutStore): () => Promise<void> {
  let closing: Promise<void> | undefined;
  return () => {
    closing ??= (async () => {
      try {
        await gateway.close();
      } finally {
        await store.close();
      }
    })();
    return closing;
  };
}
