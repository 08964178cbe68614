import type { DeliveryStatus } from "../../src/provider.js";

/**
 * Normalised status for each `Status` of a Plivo message status callback (and the
 * `message_state` of a fetched message).
 */
export const plivoStatusMap: Readonly<Record<string, DeliveryStatus>> = Object.freeze({
  // Plivo accepted the message and will hand it to a carrier.
  queued: "queued",
  // The carrier took the message. In the US and Canada carriers send no delivery reports,
  // so `sent` is often the last status there.
  sent: "sent",
  delivered: "delivered",
  // The carrier could not deliver the message to the handset.
  undelivered: "undelivered",
  // The carrier refused the message under its regulations after Plivo sent it, so the
  // message did not reach the handset.
  rejected: "undelivered",
  // Plivo could not hand the message to any carrier, and did not charge for it.
  failed: "failed",
  // WhatsApp only: the person opened the message.
  read: "read",
  // `received` describes inbound messages, which have no delivery state.
  received: "unknown",
});

/** Maps a Plivo message status to a {@link DeliveryStatus}. An unknown value maps to `unknown`. */
export function mapPlivoMessageStatus(status: string | undefined): DeliveryStatus {
  const key = normalizeStatus(status);

  return Object.hasOwn(plivoStatusMap, key) ? (plivoStatusMap[key] as DeliveryStatus) : "unknown";
}

// The outcomes delivered, undelivered, rejected and failed share a rank, because none of
// them follows another.
const STATUS_RANKS: Readonly<Record<string, number>> = Object.freeze({
  queued: 1,
  sent: 2,
  delivered: 3,
  undelivered: 3,
  rejected: 3,
  failed: 3,
  read: 4,
});

/**
 * Ranks a Plivo status by how far the message has got: `queued` 1, `sent` 2, the outcomes
 * (`delivered`, `undelivered`, `rejected`, `failed`) 3, `read` 4, and anything else 0.
 *
 * Plivo posts one callback per status change, and they can arrive out of order. A store of
 * message states should apply a callback only when its rank is higher than the stored
 * one, so that a late `queued` cannot replace `delivered`. Two outcomes of equal rank are
 * ordered by the callback's `Sequence` field, which `DeliveryReport.raw` keeps.
 *
 * @example
 * plivoStatusRank("sent") > plivoStatusRank("queued"); // true
 */
export function plivoStatusRank(status: string | undefined): number {
  const key = normalizeStatus(status);

  return Object.hasOwn(STATUS_RANKS, key) ? (STATUS_RANKS[key] as number) : 0;
}

function normalizeStatus(status: string | undefined): string {
  return (status ?? "").trim().toLowerCase();
}
