import { connect } from "node:net";
import { join } from "node:path";
import type { ConsentEvent } from "../../src/consent/types.js";
import { openSqliteStore } from "../../src/stores/sqlite.js";
import type { FakeTwilioApi } from "../../src/testing/fake-twilio.js";
import {
  buildTwilioInbound,
  randomTwilioMessageSid,
  signTwilioRequest,
} from "../../src/testing/twilio.js";
import { writeConfig } from "./cli.js";

/** The Twilio number the test servers send from and receive on. */
export const BUSINESS_NUMBER = "+12025550100";

/**
 * The `publicUrl` of the test servers. Signatures cover it, not the local address, so a
 * webhook signed once stays valid after a restart on another port, as behind a proxy.
 */
export const PUBLIC_URL = "https://sms.example.com";

/** Where a signed Twilio webhook goes, and the secrets it is signed with. */
export interface TwilioTarget {
  /** The URL the signature covers and the request is sent to. */
  url: string;
  authToken: string;
  accountSid: string;
}

/** A form body and the headers that carry its signature. */
export interface SignedWebhook {
  body: string;
  headers: Record<string, string>;
  messageSid: string;
}

/** Fields of an inbound message. */
export interface InboundFields {
  from: string;
  body: string;
  /** @default BUSINESS_NUMBER */
  to?: string | undefined;
  /** @default a random `SM` SID */
  messageSid?: string | undefined;
  /** Twilio's Advanced Opt-Out flag: `STOP`, `START` or `HELP`. */
  optOutType?: string | undefined;
}

/** Builds an inbound message webhook signed as Twilio signs it. */
export function signedTwilioInbound(target: TwilioTarget, fields: InboundFields): SignedWebhook {
  const messageSid = fields.messageSid ?? randomTwilioMessageSid();
  const built = buildTwilioInbound({
    from: fields.from,
    to: fields.to ?? BUSINESS_NUMBER,
    body: fields.body,
    messageSid,
    accountSid: target.accountSid,
    optOutType: fields.optOutType,
  });
  const signature = signTwilioRequest({
    authToken: target.authToken,
    url: target.url,
    params: built.params,
  });

  return {
    body: built.body,
    headers: {
      "content-type": "application/x-www-form-urlencoded; charset=utf-8",
      "x-twilio-signature": signature,
    },
    messageSid,
  };
}

/** The status and body of a webhook response. */
export interface WebhookAnswer {
  status: number;
  body: string;
}

/** Posts a webhook body with its headers. Rejects when the connection fails. */
export async function postWebhook(
  url: string,
  webhook: Pick<SignedWebhook, "body" | "headers">,
): Promise<WebhookAnswer> {
  const response = await fetch(url, {
    method: "POST",
    headers: webhook.headers,
    body: webhook.body,
  });

  return { status: response.status, body: await response.text() };
}

/** What a raw TCP exchange with a server produced. */
export interface RawExchange {
  /** Every byte the server sent, as Latin-1 text. */
  response: string;
  /** True when the server closed or reset the connection before the time limit. */
  closed: boolean;
}

/** Options of {@link rawExchange}. */
export interface RawExchangeOptions {
  /** The exchange is cut off after this long, in milliseconds. @default 5000 */
  timeoutMs?: number | undefined;
  /** Pieces written one after another, this long apart, in milliseconds. @default 0 */
  pauseMs?: number | undefined;
}

/**
 * Writes bytes to a server on 127.0.0.1 and collects what it sends back until it closes
 * the connection or the time limit passes. The connection is never closed from this side
 * before that, so the test sees what the server does with an unfinished request.
 */
export function rawExchange(
  port: number,
  pieces: ReadonlyArray<string | Uint8Array>,
  options: RawExchangeOptions = {},
): Promise<RawExchange> {
  return new Promise((resolve) => {
    const socket = connect(port, "127.0.0.1");
    const chunks: Buffer[] = [];
    let settled = false;

    const finish = (closed: boolean): void => {
      if (settled) {
        return;
      }

      settled = true;
      clearTimeout(timer);
      socket.destroy();
      resolve({ response: Buffer.concat(chunks).toString("latin1"), closed });
    };

    const timer = setTimeout(() => finish(false), options.timeoutMs ?? 5000);

    socket.on("data", (chunk: Buffer) => chunks.push(chunk));
    socket.on("close", () => finish(true));
    socket.on("error", () => finish(true));
    socket.once("connect", () => {
      void writePieces(socket, pieces, options.pauseMs ?? 0, () => settled);
    });
  });
}

async function writePieces(
  socket: ReturnType<typeof connect>,
  pieces: ReadonlyArray<string | Uint8Array>,
  pauseMs: number,
  stopped: () => boolean,
): Promise<void> {
  for (const [index, piece] of pieces.entries()) {
    if (stopped() || socket.destroyed) {
      return;
    }

    if (index > 0 && pauseMs > 0) {
      await new Promise((resolve) => setTimeout(resolve, pauseMs));
    }

    if (!socket.destroyed) {
      socket.write(piece);
    }
  }
}

/** Returns the status code of the first HTTP response in a raw exchange, if there is one. */
export function responseStatus(exchange: RawExchange): number | undefined {
  const match = /^HTTP\/1\.[01] (\d{3})/.exec(exchange.response);

  return match?.[1] === undefined ? undefined : Number(match[1]);
}

/** Files of a test server on a temporary SQLite store. */
export interface ServerFiles {
  dbPath: string;
  configPath: string;
}

/**
 * Writes a configuration for `smsgate serve` with the Twilio provider sending through a
 * fake API, on port 0, {@link PUBLIC_URL} and an SQLite file in `dir`. Keys in `extra`
 * replace the defaults.
 */
export async function writeTwilioServerConfig(
  dir: string,
  api: FakeTwilioApi,
  extra: Record<string, unknown> = {},
): Promise<ServerFiles> {
  const dbPath = join(dir, "smsgate.db");
  const configPath = await writeConfig(dir, {
    publicUrl: PUBLIC_URL,
    listen: { host: "127.0.0.1", port: 0 },
    store: { type: "sqlite", path: dbPath },
    providers: {
      twilio: {
        accountSid: api.accountSid,
        authToken: api.authToken,
        from: BUSINESS_NUMBER,
        apiBaseUrl: api.url,
      },
    },
    ...extra,
  });

  return { dbPath, configPath };
}

/** Reads the consent history of each number from an SQLite store file, read-only. */
export async function readHistories(
  dbPath: string,
  phones: Iterable<string>,
): Promise<Map<string, ConsentEvent[]>> {
  const store = openSqliteStore({ path: dbPath, readonly: true });
  const histories = new Map<string, ConsentEvent[]>();

  try {
    for (const phone of phones) {
      histories.set(phone, await store.history(phone));
    }
  } finally {
    await store.close();
  }

  return histories;
}

/** Returns `+1202555` followed by the last four digits of `index`: a valid US number. */
export function testNumber(index: number): string {
  return `+1202555${String(index % 10_000).padStart(4, "0")}`;
}
