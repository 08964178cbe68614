import { describe, expect, it } from "vitest";
import {
  analyzeSmsText,
  GSM7_MULTIPART_SEGMENT,
  GSM7_SINGLE_SEGMENT,
  gsm7Septets,
  isGsm7,
  UCS2_MULTIPART_SEGMENT,
  UCS2_SINGLE_SEGMENT,
} from "../src/encoding/index.js";

const BASIC =
  "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?" +
  "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà";
const EXTENSION = "\f^{}\\[~]|€";

describe("GSM-7 tables", () => {
  it("has 127 basic characters", () => {
    // 128 code positions, one of which is the ESC that introduces the extension table.
    expect([...BASIC]).toHaveLength(127);
    expect(new Set(BASIC).size).toBe(127);
  });

  it("counts basic characters once", () => {
    for (const character of BASIC) {
      expect(gsm7Septets(character), JSON.stringify(character)).toBe(1);
    }
  });

  it("counts extension characters twice", () => {
    for (const character of EXTENSION) {
      expect(gsm7Septets(character), JSON.stringify(character)).toBe(2);
    }
  });

  it("rejects characters outside tables", () => {
    const outside = ["ç", "á", "õ", "`", "\t", "\u001b", "\u00a0", "—", "’", "你", "😀", "\u0301"];

    for (const character of outside) {
      expect(gsm7Septets(character), JSON.stringify(character)).toBe(0);
    }
  });

  it("keeps Greek capitals only", () => {
    expect(gsm7Septets("Ω")).toBe(1);
    expect(gsm7Septets("ω")).toBe(0);
    expect(gsm7Septets("Α")).toBe(0);
  });
});

describe("isGsm7", () => {
  it("accepts GSM text", () => {
    expect(isGsm7("")).toBe(true);
    expect(isGsm7("Reply STOP to opt out. Prix: 5€ {promo}")).toBe(true);
    expect(isGsm7(BASIC + EXTENSION)).toBe(true);
  });

  it("rejects non-GSM text", () => {
    expect(isGsm7("こんにちは")).toBe(false);
    expect(isGsm7("Thanks 😀")).toBe(false);
    expect(isGsm7("Garçon")).toBe(false);
    expect(isGsm7("It’s here")).toBe(false);
  });

  it("rejects decomposed accents", () => {
    expect(isGsm7("é")).toBe(true);
    expect(isGsm7("e\u0301")).toBe(false);
  });
});

describe("analyzeSmsText GSM-7", () => {
  it("reads empty text", () => {
    expect(analyzeSmsText("")).toEqual({
      encoding: "gsm7",
      units: 0,
      segments: 1,
      perSegment: GSM7_SINGLE_SEGMENT,
    });
  });

  it("fits 160 septets", () => {
    expect(analyzeSmsText("a".repeat(160))).toEqual({
      encoding: "gsm7",
      units: 160,
      segments: 1,
      perSegment: 160,
    });
  });

  it("splits 161 septets", () => {
    expect(analyzeSmsText("a".repeat(161))).toEqual({
      encoding: "gsm7",
      units: 161,
      segments: 2,
      perSegment: GSM7_MULTIPART_SEGMENT,
    });
  });

  it("counts 153 per part", () => {
    expect(analyzeSmsText("a".repeat(306)).segments).toBe(2);
    expect(analyzeSmsText("a".repeat(307)).segments).toBe(3);
    expect(analyzeSmsText("a".repeat(459)).segments).toBe(3);
    expect(analyzeSmsText("a".repeat(460)).segments).toBe(4);
  });

  it("counts extension characters as two", () => {
    expect(analyzeSmsText("€").units).toBe(2);
    expect(analyzeSmsText("€".repeat(80))).toMatchObject({ units: 160, segments: 1 });
    expect(analyzeSmsText(`${"€".repeat(80)}a`)).toMatchObject({ units: 161, segments: 2 });
  });

  it("never splits an escape", () => {
    const text = `${"a".repeat(152)}€${"a".repeat(152)}`;
    const analysis = analyzeSmsText(text);

    expect(analysis.units).toBe(306);
    // 152 + 2 does not fit 153, so the euro sign opens part 2, and one septet is left over.
    expect(analysis.segments).toBe(3);
    expect(Math.ceil(analysis.units / 153)).toBe(2);
  });

  it("fills a part exactly", () => {
    expect(analyzeSmsText(`${"a".repeat(151)}€${"a".repeat(153)}`).segments).toBe(2);
  });
});

describe("analyzeSmsText UCS-2", () => {
  it("fits 70 code units", () => {
    expect(analyzeSmsText("你".repeat(70))).toEqual({
      encoding: "ucs2",
      units: 70,
      segments: 1,
      perSegment: UCS2_SINGLE_SEGMENT,
    });
  });

  it("splits 71 code units", () => {
    expect(analyzeSmsText("你".repeat(71))).toEqual({
      encoding: "ucs2",
      units: 71,
      segments: 2,
      perSegment: UCS2_MULTIPART_SEGMENT,
    });
    expect(analyzeSmsText("你".repeat(134)).segments).toBe(2);
    expect(analyzeSmsText("你".repeat(135)).segments).toBe(3);
  });

  it("counts emoji as two units", () => {
    expect(analyzeSmsText("😀")).toMatchObject({ encoding: "ucs2", units: 2 });
    expect(analyzeSmsText("😀".repeat(35))).toMatchObject({ units: 70, segments: 1 });
    expect(analyzeSmsText("😀".repeat(36))).toMatchObject({ units: 72, segments: 2 });
  });

  it("never splits a surrogate pair", () => {
    const text = `${"你".repeat(66)}😀${"你".repeat(66)}`;
    const analysis = analyzeSmsText(text);

    expect(analysis.units).toBe(134);
    expect(analysis.segments).toBe(3);
    expect(Math.ceil(analysis.units / 67)).toBe(2);
  });

  it("switches whole text to UCS-2", () => {
    const analysis = analyzeSmsText(`${"a".repeat(100)}😀`);

    expect(analysis.encoding).toBe("ucs2");
    expect(analysis.units).toBe(102);
    expect(analysis.segments).toBe(2);
  });

  it("counts extension characters once", () => {
    expect(analyzeSmsText("€你").units).toBe(2);
  });

  it("counts lone surrogates", () => {
    expect(analyzeSmsText("a\ud800b")).toMatchObject({ encoding: "ucs2", units: 3 });
  });
});
