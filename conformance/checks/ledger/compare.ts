// Compare, member by member: with and without a customer, with and without startingBalance,
// agreeing and apart in both directions, at sums past ±10^15 — and it stores nothing.
import { defineCheck } from '../../check.ts';
import type { CheckContext } from '../../context.ts';
import { ensure, expectStatus } from '../../lib/assert.ts';
import { units } from '../../lib/proofs.ts';
import { compareBalances, derived, formatUnits, newCustomer, recordDelta } from './support.ts';
import { sameInstant } from '../../lib/json.ts';

type Input = { customerId?: string; yourBalance: string | number; theirBalance: string | number; startingBalance?: string | number };

/** The whole CompareReport the contract defines for these inputs and the ledger's balance (null without a customer). */
function expectedReport(input: Input, computed: bigint | null) {
  const your = units(String(input.yourBalance));
  const their = units(String(input.theirBalance));
  const start = units(String(input.startingBalance ?? '0'));
  const expected = computed === null ? null : start + computed;
  return {
    customerId: input.customerId ?? null,
    startingBalance: formatUnits(start),
    yourBalance: formatUnits(your),
    theirBalance: formatUnits(their),
    computedBalance: computed === null ? null : formatUnits(computed),
    expectedBalance: expected === null ? null : formatUnits(expected),
    matchesYours: expected === null ? your === their : your === expected,
    matchesTheirs: expected === null ? your === their : their === expected,
    discrepancy: formatUnits(your - their),
    yourDiscrepancy: expected === null ? null : formatUnits(your - expected),
    theirDiscrepancy: expected === null ? null : formatUnits(their - expected),
  };
}

async function expectComparison(ctx: CheckContext, input: Input, computed: bigint | null) {
  const res = await compareBalances(ctx, input);
  expectStatus(res, 200, `comparing ${JSON.stringify(input)}`);
  const want = expectedReport(input, computed);
  for (const [member, value] of Object.entries(want)) {
    ensure(res.body?.data?.[member] === value, `compare ${JSON.stringify(input)}: ${member} is ${JSON.stringify(res.body?.data?.[member])}, expected ${JSON.stringify(value)}`);
  }
}

export const compareChecks = [
  defineCheck({
    id: 'LEDGER-011',
    rule: 'Compare answers every member exactly: without customerId the views are compared with each other and the ledger members are null; with it, expectedBalance = startingBalance (default 0) + the derived balance, each view matches when equal to it, and each discrepancy is a view minus expectedBalance; discrepancy = yourBalance - theirBalance; sums reach ±2×10^15; nothing is stored.',
    source: 'seed 003 Step 5; openapi #/components/schemas/CompareReport; openapi #/components/schemas/CompareRequest; openapi op compareBalances',
    needs: ['apiKey', 'writes'],
    async run(ctx) {
      const customerId = newCustomer('compare');
      for (const delta of ['70.10', '-29.90']) expectStatus(await recordDelta(ctx, { customerId, delta, reason: 'conformance' }), 201, `recording ${delta}`);
      const before = await derived(ctx, customerId);
      const balance = units('40.20');
      ensure(before.computedBalance === '40.20', `70.10 - 29.90 derived ${before.computedBalance}`);

      // Without a customer: the two views against each other.
      await expectComparison(ctx, { yourBalance: 100, theirBalance: '100.00' }, null);
      await expectComparison(ctx, { yourBalance: '-5', theirBalance: '5.5', startingBalance: '3' }, null);
      await expectComparison(ctx, { yourBalance: 1000000000000000, theirBalance: '-1000000000000000' }, null);
      // With a customer: against the ledger, with and without startingBalance.
      await expectComparison(ctx, { customerId, yourBalance: '50.20', theirBalance: '50.19', startingBalance: '10' }, balance);
      await expectComparison(ctx, { customerId, yourBalance: '40.2', theirBalance: 41 }, balance);
      await expectComparison(ctx, { customerId, yourBalance: '-1000000000000000', theirBalance: 0, startingBalance: 1000000000000000 }, balance);
      const nobody = newCustomer('compare-none');
      await expectComparison(ctx, { customerId: nobody, yourBalance: '0', theirBalance: '0.01' }, 0n);

      const after = await derived(ctx, customerId);
      ensure(after.deltaCount === before.deltaCount && after.computedBalance === before.computedBalance && sameInstant(after.lastDeltaAt, before.lastDeltaAt), 'comparing changed the customer\'s ledger');
      const none = await derived(ctx, nobody);
      ensure(none.deltaCount === 0 && none.computedBalance === '0.00' && none.lastDeltaAt === null, 'comparing for a customer without deltas recorded something for it');
    },
  }),
];
