// Rule rows of area BILL (see conformance/rules.ts for how to edit them).
// ─── Plan and usage ──────────────────────────────────────────────────────────────────
import type { Rule } from '../rules.ts';

export const billRules: Rule[] = [
  {
    id: 'R-BILL-001',
    rule: 'The billing summary shows the plan, the current period (a UTC calendar month, start inclusive, end exclusive) and each environment\'s usage, `testnet` first.',
    source: ['openapi op getBillingSummary', 'openapi #/components/schemas/BillingPeriod'],
    checks: ['BILLING-001', 'BILLING-002'],
    operations: ['getBillingSummary'],
  },
  {
    id: 'R-BILL-002',
    rule: 'Usage counts confirmed (verified) deltas only; `remaining` is `limit - verifiedDeltas`, never below 0, and null without a limit.',
    source: ['openapi #/components/schemas/EnvironmentUsage'],
    checks: ['BILLING-001', 'BILLING-002'],
    gap: 'that only confirmed deltas count, and each exactly once, is not checked: other deltas (earlier checks\', other clients\') may be confirmed at any time, so usage is only seen to grow by at least one as a delta is confirmed',
    operations: ['getBillingSummary'],
  },
  {
    id: 'R-BILL-003',
    rule: 'New accounts are on the Free plan: 100 verified deltas a month in the Sandbox.',
    source: ['seed 003 "Free plan reminder"', 'PRODUCT.md "Balance API semantics"', 'openapi #/components/schemas/BillingPlan'],
    checks: ['BILLING-001'],
    gap: 'that a new account starts on the Free plan is not checked: the suite cannot create an account (only the Free plan\'s limit is)',
    operations: ['getBillingSummary'],
  },
  {
    id: 'R-BILL-004',
    rule: 'At `remaining` 0, recording a delta in that environment is 402 `plan_limit_exceeded` with `limit` and `periodEnd` and records nothing, until the next period or a plan change; reads are not limited.',
    source: ['PRODUCT.md "Balance API semantics"', 'openapi op getBillingSummary', 'openapi #/components/schemas/BillingSummary'],
    checks: ['BILLING-002'],
    gap: 'the 402 itself is checked only when the account is already at its limit: a check may not use up a real account\'s monthly plan (a 402 with deltas remaining is checked always)',
    operations: ['recordDelta'],
  },
];
