// Plan and usage: the billing summary and the Free plan's limit of verified deltas.
import type { Check } from '../../check.ts';
import { defineCheck } from '../../check.ts';
import type { CheckContext } from '../../context.ts';
import { ensure, expectProblem, expectStatus } from '../../lib/assert.ts';
import { derived, getReceipt, newCustomer, pollUntil, postDelta } from '../ledger/support.ts';
import { sameInstant } from '../../lib/json.ts';

const NETWORKS = ['testnet', 'mainnet'] as const;
const networkOf = (ctx: CheckContext) => (ctx.keyEnvironment === 'live' ? 'mainnet' : 'testnet');

/** GET /dashboard/billing, checked against every rule of the summary; returns its data. */
async function billingSummary(ctx: CheckContext) {
  const dash = await ctx.dashboard();
  const res = await dash.get('/dashboard/billing');
  expectStatus(res, 200, 'reading the billing summary');
  const s = res.body?.data;
  ensure(s && s.plan && s.currentPeriod && Array.isArray(s.usage), 'the billing summary lacks plan, currentPeriod or usage');
  const limits = s.plan.limits?.verifiedDeltasPerMonth ?? {};
  if (s.plan.id === 'free') ensure(limits.testnet === 100, `the Free plan allows ${limits.testnet} verified deltas a month in the Sandbox, not 100`);

  const start = Date.parse(s.currentPeriod.start);
  const end = Date.parse(s.currentPeriod.end);
  const d = new Date(start);
  ensure(!Number.isNaN(start) && start === Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), 1), `the period starts at ${s.currentPeriod.start}, not at 00:00 UTC on the first day of a month`);
  ensure(end === Date.UTC(d.getUTCFullYear(), d.getUTCMonth() + 1, 1), `the period from ${s.currentPeriod.start} ends at ${s.currentPeriod.end}, not at 00:00 UTC on the first day of the next month`);
  // A few minutes of clock difference are allowed at a month's edge.
  const now = Date.now();
  ensure(start <= now + 300_000 && now < end + 300_000, `the current period ${s.currentPeriod.start} – ${s.currentPeriod.end} does not contain now (${new Date(now).toISOString()})`);

  ensure(s.usage.length === 2 && s.usage[0]?.environment === 'testnet' && s.usage[1]?.environment === 'mainnet', `usage lists ${JSON.stringify(s.usage.map((u: any) => u?.environment))}, not testnet then mainnet`);
  for (const [i, network] of NETWORKS.entries()) {
    const u = s.usage[i];
    ensure(u.limit === limits[network], `${network} usage: limit ${u.limit}, the plan's limit is ${limits[network]}`);
    const remaining = u.limit === null ? null : Math.max(0, u.limit - u.verifiedDeltas);
    ensure(u.remaining === remaining, `${network} usage: remaining ${u.remaining} with limit ${u.limit} and ${u.verifiedDeltas} verified deltas; expected ${remaining}`);
  }
  return s;
}

const usageOf = (s: any, network: string) => s.usage.find((u: any) => u.environment === network);

export const billingChecks: Check[] = [
  defineCheck({
    id: 'BILLING-001',
    rule: 'The billing summary shows the plan (the Free plan allows 100 verified deltas a month in the Sandbox), the current UTC calendar month, and each environment\'s usage, testnet first, with remaining = max(0, limit - verifiedDeltas) or null without a limit.',
    source: 'openapi op getBillingSummary; openapi #/components/schemas/BillingSummary, BillingPeriod, EnvironmentUsage, BillingPlan; seed 003 "Free plan reminder"',
    needs: ['dashboard'],
    async run(ctx) {
      await billingSummary(ctx);
    },
  }),
  defineCheck({
    id: 'BILLING-002',
    rule: 'Usage grows as deltas are confirmed; with remaining above 0 a delta is recorded, at 0 it is 402 plan_limit_exceeded with limit and periodEnd and records nothing.',
    source: 'openapi #/components/schemas/EnvironmentUsage; openapi #/components/schemas/BillingSummary; PRODUCT.md Balance API semantics',
    needs: ['apiKey', 'dashboard', 'writes'],
    async run(ctx) {
      const network = networkOf(ctx);
      const before = await billingSummary(ctx);
      const used = usageOf(before, network);
      const customerId = newCustomer('usage');
      const res = await postDelta(ctx, { customerId, delta: '1.00', reason: 'conformance' });
      if (used.remaining === 0) {
        expectProblem(res, 402, 'plan_limit_exceeded', `recording with ${network} usage at its limit`);
        ensure(res.body.limit === used.limit && sameInstant(res.body.periodEnd, before.currentPeriod.end), `402 plan_limit_exceeded must state limit ${used.limit} and periodEnd ${before.currentPeriod.end}`);
        ensure((await derived(ctx, customerId)).deltaCount === 0, 'a delta refused by the plan limit was recorded');
        return;
      }
      ensure(res.status !== 402, `recording was refused with 402 although ${network} has ${used.remaining} verified deltas remaining`);
      expectStatus(res, 201, 'recording a delta');
      const receiptId = res.body.data.receiptId;

      // Other deltas (earlier checks', other clients') may be confirmed meanwhile, so usage is
      // judged as growing by at least this one, once it is confirmed.
      const confirmed = await pollUntil(ctx, () => getReceipt(ctx, receiptId), (ex) => ex.body?.data?.status === 'confirmed');
      ensure(confirmed.body?.data?.status === 'confirmed', `receipt ${receiptId} was not confirmed within ${ctx.scaled(30)} s`);
      const after = await billingSummary(ctx);
      ensure(usageOf(after, network).verifiedDeltas >= used.verifiedDeltas + 1, `${network} usage went from ${used.verifiedDeltas} to ${usageOf(after, network).verifiedDeltas} verified deltas though a delta was confirmed meanwhile`);
    },
  }),
];
