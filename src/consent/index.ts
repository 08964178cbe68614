/**
 * The consent model: event and store types, the pure logic that derives state from events,
 * and the in-memory store.
 *
 * @module
 */

export { MemoryOptOutStore } from "./memory.js";
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
  positionOf,
  resolveScope,
  type SequencedEvent,
  validateConsentEvent,
  validateNonceQuery,
  validateOutboxClaim,
  validateOutboxId,
  validateOutboxRetry,
  validatePhone,
  validatePhoneList,
  validateWebhookReceipt,
} from "./state.js";
export * from "./types.js";
