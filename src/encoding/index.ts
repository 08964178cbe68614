/**
 * SMS text encoding: whether a text fits the GSM 7-bit alphabet or needs UCS-2, and how
 * many segments it is sent in.
 *
 * @example
 * import { analyzeSmsText } from "smsgate";
 *
 * analyzeSmsText("こんにちは"); // { encoding: "ucs2", units: 5, segments: 1, perSegment: 70 }
 *
 * @module
 */

export {
  analyzeSmsText,
  GSM7_MULTIPART_SEGMENT,
  GSM7_SINGLE_SEGMENT,
  gsm7Septets,
  isGsm7,
  type SmsEncoding,
  type SmsTextAnalysis,
  UCS2_MULTIPART_SEGMENT,
  UCS2_SINGLE_SEGMENT,
} from "./gsm.js";
