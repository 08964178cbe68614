import { isSupportedCountry } from "libphonenumber-js";
import { z } from "zod";
import { minPseudonymKeyLength } from "../consent/erasure.js";
import type { OptOutStore } from "../consent/types.js";
import { ConfigError } from "../errors.js";
import { isLogger, type Logger, silentLogger } from "../logger.js";
import type { Provider } from "../provider.js";
import type { GatewayOptions, OptOutScope } from "./types.js";

/** {@link GatewayOptions} after validation, with defaults applied. */
export interface ResolvedGatewayOptions {
  providers: Map<string, Provider>;
  defaultProvider: Provider;
  store: OptOutStore;
  defaultRegion: GatewayOptions["defaultRegion"];
  optOutScope: OptOutScope;
  keywords: NonNullable<GatewayOptions["keywords"]>;
  publicUrl: string | undefined;
  replies: NonNullable<GatewayOptions["replies"]>;
  forwardEvents: boolean;
  insecureSkipSignatureVerification: boolean;
  logger: Logger;
  pseudonymKey: string | undefined;
}

const providerSchema = z.custom<Provider>(
  (value) =>
    typeof value === "object" &&
    value !== null &&
    typeof (value as Provider).name === "string" &&
    typeof (value as Provider).send === "function" &&
    typeof (value as Provider).verifyWebhook === "function" &&
    typeof (value as Provider).parseWebhook === "function" &&
    typeof (value as Provider).webhookResponse === "function",
  { message: "must implement the Provider contract (name, send, verifyWebhook, ...)" },
);

const storeMethods = [
  "record",
  "isOptedOut",
  "filterOptedOut",
  "getState",
  "history",
  "commitWebhook",
  "close",
] as const;

const storeSchema = z.custom<OptOutStore>(
  (value) =>
    typeof value === "object" &&
    value !== null &&
    storeMethods.every((name) => typeof (value as Record<string, unknown>)[name] === "function"),
  { message: `must implement the OptOutStore contract (${storeMethods.join(", ")})` },
);

const loggerSchema = z.custom<Logger>(isLogger, {
  message: "must have debug, info, warn and error methods (pino's interface)",
});

const publicUrlSchema = z
  .string()
  .refine((value) => /^https?:\/\/[^/?#]+(\/[^?#]*)?$/.test(value), {
    message: "must be an http or https origin with an optional path, without query or fragment",
  })
  .transform((value) => value.replace(/\/+$/, ""));

const gatewaySchema = z.object({
  providers: z.array(providerSchema).min(1, "configure at least one provider"),
  store: storeSchema,
  defaultRegion: z
    .string()
    .refine((value) => isSupportedCountry(value), {
      message: "must be an ISO 3166-1 alpha-2 region code that libphonenumber-js supports",
    })
    .optional(),
  optOutScope: z.enum(["global", "sender"]).default("global"),
  keywords: z
    .object({
      yesIsOptIn: z.boolean().optional(),
      optOut: z.array(z.string()).optional(),
      optIn: z.array(z.string()).optional(),
      help: z.array(z.string()).optional(),
    })
    .default({}),
  publicUrl: publicUrlSchema.optional(),
  replies: z
    .object({
      optOut: z.string().min(1).optional(),
      optIn: z.string().min(1).optional(),
      help: z.string().min(1).optional(),
    })
    .default({}),
  forwardEvents: z.boolean().default(false),
  insecureSkipSignatureVerification: z.boolean().default(false),
  logger: loggerSchema.optional(),
  pseudonymKey: z
    .string()
    .refine((key) => key.trim().length >= minPseudonymKeyLength, {
      message: `must be a secret of at least ${minPseudonymKeyLength} non-blank characters`,
    })
    .optional(),
});

/** Validates gateway options, throwing a `ConfigError` that names the first bad option. */
export function resolveGatewayOptions(options: GatewayOptions): ResolvedGatewayOptions {
  const parsed = gatewaySchema.safeParse(options);

  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const path = issue ? issue.path.join(".") : "";

    throw new ConfigError(path, issue?.message ?? "invalid gateway options");
  }

  const value = parsed.data;
  const providers = new Map<string, Provider>();

  for (const [index, provider] of value.providers.entries()) {
    if (providers.has(provider.name)) {
      throw new ConfigError(
        `providers.${index}`,
        `a provider named "${provider.name}" is configured twice; give each one a unique name`,
      );
    }

    providers.set(provider.name, provider);
  }

  return {
    providers,
    defaultProvider: value.providers[0] as Provider,
    store: value.store,
    defaultRegion: value.defaultRegion as GatewayOptions["defaultRegion"],
    optOutScope: value.optOutScope,
    keywords: value.keywords,
    publicUrl: value.publicUrl,
    replies: value.replies,
    forwardEvents: value.forwardEvents,
    insecureSkipSignatureVerification: value.insecureSkipSignatureVerification,
    logger: value.logger ?? silentLogger,
    pseudonymKey: value.pseudonymKey,
  };
}
