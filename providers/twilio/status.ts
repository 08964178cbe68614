import type { DeliveryStatus } from "../../src/provider.js";

/**
 * Normalised status for each value of Twilio's `message_enum_status` (the `status` of a
 * Message and the `MessageStatus` of a status callback).
 */
export const twilioStatusMap: Readonly<Record<string, DeliveryStatus>> = Object.freeze({
  // A Messaging Service accepted the message and has not picked a sender yet. A scheduled
  // message is accepted and waits for its send time.
  accepted: "accepted",
  scheduled: "accepted",
  queued: "queued",
  sending: "sending",
  sent: "sent",
  delivered: "delivered",
  // Some parts of a multipart message reached the handset. It is final, like delivered.
  partially_delivered: "delivered",
  read: "read",
  undelivered: "undelivered",
  failed: "failed",
  canceled: "canceled",
  // `receiving` and `received` describe inbound messages, which have no delivery state.
  receiving: "unknown",
  received: "unknown",
});

/** Maps a Twilio message status to a {@link DeliveryStatus}; an unknown value is `unknown`. */
export function mapTwilioMessageStatus(status: string | undefined): DeliveryStatus {
  const key = (status ?? "").trim().toLowerCase();

  return Object.hasOwn(twilioStatusMap, key) ? (twilioStatusMap[key] as DeliveryStatus) : "unknown";
}
