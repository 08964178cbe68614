/**
 * `smsgate/testing` as `require()` loads it: the signers, fake provider APIs and the fake
 * provider, for test runners that load CommonJS, such as Jest by default. The conformance
 * suites register vitest tests, and vitest cannot be loaded with `require()`, so their two
 * functions throw an error whose message names the import from an ES module as the fix.
 *
 * @module smsgate/testing
 */

import { SmsgateError } from "../errors.js";
import type { ProviderFactory } from "./provider-suite-types.js";
import type { StoreFactory } from "./store-suite.js";

export * from "./helpers.js";
export type * from "./provider-suite-types.js";
export type { StoreFactory, StoreUnderTest } from "./store-suite.js";

function esmOnly(name: string): SmsgateError {
  return new SmsgateError(
    "SMSGATE_ESM_ONLY",
    `${name}() registers vitest tests, and vitest cannot be loaded with require(). Import ` +
      'smsgate/testing from an ES module (a .mjs or .mts test file, or "type": "module")',
  );
}

/**
 * Throws, because the store conformance suite needs vitest, which loads only as an ES module.
 *
 * @throws {SmsgateError} `SMSGATE_ESM_ONLY`, always.
 */
export function describeOptOutStore(_name: string, _factory: StoreFactory): void {
  throw esmOnly("describeOptOutStore");
}

/**
 * Throws, because the provider conformance suite needs vitest, which loads only as an ES
 * module.
 *
 * @throws {SmsgateError} `SMSGATE_ESM_ONLY`, always.
 */
export function describeProvider(_name: string, _factory: ProviderFactory): void {
  throw esmOnly("describeProvider");
}
