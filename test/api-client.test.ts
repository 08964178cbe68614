import { describe, expect, it } from "vitest";
import { endpointCache, perOptions } from "../src/http/api-client.js";

describe("perOptions", () => {
  it("builds once per options object", () => {
    let builds = 0;
    const labelOf = perOptions((options: { name: string }) => {
      builds += 1;
      return { label: options.name.toUpperCase() };
    });
    const first = { name: "a" };
    const second = { name: "a" };

    expect(labelOf(first)).toBe(labelOf(first));
    expect(labelOf(second)).not.toBe(labelOf(first));
    expect(labelOf(second)).toEqual({ label: "A" });
    expect(builds).toBe(2);
  });
});

describe("endpointCache", () => {
  const endpointOf = endpointCache((options: { base: string; user: string }) => ({
    url: `${options.base}/v1/Account/${encodeURIComponent(options.user)}/Message/?x=1`,
    user: options.user,
    password: "pa:ss wörd",
    timeoutMs: 250,
  }));

  it("splits the URL into origin and path", () => {
    const endpoint = endpointOf({ base: "http://127.0.0.1:8080/api", user: "MA/1" });

    expect(endpoint.origin).toBe("http://127.0.0.1:8080");
    expect(endpoint.path).toBe("/api/v1/Account/MA%2F1/Message/?x=1");
  });

  it("encodes Basic credentials as UTF-8", () => {
    const endpoint = endpointOf({ base: "https://api.example.test", user: "MA/1" });
    const encoded = endpoint.authorization.replace(/^Basic /, "");

    expect(endpoint.authorization.startsWith("Basic ")).toBe(true);
    expect(Buffer.from(encoded, "base64").toString("utf8")).toBe("MA/1:pa:ss wörd");
  });

  it("returns one endpoint and deadline queue per options object", () => {
    const options = { base: "https://api.example.test", user: "MA1" };

    expect(endpointOf(options)).toBe(endpointOf(options));
    expect(endpointOf(options).deadlines).toBe(endpointOf(options).deadlines);
  });
});
