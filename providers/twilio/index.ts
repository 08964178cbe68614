/**
 * Twilio Programmable Messaging for smsgate: sending through the Messages API, verifying
 * `X-Twilio-Signature`, parsing inbound messages and status callbacks (including the
 * Advanced Opt-Out `OptOutType` flag and 21610 refusals), and TwiML responses.
 *
 * @example
 * import { twilio } from "smsgate/twilio";
 *
 * const provider = twilio({ accountSid, authToken, from: "+15017122661" });
 *
 * @module
 */

export type { FormPair } from "../../src/http/form.js";
export {
  mapTwilioErrorResponse,
  twilioErrorCodeReasons,
  twilioErrorReason,
} from "./errors.js";
export {
  DEFAULT_TWILIO_API_BASE_URL,
  DEFAULT_TWILIO_TIMEOUT_MS,
  type ResolvedTwilioOptions,
  resolveTwilioOptions,
  type TwilioOptions,
} from "./options.js";
export { TwilioProvider, twilio } from "./provider.js";
export { buildTwilioMessageForm } from "./send.js";
export {
  buildTwilioSignatureString,
  computeTwilioSignature,
  type TwilioSignatureParams,
  twilioSignatureUrlCandidates,
  type VerifyTwilioJsonSignatureInput,
  type VerifyTwilioSignatureInput,
  verifyTwilioJsonSignature,
  verifyTwilioSignature,
} from "./signature.js";
export { mapTwilioMessageStatus, twilioStatusMap } from "./status.js";
export { escapeXmlText, twimlResponse } from "./twiml.js";
export {
  type ParseTwilioWebhookOptions,
  parseTwilioWebhook,
  verifyTwilioWebhook,
} from "./webhook.js";
