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

/** A reply Plivo sends back to the person who wrote in. */
export interface PlivoXmlReply {
  text: string;
  /** The Plivo number that received the message, as international digits. */
  src: string;
  /** The person to reply to, as international digits. */
  dst: string;
}

/**
 * Builds the response to a Plivo webhook: `200`, `application/xml`, and either an empty
 * `<Response/>` or one `<Message>` that Plivo sends to `dst`. An absent reply or an empty
 * text gives the empty document, which is also the response to status callbacks.
 *
 * @example
 * plivoXmlResponse({ text: "You are unsubscribed", src: "14155550199", dst: "14155550100" });
 * // body: <?xml ...?><Response><Message src="14155550199" dst="14155550100" type="sms">
 * //   You are unsubscribed</Message></Response>
 */
export function plivoXmlResponse(reply?: PlivoXmlReply): WebhookResponse {
  const text = reply === undefined ? "" : escapePlivoXml(reply.text);
  const document =
    reply === undefined || text === ""
      ? "<Response/>"
      : `<Response>${messageElement(reply, text)}</Response>`;

  return {
    status: 200,
    headers: { "content-type": "application/xml; charset=utf-8" },
    body: `${XML_DECLARATION}${document}`,
  };
}

function messageElement(reply: PlivoXmlReply, text: string): string {
  const src = escapePlivoXml(reply.src);
  const dst = escapePlivoXml(reply.dst);

  return `<Message src="${src}" dst="${dst}" type="sms">${text}</Message>`;
}

/** Escapes text for XML content or attributes and removes characters XML 1.0 forbids. */
export function escapePlivoXml(text: string): string {
  return text
    .replace(FORBIDDEN_XML_CHARACTERS, "")
    .replace(/[&<>"'\r]/g, (char) => XML_ESCAPES[char] ?? char);
}
