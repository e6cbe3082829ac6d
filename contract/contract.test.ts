// The shared contract module: path templates, $ref resolution and the operation table.
import { describe, expect, it } from 'vitest';
import { deref, inlineRefs, loadBundle, readBundle, resolvePointer } from './document.ts';
import { allowedMethods, authOf, findOperation, listOperations } from './operations.ts';
import { compilePathTemplate } from './path-template.ts';

describe('compilePathTemplate', () => {
  it('matches one non-empty segment per parameter and returns the raw values by name', () => {
    const t = compilePathTemplate('/api/v1/balance/checkpoints/{checkpointId}/receipts');
    expect(t.names).toEqual(['checkpointId']);
    expect(t.match('/api/v1/balance/checkpoints/cp%201/receipts')).toEqual({ checkpointId: 'cp%201' });
    for (const miss of ['/api/v1/balance/checkpoints//receipts', '/api/v1/balance/checkpoints/a/b/receipts', '/api/v1/balance/checkpoints/a/receipts/', 'x/api/v1/balance/checkpoints/a/receipts']) {
      expect(t.test(miss), miss).toBe(false);
    }
  });
  it('treats regular-expression characters of the template literally', () => {
    const t = compilePathTemplate('/a.b/{id}+');
    expect(t.test('/a.b/x+')).toBe(true);
    expect(t.test('/aXb/x+')).toBe(false);
    expect(t.test('/a.b/xx')).toBe(false);
  });
});

describe('document', () => {
  const doc = loadBundle('openapi');
  it('resolves pointers with ~0/~1 escapes and follows $ref chains', () => {
    expect(resolvePointer(doc, '#/paths/~1api~1v1~1balance~1delta/post').operationId).toBe('recordDelta');
    const viaRef = { $ref: '#/components/schemas/Amount' };
    expect(deref(doc, viaRef)).toBe(doc.components.schemas.Amount);
  });
  it('fails loudly on dangling, external and cyclic refs', () => {
    expect(() => deref(doc, { $ref: '#/components/schemas/Nope' })).toThrow('dangling $ref #/components/schemas/Nope');
    expect(() => deref(doc, { $ref: 'other.yaml#/x' })).toThrow('cannot follow $ref other.yaml#/x');
    const cyclic = { a: { $ref: '#/b' }, b: { $ref: '#/a' } };
    expect(() => deref(cyclic, { $ref: '#/a' })).toThrow('cannot follow');
  });
  it('inlines every $ref of a schema (at any depth, as draft-07 reads them), leaving the document unchanged, and refuses a recursive one', () => {
    const doc2 = {
      components: { schemas: { Id: { type: 'string', minLength: 1 }, Pair: { type: 'object', properties: { a: { $ref: '#/components/schemas/Id' }, b: { items: [{ $ref: '#/components/schemas/Id' }] } } } } },
    };
    const before = JSON.stringify(doc2);
    expect(inlineRefs(doc2, { $ref: '#/components/schemas/Pair', description: 'ignored beside $ref' })).toEqual({
      type: 'object',
      properties: { a: { type: 'string', minLength: 1 }, b: { items: [{ type: 'string', minLength: 1 }] } },
    });
    expect(JSON.stringify(doc2)).toBe(before);
    const body = inlineRefs(doc, resolvePointer(doc, '#/paths/~1api~1v1~1balance~1delta/post/requestBody/content/application~1json/schema'));
    expect(JSON.stringify(body)).not.toContain('$ref');
    const recursive = { components: { schemas: { Node: { type: 'object', properties: { next: { $ref: '#/components/schemas/Node' } } } } } };
    expect(() => inlineRefs(recursive, { $ref: '#/components/schemas/Node' })).toThrow('cannot inline a recursive schema');
  });
  it('loadBundle is shared, readBundle is a fresh copy', () => {
    expect(loadBundle('openapi')).toBe(doc);
    expect(readBundle('openapi')).not.toBe(doc);
    expect(readBundle('openapi')).toEqual(doc);
  });
});

describe('listOperations', () => {
  const ops = listOperations(loadBundle('openapi'));
  const auth = (id: string) => ops.find((o) => o.operationId === id)?.auth;

  it('lists every operation of the document once, with its pointer resolving to it', () => {
    const doc = loadBundle('openapi');
    const count = Object.values<any>(doc.paths).reduce((n, item) => n + Object.keys(item).filter((k) => ['get', 'put', 'post', 'delete', 'patch', 'head', 'options', 'trace'].includes(k)).length, 0);
    expect(ops).toHaveLength(count);
    expect(new Set(ops.map((o) => o.operationId)).size).toBe(count);
    for (const o of ops) expect(resolvePointer(doc, o.pointer)).toBe(o.operation);
  });

  it('classifies each operation by its security requirement', () => {
    expect(auth('deriveBalance')).toEqual({ kind: 'apiKey', permissions: ['balance:read'] });
    expect(auth('recordDelta')).toEqual({ kind: 'apiKey', permissions: ['balance:write'] });
    expect(auth('verifyProofRoot')).toEqual({ kind: 'public' });
    expect(auth('login')).toEqual({ kind: 'public' });
    expect(auth('listApiKeys')).toEqual({ kind: 'session', csrf: false });
    expect(auth('createApiKey')).toEqual({ kind: 'session', csrf: true });
    expect(auth('refreshSession')).toEqual({ kind: 'refresh', csrf: true });
  });

  it('fails loudly on security the contract does not use', () => {
    const schemes = { ApiKeyAuth: { type: 'apiKey', in: 'header' }, Basic: { type: 'http', scheme: 'basic' } };
    expect(() => authOf('x', [{ Basic: [] }], schemes)).toThrow('x: security scheme Basic is not supported');
    expect(() => authOf('x', [{ ApiKeyAuth: [] }, {}], schemes)).toThrow('alternative security requirements');
    expect(() => authOf('x', [{ ApiKeyAuth: [] }], { ApiKeyAuth: { type: 'apiKey', in: 'query' } })).toThrow('not supported');
  });

  it('finds the operation of a request, concrete templates first, and the methods of a path', () => {
    expect(findOperation(ops, 'GET', '/dashboard/api-keys')?.operationId).toBe('listApiKeys');
    expect(findOperation(ops, 'get', '/dashboard/api-keys/key_1')?.operationId).toBe('getApiKey');
    expect(findOperation(ops, 'PUT', '/dashboard/api-keys/key_1')).toBeUndefined();
    expect(allowedMethods(ops, '/dashboard/api-keys/key_1').sort()).toEqual(['DELETE', 'GET']);
    expect(allowedMethods(ops, '/nowhere')).toEqual([]);
  });
});
