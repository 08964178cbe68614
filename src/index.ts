/**
 * smsgate: send SMS through a consent guard that never texts a number that opted out, and
 * turn provider webhooks (STOP, START, HELP, delivery reports) into durable consent events.
 *
 * Provider modules live on their own subpaths (`smsgate/twilio`, `smsgate/vonage`,
 * `smsgate/plivo`), stores too
 * (`smsgate/stores/sqlite`), so importing the core loads no provider and no database driver.
 *
 * @module smsgate
 */

export * from "./consent/index.js";
export * from "./encoding/index.js";
export * from "./errors.js";
export { Gateway } from "./gateway/gateway.js";
export type {
  BulkSendResult,
  GatewayEvents,
  GatewayOptions,
  HandleWebhookOptions,
  OptOutScope,
  ReviewItem,
  SendRequest,
} from "./gateway/types.js";
export { createFetchHandler, type FetchHandlerOptions } from "./http/fetch.js";
export { encodeForm, formFieldsToRecord, parseFormBody } from "./http/form.js";
export { signForwardBody, verifyForwardSignature } from "./http/forward-signature.js";
export {
  createNodeHandler,
  type NodeHandlerOptions,
  type NodeRequestListener,
} from "./http/node-handler.js";
export * from "./keywords/index.js";
export { type Logger, silentLogger } from "./logger.js";
export * from "./phone/index.js";
export * from "./provider.js";
