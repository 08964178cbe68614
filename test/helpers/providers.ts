import { join } from "node:path";
import type { WebhookRequest } from "../../src/provider.js";
import { type FakePlivoApi, startFakePlivoApi } from "../../src/testing/fake-plivo.js";
import { type FakeTwilioApi, startFakeTwilioApi } from "../../src/testing/fake-twilio.js";
import { type FakeVonageApi, startFakeVonageApi } from "../../src/testing/fake-vonage.js";
import { buildPlivoInbound, signedPlivoRequest } from "../../src/testing/plivo.js";
import { buildTwilioInbound, signedTwilioRequest } from "../../src/testing/twilio.js";
import { buildVonageInbound, signedVonageRequest } from "../../src/testing/vonage.js";
import { writeConfig } from "./cli.js";
import { BUSINESS_NUMBER, PUBLIC_URL, type ServerFiles, type WebhookAnswer } from "./webhooks.js";

/** The Vonage signature secret of the test servers. */
export const VONAGE_SIGNATURE_SECRET = "vonage-signature-secret-for-tests";

/** Fake Twilio, Vonage and Plivo APIs on 127.0.0.1. */
export interface ProviderApis {
  twilio: FakeTwilioApi;
  vonage: FakeVonageApi;
  plivo: FakePlivoApi;
  close(): Promise<void>;
}

/** Credentials of the fake APIs; each has a fixed default. */
export interface ProviderSecrets {
  twilioAuthToken?: string | undefined;
  vonageApiSecret?: string | undefined;
  plivoAuthToken?: string | undefined;
}

/** Starts the three fake provider APIs. */
export async function startProviderApis(secrets: ProviderSecrets = {}): Promise<ProviderApis> {
  const [twilio, vonage, plivo] = await Promise.all([
    startFakeTwilioApi({ authToken: secrets.twilioAuthToken }),
    startFakeVonageApi({ apiSecret: secrets.vonageApiSecret }),
    startFakePlivoApi({ authToken: secrets.plivoAuthToken }),
  ]);

  return {
    twilio,
    vonage,
    plivo,
    async close() {
      await Promise.all([twilio.close(), vonage.close(), plivo.close()]);
    },
  };
}

/** Returns the `providers` section that configures all three providers against the fakes. */
export function providersConfig(apis: ProviderApis): Record<string, unknown> {
  return {
    twilio: {
      accountSid: apis.twilio.accountSid,
      authToken: apis.twilio.authToken,
      from: BUSINESS_NUMBER,
      apiBaseUrl: apis.twilio.url,
    },
    vonage: {
      apiKey: apis.vonage.apiKey,
      apiSecret: apis.vonage.apiSecret,
      signatureSecret: VONAGE_SIGNATURE_SECRET,
      signatureMethod: "sha256",
      from: BUSINESS_NUMBER,
      apiBaseUrl: apis.vonage.url,
    },
    plivo: {
      authId: apis.plivo.authId,
      authToken: apis.plivo.authToken,
      from: BUSINESS_NUMBER,
      apiBaseUrl: apis.plivo.url,
    },
  };
}

/**
 * Writes a configuration for `smsgate serve` with all three providers, on port 0,
 * {@link PUBLIC_URL} and an SQLite file in `dir`. Keys in `extra` replace the defaults.
 */
export async function writeProvidersServerConfig(
  dir: string,
  apis: ProviderApis,
  extra: Record<string, unknown> = {},
): Promise<ServerFiles> {
  const dbPath = join(dir, "smsgate.db");
  const configPath = await writeConfig(dir, {
    publicUrl: PUBLIC_URL,
    listen: { host: "127.0.0.1", port: 0 },
    store: { type: "sqlite", path: dbPath },
    providers: providersConfig(apis),
    ...extra,
  });

  return { dbPath, configPath };
}

/** Returns the public URL of a provider's webhook route, which signatures cover. */
export function publicRoute(provider: string, kind: "inbound" | "status" = "inbound"): string {
  return `${PUBLIC_URL}/webhooks/${provider}/${kind}`;
}

/** Fields of an inbound message for any provider. */
export interface InboundOptions {
  /** The person, in E.164 form. */
  from: string;
  text: string;
  method?: "GET" | "POST" | undefined;
}

/** Builds a Twilio inbound message signed with the fake account's Auth Token. */
export function twilioInbound(
  apis: ProviderApis,
  options: InboundOptions & { messageSid?: string | undefined; authToken?: string | undefined },
): WebhookRequest {
  const built = buildTwilioInbound({
    from: options.from,
    to: BUSINESS_NUMBER,
    body: options.text,
    messageSid: options.messageSid,
    accountSid: apis.twilio.accountSid,
  });

  return signedTwilioRequest({
    authToken: options.authToken ?? apis.twilio.authToken,
    url: publicRoute("twilio"),
    params: built.params,
    method: options.method,
  });
}

/** Builds a Vonage SMS API inbound message signed with the test signature secret. */
export function vonageInbound(
  options: InboundOptions & {
    messageTimestamp?: Date | undefined;
    messageId?: string | undefined;
    /** Unix seconds of the signature. @default now */
    timestamp?: number | undefined;
    secret?: string | undefined;
  },
): WebhookRequest {
  const built = buildVonageInbound({
    msisdn: options.from.slice(1),
    to: BUSINESS_NUMBER.slice(1),
    text: options.text,
    messageId: options.messageId,
    messageTimestamp: options.messageTimestamp,
  });

  return signedVonageRequest({
    url: publicRoute("vonage"),
    params: built.params,
    secret: options.secret ?? VONAGE_SIGNATURE_SECRET,
    signatureMethod: "sha256",
    timestamp: options.timestamp,
    method: options.method,
  });
}

/** Builds a Plivo inbound message signed with V3 and V2 headers. */
export function plivoInbound(
  apis: ProviderApis,
  options: InboundOptions & {
    versions?: ReadonlyArray<"v3" | "v2"> | undefined;
    authToken?: string | undefined;
  },
): WebhookRequest {
  const built = buildPlivoInbound({
    from: options.from.slice(1),
    to: BUSINESS_NUMBER.slice(1),
    text: options.text,
  });

  return signedPlivoRequest({
    authToken: options.authToken ?? apis.plivo.authToken,
    url: publicRoute("plivo"),
    params: built.params,
    method: options.method,
    versions: options.versions,
  });
}

/**
 * Sends a request signed for {@link PUBLIC_URL} to the server at `origin`, keeping its
 * path, query, headers and body bytes.
 */
export async function deliverRequest(
  origin: string,
  request: WebhookRequest,
): Promise<WebhookAnswer> {
  const target = request.url.startsWith(PUBLIC_URL)
    ? `${origin}${request.url.slice(PUBLIC_URL.length)}`
    : request.url;
  const response = await fetch(target, {
    method: request.method,
    headers: request.headers,
    body: request.method === "GET" || request.method === "HEAD" ? undefined : request.body,
  });

  return { status: response.status, body: await response.text() };
}
