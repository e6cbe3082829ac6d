// The session, key, auth and error faults of the registry over real HTTP: for each, PUT
// /__sandbox/faults/{name} switches it on and the rule it names breaks; switched off, the rule
// holds again. One sandbox for the file; every row starts from POST /__sandbox/reset. Requests
// made while a fault is on may get answers that break the contract (`lenient`); with the fault
// off, every answer must conform.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { HttpClient, RequestOptions, TestResponse } from '../testing/http-client.ts';
import { CSRF, startTestSandbox, type TestSandbox } from '../testing/test-sandbox.ts';
import type { FaultName } from './faults.ts';

type Demo = { email: string; password: string; fullKey: string };
/** What a probe gets: the demo account, whether the fault is on, and the request options that go with it. */
type Probe = { demo: Demo; on: boolean; lenient: RequestOptions };

const DERIVE = '/api/v1/balance/derive/customer_001';
const MIB = 1024 * 1024;

let sb: TestSandbox;
let control: HttpClient;

beforeAll(async () => {
  sb = await startTestSandbox();
  control = sb.newDashboardClient();
});
afterAll(() => sb?.close());

async function setFault(name: FaultName, active: boolean) {
  const r = await control.request('PUT', `/__sandbox/faults/${name}`, { json: { active } });
  expect(r.status, r.text).toBe(200);
  expect(r.body.data).toMatchObject({ name, active });
}

function expectProblem(r: TestResponse, status: number, code: string) {
  expect(r.status, r.text).toBe(status);
  expect(r.headers.get('content-type')).toMatch(/^application\/problem\+json/);
  expect(r.body.code).toBe(code);
}

const withoutRequestId = ({ requestId: _r, instance: _i, ...rest }: Record<string, unknown>) => rest;
const key = (fullKey: string, o: RequestOptions = {}) => ({ ...o, headers: { ...o.headers, 'X-Api-Key': fullKey } });
const cookieHeader = (client: HttpClient) => [...client.jar].map(([k, v]) => `${k}=${v}`).join('; ');

async function login({ demo, lenient }: Probe) {
  const client = sb.newDashboardClient();
  const res = await client.post('/dashboard/auth/login', { ...lenient, json: { email: demo.email, password: demo.password } });
  expect(res.status, res.text).toBe(200);
  return { client, res };
}

async function createKey(p: Probe, dashboard: HttpClient, body: Record<string, unknown> = { name: 'fault-test' }) {
  const r = await dashboard.post('/dashboard/api-keys', { ...p.lenient, headers: CSRF, json: body });
  expect(r.status, r.text).toBe(201);
  return r.body.data as { id: string; publicKey: string; secretKey: string; fullKey: string };
}

/** Each fault's probe: asserts the broken rule when `on`, the rule itself when not. */
const PROBES: Array<[FaultName, (p: Probe) => Promise<void>]> = [
  [
    'cookie-without-secure',
    async (p) => {
      const { res } = await login(p);
      expect(res.setCookies).toHaveLength(2);
      for (const cookie of res.setCookies) expect(/;\s*Secure(;|$)/i.test(cookie)).toBe(!p.on);
    },
  ],
  [
    'cookie-without-samesite',
    async (p) => {
      const { res } = await login(p);
      expect(res.setCookies).toHaveLength(2);
      for (const cookie of res.setCookies) expect(/;\s*SameSite=Strict(;|$)/i.test(cookie)).toBe(!p.on);
    },
  ],
  [
    'login-returns-token',
    async (p) => {
      const { client, res } = await login(p);
      const access = client.jar.get('pacspace_access')!;
      expect(access).toBeTruthy();
      expect(res.text.includes(access)).toBe(p.on);
      if (p.on) expect(res.body.data.accessToken).toBe(access);
      else expect(res.text).not.toMatch(/"[^"]*(token|jwt|secret)[^"]*"\s*:/i);
    },
  ],
  [
    'login-tells-unknown-email',
    async ({ demo, on, lenient }) => {
      const unknown = await sb.newDashboardClient().post('/dashboard/auth/login', { ...lenient, json: { email: `nobody-${Date.now()}@example.invalid`, password: 'wrong-password-123' } });
      const wrong = await sb.newDashboardClient().post('/dashboard/auth/login', { json: { email: demo.email, password: 'not-the-password-123' } });
      expectProblem(unknown, 401, 'invalid_credentials');
      expectProblem(wrong, 401, 'invalid_credentials');
      // On, the two answers differ: the unknown email is told apart.
      expect(JSON.stringify(withoutRequestId(unknown.body)) === JSON.stringify(withoutRequestId(wrong.body))).toBe(!on);
    },
  ],
  [
    'reset-tells-unknown-email',
    async ({ demo, on, lenient }) => {
      const known = await sb.dashboard.post('/dashboard/auth/request-password-reset', { json: { email: demo.email } });
      const unknown = await sb.dashboard.post('/dashboard/auth/request-password-reset', { ...lenient, json: { email: `nobody-${Date.now()}@example.invalid` } });
      expect(known.status, known.text).toBe(202);
      if (on) {
        expectProblem(unknown, 404, 'not_found');
      } else {
        expect(unknown.status, unknown.text).toBe(202);
        expect(unknown.body).toEqual(known.body);
      }
    },
  ],
  [
    'logout-keeps-session',
    async (p) => {
      const { client } = await login(p);
      const cookie = cookieHeader(client);
      expect((await client.get('/dashboard/auth/me')).status).toBe(200);
      const out = await client.post('/dashboard/auth/logout', { headers: CSRF });
      expect(out.status, out.text).toBe(200);
      const after = await sb.newDashboardClient().get('/dashboard/auth/me', { headers: { cookie } });
      if (p.on) expect(after.status, after.text).toBe(200);
      else expectProblem(after, 401, 'unauthenticated');
    },
  ],
  [
    'refresh-reuse-undetected',
    async (p) => {
      const { client } = await login(p);
      const original = cookieHeader(client);
      const refreshed = await client.post('/dashboard/auth/refresh', { headers: CSRF });
      expect(refreshed.status, refreshed.text).toBe(200);
      expect(cookieHeader(client)).not.toBe(original);
      // The rotated-out refresh cookie comes back (a stolen copy).
      const replay = await client.post('/dashboard/auth/refresh', { headers: { ...CSRF, cookie: original } });
      if (p.on) {
        expect(replay.status, replay.text).toBe(200);
        expect(replay.setCookies).toHaveLength(2);
        expect((await client.get('/dashboard/auth/me')).status).toBe(200);
      } else {
        expectProblem(replay, 401, 'unauthenticated');
        // Reuse revoked the whole family: the newest access cookie is dead too.
        expectProblem(await client.get('/dashboard/auth/me'), 401, 'unauthenticated');
      }
    },
  ],
  [
    'deleted-key-accepted',
    async (p) => {
      const { client } = await login(p);
      const created = await createKey(p, client);
      expect((await sb.sandboxApi.get(DERIVE, key(created.fullKey))).status).toBe(200);
      expect((await client.delete(`/dashboard/api-keys/${created.id}`, { headers: CSRF })).status).toBe(200);
      expectProblem(await client.get(`/dashboard/api-keys/${created.id}`), 404, 'not_found');
      const after = await sb.sandboxApi.get(DERIVE, key(created.fullKey, p.lenient));
      if (p.on) expect(after.status, after.text).toBe(200);
      else expectProblem(after, 401, 'unauthenticated');
    },
  ],
  [
    'regenerated-secret-still-valid',
    async (p) => {
      const { client } = await login(p);
      const created = await createKey(p, client);
      const regenerated = await client.post(`/dashboard/api-keys/${created.id}/regenerate`, { headers: CSRF });
      expect(regenerated.status, regenerated.text).toBe(200);
      expect(regenerated.body.data.secretKey).not.toBe(created.secretKey);
      expect((await sb.sandboxApi.get(DERIVE, key(regenerated.body.data.fullKey))).status).toBe(200);
      const old = await sb.sandboxApi.get(DERIVE, key(created.fullKey, p.lenient));
      if (p.on) expect(old.status, old.text).toBe(200);
      else expectProblem(old, 401, 'unauthenticated');
    },
  ],
  [
    'permission-not-enforced',
    async (p) => {
      const { client } = await login(p);
      const readOnly = await createKey(p, client, { name: 'read-only', permissions: ['balance:read'] });
      const customerId = `perm-${Date.now().toString(36)}`;
      const write = await sb.sandboxApi.post('/api/v1/balance/delta', key(readOnly.fullKey, { ...p.lenient, json: { customerId, delta: '1.00', reason: 'fault test' } }));
      const derived = await sb.sandboxApi.get(`/api/v1/balance/derive/${customerId}`, key(readOnly.fullKey));
      if (p.on) {
        expect(write.status, write.text).toBe(201);
        expect(derived.body.data.deltaCount).toBe(1);
      } else {
        expectProblem(write, 403, 'insufficient_permission');
        expect(derived.body.data.deltaCount).toBe(0);
      }
    },
  ],
  [
    'key-in-query-accepted',
    async ({ demo, on, lenient }) => {
      const r = await sb.sandboxApi.get(`${DERIVE}?api_key=${encodeURIComponent(demo.fullKey)}`, lenient);
      if (on) expect(r.status, r.text).toBe(200);
      else expectProblem(r, 401, 'unauthenticated');
      expect((await sb.sandboxApi.get(DERIVE, key(demo.fullKey))).status).toBe(200);
    },
  ],
  [
    'auth-errors-tell-cause',
    async ({ demo, on, lenient }) => {
      const [publicHalf] = demo.fullKey.split('.');
      const unknownId = await sb.sandboxApi.get(DERIVE, key(`pk_test_Zz9${'x'.repeat(13)}.sk_test_${'y'.repeat(32)}`, lenient));
      const wrongSecret = await sb.sandboxApi.get(DERIVE, key(`${publicHalf}.sk_test_${'A'.repeat(32)}`, lenient));
      const malformed = await sb.sandboxApi.get(DERIVE, key('not-a-key', lenient));
      for (const r of [unknownId, wrongSecret, malformed]) expectProblem(r, 401, 'unauthenticated');
      const details = new Set([unknownId, wrongSecret, malformed].map((r) => JSON.stringify(withoutRequestId(r.body))));
      expect(details.size).toBe(on ? 3 : 1);
    },
  ],
  [
    'weak-key-secrets',
    async (p) => {
      const { client } = await login(p);
      const created = await createKey(p, client);
      const secret = created.secretKey.replace(/^sk_test_/, '');
      expect(secret).toMatch(/^[A-Za-z0-9]+$/);
      expect(secret.length * Math.log2(62) >= 128).toBe(!p.on);
      expect(secret).toHaveLength(p.on ? 12 : 32);
      // Weak or not, the key works.
      expect((await sb.sandboxApi.get(DERIVE, key(created.fullKey))).status).toBe(200);
    },
  ],
  [
    'key-env-parts-disagree',
    async (p) => {
      const { client } = await login(p);
      const created = await createKey(p, client);
      expect(created.publicKey).toMatch(/^pk_test_/);
      expect(created.fullKey.startsWith(`${created.publicKey}.`)).toBe(true);
      const [, secretHalf] = created.fullKey.split('.');
      expect(secretHalf).toBe(created.secretKey);
      if (p.on) {
        expect(created.secretKey).toMatch(/^sk_live_/);
        // Display only: the key issued is a well-formed test key.
        expectProblem(await sb.sandboxApi.get(DERIVE, key(created.fullKey)), 401, 'unauthenticated');
        expect((await sb.sandboxApi.get(DERIVE, key(created.fullKey.replace('.sk_live_', '.sk_test_')))).status).toBe(200);
      } else {
        expect(created.secretKey).toMatch(/^sk_test_/);
        expect((await sb.sandboxApi.get(DERIVE, key(created.fullKey))).status).toBe(200);
      }
    },
  ],
  [
    'secret-in-get',
    async (p) => {
      const { client } = await login(p);
      const created = await createKey(p, client);
      const got = await client.get(`/dashboard/api-keys/${created.id}`, p.lenient);
      expect(got.status, got.text).toBe(200);
      expect(got.text.includes(created.secretKey)).toBe(p.on);
      expect('secretKey' in got.body.data).toBe(p.on);
      // The list is not this fault's business.
      const list = await client.get('/dashboard/api-keys');
      expect(list.text).not.toContain(created.secretKey);
    },
  ],
  [
    'stack-trace-in-errors',
    async ({ on, lenient }) => {
      const r = await sb.sandboxApi.get('/api/v1/does-not-exist', lenient);
      expectProblem(r, 404, 'not_found');
      if (on) expect(r.body.stack).toMatch(/\n\s+at .+:\d+:\d+/);
      else expect(r.text).not.toMatch(/\bat [\w.$<>]+ \(|\.(ts|js):\d+:\d+/);
    },
  ],
  [
    'allow-header-missing',
    async ({ on, lenient }) => {
      const r = await sb.sandboxApi.request('PUT', '/api/v1/balance/delta', lenient);
      expectProblem(r, 405, 'method_not_allowed');
      if (on) expect(r.headers.get('allow')).toBeNull();
      else expect(r.headers.get('allow')).toMatch(/\bPOST\b/);
    },
  ],
  [
    'content-type-not-enforced',
    async ({ demo, on, lenient }) => {
      const customerId = `ctype-${Date.now().toString(36)}`;
      const r = await sb.sandboxApi.post(
        '/api/v1/balance/delta',
        key(demo.fullKey, { ...lenient, headers: { 'content-type': 'text/plain' }, raw: JSON.stringify({ customerId, delta: '1.00', reason: 'fault test' }) }),
      );
      if (on) expect(r.status, r.text).toBe(201);
      else expectProblem(r, 415, 'unsupported_media_type');
    },
  ],
  [
    'body-limit-missing',
    async ({ demo, on, lenient }) => {
      // Valid JSON padded with whitespace to just over 1 MiB.
      const json = JSON.stringify({ customerId: `big-${Date.now().toString(36)}`, delta: '1.00', reason: 'fault test' });
      const raw = json + ' '.repeat(MIB + 16 - json.length);
      expect(Buffer.byteLength(raw)).toBeGreaterThan(MIB);
      const r = await sb.sandboxApi.post('/api/v1/balance/delta', key(demo.fullKey, { ...lenient, headers: { 'content-type': 'application/json' }, raw }));
      if (on) expect(r.status, r.text).toBe(201);
      else expectProblem(r, 413, 'payload_too_large');
    },
  ],
  [
    'invalid-json-echoed',
    async ({ demo, on, lenient }) => {
      const marker = 'fault-test-echo-marker';
      const r = await sb.sandboxApi.post(
        '/api/v1/balance/delta',
        key(demo.fullKey, { ...lenient, headers: { 'content-type': 'application/json' }, raw: `{"customerId": "c", "reason": ${marker}` }),
      );
      expectProblem(r, 400, 'invalid_json');
      expect(r.text.includes(marker)).toBe(on);
    },
  ],
];

describe('faults (on: the rule breaks; off: it holds)', () => {
  it.each(PROBES)('%s', async (name, probe) => {
    const reset = await control.post('/__sandbox/reset');
    expect(reset.status, reset.text).toBe(200);
    const demo: Demo = reset.body.data.demo;

    await setFault(name, true);
    await probe({ demo, on: true, lenient: { allowViolations: true } });

    await setFault(name, false);
    await probe({ demo, on: false, lenient: {} });
  });
});
