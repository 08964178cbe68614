import { createHash, randomBytes } from "node:crypto";
import { isWebhookParseError, WebhookParseError } from "../../src/errors.js";
import type {
  ConsentIntent,
  DeliveryReport,
  InboundMessage,
  ParsedWebhook,
  SenderIdentity,
  WebhookKind,
  WebhookRequest,
} from "../../src/provider.js";
import { genericErrorReason } from "./errors.js";
import { GenericFields, parseGenericTime } from "./fields.js";
import type {
  GenericIntentMapping,
  GenericOptOutReport,
  ResolvedGenericOptions,
} from "./options.js";
import { verifyGenericSignature } from "./signature.js";
import { mapGenericStatus } from "./status.js";

/**
 * Verifies a webhook with the configured HMAC scheme. A GET passes only under
 * `signed: "url+body"`, because its fields are in the query. With `signature.type` `none`
 * (which needs `insecure: true`) every request passes.
 *
 * @throws {WebhookVerificationError} `missing-signature`, `invalid-signature` or
 *   `stale-timestamp`.
 */
export function verifyGenericWebhook(options: ResolvedGenericOptions, request: WebhookRequest) {
  const { signature } = options.webhooks;

  if (signature.type === "hmac") {
    verifyGenericSignature(request, signature, options.clock());
  }
}

/**
 * Parses a webhook with the configured field mapping. On either route, a body that
 * matches `optOutReport` becomes an inbound message with empty text and
 * `providerIntent: "opt-out"`. Otherwise the `inbound` route reads a message and the
 * `status` route a delivery report.
 *
 * @throws {WebhookParseError} for a body that is not in the configured format, a route
 *   without a mapping, a missing id, sender or status, or a sender that is not valid. No
 *   other exception escapes, whatever the input.
 */
export function parseGenericWebhook(
  options: ResolvedGenericOptions,
  request: WebhookRequest,
  kind: WebhookKind,
): ParsedWebhook {
  try {
    const label = `${options.name} ${kind} webhook`;
    const fields = new GenericFields(request, options.webhooks.format, label);
    const report = options.webhooks.optOutReport;

    if (report !== undefined && matchesOptOutReport(fields, report)) {
      return { inbound: [readOptOutReport(options, fields, request, report)], reports: [] };
    }

    if (kind === "status") {
      return { inbound: [], reports: [readReport(options, fields)] };
    }

    return { inbound: [readInbound(options, fields, request)], reports: [] };
  } catch (error) {
    if (isWebhookParseError(error)) {
      throw error;
    }

    const detail = error instanceof Error ? error.message : String(error);

    throw new WebhookParseError(`${options.name} webhook could not be parsed: ${detail}`, {
      cause: error,
    });
  }
}

function matchesOptOutReport(fields: GenericFields, report: GenericOptOutReport): boolean {
  const { match } = report;
  const value = match.in === "query" ? fields.queryParam(match.field) : fields.text(match.field);

  return value?.trim().toLowerCase() === match.value.trim().toLowerCase();
}

function readInbound(
  options: ResolvedGenericOptions,
  fields: GenericFields,
  request: WebhookRequest,
): InboundMessage {
  const mapping = options.webhooks.inbound;

  if (mapping === undefined) {
    throw new WebhookParseError(
      `${options.name} has no webhooks.inbound mapping, so inbound webhooks cannot be read`,
    );
  }

  const { from, to } = readParties(options, fields, mapping.from, mapping.to);
  const receivedAt = new Date();

  return {
    provider: options.name,
    messageId:
      mapping.id === undefined ? deliveryId(request, receivedAt) : fields.require(mapping.id, "id"),
    from,
    to,
    text: fields.optionalScalar(mapping.text, "text") ?? "",
    receivedAt,
    providerTime: parseGenericTime(optionalText(fields, mapping.time)),
    media: [],
    providerIntent: readIntent(fields, mapping.intent),
    raw: fields.record,
  };
}

function readOptOutReport(
  options: ResolvedGenericOptions,
  fields: GenericFields,
  request: WebhookRequest,
  report: GenericOptOutReport,
): InboundMessage {
  const { from, to } = readParties(options, fields, report.from, report.to);
  const receivedAt = new Date();

  return {
    provider: options.name,
    messageId:
      report.id === undefined ? deliveryId(request, receivedAt) : fields.require(report.id, "id"),
    from,
    to,
    text: "",
    receivedAt,
    providerTime: parseGenericTime(optionalText(fields, report.time)),
    media: [],
    providerIntent: "opt-out",
    raw: fields.record,
  };
}

function readReport(options: ResolvedGenericOptions, fields: GenericFields): DeliveryReport {
  const mapping = options.webhooks.status;

  if (mapping === undefined) {
    throw new WebhookParseError(
      `${options.name} has no webhooks.status mapping, so status webhooks cannot be read`,
    );
  }

  const providerStatus = fields.require(mapping.status, "status");
  const errorCode = readErrorCode(options, fields, mapping.errorCode);
  const digits = options.webhooks.internationalDigits;
  const toText = optionalText(fields, mapping.to);
  const fromText = optionalText(fields, mapping.from);

  return {
    provider: options.name,
    messageId: fields.require(mapping.id, "id"),
    status: mapGenericStatus(options.statuses, providerStatus),
    providerStatus,
    errorCode,
    reason: errorCode === undefined ? undefined : genericErrorReason(options.errorCodes, errorCode),
    to: toText === undefined ? undefined : fields.sender(toText, mapping.to ?? "", digits),
    from: fromText === undefined ? undefined : fields.sender(fromText, mapping.from ?? "", digits),
    receivedAt: new Date(),
    providerTime: parseGenericTime(optionalText(fields, mapping.time)),
    raw: fields.record,
  };
}

function readErrorCode(
  options: ResolvedGenericOptions,
  fields: GenericFields,
  path: string | undefined,
): string | undefined {
  const code = optionalText(fields, path);

  return code === undefined || options.noErrorCodes.includes(code) ? undefined : code;
}

/**
 * Reads the sender and the receiving number. Without a `to` field the configured `from`
 * is the recipient, and option validation makes sure one of them exists.
 */
function readParties(
  options: ResolvedGenericOptions,
  fields: GenericFields,
  fromPath: string,
  toPath: string | undefined,
): { from: SenderIdentity; to: SenderIdentity } {
  const digits = options.webhooks.internationalDigits;
  const toText = optionalText(fields, toPath) ?? options.from;

  if (toText === undefined) {
    throw new WebhookParseError(`${options.name} webhook has no recipient at "${toPath}"`);
  }

  const fromText = fields.require(fromPath, "sender");
  const to = fields.sender(toText, toPath ?? "from", digits);
  const from = fields.sender(fromText, fromPath, digits, to.value);

  return { from, to };
}

function optionalText(fields: GenericFields, path: string | undefined): string | undefined {
  return path === undefined ? undefined : fields.text(path);
}

function readIntent(
  fields: GenericFields,
  mapping: GenericIntentMapping | undefined,
): ConsentIntent | undefined {
  const value = mapping === undefined ? undefined : fields.text(mapping.field)?.toLowerCase();

  if (mapping === undefined || value === undefined) {
    return undefined;
  }

  const lists: Array<[ConsentIntent, readonly string[] | undefined]> = [
    ["opt-out", mapping.optOut],
    ["opt-in", mapping.optIn],
    ["help", mapping.help],
  ];

  return lists.find(([, values]) => values?.some((item) => item.toLowerCase() === value))?.[0];
}

/**
 * Builds the message id of a mapping without `id`: `body:h` and a hash of the method, URL
 * and raw body, `:t` and the receipt time in milliseconds in base 36, and `:r` and 16
 * random hex digits. Each delivery gets a new id and is recorded, because nothing
 * distinguishes a redelivery from a repeated reply (STOP, START, STOP), and dropping that
 * second STOP would leave the number opted in. Each part starts with a letter, so that log
 * lines, which mask runs of 8 or more digits as phone numbers, show the id in full.
 */
function deliveryId(request: WebhookRequest, receivedAt: Date): string {
  const hash = createHash("sha256")
    .update(`${request.method}\n${request.url}\n`)
    .update(request.body)
    .digest("hex");

  const time = receivedAt.getTime().toString(36);

  return `body:h${hash.slice(0, 32)}:t${time}:r${randomBytes(8).toString("hex")}`;
}
