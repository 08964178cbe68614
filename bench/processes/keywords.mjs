/**
 * Keyword classification, measured in a child process: smsgate's `classifyKeywords` with
 * the gateway's default options against a plain `Set.has()` on the trimmed, upper-cased
 * text, over short replies of the kinds the keyword tests cover and generated chat.
 */

import {
  classifyKeywords,
  defaultHelpKeywords,
  defaultOptInKeywords,
  defaultOptOutKeywords,
} from "smsgate";
import { createRandom, pick } from "../lib/data.mjs";
import { serveRequests } from "../lib/processes.mjs";
import { measureRate, repeatAlternating } from "../lib/stats.mjs";

// Replies of the kinds test/keywords.test.ts classifies: keywords with courtesy words,
// Unicode variants, phrases, negations, mentions inside questions, conflicts and chat.
const exampleReplies = [
  "Stop. Thank you",
  "Stop.",
  "STOP!!",
  "  stop \n",
  "Stop please",
  "stop pls",
  "ＳＴＯＰ",
  "STOP 🛑",
  "🛑 stop",
  "STOP ALL",
  "StopAll",
  "Unsubscribe me",
  "REVOKE",
  "opt out",
  "Opt-Out",
  "QUIT",
  "END",
  "CANCEL",
  "UNSUB",
  "REMOVE",
  "stop-all",
  "please stop sending text reminders",
  "remove me from your list",
  "take me off this list",
  "lose my number",
  "don't contact me again",
  "no more texts please",
  "Stop sending me these texts!",
  "How do I unsubscribe?",
  "I want to opt out",
  "I already unsubscribed",
  "Do not text this number again",
  "never text me again",
  "don’t contact me again",
  "I revoke my consent",
  "get me off your list",
  "Thanks for the reminder, see you at the check-up. STOP",
  "No, stop",
  "Ok. Stop!",
  "I got your message.\nSTOP",
  "STOP & remove me, account=42",
  "I moved away. Remove me from your list!",
  "don't stop the reminders",
  "never stop",
  "I don't want to unsubscribe",
  "Why did you stop sending reminders?",
  "I can't stop laughing",
  "if you stop sending these I will miss them",
  "When does the course start?",
  "the end of the road",
  "Stop by tomorrow to pick it up",
  "Please cancel my appointment",
  "STOP 12345",
  "Can you help me with my booking",
  "Stop it",
  "HELP",
  "info",
  "Help!",
  "help me please",
  "START",
  "Start please",
  "UNSTOP",
  "YES",
  "please start sending again",
  "STOP START",
  "Start. Stop.",
  "help stop",
  "thank you",
  "Thanks, see you Tuesday",
  "12345",
  "S T O P",
  "\u200fSTOP\u200e",
  "STOP\ufe0f",
  "🇺🇸 STOP",
  "𝐒𝐓𝐎𝐏",
  "stöp",
  "STOP\r\n",
  "ЅТОР",
  "STOP стоп",
];

const openers = ["", "", "", "Hi, ", "Hello! ", "Hey ", "Ok ", "Sure, ", "Thanks! "];
const bodies = [
  "see you tomorrow",
  "what time is my appointment?",
  "can I move it to 3pm",
  "yes",
  "no",
  "ok",
  "thanks",
  "running 10 min late",
  "is the office open on saturday?",
  "confirmed",
  "I'll be there",
  "who is this?",
  "wrong number",
  "call me back please",
  "👍",
  "how much does it cost",
  "stop",
  "STOP",
  "Stop please",
  "start",
  "help",
  "please remove me from this list",
];
const closers = ["", "", "", "!", ".", "?", " 🙂", " thanks", " - Anna"];

/** Generates `count` replies from greetings, bodies and sign-offs with a fixed seed. */
function generateReplies(count) {
  const random = createRandom(17);
  const replies = [];

  for (let index = 0; index < count; index += 1) {
    replies.push(`${pick(random, openers)}${pick(random, bodies)}${pick(random, closers)}`);
  }

  return replies;
}

const keywordSet = new Set(
  [...defaultOptOutKeywords, ...defaultOptInKeywords, ...defaultHelpKeywords].map((keyword) =>
    keyword.toUpperCase(),
  ),
);

// The gateway's default keyword options after validation.
const gatewayKeywordOptions = {};

const variants = {
  smsgate: (text) => classifyKeywords(text, gatewayKeywordOptions),
  baseline: (text) => keywordSet.has(text.trim().toUpperCase()),
};

async function run(settings) {
  const corpus = [...exampleReplies, ...generateReplies(settings.generatedReplies)];
  const measure = (name, durationMs) => {
    const classify = variants[name];

    return measureRate((index) => classify(corpus[index % corpus.length]), durationMs);
  };

  measure("smsgate", settings.warmupMs);
  measure("baseline", settings.warmupMs);

  const rates = await repeatAlternating(Object.keys(variants), settings.repetitions, (name) =>
    measure(name, settings.measureMs),
  );

  return { rates, corpusSize: corpus.length, examples: exampleReplies.length };
}

serveRequests({ run });
