/** Rows as pg returns them, and their mapping to the consent model. */

import type {
  ConsentAction,
  ConsentEvent,
  ConsentSource,
  MessagePartGroup,
} from "../../consent/types.js";

/** A row of `consent_events` as read. pg returns `timestamptz` columns as Dates. */
export interface EventRow {
  id: string;
  phone: string;
  action: string;
  sender: string;
  source: string;
  provider: string | null;
  message_id: string | null;
  provider_code: string | null;
  text: string | null;
  keyword: string | null;
  note: string | null;
  occurred_at: Date;
  recorded_at: Date;
}

/** A row of a listing page: the event and the phone it was listed under. */
export interface ListRow extends EventRow {
  list_phone: string;
}

/** A row of `message_part_groups` with its parts aggregated as JSON. */
export interface PartGroupRow {
  group_key: string;
  total: number;
  first_received_at: Date;
  completed_at: Date | null;
  parts: Array<{ index: number; partId: string; payload: string }>;
}

/** A row of `outbox` as returned by a claim. */
export interface OutboxRow {
  id: string;
  type: string;
  payload: string;
  created_at: Date;
  attempts: number;
}

/** Turns a row of `consent_events` into an event, leaving out empty columns. */
export function rowToEvent(row: EventRow): ConsentEvent {
  const event: ConsentEvent = {
    id: row.id,
    phone: row.phone,
    action: row.action as ConsentAction,
    sender: row.sender,
    source: row.source as ConsentSource,
    occurredAt: row.occurred_at,
    recordedAt: row.recorded_at,
  };

  if (row.provider !== null) event.provider = row.provider;
  if (row.message_id !== null) event.messageId = row.message_id;
  if (row.provider_code !== null) event.providerCode = row.provider_code;
  if (row.text !== null) event.text = row.text;
  if (row.keyword !== null) event.keyword = row.keyword;
  if (row.note !== null) event.note = row.note;

  return event;
}

/** Turns a group row into a {@link MessagePartGroup}. */
export function rowToPartGroup(row: PartGroupRow): MessagePartGroup {
  return {
    groupKey: row.group_key,
    total: row.total,
    parts: row.parts.map(({ index, partId, payload }) => ({ index, partId, payload })),
    firstReceivedAt: row.first_received_at,
    completed: row.completed_at !== null,
  };
}

/** Builds the column arrays that `insertEvents` binds as $1..$12, in event order. */
export function eventColumnArrays(events: readonly ConsentEvent[]): unknown[] {
  const column = (read: (event: ConsentEvent) => string | undefined) =>
    events.map((event) => read(event) ?? null);

  return [
    column((event) => event.id),
    column((event) => event.phone),
    column((event) => event.action),
    column((event) => event.sender),
    column((event) => event.source),
    column((event) => event.provider),
    column((event) => event.messageId),
    column((event) => event.providerCode),
    column((event) => event.text),
    column((event) => event.keyword),
    column((event) => event.note),
    column((event) => event.occurredAt.toISOString()),
  ];
}
