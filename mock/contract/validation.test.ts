// The compiled checks (validation.ts) must never accept what Prism's validator rejects, and
// must accept the contract's own examples without asking Prism (or they would not be faster).
// Checked for every operation of both contracts, on the documented examples and on mutations
// of them, against Prism through its public API (prism.ts). The fuzz test
// (test/hardening/fuzz.test.ts) shadows every one of its requests and responses the same way.
import { describe, expect, it } from 'vitest';
import { deref, loadBundle, type Json } from '../../contract/document.ts';
import { compileOperationTable, type TableOperation } from './operation-table.ts';
import type { PrismRequest } from './prism.ts';

const contracts = ['openapi', 'sandbox-control'].map((name) => ({ name, document: loadBundle(name), table: compileOperationTable(loadBundle(name)) }));

const exampleOf = (schema: Json): unknown => schema?.examples?.[0] ?? schema?.example ?? schema?.default ?? schema?.enum?.[0] ?? schema?.const;

type Example = PrismRequest & { rawParams: Record<string, string> };

/** A request the contract documents: example path/query/header values and the first body example. */
function exampleRequest(document: Json, op: TableOperation): Example | undefined {
  const params = [...(document.paths[op.path].parameters ?? []), ...(op.operation.parameters ?? [])].map((p: Json) => deref(document, p));
  const rawParams: Record<string, string> = {};
  let path = op.path;
  for (const p of params.filter((p) => p.in === 'path')) {
    const value = exampleOf(deref(document, p.schema));
    if (value === undefined) return undefined;
    rawParams[p.name] = encodeURIComponent(String(value));
    path = path.replace(`{${p.name}}`, rawParams[p.name]!);
  }
  const query: Record<string, string> = {};
  for (const q of params.filter((p) => p.in === 'query')) {
    const value = exampleOf(deref(document, q.schema));
    if (q.required || value !== undefined) query[q.name] = String(value);
  }
  const headers: Record<string, string> = {};
  for (const h of params.filter((p) => p.in === 'header')) if (h.required) headers[h.name.toLowerCase()] = String(exampleOf(deref(document, h.schema)));
  const requestBody = op.operation.requestBody && deref(document, op.operation.requestBody);
  const content = requestBody?.content?.['application/json'];
  const examples = content ? Object.values<Json>(content.examples ?? {}).map((e) => deref(document, e).value) : [];
  const body = examples[0] ?? content?.example;
  if (requestBody?.required && body === undefined) return undefined;
  if (body !== undefined) {
    headers['content-type'] = 'application/json';
    headers['content-length'] = String(Buffer.byteLength(JSON.stringify(body)));
  }
  return { method: op.method, url: { path, query }, headers, body, rawParams };
}

function mutations(request: Example): Array<[string, Example]> {
  const out: Array<[string, Example]> = [];
  const body = request.body as Json;
  const withHeaders = (h: Record<string, string>) => ({ ...request, headers: { ...request.headers, ...h } });
  const withQuery = (q: Record<string, string | string[]>) => ({ ...request, url: { ...request.url, query: q } });
  out.push(['no body', { ...request, body: undefined }]);
  out.push(['unparsable content type', withHeaders({ 'content-type': '/;;' })]);
  out.push(['a body where none is documented', { ...withHeaders({ 'content-type': 'application/json', 'content-length': '7' }), body: body ?? { x: 1 } }]);
  if (body && typeof body === 'object') {
    out.push(['extra member', { ...request, body: { ...body, unexpectedMember: 1 } }]);
    out.push(['array body', { ...request, body: [body] }]);
    for (const key of Object.keys(body)) {
      const { [key]: _dropped, ...rest } = body;
      out.push([`without ${key}`, { ...request, body: rest }]);
      out.push([`${key}: number`, { ...request, body: { ...body, [key]: 12345 } }]);
      out.push([`${key}: object`, { ...request, body: { ...body, [key]: { a: [] } } }]);
      out.push([`${key}: long string`, { ...request, body: { ...body, [key]: 'x'.repeat(5000) } }]);
      out.push([`${key}: bad date-time`, { ...request, body: { ...body, [key]: '2026-02-30T25:00:00Z' } }]);
    }
  }
  for (const key of Object.keys(request.url.query)) {
    out.push([`query ${key} empty`, withQuery({ ...request.url.query, [key]: '' })]);
    out.push([`query ${key} twice`, withQuery({ ...request.url.query, [key]: ['1', '2'] })]);
    out.push([`query ${key} not a number`, withQuery({ ...request.url.query, [key]: 'x1' })]);
    out.push([`query ${key} negative`, withQuery({ ...request.url.query, [key]: '-1' })]);
    out.push([`query ${key.toUpperCase()}`, withQuery({ [key.toUpperCase()]: '0' })]);
  }
  for (const key of Object.keys(request.headers)) {
    if (key.startsWith('content-')) continue;
    out.push([`header ${key} empty`, withHeaders({ [key]: '' })]);
    out.push([`header ${key} spaces`, withHeaders({ [key]: ' a b ' })]);
  }
  for (const name of Object.keys(request.rawParams)) {
    for (const value of ['a,b%20c', 'x'.repeat(300), '%20', '-1']) {
      out.push([`path ${name} = ${value.slice(0, 10)}`, { ...request, url: { ...request.url, path: request.url.path.replace(request.rawParams[name]!, value) }, rawParams: { ...request.rawParams, [name]: value } }]);
    }
  }
  return out;
}

const compiledAccepts = (op: TableOperation, r: Example) => op.checkRequest({ headers: r.headers, query: r.url.query, pathParams: r.rawParams, body: r.body });
const prismAccepts = async (op: TableOperation, r: Example) => (await op.prism.requestViolations(op.operationId, r)).length === 0;

describe('compiled checks against Prism', () => {
  for (const { name, document, table } of contracts) {
    it(`${name}: accepts every documented request itself, and never accepts what Prism rejects`, async () => {
      let documented = 0;
      for (const op of table.operations) {
        const request = exampleRequest(document, op);
        if (!request) continue;
        expect({ compiled: compiledAccepts(op, request), prism: await prismAccepts(op, request) }, `${op.operationId}: the documented example`).toEqual({ compiled: true, prism: true });
        documented++;
        for (const [label, mutated] of mutations(request)) {
          if (compiledAccepts(op, mutated)) expect(await prismAccepts(op, mutated), `${op.operationId}: ${label} accepted by the compiled check only`).toBe(true);
        }
      }
      expect(documented).toBeGreaterThan(name === 'openapi' ? 30 : 4);
    }, 60_000);

    it(`${name}: accepts every documented response example itself, and never accepts what Prism rejects`, async () => {
      let checked = 0;
      for (const op of table.operations) {
        const request = exampleRequest(document, op) ?? { method: op.method, url: { path: op.path, query: {} }, headers: {}, body: undefined, rawParams: {} };
        for (const [code, documentedResponse] of Object.entries<Json>(op.operation.responses ?? {})) {
          const status = Number(code);
          if (!Number.isInteger(status)) continue;
          const response = deref(document, documentedResponse);
          for (const [mediaType, content] of Object.entries<Json>(response.content ?? {})) {
            for (const [key, example] of Object.entries<Json>(content.examples ?? {})) {
              const headers: Record<string, string> = { 'content-type': mediaType };
              for (const [headerName, header] of Object.entries<Json>(response.headers ?? {})) {
                const value = exampleOf(deref(document, deref(document, header).schema)) ?? (headerName === 'X-Request-Id' ? 'req_abcdefgh1234' : undefined);
                if (value !== undefined) headers[headerName.toLowerCase()] = String(value);
              }
              const body = deref(document, example).value;
              const judge = async (label: string, res: { status: number; headers: Record<string, string>; body: unknown }) => {
                const compiled = op.checkResponse(res);
                const prism = (await op.prism.responseViolations(op.operationId, request, { statusCode: res.status, headers: res.headers, body: res.body })).length === 0;
                if (compiled) expect(prism, `${op.operationId} ${status} ${key} ${label}: accepted by the compiled check only`).toBe(true);
                return { compiled, prism };
              };
              const verdict = await judge('as documented', { status, headers, body });
              // Prism's verdict on the example itself is what it is (an example may lack a header example);
              // where Prism accepts it, so must the compiled check.
              if (verdict.prism) expect(verdict.compiled, `${op.operationId} ${status} ${key}: not accepted by the compiled check`).toBe(true);
              const { 'content-type': _ct, ...noContentType } = headers;
              const { 'x-request-id': _id, ...noRequestId } = headers;
              await judge('undocumented status', { status: 299, headers, body });
              await judge('no content type', { status, headers: noContentType, body });
              await judge('other content type', { status, headers: { ...headers, 'content-type': 'text/html' }, body });
              await judge('no body', { status, headers, body: undefined });
              await judge('string body', { status, headers, body: 'text' });
              await judge('extra member', { status, headers, body: body && typeof body === 'object' ? { ...body, zzz: 1 } : body });
              await judge('no request id', { status, headers: noRequestId, body });
              await judge('bad request id', { status, headers: { ...headers, 'x-request-id': 'nope' }, body });
              checked++;
            }
          }
        }
      }
      expect(checked).toBeGreaterThan(name === 'openapi' ? 60 : 4);
    }, 60_000);
  }
});

describe('date-time in compiled checks', () => {
  const derive = contracts[0]!.table.byId.get('deriveBalance')!;
  const view = (at: unknown) => ({
    status: 200,
    headers: { 'content-type': 'application/json', 'x-request-id': 'req_AbCdEfGh12345678' },
    body: { statusCode: 200, data: { customerId: 'customer_001', computedBalance: '1.25', deltaCount: 1, confirmedCount: 0, firstDeltaAt: at, lastDeltaAt: at, lastCheckpoint: null } },
  });

  it('accepts RFC 3339 instants with every field in range, and nothing else, however often a value was seen before', () => {
    for (const round of [1, 2]) {
      for (const bad of ['', '2025-02-29T00:00:00Z', '2026-02-30T00:00:00Z', '2026-13-01T00:00:00Z', '2026-12-01T24:00:00Z', '2026-12-01T00:60:00Z', '2026-12-01T00:00:60Z', '2026-12-01T00:00:00+24:00', '2026-12-01 00:00:00Z', '2026-12-01T00:00:00']) {
        // Twice in a row: a value the check had just seen (and refused) is not accepted from memory.
        for (const time of [1, 2]) expect(derive.checkResponse(view(bad)), `${JSON.stringify(bad)} (round ${round}, time ${time})`).toBe(false);
      }
      for (const good of ['2026-12-01T04:30:10.183Z', '2024-02-29T23:59:59Z', '2026-06-01T12:00:00+05:30']) expect(derive.checkResponse(view(good)), `${good} (round ${round})`).toBe(true);
    }
  });
});
