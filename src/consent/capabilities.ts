/**
 * Checks for the optional store interfaces that the gateway, the server and the
 * conformance suite look for at run time.
 */

import type { HealthCheckStore, NonceStore, OptOutStore } from "./types.js";

/** Checks whether a store implements {@link NonceStore}. */
export function isNonceStore(store: OptOutStore): store is OptOutStore & NonceStore {
  return typeof (store as Partial<NonceStore>).findNonce === "function";
}

/** Checks whether a store implements {@link HealthCheckStore}. */
export function isHealthCheckStore(store: OptOutStore): store is OptOutStore & HealthCheckStore {
  return typeof (store as Partial<HealthCheckStore>).checkHealth === "function";
}
