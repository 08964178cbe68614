/** The scope argument of the `optout` subcommands. */

import { ALL_SENDERS } from "../consent/types.js";
import { type CountryCode, parseTypedSender } from "../phone/index.js";

/** Normalises a scope: `*` stays, a number becomes E.164, other senders stay as given. */
export function normalizeScope(scope: string | undefined, region: CountryCode | undefined): string {
  if (scope === undefined || scope === ALL_SENDERS) {
    return ALL_SENDERS;
  }

  return parseTypedSender(scope, { defaultRegion: region }).value;
}
