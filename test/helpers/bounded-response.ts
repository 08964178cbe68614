import { expect } from "vitest";
import type { ProviderError } from "../../src/errors.js";
import type { ServerSideClose } from "./streaming-server.js";

/**
 * Checks the refusal of a send whose response body passed the 4 MiB limit: a transient
 * error of `provider` named with `label`, and a connection closed before the body ended.
 */
export function expectOversizedRefusal(
  error: ProviderError,
  close: ServerSideClose,
  names: { provider: string; label: string },
): void {
  expect(error.provider).toBe(names.provider);
  expect(error.reason).toBe("transient");
  expect(error.httpStatus).toBeUndefined();
  expect(error.message).toBe(
    `${names.label} API request failed: The response body is longer than 4194304 bytes, ` +
      "so it was not read",
  );
  expect((error.cause as { code?: string }).code).toBe("UND_ERR_RES_EXCEEDED_MAX_SIZE");
  expect(close.finished).toBe(false);
}

/**
 * Checks the refusal of a send whose response kept streaming past a limit of 150 ms: a
 * transient timeout named with `label`, well before the stream ended, and a connection
 * closed after some bytes were sent.
 */
export function expectStreamingTimeout(
  error: ProviderError,
  close: ServerSideClose,
  elapsedMs: number,
  label: string,
): void {
  expect(error.reason).toBe("transient");
  expect(error.message).toBe(`${label} API request timed out after 150 ms`);
  expect((error.cause as Error).name).toBe("TimeoutError");
  expect(elapsedMs).toBeLessThan(1000);
  expect(close.finished).toBe(false);
  expect(close.sentBytes).toBeGreaterThan(0);
}
