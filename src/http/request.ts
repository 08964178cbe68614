/**
 * One HTTP request through an undici dispatcher, with its response read whole as text and a
 * time limit from a shared {@link DeadlineQueue}. It returns what undici's `request()`
 * followed by `body.text()` returns, without the response stream, the `AbortSignal` and the
 * second promise those need.
 *
 * @module
 */

import { type Dispatcher, util } from "undici";
import { DeadlineQueue, TimedOperation } from "./deadlines.js";

export { DeadlineQueue };

/** Header names and values as undici's handlers receive them, in arrival order. */
export type RawHeaders = ReadonlyArray<Buffer | string | ReadonlyArray<Buffer | string>>;

/** A response read to its end. */
export interface TextResponse {
  /** HTTP status code. */
  status: number;
  /** Response headers, name then value, as received. Read one with {@link headerValue}. */
  rawHeaders: RawHeaders;
  /** The body decoded as UTF-8, without a leading byte order mark. */
  body: string;
}

const UTF8_BOM = [0xef, 0xbb, 0xbf] as const;

/**
 * Largest response body read, in bytes. Provider API responses are a few kilobytes, so a
 * longer body is a fault, and reading it whole could exhaust memory.
 */
export const MAX_RESPONSE_BYTES = 4 * 1024 * 1024;

/**
 * Sends `options` through `dispatcher` and reads the whole response. The time limit of
 * `deadlines` runs from this call to the last byte of the body.
 *
 * Rejects with the dispatcher's error, or after the time limit with a `DOMException` named
 * `TimeoutError`, as an `AbortSignal.timeout()` signal would abort the request. A body
 * longer than {@link MAX_RESPONSE_BYTES} aborts the request with an error that names the limit. As with a
 * signal, a request still waiting for a connection is aborted once it gets one.
 */
export function requestText(
  dispatcher: Dispatcher,
  options: Dispatcher.DispatchOptions,
  deadlines: DeadlineQueue,
): Promise<TextResponse> {
  return new Promise((resolve, reject) => {
    const request = new TextRequest(deadlines, resolve, reject);

    deadlines.add(request);

    try {
      dispatcher.dispatch(options, request);
    } catch (error) {
      request.onError(error as Error);
    }
  });
}

/**
 * Returns the first value of header `name` (lower case), decoded as Latin-1, as undici's
 * parsed headers give it.
 */
export function headerValue(rawHeaders: RawHeaders, name: string): string | undefined {
  for (let index = 0; index + 1 < rawHeaders.length; index += 2) {
    const key = rawHeaders[index] as Buffer | string;

    if (util.headerNameToString(key) === name) {
      return headerText(rawHeaders[index + 1] as RawHeaders[number]);
    }
  }

  return undefined;
}

function headerText(value: RawHeaders[number]): string {
  if (Array.isArray(value)) {
    return headerText((value as ReadonlyArray<Buffer | string>)[0] ?? "");
  }

  return typeof value === "string" ? value : (value as Buffer).toString("latin1");
}

/**
 * The dispatch handler of one request. It implements the callbacks that undici's own
 * `request()` handler implements (`onConnect` to `onComplete`), which undici's dispatchers
 * call directly, `MockAgent` included.
 */
class TextRequest extends TimedOperation implements Dispatcher.DispatchHandler {
  readonly #deadlines: DeadlineQueue;
  readonly #resolve: (response: TextResponse) => void;
  readonly #reject: (error: Error) => void;
  #abort: ((error: Error) => void) | undefined;
  #timeoutError: Error | undefined;
  #status = 0;
  #rawHeaders: RawHeaders = [];
  #chunks: Buffer[] = [];
  #length = 0;

  constructor(
    deadlines: DeadlineQueue,
    resolve: (response: TextResponse) => void,
    reject: (error: Error) => void,
  ) {
    super();
    this.#deadlines = deadlines;
    this.#resolve = resolve;
    this.#reject = reject;
  }

  expire(): void {
    this.#timeoutError = new DOMException(
      "The operation was aborted due to timeout",
      "TimeoutError",
    );
    this.#abort?.(this.#timeoutError);
  }

  onConnect(abort: (error?: Error) => void): void {
    if (this.#timeoutError !== undefined) {
      abort(this.#timeoutError);
      return;
    }

    // undici calls this again when it retries the request on a new connection.
    this.#abort = abort;
    this.#chunks = [];
    this.#length = 0;
  }

  onHeaders(statusCode: number, rawHeaders: Buffer[]): boolean {
    // Informational responses (1xx) precede the response itself.
    if (statusCode >= 200) {
      this.#status = statusCode;
      this.#rawHeaders = rawHeaders;
    }

    return true;
  }

  onData(chunk: Buffer): boolean {
    this.#length += chunk.length;

    if (this.#length > MAX_RESPONSE_BYTES) {
      this.#chunks = [];
      this.#abort?.(
        new Error(
          `The response body is longer than ${MAX_RESPONSE_BYTES} bytes, so it was not read`,
        ),
      );

      return false;
    }

    this.#chunks.push(chunk);

    return true;
  }

  onComplete(): void {
    this.#deadlines.remove(this);
    this.#resolve({ status: this.#status, rawHeaders: this.#rawHeaders, body: this.#text() });
  }

  onError(error: Error): void {
    this.#deadlines.remove(this);
    this.#reject(error);
  }

  #text(): string {
    if (this.#length === 0) {
      return "";
    }

    const chunks = this.#chunks;
    const bytes = chunks.length === 1 ? (chunks[0] as Buffer) : Buffer.concat(chunks, this.#length);
    const start =
      bytes.length > 2 &&
      bytes[0] === UTF8_BOM[0] &&
      bytes[1] === UTF8_BOM[1] &&
      bytes[2] === UTF8_BOM[2]
        ? 3
        : 0;

    return bytes.toString("utf8", start);
  }
}
