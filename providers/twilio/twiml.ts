import type { WebhookResponse } from "../../src/provider.js";

const XML_DECLARATION = '<?xml version="1.0" encoding="UTF-8"?>';

// Characters XML 1.0 forbids: controls other than tab, LF and CR, unpaired surrogates,
// U+FFFE and U+FFFF. With the `u` flag a valid surrogate pair is one code point and is kept.
const FORBIDDEN_XML_CHARACTERS = /[^\t\n\r\u0020-\uD7FF\uE000-\uFFFD\u{10000}-\u{10FFFF}]/gu;

const XML_ESCAPES: Readonly<Record<string, string>> = {
  "&": "&amp;",
  "<": "&lt;",
  ">": "&gt;",
  '"': "&quot;",
  "'": "&apos;",
  // XML parsers turn a literal CR into LF, so it is written as a character reference.
  "\r": "&#xD;",
};

/**
 * Builds the TwiML response to a Twilio webhook: `200`, `text/xml`, and either an empty
 * `<Response/>` or one `<Message>` that Twilio sends back to the person. An absent or empty
 * reply gives the empty document, which is also the response to status callbacks.
 *
 * @example
 * twimlResponse("You are unsubscribed").body;
 * // <?xml version="1.0" encoding="UTF-8"?><Response><Message>You are unsubscribed</Message></Response>
 */
export function twimlResponse(replyText?: string): WebhookResponse {
  const text = replyText === undefined ? "" : escapeXmlText(replyText);
  const document = text === "" ? "<Response/>" : `<Response><Message>${text}</Message></Response>`;

  return {
    status: 200,
    headers: { "content-type": "text/xml; charset=utf-8" },
    body: `${XML_DECLARATION}${document}`,
  };
}

/** Escapes text for XML element content and removes characters XML 1.0 forbids. */
export function escapeXmlText(text: string): string {
  return text
    .replace(FORBIDDEN_XML_CHARACTERS, "")
    .replace(/[&<>"'\r]/g, (char) => XML_ESCAPES[char] ?? char);
}
