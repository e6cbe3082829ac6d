// Cheap requests that must not cost a lot (found by a tester): a 1 MiB body of unknown
// members once got a 17.5 MB 422 after 2.4 s, and the same body sent without any credentials
// to an authenticated operation was parsed and validated before its 401.
//
// - Credentials first: an authenticated operation refuses a request without valid credentials
//   (401, or 403 for a key without the permission or a missing CSRF header) before its body is
//   parsed or validated — whatever the body, the answer is that exact refusal, Prism's request
//   validator never runs, and nothing changes. Public operations are validated as before.
// - A 422 lists at most 20 violations and counts the rest in `violationsOmitted`; nothing in an
//   error repeats more than a little of the request (messages and location segments ≤ 200
//   characters, locations ≤ 32 segments and `…`, details ≤ 500 characters).
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { createRequire } from 'node:module';
import { loginDemo } from '../testing/accounts.ts';
import type { TestResponse } from '../testing/http-client.ts';
import { CSRF, startTestSandbox, type TestSandbox } from '../testing/test-sandbox.ts';
import { boundedViolation, fail, MAX_VIOLATIONS, problemBody, truncate } from './problem.ts';

let sb: TestSandbox;
let key: Record<string, string>;
let readOnlyKey: Record<string, string>;

/** The tester's body: a valid login plus unknown members `"0":0,"1":0,…` up to 1 MiB. */
function unknownMembers(base: Record<string, unknown>, bytes = 1024 * 1024 - 64): { raw: string; unknown: number } {
  const parts = Object.entries(base).map(([k, v]) => `${JSON.stringify(k)}:${JSON.stringify(v)}`);
  let length = parts.join(',').length + 2;
  let unknown = 0;
  for (;;) {
    const part = `"${unknown.toString(36)}":0`;
    if (length + part.length + 1 > bytes) break;
    parts.push(part);
    length += part.length + 1;
    unknown++;
  }
  return { raw: `{${parts.join(',')}}`, unknown };
}

const LOGIN = { email: 'nobody@example.com', password: 'not the password' };
const DELTA = { customerId: 'cheap_001', delta: '1.00', reason: 'usage' };

beforeAll(async () => {
  sb = await startTestSandbox({ rateLimits: { client: { capacity: 10_000, refillPerSecond: 10_000 } } });
  key = { 'X-Api-Key': sb.demo!.apiKey };
  await loginDemo(sb);
  const created = await sb.dashboard.post('/dashboard/api-keys', { headers: CSRF, json: { name: 'read-only', permissions: ['balance:read'] } });
  expect(created.status, created.text).toBe(201);
  readOnlyKey = { 'X-Api-Key': created.body.data.fullKey };
});
afterAll(() => sb?.close());
afterEach(() => vi.restoreAllMocks());

/** Prism's public API, as the sandbox loads it (contract/prism.ts). */
const prismHttp = createRequire(import.meta.url)('@stoplight/prism-http') as {
  createInstance: (...args: unknown[]) => { request: (input: unknown, ...rest: unknown[]) => unknown };
  getHttpOperationsFromSpec: (...args: unknown[]) => unknown;
};

/** Prism's validator, which judges every request the compiled checks do not accept: the requests it was given. */
function spyOnPrismValidation() {
  const original = prismHttp.createInstance;
  const seen: Array<{ body?: unknown }> = [];
  vi.spyOn(prismHttp, 'createInstance').mockImplementation((...args: unknown[]) => {
    const instance = original(...args);
    return {
      request: (input: unknown, ...rest: unknown[]) => {
        seen.push(input as { body?: unknown });
        return instance.request(input, ...rest);
      },
    };
  });
  return seen;
}

function expectExactProblem(res: TestResponse, status: number, code: string, title: string, detail: string, instance: string) {
  expect(res.status, res.text.slice(0, 300)).toBe(status);
  expect(res.headers.get('content-type')).toBe('application/problem+json');
  expect(res.body).toEqual({
    type: `https://docs.pacspace.io/errors/${code}`,
    title,
    status,
    detail,
    code,
    requestId: expect.stringMatching(/^req_[A-Za-z0-9]{8,64}$/),
    instance,
  });
  expect(res.headers.get('x-request-id')).toBe(res.body.requestId);
}

const UNAUTHENTICATED = ['unauthenticated', 'Unauthenticated', 'Valid credentials are required for this request.'] as const;

describe('valid requests cost no Prism', () => {
  it('the quick start, keys and webhooks, answered: judged by the compiled checks alone, Prism is never asked', async () => {
    const prism = spyOnPrismValidation();
    const recorded = await sb.sandboxApi.post('/api/v1/balance/delta', { headers: key, json: DELTA });
    expect(recorded.status, recorded.text).toBe(201);
    const sent = [
      recorded,
      await sb.sandboxApi.post('/api/v1/balance/delta', { headers: { ...key, 'Idempotency-Key': 'cheap-idem-1' }, json: { ...DELTA, delta: -2.5 } }),
      await sb.sandboxApi.get('/api/v1/balance/derive/cheap_001', { headers: key }),
      await sb.sandboxApi.get(`/api/v1/receipts/${recorded.body.data.receiptId}`, { headers: key }),
      await sb.sandboxApi.post('/api/v1/balance/compare', { headers: key, json: { customerId: 'cheap_001', yourBalance: '-1.5', theirBalance: '-1.5' } }),
      await sb.sandboxApi.post('/api/v1/balance/checkpoint', { headers: key, json: { customerId: 'cheap_001' } }),
      await sb.dashboard.get('/dashboard/api-keys?page=1&limit=5'),
      await sb.dashboard.get('/dashboard/auth/me'),
      await sb.dashboard.get('/dashboard/billing'),
      await sb.dashboard.post('/dashboard/webhooks', { headers: CSRF, json: { url: 'http://127.0.0.1:9/hooks', events: ['checkpoint.created'] } }),
    ];
    for (const res of sent) {
      expect(res.status, res.text).toBeLessThan(300);
      expect(res.headers.get('sl-violations')).toBeNull();
    }
    expect(prism).toEqual([]);
  });
});

describe('warming Prism up', () => {
  it('warmUp loads Prism and its view of both contracts once: a later refusal uses them, worded as before', async () => {
    const fresh = await startTestSandbox();
    try {
      await fresh.warmUp();
      const transformed = vi.spyOn(prismHttp, 'getHttpOperationsFromSpec');
      const refused = await fresh.dashboard.post('/dashboard/auth/login', { json: { email: 'not an email', password: 7 }, noCookies: true });
      expect(refused.status).toBe(422);
      expect(refused.body.validation.map((v: { location: string[] }) => v.location.join('.')).sort()).toEqual(['body.email', 'body.password']);
      expect(transformed).not.toHaveBeenCalled();
    } finally {
      await fresh.close();
    }
  });
});

describe('credentials are checked before the body', () => {
  const huge = unknownMembers(DELTA);
  const cases: Array<[string, () => Promise<TestResponse>, number, readonly [string, string, string], string]> = [
    ['1 MiB of unknown members, no key', () => sb.sandboxApi.post('/api/v1/balance/delta', { headers: { 'content-type': 'application/json' }, raw: huge.raw }), 401, UNAUTHENTICATED, '/api/v1/balance/delta'],
    ['unparsable JSON, no key (401, not 400)', () => sb.sandboxApi.post('/api/v1/balance/delta', { headers: { 'content-type': 'application/json' }, raw: '{"customerId": ' }), 401, UNAUTHENTICATED, '/api/v1/balance/delta'],
    ['text/plain, no key (401, not 415)', () => sb.sandboxApi.post('/api/v1/balance/delta', { headers: { 'content-type': 'text/plain' }, raw: 'hello' }), 401, UNAUTHENTICATED, '/api/v1/balance/delta'],
    [
      'schema-invalid body, a wrong secret (401, not 422)',
      () => sb.sandboxApi.post('/api/v1/balance/delta', { headers: { 'X-Api-Key': sb.demo!.apiKey.replace(/.$/, (c) => (c === 'a' ? 'b' : 'a')) }, json: { delta: true, extra: 1 } }),
      401,
      UNAUTHENTICATED,
      '/api/v1/balance/delta',
    ],
    [
      'schema-invalid body, a key without balance:write (403, not 422)',
      () => sb.sandboxApi.post('/api/v1/balance/delta', { headers: readOnlyKey, json: { delta: true, extra: 1 } }),
      403,
      ['insufficient_permission', 'Insufficient permission', 'This API key does not have the balance:write permission.'],
      '/api/v1/balance/delta',
    ],
    [
      '1 MiB of unknown members to a dashboard operation, no session',
      () => sb.dashboard.post('/dashboard/api-keys', { headers: { 'content-type': 'application/json', ...CSRF }, raw: unknownMembers({ name: 'k' }).raw, noCookies: true }),
      401,
      UNAUTHENTICATED,
      '/dashboard/api-keys',
    ],
    [
      'schema-invalid body with a session but no CSRF header (403, not 422)',
      () => sb.dashboard.post('/dashboard/api-keys', { json: { name: 7, extra: true } }),
      403,
      ['csrf_required', 'CSRF header required', 'Unsafe dashboard requests must send the header X-Pacspace-CSRF: 1.'],
      '/dashboard/api-keys',
    ],
  ];

  it.each(cases)('%s → its refusal; the body is neither validated nor answered for, nothing changes', async (_name, send, status, [code, title, detail], instance) => {
    const prism = spyOnPrismValidation();
    const before = sb.services.store.eventCount;
    const res = await send();
    expectExactProblem(res, status, code, title, detail, instance);
    expect(prism).toEqual([]);
    expect(sb.services.store.eventCount).toBe(before);
  });

  it('with valid credentials the same bodies are parsed and validated: 400, 415, 422', async () => {
    const prism = spyOnPrismValidation();
    const before = sb.services.store.eventCount;
    const unparsable = await sb.sandboxApi.post('/api/v1/balance/delta', { headers: { ...key, 'content-type': 'application/json' }, raw: '{"customerId": ' });
    expect(unparsable.status).toBe(400);
    expect(unparsable.body.code).toBe('invalid_json');
    const plain = await sb.sandboxApi.post('/api/v1/balance/delta', { headers: { ...key, 'content-type': 'text/plain' }, raw: 'hello' });
    expect(plain.status).toBe(415);
    const invalid = await sb.sandboxApi.post('/api/v1/balance/delta', { headers: key, json: { delta: true, extra: 1 } });
    expect(invalid.status).toBe(422);
    expect(invalid.body.validation.map((v: { location: string[] }) => v.location.join('.'))).toEqual(expect.arrayContaining(['body', 'body.delta']));
    expect(prism.length).toBeGreaterThan(0);
    expect(sb.services.store.eventCount).toBe(before);
  });

  it('public operations need no credentials and are validated as before', async () => {
    const before = sb.services.store.eventCount;
    const login = await sb.dashboard.post('/dashboard/auth/login', { json: { email: 'not an email', password: 7 }, noCookies: true });
    expect(login.status).toBe(422);
    expect(login.body.validation.map((v: { location: string[] }) => v.location.join('.')).sort()).toEqual(['body.email', 'body.password']);
    const access = await sb.dashboard.post('/dashboard/auth/request-access', { headers: { 'content-type': 'application/json' }, raw: '{', noCookies: true });
    expect(access.status).toBe(400);
    expect(access.body.code).toBe('invalid_json');
    expect(sb.services.store.eventCount).toBe(before);
  });
});

describe('a 422 stays small', () => {
  it("the tester's 1 MiB login body: a 413 from the operation's own 16 KiB limit, never parsed, nothing counted or changed", async () => {
    const { raw } = unknownMembers(LOGIN);
    expect(raw.length).toBeGreaterThan(1_000_000);
    const before = sb.services.store.eventCount;
    const prism = spyOnPrismValidation();
    const res = await sb.dashboard.post('/dashboard/auth/login', { headers: { 'content-type': 'application/json' }, raw, noCookies: true });
    expectExactProblem(res, 413, 'payload_too_large', 'Payload too large', 'This operation accepts request bodies of at most 16384 bytes.', '/dashboard/auth/login');
    // Never parsed: validation (if it runs at all) sees no body.
    for (const input of prism) expect(input.body).toBeUndefined();
    expect(sb.services.store.eventCount).toBe(before);
    expect(sb.services.limits.login.peek(LOGIN.email).remaining).toBe(5);
  });

  it('the limit is exact: a 16,384-byte login body is parsed and validated, one byte more is a 413', async () => {
    const at = unknownMembers(LOGIN, 16_384).raw.padEnd(16_384, ' ');
    expect(Buffer.byteLength(at)).toBe(16_384);
    const parsed = await sb.dashboard.post('/dashboard/auth/login', { headers: { 'content-type': 'application/json' }, raw: at, noCookies: true });
    expect(parsed.status).toBe(422);
    const over = await sb.dashboard.post('/dashboard/auth/login', { headers: { 'content-type': 'application/json' }, raw: `${at} `, noCookies: true });
    expect(over.status).toBe(413);
    expect(over.body.code).toBe('payload_too_large');
  });

  it("a login body of unknown members under the limit → a 422 of a few kB: Prism's first 20 violations and the count of the rest", async () => {
    const { raw, unknown } = unknownMembers(LOGIN, 16_384);
    expect(unknown).toBeGreaterThan(1_000);
    const before = sb.services.store.eventCount;
    const res = await sb.dashboard.post('/dashboard/auth/login', { headers: { 'content-type': 'application/json' }, raw, noCookies: true });
    expect(res.status).toBe(422);
    expect(res.text.length).toBeLessThan(4_096);
    expect(res.body).toEqual({
      type: 'https://docs.pacspace.io/errors/validation_failed',
      title: 'Validation failed',
      status: 422,
      detail: 'The request does not match the contract; see validation.',
      code: 'validation_failed',
      requestId: expect.stringMatching(/^req_/),
      instance: '/dashboard/auth/login',
      validation: Array.from({ length: MAX_VIOLATIONS }, (_, i) => ({
        location: ['body'],
        severity: 'Error',
        code: 'additionalProperties',
        // (Ajv meets member names in JavaScript's property order: integer-like names first, ascending.)
        message: `Request body must NOT have additional properties; found '${i}'`,
      })),
      violationsOmitted: unknown - MAX_VIOLATIONS,
    });
    expect(sb.services.store.eventCount).toBe(before);
    // Refused before the handler: the address's failed-login count is untouched.
    expect(sb.services.limits.login.peek(LOGIN.email).remaining).toBe(5);
  });

  it('the same for an authenticated operation with a valid key', async () => {
    const { raw, unknown } = unknownMembers(DELTA);
    const before = sb.services.store.eventCount;
    const res = await sb.sandboxApi.post('/api/v1/balance/delta', { headers: { ...key, 'content-type': 'application/json' }, raw });
    expect(res.status).toBe(422);
    expect(res.text.length).toBeLessThan(4_096);
    expect(res.body.validation).toHaveLength(MAX_VIOLATIONS);
    expect(res.body.violationsOmitted).toBe(unknown - MAX_VIOLATIONS);
    expect(sb.services.store.eventCount).toBe(before);
  });

  it('a violation never repeats a long member name: messages are cut to 200 characters ending in …', async () => {
    const name = 'n'.repeat(15_000); // under login's 16 KiB body limit
    const res = await sb.dashboard.post('/dashboard/auth/login', { json: { ...LOGIN, [name]: 1 }, noCookies: true });
    expect(res.status).toBe(422);
    const prefix = "Request body must NOT have additional properties; found '";
    expect(res.body.validation).toEqual([{ location: ['body'], severity: 'Error', code: 'additionalProperties', message: `${prefix}${'n'.repeat(199 - prefix.length)}…` }]);
    expect(res.body.validation[0].message).toHaveLength(200);
    expect(res.body.violationsOmitted).toBeUndefined();
    expect(res.text.length).toBeLessThan(1_000);
  });

  it('nor a long name in a location (at most 200 characters a segment)', async () => {
    const name = 'm'.repeat(10_000);
    const res = await sb.sandboxApi.post('/api/v1/balance/delta', { headers: key, json: { ...DELTA, metadata: { [name]: { nested: true } } } });
    expect(res.status).toBe(422);
    for (const v of res.body.validation) {
      expect(v.message.length).toBeLessThanOrEqual(200);
      for (const segment of v.location) expect(segment.length).toBeLessThanOrEqual(200);
    }
    expect(res.body.validation.some((v: { location: string[] }) => v.location.includes(`${'m'.repeat(199)}…`))).toBe(true);
    expect(res.text.length).toBeLessThan(2_000);
  });
});

describe('problemBody bounds every error', () => {
  it('cuts a detail to 500 characters and counts violations past 20 (on top of any already omitted)', () => {
    const violation = { location: ['body', 'x'], severity: 'Error' as const, code: 'type', message: 'must be string' };
    const body = problemBody(fail('validation_failed', 'd'.repeat(2_000), { validation: Array.from({ length: 25 }, () => violation), violationsOmitted: 7 }), 'req_abcdefgh', '/p');
    expect(body.detail).toBe(`${'d'.repeat(499)}…`);
    expect(body.validation).toHaveLength(20);
    expect(body.violationsOmitted).toBe(12);
    const few = problemBody(fail('validation_failed', undefined, { validation: [violation] }), 'req_abcdefgh', '/p');
    expect(few.validation).toEqual([violation]);
    expect('violationsOmitted' in few).toBe(false);
  });

  it('truncate counts code points and never splits a surrogate pair', () => {
    expect(truncate('abc', 3)).toBe('abc');
    expect(truncate('abcd', 3)).toBe('ab…');
    expect(truncate('😀😀😀', 3)).toBe('😀😀😀');
    expect(truncate('😀😀😀😀', 3)).toBe('😀😀…');
    const deep = boundedViolation({ location: Array.from({ length: 40 }, (_, i) => String(i)), severity: 'Error', code: 'type', message: 'x' });
    expect(deep.location).toEqual([...Array.from({ length: 32 }, (_, i) => String(i)), '…']);
  });
});
