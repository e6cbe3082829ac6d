// Walks every example in the bundled contract (media type, parameter and header examples,
// and the `examples` arrays of schemas) and validates each against the schema it
// illustrates, with a JSON Schema 2020-12 validator: the contract's examples are what the
// docs show and what Prism serves, so a wrong one is a wrong contract.
import { Ajv2020 } from 'ajv/dist/2020.js';
import addFormats from 'ajv-formats';
import { describe, expect, it } from 'vitest';
import { loadBundle, resolvePointer, type OpenApiDocument } from './load-bundle.ts';

type Case = { where: string; schemaPointer: string; value: unknown };

const escape = (s: string | number) => String(s).replace(/~/g, '~0').replace(/\//g, '~1');

export function collectExamples(doc: OpenApiDocument): Case[] {
  const cases: Case[] = [];
  const walk = (node: any, pointer: string) => {
    if (!node || typeof node !== 'object') return;
    if (Array.isArray(node)) return node.forEach((v, i) => walk(v, `${pointer}/${i}`));
    // A schema's own `examples` is an array of instances.
    if (Array.isArray(node.examples) && !('schema' in node)) {
      node.examples.forEach((value: unknown, i: number) =>
        cases.push({ where: `${pointer}/examples/${i}`, schemaPointer: pointer, value }),
      );
    }
    // Media types, parameters and headers pair `schema` with `example` or named `examples`.
    if (node.schema && typeof node.schema === 'object') {
      if ('example' in node) cases.push({ where: `${pointer}/example`, schemaPointer: `${pointer}/schema`, value: node.example });
      if (node.examples && !Array.isArray(node.examples)) {
        for (const [name, raw] of Object.entries<any>(node.examples)) {
          const example = raw?.$ref ? resolvePointer(doc, raw.$ref) : raw;
          if (example && 'value' in example) {
            cases.push({ where: `${pointer}/examples/${escape(name)}`, schemaPointer: `${pointer}/schema`, value: example.value });
          }
        }
      }
    }
    for (const [key, value] of Object.entries(node)) {
      if (key === 'examples' || key === 'example') continue;
      walk(value, `${pointer}/${escape(key)}`);
    }
  };
  walk(doc, '#');
  return cases;
}

export function makeValidator(doc: OpenApiDocument) {
  const ajv = new Ajv2020({ strict: false, allErrors: true, validateSchema: false, validateFormats: true });
  addFormats.default(ajv);
  ajv.addSchema(doc as object, 'bundle');
  return (schemaPointer: string, value: unknown) => {
    const validate = ajv.getSchema(`bundle${schemaPointer}`) ?? ajv.compile({ $ref: `bundle${schemaPointer}` });
    const ok = validate(value) as boolean;
    return { ok, errors: ajv.errorsText(validate.errors ?? null) };
  };
}

const doc = loadBundle();
const cases = collectExamples(doc);
const validate = makeValidator(doc);

describe('every example matches its schema', () => {
  it('finds examples everywhere the contract shows them', () => {
    // Named examples for every request body and response of every operation, plus schema examples.
    expect(cases.length).toBeGreaterThan(150);
    const where = cases.map((c) => c.where);
    expect(where.some((w) => w.startsWith('#/paths/~1api~1v1~1balance~1delta/post/requestBody'))).toBe(true);
    expect(where.some((w) => w.startsWith('#/webhooks/'))).toBe(true);
    expect(where.some((w) => w.startsWith('#/components/schemas/'))).toBe(true);
  });

  it.each(cases.map((c) => [c.where, c] as const))('%s', (_where, c) => {
    const result = validate(c.schemaPointer, c.value);
    expect(result.errors).toBe('No errors');
    expect(result.ok).toBe(true);
  });

  it('rejects an example that breaks its schema (the validator is live)', () => {
    const pointer = '#/paths/~1api~1v1~1balance~1delta/post/responses/201/content/application~1json/schema';
    const good = resolvePointer(doc, pointer.replace('/schema', '/examples/quickstart/value'));
    expect(validate(pointer, good).ok).toBe(true);
    const binaryFloat = structuredClone(good);
    binaryFloat.data.balanceAfter = 100; // amounts are decimal strings, never numbers
    expect(validate(pointer, binaryFloat).ok).toBe(false);
    const badHash = structuredClone(good);
    badHash.data.leafHash = 'not-a-hash';
    expect(validate(pointer, badHash).ok).toBe(false);
  });
});
