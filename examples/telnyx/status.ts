import type { DeliveryStatus } from "smsgate";

/** Normalised status for each recipient `status` of a Telnyx message. */
export const telnyxStatusMap: Readonly<Record<string, DeliveryStatus>> = Object.freeze({
  queued: "queued",
  sending: "sending",
  sent: "sent",
  delivered: "delivered",
  // Telnyx could not hand the message to the carrier.
  sending_failed: "failed",
  // The carrier reported that the handset was not reached.
  delivery_failed: "undelivered",
  expired: "undelivered",
  // NOTE: read as "sent" because the carrier sent no receipt. Whether Telnyx can still
  // follow it with a final status was not confirmed.
  delivery_unconfirmed: "sent",
});

/** Maps a Telnyx status to a {@link DeliveryStatus}; an unknown value is `unknown`. */
export function mapTelnyxStatus(status: string | undefined): DeliveryStatus {
  const key = (status ?? "").trim().toLowerCase();

  return Object.hasOwn(telnyxStatusMap, key) ? (telnyxStatusMap[key] as DeliveryStatus) : "unknown";
}
