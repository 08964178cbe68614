/** A value of a send body template: JSON, whose strings may hold placeholders. */
export type GenericTemplateValue =
  | string
  | number
  | boolean
  | null
  | readonly GenericTemplateValue[]
  | { readonly [key: string]: GenericTemplateValue };

/** The placeholders a template may use. */
export const genericPlaceholders = ["to", "from", "body", "statusCallbackUrl"] as const;

/** One of {@link genericPlaceholders}. */
export type GenericPlaceholder = (typeof genericPlaceholders)[number];

/** The values that replace the placeholders. A placeholder absent here has no value. */
export type GenericTemplateValues = Readonly<Partial<Record<GenericPlaceholder, string>>>;

const PLACEHOLDER = /\{\{\s*([A-Za-z]+)\s*\}\}/g;

/** Returns the names used in a string that are not placeholders. */
export function unknownPlaceholders(text: string): string[] {
  const known: readonly string[] = genericPlaceholders;

  return [...text.matchAll(PLACEHOLDER)]
    .map((match) => match[1] as string)
    .filter((name) => !known.includes(name));
}

/** Marks a value left out because a placeholder in it has no value. */
const OMITTED = Symbol("omitted");

/**
 * Renders a template with the message's values. Each placeholder becomes its value as
 * text inside the JavaScript string, so the JSON encoder escapes it later. A string
 * with a placeholder that has no value is left out, from its object or its array.
 */
export function renderTemplate(
  template: Readonly<Record<string, GenericTemplateValue>>,
  values: GenericTemplateValues,
): Record<string, unknown> {
  return renderObject(template, values);
}

function renderValue(value: GenericTemplateValue, values: GenericTemplateValues): unknown {
  if (typeof value === "string") {
    return renderString(value, values);
  }

  if (Array.isArray(value)) {
    return value.map((item) => renderValue(item, values)).filter((item) => item !== OMITTED);
  }

  if (typeof value === "object" && value !== null) {
    return renderObject(value as Readonly<Record<string, GenericTemplateValue>>, values);
  }

  return value;
}

function renderObject(
  template: Readonly<Record<string, GenericTemplateValue>>,
  values: GenericTemplateValues,
): Record<string, unknown> {
  const entries: Array<[string, unknown]> = [];

  for (const [key, value] of Object.entries(template)) {
    const rendered = renderValue(value, values);

    if (rendered !== OMITTED) {
      entries.push([key, rendered]);
    }
  }

  // `Object.fromEntries` defines own properties, so a key `__proto__` stays a key.
  return Object.fromEntries(entries);
}

function renderString(text: string, values: GenericTemplateValues): string | typeof OMITTED {
  let missing = false;
  const rendered = text.replace(PLACEHOLDER, (_match, name: string) => {
    const value = values[name as GenericPlaceholder];

    if (value === undefined) {
      missing = true;
    }

    return value ?? "";
  });

  return missing ? OMITTED : rendered;
}
