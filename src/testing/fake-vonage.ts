import { randomBytes, randomUUID, verify } from "node:crypto";
import {
  computeVonageSignature,
  hexEqual,
  type VonageSignatureMethod,
} from "../../providers/vonage/signature.js";
import { analyzeSmsText } from "../encoding/gsm.js";
import type { FormPair } from "../http/form.js";
import { type FakeApi, type FakeResponse, type RecordedRequest, startFakeApi } from "./fake-api.js";

/** A message the fake Vonage API accepted, from either API. */
export interface FakeVonageMessage {
  api: "sms" | "messages";
  /** The `message-id` of the first part, or the `message_uuid`. */
  id: string;
  to: string;
  from: string;
  text: string;
  /** `type` of an SMS API send, `sms.encoding_type` of a Messages API send. */
  encoding: string | undefined;
  /** `callback` or `webhook_url`. */
  callback: string | undefined;
  clientRef: string | undefined;
}

/** Options of {@link startFakeVonageApi}. */
export interface FakeVonageApiOptions {
  /** @default FAKE_VONAGE_API_KEY */
  apiKey?: string | undefined;
  /** @default FAKE_VONAGE_API_SECRET */
  apiSecret?: string | undefined;
  /** Secret that checks the `sig` of signed SMS API sends. */
  signatureSecret?: string | undefined;
  /** @default "md5hash" */
  signatureMethod?: VonageSignatureMethod | undefined;
  /** Application whose JWTs the Messages API accepts. */
  applicationId?: string | undefined;
  /** Public key (PEM) that checks the RS256 JWTs of the Messages API. */
  publicKey?: string | undefined;
  /**
   * SMS API `status` per recipient (digits without `+`): one status for every part, or
   * one per part. Other recipients get `0` for every part.
   */
  smsStatuses?: Readonly<Record<string, string | readonly string[]>> | undefined;
  /**
   * Called for each authenticated request. A response returned here is sent as it is;
   * `undefined` lets the fake handle the request.
   */
  respond?: ((request: RecordedRequest) => FakeResponse | undefined) | undefined;
}

/** A running fake of Vonage's SMS API and Messages API. */
export interface FakeVonageApi extends FakeApi {
  apiKey: string;
  apiSecret: string;
  /** Messages accepted, in order. */
  messages: FakeVonageMessage[];
}

/** Default API key of the fake. */
export const FAKE_VONAGE_API_KEY = "fakekey1";

/** Default API secret of the fake. */
export const FAKE_VONAGE_API_SECRET = "fake-vonage-api-secret";

const ERROR_TEXTS: Readonly<Record<string, string>> = {
  1: "Throttled",
  2: "Missing params",
  3: "Invalid params",
  4: "Bad Credentials",
  5: "Internal Error",
  6: "Invalid Message",
  7: "Number Barred",
  8: "Partner Account Barred",
  9: "Partner Quota Exceeded",
  14: "Invalid Signature",
  15: "Illegal Sender Address - rejected",
  29: "Non White-listed Destination - rejected",
  32: "Signature And API Secret Disallowed",
  33: "Number De-activated",
};

/**
 * Starts a local fake of `POST /sms/json` and `POST /v1/messages`.
 *
 * The SMS API responds with HTTP 200 as Vonage does, with status 4 for wrong credentials, 14
 * for a wrong `sig`, 32 for a `sig` sent with `api_secret` and 2 for a missing `from`,
 * `to` or `text`. Otherwise it returns one entry per part of the text (counted as a
 * carrier would, by GSM-7 or UCS-2 segments), with the statuses of `smsStatuses`.
 *
 * The Messages API checks Basic auth or an RS256 JWT (401 problem otherwise), requires
 * `message_type`, `channel`, `to`, `from` and `text` (422), and responds with 202 and a
 * `message_uuid`.
 */
export async function startFakeVonageApi(
  options: FakeVonageApiOptions = {},
): Promise<FakeVonageApi> {
  const apiKey = options.apiKey ?? FAKE_VONAGE_API_KEY;
  const apiSecret = options.apiSecret ?? FAKE_VONAGE_API_SECRET;
  const settings = { ...options, apiKey, apiSecret };
  const messages: FakeVonageMessage[] = [];

  const api = await startFakeApi((request) => {
    const pathname = request.path.split("?")[0] ?? "";

    if (request.method === "POST" && pathname === "/sms/json") {
      return handleSms(settings, request, messages);
    }

    if (request.method === "POST" && pathname === "/v1/messages") {
      return handleMessages(settings, request, messages);
    }

    return problem(404, "not-found", "Not Found", `No resource at ${request.method} ${pathname}`);
  });

  return { ...api, apiKey, apiSecret, messages };
}

type Settings = FakeVonageApiOptions & { apiKey: string; apiSecret: string };

function handleSms(
  settings: Settings,
  request: RecordedRequest,
  messages: FakeVonageMessage[],
): FakeResponse {
  const form = request.form;
  const rejection = checkSmsAuth(settings, form);

  if (rejection !== undefined) {
    return smsError(rejection);
  }

  const custom = settings.respond?.(request);

  if (custom !== undefined) {
    return custom;
  }

  const to = field(form, "to");
  const from = field(form, "from");
  const text = field(form, "text");

  if (to === undefined || from === undefined || text === undefined) {
    return smsError("2");
  }

  const statuses = partStatuses(settings.smsStatuses?.[to], analyzeSmsText(text).segments);
  const entries = statuses.map((status) => smsEntry(status, to, field(form, "client-ref")));
  const first = entries[0] as Record<string, string>;

  if (statuses.every((status) => status === "0")) {
    messages.push({
      api: "sms",
      id: first["message-id"] as string,
      to,
      from,
      text,
      encoding: field(form, "type"),
      callback: field(form, "callback"),
      clientRef: field(form, "client-ref"),
    });
  }

  return { status: 200, json: { "message-count": String(entries.length), messages: entries } };
}

function checkSmsAuth(settings: Settings, form: FormPair[]): string | undefined {
  const sig = field(form, "sig");

  if (sig !== undefined && field(form, "api_secret") !== undefined) {
    return "32";
  }

  if (field(form, "api_key") !== settings.apiKey) {
    return "4";
  }

  if (sig === undefined) {
    return field(form, "api_secret") === settings.apiSecret ? undefined : "4";
  }

  const secret = settings.signatureSecret;
  const method = settings.signatureMethod ?? "md5hash";
  const valid = secret !== undefined && hexEqual(computeVonageSignature(form, secret, method), sig);

  return valid ? undefined : "14";
}

function partStatuses(configured: string | readonly string[] | undefined, parts: number) {
  if (Array.isArray(configured)) {
    return [...configured];
  }

  return Array.from({ length: parts }, () => (configured as string | undefined) ?? "0");
}

function smsEntry(status: string, to: string, clientRef: string | undefined) {
  if (status !== "0") {
    return { to, status, "error-text": ERROR_TEXTS[status] ?? "Unknown error" };
  }

  const entry: Record<string, string> = {
    to,
    "message-id": randomBytes(8).toString("hex").toUpperCase(),
    status: "0",
    "remaining-balance": "3.14159265",
    "message-price": "0.03330000",
    network: "310004",
  };

  if (clientRef !== undefined) {
    entry["client-ref"] = clientRef;
  }

  return entry;
}

function smsError(status: string): FakeResponse {
  return {
    status: 200,
    json: {
      "message-count": "1",
      messages: [{ status, "error-text": ERROR_TEXTS[status] ?? "Unknown error" }],
    },
  };
}

function handleMessages(
  settings: Settings,
  request: RecordedRequest,
  messages: FakeVonageMessage[],
): FakeResponse {
  if (!messagesAuthValid(settings, request.headers.authorization)) {
    return problem(401, "unauthorized", "Unauthorized", "You did not provide correct credentials.");
  }

  const custom = settings.respond?.(request);

  if (custom !== undefined) {
    return custom;
  }

  const body = parseObject(request.body);
  const missing = ["message_type", "channel", "to", "from", "text"].filter(
    (name) => typeof body?.[name] !== "string" || body[name] === "",
  );

  if (body === undefined || missing.length > 0) {
    return invalidParameters(missing);
  }

  const messageUuid = randomUUID();
  const sms = body.sms as { encoding_type?: string } | undefined;

  messages.push({
    api: "messages",
    id: messageUuid,
    to: body.to as string,
    from: body.from as string,
    text: body.text as string,
    encoding: sms?.encoding_type,
    callback: body.webhook_url as string | undefined,
    clientRef: body.client_ref as string | undefined,
  });

  return { status: 202, json: { message_uuid: messageUuid } };
}

function messagesAuthValid(settings: Settings, authorization: string | undefined): boolean {
  const credentials = Buffer.from(`${settings.apiKey}:${settings.apiSecret}`);
  const basic = `Basic ${credentials.toString("base64")}`;

  if (authorization === basic) {
    return true;
  }

  const token = /^Bearer (\S+)$/.exec(authorization ?? "")?.[1];

  return token !== undefined && applicationJwtValid(settings, token);
}

function applicationJwtValid(settings: Settings, token: string): boolean {
  const [header, payload, signature] = token.split(".");

  if (settings.publicKey === undefined || !header || !payload || !signature) {
    return false;
  }

  const signed = verify(
    "sha256",
    Buffer.from(`${header}.${payload}`),
    settings.publicKey,
    Buffer.from(signature, "base64url"),
  );
  const claims = parseObject(Buffer.from(payload, "base64url").toString("utf8"));
  const alg = parseObject(Buffer.from(header, "base64url").toString("utf8"))?.alg;
  const exp = claims?.exp;
  const unexpired = typeof exp === "number" && exp * 1000 > Date.now();

  return (
    signed && alg === "RS256" && claims?.application_id === settings.applicationId && unexpired
  );
}

function invalidParameters(missing: string[]): FakeResponse {
  return {
    status: 422,
    json: {
      type: "https://developer.nexmo.com/api-errors/messages-olympus#1010",
      title: "Missing params",
      detail: `Missing ${missing.join(", ") || "body"}`,
      instance: randomUUID(),
      invalid_parameters: missing.map((name) => ({ name, reason: "is required" })),
    },
  };
}

function problem(status: number, type: string, title: string, detail: string): FakeResponse {
  return {
    status,
    headers: { "content-type": "application/problem+json" },
    body: JSON.stringify({
      type: `https://developer.nexmo.com/api-errors/#${type}`,
      title,
      detail,
      instance: randomUUID(),
    }),
  };
}

function parseObject(text: string): Record<string, unknown> | undefined {
  try {
    const value: unknown = JSON.parse(text);

    return typeof value === "object" && value !== null && !Array.isArray(value)
      ? (value as Record<string, unknown>)
      : undefined;
  } catch {
    return undefined;
  }
}

function field(form: FormPair[], name: string): string | undefined {
  const value = form.find(([key]) => key === name)?.[1];

  return value === undefined || value === "" ? undefined : value;
}
