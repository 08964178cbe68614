import { randomBytes } from "node:crypto";
import type { FormPair } from "../http/form.js";
import { type FakeApi, type FakeResponse, type RecordedRequest, startFakeApi } from "./fake-api.js";

/** A message the fake Twilio API accepted. */
export interface FakeTwilioMessage {
  sid: string;
  to: string;
  from: string | undefined;
  messagingServiceSid: string | undefined;
  body: string;
  mediaUrls: string[];
  statusCallback: string | undefined;
  /** The Message JSON that was returned. */
  resource: Record<string, unknown>;
}

/** Options of {@link startFakeTwilioApi}. */
export interface FakeTwilioApiOptions {
  /** @default "AC" followed by 32 zeros and ones (see {@link FAKE_TWILIO_ACCOUNT_SID}) */
  accountSid?: string | undefined;
  /** @default FAKE_TWILIO_AUTH_TOKEN */
  authToken?: string | undefined;
  /**
   * Called for each authenticated create request. A response returned here is sent as it
   * is; `undefined` lets the fake handle the request.
   */
  respond?: ((form: FormPair[], request: RecordedRequest) => FakeResponse | undefined) | undefined;
}

/** A running fake of Twilio's Messages API. */
export interface FakeTwilioApi extends FakeApi {
  accountSid: string;
  authToken: string;
  /** Messages created, in order. */
  messages: FakeTwilioMessage[];
}

/** Default Account SID of the fake. */
export const FAKE_TWILIO_ACCOUNT_SID = "AC10101010101010101010101010101010";

/** Default Auth Token of the fake. */
export const FAKE_TWILIO_AUTH_TOKEN = "fake-twilio-auth-token";

const MESSAGES_PATH = /^\/2010-04-01\/Accounts\/([^/]+)\/Messages\.json$/;

interface MagicNumberError {
  code: number;
  message: string;
}

// With test credentials, Twilio rejects these recipients with a fixed error (HTTP 400).
const MAGIC_TO_ERRORS: Readonly<Record<string, MagicNumberError>> = {
  "+15005550001": { code: 21211, message: "The 'To' number is not a valid phone number." },
  "+15005550002": {
    code: 21612,
    message: "The 'To' phone number is not currently reachable using the 'From' number.",
  },
  "+15005550003": {
    code: 21408,
    message: "Permission to send an SMS has not been enabled for the region of the 'To' number.",
  },
  "+15005550004": { code: 21610, message: "Attempt to send to unsubscribed recipient" },
  "+15005550009": { code: 21614, message: "'To' number is not a valid mobile number" },
};

// And these senders.
const MAGIC_FROM_ERRORS: Readonly<Record<string, MagicNumberError>> = {
  "+15005550001": { code: 21212, message: "The 'From' number is not a valid phone number." },
  "+15005550007": {
    code: 21606,
    message: "The 'From' phone number is not a valid, SMS-capable Twilio number.",
  },
  "+15005550008": {
    code: 21611,
    message: "This 'From' number has exceeded the maximum number of queued messages.",
  },
};

/**
 * Starts a local fake of `POST /2010-04-01/Accounts/{AccountSid}/Messages.json`.
 *
 * It checks Basic auth (401 with code 20003), requires `To` (21604), `From` or
 * `MessagingServiceSid` (21603) and `Body` or `MediaUrl` (21602), rejects Twilio's
 * test-credential numbers with their errors (`To=+15005550004` gives 21610, and so on),
 * and otherwise creates a message: 201 with a Message JSON whose status is `queued`, or
 * `accepted` when a Messaging Service is used.
 */
export async function startFakeTwilioApi(
  options: FakeTwilioApiOptions = {},
): Promise<FakeTwilioApi> {
  const accountSid = options.accountSid ?? FAKE_TWILIO_ACCOUNT_SID;
  const authToken = options.authToken ?? FAKE_TWILIO_AUTH_TOKEN;
  const messages: FakeTwilioMessage[] = [];
  const expectedAuth = `Basic ${Buffer.from(`${accountSid}:${authToken}`).toString("base64")}`;

  const api = await startFakeApi((request) => {
    const pathname = request.path.split("?")[0] ?? "";
    const match = MESSAGES_PATH.exec(pathname);

    if (match === null) {
      return twilioError(404, 20404, `The requested resource ${pathname} was not found`);
    }

    if (request.method !== "POST") {
      return twilioError(405, 20004, `Method ${request.method} not allowed`);
    }

    if (request.headers.authorization !== expectedAuth || match[1] !== accountSid) {
      return twilioError(401, 20003, "Authenticate");
    }

    const custom = options.respond?.(request.form, request);

    if (custom !== undefined) {
      return custom;
    }

    return createMessage(accountSid, request.form, messages);
  });

  return { ...api, accountSid, authToken, messages };
}

function createMessage(
  accountSid: string,
  form: FormPair[],
  messages: FakeTwilioMessage[],
): FakeResponse {
  const to = field(form, "To");
  const from = field(form, "From");
  const serviceSid = field(form, "MessagingServiceSid");
  const body = field(form, "Body") ?? "";
  const mediaUrls = form.filter(([name]) => name === "MediaUrl").map(([, value]) => value);
  const rejection = validate(to, from, serviceSid, body, mediaUrls);

  if (rejection !== undefined) {
    return rejection;
  }

  const message: FakeTwilioMessage = {
    sid: `${mediaUrls.length > 0 ? "MM" : "SM"}${randomBytes(16).toString("hex")}`,
    to: to as string,
    from,
    messagingServiceSid: serviceSid,
    body,
    mediaUrls,
    statusCallback: field(form, "StatusCallback"),
    resource: {},
  };

  message.resource = messageResource(accountSid, message);
  messages.push(message);

  return { status: 201, headers: requestIdHeader(), json: message.resource };
}

function validate(
  to: string | undefined,
  from: string | undefined,
  serviceSid: string | undefined,
  body: string,
  mediaUrls: string[],
): FakeResponse | undefined {
  if (to === undefined) {
    return twilioError(400, 21604, "A 'To' phone number is required.");
  }

  if (from === undefined && serviceSid === undefined) {
    return twilioError(400, 21603, "A 'From' phone number is required.");
  }

  if (body === "" && mediaUrls.length === 0) {
    return twilioError(400, 21602, "Message body is required.");
  }

  const magic = MAGIC_TO_ERRORS[to] ?? (from === undefined ? undefined : MAGIC_FROM_ERRORS[from]);

  return magic === undefined ? undefined : twilioError(400, magic.code, magic.message);
}

function messageResource(accountSid: string, message: FakeTwilioMessage): Record<string, unknown> {
  const viaService = message.messagingServiceSid !== undefined;
  const now = new Date().toUTCString().replace("GMT", "+0000");
  const uri = `/2010-04-01/Accounts/${accountSid}/Messages/${message.sid}`;

  return {
    account_sid: accountSid,
    api_version: "2010-04-01",
    body: message.body,
    date_created: now,
    date_sent: null,
    date_updated: now,
    direction: "outbound-api",
    error_code: null,
    error_message: null,
    from: viaService && message.from === undefined ? null : message.from,
    messaging_service_sid: message.messagingServiceSid ?? null,
    num_media: String(message.mediaUrls.length),
    // A Messaging Service has not picked a sender yet, so Twilio reports 0 segments.
    num_segments: viaService ? "0" : String(countSegments(message.body)),
    price: null,
    price_unit: "USD",
    sid: message.sid,
    status: viaService ? "accepted" : "queued",
    subresource_uris: { media: `${uri}/Media.json` },
    to: message.to,
    uri: `${uri}.json`,
  };
}

const GSM_BASIC =
  "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?" +
  "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà";
const GSM_EXTENDED = "\f^{}\\[~]|€";

/**
 * Counts SMS segments the way carriers do. GSM-7 text fits 160 septets in one segment, or
 * 153 per segment when split. Other text fits 70 UTF-16 units, or 67 when split.
 */
export function countSegments(text: string): number {
  let septets = 0;

  for (const char of text) {
    if (GSM_BASIC.includes(char)) {
      septets += 1;
    } else if (GSM_EXTENDED.includes(char)) {
      septets += 2;
    } else {
      return splitCount(text.length, 70, 67);
    }
  }

  return splitCount(septets, 160, 153);
}

function splitCount(units: number, single: number, perPart: number): number {
  return units <= single ? 1 : Math.ceil(units / perPart);
}

function field(form: FormPair[], name: string): string | undefined {
  const value = form.find(([key]) => key === name)?.[1];

  return value === undefined || value === "" ? undefined : value;
}

function twilioError(status: number, code: number, message: string): FakeResponse {
  return {
    status,
    headers: requestIdHeader(),
    json: { code, message, more_info: `https://www.twilio.com/docs/errors/${code}`, status },
  };
}

function requestIdHeader(): Record<string, string> {
  return { "twilio-request-id": `RQ${randomBytes(16).toString("hex")}` };
}
