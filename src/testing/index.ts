/**
 * Test support for smsgate and for code built on it: signers that produce webhooks exactly
 * as each provider signs them, fake provider APIs on local ports, a fake provider that
 * records what it was asked to send, and the conformance suites for stores
 * (`describeOptOutStore`) and providers (`describeProvider`).
 *
 * Both suites register vitest tests, so importing this module needs vitest installed. Loaded
 * with `require()`, the module has everything else, and the two suite functions throw.
 *
 * @module smsgate/testing
 */

export * from "./helpers.js";
export * from "./provider-suite.js";
export * from "./store-suite.js";
