// The bundled contract as the tests see it: generated/openapi.json, kept fresh by
// scripts/generate.test.ts.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

export const repoRoot = join(import.meta.dirname, '..', '..');

export type OpenApiDocument = {
  openapi: string;
  paths: Record<string, Record<string, any>>;
  webhooks: Record<string, Record<string, any>>;
  components: Record<string, Record<string, any>>;
  [key: string]: unknown;
};

export function loadBundle(name = 'openapi'): OpenApiDocument {
  return JSON.parse(readFileSync(join(repoRoot, 'generated', `${name}.json`), 'utf8'));
}

export const HTTP_METHODS = ['get', 'put', 'post', 'delete', 'options', 'head', 'patch', 'trace'] as const;

/** Every operation of the paths section as [method, path, operation]. */
export function operations(doc: OpenApiDocument): Array<[string, string, any]> {
  return Object.entries(doc.paths).flatMap(([path, item]) =>
    HTTP_METHODS.filter((m) => item[m]).map((m) => [m.toUpperCase(), path, item[m]] as [string, string, any]),
  );
}

/** Resolves an internal `#/…` JSON pointer of the bundle. */
export function resolvePointer(doc: OpenApiDocument, ref: string): any {
  return ref
    .replace(/^#\//, '')
    .split('/')
    .map((s) => s.replace(/~1/g, '/').replace(/~0/g, '~'))
    .reduce((node: any, key) => node?.[key], doc);
}

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
