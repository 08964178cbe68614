/**
 * Phone normalisation, measured in a child process: smsgate's `normalizePhoneNumber`
 * (NFKC, invisible characters, other scripts' digits, extensions, `tel:` URIs, then
 * libphonenumber-js with full metadata) against libphonenumber-js `parsePhoneNumberFromString` plus
 * `isValid()` on the same inputs and regions.
 */

import { parsePhoneNumberFromString } from "libphonenumber-js/max";
import { normalizePhoneNumber } from "smsgate";
import { createRandom, pick, validUsNumbers } from "../lib/data.mjs";
import { serveRequests } from "../lib/processes.mjs";
import { measureRate, repeatAlternating } from "../lib/stats.mjs";

// Valid numbers of other countries, in international format.
const international = [
  "+44 20 7946 0958",
  "+44 7400 123456",
  "+49 30 901820",
  "+49 1512 3456789",
  "+33 1 42 68 53 00",
  "+33 6 12 34 56 78",
  "+91 98765 43210",
  "+55 11 91234 5678",
  "+81 3 1234 5678",
  "+61 412 345 678",
];

const invalid = ["12345", "+1 555", "call me", "+999 1234 5678", "202-555", "+1 (000) 000-0000"];

const arabicIndic = "٠١٢٣٤٥٦٧٨٩";

function toFullWidth(text) {
  return text.replace(/[0-9+]/g, (char) =>
    String.fromCharCode(char === "+" ? 0xff0b : 0xff10 + Number(char)),
  );
}

function toArabicIndic(text) {
  return text.replace(/[0-9]/g, (digit) => arabicIndic[Number(digit)]);
}

/** Writes one US number the ways people and systems write it; each returns [text, region]. */
const usForms = [
  (n) => [n, undefined],
  (n) => [`(${n.slice(2, 5)}) ${n.slice(5, 8)}-${n.slice(8)}`, "US"],
  (n) => [`${n.slice(2, 5)}.${n.slice(5, 8)}.${n.slice(8)}`, "US"],
  (n) => [`+1 ${n.slice(2, 5)}-${n.slice(5, 8)}-${n.slice(8)}`, undefined],
  (n) => [`${n.slice(2, 5)}-${n.slice(5, 8)}-${n.slice(8)} ext. 12`, "US"],
  (n) => [`+1 ${n.slice(2, 5)} ${n.slice(5, 8)} ${n.slice(8)} x7`, undefined],
  (n) => [`tel:+1-${n.slice(2, 5)}-${n.slice(5, 8)}-${n.slice(8)};ext=9`, undefined],
  (n) => [toFullWidth(`+1 (${n.slice(2, 5)}) ${n.slice(5, 8)}-${n.slice(8)}`), undefined],
  (n) => [`+${toArabicIndic(n.slice(1))}`, undefined],
  (n) => [`\u200e${n}\u200f`, undefined],
  (n) => [`011 1 ${n.slice(2)}`, "US"],
];

/**
 * Builds the mixed corpus: about 75% US numbers in the forms above, 15% other countries
 * and 10% invalid input, as [text, region] pairs.
 */
function buildCorpus(size) {
  const random = createRandom(3);
  const numbers = validUsNumbers(Math.max(100, Math.floor(size / 4)), 5);
  const corpus = [];

  for (let index = 0; index < size; index += 1) {
    const roll = random();

    if (roll < 0.75) {
      corpus.push(pick(random, usForms)(pick(random, numbers)));
    } else if (roll < 0.9) {
      corpus.push([pick(random, international), undefined]);
    } else {
      corpus.push([pick(random, invalid), "US"]);
    }
  }

  return corpus;
}

function smsgateValid(text, region) {
  try {
    normalizePhoneNumber(text, { defaultRegion: region });
    return true;
  } catch {
    return false;
  }
}

function baselineValid(text, region) {
  return parsePhoneNumberFromString(text, { defaultCountry: region })?.isValid() === true;
}

const variants = { smsgate: smsgateValid, baseline: baselineValid };

async function run(settings) {
  const corpus = buildCorpus(settings.phoneCorpus);
  const validCounts = {
    smsgate: corpus.filter(([text, region]) => smsgateValid(text, region)).length,
    baseline: corpus.filter(([text, region]) => baselineValid(text, region)).length,
  };
  const measure = (name, durationMs) => {
    const check = variants[name];

    return measureRate((index) => {
      const [text, region] = corpus[index % corpus.length];

      return check(text, region);
    }, durationMs);
  };

  measure("smsgate", settings.warmupMs);
  measure("baseline", settings.warmupMs);

  const rates = await repeatAlternating(Object.keys(variants), settings.repetitions, (name) =>
    measure(name, settings.measureMs),
  );

  return { rates, corpusSize: corpus.length, validCounts };
}

serveRequests({ run });
