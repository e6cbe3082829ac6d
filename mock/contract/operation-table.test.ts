// The compiled operation table (operation-table.ts), alone: concrete templates before
// parameterised ones, the method index, 404 for an unknown path and 405 (with the methods
// served) for a known path with another method — and, over both bundled contracts, every
// operation routed to itself and every other method at its path to 405.
import { describe, expect, it } from 'vitest';
import { loadBundle } from '../../contract/document.ts';
import { compileOperationTable, type OperationTable } from './operation-table.ts';

/** A minimal contract with these operations (`method path`), each answering 204. */
function contract(...operations: string[]) {
  const paths: Record<string, Record<string, unknown>> = {};
  for (const entry of operations) {
    const [method, path] = entry.split(' ') as [string, string];
    const names = [...path.matchAll(/\{([^}]+)\}/g)].map((m) => m[1]!);
    (paths[path] ??= {})[method] = {
      operationId: `${method}${path.replace(/[^A-Za-z]/g, '_')}`,
      security: [],
      parameters: names.map((name) => ({ name, in: 'path', required: true, schema: { type: 'string' } })),
      responses: { '204': { description: 'done' } },
    };
  }
  return { openapi: '3.1.0', info: { title: 't', version: '1' }, paths };
}

const outcome = (table: OperationTable, method: string, path: string) => {
  const route = table.route(method, path);
  return route.kind === 'operation' ? `${route.operation.method} ${route.operation.path}` : route.kind === 'method-not-allowed' ? `405 ${route.allowed.join(',')}` : 404;
};

describe('compileOperationTable: routing', () => {
  const operations = ['get /keys/{id}', 'get /keys/current', 'delete /keys/{id}', 'post /keys', 'get /tenants/{tenantId}/keys/{keyId}'];
  const table = compileOperationTable(contract(...operations));

  it.each([
    ['get', '/keys/current', 'get /keys/current'], // concrete before {id}, whatever the order given
    ['get', '/keys/key_1', 'get /keys/{id}'],
    ['GET', '/keys/key_1', 'get /keys/{id}'], // methods compared without case
    ['delete', '/keys/current', 'delete /keys/{id}'], // no concrete DELETE: the template matches
    ['post', '/keys', 'post /keys'],
    ['get', '/tenants/t1/keys/k1', 'get /tenants/{tenantId}/keys/{keyId}'],
    ['get', '/keys', '405 POST'], // the path exists for POST only
    ['patch', '/keys/key_1', '405 GET,DELETE'],
    ['get', '/nothing', 404],
    ['get', '/keys/', 404], // a parameter is one non-empty segment
    ['get', '/keys/a/b', 404],
    ['get', '/tenants/t1/keys', 404],
    ['get', '/keys/current/', 404], // no trailing-slash folding
  ])('%s %s → %s', (method, path, expected) => {
    expect(outcome(table, method, path)).toBe(expected);
  });

  it('answers the same whatever order the operations come in', () => {
    const reversed = compileOperationTable(contract(...[...operations].reverse()));
    for (const path of ['/keys/current', '/keys/x', '/tenants/a/keys/b']) expect(outcome(reversed, 'get', path)).toBe(outcome(table, 'get', path));
  });

  it('gives the raw (still percent-encoded) path parameters', () => {
    const route = table.route('get', '/tenants/t%201/keys/k%2F1');
    expect(route.kind === 'operation' && route.rawParams).toEqual({ tenantId: 't%201', keyId: 'k%2F1' });
  });

  it('routes no request of an empty contract', () => {
    expect(outcome(compileOperationTable(contract()), 'get', '/')).toBe(404);
  });

  it('fails loudly, at compile time, on what the sandbox does not implement', () => {
    const withArray = contract('get /things');
    (withArray.paths['/things']!.get as any).parameters = [{ name: 'ids', in: 'query', schema: { type: 'array', items: { type: 'string' } } }];
    expect(() => compileOperationTable(withArray)).toThrow(/ids: only primitive parameters are supported/);
    const withCookie = contract('get /things');
    (withCookie.paths['/things']!.get as any).parameters = [{ name: 'c', in: 'cookie', schema: { type: 'string' } }];
    expect(() => compileOperationTable(withCookie)).toThrow(/only path, query and header parameters/);
    const withForm = contract('post /things');
    (withForm.paths['/things']!.post as any).requestBody = { content: { 'application/x-www-form-urlencoded': { schema: { type: 'object' } } } };
    expect(() => compileOperationTable(withForm)).toThrow(/media types other than application\/json/);
  });

  it('routes every operation of the bundled contracts to itself, and other methods at its path to 405', () => {
    for (const bundle of ['openapi', 'sandbox-control']) {
      const bundled = compileOperationTable(loadBundle(bundle));
      expect(bundled.operations.length).toBeGreaterThan(bundle === 'openapi' ? 30 : 4);
      for (const op of bundled.operations) {
        // A concrete path for the template: each {param} a value no concrete template has.
        const path = op.path.replace(/\{[^}]+\}/g, 'zz_value_1');
        const concrete = bundled.operations.find((o) => o.method === op.method && o.path === path);
        const routed = bundled.route(op.method, path);
        expect(routed.kind === 'operation' && routed.operation, `${op.method} ${op.path}`).toBe(concrete ?? op);
        const served = new Set(bundled.operations.filter((o) => o.template.test(path)).map((o) => o.method.toUpperCase()));
        for (const other of ['GET', 'POST', 'PUT', 'PATCH', 'DELETE'].filter((m) => !served.has(m))) {
          expect(outcome(bundled, other, path), `${other} ${path}`).toBe(`405 ${[...served].join(',')}`);
        }
      }
    }
  });
});
