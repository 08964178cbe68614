/**
 * Plivo SMS for smsgate: sending through the Message API, verifying
 * `X-Plivo-Signature-V3` and `-V2`, parsing inbound messages and status callbacks
 * (including the `MessageIntent` opt-out flag and `ErrorCode` 200 refusals), and Plivo
 * XML responses.
 *
 * @example
 * import { plivo } from "smsgate/plivo";
 *
 * const provider = plivo({ authId, authToken, from: "+14155550199" });
 *
 * @module
 */

export {
  mapPlivoErrorResponse,
  type PlivoRequestAddresses,
  plivoErrorCodeReasons,
  plivoErrorReason,
} from "./errors.js";
export { parsePlivoTimestamp } from "./fields.js";
export {
  DEFAULT_PLIVO_API_BASE_URL,
  DEFAULT_PLIVO_TIMEOUT_MS,
  type PlivoOptions,
  type ResolvedPlivoOptions,
  resolvePlivoOptions,
} from "./options.js";
export { PlivoProvider, type PlivoReplyContext, plivo } from "./provider.js";
export { buildPlivoMessageBody, type PlivoMessageBody, toPlivoAddress } from "./send.js";
export {
  buildPlivoSignatureV2String,
  buildPlivoSignatureV3String,
  computePlivoSignatureV1,
  computePlivoSignatureV2,
  computePlivoSignatureV3,
  type PlivoSignatureParams,
  type PlivoSignatureV3Request,
  plivoSignatureBaseUrl,
  type VerifyPlivoSignatureV2Input,
  type VerifyPlivoSignatureV3Input,
  verifyPlivoSignatureV2,
  verifyPlivoSignatureV3,
} from "./signature.js";
export { mapPlivoMessageStatus, plivoStatusMap, plivoStatusRank } from "./status.js";
export {
  type ParsePlivoWebhookOptions,
  type PlivoWebhookSecrets,
  parsePlivoWebhook,
  plivoWebhookNonce,
  verifyPlivoWebhook,
} from "./webhook.js";
export { escapePlivoXml, type PlivoXmlReply, plivoXmlResponse } from "./xml.js";
