/**
 * The connection pool a provider module sends through, and whether the provider is closed.
 *
 * @module
 */

import { type Dispatcher, Pool } from "undici";
import { ProviderError } from "../errors.js";

/**
 * Owns the undici `Pool` a provider opened for its API origin, or borrows the dispatcher
 * the caller passed in the options, which stays open for its owner.
 */
export class ProviderConnection {
  /** The dispatcher every request of the provider goes through. */
  readonly dispatcher: Dispatcher;
  readonly #owned: boolean;
  #closing: Promise<void> | undefined;

  /**
   * @param dispatcher - The caller's dispatcher, or `undefined` to open a pool.
   * @param baseUrl - The API URL whose origin the pool connects to.
   */
  constructor(dispatcher: Dispatcher | undefined, baseUrl: string) {
    this.#owned = dispatcher === undefined;
    this.dispatcher = dispatcher ?? new Pool(new URL(baseUrl).origin);
  }

  /**
   * Throws when the provider is closed, naming the factory that creates a new one.
   *
   * @param provider - The provider's name, as its errors carry it.
   * @param label - The provider as the message names it, such as `Twilio`.
   * @param factory - The call that creates a new provider, such as `twilio(options)`.
   * @throws {ProviderError} with reason `unknown` after {@link close}.
   */
  assertOpen(provider: string, label: string, factory: string): void {
    if (this.#closing !== undefined) {
      throw new ProviderError(
        `The ${label} provider is closed, so create a new one with ${factory} to send`,
        { provider, reason: "unknown" },
      );
    }
  }

  /**
   * Closes the pool the provider opened, after requests in flight finish. A dispatcher from
   * the options is left open. Calling it again returns the same promise.
   */
  close(): Promise<void> {
    this.#closing ??= this.#owned ? this.dispatcher.close() : Promise.resolve();

    return this.#closing;
  }
}
