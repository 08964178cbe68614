/**
 * A generic HTTP provider for smsgate, configured without code. It builds the send request
 * from a JSON or form template and maps refusals to reasons by rules. It reads webhooks
 * through a field mapping, with the provider's opt-out flag and opt-out reports, and
 * verifies an HMAC over the raw body.
 *
 * @example
 * import { generic } from "smsgate/generic";
 *
 * const provider = generic(JSON.parse(await readFile("acme.json", "utf8")));
 *
 * @module
 */

export {
  type GenericErrorOptions,
  type GenericResponse,
  genericErrorReason,
  mapGenericErrorResponse,
  matchErrorRule,
  reasonForHttpStatus,
} from "./errors.js";
export { GenericFields, MAX_JSON_DEPTH, parseGenericTime, readPath, scalarText } from "./fields.js";
export {
  DEFAULT_GENERIC_TIMEOUT_MS,
  DEFAULT_GENERIC_TOLERANCE_SECONDS,
  type GenericAuth,
  type GenericErrorRule,
  type GenericHmacSignature,
  type GenericInboundMapping,
  type GenericIntentMapping,
  type GenericNoSignature,
  type GenericOptOutReport,
  type GenericProviderOptions,
  type GenericSendOptions,
  type GenericStatusMapping,
  type GenericWebhookOptions,
  type GenericWebhookResponse,
  type ResolvedGenericOptions,
  type ResolvedGenericWebhooks,
  resolveGenericOptions,
} from "./options.js";
export { GenericProvider, generic } from "./provider.js";
export { genericOptionsSchema } from "./schema.js";
export { buildGenericSendRequest, type GenericSendRequest } from "./send.js";
export {
  completeGenericSignature,
  computeGenericSignature,
  type GenericSignedContent,
  genericSignedBytes,
  verifyGenericSignature,
} from "./signature.js";
export { mapGenericStatus } from "./status.js";
export {
  type GenericPlaceholder,
  type GenericTemplateValue,
  type GenericTemplateValues,
  genericPlaceholders,
  renderTemplate,
} from "./template.js";
export { parseGenericWebhook, verifyGenericWebhook } from "./webhook.js";
