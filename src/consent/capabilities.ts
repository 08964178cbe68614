/**
 * Checks for the optional store interfaces that the gateway, the server and the
 * conformance suite look for at run time.
 */

import type {
  HealthCheckStore,
  NonceStore,
  OptOutStore,
  OutboxStore,
  SenderStateStore,
} from "./types.js";

/** Checks whether a store implements {@link NonceStore}. */
export function isNonceStore(store: OptOutStore): store is OptOutStore & NonceStore {
  return typeof (store as Partial<NonceStore>).findNonce === "function";
}

/** Checks whether a store implements {@link HealthCheckStore}. */
export function isHealthCheckStore(store: OptOutStore): store is OptOutStore & HealthCheckStore {
  return typeof (store as Partial<HealthCheckStore>).checkHealth === "function";
}

/** Checks whether a store implements {@link OutboxStore}: all three of its methods. */
export function isOutboxStore(store: OptOutStore): store is OptOutStore & OutboxStore {
  const candidate = store as Partial<OutboxStore>;

  return (
    typeof candidate.claimOutbox === "function" &&
    typeof candidate.completeOutbox === "function" &&
    typeof candidate.retryOutbox === "function"
  );
}

/** Checks whether a store implements {@link SenderStateStore}. */
export function isSenderStateStore(store: OptOutStore): store is OptOutStore & SenderStateStore {
  return typeof (store as Partial<SenderStateStore>).listSenderStates === "function";
}
