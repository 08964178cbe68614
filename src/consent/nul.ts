/**
 * U+0000 in stored text. PostgreSQL's `text` type cannot contain it, so a store that wrote
 * it as received would reject every delivery of a webhook that carries one, and an opt-out
 * in it would never be recorded. Every store therefore writes U+FFFD, the replacement
 * character, in its place. The stored text is then the same in every store, and an export
 * from one store imports into another.
 */

const NUL = "\u0000";
const REPLACEMENT_CHARACTER = "\uFFFD";

/** Replaces each U+0000 in `value` with U+FFFD, and returns other strings as they are. */
export function replaceNul(value: string): string {
  return value.includes(NUL) ? value.replaceAll(NUL, REPLACEMENT_CHARACTER) : value;
}
