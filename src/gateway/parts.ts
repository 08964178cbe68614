import type { MessagePartGroup, OptOutStore, PartStore } from "../consent/types.js";
import type { InboundMessage } from "../provider.js";

/** Inbound messages after multipart reassembly. */
export interface Assembly {
  /** Messages to classify: whole ones, and multipart ones whose parts are all stored. */
  messages: InboundMessage[];
  /** The multipart group the receipt delivers, when it delivers one. */
  completesPartGroup?: string | undefined;
  /** Receipt id for a webhook that only stored a part. */
  receiptId?: string | undefined;
}

/** Checks whether the store keeps multipart parts. */
export function hasPartStore(store: OptOutStore): store is OptOutStore & PartStore {
  const candidate = store as Partial<PartStore>;

  return (
    typeof candidate.addMessagePart === "function" &&
    typeof candidate.stalePartGroups === "function"
  );
}

/**
 * Identifies a multipart message. Providers make the reference unique per sender only, so
 * the key holds the provider, both parties and the reference.
 */
export function partGroupKey(message: InboundMessage): string {
  const reference = message.part?.reference ?? "";

  return `${message.provider}:${message.from.value}:${message.to.value}:${reference}`;
}

/** Builds the receipt id of a delivered multipart message from its group and first part. */
export function partReceiptId(group: MessagePartGroup): string {
  return `parts:${group.groupKey}:${group.parts[0]?.partId ?? ""}`;
}

/**
 * Returns the assembly of messages that has no part, which {@link assembleInbound} returns
 * without calling the store, or `undefined` when a message is a part.
 */
export function wholeMessages(messages: readonly InboundMessage[]): Assembly | undefined {
  for (const message of messages) {
    if (message.part !== undefined) {
      return undefined;
    }
  }

  return { messages: [...messages] };
}

/**
 * Stores each part of a multipart message and returns the messages ready to classify: a
 * part only counts once every part of its message is stored, so no part on its own can
 * change consent. Rejects when the store fails, so that the webhook gets 503.
 */
export async function assembleInbound(
  store: OptOutStore,
  messages: readonly InboundMessage[],
): Promise<Assembly> {
  const whole = messages.filter((message) => message.part === undefined);
  const parts = messages.filter((message) => message.part !== undefined);

  // NOTE: a store without PartStore gets every part as a message of its own, so a keyword
  // split across parts is missed. The built-in stores all keep parts.
  if (parts.length === 0 || !hasPartStore(store)) {
    return { messages: [...messages] };
  }

  const assembly: Assembly = { messages: whole };

  for (const message of parts) {
    const group = await store.addMessagePart(toPartInput(message));

    if (group.completed || group.parts.length < group.total) {
      assembly.receiptId ??= `part:${group.groupKey}:${message.part?.index}`;
      continue;
    }

    assembly.messages.push(joinParts(group));
    assembly.completesPartGroup = group.groupKey;
    assembly.receiptId = partReceiptId(group);
  }

  return assembly;
}

/**
 * Joins the stored parts of a group into one message, in part order. A group with missing
 * parts gives a message flagged `incomplete`.
 */
export function joinParts(group: MessagePartGroup): InboundMessage {
  const parts = group.parts.map((part) => reviveMessage(part.payload));
  const first = parts[0] as InboundMessage;
  const times = parts.flatMap((part) => (part.providerTime ? [part.providerTime.getTime()] : []));
  const received = Math.max(...parts.map((part) => part.receivedAt.getTime()));

  return {
    ...first,
    text: parts.map((part) => part.text).join(""),
    receivedAt: new Date(received),
    providerTime: times.length > 0 ? new Date(Math.min(...times)) : undefined,
    media: parts.flatMap((part) => part.media),
    segments: group.total,
    part: undefined,
    incomplete: parts.length < group.total ? true : undefined,
    raw: { parts: parts.map((part) => part.raw) },
  };
}

function toPartInput(message: InboundMessage) {
  const part = message.part as NonNullable<InboundMessage["part"]>;

  return {
    groupKey: partGroupKey(message),
    index: part.index,
    total: part.total,
    partId: message.messageId,
    payload: JSON.stringify(message),
    receivedAt: message.receivedAt,
  };
}

function reviveMessage(payload: string): InboundMessage {
  const message = JSON.parse(payload) as InboundMessage;

  message.receivedAt = new Date(message.receivedAt);

  if (message.providerTime !== undefined) {
    message.providerTime = new Date(message.providerTime);
  }

  return message;
}
