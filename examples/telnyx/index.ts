/**
 * Telnyx messaging for smsgate, built only on the public `smsgate` API: sending through
 * `POST /v2/messages`, verifying Ed25519 webhook signatures, and parsing message and
 * delivery events (code 40300 is an opt-out).
 *
 * @example
 * import { telnyx } from "smsgate-telnyx";
 *
 * const provider = telnyx({ apiKey, publicKey, from: "+14155550199" });
 *
 * @module
 */

export {
  firstErrorCode,
  mapTelnyxErrorResponse,
  telnyxErrorCodeReasons,
  telnyxErrorReason,
} from "./errors.js";
export {
  DEFAULT_TELNYX_API_BASE_URL,
  type ResolvedTelnyxOptions,
  resolveTelnyxOptions,
  type TelnyxOptions,
} from "./options.js";
export { TelnyxProvider, telnyx } from "./provider.js";
export { buildTelnyxMessageBody, sendTelnyxMessage, type TelnyxMessageBody } from "./send.js";
export {
  TELNYX_SIGNATURE_HEADER,
  TELNYX_TIMESTAMP_HEADER,
  telnyxSignedBytes,
  type VerifyTelnyxSignatureOptions,
  verifyTelnyxSignature,
} from "./signature.js";
export { mapTelnyxStatus, telnyxStatusMap } from "./status.js";
export { parseTelnyxWebhook } from "./webhook.js";
