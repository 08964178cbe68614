/**
 * The default English keyword lists and opt-out phrases.
 *
 * Sources: 47 CFR 64.1200(a)(10) names stop, quit, end, revoke, opt out, cancel and unsubscribe
 * as revocation in themselves. CTIA's universal keywords are STOP, END, CANCEL, UNSUBSCRIBE and
 * QUIT, with HELP and INFO. Twilio's defaults add STOPALL, REVOKE and OPTOUT, Plivo's add UNSUB
 * and AWS's add REMOVE. Keywords are written in their canonical upper-case form; the
 * classifier folds spaced and hyphenated forms (`OPT-OUT`, `STOP ALL`) into them.
 */

/** Keywords that withdraw consent when they are the whole message. */
export const defaultOptOutKeywords: readonly string[] = Object.freeze([
  "STOP",
  "STOPALL",
  "UNSUBSCRIBE",
  "UNSUB",
  "CANCEL",
  "END",
  "QUIT",
  "REVOKE",
  "OPTOUT",
  "REMOVE",
]);

/** Keywords that give consent back when they are the whole message. */
export const defaultOptInKeywords: readonly string[] = Object.freeze(["START", "UNSTOP"]);

/**
 * Opt-in keywords used only with `yesIsOptIn`: Twilio treats YES as opt-in, but a "yes" is
 * more often the answer to a question than a request to resubscribe.
 */
export const yesOptInKeywords: readonly string[] = Object.freeze(["YES"]);

/** Keywords that ask for the program's help message and change no consent. */
export const defaultHelpKeywords: readonly string[] = Object.freeze(["HELP", "INFO"]);

/**
 * Words that may stand around a keyword without making it a sentence: "Stop please",
 * "Unsubscribe me", "STOP ALL NOW". Written folded (lower case).
 */
export const courtesyWords: readonly string[] = Object.freeze([
  "please",
  "pls",
  "plz",
  "thanks",
  "thank you",
  "thx",
  "ty",
  "me",
  "now",
  "all",
]);

/*
 * Opt-out phrases, as regular expression sources over normalised text: lower case, words
 * separated by one space, sentences by a newline, apostrophes kept inside words, and the
 * joined forms `optout` and `stopall`. A pattern never matches a newline, so it stays inside
 * one sentence. Each pattern starts with a fixed word and repeats nothing without bound
 * except the letters of one word, so matching stays linear in the text length.
 */

// NOTE: these phrases are a heuristic for English, checked only against the examples in
// the tests. A request worded otherwise is "ambiguous" if it holds a keyword, else "none".

/** Kinds of message a person may want to stop receiving. */
const messages =
  "(?:texts?|txts?|messages?|msgs?|sms|smses|reminders?|notifications?|alerts?|spam|" +
  "marketing|promotions?|promos?|updates|calls)";

/** `the`, `these`, `all the`, `any more of these`, `anymore`. */
const determiner =
  "(?:(?:any ?more|all|any)(?: of)?(?: (?:the|these|those|this|your|ur|my))?|" +
  "the|these|those|this|your|ur|my|such|more)";

/** Optional determiner, then an optional word such as "appointment", then the noun. */
const messageObject = `(?:${determiner} (?:[^ \\n]+ )?)?${messages}`;

/** `me`, `my number`, `this phone number`. */
const numberRef =
  "(?:my|this|the|our) (?:phone |cell |cellphone |mobile )?(?:number|no)|" +
  "my (?:details|info|contact info|contact details|data)";

const sendingVerbs =
  "(?:sending|texting|txting|text|txt|messaging|message|msging|msg|contacting|contact|" +
  "calling|call|emailing|email|spamming|spam|bothering|bother|pestering|harassing|" +
  "receiving|getting)";

const contactVerbs = "(?:contact|text|txt|message|msg|sms|call|email|spam|bother)";

/** One opt-out phrase: its pattern, and whether a preceding negation voids it. */
export interface PhraseRule {
  readonly pattern: string;
  /**
   * `true`: "don't", "never", "if", "why" and the like before it mean it is no request
   * ("don't stop the reminders"). `false`: the negation is the request itself
   * ("don't contact me again"), and only a preceding "if" or "why" voids it.
   */
  readonly negatable: boolean;
}

/** The default opt-out phrases: plain requests that a reasonable person reads as "stop". */
export const optOutPhraseRules: readonly PhraseRule[] = Object.freeze([
  // "stop sending text reminders", "stop texting me", "quit messaging"
  { pattern: `(?:stop|stopall|quit|cease) ${sendingVerbs}`, negatable: true },
  // "stop these texts", "stop all the appointment reminders"
  { pattern: `(?:stop|stopall|quit|cease|cancel) ${messageObject}`, negatable: true },
  // "how do I unsubscribe", "I want to opt out": words with no other meaning here
  { pattern: "(?:unsubscribe|unsub|optout)", negatable: true },
  { pattern: "opt (?:me|us|my number) out", negatable: true },
  // "I already unsubscribed": the person believes they are out
  { pattern: "(?:unsubscribed|opted out)", negatable: true },
  // "remove me from your list", "delete my number", "lose my number"
  { pattern: "(?:remove|delete|erase) (?:me|us)", negatable: true },
  {
    pattern: `(?:remove|delete|erase|lose|forget|drop|scrub|purge) (?:${numberRef})`,
    negatable: true,
  },
  // "take me off this list", "get my number off"
  { pattern: `(?:take|get|cross|strike) (?:me|us|${numberRef}) off`, negatable: true },
  { pattern: "(?:revoke|withdraw) (?:my |our )?(?:consent|permission)", negatable: true },
  // "no more texts", "I do not want any more of these appointment reminders"
  { pattern: `no more (?:[^ \\n]+ )?${messages}`, negatable: false },
  {
    pattern:
      "(?:don't|dont|do not|no longer) (?:want|wish|need|like) (?:to (?:receive|get) )?" +
      messageObject,
    negatable: false,
  },
  // "don't contact me again", "do not text this number", "never text me again"
  {
    pattern: `(?:don't|dont|do not|never)(?: ever)? ${contactVerbs} (?:me|us|${numberRef})(?! back)`,
    negatable: false,
  },
  { pattern: `(?:don't|dont|do not|never) send (?:me |us )?${messageObject}`, negatable: false },
]);

/**
 * Words that an opt-out phrase starts with: the first word of each alternative of a rule's
 * leading group, or the rule's first word. Phrases start at a word, so a message without
 * any of these words contains no phrase.
 */
export const phraseLeadWords: ReadonlySet<string> = new Set(
  optOutPhraseRules.flatMap((rule) => leadWordsOf(rule.pattern)),
);

function leadWordsOf(pattern: string): string[] {
  const group = /^\(\?:([^()]*)\)/.exec(pattern);
  const alternatives = group?.[1] === undefined ? [pattern] : group[1].split("|");

  return alternatives.map((alternative) => {
    const first = alternative.split(" ", 1)[0] ?? "";

    // A rule that starts otherwise would need its lead words listed by hand.
    if (!/^[a-z']+$/.test(first)) {
      throw new Error(`The phrase rule ${pattern} does not start with plain words`);
    }

    return first;
  });
}
