// Environments over real HTTP (seed 004): a new account has its Sandbox active, Production
// is provisioned on request and becomes active after the configured delay on the sandbox
// clock; status reports follow the seed's shapes; other tenants' ids are 404.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loginDemo, signUp } from '../testing/accounts.ts';
import { CSRF, startTestSandbox, type TestSandbox } from '../testing/test-sandbox.ts';

let sb: TestSandbox;
let tenantId: string;

beforeAll(async () => {
  sb = await startTestSandbox({ provisioningMs: 20_000 });
  tenantId = (await loginDemo(sb)).tenantId;
});
afterAll(() => sb.close());

describe('environments', () => {
  it('GET /dashboard/environments: Sandbox active at the sandbox URL, Production not provisioned', async () => {
    const res = await sb.dashboard.get('/dashboard/environments');
    expect(res.status).toBe(200);
    expect(res.body.data).toEqual([
      { environment: 'testnet', keyEnvironment: 'test', name: 'Sandbox', status: 'active', apiBaseUrl: sb.sandboxUrl, provisionedAt: expect.any(String) },
      { environment: 'mainnet', keyEnvironment: 'live', name: 'Production', status: 'not_provisioned', apiBaseUrl: sb.productionUrl, provisionedAt: null },
    ]);
  });

  it('status and contract list before provisioning, as seed 004 shows them', async () => {
    const status = await sb.dashboard.get(`/dashboard/contracts/${tenantId}/status`);
    expect(status.body.data).toEqual({
      tenantId,
      environments: [
        { environment: 'testnet', status: 'active', provisionedAt: expect.any(String) },
        { environment: 'mainnet', status: 'not_provisioned' },
      ],
    });
    const contracts = await sb.dashboard.get('/dashboard/contracts');
    expect(contracts.body.data).toEqual([
      { id: expect.stringMatching(/^ctr_/), tenantId, environment: 'testnet', status: 'active', provisionedAt: expect.any(String) },
    ]);
  });

  it('provisions mainnet: 201 provisioning, then active once the delay has passed', async () => {
    const res = await sb.dashboard.post('/dashboard/contracts/provision', { headers: CSRF, json: { environment: 'mainnet' } });
    expect(res.status).toBe(201);
    expect(res.body).toEqual({
      statusCode: 201,
      data: { tenantId, environment: 'mainnet', status: 'provisioning', message: 'Environment is being provisioned. This usually takes a few seconds.' },
    });
    const during = await sb.dashboard.get(`/dashboard/contracts/${tenantId}/status`);
    expect(during.body.data.environments[1]).toEqual({ environment: 'mainnet', status: 'provisioning' });
    expect((await sb.dashboard.get('/dashboard/contracts')).body.data[1]).toMatchObject({ environment: 'mainnet', status: 'provisioning', provisionedAt: null });
    sb.services.clock.advance(20_000);
    const after = await sb.dashboard.get(`/dashboard/contracts/${tenantId}/status`);
    expect(after.body.data.environments[1]).toEqual({ environment: 'mainnet', status: 'active', provisionedAt: expect.any(String) });
  });

  it.each(['testnet', 'mainnet'])('provisioning %s again → 409 environment_already_provisioned, nothing changes', async (environment) => {
    const before = sb.services.store.eventCount;
    const res = await sb.dashboard.post('/dashboard/contracts/provision', { headers: CSRF, json: { environment } });
    expect(res.status).toBe(409);
    expect(res.body.code).toBe('environment_already_provisioned');
    expect(sb.services.store.eventCount).toBe(before);
  });

  it('rejects bad input and missing CSRF without changing anything', async () => {
    const other = await signUp(sb, 'env-owner@example.com');
    const before = sb.services.store.eventCount;
    const noCsrf = await other.client.post('/dashboard/contracts/provision', { json: { environment: 'mainnet' } });
    expect([noCsrf.status, noCsrf.body.code]).toEqual([403, 'csrf_required']);
    const bad = await other.client.post('/dashboard/contracts/provision', { headers: CSRF, json: { environment: 'devnet' } });
    expect([bad.status, bad.body.code]).toEqual([422, 'validation_failed']);
    expect(sb.services.store.eventCount).toBe(before);
    const status = await other.client.get(`/dashboard/contracts/${other.user.tenantId}/status`);
    expect(status.body.data.environments[1].status).toBe('not_provisioned');
  });

  it('another tenant\'s status is 404, and a malformed tenant id is 422', async () => {
    const other = await signUp(sb, 'nosy@example.com');
    const res = await other.client.get(`/dashboard/contracts/${tenantId}/status`);
    expect([res.status, res.body.code]).toEqual([404, 'not_found']);
    const bad = await other.client.get('/dashboard/contracts/not-a-tenant/status');
    expect([bad.status, bad.body.code]).toEqual([422, 'validation_failed']);
  });
});
