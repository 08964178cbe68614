/**
 * The consent model: event and store types, the pure logic that derives state from events,
 * and the in-memory store.
 *
 * @module
 */

export { isHealthCheckStore, isNonceStore } from "./capabilities.js";
export { isPseudonym, pseudonymKeyCheck, pseudonymOf } from "./erasure.js";
export { MemoryOptOutStore } from "./memory.js";
export { isPseudonymKeyStore, keepPseudonymKey, verifyPseudonymKey } from "./pseudonym-key.js";
export {
  compareEventPositions,
  consentActions,
  consentSources,
  copyConsentEvent,
  deriveConsentState,
  type EventPosition,
  eventMatchesScope,
  findDecidingEvent,
  isNewerPosition,
  MAX_NOTE_LENGTH,
  positionOf,
  resolveScope,
  type SequencedEvent,
  validateConsentEvent,
  validateKeyCheck,
  validateNonceQuery,
  validateOutboxClaim,
  validateOutboxId,
  validateOutboxRetry,
  validatePhone,
  validatePhoneList,
  validateWebhookReceipt,
} from "./state.js";
export * from "./types.js";
