import { describe, expect, it, test } from "vitest";
import { ConfigError } from "../src/errors.js";
import {
  classifyKeywords,
  courtesyWords,
  createKeywordClassifier,
  defaultHelpKeywords,
  defaultOptInKeywords,
  defaultOptOutKeywords,
  type KeywordOptions,
  normalizeKeywordText,
  yesOptInKeywords,
} from "../src/keywords/index.js";
import { phraseLeadWords } from "../src/keywords/lists.js";

const sam =
  "Hi, this is Sam from flat 2. I have already asked twice by phone and I really do not want " +
  "any more of these appointment reminders sent to this mobile, it is my work phone and my " +
  "employer can read it. Please take me off your list completely and do not text this number " +
  "again, not even for the yearly check-up. STOP";

function match(text: string, options?: KeywordOptions) {
  return classifyKeywords(text, options).match;
}

describe("classifyKeywords: exact opt-out", () => {
  test.each([
    ["Stop. Thank you", "STOP"],
    ["Stop.", "STOP"],
    ["STOP!!", "STOP"],
    ["  stop \n", "STOP"],
    ["Stop please", "STOP"],
    ["stop pls", "STOP"],
    ["ＳＴＯＰ", "STOP"],
    ["STOP 🛑", "STOP"],
    ["🛑 stop", "STOP"],
    ["STOP ALL", "STOPALL"],
    ["StopAll", "STOPALL"],
    ["Unsubscribe me", "UNSUBSCRIBE"],
  ])("%j is %s", (text, keyword) => {
    expect(classifyKeywords(text)).toEqual({ intent: "opt-out", match: "exact", keyword });
  });
});

describe("classifyKeywords: FCC and provider keywords", () => {
  test.each([
    ["REVOKE", "REVOKE"],
    ["revoke", "REVOKE"],
    ["OPTOUT", "OPTOUT"],
    ["opt out", "OPTOUT"],
    ["Opt-Out", "OPTOUT"],
    ["QUIT", "QUIT"],
    ["END", "END"],
    ["CANCEL", "CANCEL"],
    ["UNSUBSCRIBE", "UNSUBSCRIBE"],
    ["STOP", "STOP"],
    ["UNSUB", "UNSUB"],
    ["REMOVE", "REMOVE"],
    ["opt_out", "OPTOUT"],
    ["stop-all", "STOPALL"],
  ])("%j is %s", (text, keyword) => {
    expect(classifyKeywords(text)).toEqual({ intent: "opt-out", match: "exact", keyword });
  });

  test.each([
    "please stop sending text reminders",
    "remove me from your list",
    "take me off this list",
    "lose my number",
    "don't contact me again",
    "delete my number",
    "no more texts please",
    "stop texting me",
    "stop messaging me",
    "Stop sending me these texts!",
    "Please stop all the appointment reminders",
    "How do I unsubscribe?",
    "I want to opt out",
    "opt me out",
    "I already unsubscribed",
    "Do not text this number again",
    "never text me again",
    "don’t contact me again",
    "I revoke my consent",
    "I don't want any more messages",
    "no more messages",
    "get me off your list",
  ])("%j is a phrase", (text) => {
    expect(classifyKeywords(text)).toMatchObject({ intent: "opt-out", match: "phrase" });
  });

  it("reports the matched phrase", () => {
    expect(classifyKeywords("remove me from your list")).toEqual({
      intent: "opt-out",
      match: "phrase",
      keyword: "remove me",
    });
  });

  it("reports a keyword in a sentence in upper case", () => {
    expect(classifyKeywords("how do i unsubscribe").keyword).toBe("UNSUBSCRIBE");
  });
});

describe("classifyKeywords: several sentences", () => {
  it("finds STOP at the end of Sam's message", () => {
    expect(sam).toHaveLength(313);
    expect(classifyKeywords(sam)).toEqual({ intent: "opt-out", match: "exact", keyword: "STOP" });
  });

  it("finds Sam's request without the STOP", () => {
    const request = sam.slice(0, -" STOP".length);
    expect(classifyKeywords(request)).toMatchObject({ intent: "opt-out", match: "phrase" });
  });

  test.each([
    "Thanks for the reminder, see you at the check-up. STOP",
    "Stop. Thank you",
    "No, stop",
    "Ok. Stop!",
    "STOP\nSTOP",
    "I got your message.\nSTOP",
    // Vonage signs "&" and "=" as "_", but the text itself keeps them.
    "STOP & remove me, account=42",
  ])("%j is exact", (text) => {
    expect(classifyKeywords(text)).toMatchObject({ intent: "opt-out", match: "exact" });
  });

  test.each([
    "Thanks. Please stop sending text reminders.",
    "I moved away. Remove me from your list!",
    "Hello there. No more texts please",
  ])("%j is a phrase", (text) => {
    expect(classifyKeywords(text)).toMatchObject({ intent: "opt-out", match: "phrase" });
  });
});

describe("classifyKeywords: negated requests", () => {
  test.each([
    "don't stop the reminders",
    "do not stop sending",
    "never stop",
    "please don't stop texting me",
    "Don't stop sending me reminders, they help",
    "I don't want to unsubscribe",
    "Please do not remove me from the list",
    "Why did you stop sending reminders?",
    "I can't stop laughing",
    "if you stop sending these I will miss them",
  ])("%j is no opt-out", (text) => {
    const result = classifyKeywords(text);
    expect(["ambiguous", "none"]).toContain(result.match);
  });

  it("keeps a negated request for review", () => {
    expect(classifyKeywords("don't stop the reminders")).toEqual({
      intent: "opt-out",
      match: "ambiguous",
      keyword: "STOP",
    });
  });

  test.each(["if you don't text me back I'll worry", "don't text me back yet"])(
    "%j is no opt-out",
    (text) => {
      expect(classifyKeywords(text).match).toBe("none");
    },
  );
});

describe("classifyKeywords: ambiguous mentions", () => {
  test.each([
    ["When does the course start?", "opt-in", "START"],
    ["I can't stop laughing", "opt-out", "STOP"],
    ["the end of the road", "opt-out", "END"],
    ["Stop by tomorrow to pick it up", "opt-out", "STOP"],
    ["we have got to STOP this bill", "opt-out", "STOP"],
    ["Please cancel my appointment", "opt-out", "CANCEL"],
    ["STOP 12345", "opt-out", "STOP"],
    ["Can you help me with my booking", "help", "HELP"],
    ["Stop it", "opt-out", "STOP"],
  ])("%j mentions %s", (text, intent, keyword) => {
    expect(classifyKeywords(text)).toEqual({ intent, match: "ambiguous", keyword });
  });
});

describe("classifyKeywords: opt-in and help", () => {
  // Consent follows STOP, START and UNSTOP; the question about the course changes nothing.
  it("reads the CiviCRM sequence", () => {
    const sequence = ["STOP", "When does the course start?", "Start", "STOP", "unstop"];
    expect(sequence.map((text) => classifyKeywords(text))).toEqual([
      { intent: "opt-out", match: "exact", keyword: "STOP" },
      { intent: "opt-in", match: "ambiguous", keyword: "START" },
      { intent: "opt-in", match: "exact", keyword: "START" },
      { intent: "opt-out", match: "exact", keyword: "STOP" },
      { intent: "opt-in", match: "exact", keyword: "UNSTOP" },
    ]);
  });

  test.each([
    ["HELP", "help", "HELP"],
    ["info", "help", "INFO"],
    ["Help!", "help", "HELP"],
    ["help me please", "help", "HELP"],
    ["START", "opt-in", "START"],
    ["Start please", "opt-in", "START"],
    ["UNSTOP", "opt-in", "UNSTOP"],
  ])("%j is %s", (text, intent, keyword) => {
    expect(classifyKeywords(text)).toEqual({ intent, match: "exact", keyword });
  });

  it("ignores YES by default", () => {
    expect(classifyKeywords("YES")).toEqual({ intent: null, match: "none" });
  });

  it("reads YES with yesIsOptIn", () => {
    expect(classifyKeywords("Yes please", { yesIsOptIn: true })).toEqual({
      intent: "opt-in",
      match: "exact",
      keyword: "YES",
    });
  });

  it("reads no opt-in phrase", () => {
    expect(classifyKeywords("please start sending again").match).toBe("ambiguous");
  });
});

describe("classifyKeywords: conflicts", () => {
  test.each([
    "STOP START",
    "Start. Stop.",
    "unstop stop",
    "START, then remove me from your list",
    "help stop",
  ])("%j is an opt-out", (text) => {
    expect(classifyKeywords(text).intent).toBe("opt-out");
  });

  it("lets YES lose to STOP", () => {
    expect(classifyKeywords("yes stop", { yesIsOptIn: true })).toMatchObject({
      intent: "opt-out",
      match: "exact",
    });
  });

  it("lets a clear START beat a mention", () => {
    expect(classifyKeywords("I can't stop laughing. START")).toMatchObject({
      intent: "opt-in",
      match: "exact",
    });
  });
});

describe("classifyKeywords: edge cases", () => {
  test.each([
    ["empty text", ""],
    ["whitespace", " \n\t "],
    ["only emoji", "🛑👍🏽🇺🇸👨‍👩‍👧"],
    ["only punctuation", "?!..."],
    ["courtesy words only", "thank you"],
    ["a plain reply", "Thanks, see you Tuesday"],
    ["a number", "12345"],
    ["a lone thank", "thank"],
    ["spaced letters", "S T O P"],
  ])("%s is none", (_name, text) => {
    expect(classifyKeywords(text)).toEqual({ intent: null, match: "none" });
  });

  test.each([
    ["NUL bytes", "\u0000STOP\u0000"],
    ["a lone high surrogate", "\ud800STOP"],
    ["a lone low surrogate", "STOP\udc00"],
    ["bidi marks", "\u200fSTOP\u200e"],
    ["zero-width joiners", "\u200dSTOP\u200d"],
    ["variation selectors", "STOP\ufe0f"],
    ["a flag", "🇺🇸 STOP"],
    ["a ZWJ family", "STOP 👨‍👩‍👧"],
    ["a skin-tone emoji", "STOP ✋🏽"],
    ["mathematical bold", "𝐒𝐓𝐎𝐏"],
    ["circled letters", "Ⓢⓣⓞⓟ"],
    ["an accent", "stöp"],
    ["a CRLF", "STOP\r\n"],
    ["a tab", "\tSTOP\t"],
  ])("reads STOP with %s", (_name, text) => {
    expect(classifyKeywords(text)).toEqual({ intent: "opt-out", match: "exact", keyword: "STOP" });
  });

  it("does not fold Cyrillic look-alikes", () => {
    expect(classifyKeywords("ЅТОР").match).toBe("none");
  });

  it("reads a keyword beside another script", () => {
    expect(classifyKeywords("STOP стоп")).toEqual({
      intent: "opt-out",
      match: "ambiguous",
      keyword: "STOP",
    });
  });

  it("reads a non-string as none", () => {
    expect(classifyKeywords(undefined as unknown as string)).toEqual({
      intent: null,
      match: "none",
    });
  });

  it("finds STOP after 2,000 characters", () => {
    const text = `${"The weather is lovely today. ".repeat(80)}STOP`;
    expect(text.length).toBeGreaterThan(2000);
    expect(match(text)).toBe("exact");
  });

  test.each([
    ["one long word", "a".repeat(200_000)],
    ["many clauses", "a\n".repeat(100_000)],
    ["many spaces", `${" ".repeat(200_000)}stop`],
    ["repeated negations", `${"do not ".repeat(30_000)}stop sending`],
    ["repeated determiners", `stop ${"any more of ".repeat(20_000)}texts`],
    ["repeated voided phrases", "don't stop sending ".repeat(10_000)],
  ])("stays linear on %s", (_name, text) => {
    const started = performance.now();
    classifyKeywords(text);
    expect(performance.now() - started).toBeLessThan(1000);
  });
});

describe("classifyKeywords: extra keywords", () => {
  const options: KeywordOptions = {
    optOut: ["ARRET", "Hold Off", "arrêt"],
    optIn: ["SUBSCRIBE", "stop"],
    help: ["AIDE"],
  };

  test.each([
    ["ARRET", "opt-out", "ARRET"],
    ["Arrêt !", "opt-out", "ARRET"],
    ["hold off", "opt-out", "HOLD OFF"],
    ["Hold-off!", "opt-out", "HOLD OFF"],
    ["SUBSCRIBE", "opt-in", "SUBSCRIBE"],
    ["aide", "help", "AIDE"],
    ["STOP", "opt-out", "STOP"],
  ])("%j is %s", (text, intent, keyword) => {
    expect(classifyKeywords(text, options)).toEqual({ intent, match: "exact", keyword });
  });

  it("finds a multi-word keyword in a sentence", () => {
    expect(classifyKeywords("can you hold off until june", options)).toMatchObject({
      intent: "opt-out",
      match: "ambiguous",
    });
  });

  it("keeps the defaults without options", () => {
    expect(classifyKeywords("ARRET")).toEqual({ intent: null, match: "none" });
  });

  it("notices a replaced list", () => {
    const changing: KeywordOptions = { optOut: ["ALPHA"] };
    expect(classifyKeywords("alpha", changing).intent).toBe("opt-out");
    changing.optOut = ["BETA"];
    expect(classifyKeywords("alpha", changing).intent).toBeNull();
    expect(classifyKeywords("beta", changing).intent).toBe("opt-out");
  });

  test.each([
    ["an emoji-only keyword", { optOut: ["🛑"] }, /optOut\[0\]/],
    ["an empty keyword", { help: ["ok", ""] }, /help\[1\]/],
    ["a non-string keyword", { optIn: [42 as unknown as string] }, /optIn\[0\]/],
    ["a non-array list", { optOut: "STOP" as unknown as string[] }, /optOut/],
  ])("rejects %s", (_name, bad, path) => {
    const run = () => classifyKeywords("STOP", bad);
    expect(run).toThrow(ConfigError);
    expect(run).toThrow(path);
  });

  it("compiles once in a classifier", () => {
    const classify = createKeywordClassifier({ optOut: ["ARRET"], yesIsOptIn: true });
    expect(classify("arret").intent).toBe("opt-out");
    expect(classify("yes").intent).toBe("opt-in");
    expect(classify("stop").intent).toBe("opt-out");
  });
});

describe("normalizeKeywordText", () => {
  test.each([
    ["  STOP!! ", "stop"],
    ["Opt-Out", "optout"],
    ["OPT OUT", "optout"],
    ["OPTOUT", "optout"],
    ["STOP ALL", "stopall"],
    ["StopAll", "stopall"],
    ["Stop. Thank you", "stop thank you"],
    ["ＳＴＯＰ 🛑 please", "stop please"],
    ["Don’t   stop", "don't stop"],
    ["'quoted'", "quoted"],
    ["Arrêt", "arret"],
    ["", ""],
    ["🛑", ""],
    ["stop all-the way", "stopall the way"],
    ["opt outside", "opt outside"],
  ])("%j becomes %j", (text, expected) => {
    expect(normalizeKeywordText(text)).toBe(expected);
  });
});

describe("keyword lists", () => {
  it("holds the FCC words", () => {
    for (const word of ["STOP", "QUIT", "END", "REVOKE", "OPTOUT", "CANCEL", "UNSUBSCRIBE"]) {
      expect(defaultOptOutKeywords).toContain(word);
    }
  });

  it("holds Twilio's defaults", () => {
    expect(defaultOptOutKeywords).toEqual(expect.arrayContaining(["STOPALL", "UNSUB", "REMOVE"]));
    expect(defaultOptInKeywords).toEqual(["START", "UNSTOP"]);
    expect(yesOptInKeywords).toEqual(["YES"]);
    expect(defaultHelpKeywords).toEqual(["HELP", "INFO"]);
  });

  test.each([
    ["opt-out", defaultOptOutKeywords],
    ["opt-in", defaultOptInKeywords],
    ["yes", yesOptInKeywords],
    ["help", defaultHelpKeywords],
    ["courtesy", courtesyWords],
  ])("freezes the %s list", (_name, list) => {
    expect(Object.isFrozen(list)).toBe(true);
  });

  test.each(defaultOptOutKeywords.map((word) => [word]))("%s alone opts out", (word) => {
    expect(classifyKeywords(word.toLowerCase())).toMatchObject({
      intent: "opt-out",
      match: "exact",
    });
  });
});

describe("phraseLeadWords", () => {
  it("lists the first word of every phrase rule", () => {
    const expected = ["stop", "stopall", "quit", "cease", "cancel", "unsubscribe", "unsub"];
    const more = ["optout", "opt", "unsubscribed", "opted", "remove", "delete", "erase"];
    const rest = ["lose", "forget", "drop", "scrub", "purge", "take", "get", "cross"];
    const last = ["strike", "revoke", "withdraw", "no", "don't", "dont", "do", "never"];

    expect([...phraseLeadWords].sort()).toEqual([...expected, ...more, ...rest, ...last].sort());
  });

  it.each([
    ["lose my number", "lose my number"],
    ["please cancel these reminders", "cancel these reminders"],
    ["I no longer want these texts", "no longer want these texts"],
  ])("phrase after other words: %s", (text, keyword) => {
    expect(classifyKeywords(text)).toEqual({ intent: "opt-out", match: "phrase", keyword });
  });
});
