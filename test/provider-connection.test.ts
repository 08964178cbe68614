import { Agent, type Pool } from "undici";
import { describe, expect, it } from "vitest";
import { isProviderError } from "../src/errors.js";
import { ProviderConnection } from "../src/http/provider-connection.js";

function closedError(connection: ProviderConnection): unknown {
  try {
    connection.assertOpen("acme", "Acme", "acme(options)");
  } catch (error) {
    return error;
  }

  return undefined;
}

describe("ProviderConnection", () => {
  it("is open until close", () => {
    const connection = new ProviderConnection(undefined, "http://127.0.0.1:9/api");

    expect(closedError(connection)).toBeUndefined();
  });

  it("rejects sends after close", async () => {
    const connection = new ProviderConnection(undefined, "http://127.0.0.1:9/api");

    await connection.close();
    const error = closedError(connection);

    expect(isProviderError(error)).toBe(true);
    expect((error as Error).message).toBe(
      "The Acme provider is closed, so create a new one with acme(options) to send",
    );
    expect(error).toMatchObject({ provider: "acme", reason: "unknown" });
  });

  it("closes the pool it opened", async () => {
    const connection = new ProviderConnection(undefined, "http://127.0.0.1:9/api");

    await connection.close();

    expect((connection.dispatcher as Pool).closed).toBe(true);
  });

  it("leaves a borrowed dispatcher open", async () => {
    const agent = new Agent();
    const connection = new ProviderConnection(agent, "http://127.0.0.1:9/api");

    await connection.close();

    expect(connection.dispatcher).toBe(agent);
    expect(agent.closed).toBe(false);
    await agent.close();
  });

  it("returns one promise from repeated close calls", () => {
    const connection = new ProviderConnection(undefined, "http://127.0.0.1:9/api");

    expect(connection.close()).toBe(connection.close());
  });
});
