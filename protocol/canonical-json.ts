// RFC 8785 (JSON Canonicalization Scheme) for the values PacSpace hashes: objects, arrays,
// strings, safe integers, booleans and null. Members are sorted by UTF-16 code units (the
// default string order of JavaScript), strings are escaped exactly as JSON.stringify does.
export type Canonical = string | number | boolean | null | Canonical[] | { [key: string]: Canonical };

export function canonicalize(value: Canonical): string {
  if (value === null || typeof value === 'boolean' || typeof value === 'string') return JSON.stringify(value);
  if (typeof value === 'number') {
    if (!Number.isSafeInteger(value)) throw new Error('only safe integers are canonicalized; amounts are strings');
    return JSON.stringify(value);
  }
  if (Array.isArray(value)) return `[${value.map(canonicalize).join(',')}]`;
  const keys = Object.keys(value).sort();
  return `{${keys.map((k) => `${JSON.stringify(k)}:${canonicalize(value[k]!)}`).join(',')}}`;
}
