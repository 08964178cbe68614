import { createServer, type IncomingMessage, type Server } from "node:http";
import { type AddressInfo, connect } from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import {
  normalizeAddress,
  PayloadTooLargeError,
  publicRequestUrl,
  readRequestBody,
  toWebhookRequest,
} from "../src/http/node.js";

const rawQuery = "/webhooks/twilio/inbound?b=2&a=1&name=O'hara+x";

type Handler = (req: IncomingMessage) => Promise<unknown> | unknown;

let server: Server | undefined;

afterEach(async () => {
  server?.closeAllConnections();
  await new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve()));
  server = undefined;
});

/** Starts a server that responds to each request with the JSON of `handler(req)`. */
async function startCapture(handler: Handler): Promise<number> {
  const created = createServer(async (req, res) => {
    let status = 200;
    let answer: unknown;
    try {
      answer = { result: await handler(req) };
    } catch (error) {
      status = 500;
      answer = { error: (error as Error).name, message: (error as Error).message };
    }

    const text = JSON.stringify(answer);
    res.writeHead(status, {
      "content-type": "application/json",
      "content-length": Buffer.byteLength(text),
      connection: "close",
    });
    res.end(text);
  });
  server = created;
  await new Promise<void>((resolve) => created.listen(0, "127.0.0.1", resolve));
  return (created.address() as AddressInfo).port;
}

/** Sends raw bytes over TCP and returns the parsed JSON of the response body. */
function sendRaw(port: number, text: string): Promise<Record<string, unknown>> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, "127.0.0.1");
    let received = "";
    socket.setEncoding("utf8");
    socket.on("data", (chunk: string) => {
      received += chunk;
    });
    socket.on("error", reject);
    socket.on("end", () => {
      const body = received.slice(received.indexOf("\r\n\r\n") + 4);
      resolve(JSON.parse(body) as Record<string, unknown>);
    });
    socket.write(text);
  });
}

function get(path: string, headers: string[] = []): string {
  return [`GET ${path} HTTP/1.1`, "Host: local.test:8787", ...headers, "", ""].join("\r\n");
}

/** Builds a request object with only the fields `publicRequestUrl` reads. */
function fakeRequest(
  remoteAddress: string,
  headers: Record<string, string>,
  url = "/webhooks/twilio/status",
): IncomingMessage {
  return { url, headers, socket: { remoteAddress } } as unknown as IncomingMessage;
}

describe("publicRequestUrl over HTTP", () => {
  it("joins publicUrl and the raw query", async () => {
    const port = await startCapture((req) =>
      publicRequestUrl(req, { publicUrl: "https://sms.example.com/prefix" }),
    );

    const response = await sendRaw(port, get(rawQuery));

    expect(response.result).toBe(`https://sms.example.com/prefix${rawQuery}`);
  });

  it("prefers publicUrl over forwarded headers", async () => {
    const port = await startCapture((req) =>
      publicRequestUrl(req, { publicUrl: "https://a.example.com", trustProxy: ["127.0.0.1"] }),
    );

    const response = await sendRaw(
      port,
      get("/x", ["X-Forwarded-Proto: http", "X-Forwarded-Host: b.example.com"]),
    );

    expect(response.result).toBe("https://a.example.com/x");
  });

  it("ignores forwarded headers from untrusted peers", async () => {
    const port = await startCapture((req) => publicRequestUrl(req, { trustProxy: ["10.9.9.9"] }));

    const response = await sendRaw(
      port,
      get(rawQuery, ["X-Forwarded-Proto: https", "X-Forwarded-Host: evil.example.com"]),
    );

    expect(response.result).toBe(`http://local.test:8787${rawQuery}`);
  });

  it("ignores forwarded headers without trustProxy", async () => {
    const port = await startCapture((req) => publicRequestUrl(req, {}));

    const response = await sendRaw(port, get("/a", ["X-Forwarded-Proto: https"]));

    expect(response.result).toBe("http://local.test:8787/a");
  });

  it("honours forwarded headers from trusted peers", async () => {
    const port = await startCapture((req) => publicRequestUrl(req, { trustProxy: ["127.0.0.1"] }));

    const response = await sendRaw(
      port,
      get(rawQuery, ["X-Forwarded-Proto: https", "X-Forwarded-Host: sms.example.com"]),
    );

    expect(response.result).toBe(`https://sms.example.com${rawQuery}`);
  });

  it("trusts a peer inside a subnet", async () => {
    const port = await startCapture((req) =>
      publicRequestUrl(req, { trustProxy: ["127.0.0.0/8"] }),
    );

    const response = await sendRaw(port, get("/s", ["X-Forwarded-Proto: https"]));

    expect(response.result).toBe("https://local.test:8787/s");
  });
});

describe("publicRequestUrl forwarded values", () => {
  const trusted = { trustProxy: ["10.0.0.5"] };

  it("trusts an IPv4-mapped peer address", () => {
    const req = fakeRequest("::ffff:10.0.0.5", {
      host: "internal:80",
      "x-forwarded-proto": "https",
      "x-forwarded-host": "sms.example.com",
    });

    expect(publicRequestUrl(req, trusted)).toBe("https://sms.example.com/webhooks/twilio/status");
  });

  it("matches a mapped trustProxy entry", () => {
    const req = fakeRequest("10.0.0.5", { host: "internal", "x-forwarded-proto": "https" });

    expect(publicRequestUrl(req, { trustProxy: ["::ffff:10.0.0.5"] })).toBe(
      "https://internal/webhooks/twilio/status",
    );
  });

  it("rejects a different mapped address", () => {
    const req = fakeRequest("::ffff:10.0.0.6", { host: "internal", "x-forwarded-proto": "https" });

    expect(publicRequestUrl(req, trusted)).toBe("http://internal/webhooks/twilio/status");
  });

  it("matches IPv6 in any notation", () => {
    const req = fakeRequest("0:0:0:0:0:0:0:1", { host: "h", "x-forwarded-proto": "https" });

    expect(publicRequestUrl(req, { trustProxy: ["::1"] })).toBe("https://h/webhooks/twilio/status");
  });

  it("takes the value the nearest proxy appended", () => {
    const req = fakeRequest("10.0.0.5", {
      host: "internal",
      "x-forwarded-proto": "http, https",
      "x-forwarded-host": "spoofed.example.com, sms.example.com",
    });

    expect(publicRequestUrl(req, trusted)).toBe("https://sms.example.com/webhooks/twilio/status");
  });

  it("ignores an unknown forwarded scheme", () => {
    const req = fakeRequest("10.0.0.5", { host: "internal", "x-forwarded-proto": "gopher" });

    expect(publicRequestUrl(req, trusted)).toBe("http://internal/webhooks/twilio/status");
  });

  it("ignores a forwarded host with a path", () => {
    const req = fakeRequest("10.0.0.5", {
      host: "internal",
      "x-forwarded-host": "evil.example.com/x?",
    });

    expect(publicRequestUrl(req, trusted)).toBe("http://internal/webhooks/twilio/status");
  });

  it("keeps a forwarded host with a port", () => {
    const req = fakeRequest("10.0.0.5", { host: "internal", "x-forwarded-host": "[::1]:8443" });

    expect(publicRequestUrl(req, trusted)).toBe("http://[::1]:8443/webhooks/twilio/status");
  });

  it("normalizes mapped addresses", () => {
    expect(normalizeAddress("::ffff:192.0.2.1")).toBe("192.0.2.1");
    expect(normalizeAddress("::FFFF:192.0.2.1")).toBe("192.0.2.1");
    expect(normalizeAddress("2001:db8::1")).toBe("2001:db8::1");
    expect(normalizeAddress("192.0.2.1")).toBe("192.0.2.1");
  });
});

describe("readRequestBody", () => {
  it("reads the whole body", async () => {
    const port = await startCapture(async (req) =>
      Buffer.from(await readRequestBody(req, 100)).toString("utf8"),
    );

    const body = "From=%2B14155550100&Body=STOP";
    const response = await sendRaw(
      port,
      `POST /x HTTP/1.1\r\nHost: h\r\nContent-Length: ${body.length}\r\n\r\n${body}`,
    );

    expect(response.result).toBe(body);
  });

  it("accepts a body of exactly the limit", async () => {
    const port = await startCapture(async (req) => (await readRequestBody(req, 5)).length);

    const response = await sendRaw(
      port,
      "POST /x HTTP/1.1\r\nHost: h\r\nContent-Length: 5\r\n\r\n12345",
    );

    expect(response.result).toBe(5);
  });

  it("rejects a large Content-Length unread", async () => {
    // The client sends no body at all: the rejection cannot have waited for one.
    const port = await startCapture((req) => readRequestBody(req, 10));

    const response = await sendRaw(
      port,
      "POST /x HTTP/1.1\r\nHost: h\r\nContent-Length: 11\r\n\r\n",
    );

    expect(response.error).toBe("PayloadTooLargeError");
    expect(response.message).toContain("Content-Length is 11 bytes");
  });

  it("rejects a chunked body over the limit", async () => {
    const port = await startCapture((req) => readRequestBody(req, 10));
    const chunk = "x".repeat(8);

    const response = await sendRaw(
      port,
      "POST /x HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n" +
        `8\r\n${chunk}\r\n8\r\n${chunk}\r\n`,
    );

    expect(response.error).toBe("PayloadTooLargeError");
    expect(response.message).toContain("limit is 10 bytes");
  });

  it("names the limit on the error", () => {
    const error = new PayloadTooLargeError(64, "test");

    expect(error.maxBytes).toBe(64);
    expect(error.name).toBe("PayloadTooLargeError");
  });
});

describe("toWebhookRequest", () => {
  it("keeps repeated headers and the body", async () => {
    const port = await startCapture(async (req) => {
      const body = await readRequestBody(req, 100);
      const request = toWebhookRequest(req, body, "https://sms.example.com/x");
      return {
        method: request.method,
        url: request.url,
        custom: request.headers.get("x-custom"),
        cookies: request.headers.getSetCookie(),
        signature: request.headers.get("x-twilio-signature"),
        body: Buffer.from(request.body).toString("utf8"),
      };
    });

    const response = await sendRaw(
      port,
      [
        "POST /x HTTP/1.1",
        "Host: h",
        "X-Custom: a",
        "x-custom: b",
        "Set-Cookie: one=1",
        "Set-Cookie: two=2",
        "X-Twilio-Signature: abc=",
        "Content-Length: 3",
        "",
        "a=b",
      ].join("\r\n"),
    );

    expect(response.result).toEqual({
      method: "POST",
      url: "https://sms.example.com/x",
      custom: "a, b",
      cookies: ["one=1", "two=2"],
      signature: "abc=",
      body: "a=b",
    });
  });
});
