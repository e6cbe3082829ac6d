// The /__sandbox/ control surface over real HTTP: reset, outbox, clock, rate limits and
// `Prefer` forcing on the public API. Tests share one sandbox and run in order; each starts from a reset where it matters.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readBundle } from '../../contract/document.ts';
import { CSRF, startTestSandbox, type TestSandbox } from '../testing/test-sandbox.ts';
import type { HttpClient, RequestOptions, TestResponse } from '../testing/http-client.ts';

type Demo = { name: string; email: string; password: string; organization: string; userId: string; tenantId: string; fullKey: string };

const PROVISIONING_SECONDS = 60;
const REQUEST_ID = /^req_[A-Za-z0-9]{8,64}$/;
const DERIVE = '/api/v1/balance/derive/customer_001';
const QUICKSTART_ACCESS = {
  name: 'Jane Doe',
  email: 'you@example.com',
  organization: 'Acme Inc',
  buyerMode: 'DIRECT_INFERENCE_VENDOR',
  useCase: 'Record usage before invoices go out.',
};
const DEFAULT_LIMITS = {
  client: { capacity: 600, refillPerSecond: 300 },
  apiKey: { capacity: 200, refillPerSecond: 100 },
  login: { limit: 5, windowSeconds: 900 },
};

let sb: TestSandbox;
let control: HttpClient;

beforeAll(async () => {
  sb = await startTestSandbox({ provisioningMs: PROVISIONING_SECONDS * 1000 });
  control = sb.newDashboardClient();
});
afterAll(() => sb?.close());

const put = (client: HttpClient, path: string, json: unknown, o: RequestOptions = {}) => client.request('PUT', path, { ...o, json });
const key = (fullKey: string) => ({ headers: { 'X-Api-Key': fullKey } });

/** A control call that must succeed with the envelope; returns `data`. */
async function ok(res: Promise<TestResponse>, status = 200): Promise<any> {
  const r = await res;
  expect(r.status, r.text).toBe(status);
  expect(r.headers.get('x-request-id')).toMatch(REQUEST_ID);
  expect(r.body.statusCode).toBe(status);
  return r.body.data;
}

function expectProblem(r: TestResponse, status: number, code: string) {
  expect(r.status, r.text).toBe(status);
  expect(r.headers.get('content-type')).toMatch(/^application\/problem\+json/);
  expect(r.body.code).toBe(code);
  expect(r.body.requestId).toBe(r.headers.get('x-request-id'));
}

const reset = async (): Promise<Demo> => (await ok(control.post('/__sandbox/reset'))).demo;
const advance = (seconds: number) => ok(control.post('/__sandbox/clock/advance', { json: { seconds } }));
const setLimits = (json: unknown) => ok(put(control, '/__sandbox/rate-limits', json));

/** A new dashboard client logged in as the demo account. */
async function loginAs(demo: Demo): Promise<HttpClient> {
  const client = sb.newDashboardClient();
  const r = await client.post('/dashboard/auth/login', { json: { email: demo.email, password: demo.password } });
  expect(r.status, r.text).toBe(200);
  return client;
}

async function createKey(dashboard: HttpClient, body: Record<string, unknown> = { name: 'control-test' }) {
  return ok(dashboard.post('/dashboard/api-keys', { headers: CSRF, json: body }), 201) as Promise<{ id: string; fullKey: string; secretKey: string }>;
}

describe('the contract of the control surface', () => {
  it('answers on the production listener only, with 404 for unknown paths and 405 with Allow for wrong methods', async () => {
    await ok(control.get('/__sandbox/clock'));
    expectProblem(await sb.sandboxApi.get('/__sandbox/clock'), 404, 'not_found');
    expectProblem(await control.get('/__sandbox/nothing-here'), 404, 'not_found');
    const wrong = await control.get('/__sandbox/reset');
    expectProblem(wrong, 405, 'method_not_allowed');
    expect(wrong.headers.get('allow')).toBe('POST');
  });
});

describe('POST /__sandbox/reset', () => {
  it('wipes keys and sessions, and re-creates the demo account with a fresh key', async () => {
    const before = await reset();
    const dashboard = await loginAs(before);
    const created = await createKey(dashboard);
    expect((await sb.sandboxApi.get(DERIVE, key(created.fullKey))).status).toBe(200);
    expect((await sb.sandboxApi.get(DERIVE, key(before.fullKey))).status).toBe(200);

    const r = await control.post('/__sandbox/reset');
    expect(r.status).toBe(200);
    expect(r.body.data.seed).toBe(1);
    const after: Demo = r.body.data.demo;

    // Same deterministic person, new key.
    const { fullKey: _a, ...identityBefore } = before;
    const { fullKey: _b, ...identityAfter } = after;
    expect(identityAfter).toEqual(identityBefore);
    expect(after.fullKey).toMatch(/^pk_test_[A-Za-z0-9]+\.sk_test_[A-Za-z0-9]+$/);
    expect(after.fullKey).not.toBe(before.fullKey);

    // Everything issued before the reset is unknown now.
    expectProblem(await sb.sandboxApi.get(DERIVE, key(created.fullKey)), 401, 'unauthenticated');
    expectProblem(await sb.sandboxApi.get(DERIVE, key(before.fullKey)), 401, 'unauthenticated');
    expectProblem(await dashboard.get('/dashboard/auth/me'), 401, 'unauthenticated');

    // The re-created demo account works: its new key and its login.
    expect((await sb.sandboxApi.get(DERIVE, key(after.fullKey))).status).toBe(200);
    const again = await loginAs(after);
    const me = await ok(again.get('/dashboard/auth/me'));
    expect(me).toMatchObject({ id: after.userId, email: after.email, tenantId: after.tenantId });
    const keys = await ok(again.get('/dashboard/api-keys'));
    expect(keys.items).toHaveLength(1);
  });

  it('keeps the clock and the rate-limit settings', async () => {
    const clock = await advance(5);
    await setLimits({ client: { capacity: 500, refillPerSecond: 250 } });
    await reset();
    expect((await ok(control.get('/__sandbox/clock'))).offsetSeconds).toBe(clock.offsetSeconds);
    expect((await ok(control.get('/__sandbox/rate-limits'))).client).toEqual({ capacity: 500, refillPerSecond: 250 });
    await setLimits(DEFAULT_LIMITS);
  });
});

describe('GET /__sandbox/outbox', () => {
  it('holds the approval email of an access request, filtered by recipient', async () => {
    await reset();
    expect(await ok(control.get('/__sandbox/outbox'))).toEqual([]);

    const requested = await sb.dashboard.post('/dashboard/auth/request-access', { json: QUICKSTART_ACCESS });
    expect(requested.status, requested.text).toBe(202);

    const messages = await ok(control.get('/__sandbox/outbox'));
    expect(messages).toHaveLength(1);
    const [mail] = messages;
    expect(mail).toMatchObject({ to: 'you@example.com', kind: 'access' });
    expect(mail.id).toEqual(expect.any(String));
    expect(mail.subject).toEqual(expect.any(String));
    expect(mail.link).toContain(mail.token);
    expect(mail.text).toContain(mail.link);
    const clockNow = Date.parse((await ok(control.get('/__sandbox/clock'))).now);
    expect(Date.parse(mail.sentAt)).toBeGreaterThan(clockNow - 60_000);
    expect(Date.parse(mail.sentAt)).toBeLessThanOrEqual(clockNow);

    expect(await ok(control.get('/__sandbox/outbox?to=YOU%40example.com'))).toEqual(messages);
    expect(await ok(control.get('/__sandbox/outbox?to=someone-else%40example.com'))).toEqual([]);
    expectProblem(await control.get('/__sandbox/outbox?to=x'), 422, 'validation_failed');

    // The token works: it registers the account.
    const registered = await sb.dashboard.post('/dashboard/auth/register', {
      json: { name: 'Jane Doe', email: 'you@example.com', password: 'your-secure-password', accessToken: mail.token },
    });
    expect(registered.status, registered.text).toBe(201);

    await reset();
    expect(await ok(control.get('/__sandbox/outbox'))).toEqual([]);
  });
});

describe('the clock', () => {
  it('reads and advances', async () => {
    const before = await ok(control.get('/__sandbox/clock'));
    expect(Date.parse(before.now) - Date.now()).toBeGreaterThan(before.offsetSeconds * 1000 - 5_000);
    const after = await advance(3600.5);
    expect(after.offsetSeconds).toBeCloseTo(before.offsetSeconds + 3600.5, 3);
    expect(Date.parse(after.now) - Date.parse(before.now)).toBeGreaterThanOrEqual(3600_500);
    expect(await ok(control.get('/__sandbox/clock'))).toMatchObject({ offsetSeconds: after.offsetSeconds });
  });

  it('refuses to go back, and refuses bad bodies', async () => {
    expectProblem(await control.post('/__sandbox/clock/advance', { json: { seconds: -1 } }), 422, 'validation_failed');
    expectProblem(await control.post('/__sandbox/clock/advance', { json: { seconds: 0 } }), 422, 'validation_failed');
    expectProblem(await control.post('/__sandbox/clock/advance', { json: { seconds: 1, by: 'me' } }), 422, 'validation_failed');
    expectProblem(await control.post('/__sandbox/clock/advance', { json: {} }), 422, 'validation_failed');
    expectProblem(await control.post('/__sandbox/clock/advance', { raw: '{"seconds":', headers: { 'content-type': 'application/json' } }), 400, 'invalid_json');
    expectProblem(await control.post('/__sandbox/clock/advance', { raw: 'seconds=1', headers: { 'content-type': 'text/plain' } }), 415, 'unsupported_media_type');
  });

  it('finishes provisioning when advanced past the delay', async () => {
    const demo = await reset();
    const dashboard = await loginAs(demo);
    await ok(dashboard.post('/dashboard/contracts/provision', { headers: CSRF, json: { environment: 'mainnet' } }), 201);
    const status = async () => (await ok(dashboard.get('/dashboard/environments'))).find((e: { environment: string }) => e.environment === 'mainnet').status;
    expect(await status()).toBe('provisioning');
    await advance(PROVISIONING_SECONDS);
    expect(await status()).toBe('active');
  });
});

describe('rate limits', () => {
  it('reads and changes the settings, group by group', async () => {
    await setLimits(DEFAULT_LIMITS);
    expect(await ok(control.get('/__sandbox/rate-limits'))).toEqual(DEFAULT_LIMITS);
    const changed = await setLimits({ login: { limit: 3, windowSeconds: 60 } });
    expect(changed).toEqual({ ...DEFAULT_LIMITS, login: { limit: 3, windowSeconds: 60 } });
    expect(await ok(control.get('/__sandbox/rate-limits'))).toEqual(changed);
    await setLimits(DEFAULT_LIMITS);
    for (const bad of [{}, { apiKey: { capacity: 0, refillPerSecond: 1 } }, { apiKey: { capacity: 2, refillPerSecond: 0 } }, { apiKey: { capacity: 2 } }, { burst: 1 }]) {
      expectProblem(await put(control, '/__sandbox/rate-limits', bad), 422, 'validation_failed');
    }
  });

  it('limits a Balance API key: the 3rd request within capacity 2 is a 429 with Retry-After and RateLimit-*', async () => {
    const demo = await reset();
    await setLimits({ apiKey: { capacity: 2, refillPerSecond: 0.001 } });
    try {
      expect((await sb.sandboxApi.get(DERIVE, key(demo.fullKey))).status).toBe(200);
      expect((await sb.sandboxApi.get(DERIVE, key(demo.fullKey))).status).toBe(200);
      const limited = await sb.sandboxApi.get(DERIVE, key(demo.fullKey));
      expectProblem(limited, 429, 'rate_limited');
      expect(limited.headers.get('retry-after')).toBe('1000');
      expect(limited.body.retryAfter).toBe(1000);
      expect(limited.headers.get('ratelimit-limit')).toBe('2');
      expect(limited.headers.get('ratelimit-remaining')).toBe('0');
      expect(Number(limited.headers.get('ratelimit-reset'))).toBeGreaterThan(0);
      // The bucket refills on the sandbox clock.
      await advance(1000);
      expect((await sb.sandboxApi.get(DERIVE, key(demo.fullKey))).status).toBe(200);
    } finally {
      await setLimits(DEFAULT_LIMITS);
    }
  });

  it('limits failed logins per email with the login settings', async () => {
    const demo = await reset();
    await setLimits({ login: { limit: 1, windowSeconds: 60 } });
    try {
      const client = sb.newDashboardClient();
      const wrong = { json: { email: demo.email, password: 'not-the-password' } };
      expectProblem(await client.post('/dashboard/auth/login', wrong), 401, 'invalid_credentials');
      const limited = await client.post('/dashboard/auth/login', wrong);
      expectProblem(limited, 429, 'rate_limited');
      expect(Number(limited.headers.get('retry-after'))).toBe(60);
    } finally {
      await setLimits(DEFAULT_LIMITS);
    }
  });
});

describe('Prefer forcing on the public API (control surface on)', () => {
  const contract429 = () => {
    const doc = readBundle('openapi');
    return doc.components.responses.TooManyRequests.content['application/problem+json'].examples.rate_limited.value;
  };

  it('Prefer: code=429 on a Balance API call returns the contract\'s 429 example, headers included', async () => {
    const demo = await reset();
    const forced = await sb.sandboxApi.get(DERIVE, { headers: { 'X-Api-Key': demo.fullKey, Prefer: 'code=429' } });
    expect(forced.status).toBe(429);
    expect(forced.headers.get('content-type')).toMatch(/^application\/problem\+json/);
    expect(forced.body).toEqual(contract429());
    expect(forced.headers.get('x-request-id')).toMatch(REQUEST_ID);
    expect(forced.headers.get('retry-after')).toBe('12');
    for (const h of ['ratelimit-limit', 'ratelimit-remaining', 'ratelimit-reset']) expect(forced.headers.get(h)).toMatch(/^\d+$/);
    const named = await sb.sandboxApi.get(DERIVE, { headers: { 'X-Api-Key': demo.fullKey, Prefer: 'code=429, example=rate_limited' } });
    expect(named.status).toBe(429);
    expect(named.body).toEqual(contract429());
  });

  it('changes no state: forced answers spend no rate-limit token', async () => {
    const demo = await reset();
    await setLimits({ apiKey: { capacity: 1, refillPerSecond: 0.001 } });
    try {
      for (const code of ['200', '429', '200']) {
        const forced = await sb.sandboxApi.get(DERIVE, { headers: { 'X-Api-Key': demo.fullKey, Prefer: `code=${code}` } });
        expect(forced.status).toBe(Number(code));
      }
      expect((await sb.sandboxApi.get(DERIVE, key(demo.fullKey))).status).toBe(200);
      expectProblem(await sb.sandboxApi.get(DERIVE, key(demo.fullKey)), 429, 'rate_limited');
    } finally {
      await setLimits(DEFAULT_LIMITS);
    }
  });

  it('ignores a status the operation does not document', async () => {
    const demo = await reset();
    const r = await sb.sandboxApi.get(DERIVE, { headers: { 'X-Api-Key': demo.fullKey, Prefer: 'code=418' } });
    expect(r.status).toBe(200);
  });
});
