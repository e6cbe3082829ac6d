// The Balance API auth gate over real HTTP: every kind of bad key gets the same 401, a key
// without the permission gets 403, keys only work on their own environment's listener, and
// the per-key rate limit answers 429 with Retry-After and RateLimit headers.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { issueApiKey } from '../domain/api-keys.ts';
import { startTestSandbox, type TestSandbox } from '../testing/test-sandbox.ts';

let sb: TestSandbox;
let testKey: string;
let liveKey: string;
let readOnlyKey: string;

const DERIVE = '/api/v1/balance/derive/customer_001';
const withoutRequestId = (body: any) => ({ ...body, requestId: undefined });

beforeAll(async () => {
  sb = await startTestSandbox();
  testKey = sb.demo!.apiKey;
  const tenantId = sb.demo!.tenantId;
  // Set-up shortcut: the dashboard's key lifecycle has its own tests (domain/api-keys.test.ts).
  liveKey = (await issueApiKey(sb.services, tenantId, { name: 'live', environment: 'live', permissions: ['balance:read', 'balance:write'] })).fullKey;
  readOnlyKey = (await issueApiKey(sb.services, tenantId, { name: 'ro', environment: 'test', permissions: ['balance:read'] })).fullKey;
});

afterAll(() => sb.close());

describe('Balance API keys', () => {
  it('accepts the demo pk_test_ key on the sandbox listener', async () => {
    const res = await sb.sandboxApi.get(DERIVE, { headers: { 'X-Api-Key': testKey } });
    expect(res.status).toBe(200);
  });

  it('accepts a pk_live_ key on the production listener', async () => {
    const res = await sb.productionApi.get(DERIVE, { headers: { 'X-Api-Key': liveKey } });
    expect(res.status).toBe(200);
  });

  const badKeys: Array<[string, () => Record<string, string>]> = [
    ['missing', () => ({})],
    ['empty', () => ({ 'X-Api-Key': '' })],
    ['malformed', () => ({ 'X-Api-Key': 'not-a-key' })],
    ['public half only', () => ({ 'X-Api-Key': testKey.split('.')[0]! })],
    ['env parts disagree', () => ({ 'X-Api-Key': testKey.replace('.sk_test_', '.sk_live_') })],
    ['unknown public id', () => ({ 'X-Api-Key': testKey.replace(/^pk_test_[A-Za-z0-9]{4}/, 'pk_test_ZZZZ') })],
    ['wrong secret', () => ({ 'X-Api-Key': `${testKey.slice(0, -4)}abcd` })],
    ['bearer instead of X-Api-Key', () => ({ Authorization: `Bearer ${testKey}` })],
    ['pk_live_ key on the sandbox listener', () => ({ 'X-Api-Key': liveKey })],
  ];

  it.each(badKeys)('%s → 401 unauthenticated, one body for every cause', async (_name, headers) => {
    const before = sb.services.store.eventCount;
    const res = await sb.sandboxApi.get(DERIVE, { headers: headers() });
    expect(res.status).toBe(401);
    expect(res.headers.get('content-type')).toBe('application/problem+json');
    expect(res.body).toMatchObject({ status: 401, code: 'unauthenticated', title: 'Unauthenticated' });
    expect(res.body.requestId).toMatch(/^req_[A-Za-z0-9]{8,64}$/);
    const reference = await sb.sandboxApi.get(DERIVE, { headers: { 'X-Api-Key': 'not-a-key' } });
    expect(withoutRequestId(res.body)).toEqual(withoutRequestId(reference.body));
    expect(res.text).not.toContain(testKey.split('.')[1]!);
    expect(sb.services.store.eventCount).toBe(before);
  });

  it('a pk_test_ key on the production listener → the same 401', async () => {
    const res = await sb.productionApi.get(DERIVE, { headers: { 'X-Api-Key': testKey } });
    expect(res.status).toBe(401);
    expect(res.body.code).toBe('unauthenticated');
  });

  it('a key in the query string is not accepted', async () => {
    const res = await sb.sandboxApi.get(`${DERIVE}?api_key=${encodeURIComponent(testKey)}`);
    expect(res.status).toBe(401);
  });

  it('a key without the operation\'s permission → 403 insufficient_permission, nothing recorded', async () => {
    const before = sb.services.store.eventCount;
    const res = await sb.sandboxApi.post('/api/v1/balance/checkpoint', {
      headers: { 'X-Api-Key': readOnlyKey },
      json: { customerId: 'customer_001' },
    });
    expect(res.status).toBe(403);
    expect(res.body).toMatchObject({ status: 403, code: 'insufficient_permission' });
    expect(sb.services.store.eventCount).toBe(before);
    // …while the permission it has works.
    expect((await sb.sandboxApi.get(DERIVE, { headers: { 'X-Api-Key': readOnlyKey } })).status).toBe(200);
  });

  it('authenticates before validating: a bad key with a bad body is still 401', async () => {
    const res = await sb.sandboxApi.post('/api/v1/balance/delta', { headers: { 'X-Api-Key': 'nope' }, raw: '{' });
    expect(res.status).toBe(401);
  });

  it('verify needs no key', async () => {
    const res = await sb.sandboxApi.get(`/api/v1/verify/${'a'.repeat(64)}`);
    expect(res.status).not.toBe(401);
  });
});

describe('per-key rate limit', () => {
  it('answers 429 with Retry-After and RateLimit headers once the bucket is empty, then recovers', async () => {
    const limited = await startTestSandbox({ rateLimits: { apiKey: { capacity: 3, refillPerSecond: 0.5 } } });
    try {
      const key = limited.demo!.apiKey;
      for (let i = 0; i < 3; i++) {
        expect((await limited.sandboxApi.get(DERIVE, { headers: { 'X-Api-Key': key } })).status).toBe(200);
      }
      const res = await limited.sandboxApi.get(DERIVE, { headers: { 'X-Api-Key': key } });
      expect(res.status).toBe(429);
      expect(res.body).toMatchObject({ status: 429, code: 'rate_limited', retryAfter: 2 });
      expect(res.headers.get('retry-after')).toBe('2');
      expect(res.headers.get('ratelimit-limit')).toBe('3');
      expect(res.headers.get('ratelimit-remaining')).toBe('0');
      expect(Number(res.headers.get('ratelimit-reset'))).toBeGreaterThan(0);
      limited.services.clock.advance(2_000);
      expect((await limited.sandboxApi.get(DERIVE, { headers: { 'X-Api-Key': key } })).status).toBe(200);
    } finally {
      await limited.close();
    }
  });
});
