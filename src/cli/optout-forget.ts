/**
 * `smsgate optout forget NUMBER`: erasure on request. The number's events move to its
 * pseudonym without their texts, so the block keeps working and nothing stored names the
 * person.
 */

import { isErasureStore, minPseudonymKeyLength, pseudonymOf } from "../consent/erasure.js";
import { keepPseudonymKey } from "../consent/pseudonym-key.js";
import { type ConsentIdentity, describeKind } from "./optout-identity.js";
import { type CliIo, ExitCode, writeError, writeJson, writeLine } from "./output.js";
import type { Runtime } from "./runtime.js";

/**
 * Kinds that name a sender rather than a person. The store erases payloads that contain
 * the value as a substring, so a short name such as `ACME` would delete unrelated
 * messages, and such identities are rejected.
 */
const senderOnlyKinds: ReadonlySet<ConsentIdentity["kind"]> = new Set(["alphanumeric", "service"]);

/** Runs `optout forget` for a normalised identity and resolves with its exit code. */
export async function runForget(
  runtime: Runtime,
  io: CliIo,
  identity: ConsentIdentity,
  json: boolean,
): Promise<number> {
  const phone = identity.value;

  if (senderOnlyKinds.has(identity.kind) || identity.kind === "pseudonym") {
    const erased = identity.kind === "pseudonym" ? "; its number is erased already" : "";
    writeError(
      io,
      `cannot forget ${JSON.stringify(phone)}: it is ${describeKind(identity.kind)}${erased}. ` +
        "Give the phone number or channel address (such as whatsapp:+12025550143) of the person.",
    );
    return ExitCode.usage;
  }

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

  // The store keys events by the exact identity, so `whatsapp:+1…` events are not found
  // under `+1…`, and it offers no lookup of the channel addresses that contain a number.
  const channelsKept = identity.kind === "e164";

  if (json) {
    const channels = channelsKept ? { channelAddressesErased: false } : {};
    writeJson(io.stdout, { phone, pseudonym, events: result.events, ...channels });
    return ExitCode.ok;
  }

  writeLine(
    io.stdout,
    `Erased ${phone}: ${result.events} ${result.events === 1 ? "event" : "events"} moved ` +
      `to ${pseudonym} without their texts.`,
  );

  if (channelsKept) {
    writeLine(
      io.stdout,
      `Events stored under a channel address of ${phone}, such as whatsapp:${phone}, are ` +
        "not erased. Check each with smsgate optout history ADDRESS, and erase it with " +
        "smsgate optout forget ADDRESS.",
    );
  }

  return ExitCode.ok;
}
