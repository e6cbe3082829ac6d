// The bundled contract as data: load a bundle of generated/, resolve JSON pointers and follow
// local `$ref`s. Every reader of the contract (sandbox, conformance suite, docs build, scripts,
// tests) goes through these, so a `$ref` is resolved one way everywhere.
import { readFileSync } from 'node:fs';
import { generatedFile } from './files.ts';

// The bundle is plain JSON of any shape; readers narrow what they use.
export type Json = any;

const cache = new Map<string, Json>();

/** A fresh parse of a bundle of generated/ (`openapi`, `sandbox-control`): the caller may change it. */
export const readBundle = (name = 'openapi'): Json => JSON.parse(readFileSync(generatedFile(`${name}.json`), 'utf8'));

/** A bundle of generated/, parsed once per process and shared: treat it as read-only. */
export function loadBundle(name = 'openapi'): Json {
  let doc = cache.get(name);
  if (!doc) cache.set(name, (doc = readBundle(name)));
  return doc;
}

/** RFC 6901: `~1` is `/`, `~0` is `~`. */
export const escapePointerToken = (s: string) => s.replace(/~/g, '~0').replace(/\//g, '~1');
const unescapePointerToken = (s: string) => s.replace(/~1/g, '/').replace(/~0/g, '~');

/** The node at a local JSON pointer (`#/components/schemas/Amount`), or undefined. */
export function resolvePointer(doc: Json, pointer: string): Json {
  if (pointer === '#' || pointer === '#/') return doc;
  return pointer.replace(/^#\//, '').split('/').map(unescapePointerToken).reduce((node: Json, key) => node?.[key], doc);
}

/** Follows a node's chain of local `$ref`s to what it names; fails loudly on external or dangling refs and cycles. */
export function deref(doc: Json, node: Json): Json {
  let current = node;
  for (let hops = 0; current && typeof current === 'object' && typeof current.$ref === 'string'; hops++) {
    if (hops > 20 || !current.$ref.startsWith('#/')) throw new Error(`cannot follow $ref ${current.$ref}`);
    const next = resolvePointer(doc, current.$ref);
    if (next === undefined) throw new Error(`dangling $ref ${current.$ref}`);
    current = next;
  }
  return current;
}

/**
 * A copy of `node` with every local `$ref` inside it replaced by what it names, as Prism and
 * draft-07 read them (keywords beside a `$ref` are ignored): a self-contained schema a
 * validator compiles without the document. Fails loudly on a recursive schema.
 */
export function inlineRefs(doc: Json, node: Json, depth = 0): Json {
  if (depth > 64) throw new Error('cannot inline a recursive schema');
  if (Array.isArray(node)) return node.map((n) => inlineRefs(doc, n, depth + 1));
  if (!node || typeof node !== 'object') return node;
  const target = node.$ref ? deref(doc, node) : node;
  return Object.fromEntries(Object.entries(target).map(([k, v]) => [k, inlineRefs(doc, v, depth + 1)]));
}
