/**
 * The keyword classifier: reply text in, `{ intent, match, keyword }` out.
 * @module
 */

export {
  classifyKeywords,
  createKeywordClassifier,
  type KeywordClassification,
  type KeywordOptions,
} from "./classify.js";
export {
  courtesyWords,
  defaultHelpKeywords,
  defaultOptInKeywords,
  defaultOptOutKeywords,
  optOutPhraseRules,
  type PhraseRule,
  yesOptInKeywords,
} from "./lists.js";
export { normalizeKeywordText } from "./normalize.js";
