// OpenAPI `links`: how the output of one operation feeds the next, so stateful API tools
// (fuzzers, test generators, agents) can chain calls without guessing through the
// `{statusCode, data}` envelope. Every operation that takes a path parameter must be reachable
// by a link from an operation that returns that id, and every link must be well-formed:
// its target exists, it fills exactly the target's parameters, and each
// `$response.body#/…` pointer names a property of that response's schema whose schema is
// the target parameter's.
import { describe, expect, it } from 'vitest';
import { HTTP_METHODS, loadBundle, operations, resolvePointer, type OpenApiDocument } from './load-bundle.ts';

const doc = loadBundle();
const ops = operations(doc);
const byId = new Map(ops.map(([method, path, op]) => [op.operationId as string, { method, path, op }]));

type Link = { source: string; status: string; name: string; link: any; response: any };

const deref = (node: any): any => (node && typeof node.$ref === 'string' ? deref(resolvePointer(doc, node.$ref)) : node);

function linksOf(document: OpenApiDocument): Link[] {
  const out: Link[] = [];
  for (const [, , op] of operations(document)) {
    for (const [status, raw] of Object.entries<any>(op.responses ?? {})) {
      const response = deref(raw);
      for (const [name, link] of Object.entries<any>(response.links ?? {})) out.push({ source: op.operationId, status, name, link: deref(link), response });
    }
  }
  return out;
}

/** The parameters of an operation, path-level ones included, by `in.name`. */
function parametersOf(path: string, op: any): Map<string, any> {
  const item = doc.paths[path]!;
  const all = [...(item.parameters ?? []), ...(op.parameters ?? [])].map(deref);
  return new Map(all.map((p: any) => [`${p.in}.${p.name}`, p]));
}

/** A link parameter name, `id` or `path.id`, as `in.name` of the target's parameters. */
function targetParameter(params: Map<string, any>, name: string): string | undefined {
  if (params.has(name)) return name;
  return [...params.keys()].find((k) => k.split('.').slice(1).join('.') === name);
}

/**
 * The schemas a JSON pointer into a body of `schema` can reach (through $ref, allOf, oneOf,
 * anyOf and array items); empty when no branch has it.
 */
function schemasAt(schema: any, pointer: string[]): any[] {
  let current = [schema];
  for (const segment of pointer) {
    const next: any[] = [];
    const visit = (node: any) => {
      node = deref(node);
      if (!node || typeof node !== 'object') return;
      for (const key of ['allOf', 'oneOf', 'anyOf']) (node[key] ?? []).forEach(visit);
      if (node.properties && segment in node.properties) next.push(node.properties[segment]);
      if (/^\d+$/.test(segment) && node.items) next.push(node.items);
    };
    current.forEach(visit);
    current = next;
  }
  return current;
}

/** The non-null variants of a schema, each as the component it refers to (or itself). */
function variants(schema: any): any[] {
  if (schema?.$ref) return [schema.$ref];
  const d = deref(schema);
  if (d?.oneOf || d?.anyOf) return (d.oneOf ?? d.anyOf).filter((s: any) => deref(s)?.type !== 'null').flatMap(variants);
  return [JSON.stringify(d)];
}

const links = linksOf(doc);
const EXPRESSION = /^\$response\.body#(\/.*)$/;

/** Every runtime expression of a link, where it is used: parameters and request body members. */
function expressionsOf(link: any): Array<{ where: string; expression: string }> {
  const out: Array<{ where: string; expression: string }> = [];
  for (const [name, value] of Object.entries<any>(link.parameters ?? {})) out.push({ where: `parameters.${name}`, expression: value });
  const walk = (value: any, where: string) => {
    if (typeof value === 'string') out.push({ where, expression: value });
    else if (value && typeof value === 'object') for (const [k, v] of Object.entries(value)) walk(v, `${where}.${k}`);
  };
  if (link.requestBody !== undefined) walk(link.requestBody, 'requestBody');
  return out;
}

describe('OpenAPI links chain the operations', () => {
  it('there are links, on 2xx responses only', () => {
    expect(links.length).toBeGreaterThan(20);
    for (const l of links) expect(l.status, `${l.source} ${l.name}`).toMatch(/^2\d\d$/);
  });

  it.each(links.map((l) => [`${l.source} ${l.status} → ${l.name}`, l] as const))('%s is well-formed', (_name, l) => {
    expect(typeof l.link.description, 'a link explains itself').toBe('string');
    expect(l.link.operationRef, 'links use operationId').toBeUndefined();
    const target = byId.get(l.link.operationId);
    expect(target, `operationId ${l.link.operationId} exists`).toBeDefined();
    const params = parametersOf(target!.path, target!.op);

    // It fills every path parameter of the target, and names only parameters the target has.
    const filled = new Set(Object.keys(l.link.parameters ?? {}).map((n) => targetParameter(params, n)));
    for (const [key, p] of params) if (p.in === 'path') expect(filled.has(key), `${key} is filled`).toBe(true);
    for (const name of Object.keys(l.link.parameters ?? {})) expect(targetParameter(params, name), `the target has a parameter ${name}`).toBeDefined();
    // A request body only where the target takes one, with members its schema has.
    if (l.link.requestBody !== undefined) {
      const body = deref(target!.op.requestBody);
      expect(body, `${l.link.operationId} takes a body`).toBeDefined();
      const schema = deref(body.content['application/json'].schema);
      for (const member of Object.keys(l.link.requestBody)) expect(schema.properties, `the body has ${member}`).toHaveProperty(member);
    }

    const responseSchema = l.response.content['application/json'].schema;
    for (const { where, expression } of expressionsOf(l.link)) {
      const match = EXPRESSION.exec(expression);
      expect(match, `${where}: ${expression} is a $response.body#/… runtime expression`).not.toBeNull();
      const pointer = match![1]!.split('/').slice(1).map((s) => s.replace(/~1/g, '/').replace(/~0/g, '~'));
      expect(pointer[0], 'the envelope is read through: data/…').toBe('data');
      const found = schemasAt(responseSchema, pointer);
      expect(found.length, `${expression} resolves to a property of the ${l.status} response of ${l.source}`).toBeGreaterThan(0);
      // The value is of the kind the target expects: the same id schema as the parameter or member.
      const expected = where.startsWith('parameters.')
        ? params.get(targetParameter(params, where.slice('parameters.'.length))!)!.schema
        : deref(deref(target!.op.requestBody).content['application/json'].schema).properties[where.split('.')[1]!];
      const want = variants(expected);
      for (const schema of found) expect(variants(schema), `${expression} is a ${want.join(' | ')}`).toEqual(expect.arrayContaining(want));
    }
  });

  it('every operation with a path parameter is the target of a link from an operation that returns the id', () => {
    const unreachable: string[] = [];
    for (const [, path, op] of ops) {
      const pathParams = [...parametersOf(path, op).values()].filter((p) => p.in === 'path');
      if (pathParams.length === 0) continue;
      const incoming = links.filter((l) => l.link.operationId === op.operationId && l.source !== op.operationId);
      if (incoming.length === 0) unreachable.push(op.operationId);
    }
    expect(unreachable).toEqual([]);
  });

  it('creates lead to their object, and a delta to its receipt, checkpoint and verification', () => {
    const targets = (source: string) => new Set(links.filter((l) => l.source === source).map((l) => l.link.operationId));
    expect([...targets('createApiKey')].sort()).toEqual(['deleteApiKey', 'getApiKey', 'regenerateApiKey', 'toggleApiKey']);
    expect([...targets('createWebhookEndpoint')].sort()).toEqual([
      'deleteWebhookEndpoint',
      'getWebhookEndpoint',
      'listWebhookDeliveries',
      'rotateWebhookSecret',
      'sendWebhookTestEvent',
      'updateWebhookEndpoint',
    ]);
    expect(targets('recordDelta')).toEqual(new Set(['getReceipt', 'deriveBalance', 'createCheckpoint']));
    expect(targets('createCheckpoint')).toEqual(new Set(['getCheckpoint', 'listCheckpointReceipts', 'verifyProofRoot', 'deriveBalance']));
    expect(targets('getReceipt').has('getCheckpoint')).toBe(true);
    expect(targets('verifyProofRoot').has('getCheckpoint')).toBe(true);
    expect(targets('provisionEnvironment').has('getEnvironmentStatus')).toBe(true);
    const delta = links.find((l) => l.source === 'recordDelta' && l.link.operationId === 'getReceipt')!;
    expect(delta.link.parameters).toEqual({ receiptId: '$response.body#/data/receiptId' });
    const verify = links.find((l) => l.source === 'createCheckpoint' && l.link.operationId === 'verifyProofRoot')!;
    expect(verify.link.parameters).toEqual({ proofRoot: '$response.body#/data/proofRoot' });
  });

  it('the checks are live: a link to a missing operation, a wrong pointer or a missing parameter is caught', () => {
    const broken = structuredClone(doc);
    const created = broken.paths['/dashboard/api-keys']!.post.responses['201'];
    created.links.GetApiKey.parameters.id = '$response.body#/data/keyId';
    created.links.Nowhere = { operationId: 'getNothing', description: 'x' };
    const names = linksOf(broken).filter((l) => l.source === 'createApiKey').map((l) => l.link.operationId);
    expect(names).toContain('getNothing');
    expect(byId.has('getNothing')).toBe(false);
    const schema = deref(created).content['application/json'].schema;
    expect(schemasAt(schema, ['data', 'keyId'])).toEqual([]);
    expect(schemasAt(schema, ['data', 'id']).length).toBeGreaterThan(0);
    expect(HTTP_METHODS).toContain('post');
  });
});
