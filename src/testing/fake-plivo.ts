import { randomUUID } from "node:crypto";
import { type FakeApi, type FakeResponse, type RecordedRequest, startFakeApi } from "./fake-api.js";

/** A message the fake Plivo API queued, one per valid destination. */
export interface FakePlivoMessage {
  messageUuid: string;
  src: string;
  dst: string;
  text: string;
  type: string;
  /** Status callback URL, when one was given. */
  url: string | undefined;
  method: string | undefined;
  mediaUrls: string[];
}

/** Options of {@link startFakePlivoApi}. */
export interface FakePlivoApiOptions {
  /** @default FAKE_PLIVO_AUTH_ID */
  authId?: string | undefined;
  /** @default FAKE_PLIVO_AUTH_TOKEN */
  authToken?: string | undefined;
  /**
   * Called for each authenticated send request with its JSON body (`undefined` when the
   * body is not a JSON object). A response returned here is sent as it is; `undefined`
   * lets the fake handle the request.
   */
  respond?:
    | ((
        body: Record<string, unknown> | undefined,
        request: RecordedRequest,
      ) => FakeResponse | undefined)
    | undefined;
}

/** A running fake of Plivo's Message API. */
export interface FakePlivoApi extends FakeApi {
  authId: string;
  authToken: string;
  /** Messages queued, in order. */
  messages: FakePlivoMessage[];
}

/** Default Auth ID of the fake. */
export const FAKE_PLIVO_AUTH_ID = "MAFAKEPLIVOAUTHID000";

/** Default Auth Token of the fake. */
export const FAKE_PLIVO_AUTH_TOKEN = "fake-plivo-auth-token";

const MESSAGE_PATH = /^\/v1\/Account\/([^/]+)\/Message\/$/;

// Plivo takes numbers as international digits without `+`, and short codes.
const DESTINATION = /^[1-9]\d{2,14}$/;

/**
 * Starts a local fake of `POST /v1/Account/{auth_id}/Message/`.
 *
 * It checks Basic auth (401), requires a JSON object with `src`, `dst` and, for SMS,
 * `text` (400), and splits `dst` at `<` as Plivo does. A destination that is not
 * international digits without `+` is invalid: when all are, the response is 400
 * `invalid phone numbers.`, and otherwise 202 with one `message_uuid` per valid
 * destination and the others in `invalid_number`.
 */
export async function startFakePlivoApi(options: FakePlivoApiOptions = {}): Promise<FakePlivoApi> {
  const authId = options.authId ?? FAKE_PLIVO_AUTH_ID;
  const authToken = options.authToken ?? FAKE_PLIVO_AUTH_TOKEN;
  const messages: FakePlivoMessage[] = [];
  const expectedAuth = `Basic ${Buffer.from(`${authId}:${authToken}`).toString("base64")}`;

  const api = await startFakeApi((request) => {
    const pathname = request.path.split("?")[0] ?? "";
    const match = MESSAGE_PATH.exec(pathname);

    if (match === null) {
      return plivoError(404, `resource ${pathname} not found`);
    }

    if (request.method !== "POST") {
      return plivoError(405, `method ${request.method} not allowed`);
    }

    if (request.headers.authorization !== expectedAuth || match[1] !== authId) {
      return plivoError(401, "authentication failed");
    }

    const body = parseJsonObject(request.body);
    const custom = options.respond?.(body, request);

    if (custom !== undefined) {
      return custom;
    }

    return queueMessages(body, messages);
  });

  return { ...api, authId, authToken, messages };
}

function queueMessages(
  body: Record<string, unknown> | undefined,
  messages: FakePlivoMessage[],
): FakeResponse {
  if (body === undefined) {
    return plivoError(400, "invalid JSON body; send a JSON object");
  }

  const rejection = validate(body);

  if (rejection !== undefined) {
    return rejection;
  }

  const destinations = (body.dst as string).split("<");
  const valid = destinations.filter((dst) => DESTINATION.test(dst));
  const invalid = destinations.filter((dst) => !DESTINATION.test(dst));

  if (valid.length === 0) {
    return plivoError(400, "invalid phone numbers.");
  }

  const queued = valid.map((dst) => queuedMessage(body, dst));

  messages.push(...queued);

  const json: Record<string, unknown> = {
    api_id: randomUUID(),
    message: "message(s) queued",
    message_uuid: queued.map((message) => message.messageUuid),
  };

  if (invalid.length > 0) {
    json.invalid_number = invalid;
  }

  return { status: 202, json };
}

function validate(body: Record<string, unknown>): FakeResponse | undefined {
  for (const name of ["src", "dst"]) {
    if (typeof body[name] !== "string" || body[name] === "") {
      return plivoError(400, `${name} parameter is required`);
    }
  }

  const type = body.type ?? "sms";

  if (type === "sms" && (typeof body.text !== "string" || body.text === "")) {
    return plivoError(400, "text parameter is required for sms");
  }

  if (body.src === body.dst) {
    return plivoError(400, "src and dst cannot be the same");
  }

  return undefined;
}

function queuedMessage(body: Record<string, unknown>, dst: string): FakePlivoMessage {
  const mediaUrls = Array.isArray(body.media_urls)
    ? body.media_urls.filter((url): url is string => typeof url === "string")
    : [];

  return {
    messageUuid: randomUUID(),
    src: body.src as string,
    dst,
    text: typeof body.text === "string" ? body.text : "",
    type: typeof body.type === "string" ? body.type : "sms",
    url: typeof body.url === "string" ? body.url : undefined,
    method: typeof body.method === "string" ? body.method : undefined,
    mediaUrls,
  };
}

function parseJsonObject(text: string): Record<string, unknown> | undefined {
  try {
    const value: unknown = JSON.parse(text);

    if (typeof value === "object" && value !== null && !Array.isArray(value)) {
      return value as Record<string, unknown>;
    }
  } catch {
    // Not JSON: the fake answers 400.
  }

  return undefined;
}

function plivoError(status: number, error: string): FakeResponse {
  return { status, json: { api_id: randomUUID(), error } };
}
