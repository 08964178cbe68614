/**
 * Builds the provider modules that the configuration names, with option paths such as
 * `providers.vonage.apiKey` in their errors.
 */

import { randomBytes } from "node:crypto";
import { type GenericProviderOptions, generic } from "../../providers/generic/index.js";
import { plivo } from "../../providers/plivo/index.js";
import { twilio } from "../../providers/twilio/index.js";
import { vonage } from "../../providers/vonage/index.js";
import { ConfigError } from "../errors.js";
import type { Logger } from "../logger.js";
import type { Provider } from "../provider.js";
import type { SmsgateConfig } from "./config.js";

type ProviderBuilder = (config: SmsgateConfig, logger: Logger) => Provider | Provider[] | undefined;

/**
 * Returns a random stand-in for a missing auth token, so the provider can be built, and
 * warns that sends will fail. The configuration allows a missing token only together
 * with `insecureSkipSignatureVerification`.
 */
function placeholderToken(option: string, label: string, logger: Logger): string {
  logger.warn(
    { option },
    `No ${label} auth token is configured: sends through ${label} will fail authentication`,
  );

  return `unset-${randomBytes(16).toString("hex")}`;
}

function buildTwilio(config: SmsgateConfig, logger: Logger): Provider | undefined {
  const twilioConfig = config.providers?.twilio;
  if (!twilioConfig) {
    return undefined;
  }

  let authToken = twilioConfig.authToken ?? "";
  if (authToken === "") {
    authToken = placeholderToken("providers.twilio.authToken", "Twilio", logger);
  }

  return twilio(
    {
      accountSid: twilioConfig.accountSid,
      authToken,
      from: twilioConfig.from,
      messagingServiceSid: twilioConfig.messagingServiceSid,
      apiBaseUrl: twilioConfig.apiBaseUrl,
      timeoutMs: twilioConfig.timeoutMs,
    },
    "providers.twilio",
  );
}

function buildVonage(config: SmsgateConfig): Provider | undefined {
  const vonageConfig = config.providers?.vonage;
  if (!vonageConfig) {
    return undefined;
  }

  // Without a signature secret (allowed only with insecureSkipSignatureVerification),
  // the provider still sends with the API key and secret.
  const signatureSecret = vonageConfig.signatureSecret || undefined;

  return vonage({ ...vonageConfig, signatureSecret }, "providers.vonage");
}

function buildPlivo(config: SmsgateConfig, logger: Logger): Provider | undefined {
  const plivoConfig = config.providers?.plivo;
  if (!plivoConfig) {
    return undefined;
  }

  let authToken = plivoConfig.authToken ?? "";
  if (authToken === "") {
    authToken = placeholderToken("providers.plivo.authToken", "Plivo", logger);
  }

  return plivo({ ...plivoConfig, authToken }, "providers.plivo");
}

/** Builds each generic provider under its configured name, which is also its route. */
function buildGeneric(config: SmsgateConfig): Provider[] {
  const entries = Object.entries(config.providers?.generic ?? {});

  return entries.map(([name, options]) => {
    const path = `providers.generic.${name}`;

    if (options.name !== undefined && options.name !== name) {
      throw new ConfigError(
        `${path}.name`,
        `is ${JSON.stringify(options.name)}, but the provider's name is its key ` +
          `${JSON.stringify(name)}; remove name or make it match`,
      );
    }

    return generic({ ...options, name } as GenericProviderOptions, path);
  });
}

/**
 * The builders, in the order providers are added to the gateway: Twilio, Vonage, Plivo,
 * then the generic providers, whatever the key order in the configuration file. The first
 * provider built is the default of `send`.
 */
const builders: readonly ProviderBuilder[] = [buildTwilio, buildVonage, buildPlivo, buildGeneric];

/**
 * Builds every configured provider and appends it to `providers` at once, so that the
 * caller can close the ones already built when a later one fails. `sendWarningLogger`
 * receives the warnings about sends that will fail, so a command that never sends can
 * pass a silent logger.
 *
 * @throws {ConfigError} naming the option path when a provider's options are invalid.
 */
export function addConfiguredProviders(
  config: SmsgateConfig,
  sendWarningLogger: Logger,
  providers: Provider[],
): void {
  for (const build of builders) {
    const built = build(config, sendWarningLogger);

    if (Array.isArray(built)) {
      providers.push(...built);
    } else if (built) {
      providers.push(built);
    }
  }
}
