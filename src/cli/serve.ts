/**
 * The `serve` command: loads the configuration, starts the webhook server and the
 * forwarding worker, and shuts both down on SIGTERM, SIGINT or SIGHUP.
 */

import { constants } from "node:os";
import type { Logger } from "../logger.js";
import { loadConfig, type SmsgateConfig } from "./config.js";
import { reportStartupError } from "./context.js";
import { type Forwarder, startForwarder } from "./forward.js";
import { bufferLogLines, createLogger } from "./log.js";
import { type CliIo, ExitCode } from "./output.js";
import { createRuntime, hasOutbox, type Runtime } from "./runtime.js";
import { type RunningServer, startServer } from "./server.js";
import { parseCommandArgs, readConfigOption, rejectExtraPositionals } from "./usage.js";

/** Extra controls of {@link runServe}, for embedding and tests. */
export interface ServeControls {
  /** Aborting it shuts the server down as SIGTERM does. */
  shutdownSignal?: AbortSignal | undefined;
  /** Called once the server listens. */
  onListening?: ((server: RunningServer) => void) | undefined;
}

function parseServeArgs(argv: string[]): { config: string | undefined } {
  const args = parseCommandArgs(argv, { config: { type: "string", short: "c" } }, "serve");

  rejectExtraPositionals(args.positionals, 0, "serve");

  return { config: readConfigOption(args, "serve") };
}

/** Starts the forwarding worker when `forward` is configured; it wakes after every commit. */
function startForwarding(runtime: Runtime, logger: Logger): Forwarder | undefined {
  const forward = runtime.config.forward;
  const { store } = runtime;
  if (!forward || !hasOutbox(store)) {
    return undefined;
  }

  const forwarder = startForwarder(store, { ...forward, logger });

  // Every gateway event follows a commit that may have written to the outbox.
  const poke = (): void => forwarder.poke();
  for (const event of ["inbound", "report", "opt-out", "opt-in", "help", "review"] as const) {
    runtime.gateway.on(event, poke);
  }

  // Only the origin is logged, because webhook URLs often carry a secret in the path.
  const origin = new URL(forward.url).origin;
  logger.info(
    { forwardTo: origin, maxAttempts: forward.maxAttempts },
    `Forwarding every webhook event to ${origin}`,
  );
  return forwarder;
}

/** How often waiting multipart messages are checked for their time-out. */
const partSweepIntervalMs = 10_000;

/**
 * Delivers multipart messages whose parts stopped arriving, so that an opt-out in a
 * message with a lost part is still honoured. Returns a function that stops the timer.
 */
function startPartSweeper(runtime: Runtime, logger: Logger): () => void {
  const { timeoutMs } = runtime.config.multipart;
  const interval = Math.min(partSweepIntervalMs, timeoutMs);
  let running = false;

  const sweep = async (): Promise<void> => {
    if (running) {
      return;
    }

    running = true;

    try {
      const delivered = await runtime.gateway.flushIncompleteMessages(timeoutMs);

      if (delivered > 0) {
        logger.warn({ delivered }, "Delivered multipart messages with parts missing");
      }
    } catch (error) {
      logger.error({ err: error }, "Multipart time-out check failed; it runs again shortly");
    } finally {
      running = false;
    }
  };

  const timer = setInterval(sweep, interval);
  timer.unref();

  return () => clearInterval(timer);
}

/** The first shutdown request, and a way to remove the signal handlers. */
interface ShutdownWatch {
  /** Resolves with `SIGTERM`, `SIGINT`, `SIGHUP` or `abort`. */
  requested: Promise<string>;
  dispose(): void;
}

/**
 * The signals that stop the server after the requests in flight. SIGHUP is sent when the
 * terminal of a foreground server closes, and its default would end the process at once.
 */
const shutdownSignals: readonly NodeJS.Signals[] = ["SIGTERM", "SIGINT", "SIGHUP"];

/** Waits for a shutdown signal or the abort signal; a second signal exits at once. */
function watchForShutdown(logger: Logger, controls: ServeControls): ShutdownWatch {
  let received: string | undefined;
  let resolveRequested: (signal: string) => void = () => {};
  const requested = new Promise<string>((resolve) => {
    resolveRequested = resolve;
  });

  const onSignal = (signal: NodeJS.Signals): void => {
    if (received !== undefined) {
      logger.warn({ signal }, "Second signal received; exiting without waiting");
      process.exit(128 + (constants.signals[signal] ?? 0));
    }

    received = signal;
    resolveRequested(signal);
  };
  const onAbort = (): void => resolveRequested("abort");

  for (const signal of shutdownSignals) {
    process.on(signal, onSignal);
  }
  controls.shutdownSignal?.addEventListener("abort", onAbort, { once: true });
  if (controls.shutdownSignal?.aborted) {
    onAbort();
  }

  return {
    requested,
    dispose: () => {
      for (const signal of shutdownSignals) {
        process.off(signal, onSignal);
      }
      controls.shutdownSignal?.removeEventListener("abort", onAbort);
    },
  };
}

async function serveUntilStopped(
  config: SmsgateConfig,
  logger: Logger,
  controls: ServeControls,
): Promise<number> {
  // The server is the one command that creates a missing SQLite store.
  const runtime = await createRuntime(config, { logger, createStore: true });
  const forwarder = startForwarding(runtime, logger);

  let server: RunningServer;
  try {
    server = await startServer(runtime, { logger });
  } catch (error) {
    await forwarder?.stop();
    await runtime.close();
    throw error;
  }

  const stopSweeper = startPartSweeper(runtime, logger);
  const shutdown = watchForShutdown(logger, controls);
  controls.onListening?.(server);
  const signal = await shutdown.requested;
  logger.info({ signal }, "Shutting down: finishing requests in flight");

  try {
    stopSweeper();
    await server.close();
    await forwarder?.stop();
    await runtime.close();
  } finally {
    // The handlers stay installed until here, so a second signal during the wait exits.
    shutdown.dispose();
  }

  logger.info({}, "Shutdown complete");
  return ExitCode.ok;
}

/**
 * Runs `smsgate serve [--config FILE]` and resolves with the exit code once the server
 * has shut down: 0 after a clean shutdown, 2 for an invalid configuration, 1 when the
 * store cannot be opened or the address cannot be listened on.
 */
export async function runServe(
  argv: string[],
  io: CliIo,
  controls: ServeControls = {},
): Promise<number> {
  const args = parseServeArgs(argv);

  let config: SmsgateConfig;
  try {
    config = await loadConfig(args.config, io.env ?? process.env);
  } catch (error) {
    return reportStartupError(io, error);
  }

  const destination = bufferLogLines(io.stdout);
  const logger = createLogger({ destination });
  // A process that exits on an error still writes the lines of its last turn.
  process.once("exit", destination.flush);

  try {
    return await serveUntilStopped(config, logger, controls);
  } catch (error) {
    logger.error({ err: error }, "smsgate server failed to start");
    return reportStartupError(io, error);
  } finally {
    destination.flush();
    process.off("exit", destination.flush);
  }
}
