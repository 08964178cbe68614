/**
 * Detection of a key that appears twice in one JSON object. `JSON.parse` keeps the last
 * value of such a key and reports nothing, so a configuration that sets `store` twice would
 * silently use the second.
 */

/** A key that appears more than once in the same object. */
export interface DuplicateKey {
  /**
   * Path of the key, such as `["providers", "twilio", "authToken"]`, with numbers for
   * array indexes.
   */
  path: Array<string | number>;
  /** Line of the first occurrence, from 1. */
  firstLine: number;
  /** Line of the second occurrence, from 1. */
  line: number;
}

/** The object or array being read, with the member whose value is being read. */
type Container =
  | { type: "object"; keys: Map<string, number>; key: string | undefined; expectsKey: boolean }
  | { type: "array"; index: number };

/**
 * Finds the first key that appears twice in the same object of a JSON text, comparing keys
 * after their escapes are decoded, so `"a\u0062"` equals `"ab"`. Objects in different places,
 * such as the items of an array, may have the same keys.
 *
 * The text must be valid JSON (one that `JSON.parse` accepted), because the scan checks no
 * syntax.
 */
export function findDuplicateKey(text: string): DuplicateKey | undefined {
  const containers: Container[] = [];
  let line = 1;
  let index = 0;

  while (index < text.length) {
    const char = text.charAt(index);
    const current = containers.at(-1);

    if (char === '"') {
      const end = findStringEnd(text, index);

      if (current?.type === "object" && current.expectsKey) {
        const key = JSON.parse(text.slice(index, end)) as string;
        const firstLine = current.keys.get(key);

        if (firstLine !== undefined) {
          return { path: [...pathOf(containers.slice(0, -1)), key], firstLine, line };
        }

        current.keys.set(key, line);
        current.key = key;
        current.expectsKey = false;
      }

      index = end;
      continue;
    }

    if (char === "\n") {
      line += 1;
    } else if (char === "{") {
      containers.push({ type: "object", keys: new Map(), key: undefined, expectsKey: true });
    } else if (char === "[") {
      containers.push({ type: "array", index: 0 });
    } else if (char === "}" || char === "]") {
      containers.pop();
    } else if (char === "," && current?.type === "array") {
      current.index += 1;
    } else if (char === "," && current?.type === "object") {
      current.expectsKey = true;
    }

    index += 1;
  }

  return undefined;
}

/** Returns the offset just after the string that starts with the quote at `start`. */
function findStringEnd(text: string, start: number): number {
  let index = start + 1;

  while (index < text.length && text.charAt(index) !== '"') {
    // A backslash escapes the next character, which may be a quote.
    index += text.charAt(index) === "\\" ? 2 : 1;
  }

  return index + 1;
}

/** Returns the member each container is reading, from the outermost in: a path to a value. */
function pathOf(containers: readonly Container[]): Array<string | number> {
  return containers.map((container) =>
    container.type === "array" ? container.index : (container.key ?? ""),
  );
}
