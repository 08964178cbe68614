import type { Dispatcher } from "undici";
import { z } from "zod";
import { providerErrorReasons } from "../../src/errors.js";
import { parseSenderIdentity } from "../../src/phone/sender.js";
import { deliveryStatuses } from "../../src/provider.js";
import { isDispatcher } from "../../src/provider-options.js";
import { type GenericTemplateValue, unknownPlaceholders } from "./template.js";

// Timers in Node hold at most a signed 32-bit number of milliseconds.
const MAX_TIMEOUT_MS = 2_147_483_647;

// A longer window only widens the time a captured request can be replayed.
const MAX_TOLERANCE_SECONDS = 86_400;

const HEADER_NAME = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;
const PROVIDER_NAME = /^[a-z][a-z0-9-]{0,31}$/;
const PATH = /^[^.]+(\.[^.]+)*$/;

const quote = (value: unknown): string => JSON.stringify(value) ?? String(value);

// Unknown keys are rejected, because a misspelt option in a JSON file would otherwise be
// ignored.
function strict<T extends z.ZodRawShape>(shape: T, fields: string) {
  return z.strictObject(shape, {
    error: (issue) =>
      issue.code === "unrecognized_keys"
        ? `has unknown option ${issue.keys.map(quote).join(", ")}`
        : `must be an object with ${fields}`,
  });
}

const text = () => z.string({ error: "must be a string" }).min(1, { error: "must not be empty" });

const path = z.string({ error: "must be a dotted path or a field name" }).regex(PATH, {
  error: (issue) => `must be a dotted path such as "data.id" (got ${quote(issue.input)})`,
});

const headerName = z.string({ error: "must be a header name" }).regex(HEADER_NAME, {
  error: (issue) => `must be an HTTP header name (got ${quote(issue.input)})`,
});

const headerValue = z
  .string({ error: "must be a string" })
  .refine((value) => !/[\r\n\0]/.test(value), { error: "must not contain CR, LF or NUL" });

const reason = z.enum(providerErrorReasons, {
  error: (issue) => `must be one of ${providerErrorReasons.join(", ")} (got ${quote(issue.input)})`,
});

const deliveryStatus = z.enum(deliveryStatuses, {
  error: (issue) => `must be one of ${deliveryStatuses.join(", ")} (got ${quote(issue.input)})`,
});

const sender = z.string({ error: "must be a string" }).transform((value, context) => {
  try {
    return parseSenderIdentity(value, { internationalDigits: true }).value;
  } catch (error) {
    context.addIssue({
      code: "custom",
      message: `must be a number, short code or sender ID: ${(error as Error).message}`,
    });

    return z.NEVER;
  }
});

const template: z.ZodType<GenericTemplateValue> = z.lazy(() =>
  z.union(
    [
      z.string().refine((value) => unknownPlaceholders(value).length === 0, {
        error: (issue) =>
          `uses unknown placeholder ${unknownPlaceholders(String(issue.input)).join(", ")}; ` +
          "the placeholders are {{to}}, {{from}}, {{body}} and {{statusCallbackUrl}}",
      }),
      z.number(),
      z.boolean(),
      z.null(),
      z.array(template),
      z.record(z.string(), template),
    ],
    { error: "must be a string, number, boolean, null, array or object" },
  ),
);

const auth = z.discriminatedUnion(
  "type",
  [
    strict({ type: z.literal("bearer"), token: text() }, "type and token"),
    strict(
      { type: z.literal("basic"), username: text(), password: text() },
      "type, username and password",
    ),
    strict({ type: z.literal("header"), name: headerName, value: text() }, "type, name, value"),
  ],
  { error: 'must have type "bearer", "basic" or "header"' },
);

const errorRule = strict(
  {
    status: z.number().int().min(100).max(599, { error: "must be an HTTP status" }).optional(),
    codePath: path.optional(),
    code: z.union([z.string().min(1), z.number()], { error: "must be a code" }).optional(),
    reason,
  },
  "reason and status or code",
).refine((rule) => rule.status !== undefined || rule.code !== undefined, {
  error: "needs status or code, or it would match every response",
});

const send = strict(
  {
    url: z.string({ error: "must be a URL" }).refine(isHttpUrl, {
      error: (issue) => `must be an http or https URL (got ${quote(issue.input)})`,
    }),
    method: z.enum(["POST", "PUT"], { error: 'must be "POST" or "PUT"' }).default("POST"),
    format: z.enum(["json", "form"], { error: 'must be "json" or "form"' }).default("json"),
    body: z.record(z.string(), template, { error: "must be an object" }),
    headers: z.record(headerName, headerValue).default({}),
    auth: auth.optional(),
    messageIdPath: path,
    statusPath: path.optional(),
    errorCodePath: path.optional(),
    errors: z.array(errorRule, { error: "must be an array of rules" }).default([]),
    timeoutMs: z
      .number({ error: "must be a number of milliseconds" })
      .int({ error: "must be a whole number of milliseconds" })
      .min(1, { error: "must be at least 1 millisecond" })
      .max(MAX_TIMEOUT_MS, { error: `must be at most ${MAX_TIMEOUT_MS} milliseconds` })
      .default(15_000),
  },
  "url, body and messageIdPath",
).superRefine((value, context) => {
  checkFormBody(value.format, value.body, context);
  checkRuleCodePaths(value, context);
});

function checkFormBody(
  format: "json" | "form",
  body: Record<string, GenericTemplateValue>,
  context: z.RefinementCtx,
): void {
  for (const [key, value] of Object.entries(body)) {
    if (format === "form" && typeof value !== "string") {
      context.addIssue({
        code: "custom",
        path: ["body", key],
        message: "must be a string, because a form body has only text fields",
      });
    }
  }
}

function checkRuleCodePaths(
  value: { errors: Array<{ code?: unknown; codePath?: string }>; errorCodePath?: string },
  context: z.RefinementCtx,
): void {
  value.errors.forEach((rule, index) => {
    if (rule.code !== undefined && rule.codePath === undefined && !value.errorCodePath) {
      context.addIssue({
        code: "custom",
        path: ["errors", index, "codePath"],
        message: "is required for a rule with code, unless send.errorCodePath is set",
      });
    }
  });
}

const intent = strict(
  {
    field: path,
    optOut: z.array(text()).default([]),
    optIn: z.array(text()).default([]),
    help: z.array(text()).default([]),
  },
  "field and the values of optOut, optIn or help",
);

const inbound = strict(
  {
    id: path.optional(),
    from: path,
    to: path.optional(),
    text: path,
    time: path.optional(),
    intent: intent.optional(),
  },
  "from and text",
);

const status = strict(
  {
    id: path,
    status: path,
    errorCode: path.optional(),
    to: path.optional(),
    from: path.optional(),
    time: path.optional(),
  },
  "id and status",
);

const optOutReport = strict(
  {
    match: strict(
      {
        field: text(),
        value: z.string({ error: "must be a string" }),
        in: z.enum(["body", "query"], { error: 'must be "body" or "query"' }).default("body"),
      },
      "field and value",
    ),
    from: path,
    to: path.optional(),
    id: path.optional(),
    time: path.optional(),
  },
  "match and from",
);

const hmac = strict(
  {
    type: z.literal("hmac"),
    secret: text(),
    secretEncoding: z
      .enum(["utf8", "hex", "base64"], { error: 'must be "utf8", "hex" or "base64"' })
      .default("utf8"),
    header: headerName,
    algorithm: z.enum(["sha1", "sha256", "sha512"], {
      error: 'must be "sha1", "sha256" or "sha512"',
    }),
    encoding: z.enum(["hex", "base64"], { error: 'must be "hex" or "base64"' }),
    prefix: z.string({ error: "must be a string" }).default(""),
    signed: z
      .enum(["body", "url+body", "timestamp+body"], {
        error: 'must be "body", "url+body" or "timestamp+body"',
      })
      .default("body"),
    timestampHeader: headerName.default(""),
    separator: z.string({ error: "must be a string" }).default(""),
    toleranceSeconds: z
      .number({ error: "must be a number of seconds" })
      .int({ error: "must be a whole number of seconds" })
      .min(1, { error: "must be at least 1 second" })
      .max(MAX_TOLERANCE_SECONDS, { error: `must be at most ${MAX_TOLERANCE_SECONDS} seconds` })
      .default(300),
  },
  "type, secret, header, algorithm and encoding",
).superRefine((value, context) => {
  if (value.signed === "timestamp+body" && value.timestampHeader === "") {
    context.addIssue({
      code: "custom",
      path: ["timestampHeader"],
      message: 'is required when signed is "timestamp+body"',
    });
  }
});

const none = strict(
  {
    type: z.literal("none"),
    insecure: z.literal(true, {
      error: "must be true: without a signature anyone can opt numbers in or out",
    }),
  },
  "type and insecure",
);

const signature = z.discriminatedUnion("type", [hmac, none], {
  error: 'must have type "hmac", or "none" with insecure: true',
});

const response = strict(
  {
    status: z.number().int().min(200).max(299, { error: "must be a 2xx status" }).default(200),
    contentType: headerValue.default("text/plain; charset=utf-8"),
    body: z.string({ error: "must be a string" }).default(""),
  },
  "status, contentType or body",
);

const webhooks = strict(
  {
    format: z.enum(["json", "form"], { error: 'must be "json" or "form"' }).default("json"),
    internationalDigits: z.boolean({ error: "must be true or false" }).default(false),
    inbound: inbound.optional(),
    status: status.optional(),
    optOutReport: optOutReport.optional(),
    signature,
    response: response.default({
      status: 200,
      contentType: "text/plain; charset=utf-8",
      body: "",
    }),
  },
  "signature and the inbound or status mapping",
).superRefine((value, context) => {
  const { signature: signing, optOutReport: report } = value;

  // Only a signature over the URL covers the query, so under another mode anyone with one
  // signed request could add the marker to its URL and turn it into an opt-out report.
  if (report?.match.in === "query" && signing.type === "hmac" && signing.signed !== "url+body") {
    context.addIssue({
      code: "custom",
      path: ["optOutReport", "match", "in"],
      message:
        `is "query", but signature.signed is "${signing.signed}", which does not cover the ` +
        'query; set signature.signed to "url+body" or read the marker from the body',
    });
  }
});

/** The zod schema of {@link GenericProviderOptions}, with defaults and normalised keys. */
export const genericOptionsSchema = strict(
  {
    name: z
      .string({ error: "must be a string" })
      .regex(PROVIDER_NAME, {
        error: (issue) =>
          "must be 1 to 32 lowercase letters, digits and dashes, starting with a letter " +
          `(got ${quote(issue.input)})`,
      })
      .default("generic"),
    from: sender.optional(),
    send,
    webhooks,
    statuses: z
      .record(z.string(), deliveryStatus)
      .transform((table) => lowerKeys(table))
      .default({}),
    errorCodes: z.record(z.string(), reason).default({}),
    noErrorCodes: z.array(z.string({ error: "must be a string" })).default([]),
    dispatcher: z
      .custom<Dispatcher>(isDispatcher, {
        error: "must be an undici Dispatcher (Pool, Agent, MockAgent, ...)",
      })
      .optional(),
    clock: z
      .custom<() => number>((value) => typeof value === "function", {
        error: "must be a function returning milliseconds since the epoch",
      })
      .optional(),
  },
  "send and webhooks",
).superRefine((value, context) => {
  const hooks = value.webhooks;

  if (value.from !== undefined) {
    return;
  }

  if (hooks.inbound !== undefined && hooks.inbound.to === undefined) {
    context.addIssue({
      code: "custom",
      path: ["webhooks", "inbound", "to"],
      message: "is required unless from is set, because a message needs a recipient",
    });
  }

  if (hooks.optOutReport !== undefined && hooks.optOutReport.to === undefined) {
    context.addIssue({
      code: "custom",
      path: ["webhooks", "optOutReport", "to"],
      message: "is required unless from is set, because an opt-out needs a sender",
    });
  }
});

function lowerKeys<T>(table: Record<string, T>): Record<string, T> {
  return Object.fromEntries(
    Object.entries(table).map(([key, value]) => [key.toLowerCase(), value]),
  );
}

function isHttpUrl(value: string): boolean {
  if (!URL.canParse(value)) {
    return false;
  }

  const protocol = new URL(value).protocol;

  return protocol === "http:" || protocol === "https:";
}
