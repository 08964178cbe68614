/**
 * A reader for text that is already an E.164 number (`+` and 2 to 15 digits), which is how
 * most applications store phone numbers. It returns what libphonenumber-js's
 * `parsePhoneNumberWithError(text, { extract: false })` followed by `isValid()` returns for
 * such text, without the general parser. That parser also strips a national prefix written
 * after the country code and picks a country among those sharing a calling code. Where the
 * number could take either step, the reader returns `undefined`, and the caller runs the
 * general parser.
 *
 * It reads numbering plans through `Metadata` methods that libphonenumber-js 1.13 uses
 * internally, with the same patterns that its `isValid()` builds. `test/phone-e164.test.ts`
 * compares both readings on every country's example numbers and on generated inputs.
 *
 * NOTE: those methods are not part of the library's typed API, so an upgrade of
 * libphonenumber-js can change them. Rerun the comparison test after one.
 *
 * @module
 */

import { Metadata } from "libphonenumber-js/core";
import type { CountryCode } from "libphonenumber-js/max";
import maxMetadata from "libphonenumber-js/max/metadata";

/** Maximum length of a country calling code, in digits. */
const maxCallingCodeLength = 3;

/** Minimum length of a national significant number that the parser accepts. */
const minNationalNumberLength = 2;

/** Maximum length of a national significant number that the parser accepts. */
const maxNationalNumberLength = 17;

const exactE164 = /^\+[1-9]\d{1,14}$/;

/** Every number type a plan can describe; a number is valid when one of them matches. */
const numberTypes = [
  "FIXED_LINE",
  "MOBILE",
  "TOLL_FREE",
  "PREMIUM_RATE",
  "SHARED_COST",
  "VOIP",
  "PERSONAL_NUMBER",
  "PAGER",
  "UAN",
  "VOICEMAIL",
] as const;

/** The `NumberingPlan` methods read here; libphonenumber-js types the plan as `any`. */
interface PlanMethods {
  nationalNumberPattern(): string;
  nationalPrefixForParsing(): string | undefined;
  leadingDigits(): string | number | undefined;
  hasTypes(): boolean;
  type(name: (typeof numberTypes)[number]): TypeMethods | undefined;
}

interface TypeMethods {
  pattern(): string;
  possibleLengths(): number[] | undefined;
}

/** The `Metadata` methods read here, beyond the ones libphonenumber-js types. */
interface MetadataMethods {
  hasCallingCode(callingCode: string): boolean | undefined;
  getCountryCodesForCallingCode(callingCode: string): CountryCode[] | undefined;
  selectNumberingPlan(callingCode: string): void;
  numberingPlan: PlanMethods | undefined;
}

/** One number type of a plan, compiled once. */
interface TypePattern {
  pattern: RegExp;
  /** National number lengths of the type; any length when absent. */
  lengths: readonly number[] | undefined;
}

/** What decides the reading of numbers under one calling code, compiled once. */
interface CallingCodePlan {
  /** The country the parser assigns; absent for non-geographic codes such as 800. */
  country: CountryCode | undefined;
  /** Pattern of the national prefix the parser may strip from the start of a national number. */
  nationalPrefix: RegExp | undefined;
  /**
   * Leading digits of the main country when other countries share the code: the parser
   * assigns the main country to a number that starts with them, and tries the others next.
   */
  leadingDigits: RegExp | undefined;
  nationalNumber: RegExp;
  /** Type patterns, or `undefined` when the plan has none and `nationalNumber` decides. */
  types: readonly TypePattern[] | undefined;
}

/**
 * Plans by calling code, built on first use. `null` marks a calling code whose numbers the
 * general parser always reads, and `undefined` a code not read yet.
 */
const plans = new Map<string, CallingCodePlan | null>();

// The core class with the full metadata: the CommonJS build of libphonenumber-js/max does
// not export `Metadata`, so it is built here from the same metadata that parser reads.
const metadata = new Metadata(maxMetadata) as unknown as MetadataMethods;

/**
 * Reads `text` when it is exactly an E.164 number that the general parser would read as
 * the same number, and returns that number with its country when it is valid.
 *
 * Returns `undefined` when the text is not in exact E.164 form, when its number is not
 * valid, and when the general parser could read it differently. The caller then runs the
 * general parser, which produces the same result or the error for that input.
 */
export function readExactE164(
  text: string,
): { e164: string; country: CountryCode | undefined } | undefined {
  if (!exactE164.test(text)) {
    return undefined;
  }

  for (let length = 1; length <= maxCallingCodeLength; length += 1) {
    const callingCode = text.slice(1, 1 + length);

    if (metadata.hasCallingCode(callingCode)) {
      return readNationalNumber(text, callingCode, text.slice(1 + length));
    }
  }

  return undefined;
}

function readNationalNumber(
  text: string,
  callingCode: string,
  nationalNumber: string,
): { e164: string; country: CountryCode | undefined } | undefined {
  const plan = callingCodePlan(callingCode);

  if (plan === null) {
    return undefined;
  }

  const length = nationalNumber.length;

  if (length < minNationalNumberLength || length > maxNationalNumberLength) {
    return undefined;
  }

  // The parser may strip or rewrite a non-empty match, so such numbers go to the parser. An
  // empty match (the national prefix of AR is optional) leaves the number as it is.
  const prefix = plan.nationalPrefix?.exec(nationalNumber);

  if (prefix && prefix[0] !== "") {
    return undefined;
  }

  if (plan.leadingDigits !== undefined && nationalNumber.search(plan.leadingDigits) !== 0) {
    return undefined;
  }

  if (!isValidNationalNumber(plan, nationalNumber)) {
    return undefined;
  }

  return { e164: text, country: plan.country };
}

/** Mirrors `isValid()`: the plan's pattern, then one type's lengths and pattern. */
function isValidNationalNumber(plan: CallingCodePlan, nationalNumber: string): boolean {
  if (!plan.nationalNumber.test(nationalNumber)) {
    return false;
  }

  if (plan.types === undefined) {
    return true;
  }

  return plan.types.some(
    (type) =>
      (type.lengths === undefined || type.lengths.includes(nationalNumber.length)) &&
      type.pattern.test(nationalNumber),
  );
}

function callingCodePlan(callingCode: string): CallingCodePlan | null {
  let plan = plans.get(callingCode);

  if (plan === undefined) {
    plan = compilePlan(callingCode);
    plans.set(callingCode, plan);
  }

  return plan;
}

/**
 * Compiles the plan the parser selects for a calling code: that of its main country, or the
 * non-geographic plan.
 *
 * When several countries share the code, the parser assigns the first one whose leading
 * digits match, or, for a country without leading digits, whose number types match. It
 * tries the main country first. This reader handles only numbers that the main country
 * takes: those starting with its leading digits, or, without them, those its types make
 * valid, which needs a main country with types.
 */
function compilePlan(callingCode: string): CallingCodePlan | null {
  const countries = metadata.getCountryCodesForCallingCode(callingCode);

  metadata.selectNumberingPlan(callingCode);

  const numberingPlan = metadata.numberingPlan;

  if (numberingPlan === undefined) {
    return null;
  }

  const shared = countries !== undefined && countries.length > 1;
  const leadingDigits = shared ? numberingPlan.leadingDigits() : undefined;

  if (shared && !leadingDigits && !numberingPlan.hasTypes()) {
    return null;
  }

  const prefix = numberingPlan.nationalPrefixForParsing();

  return {
    country: countries?.[0],
    nationalPrefix: prefix ? new RegExp(`^(?:${prefix})`) : undefined,
    // The parser passes the pattern text to `String.prototype.search`, unanchored.
    leadingDigits: leadingDigits ? new RegExp(String(leadingDigits)) : undefined,
    nationalNumber: entireMatch(numberingPlan.nationalNumberPattern()),
    types: numberingPlan.hasTypes() ? compileTypes(numberingPlan) : undefined,
  };
}

function compileTypes(numberingPlan: PlanMethods): TypePattern[] {
  const types: TypePattern[] = [];

  for (const name of numberTypes) {
    const type = numberingPlan.type(name);
    const pattern = type?.pattern();

    if (type !== undefined && pattern) {
      types.push({ pattern: entireMatch(pattern), lengths: type.possibleLengths() });
    }
  }

  return types;
}

/** Builds the whole-string match that libphonenumber-js builds from a metadata pattern. */
function entireMatch(pattern: string): RegExp {
  return new RegExp(`^(?:${pattern})$`);
}
