// The compiled router (router.ts), alone: concrete templates before parameterised ones, the
// method index, 404 for an unknown path and 405 for a known path with another method — and,
// over the whole bundled contract, the same operation as a plain scan of its path templates.
import type { IHttpOperation } from '@stoplight/types';
import * as E from 'fp-ts/lib/Either.js';
import { describe, expect, it } from 'vitest';
import { readBundle } from './operations.ts';
import { createRouter } from './router.ts';

const op = (method: string, path: string): IHttpOperation => ({ id: `${method} ${path}`, iid: `${method} ${path}`, method, path, responses: [], servers: [], request: {}, security: [] }) as unknown as IHttpOperation;

const route = (router: ReturnType<typeof createRouter>, method: string, path: string) =>
  router({ resources: [], input: { method: method as never, url: { path } } });

const outcome = (result: ReturnType<ReturnType<typeof createRouter>>) =>
  E.isRight(result) ? result.right.iid : (result.left as Error & { status?: number }).status;

describe('createRouter', () => {
  const operations = [
    op('get', '/keys/{id}'),
    op('get', '/keys/current'),
    op('delete', '/keys/{id}'),
    op('post', '/keys'),
    op('get', '/tenants/{tenantId}/keys/{keyId}'),
    op('GET', '/upper'),
  ];
  const router = createRouter(operations);

  it.each([
    // [method, path, the operation's iid, or the error status]
    ['get', '/keys/current', 'get /keys/current'], // concrete before {id}, whatever the order given
    ['get', '/keys/key_1', 'get /keys/{id}'],
    ['GET', '/keys/key_1', 'get /keys/{id}'], // methods compared without case
    ['delete', '/keys/current', 'delete /keys/{id}'], // no concrete DELETE: the template matches
    ['post', '/keys', 'post /keys'],
    ['get', '/tenants/t1/keys/k1', 'get /tenants/{tenantId}/keys/{keyId}'],
    ['get', '/upper', 'GET /upper'],
    ['get', '/keys', 405], // the path exists for POST only
    ['patch', '/keys/key_1', 405],
    ['post', '/keys/key_1', 405],
    ['get', '/nothing', 404],
    ['get', '/keys/', 404], // a parameter is one non-empty segment
    ['get', '/keys/a/b', 404],
    ['get', '/tenants/t1/keys', 404],
    ['get', '/keys/current/', 404], // no trailing-slash folding
  ])('%s %s → %s', (method, path, expected) => {
    expect(outcome(route(router, method, path))).toBe(expected);
  });

  it('answers the same whatever order the operations come in', () => {
    const reversed = createRouter([...operations].reverse());
    for (const path of ['/keys/current', '/keys/x', '/tenants/a/keys/b']) {
      expect(outcome(route(reversed, 'get', path))).toBe(outcome(route(router, 'get', path)));
    }
  });

  it('routes no request of an empty contract', () => {
    expect(outcome(route(createRouter([]), 'get', '/'))).toBe(404);
  });

  it('routes every operation of the bundled contracts to itself, and other methods at its path to 405', () => {
    for (const bundle of ['openapi', 'sandbox-control']) {
      const prism = readBundle(`${bundle}.prism`) as unknown as IHttpOperation[];
      const router = createRouter(prism);
      for (const operation of prism) {
        // A concrete path for the template: each {param} a value no concrete template has.
        const path = operation.path.replace(/\{[^}]+\}/g, 'zz_value_1');
        const routed = route(router, operation.method, path);
        const concrete = prism.find((o) => o.method === operation.method && o.path === path);
        expect(E.isRight(routed) && routed.right, `${operation.method} ${operation.path}`).toBe(concrete ?? operation);
        const served = (o: IHttpOperation) => {
          const r = route(router, o.method, path);
          return E.isRight(r) && r.right === o;
        };
        const methods = new Set(prism.filter(served).map((o) => o.method));
        for (const other of ['get', 'post', 'put', 'patch', 'delete'].filter((m) => !methods.has(m))) {
          expect(outcome(route(router, other, path)), `${other} ${path}`).toBe(405);
        }
      }
    }
  });
});
