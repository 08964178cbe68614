/**
 * Vonage for smsgate: sending through the SMS API or the Messages API, verifying the SMS
 * API `sig` and the Messages API JWT, and parsing inbound SMS (multipart parts included),
 * delivery receipts (`err-code` 9 is an opt-out) and Messages API webhooks.
 *
 * @example
 * import { vonage } from "smsgate/vonage";
 *
 * const provider = vonage({ apiKey, apiSecret, signatureSecret, from: "+14155550100" });
 *
 * @module
 */

export {
  mapVonageErrorResponse,
  mapVonageSmsRejection,
  readProblemCode,
  type VonageSmsPart,
  vonageDeliveryErrorReason,
  vonageDeliveryErrorReasons,
  vonageMessagesErrorReason,
  vonageMessagesErrorReasons,
  vonageSmsStatusReason,
  vonageSmsStatusReasons,
} from "./errors.js";
export {
  parseVonageScts,
  parseVonageTimestamp,
  readVonageFields,
  VonageFields,
  type VonageWebhookFields,
} from "./fields.js";
export {
  createVonageApplicationJwt,
  decodeVonageJwt,
  readBearerToken,
  signVonageHs256Jwt,
  type VerifyVonageJwtInput,
  type VonageApplicationJwtInput,
  type VonageJwtClaims,
  verifyVonageJwt,
} from "./jwt.js";
export {
  buildVonageMessagesRequest,
  sendVonageMessage,
  type VonageMessagesRequest,
  vonageMessagesAuthorization,
} from "./messages-api.js";
export {
  DEFAULT_VONAGE_MESSAGES_API_BASE_URL,
  DEFAULT_VONAGE_SIGNATURE_TOLERANCE_SECONDS,
  DEFAULT_VONAGE_SMS_API_BASE_URL,
  DEFAULT_VONAGE_TIMEOUT_MS,
  type ResolvedVonageOptions,
  resolveVonageOptions,
  type VonageOptions,
} from "./options.js";
export { VonageProvider, vonage } from "./provider.js";
export {
  buildVonageSmsForm,
  sendVonageSms,
  type VonageOutboundMessage,
  vonageRecipient,
  vonageSender,
} from "./send.js";
export {
  buildVonageSignatureString,
  computeVonageSignature,
  type VerifyVonageSignatureInput,
  type VonageSignatureMethod,
  type VonageSignatureParams,
  type VonageSignatureStringOptions,
  verifyVonageSignature,
  vonageSignatureMethods,
} from "./signature.js";
export {
  mapVonageDeliveryStatus,
  mapVonageMessageStatus,
  vonageDeliveryStatusMap,
  vonageMessageStatusMap,
} from "./status.js";
export {
  type ParseVonageWebhookOptions,
  parseVonageWebhook,
  type VerifyVonageWebhookOptions,
  verifyVonageWebhook,
  vonageWebhookNonce,
  vonageWebhookResponse,
} from "./webhook.js";
