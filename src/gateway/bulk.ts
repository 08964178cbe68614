import type { ConsentEvent } from "../consent/types.js";
import { ConsentCheckError, isRecipientOptedOutError } from "../errors.js";
import { filterBlocked } from "./guard.js";
import type { ResolvedGatewayOptions } from "./options.js";
import { executeSend, type PreparedSend, prepareSend } from "./send.js";
import type { BulkSendResult, SendRequest } from "./types.js";

type Prepared = { index: number; prepared: PreparedSend };

/**
 * Sends to many recipients: prepares every request, reads the opted-out recipients of each
 * scope in one store call, and sends the rest with at most `concurrency` sends at a time.
 * A store failure fails every unchecked recipient; nothing unchecked is sent.
 */
export async function sendMany(
  options: ResolvedGatewayOptions,
  requests: readonly SendRequest[],
  concurrency: number,
  recordRefusal: (event: ConsentEvent) => Promise<void>,
): Promise<BulkSendResult[]> {
  const results: BulkSendResult[] = new Array(requests.length);
  const ready: Prepared[] = [];

  requests.forEach((request, index) => {
    try {
      ready.push({ index, prepared: prepareSend(options, request) });
    } catch (error) {
      results[index] = { to: String(request?.to), status: "failed", error: error as Error };
    }
  });

  const allowed = await dropOptedOut(options, ready, results);

  await runBounded(allowed, Math.max(1, Math.floor(concurrency)), async ({ index, prepared }) => {
    results[index] = await sendOne(options, prepared, recordRefusal);
  });

  return results;
}

async function dropOptedOut(
  options: ResolvedGatewayOptions,
  ready: Prepared[],
  results: BulkSendResult[],
): Promise<Prepared[]> {
  const byScope = new Map<string, Set<string>>();

  for (const { prepared } of ready) {
    for (const scope of prepared.scopes) {
      byScope.set(scope, (byScope.get(scope) ?? new Set()).add(prepared.message.to));
    }
  }

  const optedOut = new Map<string, Set<string>>();

  try {
    for (const [scope, phones] of byScope) {
      const blocked = await filterBlocked(options.store, [...phones], scope, options.pseudonymKey);
      optedOut.set(scope, blocked);
    }
  } catch (cause) {
    const error = new ConsentCheckError(
      "The opt-out store could not be read, so no message was sent; retry when it is reachable",
      { cause },
    );

    for (const { index, prepared } of ready) {
      results[index] = { to: prepared.message.to, status: "failed", error };
    }

    return [];
  }

  return ready.filter(({ index, prepared }) => {
    const blocked = prepared.scopes.some((scope) => optedOut.get(scope)?.has(prepared.message.to));

    if (blocked) {
      results[index] = { to: prepared.message.to, status: "opted-out" };
    }

    return !blocked;
  });
}

async function sendOne(
  options: ResolvedGatewayOptions,
  prepared: PreparedSend,
  recordRefusal: (event: ConsentEvent) => Promise<void>,
): Promise<BulkSendResult> {
  const to = prepared.message.to;

  try {
    // The single-send path checks the store again, which also catches an opt-out that
    // arrived after the bulk read.
    const result = await executeSend(options, prepared, recordRefusal);

    return { to, status: "sent", result };
  } catch (error) {
    if (isRecipientOptedOutError(error)) {
      return { to, status: "opted-out" };
    }

    return { to, status: "failed", error: error as Error };
  }
}

async function runBounded<T>(
  items: readonly T[],
  concurrency: number,
  work: (item: T) => Promise<void>,
): Promise<void> {
  let next = 0;

  const worker = async (): Promise<void> => {
    while (next < items.length) {
      const item = items[next] as T;

      next += 1;
      await work(item);
    }
  };

  await Promise.all(Array.from({ length: Math.min(concurrency, items.length) }, worker));
}
