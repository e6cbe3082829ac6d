// One parser for media types, shared by the sandbox and the conformance suite.
// Media types as RFC 9110 §8.3.1 defines them: `type "/" subtype *( OWS ";" OWS parameter )`,
// type, subtype and parameter names case-insensitive, parameter values tokens or quoted
// strings. `application/problem+json; charset=utf-8` and `Application/Problem+JSON` are both
// problem+json. Every content-type test of the suite goes through here.

export type MediaType = {
  /** `type/subtype`, lowercased: what a contract's `content` map is keyed by. */
  essence: string;
  type: string;
  subtype: string;
  /** Parameter names lowercased; values as sent (quoted strings unquoted). */
  parameters: Record<string, string>;
};

const TOKEN = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;

/** The parsed media type of a Content-Type value, or undefined when it is absent or malformed. */
export function parseMediaType(value: string | undefined | null): MediaType | undefined {
  if (!value) return undefined;
  const [head, ...rest] = splitParameters(value);
  const slash = head!.indexOf('/');
  if (slash < 0) return undefined;
  const type = head!.slice(0, slash).trim();
  const subtype = head!.slice(slash + 1).trim();
  if (!TOKEN.test(type) || !TOKEN.test(subtype)) return undefined;
  const parameters: Record<string, string> = {};
  for (const raw of rest) {
    const p = raw.trim();
    if (!p) continue; // "a/b;" and "a/b; ;x=y" are allowed: parameter is optional.
    const eq = p.indexOf('=');
    if (eq <= 0) return undefined;
    const name = p.slice(0, eq).trim().toLowerCase();
    let v = p.slice(eq + 1).trim();
    if (!TOKEN.test(name)) return undefined;
    if (v.startsWith('"')) {
      if (v.length < 2 || !v.endsWith('"')) return undefined;
      v = v.slice(1, -1).replace(/\\(.)/g, '$1');
    } else if (!TOKEN.test(v)) {
      return undefined;
    }
    // The first occurrence wins, as most parsers do.
    if (!Object.hasOwn(parameters, name)) parameters[name] = v;
  }
  const t = type.toLowerCase();
  const s = subtype.toLowerCase();
  return { essence: `${t}/${s}`, type: t, subtype: s, parameters };
}

/** Splits on semicolons outside quoted strings. */
function splitParameters(value: string): string[] {
  const parts: string[] = [];
  let current = '';
  let quoted = false;
  for (let i = 0; i < value.length; i++) {
    const c = value[i]!;
    if (quoted && c === '\\' && i + 1 < value.length) {
      current += c + value[++i];
      continue;
    }
    if (c === '"') quoted = !quoted;
    if (c === ';' && !quoted) {
      parts.push(current);
      current = '';
    } else {
      current += c;
    }
  }
  parts.push(current);
  return parts;
}

/** Whether a Content-Type value denotes `essence` (e.g. `application/problem+json`), whatever its case and parameters. */
export const isMediaType = (value: string | undefined | null, essence: string) => parseMediaType(value)?.essence === essence.toLowerCase();
