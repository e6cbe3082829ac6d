// A key's whole life through the Dashboard API over real HTTP (seed 001 and the brief):
// create (reveal once), use, list and get without the secret, regenerate (old secret dead at
// once), toggle, delete; live keys need mainnet; tenants are isolated; errors change nothing.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loginDemo, signUp } from '../testing/accounts.ts';
import { CSRF, startTestSandbox, type TestSandbox } from '../testing/test-sandbox.ts';

let sb: TestSandbox;
const DERIVE = '/api/v1/balance/derive/customer_001';
const FULL_KEY = /^pk_(test|live)_([A-Za-z0-9]+)\.sk_\1_([A-Za-z0-9]+)$/;

beforeAll(async () => {
  sb = await startTestSandbox({ provisioningMs: 30_000 });
  await loginDemo(sb);
});
afterAll(() => sb.close());

const derive = (key: string, client = sb.sandboxApi) => client.get(DERIVE, { headers: { 'X-Api-Key': key } });

describe('a key\'s whole life', () => {
  let created: any;

  it('creates a test key by default and shows its secret once', async () => {
    const res = await sb.dashboard.post('/dashboard/api-keys', { headers: CSRF, json: { name: 'quickstart-key' } });
    expect(res.status).toBe(201);
    created = res.body.data;
    expect(res.body.statusCode).toBe(201);
    expect(created).toMatchObject({ name: 'quickstart-key', environment: 'test', active: true, lastUsedAt: null });
    expect(created.permissions).toEqual(['balance:read', 'balance:write']);
    const [, env, publicId, secret] = FULL_KEY.exec(created.fullKey)!;
    expect(env).toBe('test');
    expect(created.publicKey).toBe(`pk_test_${publicId}`);
    expect(created.secretKey).toBe(`sk_test_${secret}`);
    expect(secret!.length * Math.log2(62)).toBeGreaterThanOrEqual(128);
  });

  it('authenticates Balance API calls and records lastUsedAt', async () => {
    expect((await derive(created.fullKey)).status).toBe(200);
    const got = await sb.dashboard.get(`/dashboard/api-keys/${created.id}`);
    expect(got.body.data.lastUsedAt).not.toBeNull();
  });

  it('never shows the secret again: list and get omit secretKey and fullKey', async () => {
    const list = await sb.dashboard.get('/dashboard/api-keys?page=1&limit=20');
    expect(list.status).toBe(200);
    expect(list.body.data).toMatchObject({ page: 1, limit: 20, total: 2 });
    const item = list.body.data.items.find((k: any) => k.id === created.id);
    expect(item).toMatchObject({ id: created.id, publicKey: created.publicKey, active: true });
    const got = await sb.dashboard.get(`/dashboard/api-keys/${created.id}`);
    for (const text of [list.text, got.text]) {
      expect(text).not.toContain('secretKey');
      expect(text).not.toContain('fullKey');
      expect(text).not.toContain(created.secretKey.slice(8));
    }
  });

  it('regenerates: same id and public key, new secret; the old one is rejected at once', async () => {
    const res = await sb.dashboard.post(`/dashboard/api-keys/${created.id}/regenerate`, { headers: CSRF });
    expect(res.status).toBe(200);
    const rotated = res.body.data;
    expect(rotated.id).toBe(created.id);
    expect(rotated.publicKey).toBe(created.publicKey);
    expect(rotated.secretKey).not.toBe(created.secretKey);
    expect(rotated.fullKey).toBe(`${created.publicKey}.${rotated.secretKey}`);
    expect((await derive(created.fullKey)).status).toBe(401);
    expect((await derive(rotated.fullKey)).status).toBe(200);
    created = { ...created, ...rotated };
  });

  it('toggles: a disabled key gets 401, enabling it again restores it', async () => {
    const off = await sb.dashboard.post(`/dashboard/api-keys/${created.id}/toggle`, { headers: CSRF });
    expect(off.body).toEqual({ statusCode: 200, data: { id: created.id, active: false, message: 'API key has been disabled.' } });
    expect((await derive(created.fullKey)).status).toBe(401);
    const on = await sb.dashboard.post(`/dashboard/api-keys/${created.id}/toggle`, { headers: CSRF });
    expect(on.body.data).toEqual({ id: created.id, active: true, message: 'API key has been enabled.' });
    expect((await derive(created.fullKey)).status).toBe(200);
  });

  it('deletes: the key is gone (401 on the Balance API, 404 in the dashboard)', async () => {
    const res = await sb.dashboard.delete(`/dashboard/api-keys/${created.id}`, { headers: CSRF });
    expect(res.body).toEqual({ statusCode: 200, message: 'API key deleted successfully.' });
    expect((await derive(created.fullKey)).status).toBe(401);
    const got = await sb.dashboard.get(`/dashboard/api-keys/${created.id}`);
    expect(got.status).toBe(404);
    expect(got.body.code).toBe('not_found');
    expect((await sb.dashboard.delete(`/dashboard/api-keys/${created.id}`, { headers: CSRF })).status).toBe(404);
  });
});

describe('permissions', () => {
  it('a read-only key can derive but not record', async () => {
    const res = await sb.dashboard.post('/dashboard/api-keys', { headers: CSRF, json: { name: 'reporting', permissions: ['balance:read'] } });
    expect(res.body.data.permissions).toEqual(['balance:read']);
    expect((await derive(res.body.data.fullKey)).status).toBe(200);
    const write = await sb.sandboxApi.post('/api/v1/balance/checkpoint', { headers: { 'X-Api-Key': res.body.data.fullKey }, json: { customerId: 'customer_001' } });
    expect(write.status).toBe(403);
    expect(write.body.code).toBe('insufficient_permission');
  });
});

describe('live keys and environments', () => {
  it('a live key before mainnet is active → 409 environment_not_active, nothing created', async () => {
    const before = (await sb.dashboard.get('/dashboard/api-keys')).body.data.total;
    const res = await sb.dashboard.post('/dashboard/api-keys', { headers: CSRF, json: { name: 'Production Backend', environment: 'live' } });
    expect(res.status).toBe(409);
    expect(res.body.code).toBe('environment_not_active');
    expect((await sb.dashboard.get('/dashboard/api-keys')).body.data.total).toBe(before);
  });

  it('after provisioning mainnet, a live key works on the production listener only', async () => {
    const provision = await sb.dashboard.post('/dashboard/contracts/provision', { headers: CSRF, json: { environment: 'mainnet' } });
    expect(provision.status).toBe(201);
    expect((await sb.dashboard.post('/dashboard/api-keys', { headers: CSRF, json: { name: 'too early', environment: 'live' } })).status).toBe(409);
    sb.services.clock.advance(30_000);
    const res = await sb.dashboard.post('/dashboard/api-keys', { headers: CSRF, json: { name: 'Production Backend', environment: 'live' } });
    expect(res.status).toBe(201);
    expect(res.body.data.fullKey).toMatch(/^pk_live_[A-Za-z0-9]+\.sk_live_[A-Za-z0-9]+$/);
    expect((await derive(res.body.data.fullKey, sb.productionApi)).status).toBe(200);
    expect((await derive(res.body.data.fullKey, sb.sandboxApi)).status).toBe(401);
  });
});

describe('tenant isolation', () => {
  it('another tenant\'s key id is 404 for every operation, and its keys do not leak into lists', async () => {
    const mine = await sb.dashboard.post('/dashboard/api-keys', { headers: CSRF, json: { name: 'mine' } });
    const other = await signUp(sb, 'other@example.com');
    const id = mine.body.data.id;
    for (const res of [
      await other.client.get(`/dashboard/api-keys/${id}`),
      await other.client.post(`/dashboard/api-keys/${id}/regenerate`, { headers: CSRF }),
      await other.client.post(`/dashboard/api-keys/${id}/toggle`, { headers: CSRF }),
      await other.client.delete(`/dashboard/api-keys/${id}`, { headers: CSRF }),
    ]) {
      expect(res.status).toBe(404);
      expect(res.body.code).toBe('not_found');
      expect(res.text).not.toContain('mine');
    }
    const list = await other.client.get('/dashboard/api-keys');
    expect(list.body.data.items.map((k: any) => k.id)).not.toContain(id);
    expect((await derive(mine.body.data.fullKey)).status).toBe(200);
  });
});

describe('errors change nothing', () => {
  it.each([
    ['page=0', 'page'],
    ['limit=0', 'limit'],
    ['limit=101', 'limit'],
    ['limit=ten', 'limit'],
  ])('GET /dashboard/api-keys?%s → 422', async (query, param) => {
    const res = await sb.dashboard.get(`/dashboard/api-keys?${query}`);
    expect(res.status).toBe(422);
    expect(res.body.code).toBe('validation_failed');
    expect(res.body.validation.map((v: any) => v.location.join('.'))).toContain(`query.${param}`);
  });

  it('paginates newest first', async () => {
    const all = (await sb.dashboard.get('/dashboard/api-keys?limit=100')).body.data;
    const first = (await sb.dashboard.get('/dashboard/api-keys?page=1&limit=2')).body.data;
    const second = (await sb.dashboard.get('/dashboard/api-keys?page=2&limit=2')).body.data;
    expect(first.items.map((k: any) => k.id)).toEqual(all.items.slice(0, 2).map((k: any) => k.id));
    expect(second.items.map((k: any) => k.id)).toEqual(all.items.slice(2, 4).map((k: any) => k.id));
    expect(first.total).toBe(all.total);
  });

  it.each([
    ['no CSRF header', { json: { name: 'x' } }, 403, 'csrf_required'],
    ['bad environment', { headers: CSRF, json: { name: 'x', environment: 'prod' } }, 422, 'validation_failed'],
    ['empty name', { headers: CSRF, json: { name: '' } }, 422, 'validation_failed'],
    ['unknown permission', { headers: CSRF, json: { name: 'x', permissions: ['balance:admin'] } }, 422, 'validation_failed'],
    ['unparsable body', { headers: { ...CSRF, 'content-type': 'application/json' }, raw: '{name' }, 400, 'invalid_json'],
  ] as const)('POST /dashboard/api-keys with %s → %i %s, nothing created', async (_n, options, status, code) => {
    const before = sb.services.store.eventCount;
    const res = await sb.dashboard.post('/dashboard/api-keys', options as any);
    expect(res.status).toBe(status);
    expect(res.body.code).toBe(code);
    expect(sb.services.store.eventCount).toBe(before);
  });

  it('without a session → 401 for every key operation', async () => {
    const anon = sb.newDashboardClient();
    for (const res of [
      await anon.get('/dashboard/api-keys'),
      await anon.post('/dashboard/api-keys', { headers: CSRF, json: { name: 'x' } }),
      await anon.get('/dashboard/api-keys/key_abc123'),
    ]) {
      expect(res.status).toBe(401);
      expect(res.body.code).toBe('unauthenticated');
    }
  });
});

describe('listing', () => {
  it('lists keys newest first, in creation order even when they share a millisecond, on every page', async () => {
    // Created back to back in-process, many share their createdAt millisecond.
    const ids: string[] = [];
    for (let i = 0; i < 12; i++) {
      const res = await sb.dashboard.post('/dashboard/api-keys', { headers: CSRF, json: { name: `order-${i}` } });
      expect(res.status).toBe(201);
      ids.push(res.body.data.id);
    }
    const listed: string[] = [];
    for (let page = 1; page <= 4; page++) {
      const res = await sb.dashboard.get(`/dashboard/api-keys?page=${page}&limit=3`);
      expect(res.status).toBe(200);
      listed.push(...res.body.data.items.map((k: { id: string }) => k.id));
    }
    expect(listed).toEqual([...ids].reverse());
  });
});
