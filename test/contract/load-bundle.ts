// The bundled contract as the tests see it: generated/openapi.json, kept fresh by
// scripts/generate.test.ts.
import { readBundle, resolvePointer as sharedResolvePointer } from '../../contract/document.ts';
import { HTTP_METHODS as METHODS, listOperations } from '../../contract/operations.ts';
import { join } from 'node:path';

export const repoRoot = join(import.meta.dirname, '..', '..');

export type OpenApiDocument = {
  openapi: string;
  paths: Record<string, Record<string, any>>;
  webhooks: Record<string, Record<string, any>>;
  components: Record<string, Record<string, any>>;
  [key: string]: unknown;
};

/** A fresh parse of a bundle of generated/ (tests may change their copy). */
export const loadBundle = (name = 'openapi'): OpenApiDocument => readBundle(name);

export const HTTP_METHODS = METHODS;

/** Every operation of the paths section as [METHOD, path, operation], from the shared operation table. */
export function operations(doc: OpenApiDocument): Array<[string, string, any]> {
  return listOperations(doc).map((o) => [o.method.toUpperCase(), o.path, o.operation]);
}

/** Resolves an internal `#/…` JSON pointer of the bundle. */
export const resolvePointer = (doc: OpenApiDocument, ref: string): any => sharedResolvePointer(doc, ref);

/** Every property name reachable in a schema, through $ref, composition and nesting. */
export function propertyNames(doc: OpenApiDocument, schema: any, seen = new Set<any>()): Set<string> {
  const names = new Set<string>();
  const visit = (node: any) => {
    if (!node || typeof node !== 'object' || seen.has(node)) return;
    seen.add(node);
    if (typeof node.$ref === 'string') return visit(resolvePointer(doc, node.$ref));
    for (const [name, prop] of Object.entries(node.properties ?? {})) {
      names.add(name);
      visit(prop);
    }
    for (const key of ['allOf', 'oneOf', 'anyOf', 'prefixItems']) (node[key] ?? []).forEach(visit);
    for (const key of ['items', 'additionalProperties', 'not']) visit(node[key]);
  };
  visit(schema);
  return names;
}
