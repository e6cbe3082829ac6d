// A waiting exchange is the exchange as answered, nothing lost or changed: every field, present or
// absent, every header field in its order, list values (Set-Cookie) and large bodies. Repeated
// values are shared, different ones never merged; the sharing's slots are bounded.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { AuthVerdict, Exchange } from '../http/exchange.ts';
import { LastValues } from './last-values.ts';
import { createWaitingPacker, markRequestId, REQUEST_ID, sentValue } from './waiting.ts';

const text = fc.string({ maxLength: 40 });
const headerName = fc.stringMatching(/^[a-z][a-z0-9-]{0,20}$/);
const verdict: fc.Arbitrary<AuthVerdict> = fc.oneof(
  fc.constant({ kind: 'public' as const }),
  fc.record({ kind: fc.constant('apiKey' as const), keyId: fc.constantFrom('key_a', 'key_b'), tenantId: fc.constantFrom('tnt_a', 'tnt_b'), environment: fc.constantFrom('test' as const, 'live' as const) }),
  fc.record({ kind: fc.constant('session' as const), userId: fc.constantFrom('usr_a', 'usr_b'), tenantId: fc.constantFrom('tnt_a', 'tnt_b') }),
  fc.record({ kind: fc.constant('refused' as const), code: fc.constantFrom('unauthenticated', 'rate_limited') }),
);
const exchange: fc.Arbitrary<Exchange> = fc
  .record(
    {
      requestId: fc.stringMatching(/^req_[A-Za-z0-9]{16}$/),
      at: fc.integer({ min: 0, max: 4_102_444_800_000 }),
      durationMs: fc.double({ min: 0, max: 1e6, noNaN: true }),
      environment: fc.constantFrom('test' as const, 'live' as const),
      surface: fc.constantFrom('api' as const, 'control' as const, 'docs' as const, 'none' as const),
      method: fc.constantFrom('GET', 'POST', 'PATCH', 'DELETE'),
      url: fc.constantFrom('/api/v1/balance/derive/customer_001', '/dashboard/api-keys?page=2', '/'),
      operationId: fc.constantFrom('deriveBalance', 'recordDelta', 'login'),
      auth: verdict,
      violations: fc.array(fc.record({ location: fc.array(text, { maxLength: 3 }), code: text, message: text }), { maxLength: 2 }),
      request: fc.record({ headers: fc.dictionary(headerName, fc.constantFrom('application/json', 'keep-alive', 'pk_test_a.sk_test_b', '')), body: fc.oneof(text, fc.constant('x'.repeat(20_000))) }, { requiredKeys: ['headers'] }),
      response: fc.record(
        {
          status: fc.integer({ min: 100, max: 599 }),
          headers: fc.dictionary(headerName, fc.oneof(fc.constantFrom('application/json', '1'), fc.array(text, { minLength: 1, maxLength: 2 }))),
          body: text,
        },
        { requiredKeys: ['status', 'headers'] },
      ),
      problemCode: fc.constantFrom('not_found', 'validation_failed'),
      chaos: fc.constantFrom('latency 120 ms', 'status 503'),
    },
    { requiredKeys: ['requestId', 'at', 'durationMs', 'environment', 'surface', 'method', 'url', 'violations', 'request', 'response'] },
  );

describe('a waiting exchange', () => {
  it('unpacks to the exchange as answered, whatever it holds and whatever waited before it', () => {
    const packer = createWaitingPacker();
    fc.assert(
      fc.property(fc.array(exchange, { minLength: 1, maxLength: 8 }), (exchanges) => {
        const waiting = exchanges.map((e) => packer.pack(e));
        const back = waiting.map((w) => packer.unpack(w));
        expect(back).toEqual(exchanges);
        // Header fields in the order they came, and none of another exchange's.
        back.forEach((e, i) => {
          expect(Object.keys(e.request.headers)).toEqual(Object.keys(exchanges[i]!.request.headers));
          expect(Object.keys(e.response.headers)).toEqual(Object.keys(exchanges[i]!.response.headers));
        });
        expect(waiting.map((w) => packer.charsOf(w))).toEqual(exchanges.map((e) => (e.request.body?.length ?? 0) + (e.response.body?.length ?? 0)));
      }),
      { numRuns: 300 },
    );
  });

  it('puts each request’s own id back where a header field held it, though the field lists are shared', () => {
    const packer = createWaitingPacker();
    const answered = (requestId: string): Exchange => ({
      requestId, at: 1, durationMs: 1, environment: 'test', surface: 'api', method: 'GET', url: '/', violations: [], operationId: 'deriveBalance',
      request: { headers: { 'x-echo': requestId, host: 'h' } },
      response: { status: 200, headers: { 'content-type': 'application/json', 'x-request-id': requestId, 'x-other': 'req_0000000000000001' } },
    });
    const ids = ['req_0000000000000001', 'req_0000000000000002', 'req_0000000000000003'];
    const waiting = ids.map((id) => packer.pack(answered(id)));
    expect(waiting.map((w) => packer.unpack(w))).toEqual(ids.map(answered));
  });

  it('keeps own header fields only, named anything: __proto__, digits, capitals; nothing inherited', () => {
    const packer = createWaitingPacker();
    const headers = Object.create({ inherited: 'z' }) as Record<string, string>;
    Object.defineProperty(headers, '__proto__', { value: 'p', enumerable: true, writable: true, configurable: true });
    Object.assign(headers, { '123': 'n', 'X-Up': 'u' });
    const sent: Exchange = { requestId: 'req_0000000000000001', at: 1, durationMs: 1, environment: 'test', surface: 'api', method: 'GET', url: '/', violations: [], request: { headers }, response: { status: 200, headers: JSON.parse('{"__proto__":["a","b"]}') } };
    for (let i = 0; i < 2; i++) {
      const back = packer.unpack(packer.pack(sent));
      expect(Object.entries(back.request.headers)).toEqual([['123', 'n'], ['__proto__', 'p'], ['X-Up', 'u']]);
      expect(Object.getPrototypeOf(back.response.headers)).toBe(Object.prototype);
      expect(Object.entries(back.response.headers)).toEqual([['__proto__', ['a', 'b']]]);
    }
  });

  it('shares an equal verdict and never merges different ones; after forget() nothing is shared', () => {
    const packer = createWaitingPacker();
    const base = { requestId: 'req_0000000000000001', at: 1, durationMs: 1, environment: 'test' as const, surface: 'api' as const, method: 'GET', url: '/', violations: [], request: { headers: {} }, response: { status: 200, headers: {} } };
    const a1: AuthVerdict = { kind: 'apiKey', keyId: 'key_a', tenantId: 'tnt_a', environment: 'test' };
    const a2: AuthVerdict = { ...a1 };
    const b: AuthVerdict = { ...a1, keyId: 'key_b' };
    const [p1, p2, p3] = [a1, a2, b].map((auth) => packer.unpack(packer.pack({ ...base, auth })).auth);
    expect(p2).toBe(p1);
    expect(p3).toEqual(b);
    expect(p3).not.toBe(p1);
    packer.forget();
    expect(packer.unpack(packer.pack({ ...base, auth: { ...a1 } })).auth).not.toBe(p1);
  });
});

describe('marking the request id in flat header fields', () => {
  it('marks values only (never a name), copies only when there is one, and puts it back', () => {
    const id = 'req_0000000000000009';
    const none = ['content-type', 'application/json'];
    expect(markRequestId(none, id)).toBe(none);
    const fields = [id, 'x', 'x-request-id', id, 'x-echo', id];
    const marked = markRequestId(fields, id);
    expect(marked).toEqual([id, 'x', 'x-request-id', REQUEST_ID, 'x-echo', REQUEST_ID]);
    expect(fields).toEqual([id, 'x', 'x-request-id', id, 'x-echo', id]);
    expect(marked.map((v) => sentValue(v, id))).toEqual(fields);
  });
});

describe('LastValues', () => {
  const same = (x: { v: number }, y: { v: number }) => x.v === y.v;

  it('answers the held value for an equal one, per slot, and holds a different one in its place', () => {
    const values = new LastValues(same);
    const first = { v: 1 };
    expect(values.share('a', first)).toBe(first);
    expect(values.share('a', { v: 1 })).toBe(first);
    expect(values.share('b', { v: 1 })).not.toBe(first);
    const second = { v: 2 };
    expect(values.share('a', second)).toBe(second);
    expect(values.share('a', { v: 2 })).toBe(second);
    values.clear();
    expect(values.share('a', { v: 2 })).not.toBe(second);
  });

  it('holds at most 128 slots: a new slot beyond them lets go of all held', () => {
    const values = new LastValues(same);
    const held = Array.from({ length: 128 }, (_, i) => values.share(`slot${i}`, { v: i }));
    expect(values.share('slot0', { v: 0 })).toBe(held[0]);
    values.share('one-more', { v: -1 });
    expect(values.share('slot1', { v: 1 })).not.toBe(held[1]);
  });
});
