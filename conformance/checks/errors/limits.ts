// The problem codes a client provokes only by pushing the target to a limit: a bounded burst of
// password checks (password_hashing_busy) and the plan's monthly allowance (plan_limit_exceeded).
// The burst needs --probe-rate-limit (bounded on purpose); the plan check needs --use-up-plan
// (it leaves the account unable to record deltas until the month ends, so never on an account
// in use) and runs after every other check that records deltas (checks/index.ts keeps the
// error group last).
import { defineCheck } from '../../check.ts';
import { ensure, expectProblem, expectStatus } from '../../lib/assert.ts';
import { createClient } from '../../lib/http.ts';
import { Inconclusive } from '../../lib/outcome.ts';
import { derived, unique } from './support.ts';

/**
 * How many password checks the burst sends at once. Bounded: each costs the target a slow hash.
 * A target that runs and queues more (the sandbox: 1 or 2 and 64) answers them all.
 */
const PASSWORD_BURST = 12;
/** The most deltas the plan check spends to reach the limit; a larger allowance is not used up. */
const PLAN_SPEND_MAX = 150;

export const limitChecks = [
  defineCheck({
    id: 'CODE-007',
    rule: 'In a burst of 12 logins at once (each for its own unknown address), each is judged (401) or, past the password checks the target runs or queues at once, refused at once with 429 password_hashing_busy (or rate_limited) and a Retry-After in whole seconds.',
    source: 'openapi #/components/schemas/ProblemCode (password_hashing_busy); openapi #/components/responses/TooManyPasswordChecks',
    needs: ['dashboard', 'rateLimitProbe'],
    async run(ctx) {
      // Addresses with no account, one per attempt, so no address's login throttle answers in place of the hashing.
      // Its 429s are what it judges: they are not waited out and retried (a 503 + Retry-After is).
      const client = createClient(ctx.recorder, ctx.config.dashboardUrl!);
      const attempt = (i: number) => client.post('/dashboard/auth/login', { json: { email: `conformance-burst-${i}-${ctx.runTag}@example.com`, password: 'conformance-wrong-password' }, retry: 'unavailable-only' });
      const answers = await Promise.all(Array.from({ length: PASSWORD_BURST }, (_, i) => attempt(i)));
      const odd = answers.filter((a) => !(a.status === 401 && a.body?.code === 'invalid_credentials') && !(a.status === 429 && (a.body?.code === 'password_hashing_busy' || a.body?.code === 'rate_limited')));
      ensure(odd.length === 0, `a burst of logins got answers other than 401 invalid_credentials or 429 password_hashing_busy/rate_limited: ${odd.slice(0, 5).map((a) => `${a.status} ${a.body?.code ?? ''}`).join(', ')}`);
      const limited = answers.filter((a) => a.status === 429);
      // A target that checks this many at once has nothing more to show here.
      if (!limited.length) return;
      for (const a of limited) {
        expectProblem(a, 429, a.body.code, 'a login refused during a burst');
        ensure(/^\d+$/.test(a.headers['retry-after'] ?? ''), `a 429 ${a.body.code} must carry Retry-After in whole seconds, got "${a.headers['retry-after'] ?? '(missing)'}"`);
      }
      // No retry here: waiting out Retry-After is judged by ERR-007, and the wait would lengthen every run.
    },
  }),
  defineCheck({
    id: 'CODE-008',
    rule: 'Once the plan\'s monthly allowance of verified deltas is used up, a delta gets 402 plan_limit_exceeded with `limit` (the plan\'s) and `periodEnd` (the billing period\'s end), and nothing is recorded.',
    source: 'openapi #/components/schemas/ProblemCode (plan_limit_exceeded); openapi #/components/responses/PlanLimitExceeded; PRODUCT.md "Errors"',
    needs: ['apiKey', 'dashboard', 'writes', 'usePlan'],
    async run(ctx) {
      const dash = await ctx.dashboard();
      const billing = await dash.get('/dashboard/billing');
      expectStatus(billing, 200, 'reading the billing summary');
      const environment = ctx.keyEnvironment === 'live' ? 'mainnet' : 'testnet';
      const usage = (billing.body?.data?.usage ?? []).find((u: any) => u.environment === environment);
      if (!usage || usage.limit === null || usage.limit === undefined) throw new Inconclusive(`the plan has no limit of verified deltas in ${environment}`);
      if (usage.remaining > PLAN_SPEND_MAX) throw new Inconclusive(`the plan allows ${usage.remaining} more verified deltas this month: more than this check spends (${PLAN_SPEND_MAX})`);
      const customer = unique();
      const send = () => ctx.api.post('/api/v1/balance/delta', { headers: ctx.keyHeaders(), json: { customerId: customer, delta: '0.01', reason: 'conformance-plan-limit' } });
      // The allowance in batches of ten at once, then one at a time until one is refused.
      let refused;
      for (let sent = 0; sent < usage.remaining && !refused; ) {
        const batch = await Promise.all(Array.from({ length: Math.min(10, usage.remaining - sent) }, send));
        sent += batch.length;
        refused = batch.find((r) => r.status !== 201);
      }
      for (let i = 0; i < 3 && !refused; i++) {
        const res = await send();
        if (res.status !== 201) refused = res;
      }
      if (!refused) throw new Inconclusive('no delta was refused past the allowance: the target counts deltas only once they are verified');
      expectProblem(refused, 402, 'plan_limit_exceeded', 'a delta past the monthly allowance');
      ensure(refused.body.limit === usage.limit, `the problem's limit ${JSON.stringify(refused.body.limit)} differs from the plan's ${usage.limit}`);
      const periodEnd = billing.body.data.currentPeriod?.end;
      ensure(typeof refused.body.periodEnd === 'string' && Date.parse(refused.body.periodEnd) === Date.parse(periodEnd), `the problem's periodEnd ${JSON.stringify(refused.body.periodEnd)} differs from the billing period's end ${periodEnd}`);
      const count = (await derived(ctx, customer)).deltaCount;
      const again = await ctx.api.post('/api/v1/balance/delta', { headers: ctx.keyHeaders(), json: { customerId: customer, delta: '0.01', reason: 'conformance-plan-limit' } });
      expectProblem(again, 402, 'plan_limit_exceeded', 'another delta past the monthly allowance');
      ensure((await derived(ctx, customer)).deltaCount === count, 'a delta refused with 402 was recorded');
    },
  }),
];
