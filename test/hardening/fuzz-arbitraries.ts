// fast-check arbitraries built from the contract's JSON Schemas: valid instances of a
// schema, the same instances broken in the ways clients break them (wrong types, missing and
// extra members, huge and odd strings, odd numbers), and raw bodies that are not JSON at all
// or not UTF-8.
import fc from 'fast-check';
import { resolvePointer } from '../../contract/document.ts';

export type Schema = Record<string, any>;

export function createDeref(doc: any) {
  return function deref(schema: Schema | undefined): Schema {
    let s = schema ?? {};
    for (let i = 0; i < 20 && typeof s.$ref === 'string'; i++) {
      const { $ref, ...rest } = s;
      // JSON Schema 2020-12: keywords beside a $ref apply too, so they are kept over the target's.
      s = { ...resolvePointer(doc, $ref as string), ...rest };
    }
    return s;
  };
}

/** Loopback only: a webhook endpoint the sandbox may deliver to must never be elsewhere. */
export const LOOPBACK_URLS = ['http://127.0.0.1:9/fuzz-hook', 'http://localhost:9/hooks?x=1'];

/** Strings that break things: control characters, lone surrogates, RTL marks, NUL, emoji, huge. */
export const oddString = (): fc.Arbitrary<string> => ODD_STRING;
// Built once (building the grapheme table is most of its cost; it is asked for per sample).
const ODD_STRING: fc.Arbitrary<string> = fc.oneof(
  fc.constantFrom('', ' ', '\u0000', '\uD800', '\uDFFF\uD800', '\u202Etxt.exe', '\uFEFF', 'é'.normalize('NFD'), '💥'.repeat(3), '../../etc/passwd', '%00', '${jndi:x}', '<script>', "' OR 1=1 --", '\\', '\r\n', 'null', 'true', '1e309', '-0'),
  fc.string({ unit: 'binary', maxLength: 40 }),
  fc.string({ unit: 'grapheme', maxLength: 40 }),
  fc.integer({ min: 1_000, max: 70_000 }).map((n) => 'x'.repeat(n)),
);

/** Numbers at the edges: huge, tiny, negative zero, too precise, not safe integers. */
export const oddNumber = (): fc.Arbitrary<number> =>
  fc.oneof(fc.constantFrom(0, -0, 1e308, -1e308, 5e-324, 0.1 + 0.2, 2 ** 53 + 1, -(2 ** 63), 1e15, 1e16, 123.123456789), fc.double({ noNaN: true, noDefaultInfinity: true }), fc.integer());

/** A valid instance of `schema` (formats, patterns and bounds included). */
export function valid(schema: Schema, deref: (s: Schema) => Schema, depth = 0): fc.Arbitrary<unknown> {
  const s = deref(schema);
  if (depth > 8) return fc.constant(null);
  if ('const' in s) return fc.constant(s.const);
  if (Array.isArray(s.enum)) return fc.constantFrom(...s.enum);
  const alternatives = s.oneOf ?? s.anyOf;
  if (Array.isArray(alternatives)) return fc.oneof(...alternatives.map((a: Schema) => valid(a, deref, depth + 1)));
  const type = Array.isArray(s.type) ? s.type.filter((t: string) => t !== 'null') : [s.type];
  const pick = type.length > 1 ? fc.constantFrom(...type) : fc.constant(type[0]);
  return pick.chain((t: string | undefined): fc.Arbitrary<unknown> => {
    switch (t) {
      case 'string':
        return validString(s);
      case 'integer':
        return fc.integer({ min: Math.max(s.minimum ?? -1_000_000, -1_000_000_000), max: Math.min(s.maximum ?? 1_000_000, 1_000_000_000) });
      case 'number':
        return fc.oneof(
          fc.integer({ min: -1_000_000, max: 1_000_000 }),
          fc.integer({ min: -100_000_000, max: 100_000_000 }).map((n) => Number((n / 100).toFixed(2))),
        );
      case 'boolean':
        return fc.boolean();
      case 'array': {
        const items = valid(s.items ?? {}, deref, depth + 1);
        const minLength = s.minItems ?? 0;
        const maxLength = Math.max(minLength, Math.min(s.maxItems ?? 3, 3));
        return s.uniqueItems
          ? fc.uniqueArray(items, { minLength, maxLength, selector: (v) => JSON.stringify(v) })
          : fc.array(items, { minLength, maxLength });
      }
      case 'object':
      case undefined: {
        if (!s.properties && s.additionalProperties && typeof s.additionalProperties === 'object') {
          const key = s.propertyNames ? validString(deref(s.propertyNames)) : fc.string({ minLength: 1, maxLength: 10 });
          return fc.dictionary(key, valid(s.additionalProperties, deref, depth + 1), { maxKeys: Math.min(s.maxProperties ?? 3, 3) });
        }
        const properties: Record<string, fc.Arbitrary<unknown>> = {};
        for (const [name, sub] of Object.entries<Schema>(s.properties ?? {})) properties[name] = valid(sub, deref, depth + 1);
        const required: string[] = s.required ?? [];
        // Optional members present at random; `minProperties` honoured by keeping one.
        return fc.record(properties, { requiredKeys: required }).map((o) => {
          if (Object.keys(o).length === 0 && (s.minProperties ?? 0) > 0 && Object.keys(properties).length) {
            const first = Object.keys(properties)[0]!;
            return { [first]: fc.sample(properties[first]!, { numRuns: 1, seed: 1 })[0] };
          }
          return o;
        });
      }
      default:
        return fc.constant(null);
    }
  });
}

/**
 * `fc.stringMatching`, built once per pattern: building one parses the pattern and its
 * character classes, and the arbitraries here are rebuilt for every sample (inside `chain`).
 * The same arbitrary generates the same values from the same random stream, so the samples of
 * a seed are unchanged.
 */
const matchers = new Map<string, fc.Arbitrary<string>>();
function matching(pattern: string): fc.Arbitrary<string> {
  let arbitrary = matchers.get(pattern);
  if (!arbitrary) matchers.set(pattern, (arbitrary = fc.stringMatching(new RegExp(pattern))));
  return arbitrary;
}

function validString(s: Schema): fc.Arbitrary<string> {
  const min = s.minLength ?? 0;
  const max = s.maxLength ?? Number.POSITIVE_INFINITY;
  if (s.format === 'uri' || /https?:\/\//.test(s.pattern ?? '')) return fc.constantFrom(...LOOPBACK_URLS);
  if (s.format === 'email') return fc.emailAddress().filter((e) => e.length >= min && e.length <= max);
  if (s.format === 'date-time') return fc.date({ min: new Date('2020-01-01'), max: new Date('2030-01-01'), noInvalidDate: true }).map((d) => d.toISOString());
  if (s.pattern) return matching(s.pattern).filter((x) => x.length >= min && x.length <= max);
  return fc.string({ minLength: min, maxLength: Math.min(max, min + 40) });
  // (Filters above only trim rare outliers: a pattern's own lengths fit its bounds.)
}

/** A value of the wrong JSON type for `schema`. */
export function wrongType(schema: Schema, deref: (s: Schema) => Schema): fc.Arbitrary<unknown> {
  const s = deref(schema);
  const types = new Set(Array.isArray(s.type) ? s.type : [s.type]);
  const all: Array<[string, fc.Arbitrary<unknown>]> = [
    ['string', oddString()],
    ['number', oddNumber()],
    ['boolean', fc.boolean()],
    ['null', fc.constant(null)],
    ['array', fc.array(fc.oneof(fc.integer(), fc.string()), { maxLength: 3 })],
    ['object', fc.dictionary(fc.string({ maxLength: 5 }), fc.integer(), { maxKeys: 3 })],
  ];
  const wrong = all.filter(([t]) => !types.has(t) && !(t === 'number' && types.has('integer'))).map(([, a]) => a);
  return fc.oneof(...wrong);
}

/** A valid instance, then broken: a member dropped, added, retyped, made huge or odd. */
export function broken(schema: Schema, deref: (s: Schema) => Schema): fc.Arbitrary<unknown> {
  const s = deref(schema);
  const names = Object.keys(s.properties ?? {});
  const base = valid(s, deref);
  const mutation = fc.oneof(
    fc.constant({ kind: 'drop' as const }),
    fc.record({ kind: fc.constant('extra' as const), name: fc.oneof(fc.constantFrom('__proto__', 'constructor', 'apiKey', 'extra'), fc.string({ maxLength: 8 })), value: fc.oneof(fc.integer(), oddString()) }),
    fc.constant({ kind: 'retype' as const }),
    fc.constant({ kind: 'odd-string' as const }),
    fc.constant({ kind: 'odd-number' as const }),
    fc.constant({ kind: 'whole' as const }),
  );
  return fc.tuple(base, mutation, fc.nat(), fc.nat()).chain(([value, m, i, j]) => {
    if (m.kind === 'whole' || typeof value !== 'object' || value === null || Array.isArray(value) || names.length === 0) {
      return fc.oneof(wrongType(s, deref), fc.constant([value]), fc.constant({ data: value }));
    }
    const o = { ...(value as Record<string, unknown>) };
    const name = names[i % names.length]!;
    switch (m.kind) {
      case 'drop': {
        const present = Object.keys(o);
        if (present.length) delete o[present[j % present.length]!];
        return fc.constant(o);
      }
      case 'extra':
        return fc.constant(JSON.parse(JSON.stringify({ ...o, [m.name]: m.value })));
      case 'retype':
        return wrongType(s.properties[name], deref).map((v) => ({ ...o, [name]: v }));
      case 'odd-string':
        return oddString().map((v) => ({ ...o, [name]: v }));
      case 'odd-number':
        return oddNumber().map((v) => ({ ...o, [name]: v }));
    }
  });
}

/** Bodies that are not a JSON document, or not UTF-8, or ambiguous. */
export function rawBody(validJson: fc.Arbitrary<unknown>): fc.Arbitrary<Buffer> {
  return fc.oneof(
    fc.constantFrom('', '{', '{"a":', 'null', '[]', '"text"', '{"a":1,}', "{'a':1}", 'NaN', '{"a":1e99999}', '\uFEFF{}', '{"__proto__":{"x":1}}').map((t) => Buffer.from(t, 'utf8')),
    fc.constantFrom(Buffer.from([0xc3, 0x28]), Buffer.from([0xff, 0xfe, 0x7b, 0x00, 0x7d, 0x00]), Buffer.from([0x7b, 0x22, 0xed, 0xa0, 0x80, 0x22, 0x3a, 0x31, 0x7d])),
    fc.integer({ min: 100, max: 20_000 }).map((depth) => Buffer.from(`${'['.repeat(depth)}${']'.repeat(depth)}`)),
    fc.integer({ min: 100, max: 5_000 }).map((depth) => Buffer.from(`${'{"a":'.repeat(depth)}1${'}'.repeat(depth)}`)),
    // Truncated, or with a member repeated with another value.
    validJson.map((v) => {
      const text = JSON.stringify(v) ?? 'null';
      return Buffer.from(text.slice(0, Math.max(1, text.length - 2)));
    }),
    validJson.map((v) => {
      const text = JSON.stringify(v) ?? '{}';
      const m = /^\{"([^"]+)":/.exec(text);
      return Buffer.from(m ? `{"${m[1]}":"dup",${text.slice(1)}` : text);
    }),
    fc.uint8Array({ minLength: 1, maxLength: 64 }).map((a) => Buffer.from(a)),
  );
}
