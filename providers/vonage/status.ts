import type { DeliveryStatus } from "../../src/provider.js";

/** Normalised status for each `status` of an SMS API delivery receipt. */
export const vonageDeliveryStatusMap: Readonly<Record<string, DeliveryStatus>> = Object.freeze({
  // The carrier accepted the message and has not reported delivery yet.
  accepted: "sent",
  // The carrier keeps the message for a later attempt, such as when the handset is off.
  buffered: "sent",
  delivered: "delivered",
  // The validity period (`ttl`) ran out before the handset could be reached.
  expired: "undelivered",
  failed: "failed",
  // Vonage or the carrier rejected the message, as for an opted-out recipient.
  rejected: "failed",
  unknown: "unknown",
});

/** Normalised status for each `status` of a Messages API status webhook. */
export const vonageMessageStatusMap: Readonly<Record<string, DeliveryStatus>> = Object.freeze({
  // Vonage passed the message to the carrier, which for SMS is the billable event.
  submitted: "sent",
  delivered: "delivered",
  read: "read",
  rejected: "failed",
  failed: "failed",
  undeliverable: "undelivered",
  undelivered: "undelivered",
});

/** Maps an SMS API delivery receipt status to a {@link DeliveryStatus}, else `unknown`. */
export function mapVonageDeliveryStatus(status: string | undefined): DeliveryStatus {
  return lookup(vonageDeliveryStatusMap, status);
}

/** Maps a Messages API status to a {@link DeliveryStatus}, else `unknown`. */
export function mapVonageMessageStatus(status: string | undefined): DeliveryStatus {
  return lookup(vonageMessageStatusMap, status);
}

function lookup(map: Readonly<Record<string, DeliveryStatus>>, status: string | undefined) {
  const key = (status ?? "").trim().toLowerCase();

  return Object.hasOwn(map, key) ? (map[key] as DeliveryStatus) : "unknown";
}
