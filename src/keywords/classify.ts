import { ConfigError } from "../errors.js";
import type { ConsentIntent } from "../provider.js";
import {
  courtesyWords,
  defaultHelpKeywords,
  defaultOptInKeywords,
  defaultOptOutKeywords,
  optOutPhraseRules,
  phraseLeadWords,
  yesOptInKeywords,
} from "./lists.js";
import { normalizeClauses, normalizeKeywordText } from "./normalize.js";

/** Keyword classifier settings. Extra keywords are added to the defaults. */
export interface KeywordOptions {
  /**
   * Read YES as opt-in, as Twilio does. Off by default, because a "yes" usually answers a
   * question.
   * @default false
   */
  yesIsOptIn?: boolean | undefined;
  /**
   * Extra opt-out keywords, matched like the defaults. A keyword of several words acts only
   * as a whole clause, and is reported for review inside a sentence. Options are compiled
   * once per options object; replace a list rather than editing it in place.
   * @example ["STOP MARKETING", "ARRET"]
   */
  optOut?: readonly string[] | undefined;
  /** Extra opt-in keywords. */
  optIn?: readonly string[] | undefined;
  /** Extra help keywords. */
  help?: readonly string[] | undefined;
}

/**
 * How a message reads.
 * - `exact`: a clause is a keyword alone, or with courtesy words or emoji around it;
 * - `phrase`: a clause is a plain opt-out request ("remove me from your list");
 * - `ambiguous`: a keyword appears inside an ordinary sentence ("when does the course
 *   start?"). The caller changes no consent and reports it for review;
 * - `none`: nothing to act on.
 *
 * `exact` and `phrase` act, and `intent` is the action. Results may be shared between calls:
 * treat them as read-only.
 */
export interface KeywordClassification {
  intent: ConsentIntent | null;
  match: "exact" | "phrase" | "ambiguous" | "none";
  /** The keyword (canonical upper case, `STOP`) or the phrase as normalised (`remove me`). */
  keyword?: string | undefined;
}

/** A keyword with its intent and the two results it can give, built once. */
interface Keyword {
  intent: ConsentIntent;
  rank: number;
  exact: KeywordClassification;
  ambiguous: KeywordClassification;
}

/** The roles of one word: keyword, courtesy word, first word of an opt-out phrase. */
interface WordRole {
  keyword: Keyword | undefined;
  courteous: boolean;
  phraseLead: boolean;
}

interface Compiled {
  keywords: Map<string, Keyword>;
  /** The role of every word that has one, so that each word of a message is looked up once. */
  words: Map<string, WordRole>;
  /** Keywords of several words, with the pattern that finds one inside a sentence. */
  multiWord: readonly [RegExp, Keyword][];
  /** The options this was built from, to notice a changed options object. */
  source: KeywordOptions;
}

const none: KeywordClassification = Object.freeze({ intent: null, match: "none" });

/** Opt-out beats opt-in beats help, so a conflicting message never opts anyone in. */
const ranks: Record<ConsentIntent, number> = { "opt-out": 3, "opt-in": 2, help: 1 };

const courtesy = new Set(courtesyWords.filter((courtesyWord) => !courtesyWord.includes(" ")));

const wordStart = "(?<![^ \\n])";
const wordEnd = "(?![^ \\n])";

/** Every opt-out phrase in one expression; group `i + 1` is rule `i`. */
const phrases = new RegExp(
  `${wordStart}(?:${optOutPhraseRules.map((rule) => `(${rule.pattern})`).join("|")})${wordEnd}`,
  "g",
);

const negations =
  "don't|dont|do not|did not|didn't|didnt|does not|doesn't|doesnt|never|not|can't|cant|" +
  "cannot|won't|wont|shouldn't|shouldnt|wouldn't|wouldnt|no need to|did";
const conditions = "if|why|unless";
const fillers =
  "ever|you|u|i|we|they|want|wanna|to|please|pls|need|ask|asked|tell|told|them|really|just|even";

/** "don't ", "never ", "do not want you to ": what voids a negatable phrase after it. */
const negatedTail = new RegExp(`(?:^| )(?:${negations}|${conditions})(?: (?:${fillers}))* $`);

/** "if ", "why ": what voids any phrase after it. */
const conditionalTail = new RegExp(`(?:^| )(?:${conditions})(?: (?:${fillers}))* $`);

/** How far before a phrase a negation is looked for. */
const tailLength = 60;

const defaults = compile({}, false);
const defaultsWithYes = compile({}, true);
const compiledOptions = new WeakMap<KeywordOptions, Compiled>();

/**
 * Classifies a reply as opt-out, opt-in or help, with how sure the reading is (`match`).
 * Opt-out wins over opt-in when a message holds both. Runs in time linear in the text.
 *
 * @throws ConfigError when an extra keyword in `options` is not text or has no letters.
 * @example classifyKeywords("Stop. Thank you") // { intent: "opt-out", match: "exact", keyword: "STOP" }
 */
export function classifyKeywords(text: string, options?: KeywordOptions): KeywordClassification {
  return classifyWith(text, compiledFor(options));
}

/**
 * Builds a classifier with its options checked and compiled once, for callers that classify
 * many messages with the same settings.
 *
 * @throws ConfigError when an extra keyword is not text or has no letters.
 */
export function createKeywordClassifier(
  options?: KeywordOptions,
): (text: string) => KeywordClassification {
  const compiled = compiledFor(options);
  return (text) => classifyWith(text, compiled);
}

function classifyWith(text: string, compiled: Compiled): KeywordClassification {
  const normalized = normalizeClauses(text);
  if (normalized === "") {
    return none;
  }

  // A reply that is one keyword is the common case, and needs nothing else.
  const whole = compiled.keywords.get(normalized);
  if (whole) {
    return whole.exact;
  }

  return classifyClauses(normalized, compiled);
}

function classifyClauses(normalized: string, compiled: Compiled): KeywordClassification {
  const clauses = readClauses(normalized, compiled);

  if (clauses.exact?.intent === "opt-out") {
    return clauses.exact.exact;
  }

  // The phrase expression is the costliest step, and most messages have no word it starts with.
  const phrase = clauses.phraseLead ? findPhrase(normalized) : {};
  if (phrase.keyword) {
    return { intent: "opt-out", match: "phrase", keyword: phrase.keyword };
  }

  if (clauses.exact) {
    return clauses.exact.exact;
  }

  const mentioned = stronger(clauses.mentioned, mentionedMultiWord(normalized, compiled));
  if (mentioned) {
    return mentioned.ambiguous;
  }

  return phrase.voided ? { intent: "opt-out", match: "ambiguous", keyword: phrase.voided } : none;
}

/** Result of reading the clauses: the strongest keyword a clause is, and the strongest mentioned. */
interface ClauseReading {
  exact: Keyword | undefined;
  mentioned: Keyword | undefined;
  /** Whether a word is one that an opt-out phrase starts with. */
  phraseLead: boolean;
}

/**
 * Reads every clause in one pass over the words. A clause is a keyword when its words are
 * keywords and courtesy words only; "thank" counts as courtesy only before "you".
 */
function readClauses(text: string, compiled: Compiled): ClauseReading {
  const reading: ClauseReading = { exact: undefined, mentioned: undefined, phraseLead: false };
  let found: Keyword | undefined;
  let alone = true;
  let thank = false;
  let clauseStart = 0;
  let index = 0;
  let space = text.indexOf(" ");
  let newline = text.indexOf("\n");

  for (;;) {
    if (space !== -1 && space < index) {
      space = text.indexOf(" ", index);
    }
    if (newline !== -1 && newline < index) {
      newline = text.indexOf("\n", index);
    }

    const clauseEnd = newline === -1 ? text.length : newline;
    const end = space !== -1 && space < clauseEnd ? space : clauseEnd;
    const token = text.slice(index, end);
    const role = compiled.words.get(token);
    const keyword = role?.keyword;

    reading.phraseLead ||= role?.phraseLead === true;

    const courteous = role?.courteous === true || token === "thank" || (thank && token === "you");

    if (keyword) {
      found = stronger(found, keyword);
    } else if (!courteous) {
      alone = false;
    }
    if (thank && token !== "you") {
      alone = false;
    }
    thank = token === "thank" && !keyword;

    if (end === clauseEnd) {
      const clause = alone && !thank ? found : clauseKeyword(text, clauseStart, end, compiled);
      reading.exact = stronger(reading.exact, clause);
      reading.mentioned = stronger(reading.mentioned, found ?? clause);
      found = undefined;
      alone = true;
      thank = false;
      clauseStart = end + 1;
    }

    if (end === text.length) {
      return reading;
    }
    index = end + 1;
  }
}

/** Looks up a clause that is exactly one multi-word keyword ("stop marketing"). */
function clauseKeyword(text: string, start: number, end: number, compiled: Compiled) {
  if (compiled.multiWord.length === 0) {
    return undefined;
  }

  return compiled.keywords.get(text.slice(start, end));
}

/** Finds the first opt-out phrase that no negation voids, and the first one that a negation voids. */
function findPhrase(text: string): { keyword?: string; voided?: string } {
  let voided: string | undefined;
  phrases.lastIndex = 0;

  for (let match = phrases.exec(text); match !== null; match = phrases.exec(text)) {
    const rule = optOutPhraseRules[match.findIndex((group, i) => i > 0 && group !== undefined) - 1];
    const tail = rule?.negatable === false ? conditionalTail : negatedTail;

    if (!tail.test(textBefore(text, match.index))) {
      return { keyword: phraseKeyword(match[0]) };
    }
    voided ??= phraseKeyword(match[0]);
  }

  return voided === undefined ? {} : { voided };
}

/** Formats a matched phrase; a keyword inside a sentence (`unsubscribe`) is upper-cased. */
function phraseKeyword(phrase: string): string {
  return defaults.keywords.has(phrase) ? phrase.toUpperCase() : phrase;
}

/** Returns up to {@link tailLength} characters of the clause before `index`, from a word start. */
function textBefore(text: string, index: number): string {
  const from = Math.max(0, index - tailLength);
  let window = text.slice(from, index);
  const clauseStart = window.lastIndexOf("\n") + 1;

  if (clauseStart > 0) {
    window = window.slice(clauseStart);
  } else if (from > 0 && text[from - 1] !== " " && text[from - 1] !== "\n") {
    window = window.slice(window.indexOf(" ") + 1);
  }

  return window;
}

function mentionedMultiWord(text: string, compiled: Compiled): Keyword | undefined {
  let found: Keyword | undefined;
  for (const [pattern, keyword] of compiled.multiWord) {
    if (pattern.test(text)) {
      found = stronger(found, keyword);
    }
  }

  return found;
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}

function stronger(a: Keyword | undefined, b: Keyword | undefined): Keyword | undefined {
  if (!a) {
    return b;
  }

  return b && b.rank > a.rank ? b : a;
}

function compiledFor(options: KeywordOptions | undefined): Compiled {
  if (!options || (!options.optOut && !options.optIn && !options.help)) {
    return options?.yesIsOptIn ? defaultsWithYes : defaults;
  }

  const cached = compiledOptions.get(options);
  if (cached && sameOptions(cached.source, options)) {
    return cached;
  }

  const compiled = compile(options, options.yesIsOptIn === true);
  compiledOptions.set(options, compiled);

  return compiled;
}

function compile(options: KeywordOptions, yesIsOptIn: boolean): Compiled {
  const keywords = new Map<string, Keyword>();
  const add = (intent: ConsentIntent, list: readonly string[] | undefined, path: string) => {
    list?.forEach((entry, i) => {
      const folded = foldKeyword(entry, `${path}[${i}]`);
      const existing = keywords.get(folded);
      if (!existing || ranks[intent] > existing.rank) {
        keywords.set(folded, keyword(intent, folded.toUpperCase()));
      }
    });
  };

  add("help", defaultHelpKeywords, "help");
  add("help", checkList(options.help, "help"), "help");
  add("opt-in", defaultOptInKeywords, "optIn");
  add("opt-in", yesIsOptIn ? yesOptInKeywords : undefined, "optIn");
  add("opt-in", checkList(options.optIn, "optIn"), "optIn");
  add("opt-out", defaultOptOutKeywords, "optOut");
  add("opt-out", checkList(options.optOut, "optOut"), "optOut");

  const multiWord = [...keywords]
    .filter(([folded]) => folded.includes(" "))
    .map(([folded, entry]): [RegExp, Keyword] => [
      new RegExp(`${wordStart}${escapeRegExp(folded)}${wordEnd}`),
      entry,
    ]);
  const { optOut, optIn, help } = options;

  return {
    keywords,
    words: wordRoles(keywords),
    multiWord,
    source: { yesIsOptIn, optOut, optIn, help },
  };
}

function wordRoles(keywords: ReadonlyMap<string, Keyword>): Map<string, WordRole> {
  const roles = new Map<string, WordRole>();
  const roleOf = (word: string): WordRole => {
    let role = roles.get(word);

    if (role === undefined) {
      role = { keyword: undefined, courteous: false, phraseLead: false };
      roles.set(word, role);
    }

    return role;
  };

  for (const [word, entry] of keywords) {
    roleOf(word).keyword = entry;
  }

  for (const word of courtesy) {
    roleOf(word).courteous = true;
  }

  for (const word of phraseLeadWords) {
    roleOf(word).phraseLead = true;
  }

  return roles;
}

function sameOptions(a: KeywordOptions, b: KeywordOptions): boolean {
  return (
    a.yesIsOptIn === (b.yesIsOptIn === true) &&
    a.optOut === b.optOut &&
    a.optIn === b.optIn &&
    a.help === b.help
  );
}

function checkList(list: unknown, path: string): readonly string[] | undefined {
  if (list === undefined || Array.isArray(list)) {
    return list;
  }

  throw new ConfigError(path, "expected an array of keywords");
}

function foldKeyword(entry: unknown, path: string): string {
  const folded = typeof entry === "string" ? normalizeKeywordText(entry) : "";
  if (folded === "") {
    throw new ConfigError(path, "a keyword must be text with at least one letter or digit");
  }

  return folded;
}

function keyword(intent: ConsentIntent, canonical: string): Keyword {
  return {
    intent,
    rank: ranks[intent],
    exact: Object.freeze({ intent, match: "exact", keyword: canonical }),
    ambiguous: Object.freeze({ intent, match: "ambiguous", keyword: canonical }),
  };
}
