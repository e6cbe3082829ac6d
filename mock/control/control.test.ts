// The /__sandbox/ control surface over real HTTP: reset, outbox, clock, rate limits, every
// named fault (on: the rule breaks; off: it holds again) and `Prefer` forcing on the public
// API. Tests share one sandbox and run in order; each starts from a reset where it matters.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readBundle } from '../contract/operations.ts';
import { CSRF, startTestSandbox, type TestSandbox } from '../testing/test-sandbox.ts';
import type { HttpClient, RequestOptions, TestResponse } from '../testing/http-client.ts';
import { FAULTS } from './faults.ts';

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
const setFault = (name: string, active: boolean) => ok(put(control, `/__sandbox/faults/${name}`, { active }));
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
  it('names exactly the faults of the registry', () => {
    const spec = readBundle('sandbox-control');
    expect([...spec.components.schemas.FaultName.enum].sort()).toEqual(Object.keys(FAULTS).sort());
  });

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
  it('wipes keys, sessions and faults, and re-creates the demo account with a fresh key', async () => {
    const before = await reset();
    const dashboard = await loginAs(before);
    const created = await createKey(dashboard);
    expect((await sb.sandboxApi.get(DERIVE, key(created.fullKey))).status).toBe(200);
    expect((await sb.sandboxApi.get(DERIVE, key(before.fullKey))).status).toBe(200);
    await setFault('bad-key-403', true);

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

    // Everything issued before the reset is unknown now (and bad-key-403 is off again: 401).
    expectProblem(await sb.sandboxApi.get(DERIVE, key(created.fullKey)), 401, 'unauthenticated');
    expectProblem(await sb.sandboxApi.get(DERIVE, key(before.fullKey)), 401, 'unauthenticated');
    expectProblem(await dashboard.get('/dashboard/auth/me'), 401, 'unauthenticated');
    expect((await ok(control.get('/__sandbox/faults'))).every((f: { active: boolean }) => !f.active)).toBe(true);

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

describe('faults', () => {
  it('lists every fault, switches one, refuses unknown names, and clears them all', async () => {
    await reset();
    const all = await ok(control.get('/__sandbox/faults'));
    expect(all).toEqual(Object.entries(FAULTS).map(([name, description]) => ({ name, description, active: false })));

    expect(await setFault('retry-after-missing', true)).toEqual({ name: 'retry-after-missing', description: FAULTS['retry-after-missing'], active: true });
    expect(await setFault('retry-after-missing', true)).toMatchObject({ active: true });
    await setFault('csrf-not-enforced', true);
    const listed = await ok(control.get('/__sandbox/faults'));
    expect(listed.filter((f: { active: boolean }) => f.active).map((f: { name: string }) => f.name)).toEqual(['csrf-not-enforced', 'retry-after-missing']);

    const unknown = await put(control, '/__sandbox/faults/secret-in-logs', { active: true });
    expectProblem(unknown, 404, 'not_found');
    expect(unknown.body.detail).toContain('secret-in-logs');
    expectProblem(await put(control, '/__sandbox/faults/Not_A_Name', { active: true }), 422, 'validation_failed');
    expectProblem(await put(control, '/__sandbox/faults/bad-key-403', { active: 'yes' }), 422, 'validation_failed');
    expectProblem(await put(control, '/__sandbox/faults/bad-key-403', {}), 422, 'validation_failed');

    const cleared = await ok(control.delete('/__sandbox/faults'));
    expect(cleared).toEqual(all);
    expect(await ok(control.get('/__sandbox/faults'))).toEqual(all);
  });

  it('secret-in-list: the key list shows secretKey; off, it does not', async () => {
    const dashboard = await loginAs(await reset());
    await setFault('secret-in-list', true);
    const created = await createKey(dashboard, { name: 'leaky' });
    const leaked = await dashboard.get('/dashboard/api-keys', { allowViolations: true });
    expect(leaked.status).toBe(200);
    expect(leaked.body.data.items.find((k: { id: string }) => k.id === created.id).secretKey).toBe(created.secretKey);

    await setFault('secret-in-list', false);
    const list = await ok(dashboard.get('/dashboard/api-keys'));
    expect(list.items.every((k: object) => !('secretKey' in k))).toBe(true);
    expect(JSON.stringify(list)).not.toContain(created.secretKey);
  });

  it('csrf-not-enforced: an unsafe dashboard request without the CSRF header is accepted; off, it is a 403', async () => {
    const dashboard = await loginAs(await reset());
    await setFault('csrf-not-enforced', true);
    expect((await dashboard.post('/dashboard/api-keys', { json: { name: 'no-csrf' } })).status).toBe(201);
    await setFault('csrf-not-enforced', false);
    expectProblem(await dashboard.post('/dashboard/api-keys', { json: { name: 'no-csrf' } }), 403, 'csrf_required');
  });

  it('bad-key-403: an unknown key gets 403; off, 401', async () => {
    await reset();
    const unknown = key('pk_test_Unknown123456.sk_test_NoSuchSecret1234567890');
    await setFault('bad-key-403', true);
    expectProblem(await sb.sandboxApi.get(DERIVE, unknown), 403, 'insufficient_permission');
    expectProblem(await sb.sandboxApi.get(DERIVE, { headers: { 'X-Api-Key': 'not-a-key' } }), 403, 'insufficient_permission');
    await setFault('bad-key-403', false);
    expectProblem(await sb.sandboxApi.get(DERIVE, unknown), 401, 'unauthenticated');
  });

  it('wrong-environment-key-accepted: a pk_live_ key works on the sandbox listener (and pk_test_ on production); off, 401', async () => {
    const demo = await reset();
    const dashboard = await loginAs(demo);
    await ok(dashboard.post('/dashboard/contracts/provision', { headers: CSRF, json: { environment: 'mainnet' } }), 201);
    await advance(PROVISIONING_SECONDS);
    const live = await createKey(dashboard, { name: 'live', environment: 'live' });
    expect(live.fullKey).toMatch(/^pk_live_/);
    expect((await sb.productionApi.get(DERIVE, key(live.fullKey))).status).toBe(200);

    await setFault('wrong-environment-key-accepted', true);
    expect((await sb.sandboxApi.get(DERIVE, key(live.fullKey))).status).toBe(200);
    expect((await sb.productionApi.get(DERIVE, key(demo.fullKey))).status).toBe(200);
    await setFault('wrong-environment-key-accepted', false);
    expectProblem(await sb.sandboxApi.get(DERIVE, key(live.fullKey)), 401, 'unauthenticated');
    expectProblem(await sb.productionApi.get(DERIVE, key(demo.fullKey)), 401, 'unauthenticated');
  });

  it('disabled-key-accepted: a disabled key still authenticates; off, 401', async () => {
    const dashboard = await loginAs(await reset());
    const created = await createKey(dashboard, { name: 'to-disable' });
    expect(await ok(dashboard.post(`/dashboard/api-keys/${created.id}/toggle`, { headers: CSRF }))).toMatchObject({ active: false });
    expectProblem(await sb.sandboxApi.get(DERIVE, key(created.fullKey)), 401, 'unauthenticated');
    await setFault('disabled-key-accepted', true);
    expect((await sb.sandboxApi.get(DERIVE, key(created.fullKey))).status).toBe(200);
    await setFault('disabled-key-accepted', false);
    expectProblem(await sb.sandboxApi.get(DERIVE, key(created.fullKey)), 401, 'unauthenticated');
  });

  it('retry-after-missing: a 429 has no Retry-After; off, it has', async () => {
    const demo = await reset();
    await setLimits({ apiKey: { capacity: 1, refillPerSecond: 0.001 } });
    try {
      expect((await sb.sandboxApi.get(DERIVE, key(demo.fullKey))).status).toBe(200);
      await setFault('retry-after-missing', true);
      const broken = await sb.sandboxApi.get(DERIVE, { ...key(demo.fullKey), allowViolations: true });
      expect(broken.status).toBe(429);
      expect(broken.headers.get('retry-after')).toBeNull();
      expect(JSON.parse(broken.headers.get('sl-violations') ?? '[]')).not.toEqual([]);
      expect(broken.headers.get('ratelimit-limit')).toBe('1');
      await setFault('retry-after-missing', false);
      const limited = await sb.sandboxApi.get(DERIVE, key(demo.fullKey));
      expectProblem(limited, 429, 'rate_limited');
      expect(Number(limited.headers.get('retry-after'))).toBeGreaterThan(0);
    } finally {
      await setLimits(DEFAULT_LIMITS);
    }
  });

  it('cookie-without-httponly: login sets session cookies without HttpOnly; off, with', async () => {
    const demo = await reset();
    const credentials = { json: { email: demo.email, password: demo.password } };
    await setFault('cookie-without-httponly', true);
    const broken = await sb.newDashboardClient().post('/dashboard/auth/login', { ...credentials, allowViolations: true });
    expect(broken.status).toBe(200);
    expect(broken.setCookies.map((c) => c.split('=')[0]).sort()).toEqual(['pacspace_access', 'pacspace_refresh']);
    for (const cookie of broken.setCookies) expect(cookie).not.toMatch(/;\s*HttpOnly/i);
    await setFault('cookie-without-httponly', false);
    const fine = await sb.newDashboardClient().post('/dashboard/auth/login', credentials);
    expect(fine.setCookies).toHaveLength(2);
    for (const cookie of fine.setCookies) expect(cookie).toMatch(/;\s*HttpOnly/i);
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
