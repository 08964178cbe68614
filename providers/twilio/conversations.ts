import { createHash } from "node:crypto";
import type { InboundMessage, SenderIdentity } from "../../src/provider.js";
import type { TwilioFields } from "./fields.js";

/** Fields a Conversations webhook carries in place of the Messaging ones. */
const AUTHOR = "MessagingBinding.AuthorAddress";
const PROXY = "MessagingBinding.ProxyAddress";

/**
 * Whether the fields are a Conversations event about an SMS participant's message
 * (`onMessageAdded`, or `onConversationAdd` for a group started by SMS) rather than a
 * Messaging webhook.
 */
export function isConversationsMessage(fields: TwilioFields): boolean {
  return (
    fields.text("MessageSid") === undefined &&
    fields.text(AUTHOR) !== undefined &&
    (fields.raw("MessageBody") !== undefined || fields.raw("Body") !== undefined)
  );
}

/**
 * Reads a Conversations event as an inbound message: the author is the sender, the proxy
 * address (the Twilio number) or else the Conversations service is the recipient.
 *
 * An `onConversationAdd` event has no message id, so the id is derived from the fields
 * themselves (all but `RetryCount`), which stay the same when Twilio redelivers the event.
 */
export function readConversationsInbound(
  fields: TwilioFields,
  receivedAt: Date,
  idempotencyToken: string | undefined,
): InboundMessage {
  const from = fields.requireSender(AUTHOR, PROXY);
  const to = fields.optionalSender(PROXY, AUTHOR) ?? serviceIdentity(fields);

  return {
    provider: "twilio",
    messageId: fields.text("Sid") ?? idempotencyToken ?? derivedId(fields),
    accountId: fields.text("AccountSid"),
    from,
    to,
    text: fields.raw("MessageBody") ?? fields.raw("Body") ?? "",
    receivedAt,
    media: [],
    raw: fields.record,
  };
}

function serviceIdentity(fields: TwilioFields): SenderIdentity {
  const value = fields.text("ChatServiceSid") ?? fields.text("AccountSid") ?? "twilio";

  return { kind: "service", value };
}

function derivedId(fields: TwilioFields): string {
  const hash = createHash("sha256");
  const names = Object.keys(fields.record)
    .filter((name) => name !== "RetryCount")
    .sort();

  for (const name of names) {
    const value = fields.record[name];

    for (const item of Array.isArray(value) ? value : [value]) {
      hash.update(`${name}\u0000${item}\u0000`);
    }
  }

  return `conversation:${hash.digest("hex").slice(0, 32)}`;
}
