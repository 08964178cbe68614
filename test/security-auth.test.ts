import { randomBytes } from "node:crypto";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { encodeForm, parseFormBody } from "../src/http/form.js";
import type { WebhookRequest } from "../src/provider.js";
import { openSqliteStore } from "../src/stores/sqlite.js";
import { buildPlivoInbound, buildPlivoStatus, signedPlivoRequest } from "../src/testing/plivo.js";
import {
  buildTwilioInbound,
  buildTwilioStatus,
  signedTwilioRequest,
} from "../src/testing/twilio.js";
import {
  buildVonageDeliveryReceipt,
  buildVonageMessagesInbound,
  signedVonageMessagesRequest,
  signedVonageRequest,
} from "../src/testing/vonage.js";
import {
  bodyText,
  withBody,
  withHeaders,
  withoutHeaders,
  withUrl,
} from "../src/testing/webhook-request.js";
import { makeTempDir, parseJsonLines, removeTempDir, runCli } from "./helpers/cli.js";
import {
  deliverRequest,
  type ProviderApis,
  plivoInbound,
  providersConfig,
  publicRoute,
  startProviderApis,
  twilioInbound,
  VONAGE_SIGNATURE_SECRET,
  vonageInbound,
  writeProvidersServerConfig,
} from "./helpers/providers.js";
import { killRunningServers, launchServer, type ServerProcess } from "./helpers/server-process.js";
import { BUSINESS_NUMBER, type ServerFiles, testNumber } from "./helpers/webhooks.js";

let apis: ProviderApis;
let dir: string;
/** Verifies every signature, with the defaults. */
let server: ServerProcess;
let files: ServerFiles;
/** Plivo with `requireV3Signature`. */
let strictServer: ServerProcess;
/** `insecureSkipSignatureVerification` on. */
let insecureServer: ServerProcess;
let insecureFiles: ServerFiles;
let nextNumber = 4000;

beforeAll(async () => {
  apis = await startProviderApis();
  dir = await makeTempDir("smsgate-auth-");
  files = await writeProvidersServerConfig(join(dir, "default"), apis);

  const defaults = providersConfig(apis);
  const strict = await writeProvidersServerConfig(join(dir, "strict"), apis, {
    providers: { ...defaults, plivo: { ...(defaults.plivo as object), requireV3Signature: true } },
  });

  insecureFiles = await writeProvidersServerConfig(join(dir, "insecure"), apis, {
    insecureSkipSignatureVerification: true,
  });
  [server, strictServer, insecureServer] = await Promise.all([
    launchServer(files.configPath, { cwd: dir }),
    launchServer(strict.configPath, { cwd: dir }),
    launchServer(insecureFiles.configPath, { cwd: dir }),
  ]);
});

afterAll(async () => {
  const exits = await Promise.all(
    [server, strictServer, insecureServer].map((running) => running?.kill("SIGTERM")),
  );

  await killRunningServers();
  await apis?.close();
  await removeTempDir(dir);
  expect(exits.map((exit) => exit?.code)).toEqual([0, 0, 0]);
});

function freshNumber(): string {
  nextNumber += 1;

  return testNumber(nextNumber);
}

function deliver(request: WebhookRequest, target = server) {
  return deliverRequest(target.url, request);
}

async function historyLength(phone: string, dbPath = files.dbPath): Promise<number> {
  const store = openSqliteStore({ path: dbPath, readonly: true });

  try {
    return (await store.history(phone)).length;
  } finally {
    await store.close();
  }
}

async function isOptedOut(phone: string): Promise<boolean> {
  const store = openSqliteStore({ path: files.dbPath, readonly: true });

  try {
    return await store.isOptedOut(phone);
  } finally {
    await store.close();
  }
}

/** Replaces one form field's value in a request body, keeping the headers as signed. */
function withField(request: WebhookRequest, name: string, value: string): WebhookRequest {
  const pairs = parseFormBody(request.body).map(([key, old]): [string, string] => [
    key,
    key === name ? value : old,
  ]);

  return withBody(request, encodeForm(pairs));
}

/** Appends a form field to a request body, keeping the headers as signed. */
function withExtraField(request: WebhookRequest, name: string, value: string): WebhookRequest {
  return withBody(request, encodeForm([...parseFormBody(request.body), [name, value]]));
}

const forgedSignature = randomBytes(20).toString("base64");

describe("twilio signatures", () => {
  it("missing signature gets 401", async () => {
    const phone = freshNumber();
    const unsigned = withoutHeaders(
      twilioInbound(apis, { from: phone, text: "STOP" }),
      "x-twilio-signature",
    );

    expect((await deliver(unsigned)).status).toBe(401);
    expect(await historyLength(phone)).toBe(0);
  });

  it("wrong or foreign signatures get 403", async () => {
    const phone = freshNumber();
    const signed = twilioInbound(apis, { from: phone, text: "STOP" });
    const forgeries: Record<string, WebhookRequest> = {
      "random signature": withHeaders(signed, { "x-twilio-signature": forgedSignature }),
      "other auth token": twilioInbound(apis, { from: phone, text: "STOP", authToken: "other" }),
      "signed for the status route": withUrl(signed, publicRoute("twilio", "status")),
      "body changed after signing": withField(signed, "From", freshNumber()),
      "signed for a forwarded host": withHeaders(
        withUrl(
          signedTwilioRequest({
            authToken: apis.twilio.authToken,
            url: "https://evil.example/webhooks/twilio/inbound",
            params: parseFormBody(signed.body),
          }),
          publicRoute("twilio"),
        ),
        { "x-forwarded-host": "evil.example", "x-forwarded-proto": "https" },
      ),
    };

    for (const [label, forged] of Object.entries(forgeries)) {
      expect((await deliver(forged)).status, label).toBe(403);
    }

    expect(await historyLength(phone)).toBe(0);
  });

  it("GET with altered query gets 403", async () => {
    const phone = freshNumber();
    const signed = twilioInbound(apis, { from: phone, text: "HELLO", method: "GET" });
    const altered = withUrl(signed, signed.url.replace("Body=HELLO", "Body=START"));

    expect((await deliver(signed)).status).toBe(200);
    expect((await deliver(altered)).status).toBe(403);
  });

  it("repeat of committed webhook: 2xx, no effect", async () => {
    const phone = freshNumber();
    const stop = twilioInbound(apis, { from: phone, text: "STOP" });

    expect((await deliver(stop)).status).toBe(200);
    expect((await deliver(twilioInbound(apis, { from: phone, text: "START" }))).status).toBe(200);
    // Twilio signs no time, so a repeat of the same bytes is handled as a redelivery.
    expect((await deliver(stop)).status).toBe(200);

    expect(await isOptedOut(phone)).toBe(false);
    expect(await historyLength(phone)).toBe(2);
  });

  it("forged START never re-subscribes", async () => {
    const phone = freshNumber();
    const stop = twilioInbound(apis, { from: phone, text: "STOP" });

    expect((await deliver(stop)).status).toBe(200);

    const start = twilioInbound(apis, { from: phone, text: "START" });
    const forgeries = [
      withoutHeaders(start, "x-twilio-signature"),
      withHeaders(start, { "x-twilio-signature": forgedSignature }),
      // The STOP's genuine signature over the START's body.
      withHeaders(start, { "x-twilio-signature": stop.headers.get("x-twilio-signature") ?? "" }),
      twilioInbound(apis, { from: phone, text: "START", authToken: "guessed-token" }),
      // Twilio's own opt-in flag added to the STOP, which keeps its signature.
      withExtraField(stop, "OptOutType", "START"),
    ];
    const statuses = await Promise.all(forgeries.map((forged) => deliver(forged)));

    expect(statuses.map((answer) => answer.status)).toEqual([401, 403, 403, 403, 403]);
    expect(await isOptedOut(phone)).toBe(true);
    expect(await historyLength(phone)).toBe(1);
  });
});

describe("vonage signatures", () => {
  const nowSeconds = () => Math.floor(Date.now() / 1000);

  it("missing sig gets 401", async () => {
    const phone = freshNumber();
    const signed = vonageInbound({ from: phone, text: "STOP" });
    const pairs = parseFormBody(signed.body).filter(([name]) => name !== "sig");

    expect((await deliver(withBody(signed, encodeForm(pairs)))).status).toBe(401);
    expect(await historyLength(phone)).toBe(0);
  });

  it("wrong, forged or stale sig gets 403", async () => {
    const phone = freshNumber();
    const signed = vonageInbound({ from: phone, text: "STOP" });
    const forgeries: Record<string, WebhookRequest> = {
      "random sig": withField(signed, "sig", "0".repeat(64)),
      "other secret": vonageInbound({ from: phone, text: "STOP", secret: "other-secret" }),
      "text changed after signing": withField(signed, "text", "START"),
      "signed 10 minutes ago": vonageInbound({
        from: phone,
        text: "STOP",
        timestamp: nowSeconds() - 600,
      }),
      "signed 10 minutes ahead": vonageInbound({
        from: phone,
        text: "STOP",
        timestamp: nowSeconds() + 600,
      }),
    };

    for (const [label, forged] of Object.entries(forgeries)) {
      expect((await deliver(forged)).status, label).toBe(403);
    }

    expect(await historyLength(phone)).toBe(0);
  });

  it("stale sig rejected even for a new message", async () => {
    // Replay protection cannot tell a captured request from a provider's late retry, so a
    // retry signed more than signatureToleranceSeconds ago is rejected too.
    const phone = freshNumber();
    const late = vonageInbound({ from: phone, text: "STOP", timestamp: nowSeconds() - 301 });

    expect((await deliver(late)).status).toBe(403);
    expect(await historyLength(phone)).toBe(0);
  });

  it("repeat within the window: 2xx, no effect", async () => {
    const phone = freshNumber();
    const stop = vonageInbound({ from: phone, text: "STOP" });

    expect((await deliver(stop)).status).toBe(204);
    expect((await deliver(vonageInbound({ from: phone, text: "START" }))).status).toBe(204);
    expect((await deliver(stop)).status).toBe(204);
    expect(await isOptedOut(phone)).toBe(false);
    expect(await historyLength(phone)).toBe(2);
  });

  it("Messages API JWT: forged or stale gets 401/403", async () => {
    const phone = freshNumber();
    const body = buildVonageMessagesInbound({
      from: phone.slice(1),
      to: BUSINESS_NUMBER.slice(1),
      text: "STOP",
    });
    const url = publicRoute("vonage");
    const signed = signedVonageMessagesRequest({ url, body, secret: VONAGE_SIGNATURE_SECRET });
    const forgeries: Record<string, [WebhookRequest, number]> = {
      "no token": [withoutHeaders(signed, "authorization"), 401],
      "other secret": [signedVonageMessagesRequest({ url, body, secret: "other-secret" }), 403],
      "body changed after signing": [
        withBody(signed, bodyText(signed).replace("STOP", "START")),
        403,
      ],
      "issued 10 minutes ago": [
        signedVonageMessagesRequest({
          url,
          body,
          secret: VONAGE_SIGNATURE_SECRET,
          iat: nowSeconds() - 600,
        }),
        403,
      ],
      "token with alg none": [
        withHeaders(signed, {
          authorization: `Bearer ${(signed.headers.get("authorization") ?? "")
            .slice("Bearer ".length)
            .replace(/^[^.]+/, Buffer.from('{"alg":"none","typ":"JWT"}').toString("base64url"))}`,
        }),
        403,
      ],
    };

    for (const [label, [forged, status]] of Object.entries(forgeries)) {
      expect((await deliver(forged)).status, label).toBe(status);
    }

    expect(await historyLength(phone)).toBe(0);
    expect((await deliver(signed)).status).toBe(204);
    expect(await historyLength(phone)).toBe(1);
  });
});

describe("plivo signatures", () => {
  it("missing signature gets 401", async () => {
    const phone = freshNumber();
    const signed = plivoInbound(apis, { from: phone, text: "STOP" });
    const unsigned = withoutHeaders(
      signed,
      "x-plivo-signature-v3",
      "x-plivo-signature-v3-nonce",
      "x-plivo-signature-v2",
      "x-plivo-signature-v2-nonce",
    );

    expect((await deliver(unsigned)).status).toBe(401);
    expect(await historyLength(phone)).toBe(0);
  });

  it("wrong or forged V3 gets 403", async () => {
    const phone = freshNumber();
    const signed = plivoInbound(apis, { from: phone, text: "STOP" });
    const forgeries: Record<string, WebhookRequest> = {
      "random V3": withHeaders(signed, { "x-plivo-signature-v3": forgedSignature }),
      "other auth token": plivoInbound(apis, { from: phone, text: "STOP", authToken: "other" }),
      "text changed after signing": withField(signed, "Text", "START"),
      "signed for the status route": withUrl(signed, publicRoute("plivo", "status")),
    };

    for (const [label, forged] of Object.entries(forgeries)) {
      expect((await deliver(forged)).status, label).toBe(403);
    }

    expect(await historyLength(phone)).toBe(0);
  });

  it("repeat of committed webhook: 2xx, no effect", async () => {
    const phone = freshNumber();
    const stop = plivoInbound(apis, { from: phone, text: "STOP" });

    expect((await deliver(stop)).status).toBe(200);
    expect((await deliver(plivoInbound(apis, { from: phone, text: "START" }))).status).toBe(200);
    expect((await deliver(stop)).status).toBe(200);
    expect(await isOptedOut(phone)).toBe(false);
    expect(await historyLength(phone)).toBe(2);
  });

  it("V2 header of a committed webhook on another body gets 403", async () => {
    // V2 signs only the URL and a nonce. Once the genuine webhook has committed, its nonce
    // is stored with a hash of its request, so the same headers on a forged body fail.
    const victim = freshNumber();
    const captured = plivoInbound(apis, { from: freshNumber(), text: "hello", versions: ["v2"] });
    const forged = withBody(
      captured,
      encodeForm(
        buildPlivoInbound({ from: victim.slice(1), to: BUSINESS_NUMBER.slice(1), text: "STOP" })
          .params,
      ),
    );

    expect((await deliver(captured)).status).toBe(200);

    const answer = await deliver(forged);

    expect(answer.status).toBe(403);
    expect(JSON.parse(answer.body)).toMatchObject({ error: "replayed-nonce" });
    expect(await historyLength(victim)).toBe(0);
    expect((await deliver(captured)).status).toBe(200);
  });

  it("V2 header of a webhook never delivered authenticates any body", async () => {
    // A V2 header taken from a request that never reached the server has an unseen nonce,
    // so with the default settings it authenticates a forged body. requireV3Signature
    // closes that gap.
    const victim = freshNumber();
    const captured = plivoInbound(apis, { from: freshNumber(), text: "hello", versions: ["v2"] });
    const forged = withBody(
      captured,
      encodeForm(
        buildPlivoInbound({ from: victim.slice(1), to: BUSINESS_NUMBER.slice(1), text: "START" })
          .params,
      ),
    );

    expect((await deliver(forged)).status).toBe(200);
    expect((await deliver(forged, strictServer)).status).toBe(401);
  });

  it("requireV3Signature still accepts V3", async () => {
    const signed = signedPlivoRequest({
      authToken: apis.plivo.authToken,
      url: publicRoute("plivo"),
      params: buildPlivoInbound({
        from: freshNumber().slice(1),
        to: BUSINESS_NUMBER.slice(1),
        text: "hi",
      }).params,
    });

    expect((await deliver(signed, strictServer)).status).toBe(200);
  });
});

describe("status routes", () => {
  it("forged opt-out refusals record nothing", async () => {
    // Each callback reports that the provider refused a send because the person opted out,
    // which would record an opt-out if it were accepted.
    const phone = freshNumber();
    const twilioStatus = buildTwilioStatus({
      status: "undelivered",
      errorCode: "21610",
      from: BUSINESS_NUMBER,
      to: phone,
      accountSid: apis.twilio.accountSid,
    });
    const vonageReceipt = buildVonageDeliveryReceipt({
      msisdn: phone.slice(1),
      to: BUSINESS_NUMBER.slice(1),
      status: "failed",
      errCode: "9",
    });
    const plivoStatus = buildPlivoStatus({
      status: "failed",
      errorCode: "200",
      from: BUSINESS_NUMBER.slice(1),
      to: phone.slice(1),
    });
    const signedTwilio = signedTwilioRequest({
      authToken: "guessed-token",
      url: publicRoute("twilio", "status"),
      params: twilioStatus.params,
    });
    const signedVonage = signedVonageRequest({
      url: publicRoute("vonage", "status"),
      params: vonageReceipt.params,
      secret: "guessed-secret",
      signatureMethod: "sha256",
    });
    const signedPlivo = signedPlivoRequest({
      authToken: "guessed-token",
      url: publicRoute("plivo", "status"),
      params: plivoStatus.params,
    });
    const forgeries: Record<string, [WebhookRequest, number]> = {
      "twilio unsigned": [withoutHeaders(signedTwilio, "x-twilio-signature"), 401],
      "twilio wrong token": [signedTwilio, 403],
      "vonage wrong secret": [signedVonage, 403],
      "plivo wrong token": [signedPlivo, 403],
      "plivo unsigned": [
        withoutHeaders(
          signedPlivo,
          "x-plivo-signature-v3",
          "x-plivo-signature-v3-nonce",
          "x-plivo-signature-v2",
          "x-plivo-signature-v2-nonce",
        ),
        401,
      ],
    };

    for (const [label, [forged, status]] of Object.entries(forgeries)) {
      expect((await deliver(forged)).status, label).toBe(status);
    }

    expect(await isOptedOut(phone)).toBe(false);
    expect(await historyLength(phone)).toBe(0);

    // The same Twilio callback, signed with the right token, does record the opt-out.
    const genuine = signedTwilioRequest({
      authToken: apis.twilio.authToken,
      url: publicRoute("twilio", "status"),
      params: twilioStatus.params,
    });

    expect((await deliver(genuine)).status).toBe(200);
    expect(await isOptedOut(phone)).toBe(true);
  });
});

describe("insecureSkipSignatureVerification", () => {
  it("unsigned accepted only when on", async () => {
    const phone = freshNumber();
    const built = buildTwilioInbound({
      from: phone,
      to: BUSINESS_NUMBER,
      body: "STOP",
      accountSid: apis.twilio.accountSid,
    });
    const unsigned = withoutHeaders(
      signedTwilioRequest({
        authToken: "unused",
        url: publicRoute("twilio"),
        params: built.params,
      }),
      "x-twilio-signature",
    );

    expect((await deliver(unsigned)).status).toBe(401);
    expect(await historyLength(phone)).toBe(0);
    expect((await deliver(unsigned, insecureServer)).status).toBe(200);
    expect(await historyLength(phone, insecureFiles.dbPath)).toBe(1);
  });

  it("server without a secret refuses to start", async () => {
    const defaults = providersConfig(apis);
    const { configPath } = await writeProvidersServerConfig(join(dir, "no-secret"), apis, {
      providers: { ...defaults, twilio: { ...(defaults.twilio as object), authToken: "" } },
    });
    const result = await runCli(["serve", "--config", configPath], { cwd: dir });

    expect(result.code).toBe(2);
    expect(result.stderr).toContain("providers.twilio.authToken");
  });

  it("server warns at start when on", () => {
    const warnings = (running: ServerProcess) =>
      parseJsonLines(running.stdout()).filter(
        (line) => line.level === 40 && line.insecureSkipSignatureVerification === true,
      );

    expect(warnings(insecureServer)).toHaveLength(1);
    expect(warnings(server)).toHaveLength(0);
  });
});
