// The compiled validators must never accept what Prism's validators reject, and must accept
// the contract's own examples without falling back to Prism (or they would not be faster).
// Checked for every operation of both contracts, on the documented examples and on
// mutations of them. (The fuzz test, test/hardening/fuzz.test.ts, shadows every one of its
// requests and responses the same way.)
import { createRequire } from 'node:module';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { isDeepStrictEqual } from 'node:util';
import type { IHttpRequest, IHttpResponse } from '@stoplight/prism-http';
import type { IHttpOperation } from '@stoplight/types';
import * as E from 'fp-ts/lib/Either.js';
import { describe, expect, it } from 'vitest';
import { prismValidators } from './prism.ts';
import { createCompiledValidators } from './validators.ts';

const generated = join(import.meta.dirname, '..', '..', 'generated');
const contracts = ['openapi', 'sandbox-control'].map((name) => ({
  name,
  operations: JSON.parse(readFileSync(join(generated, `${name}.prism.json`), 'utf8')) as any[],
}));

const compiled = createCompiledValidators();
const prism = prismValidators();

function verdicts(kind: 'input', resource: IHttpOperation, element: IHttpRequest): { fast: boolean; prism: boolean };
function verdicts(kind: 'output', resource: IHttpOperation, element: IHttpResponse): { fast: boolean; prism: boolean };
function verdicts(kind: 'input' | 'output', resource: IHttpOperation, element: any) {
  const args = { resource, element } as never;
  const fast = kind === 'input' ? compiled.accepts.input(args) : compiled.accepts.output(args);
  let prismOk: boolean;
  try {
    prismOk = kind === 'input' ? E.isRight(prism.validateInput(args)) : E.isRight(prism.validateOutput(args));
  } catch {
    prismOk = false;
  }
  return { fast, prism: prismOk };
}

const exampleOf = (schema: any): unknown => schema?.examples?.[0] ?? schema?.example ?? schema?.default ?? schema?.enum?.[0] ?? schema?.const;

/** A request the contract documents: example path/query/header values and the first body example. */
function exampleRequest(op: any): IHttpRequest | undefined {
  let path = op.path as string;
  for (const p of op.request?.path ?? []) {
    const value = exampleOf(p.schema);
    if (value === undefined) return undefined;
    path = path.replace(`{${p.name}}`, encodeURIComponent(String(value)));
  }
  const query: Record<string, string> = {};
  for (const q of op.request?.query ?? []) if (q.required || exampleOf(q.schema) !== undefined) query[q.name] = String(exampleOf(q.schema));
  const headers: Record<string, string> = {};
  for (const h of op.request?.headers ?? []) if (h.required) headers[h.name.toLowerCase()] = String(exampleOf(h.schema));
  const content = op.request?.body?.contents?.[0];
  const body = content?.examples?.[0]?.value;
  if (op.request?.body?.required && body === undefined) return undefined;
  if (body !== undefined) {
    headers['content-type'] = content.mediaType;
    headers['content-length'] = String(Buffer.byteLength(JSON.stringify(body)));
  }
  return { method: op.method, url: { path, query }, headers, body };
}

function mutations(request: IHttpRequest): Array<[string, IHttpRequest]> {
  const out: Array<[string, IHttpRequest]> = [];
  const body = request.body as any;
  out.push(['no body', { ...request, body: undefined }]);
  out.push(['text/plain', { ...request, headers: { ...request.headers, 'content-type': 'text/plain' } }]);
  out.push(['form content type', { ...request, headers: { ...request.headers, 'content-type': 'application/x-www-form-urlencoded' } }]);
  out.push(['unparsable content type', { ...request, headers: { ...request.headers, 'content-type': '/;;' } }]);
  out.push(['a body where none is documented', { ...request, body: body ?? { x: 1 }, headers: { ...request.headers, 'content-type': 'application/json', 'content-length': '7' } }]);
  if (body && typeof body === 'object') {
    out.push(['extra member', { ...request, body: { ...body, unexpectedMember: 1 } }]);
    out.push(['array body', { ...request, body: [body] }]);
    for (const key of Object.keys(body)) {
      const { [key]: _dropped, ...rest } = body;
      out.push([`without ${key}`, { ...request, body: rest }]);
      out.push([`${key}: number`, { ...request, body: { ...body, [key]: 12345 } }]);
      out.push([`${key}: object`, { ...request, body: { ...body, [key]: { a: [] } } }]);
      out.push([`${key}: long string`, { ...request, body: { ...body, [key]: 'x'.repeat(5000) } }]);
    }
  }
  for (const key of Object.keys(request.url.query ?? {})) {
    out.push([`query ${key} empty`, { ...request, url: { ...request.url, query: { ...request.url.query, [key]: '' } } }]);
    out.push([`query ${key} twice`, { ...request, url: { ...request.url, query: { ...request.url.query, [key]: ['1', '2'] } } }]);
    out.push([`query ${key} not a number`, { ...request, url: { ...request.url, query: { ...request.url.query, [key]: 'x1' } } }]);
    out.push([`query ${key.toUpperCase()}`, { ...request, url: { ...request.url, query: { [key.toUpperCase()]: '0' } } }]);
  }
  for (const key of Object.keys(request.headers ?? {})) {
    if (key.startsWith('content-')) continue;
    out.push([`header ${key} empty`, { ...request, headers: { ...request.headers, [key]: '' } }]);
    out.push([`header ${key} spaces`, { ...request, headers: { ...request.headers, [key]: ' a b ' } }]);
  }
  const segments = request.url.path.split('/');
  out.push(['odd last segment', { ...request, url: { ...request.url, path: [...segments.slice(0, -1), 'a,b%20c%zz'].join('/') } }]);
  out.push(['header name in capitals', { ...request, headers: Object.fromEntries(Object.entries(request.headers ?? {}).map(([k, v]) => [k.toUpperCase(), v])) }]);
  return out;
}

describe('compiled validators', () => {
  it('merging allOf is the identity on every schema without one (so it is skipped there)', () => {
    const require = createRequire(createRequire(import.meta.url).resolve('@stoplight/prism-http'));
    const merge = require('@stoplight/json-schema-merge-allof') as (s: object, o: object) => object;
    let checked = 0;
    for (const { operations } of contracts) {
      for (const op of operations) {
        const schemas = [
          ...(op.request?.body?.contents ?? []).map((c: any) => c.schema),
          ...op.responses.flatMap((r: any) => (r.contents ?? []).map((c: any) => c.schema)),
        ].filter(Boolean);
        for (const schema of schemas) {
          if (JSON.stringify(schema).includes('"allOf"')) continue;
          expect(isDeepStrictEqual(merge(schema, { deep: true, ignoreAdditionalProperties: true }), schema)).toBe(true);
          checked++;
        }
      }
    }
    expect(checked).toBeGreaterThan(100);
  });

  for (const { name, operations } of contracts) {
    it(`${name}: accepts every documented request itself, and never accepts what Prism rejects`, () => {
      let fastValid = 0;
      for (const op of operations) {
        const request = exampleRequest(op);
        if (!request) continue;
        const valid = verdicts('input', op, request);
        expect(valid, `${op.iid}: the documented example`).toEqual({ fast: true, prism: true });
        fastValid++;
        for (const [label, mutated] of mutations(request)) {
          const v = verdicts('input', op, mutated);
          expect(v.fast && !v.prism, `${op.iid}: ${label} accepted by the compiled validator only`).toBe(false);
        }
      }
      expect(fastValid).toBeGreaterThan(name === 'openapi' ? 30 : 5);
    });

    it(`${name}: accepts every documented response example itself, and never accepts what Prism rejects`, () => {
      let checked = 0;
      for (const op of operations) {
        for (const response of op.responses) {
          const status = Number(response.code);
          if (!Number.isInteger(status)) continue;
          for (const content of response.contents ?? []) {
            for (const example of content.examples ?? []) {
              const headers: Record<string, string> = { 'content-type': content.mediaType };
              for (const h of response.headers ?? []) {
                const value = exampleOf(h.schema) ?? (h.name === 'X-Request-Id' ? 'req_abcdefgh1234' : undefined);
                if (value !== undefined) headers[h.name.toLowerCase()] = String(value);
              }
              const element: IHttpResponse = { statusCode: status, headers, body: example.value };
              const documented = verdicts('output', op, element);
              expect(documented.fast && !documented.prism, `${op.iid} ${status} ${example.key}`).toBe(false);
              // Prism's verdict on the example itself is what it is (an example may lack a header example);
              // where Prism accepts it, so must the compiled validator.
              if (documented.prism) expect(documented.fast, `${op.iid} ${status} ${example.key}: not accepted by the compiled validator`).toBe(true);
              const broken: Array<[string, IHttpResponse]> = [
                ['undocumented status', { ...element, statusCode: 299 }],
                ['no content type', { ...element, headers: { ...headers, 'content-type': undefined as never } }],
                ['other content type', { ...element, headers: { ...headers, 'content-type': 'text/html' } }],
                ['no body', { ...element, body: undefined }],
                ['string body', { ...element, body: 'text' }],
                ['extra member', { ...element, body: typeof example.value === 'object' ? { ...example.value, zzz: 1 } : example.value }],
                ['no request id', { ...element, headers: { ...headers, 'x-request-id': undefined as never } }],
                ['bad request id', { ...element, headers: { ...headers, 'x-request-id': 'nope' } }],
              ];
              for (const [label, el] of broken) {
                const v = verdicts('output', op, el);
                expect(v.fast && !v.prism, `${op.iid} ${status} ${label} accepted by the compiled validator only`).toBe(false);
              }
              checked++;
            }
          }
        }
      }
      expect(checked).toBeGreaterThan(name === 'openapi' ? 100 : 5);
    });
  }
});
