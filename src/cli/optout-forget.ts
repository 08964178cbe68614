/**
 * `smsgate optout forget NUMBER`: erasure on request. The number's events move to its
 * pseudonym without their texts, so the block keeps working and nothing stored names the
 * person.
 */

import { isErasureStore, minPseudonymKeyLength, pseudonymOf } from "../consent/erasure.js";
import { keepPseudonymKey } from "../consent/pseudonym-key.js";
import { type CliIo, ExitCode, writeError, writeJson, writeLine } from "./output.js";
import type { Runtime } from "./runtime.js";

/** Runs `optout forget` for a normalised number and resolves with its exit code. */
export async function runForget(
  runtime: Runtime,
  io: CliIo,
  phone: string,
  json: boolean,
): Promise<number> {
  const key = runtime.config.privacy.pseudonymKey;

  if (key === undefined) {
    writeError(
      io,
      "optout forget needs privacy.pseudonymKey in the configuration; set it to a secret " +
        `of at least ${minPseudonymKeyLength} characters, such as "\${SMSGATE_PSEUDONYM_KEY}"`,
    );
    return ExitCode.usage;
  }

  const { store } = runtime;

  if (!isErasureStore(store)) {
    writeError(io, "the configured store does not support erasure (it has no forget method)");
    return ExitCode.usage;
  }

  // The check value is kept before the first erasure, so that a later start with another
  // key is stopped instead of sending to the erased number.
  await keepPseudonymKey(store, key);

  const pseudonym = pseudonymOf(key, phone);
  const result = await store.forget(phone, pseudonym);

  if (json) {
    writeJson(io.stdout, { phone, pseudonym, events: result.events });
    return ExitCode.ok;
  }

  writeLine(
    io.stdout,
    `Erased ${phone}: ${result.events} ${result.events === 1 ? "event" : "events"} moved ` +
      `to ${pseudonym} without their texts.`,
  );
  return ExitCode.ok;
}
