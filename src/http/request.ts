/**
 * One HTTP request through an undici dispatcher, with its response read whole as text and a
 * time limit from a shared {@link DeadlineQueue}. It returns what undici's `request()`
 * followed by `body.text()` returns, without the response stream, the `AbortSignal` and the
 * second promise those need.
 *
 * @module
 */

import { type Dispatcher, errors, util } from "undici";
import { DeadlineQueue, TimedOperation } from "./deadlines.js";

export { DeadlineQueue };

/**
 * Header names and values, alternating, as undici's handlers receive them. They are in
 * arrival order unless the dispatcher gives only parsed headers.
 */
export type RawHeaders = ReadonlyArray<Buffer | string | ReadonlyArray<Buffer | string>>;

/** Headers as undici parses them, with lower-case names and repeated headers as arrays. */
type ParsedHeaders = Record<string, string | string[] | undefined>;

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
 * longer than {@link MAX_RESPONSE_BYTES} aborts the request with undici's
 * `ResponseExceededMaxSizeError` (code `UND_ERR_RES_EXCEEDED_MAX_SIZE`), whose message names
 * the limit. As with a signal, a request still waiting for a connection is aborted once it
 * gets one.
 */
export function requestText(
  dispatcher: Dispatcher,
  options: Dispatcher.DispatchOptions,
  deadlines: DeadlineQueue,
): Promise<TextResponse> {
  return new Promise((resolve, reject) => {
    new TextRequest(deadlines, resolve, reject).send(dispatcher, options);
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
 * Returns the response headers as name and value pairs. undici 7's own dispatchers (`Client`,
 * `Pool`, `Agent`, `MockAgent`) set `controller.rawHeaders` to the headers as received. For a
 * dispatcher that does not, the pairs come from the parsed headers, in which repeated
 * headers are already joined into arrays.
 */
function responseHeaders(
  controller: Dispatcher.DispatchController,
  headers: ParsedHeaders,
): RawHeaders {
  const raw = controller.rawHeaders;

  if (Array.isArray(raw)) {
    return raw;
  }

  const pairs: Array<string | string[]> = [];

  for (const [name, value] of Object.entries(headers)) {
    if (value !== undefined) {
      pairs.push(name, value);
    }
  }

  return pairs;
}

/**
 * The dispatch handler of one request, written to undici 7's handler interface
 * (`onRequestStart` to `onResponseEnd`, with a controller to abort the request).
 */
class TextRequest extends TimedOperation implements Dispatcher.DispatchHandler {
  readonly #deadlines: DeadlineQueue;
  readonly #resolve: (response: TextResponse) => void;
  readonly #reject: (error: Error) => void;
  #controller: Dispatcher.DispatchController | undefined;
  #timeoutError: Error | undefined;
  #settled = false;
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

  /** Starts the time limit and dispatches the request. */
  send(dispatcher: Dispatcher, options: Dispatcher.DispatchOptions): void {
    this.#deadlines.add(this);

    try {
      dispatcher.dispatch(options, this);
    } catch (error) {
      this.#fail(error as Error);
    }
  }

  expire(): void {
    this.#timeoutError = new DOMException(
      "The operation was aborted due to timeout",
      "TimeoutError",
    );
    this.#controller?.abort(this.#timeoutError);
  }

  onRequestStart(controller: Dispatcher.DispatchController): void {
    if (this.#timeoutError !== undefined) {
      controller.abort(this.#timeoutError);
      return;
    }

    // undici starts the request again, with a new controller, when it retries it on a new
    // connection.
    this.#controller = controller;
    this.#chunks = [];
    this.#length = 0;
  }

  onResponseStart(
    controller: Dispatcher.DispatchController,
    statusCode: number,
    headers: ParsedHeaders,
  ): void {
    // Informational responses (1xx) precede the response itself.
    if (statusCode >= 200) {
      this.#status = statusCode;
      this.#rawHeaders = responseHeaders(controller, headers);
    }
  }

  onResponseData(controller: Dispatcher.DispatchController, chunk: Buffer): void {
    if (this.#settled) {
      return;
    }

    this.#length += chunk.length;

    if (this.#length > MAX_RESPONSE_BYTES) {
      this.#chunks = [];
      controller.abort(
        new errors.ResponseExceededMaxSizeError(
          `The response body is longer than ${MAX_RESPONSE_BYTES} bytes, so it was not read`,
        ),
      );

      return;
    }

    this.#chunks.push(chunk);
  }

  onResponseEnd(): void {
    // undici 7.30's `MockAgent` ends the response even after the handler aborted it.
    if (this.#settled) {
      return;
    }

    this.#settled = true;
    this.#deadlines.remove(this);
    this.#resolve({ status: this.#status, rawHeaders: this.#rawHeaders, body: this.#text() });
  }

  onResponseError(_controller: Dispatcher.DispatchController, error: Error): void {
    this.#fail(error);
  }

  #fail(error: Error): void {
    if (this.#settled) {
      return;
    }

    this.#settled = true;
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
