// The response check (step 7 of mock/app.ts) judges the body a handler gave before reading back
// the JSON written: a handler answering what its contract does not allow is still flagged in
// `sl-violations`, whether the object itself is wrong or only its JSON is (a member the
// serialiser drops, a Date, a number JSON cannot hold), and a good answer is not flagged.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Handler } from './domain/handler.ts';
import { apiHandlers } from './domain/index.ts';
import { startInProcessApp, type InProcessApp } from './testing/in-process-app.ts';

/** What deriveBalance answers in this test: the real handler's reply, changed by `change`. */
let change: (data: Record<string, unknown>) => unknown = (data) => data;
let sandbox: InProcessApp;

beforeAll(async () => {
  const deriveChanged: Handler = async (ctx) => {
    const reply = await apiHandlers.deriveBalance!(ctx);
    const body = reply.body as { statusCode: number; data: Record<string, unknown> };
    return { ...reply, body: { ...body, data: change(body.data) } };
  };
  sandbox = await startInProcessApp({ deriveBalance: deriveChanged }, { config: { freePlanDeltas: 1_000 } });
});

afterAll(() => sandbox?.stop());

async function derive() {
  const res = await sandbox.derive();
  const flagged = res.headers['sl-violations'];
  return { status: res.status, body: JSON.parse(res.body!), violations: flagged === undefined ? undefined : (JSON.parse(flagged as string) as { path: string[]; message: string }[]) };
}

describe('the response check', () => {
  it('does not flag what the contract allows', async () => {
    change = (data) => data;
    const res = await derive();
    expect(res.status).toBe(200);
    expect(res.violations).toBeUndefined();
  });

  it('flags a handler answer missing a required member, or with a member of the wrong type', async () => {
    change = ({ computedBalance: _, ...rest }) => rest;
    expect((await derive()).violations).toEqual([expect.objectContaining({ path: ['body', 'data'], message: expect.stringContaining('computedBalance') })]);
    change = (data) => ({ ...data, computedBalance: 12 });
    expect((await derive()).violations).toEqual([expect.objectContaining({ path: ['body', 'data', 'computedBalance'] })]);
  });

  it('judges the JSON as written where it differs from the object: a member set to undefined is missing, a Date is a string', async () => {
    change = (data) => ({ ...data, computedBalance: undefined });
    const missing = await derive();
    expect(missing.body.data).not.toHaveProperty('computedBalance');
    expect(missing.violations).toEqual([expect.objectContaining({ path: ['body', 'data'], message: expect.stringContaining('computedBalance') })]);
    // A Date's JSON is an ISO string, which the balance's pattern does not allow; the object is no string at all.
    change = (data) => ({ ...data, computedBalance: new Date(0) });
    const dated = await derive();
    expect(dated.body.data.computedBalance).toBe('1970-01-01T00:00:00.000Z');
    expect(dated.violations).toEqual([expect.objectContaining({ path: ['body', 'data', 'computedBalance'] })]);
  });

  it('judges a number JSON cannot hold as the null it is written as (Infinity passes an integer check as an object)', async () => {
    for (const count of [Infinity, -Infinity, NaN]) {
      change = (data) => ({ ...data, deltaCount: count });
      const res = await derive();
      expect(res.body.data.deltaCount).toBeNull();
      expect(res.violations).toEqual([expect.objectContaining({ path: ['body', 'data', 'deltaCount'] })]);
    }
  });
});
