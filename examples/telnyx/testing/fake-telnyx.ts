import { randomUUID } from "node:crypto";
import {
  type FakeApi,
  type FakeResponse,
  type RecordedRequest,
  startFakeApi,
} from "smsgate/testing";

/** A message the fake Telnyx API queued. */
export interface FakeTelnyxMessage {
  id: string;
  to: string;
  from: string | undefined;
  text: string;
}

/** A refusal the fake gives for one recipient. */
export interface FakeTelnyxRefusal {
  status: number;
  code: string;
}

/** Options of {@link startFakeTelnyxApi}. */
export interface FakeTelnyxApiOptions {
  /** @default "KEYfake" */
  apiKey?: string | undefined;
  /** Refusals by recipient, such as `{ "+14155550104": { status: 422, code: "40300" } }`. */
  refusals?: Readonly<Record<string, FakeTelnyxRefusal>> | undefined;
}

/** A running fake of Telnyx's `POST /v2/messages`. */
export interface FakeTelnyxApi extends FakeApi {
  apiKey: string;
  messages: FakeTelnyxMessage[];
}

/**
 * Starts a local fake of `POST /v2/messages`. It checks the bearer key (401, code 10009),
 * requires `to`, `text` and `from` or `messaging_profile_id` (422), rejects the configured
 * recipients, and otherwise responds 200 with `data.id` and the recipient `queued`.
 *
 * NOTE: codes 10005 and 10015 stand in for Telnyx's not-found and invalid-body codes,
 * which were not confirmed.
 */
export async function startFakeTelnyxApi(
  options: FakeTelnyxApiOptions = {},
): Promise<FakeTelnyxApi> {
  const apiKey = options.apiKey ?? "KEYfake";
  const messages: FakeTelnyxMessage[] = [];
  const api = await startFakeApi((request) => handle(request, apiKey, options, messages));

  return { ...api, apiKey, messages };
}

function handle(
  request: RecordedRequest,
  apiKey: string,
  options: FakeTelnyxApiOptions,
  messages: FakeTelnyxMessage[],
): FakeResponse {
  if (request.method !== "POST" || request.path !== "/v2/messages") {
    return telnyxError(404, "10005", "Resource not found");
  }

  if (request.headers.authorization !== `Bearer ${apiKey}`) {
    return telnyxError(401, "10009", "Authentication failed");
  }

  const body = readBody(request.body);
  const to = typeof body.to === "string" ? body.to : "";
  const from = typeof body.from === "string" ? body.from : undefined;

  if (
    to === "" ||
    typeof body.text !== "string" ||
    (from ?? body.messaging_profile_id) === undefined
  ) {
    return telnyxError(422, "10015", "Invalid request body");
  }

  const refusal = options.refusals?.[to];

  if (refusal !== undefined) {
    return telnyxError(refusal.status, refusal.code, "Message rejected");
  }

  const message = { id: randomUUID(), to, from, text: body.text };

  messages.push(message);

  return { status: 200, json: { data: accepted(message) } };
}

function accepted(message: FakeTelnyxMessage): Record<string, unknown> {
  return {
    record_type: "message",
    id: message.id,
    from: { phone_number: message.from },
    to: [{ phone_number: message.to, status: "queued" }],
    text: message.text,
    parts: 1,
  };
}

function readBody(text: string): Record<string, unknown> {
  try {
    const value: unknown = JSON.parse(text);

    return typeof value === "object" && value !== null ? (value as Record<string, unknown>) : {};
  } catch {
    return {};
  }
}

function telnyxError(status: number, code: string, title: string): FakeResponse {
  return { status, json: { errors: [{ code, title, detail: title }] } };
}
