/**
 * Phone numbers and sender identities: E.164 normalisation with libphonenumber-js.
 * @module
 */

export {
  type CountryCode,
  isE164,
  type NormalizeOptions,
  normalizeInternationalDigits,
  normalizePhoneNumber,
  type PhoneNumber,
} from "./normalize.js";
export {
  normalizeRecipient,
  parseSenderIdentity,
  parseTypedSender,
  type Recipient,
  type SenderOptions,
} from "./sender.js";
export { maxPhoneInputLength } from "./text.js";
