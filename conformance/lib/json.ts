// JSON bodies compared as JSON values (RFC 8259): object members in any order, numbers by
// value. A server may serialize members in any order, so no check compares serialized text.

/** Deep equality of two parsed JSON values, independent of object member order. */
export function sameJson(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (typeof a !== typeof b || a === null || b === null || typeof a !== 'object') return false;
  if (Array.isArray(a) !== Array.isArray(b)) return false;
  if (Array.isArray(a)) {
    const other = b as unknown[];
    return a.length === other.length && a.every((v, i) => sameJson(v, other[i]));
  }
  const x = a as Record<string, unknown>;
  const y = b as Record<string, unknown>;
  const keys = Object.keys(x);
  return keys.length === Object.keys(y).length && keys.every((k) => Object.hasOwn(y, k) && sameJson(x[k], y[k]));
}

/**
 * The same instant, or both null: RFC 3339 spells one instant many ways ("Z" or "+00:00", other
 * offsets, more or fewer fractional digits), so a time shown in two places is compared as a time.
 */
export function sameInstant(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  return typeof a === 'string' && typeof b === 'string' && !Number.isNaN(Date.parse(a)) && Date.parse(a) === Date.parse(b);
}
