/**
 * The `providers` section of the configuration file: one strict object per provider,
 * with the option names of that provider's module. Cross-option rules, such as the
 * credentials each Vonage API needs, are checked by the provider when the runtime builds
 * it, with the same option paths.
 *
 * @module
 */

import { z } from "zod";
import { DEFAULT_PLIVO_TIMEOUT_MS } from "../../providers/plivo/options.js";
import { DEFAULT_TWILIO_TIMEOUT_MS } from "../../providers/twilio/options.js";
import {
  DEFAULT_VONAGE_SIGNATURE_TOLERANCE_SECONDS,
  DEFAULT_VONAGE_TIMEOUT_MS,
} from "../../providers/vonage/options.js";
import { vonageSignatureMethods } from "../../providers/vonage/signature.js";
import { httpUrl, notEmpty, positiveInt } from "./config-fields.js";
import { describeReceived, describeReceivedValue } from "./config-messages.js";

const twilio = z.strictObject({
  accountSid: z.string().regex(/^AC[0-9a-fA-F]{32}$/, {
    error: (issue) =>
      `${describeReceivedValue(issue.input)} is not a Twilio Account SID (AC followed by 32 hex digits)`,
  }),
  /** Required unless `insecureSkipSignatureVerification` is true. */
  authToken: z.string().optional(),
  from: z.string().min(1, notEmpty).optional(),
  messagingServiceSid: z
    .string()
    .regex(/^MG[0-9a-fA-F]{32}$/, {
      error: (issue) =>
        `${describeReceivedValue(issue.input)} is not a Messaging Service SID ` +
        "(MG followed by 32 hex digits)",
    })
    .optional(),
  apiBaseUrl: httpUrl.optional(),
  timeoutMs: positiveInt.default(DEFAULT_TWILIO_TIMEOUT_MS),
});

const vonage = z.strictObject({
  apiKey: z.string().min(1, notEmpty).optional(),
  apiSecret: z.string().min(1, notEmpty).optional(),
  /** Required unless `insecureSkipSignatureVerification` is true. */
  signatureSecret: z.string().optional(),
  signatureMethod: z
    .enum(vonageSignatureMethods, {
      error: (issue) =>
        `${describeReceivedValue(issue.input)} is not a Vonage signature method; use the one set ` +
        `in the dashboard's API settings: ${vonageSignatureMethods.join(", ")}`,
    })
    .default("md5hash"),
  /** Largest accepted difference between a signed webhook's time and the clock, in seconds. */
  signatureToleranceSeconds: positiveInt.default(DEFAULT_VONAGE_SIGNATURE_TOLERANCE_SECONDS),
  applicationId: z.string().min(1, notEmpty).optional(),
  /** The application's RSA private key in PEM form. */
  privateKey: z.string().min(1, notEmpty).optional(),
  from: z.string().min(1, notEmpty).optional(),
  api: z
    .enum(["sms", "messages"], {
      error: (issue) =>
        `${describeReceivedValue(issue.input)} is not a Vonage API; use sms or messages`,
    })
    .default("sms"),
  /** The default depends on `api`, so it is left to the provider. */
  apiBaseUrl: httpUrl.optional(),
  timeoutMs: positiveInt.default(DEFAULT_VONAGE_TIMEOUT_MS),
  signedRequests: z.boolean().default(false),
  optOutErrorCodes: z
    .array(
      z.string().regex(/^\d{1,6}$/, {
        error: (issue) =>
          `${describeReceivedValue(issue.input)} is not a numeric error code, such as "1050"`,
      }),
    )
    .default([]),
});

const plivo = z.strictObject({
  authId: z.string().regex(/^(MA|SA)[A-Za-z0-9]{18}$/, {
    error: (issue) =>
      `${describeReceivedValue(issue.input)} is not a Plivo Auth ID ` +
      "(MA or SA followed by 18 letters and digits)",
  }),
  /** Required unless `insecureSkipSignatureVerification` is true. */
  authToken: z.string().optional(),
  from: z.string().min(1, notEmpty),
  mainAccountAuthToken: z.string().min(1, notEmpty).optional(),
  requireV3Signature: z.boolean().default(false),
  timeoutMs: positiveInt.default(DEFAULT_PLIVO_TIMEOUT_MS),
  apiBaseUrl: httpUrl.optional(),
});

/**
 * Generic HTTP providers by name. The name is the provider's route
 * (`/webhooks/<name>/inbound`); the options are checked by the generic provider module when
 * the runtime builds it, with paths such as `providers.generic.acme.send.url`.
 */
const builtInNames = ["twilio", "vonage", "plivo"];

const generic = z
  .record(
    z.string().regex(/^[a-z][a-z0-9-]{0,31}$/, {
      error: (issue) =>
        `${describeReceivedValue(issue.input)} is not a provider name; use 1 to 32 lowercase ` +
        "letters, digits and dashes, starting with a letter",
    }),
    z.record(z.string(), z.unknown(), {
      error: (issue) =>
        "must be an object of generic provider options " +
        `(received ${describeReceived(issue.input, false)})`,
    }),
  )
  .superRefine((providers, ctx) => {
    for (const name of Object.keys(providers).filter((key) => builtInNames.includes(key))) {
      ctx.addIssue({
        code: "custom",
        path: [name],
        message: "is the name of a built-in provider; give the generic provider another name",
      });
    }
  });

/** The schema of `providers`: each provider is optional, and unknown names are errors. */
export const providersSchema = z.strictObject({
  twilio: twilio.optional(),
  vonage: vonage.optional(),
  plivo: plivo.optional(),
  generic: generic.optional(),
});

/** A provider name that the configuration file accepts. */
export type ConfiguredProviderName = keyof z.output<typeof providersSchema>;

/** The option that verifies a provider's webhooks, for the missing-secret check. */
export interface WebhookSecretOption {
  provider: ConfiguredProviderName;
  option: string;
  /** The provider's name as it is written in prose. */
  label: string;
  /** The environment variable the example in the error message uses. */
  variable: string;
}

/** The webhook secret of each provider, in the order the runtime builds providers. */
export const webhookSecretOptions: readonly WebhookSecretOption[] = [
  { provider: "twilio", option: "authToken", label: "Twilio", variable: "TWILIO_AUTH_TOKEN" },
  {
    provider: "vonage",
    option: "signatureSecret",
    label: "Vonage",
    variable: "VONAGE_SIGNATURE_SECRET",
  },
  { provider: "plivo", option: "authToken", label: "Plivo", variable: "PLIVO_AUTH_TOKEN" },
];
