// The Free plan over real HTTP, with a small limit (5 verified deltas a month) and instant
// confirmation: past the limit a delta is 402 plan_limit_exceeded with the limit and the end
// of the period, and nothing is recorded; billing shows the usage; a new calendar month (on
// the sandbox clock) resets it; only confirmed deltas count; Production is not limited;
// replays of earlier requests still answer.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { login, loginDemo, signUp } from '../testing/accounts.ts';
import type { HttpClient, TestResponse } from '../testing/http-client.ts';
import { CSRF, startTestSandbox, type TestSandbox } from '../testing/test-sandbox.ts';

const LIMIT = 5;
let sb: TestSandbox;
let key: Record<string, string>;

beforeAll(async () => {
  sb = await startTestSandbox({ freePlanDeltas: LIMIT, confirmationMs: 0 });
  key = { 'X-Api-Key': sb.demo!.apiKey };
  await loginDemo(sb);
});
afterAll(() => sb.close());

const events = () => sb.services.store.eventCount;
const delta = (k: Record<string, string>, customerId: string, headers: Record<string, string> = {}, client = sb.sandboxApi) =>
  client.post('/api/v1/balance/delta', { headers: { ...k, ...headers }, json: { customerId, delta: '1', reason: 'usage' } });
const billing = async (client: HttpClient = sb.dashboard) => {
  const res = await client.get('/dashboard/billing');
  expect(res.status).toBe(200);
  return res.body.data;
};

/** The UTC calendar month of the sandbox clock. */
function period(now = sb.services.clock.now()) {
  const d = new Date(now);
  return {
    start: new Date(Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), 1)).toISOString(),
    end: new Date(Date.UTC(d.getUTCFullYear(), d.getUTCMonth() + 1, 1)).toISOString(),
  };
}

function planLimit(res: TestResponse) {
  expect(res.status).toBe(402);
  expect(res.headers.get('content-type')).toBe('application/problem+json');
  expect(res.body).toMatchObject({
    type: 'https://docs.pacspace.io/errors/plan_limit_exceeded',
    status: 402,
    code: 'plan_limit_exceeded',
    limit: LIMIT,
    periodEnd: period().end,
    instance: '/api/v1/balance/delta',
  });
  expect(res.body.requestId).toMatch(/^req_[A-Za-z0-9]{8,64}$/);
}

describe('the Free plan', () => {
  it('a new account: Free plan, the current month, nothing used', async () => {
    expect(await billing()).toEqual({
      plan: { id: 'free', name: 'Free', limits: { verifiedDeltasPerMonth: { testnet: LIMIT, mainnet: null } } },
      currentPeriod: period(),
      usage: [
        { environment: 'testnet', verifiedDeltas: 0, limit: LIMIT, remaining: LIMIT },
        { environment: 'mainnet', verifiedDeltas: 0, limit: null, remaining: null },
      ],
    });
  });

  it(`${LIMIT} verified deltas are allowed; billing counts them`, async () => {
    for (let i = 0; i < LIMIT; i++) {
      const res = await delta(key, 'plan-1', i === 0 ? { 'Idempotency-Key': 'plan-first' } : {});
      expect(res.status).toBe(201);
      expect((await billing()).usage[0]).toEqual({ environment: 'testnet', verifiedDeltas: i + 1, limit: LIMIT, remaining: LIMIT - i - 1 });
    }
  });

  it('the next one → 402 plan_limit_exceeded with limit and periodEnd; nothing recorded', async () => {
    const before = events();
    planLimit(await delta(key, 'plan-1'));
    planLimit(await delta(key, 'plan-2', { 'Idempotency-Key': 'plan-new' }));
    expect(events()).toBe(before);
    const derived = (await sb.sandboxApi.get('/api/v1/balance/derive/plan-1', { headers: key })).body.data;
    expect(derived).toMatchObject({ deltaCount: LIMIT, confirmedCount: LIMIT, computedBalance: '5.00' });
    expect((await billing()).usage[0]).toEqual({ environment: 'testnet', verifiedDeltas: LIMIT, limit: LIMIT, remaining: 0 });
  });

  it('the limit is on writes only: reads, checkpoints and replays still answer', async () => {
    const replay = await delta(key, 'plan-1', { 'Idempotency-Key': 'plan-first' });
    expect(replay.status).toBe(201);
    expect(replay.headers.get('idempotent-replayed')).toBe('true');
    expect((await sb.sandboxApi.post('/api/v1/balance/checkpoint', { headers: key, json: { customerId: 'plan-1' } })).status).toBe(201);
    const compare = await sb.sandboxApi.post('/api/v1/balance/compare', { headers: key, json: { customerId: 'plan-1', yourBalance: '5', theirBalance: '5' } });
    expect(compare.body.data.matchesYours).toBe(true);
  });

  it('is per tenant: another account still has its allowance', async () => {
    const other = await signUp(sb, 'plan-other@example.com');
    const created = await other.client.post('/dashboard/api-keys', { headers: CSRF, json: { name: 'k' } });
    expect((await delta({ 'X-Api-Key': created.body.data.fullKey }, 'plan-1')).status).toBe(201);
    expect((await billing(other.client)).usage[0]).toMatchObject({ verifiedDeltas: 1, remaining: LIMIT - 1 });
  });

  it('Production (mainnet) has no monthly limit on the Free plan', async () => {
    expect((await sb.dashboard.post('/dashboard/contracts/provision', { headers: CSRF, json: { environment: 'mainnet' } })).status).toBe(201);
    sb.services.clock.advance(1_000);
    const created = await sb.dashboard.post('/dashboard/api-keys', { headers: CSRF, json: { name: 'live', environment: 'live' } });
    const live = { 'X-Api-Key': created.body.data.fullKey };
    for (let i = 0; i < LIMIT + 2; i++) expect((await delta(live, 'plan-live', {}, sb.productionApi)).status).toBe(201);
    expect((await billing()).usage).toEqual([
      { environment: 'testnet', verifiedDeltas: LIMIT, limit: LIMIT, remaining: 0 },
      { environment: 'mainnet', verifiedDeltas: LIMIT + 2, limit: null, remaining: null },
    ]);
  });

  it('a new calendar month resets the allowance', async () => {
    const now = sb.services.clock.now();
    const { end } = period(now);
    sb.services.clock.advance(new Date(end).getTime() - now);
    // The session has expired meanwhile; log in again.
    await loginDemo(sb);
    expect((await billing()).currentPeriod).toEqual(period());
    expect((await billing()).currentPeriod.start).toBe(end);
    expect((await billing()).usage[0]).toEqual({ environment: 'testnet', verifiedDeltas: 0, limit: LIMIT, remaining: LIMIT });
    expect((await delta(key, 'plan-1')).status).toBe(201);
    expect((await billing()).usage[0]).toMatchObject({ verifiedDeltas: 1, remaining: LIMIT - 1 });
  });
});

describe('only confirmed deltas count', () => {
  let fresh: { client: HttpClient; key: Record<string, string> };

  beforeAll(async () => {
    const { client } = await signUp(sb, 'plan-slow@example.com');
    const created = await client.post('/dashboard/api-keys', { headers: CSRF, json: { name: 'k' } });
    fresh = { client, key: { 'X-Api-Key': created.body.data.fullKey } };
    // Confirmation takes an hour from now on.
    sb.services.config.confirmationMs = 60 * 60 * 1000;
  });

  afterAll(() => {
    sb.services.config.confirmationMs = 0;
  });

  it('recorded but unconfirmed deltas do not count, so more than the limit can be recorded', async () => {
    for (let i = 0; i < LIMIT + 2; i++) {
      const res = await delta(fresh.key, 'slow-1');
      expect(res.status).toBe(201);
      expect(res.body.data.status).toBe('recorded');
    }
    expect((await billing(fresh.client)).usage[0]).toEqual({ environment: 'testnet', verifiedDeltas: 0, limit: LIMIT, remaining: LIMIT });
  });

  it('once they are confirmed they all count, remaining never goes below 0, and the next delta is refused', async () => {
    sb.services.clock.advance(60 * 60 * 1000);
    await login(fresh.client, 'plan-slow@example.com', 'correct horse battery staple');
    const data = await billing(fresh.client);
    expect(data.usage[0]).toEqual({ environment: 'testnet', verifiedDeltas: LIMIT + 2, limit: LIMIT, remaining: 0 });
    const before = events();
    planLimit(await delta(fresh.key, 'slow-1'));
    expect(events()).toBe(before);
  });
});
