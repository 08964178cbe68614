/**
 * Everything of `smsgate/testing` but the conformance suites: signers, fake provider APIs
 * and the fake provider. These need no test runner.
 */

export * from "./fake-api.js";
export * from "./fake-plivo.js";
export * from "./fake-provider.js";
export * from "./fake-twilio.js";
export * from "./fake-vonage.js";
export * from "./generic.js";
export * from "./plivo.js";
export * from "./twilio.js";
export * from "./vonage.js";
export * from "./webhook-request.js";
