// biome-ignore-all lint/suspicious/noTemplateCurlyInString: the tests write ${VAR} references
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import {
  configSchema,
  expandEnvironment,
  formatOptionPath,
  loadConfig,
  parseConfig,
} from "../src/cli/config.js";
import { createRuntime } from "../src/cli/runtime.js";
import { type ConfigError, isConfigError } from "../src/errors.js";

const accountSid = "AC0123456789abcdef0123456789abcdef";
const serviceSid = "MG0123456789abcdef0123456789abcdef";
const plivoAuthId = "MA0123456789ABCDEFGH";
const vonageInput = { apiKey: "a1b2c3d4", apiSecret: "secret", signatureSecret: "sig-secret" };
const plivoInput = { authId: plivoAuthId, authToken: "token", from: "+14155550199" };

/** Runs `action` and returns the ConfigError it throws. */
function configErrorOf(action: () => unknown): ConfigError {
  try {
    action();
  } catch (error) {
    if (isConfigError(error)) {
      return error;
    }
    throw error;
  }
  throw new Error("expected a ConfigError, but nothing was thrown");
}

async function asyncConfigErrorOf(action: () => Promise<unknown>): Promise<ConfigError> {
  try {
    await action();
  } catch (error) {
    if (isConfigError(error)) {
      return error;
    }
    throw error;
  }
  throw new Error("expected a ConfigError, but nothing was thrown");
}

describe("privacy options", () => {
  it("rejects a blank pseudonym key", () => {
    expect(() => parseConfig({ privacy: { pseudonymKey: " ".repeat(34) } }, {})).toThrow(
      /privacy\.pseudonymKey.*non-blank/,
    );
  });
});

describe("loadConfig paths", () => {
  it("names a directory given as config", async () => {
    const directory = await mkdtemp(join(tmpdir(), "smsgate-config-dir-"));

    try {
      await expect(loadConfig(directory, {})).rejects.toThrow(/is a directory/);
    } finally {
      await rm(directory, { recursive: true, force: true });
    }
  });
});

describe("parseConfig defaults", () => {
  it("fills every default", () => {
    const config = parseConfig({}, {});

    expect(config.publicUrl).toBeUndefined();
    expect(config.trustProxy).toEqual([]);
    expect(config.insecureSkipSignatureVerification).toBe(false);
    expect(config.listen).toEqual({ host: "127.0.0.1", port: 8787 });
    expect(config.store).toEqual({ type: "sqlite", path: "./smsgate.db" });
    expect(config.defaultRegion).toBeUndefined();
    expect(config.optOutScope).toBe("global");
    expect(config.keywords).toEqual({ yesIsOptIn: false });
    expect(config.limits).toEqual({
      maxBodyBytes: 65536,
      headersTimeoutMs: 10_000,
      requestTimeoutMs: 30_000,
      maxConnections: 1024,
    });
    expect(config.multipart).toEqual({ timeoutMs: 300_000 });
    expect(config.forward).toBeUndefined();
    expect(config.replies).toBeUndefined();
    expect(config.providers).toBeUndefined();
  });

  it("rejects a zero multipart timeout", () => {
    expect(() => parseConfig({ multipart: { timeoutMs: 0 } }, {})).toThrow(/multipart\.timeoutMs/);
  });

  it("fills defaults inside partial objects", () => {
    const config = parseConfig(
      { listen: { port: 0 }, limits: { maxBodyBytes: 10 }, store: { type: "sqlite" } },
      {},
    );

    expect(config.listen).toEqual({ host: "127.0.0.1", port: 0 });
    expect(config.limits.maxBodyBytes).toBe(10);
    expect(config.limits.requestTimeoutMs).toBe(30_000);
    expect(config.store).toEqual({ type: "sqlite", path: "./smsgate.db" });
  });
});

describe("parseConfig keys", () => {
  it("accepts every key", () => {
    const config = parseConfig(
      {
        publicUrl: "https://sms.example.com/hooks/",
        trustProxy: ["10.0.0.1", "::1", "192.168.0.0/16"],
        insecureSkipSignatureVerification: true,
        listen: { host: "0.0.0.0", port: 9000 },
        store: { type: "sqlite", path: "/var/lib/smsgate.db", busyTimeoutMs: 2000 },
        defaultRegion: "GB",
        optOutScope: "sender",
        keywords: { yesIsOptIn: true },
        limits: {
          maxBodyBytes: 1000,
          headersTimeoutMs: 500,
          requestTimeoutMs: 1000,
          maxConnections: 10,
        },
        forward: {
          url: "http://127.0.0.1:3000/events",
          secret: "s3cret",
          maxAttempts: 3,
          timeoutMs: 500,
        },
        replies: { optOut: "Bye", optIn: "Welcome back", help: "Call us" },
        providers: {
          twilio: {
            accountSid,
            authToken: "token",
            from: "+15017122661",
            messagingServiceSid: serviceSid,
            apiBaseUrl: "http://127.0.0.1:4010",
            timeoutMs: 4000,
          },
        },
      },
      {},
    );

    expect(config.publicUrl).toBe("https://sms.example.com/hooks");
    expect(config.trustProxy).toEqual(["10.0.0.1", "::1", "192.168.0.0/16"]);
    expect(config.insecureSkipSignatureVerification).toBe(true);
    expect(config.listen).toEqual({ host: "0.0.0.0", port: 9000 });
    expect(config.store).toEqual({
      type: "sqlite",
      path: "/var/lib/smsgate.db",
      busyTimeoutMs: 2000,
    });
    expect(config.defaultRegion).toBe("GB");
    expect(config.optOutScope).toBe("sender");
    expect(config.keywords.yesIsOptIn).toBe(true);
    expect(config.limits).toEqual({
      maxBodyBytes: 1000,
      headersTimeoutMs: 500,
      requestTimeoutMs: 1000,
      maxConnections: 10,
    });
    expect(config.forward).toEqual({
      url: "http://127.0.0.1:3000/events",
      secret: "s3cret",
      maxAttempts: 3,
      timeoutMs: 500,
    });
    expect(config.replies).toEqual({ optOut: "Bye", optIn: "Welcome back", help: "Call us" });
    expect(config.providers?.twilio).toEqual({
      accountSid,
      authToken: "token",
      from: "+15017122661",
      messagingServiceSid: serviceSid,
      apiBaseUrl: "http://127.0.0.1:4010",
      timeoutMs: 4000,
    });
  });

  it("accepts the memory store", () => {
    expect(parseConfig({ store: { type: "memory" } }, {}).store).toEqual({ type: "memory" });
  });

  it("fills forward defaults", () => {
    const config = parseConfig(
      { forward: { url: "https://app.example.com/sms", secret: "x" } },
      {},
    );

    expect(config.forward?.maxAttempts).toBe(20);
    expect(config.forward?.timeoutMs).toBe(10_000);
  });

  it("uppercases the default region", () => {
    expect(parseConfig({ defaultRegion: "us" }, {}).defaultRegion).toBe("US");
  });

  it("removes every trailing slash of publicUrl", () => {
    expect(parseConfig({ publicUrl: "https://a.example.com//" }, {}).publicUrl).toBe(
      "https://a.example.com",
    );
  });

  it("keeps publicUrl otherwise unchanged", () => {
    const publicUrl = "https://Sms.Example.com:8443/Prefix";

    expect(parseConfig({ publicUrl }, {}).publicUrl).toBe(publicUrl);
  });

  it("exposes the schema", () => {
    expect(configSchema.safeParse({}).success).toBe(true);
    expect(configSchema.safeParse({ listen: { port: -1 } }).success).toBe(false);
  });
});

describe("parseConfig vonage and plivo", () => {
  it("accepts every vonage key", () => {
    const vonage = {
      apiKey: "a1b2c3d4",
      apiSecret: "api-secret",
      signatureSecret: "sig-secret",
      signatureMethod: "sha512",
      signatureToleranceSeconds: 60,
      applicationId: "aaaaaaaa-bbbb-cccc-dddd-0123456789ab",
      privateKey: "-----BEGIN PRIVATE KEY-----\n...\n-----END PRIVATE KEY-----",
      from: "+14155550100",
      api: "messages",
      apiBaseUrl: "http://127.0.0.1:4011",
      timeoutMs: 2000,
      signedRequests: true,
      optOutErrorCodes: ["1050", "1360"],
    };
    const config = parseConfig({ providers: { vonage } }, {});

    expect(config.providers?.vonage).toEqual(vonage);
  });

  it("fills vonage defaults", () => {
    const config = parseConfig({ providers: { vonage: vonageInput } }, {});

    expect(config.providers?.vonage).toEqual({
      ...vonageInput,
      signatureMethod: "md5hash",
      signatureToleranceSeconds: 300,
      api: "sms",
      timeoutMs: 15_000,
      signedRequests: false,
      optOutErrorCodes: [],
    });
    expect(config.providers?.vonage?.apiBaseUrl).toBeUndefined();
  });

  it("accepts every plivo key", () => {
    const plivo = {
      ...plivoInput,
      mainAccountAuthToken: "main-token",
      requireV3Signature: true,
      timeoutMs: 2000,
      apiBaseUrl: "http://127.0.0.1:4012",
    };
    const config = parseConfig({ providers: { plivo } }, {});

    expect(config.providers?.plivo).toEqual(plivo);
  });

  it("fills plivo defaults", () => {
    const config = parseConfig({ providers: { plivo: plivoInput } }, {});

    expect(config.providers?.plivo).toEqual({
      ...plivoInput,
      requireV3Signature: false,
      timeoutMs: 15_000,
    });
    expect(config.providers?.plivo?.apiBaseUrl).toBeUndefined();
  });

  it("accepts all three providers", () => {
    const config = parseConfig(
      {
        providers: {
          plivo: plivoInput,
          vonage: vonageInput,
          twilio: { accountSid, authToken: "token" },
        },
      },
      {},
    );

    expect(config.providers?.twilio?.accountSid).toBe(accountSid);
    expect(config.providers?.twilio?.timeoutMs).toBe(15_000);
    expect(config.providers?.vonage?.apiKey).toBe("a1b2c3d4");
    expect(config.providers?.plivo?.authId).toBe(plivoAuthId);
  });
});

describe("parseConfig errors", () => {
  const cases: Array<[string, unknown, string, RegExp]> = [
    ["unknown top-level key", { pubilcUrl: "https://x.com" }, "pubilcUrl", /unknown option/],
    ["unknown nested key", { listen: { prot: 1 } }, "listen.prot", /allowed keys here: host, port/],
    ["unknown store key", { store: { type: "memory", path: "x" } }, "store.path", /type/],
    ["unknown store type", { store: { type: "redis" } }, "store.type", /sqlite/],
    ["postgres store without url", { store: { type: "postgres" } }, "store.url", /required/],
    [
      "postgres schema with a dash",
      { store: { type: "postgres", url: "postgres://db/app", schema: "my-app" } },
      "store.schema",
      /ASCII letters, digits or _/,
    ],
    [
      "postgres schema of the system",
      { store: { type: "postgres", url: "postgres://db/app", schema: "pg_app" } },
      "store.schema",
      /must not start with pg_/,
    ],
    [
      "postgres pool too large",
      { store: { type: "postgres", url: "postgres://db/app", maxConnections: 10_001 } },
      "store.maxConnections",
      /at most 10000/,
    ],
    [
      "postgres timeout past the timer limit",
      { store: { type: "postgres", url: "postgres://db/app", statementTimeoutMs: 2 ** 31 } },
      "store.statementTimeoutMs",
      /at most 2147483647/,
    ],
    [
      "postgres application name too long",
      { store: { type: "postgres", url: "postgres://db/app", applicationName: "a".repeat(64) } },
      "store.applicationName",
      /at most 63 characters/,
    ],
    [
      "sqlite busy timeout past the timer limit",
      { store: { busyTimeoutMs: 2 ** 31 } },
      "store.busyTimeoutMs",
      /at most 2147483647/,
    ],
    [
      "port as a string",
      { listen: { port: "8080" } },
      "listen.port",
      /must be a number \(received the string "8080"\)/,
    ],
    ["port out of range", { listen: { port: 70000 } }, "listen.port", /65535/],
    [
      "fractional body limit",
      { limits: { maxBodyBytes: 1.5 } },
      "limits.maxBodyBytes",
      /whole number/,
    ],
    [
      "zero connections",
      { limits: { maxConnections: 0 } },
      "limits.maxConnections",
      /greater than 0/,
    ],
    [
      "headers timeout over request timeout",
      { limits: { headersTimeoutMs: 5000, requestTimeoutMs: 1000 } },
      "limits.headersTimeoutMs",
      /must not exceed/,
    ],
    [
      "insecure flag as a string",
      { insecureSkipSignatureVerification: "yes" },
      "insecureSkipSignatureVerification",
      /must be true or false/,
    ],
    ["publicUrl with a query", { publicUrl: "https://x.com/?a=1" }, "publicUrl", /query/],
    ["publicUrl with a fragment", { publicUrl: "https://x.com/#a" }, "publicUrl", /fragment/],
    ["publicUrl without scheme", { publicUrl: "sms.example.com" }, "publicUrl", /http/],
    ["publicUrl with ftp", { publicUrl: "ftp://sms.example.com" }, "publicUrl", /http/],
    [
      "trustProxy not an address",
      { trustProxy: ["10.0.0.1", "proxy.local"] },
      "trustProxy[1]",
      /proxy\.local/,
    ],
    ["trustProxy bad prefix", { trustProxy: ["10.0.0.0/33"] }, "trustProxy[0]", /subnet/],
    ["unsupported region", { defaultRegion: "XX" }, "defaultRegion", /"XX"/],
    ["unknown scope", { optOutScope: "per-sender" }, "optOutScope", /global/],
    [
      "yesIsOptIn as a string",
      { keywords: { yesIsOptIn: "true" } },
      "keywords.yesIsOptIn",
      /must be true or false/,
    ],
    [
      "forward without secret",
      { forward: { url: "https://a.example.com" } },
      "forward.secret",
      /is required/,
    ],
    ["forward without url", { forward: { secret: "x" } }, "forward.url", /is required/],
    [
      "forward with empty secret",
      { forward: { url: "https://a.example.com", secret: "" } },
      "forward.secret",
      /empty/,
    ],
    [
      "forward url not http",
      { forward: { url: "mailto:a@b.c", secret: "x" } },
      "forward.url",
      /http/,
    ],
    ["empty reply", { replies: { optOut: "" } }, "replies.optOut", /must not be empty/],
    [
      "bad account SID",
      { providers: { twilio: { accountSid: "AC1", authToken: "t" } } },
      "providers.twilio.accountSid",
      /"AC1"/,
    ],
    [
      "bad messaging service SID",
      { providers: { twilio: { accountSid, authToken: "t", messagingServiceSid: "MG1" } } },
      "providers.twilio.messagingServiceSid",
      /"MG1"/,
    ],
    [
      "unknown provider",
      { providers: { twillio: {} } },
      "providers.twillio",
      /allowed keys here: twilio, vonage, plivo/,
    ],
    [
      "unknown vonage key",
      { providers: { vonage: { ...vonageInput, apikey: "x" } } },
      "providers.vonage.apikey",
      /allowed keys here: apiKey, apiSecret, signatureSecret, signatureMethod/,
    ],
    [
      "bad vonage signature method",
      { providers: { vonage: { ...vonageInput, signatureMethod: "sha384" } } },
      "providers.vonage.signatureMethod",
      /"sha384" is not a Vonage signature method; .*md5hash, md5, sha1, sha256, sha512/,
    ],
    [
      "bad vonage api",
      { providers: { vonage: { ...vonageInput, api: "voice" } } },
      "providers.vonage.api",
      /"voice" is not a Vonage API; use sms or messages/,
    ],
    [
      "non-numeric vonage opt-out code",
      { providers: { vonage: { ...vonageInput, optOutErrorCodes: ["1050", "x1"] } } },
      "providers.vonage.optOutErrorCodes[1]",
      /"x1" is not a numeric error code/,
    ],
    [
      "zero vonage tolerance",
      { providers: { vonage: { ...vonageInput, signatureToleranceSeconds: 0 } } },
      "providers.vonage.signatureToleranceSeconds",
      /greater than 0/,
    ],
    [
      "vonage signedRequests as a string",
      { providers: { vonage: { ...vonageInput, signedRequests: "yes" } } },
      "providers.vonage.signedRequests",
      /must be true or false/,
    ],
    [
      "vonage apiBaseUrl not http",
      { providers: { vonage: { ...vonageInput, apiBaseUrl: "rest.nexmo.com" } } },
      "providers.vonage.apiBaseUrl",
      /http/,
    ],
    [
      "bad plivo auth ID",
      { providers: { plivo: { ...plivoInput, authId: "MA123" } } },
      "providers.plivo.authId",
      /"MA123" is not a Plivo Auth ID/,
    ],
    [
      "plivo without from",
      { providers: { plivo: { authId: plivoAuthId, authToken: "token" } } },
      "providers.plivo.from",
      /is required/,
    ],
    [
      "plivo requireV3Signature as a string",
      { providers: { plivo: { ...plivoInput, requireV3Signature: "true" } } },
      "providers.plivo.requireV3Signature",
      /must be true or false/,
    ],
    [
      "fractional twilio timeout",
      { providers: { twilio: { accountSid, authToken: "token", timeoutMs: 1.5 } } },
      "providers.twilio.timeoutMs",
      /whole number/,
    ],
    [
      "fractional plivo timeout",
      { providers: { plivo: { ...plivoInput, timeoutMs: 1.5 } } },
      "providers.plivo.timeoutMs",
      /whole number/,
    ],
  ];

  for (const [name, input, path, message] of cases) {
    it(`rejects ${name}`, () => {
      const error = configErrorOf(() => parseConfig(input, {}));

      expect(error.path).toBe(path);
      expect(error.message.startsWith(`${path}: `)).toBe(true);
      expect(error.message).toMatch(message);
    });
  }

  it("lists every problem", () => {
    const error = configErrorOf(() =>
      parseConfig({ listen: { port: "x" }, optOutScope: "nobody" }, {}),
    );

    expect(error.message).toContain("listen.port: ");
    expect(error.message).toContain("\noptOutScope: ");
  });
});

describe("parseConfig messages", () => {
  const hostAdvice =
    "use an address of this machine, such as 127.0.0.1, ::1 or 0.0.0.0 for all IPv4 addresses, " +
    "or a host name such as localhost";

  const cases: Array<[string, unknown, string]> = [
    [
      "port as a string",
      { listen: { port: "8787" } },
      'listen.port: must be a number (received the string "8787")',
    ],
    [
      "unknown store type",
      { store: { type: "mongo" } },
      'store.type: must be one of "sqlite", "memory", "postgres" (received "mongo")',
    ],
    [
      "store type as a number",
      { store: { type: 5 } },
      'store.type: must be one of "sqlite", "memory", "postgres" (received the number 5)',
    ],
    [
      "unknown scope",
      { optOutScope: "per-sender" },
      'optOutScope: must be one of "global", "sender" (received "per-sender")',
    ],
    [
      "boolean as a string",
      { keywords: { yesIsOptIn: "true" } },
      'keywords.yesIsOptIn: must be true or false (received the string "true")',
    ],
    [
      "array as an object",
      { trustProxy: { first: "10.0.0.1" } },
      "trustProxy: must be an array (received an object)",
    ],
    [
      "object as a number",
      { listen: 8787 },
      "listen: must be an object (received the number 8787)",
    ],
    ["string as null", { publicUrl: null }, "publicUrl: must be a string (received null)"],
    [
      "port out of range",
      { listen: { port: 70000 } },
      "listen.port: must be between 0 and 65535 (received the number 70000)",
    ],
    [
      "fractional port",
      { listen: { port: 80.5 } },
      "listen.port: must be a whole number (received the number 80.5)",
    ],
    [
      "negative body limit",
      { limits: { maxBodyBytes: -1 } },
      "limits.maxBodyBytes: must be greater than 0 (received the number -1)",
    ],
    [
      "postgres store without url",
      { store: { type: "postgres" } },
      "store.url: is required; set it to a string",
    ],
    [
      "host with an octet over 255",
      { listen: { host: "999.1.1.1", port: 0 } },
      `listen.host: "999.1.1.1" is not a valid IPv4 address, which is four numbers from 0 to 255 separated by dots; ${hostAdvice}`,
    ],
    [
      "host with three numbers",
      { listen: { host: "127.0.1" } },
      `listen.host: "127.0.1" is not a valid IPv4 address, which is four numbers from 0 to 255 separated by dots; ${hostAdvice}`,
    ],
    [
      "host with an invalid IPv6 address",
      { listen: { host: "fe80::zz" } },
      `listen.host: "fe80::zz" is not a valid IPv6 address; ${hostAdvice}`,
    ],
    [
      "host with brackets",
      { listen: { host: "[::1]" } },
      'listen.host: "[::1]" is in brackets; write the IPv6 address without them, such as ::1',
    ],
    [
      "host with an underscore",
      { listen: { host: "sms_gateway" } },
      `listen.host: "sms_gateway" is not an IP address or a host name; ${hostAdvice}`,
    ],
    [
      "host with a URL",
      { listen: { host: "http://localhost" } },
      'listen.host: "http://localhost" is a URL; give only the address or host name, such as 127.0.0.1',
    ],
    [
      "host with a port",
      { listen: { host: "127.0.0.1:8080" } },
      'listen.host: "127.0.0.1:8080" contains a port; set the port in listen.port instead',
    ],
    [
      "generic provider as a number",
      { providers: { generic: { acme: 5 } } },
      "providers.generic.acme: must be an object of generic provider options (received the number 5)",
    ],
    [
      "vonage api as a number",
      { providers: { vonage: { ...vonageInput, api: 2 } } },
      "providers.vonage.api: the number 2 is not a Vonage API; use sms or messages",
    ],
  ];

  for (const [name, input, message] of cases) {
    it(`describes ${name}`, () => {
      const error = configErrorOf(() => parseConfig(input, {}));

      expect(error.message).toBe(message);
    });
  }

  it("accepts IP addresses and host names as host", () => {
    for (const host of ["127.0.0.1", "0.0.0.0", "::", "::1", "localhost", "sms-1.internal."]) {
      expect(parseConfig({ listen: { host } }, {}).listen.host).toBe(host);
    }
  });

  it("cuts a long value", () => {
    const error = configErrorOf(() => parseConfig({ listen: { port: "9".repeat(50) } }, {}));

    expect(error.message).toBe(
      `listen.port: must be a number (received the string "${"9".repeat(40)}..." (50 characters))`,
    );
  });

  it("names only the type of a secret", () => {
    const input = { providers: { twilio: { accountSid, authToken: 12345678 } } };
    const error = configErrorOf(() => parseConfig(input, {}));

    expect(error.message).toBe("providers.twilio.authToken: must be a string (received a number)");
    expect(error.message).not.toContain("12345678");
  });

  it("names only the type of a key", () => {
    const input = { privacy: { pseudonymKey: ["k".repeat(40)] } };
    const error = configErrorOf(() => parseConfig(input, {}));

    expect(error.message).toBe("privacy.pseudonymKey: must be a string (received an array)");
  });

  it("masks URL credentials", () => {
    const input = { publicUrl: "https://admin:hunter2@sms.example.com/?a=1" };
    const error = configErrorOf(() => parseConfig(input, {}));

    expect(error.message).toMatch(
      /^publicUrl: "https:\/\/\*\*\*@sms\.example\.com\/\?a=1" contains/,
    );
    expect(error.message).not.toContain("hunter2");
  });

  it("masks URL credentials of forward.url", () => {
    const input = { forward: { url: "ftp://user:hunter2@files.example.com/", secret: "x" } };
    const error = configErrorOf(() => parseConfig(input, {}));

    expect(error.message).toBe(
      'forward.url: "ftp://***@files.example.com/" is not an http:// or https:// URL',
    );
  });

  it("gives a mistyped secret one message", () => {
    const input = { providers: { twilio: { accountSid, authToken: 5 } } };
    const error = configErrorOf(() => parseConfig(input, {}));

    expect(error.path).toBe("providers.twilio.authToken");
    expect(error.message.split("\n")).toEqual([
      "providers.twilio.authToken: must be a string (received a number)",
    ]);
  });

  it("gives a mistyped port one message", () => {
    const error = configErrorOf(() => parseConfig({ listen: { port: "70000" } }, {}));

    expect(error.message.split("\n")).toEqual([
      'listen.port: must be a number (received the string "70000")',
    ]);
  });
});

describe("store option paths", () => {
  let directory: string;

  beforeEach(async () => {
    directory = await mkdtemp(join(tmpdir(), "smsgate-store-path-"));
  });

  afterEach(async () => {
    await rm(directory, { recursive: true, force: true });
  });

  it("names store.url for a URL the store cannot parse", async () => {
    // The store validates its options before it connects, so nothing is sent.
    const store = { type: "postgres", url: "postgres://user:s3cr3tpw@db:notaport/app" };
    const config = parseConfig({ store }, {});

    const error = await asyncConfigErrorOf(() => createRuntime(config, { cwd: directory }));

    expect(error.path).toBe("store.url");
    expect(error.message).toContain("store.url: is not a valid connection URL");
    expect(error.message).not.toContain("s3cr3tpw");
  });

  it("names store.schema for an invalid schema", () => {
    const store = { type: "postgres", url: "postgres://127.0.0.1:5432/test", schema: 'x"; drop' };

    const error = configErrorOf(() => parseConfig({ store }, {}));

    expect(error.path).toBe("store.schema");
    expect(error.message).toBe(
      "store.schema: must be 1 to 63 ASCII letters, digits or _, not starting with a digit " +
        '(received the string "x\\"; drop")',
    );
  });
});

describe("parseConfig provider secrets", () => {
  it("rejects a provider without authToken", () => {
    const error = configErrorOf(() => parseConfig({ providers: { twilio: { accountSid } } }, {}));

    expect(error.path).toBe("providers.twilio.authToken");
    expect(error.message).toMatch(/missing or empty/);
  });

  it("rejects an empty authToken", () => {
    const input = { providers: { twilio: { accountSid, authToken: "" } } };
    const error = configErrorOf(() => parseConfig(input, {}));

    expect(error.path).toBe("providers.twilio.authToken");
  });

  it("rejects an authToken from an empty variable", () => {
    const input = { providers: { twilio: { accountSid, authToken: "${TOKEN}" } } };
    const error = configErrorOf(() => parseConfig(input, { TOKEN: "" }));

    expect(error.path).toBe("providers.twilio.authToken");
  });

  it("reports a missing secret beside other problems", () => {
    const input = { listen: { port: "x" }, providers: { twilio: { accountSid } } };
    const error = configErrorOf(() => parseConfig(input, {}));

    expect(error.message).toContain("providers.twilio.authToken: ");
  });

  it("rejects vonage without signatureSecret", () => {
    const input = { providers: { vonage: { apiKey: "a1b2c3d4", apiSecret: "secret" } } };
    const error = configErrorOf(() => parseConfig(input, {}));

    expect(error.path).toBe("providers.vonage.signatureSecret");
    expect(error.message).toMatch(/missing or empty, so Vonage webhooks cannot be verified/);
    expect(error.message).toContain("${VONAGE_SIGNATURE_SECRET}");
  });

  it("rejects vonage with empty signatureSecret", () => {
    const input = { providers: { vonage: { ...vonageInput, signatureSecret: "${SECRET}" } } };
    const error = configErrorOf(() => parseConfig(input, { SECRET: "" }));

    expect(error.path).toBe("providers.vonage.signatureSecret");
  });

  it("rejects plivo without authToken", () => {
    const input = { providers: { plivo: { authId: plivoAuthId, from: "+14155550199" } } };
    const error = configErrorOf(() => parseConfig(input, {}));

    expect(error.path).toBe("providers.plivo.authToken");
    expect(error.message).toMatch(/missing or empty, so Plivo webhooks cannot be verified/);
    expect(error.message).toContain("${PLIVO_AUTH_TOKEN}");
  });

  it("lists every missing secret", () => {
    const input = {
      providers: {
        twilio: { accountSid },
        vonage: { apiKey: "a1b2c3d4" },
        plivo: { authId: plivoAuthId, from: "+14155550199" },
      },
    };
    const error = configErrorOf(() => parseConfig(input, {}));

    expect(error.path).toBe("providers.twilio.authToken");
    expect(error.message).toContain("\nproviders.vonage.signatureSecret: ");
    expect(error.message).toContain("\nproviders.plivo.authToken: ");
  });

  it("allows no secrets with the insecure flag", () => {
    const config = parseConfig(
      {
        insecureSkipSignatureVerification: true,
        providers: {
          vonage: { apiKey: "a1b2c3d4" },
          plivo: { authId: plivoAuthId, from: "+14155550199" },
        },
      },
      {},
    );

    expect(config.providers?.vonage?.signatureSecret).toBeUndefined();
    expect(config.providers?.plivo?.authToken).toBeUndefined();
  });

  it("allows no authToken with the insecure flag", () => {
    const config = parseConfig(
      { insecureSkipSignatureVerification: true, providers: { twilio: { accountSid } } },
      {},
    );

    expect(config.providers?.twilio?.authToken).toBeUndefined();
    expect(config.insecureSkipSignatureVerification).toBe(true);
  });
});

describe("environment expansion", () => {
  it("replaces variables in nested strings", () => {
    const config = parseConfig(
      {
        publicUrl: "https://${HOST}/sms",
        trustProxy: ["${PROXY}"],
        providers: { twilio: { accountSid: "${SID}", authToken: "${TOKEN}" } },
      },
      { HOST: "sms.example.com", PROXY: "10.1.2.3", SID: accountSid, TOKEN: "tok" },
    );

    expect(config.publicUrl).toBe("https://sms.example.com/sms");
    expect(config.trustProxy).toEqual(["10.1.2.3"]);
    expect(config.providers?.twilio?.accountSid).toBe(accountSid);
    expect(config.providers?.twilio?.authToken).toBe("tok");
  });

  it("replaces several variables in one string", () => {
    expect(expandEnvironment("${A}-${B}", { A: "1", B: "2" })).toBe("1-2");
  });

  it("keeps an escaped reference literal", () => {
    expect(expandEnvironment("a$${B}c", {})).toBe("a${B}c");
  });

  it("leaves a lone dollar sign", () => {
    expect(expandEnvironment("cost $5 and $", {})).toBe("cost $5 and $");
  });

  it("leaves keys and other types alone", () => {
    const expanded = expandEnvironment({ "${K}": 1, flag: true, nothing: null }, {});

    expect(expanded).toEqual({ "${K}": 1, flag: true, nothing: null });
  });

  it("names path and variable when unset", () => {
    const input = { providers: { twilio: { accountSid, authToken: "${TWILIO_AUTH_TOKEN}" } } };
    const error = configErrorOf(() => parseConfig(input, {}));

    expect(error.path).toBe("providers.twilio.authToken");
    expect(error.message).toContain("TWILIO_AUTH_TOKEN");
    expect(error.message).toContain("not set");
  });

  it("names array paths when unset", () => {
    const error = configErrorOf(() => parseConfig({ trustProxy: ["1.1.1.1", "${P}"] }, {}));

    expect(error.path).toBe("trustProxy[1]");
  });

  it("rejects an unterminated reference", () => {
    const error = configErrorOf(() => parseConfig({ publicUrl: "https://${HOST" }, {}));

    expect(error.path).toBe("publicUrl");
    expect(error.message).toMatch(/invalid variable reference/);
  });

  it("rejects an invalid variable name", () => {
    const error = configErrorOf(() => parseConfig({ publicUrl: "${1X}" }, { "1X": "a" }));

    expect(error.message).toMatch(/invalid variable reference/);
  });

  it("formats option paths", () => {
    expect(formatOptionPath(["providers", "twilio", "authToken"])).toBe(
      "providers.twilio.authToken",
    );
    expect(formatOptionPath(["trustProxy", 2])).toBe("trustProxy[2]");
    expect(formatOptionPath([])).toBe("");
  });
});

describe("loadConfig files", () => {
  let directory: string;
  let previousCwd: string;

  beforeEach(async () => {
    directory = await mkdtemp(join(tmpdir(), "smsgate-config-"));
    previousCwd = process.cwd();
  });

  afterEach(async () => {
    process.chdir(previousCwd);
    await rm(directory, { recursive: true, force: true });
  });

  it("reads and validates a file", async () => {
    const file = join(directory, "smsgate.json");
    await writeFile(file, JSON.stringify({ listen: { port: 0 }, publicUrl: "${URL}" }));

    const config = await loadConfig(file, { URL: "https://sms.example.com" });

    expect(config.listen.port).toBe(0);
    expect(config.publicUrl).toBe("https://sms.example.com");
  });

  it("accepts a byte order mark", async () => {
    const file = join(directory, "bom.json");
    await writeFile(file, `\uFEFF${JSON.stringify({ optOutScope: "sender" })}`);

    expect((await loadConfig(file, {})).optOutScope).toBe("sender");
  });

  it("names a missing explicit file", async () => {
    const file = join(directory, "absent.json");
    const error = await asyncConfigErrorOf(() => loadConfig(file, {}));

    expect(error.message).toContain(file);
    expect(error.message).toContain("not found");
  });

  it.each([
    ["null", "null"],
    ["[]", "an array"],
    ['"text"', "string"],
    ["42", "number"],
  ])("rejects a file of %s, naming it", async (text, found) => {
    const file = join(directory, "not-an-object.json");
    await writeFile(file, text);

    const error = await asyncConfigErrorOf(() => loadConfig(file, {}));

    expect(error.message).toContain(file);
    expect(error.message).toContain(`contains ${found}`);
  });

  it("uses defaults without a default file", async () => {
    process.chdir(directory);

    const config = await loadConfig(undefined, {});

    expect(config.store).toEqual({ type: "sqlite", path: "./smsgate.db" });
  });

  it("reads the default file when present", async () => {
    process.chdir(directory);
    await writeFile(join(directory, "smsgate.config.json"), '{"optOutScope":"sender"}');

    expect((await loadConfig(undefined, {})).optOutScope).toBe("sender");
  });

  it.each([
    ["empty", ""],
    ["whitespace-only", " \n\t\r\n"],
    ["byte order mark only", "\uFEFF\n"],
  ])("rejects an %s file", async (_name, text) => {
    const file = join(directory, "empty.json");
    await writeFile(file, text);

    const error = await asyncConfigErrorOf(() => loadConfig(file, {}));

    expect(error.message).toBe(
      `Configuration file ${file} is empty; write a JSON object such as {}`,
    );
  });

  it("locates invalid JSON", async () => {
    const file = join(directory, "broken.json");
    await writeFile(file, '{\n  "listen": { "port": 1 },\n  "store": x\n}');

    const error = await asyncConfigErrorOf(() => loadConfig(file, {}));

    expect(error.message).toContain(file);
    expect(error.message).toContain("line 3, column 12");
    expect(error.message).toContain('unexpected "x"');
  });

  it("locates a missing comma", async () => {
    const file = join(directory, "comma.json");
    await writeFile(file, '{"a": 1 "b": 2}');

    const error = await asyncConfigErrorOf(() => loadConfig(file, {}));

    expect(error.message).toContain("line 1, column 9");
    expect(error.message).toMatch(/expected "," or "}"/);
  });

  it("locates a truncated file", async () => {
    const file = join(directory, "truncated.json");
    await writeFile(file, '{"a": 1');

    const error = await asyncConfigErrorOf(() => loadConfig(file, {}));

    expect(error.message).toContain("position 7");
    expect(error.message).toContain("end of file");
  });

  it("keeps file contents out of JSON errors", async () => {
    const file = join(directory, "secret.json");
    await writeFile(file, '{"providers": {"twilio": {"authToken": "hunter2"}} oops');

    const error = await asyncConfigErrorOf(() => loadConfig(file, {}));

    expect(error.message).not.toContain("hunter2");
  });

  it("rejects a typo in a file", async () => {
    const file = join(directory, "typo.json");
    await writeFile(file, JSON.stringify({ limits: { maxBodyByte: 5 } }));

    const error = await asyncConfigErrorOf(() => loadConfig(file, {}));

    expect(error.path).toBe("limits.maxBodyByte");
    expect(error.message).toContain("maxBodyBytes");
  });
});
