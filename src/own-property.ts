/**
 * Sets an own, enumerable property, also one named `__proto__`. An assignment to that name
 * would set the object's prototype instead, so it is defined as a property.
 */
export function setOwnProperty<T>(object: Record<string, T>, key: string, value: T): void {
  if (key === "__proto__") {
    Object.defineProperty(object, key, {
      value,
      enumerable: true,
      writable: true,
      configurable: true,
    });
  } else {
    object[key] = value;
  }
}
