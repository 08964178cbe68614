/**
 * Deterministic test data: phone numbers for the stores, recipients and webhook senders.
 * Opted-out numbers are German mobile numbers and recipients are US numbers, so no
 * recipient is ever opted out by accident.
 */

import { isValidPhoneNumber } from "libphonenumber-js/max";

/** A small seeded pseudo-random generator (mulberry32), returning numbers in [0, 1). */
export function createRandom(seed) {
  let state = seed >>> 0;

  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let value = state;

    value = Math.imul(value ^ (value >>> 15), value | 1);
    value ^= value + Math.imul(value ^ (value >>> 7), value | 61);

    return ((value ^ (value >>> 14)) >>> 0) / 4_294_967_296;
  };
}

/** Returns the `index`-th opted-out number of a seeded store: `+4915` and 9 digits. */
export function optedOutPhone(index) {
  return `+4915${String(index * 7).padStart(9, "0")}`;
}

/** Returns a number between two opted-out numbers, which is never stored. */
export function unknownPhone(index) {
  return `+4915${String(index * 7 + 3).padStart(9, "0")}`;
}

/**
 * Returns `count` lookups into a store of `storeSize` opted-out numbers, half of them
 * opted out and half unknown, in random order.
 */
export function lookupPhones(count, storeSize, seed = 7) {
  const random = createRandom(seed);
  const phones = new Array(count);

  for (let index = 0; index < count; index += 1) {
    const slot = Math.floor(random() * storeSize);

    phones[index] = index % 2 === 0 ? optedOutPhone(slot) : unknownPhone(slot);
  }

  return phones;
}

// Area codes in service in the United States, used to build valid numbers.
const areaCodes = [
  201, 202, 203, 205, 206, 207, 208, 209, 210, 212, 213, 214, 215, 216, 217, 218, 219, 224, 225,
  228, 229, 231, 234, 239, 240, 248, 251, 252, 253, 254, 256, 260, 262, 267, 269, 270, 281, 301,
  302, 303, 304, 305, 307, 308, 309, 310, 312, 313, 314, 315, 316, 317, 318, 319, 320, 321, 323,
  330, 334, 336, 337, 339, 347, 352, 360, 361, 386, 401, 402, 404, 405, 406, 407, 408, 409, 410,
  412, 413, 414, 415, 417, 419, 423, 424, 425, 432, 434, 435, 440, 443, 469, 478, 479, 480, 484,
  501, 502, 503, 504, 505, 507, 508, 509, 510, 512, 513, 515, 516, 517, 518, 520, 530, 540, 541,
  551, 559, 561, 562, 563, 570, 571, 573, 574, 580, 585, 586, 601, 602, 603, 605, 606, 607, 608,
  609, 610, 612, 614, 615, 616, 617, 618, 619, 620, 623, 626, 630, 631, 636, 641, 646, 650, 651,
  660, 661, 662, 678, 682, 701, 702, 703, 704, 706, 707, 708, 712, 713, 714, 715, 716, 717, 718,
  719, 720, 724, 727, 731, 732, 734, 740, 754, 757, 760, 763, 765, 770, 772, 773, 774, 775, 781,
  785, 786, 801, 802, 803, 804, 805, 806, 808, 810, 812, 813, 814, 815, 816, 817, 818, 828, 830,
  831, 832, 843, 845, 847, 848, 850, 856, 857, 858, 859, 860, 862, 863, 864, 865, 870, 901, 903,
  904, 906, 907, 908, 909, 910, 912, 913, 914, 915, 916, 917, 918, 919, 920, 925, 928, 931, 936,
  937, 940, 941, 949, 951, 952, 954, 956, 970, 971, 972, 973, 978, 979, 980, 985, 989,
];

/**
 * Returns `count` distinct US numbers in E.164 that libphonenumber-js (full metadata)
 * accepts as valid.
 */
export function validUsNumbers(count, seed = 11) {
  const random = createRandom(seed);
  const numbers = new Set();

  while (numbers.size < count) {
    const area = areaCodes[Math.floor(random() * areaCodes.length)];
    const exchange = 200 + Math.floor(random() * 800);
    const line = String(Math.floor(random() * 10_000)).padStart(4, "0");
    const number = `+1${area}${exchange}${line}`;

    if (isValidPhoneNumber(number)) {
      numbers.add(number);
    }
  }

  return [...numbers];
}

/** Picks a random element of a non-empty array. */
export function pick(random, items) {
  return items[Math.floor(random() * items.length)];
}
