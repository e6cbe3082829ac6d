// Rule rows of area LEDG (see conformance/rules.ts for how to edit them).
// ─── Ledger ──────────────────────────────────────────────────────────────────────────
import type { Rule } from '../rules.ts';

export const ledgRules: Rule[] = [
  {
    id: 'R-LEDG-001',
    rule: 'Recording a delta answers 201 with its receipt: `receiptId`, the recorded fields, `balanceAfter`, `status` `recorded`, `leafHash`, `sequence`, `environment`, and `checkpointId`/`inclusionProof` null.',
    source: ['seed 003 "Step 3: Emit Your First Delta"', 'PRODUCT.md "Balance API semantics"', 'openapi op recordDelta'],
    checks: ['LEDGER-001', 'CONTRACT-001'],
    gap: 'that the receipt echoes the request and is `recorded` is judged by the schema only',
    operations: ['recordDelta'],
  },
  {
    id: 'R-LEDG-002',
    rule: '`sequence` is the delta\'s position in its customer\'s ledger: 1, 2, 3, … without gaps.',
    source: ['openapi #/components/schemas/Receipt'],
    operations: ['recordDelta'],
  },
  {
    id: 'R-LEDG-003',
    rule: '`balanceAfter` is the customer\'s balance after the delta, exactly.',
    source: ['PRODUCT.md "Balance API semantics"', 'openapi #/components/schemas/Receipt'],
    checks: ['LEDGER-001'],
    gap: 'compared for one delta only (the largest amount)',
    operations: ['recordDelta'],
  },
  {
    id: 'R-LEDG-004',
    rule: 'Derive: `computedBalance` is the exact sum of every delta of the customer in this environment and `deltaCount` their number; a customer without deltas has "0.00" and 0.',
    source: ['seed 003 "Step 4: Query the Balance"', 'PRODUCT.md "Balance API semantics"', 'openapi op deriveBalance'],
    checks: ['LEDGER-001', 'LEDGER-002', 'KEY-006'],
    operations: ['deriveBalance'],
  },
  {
    id: 'R-LEDG-005',
    rule: 'Derive also reports `confirmedCount`, `firstDeltaAt`, `lastDeltaAt` and `lastCheckpoint` (null before the first checkpoint).',
    source: ['openapi #/components/schemas/DerivedBalance'],
    operations: ['deriveBalance'],
  },
  {
    id: 'R-LEDG-006',
    rule: 'Compare with `customerId`: `expectedBalance = startingBalance + computedBalance`; each view matches when it equals it; `yourDiscrepancy` and `theirDiscrepancy` are each view minus `expectedBalance`.',
    source: ['seed 003 "Step 5: Verify Agreement"', 'PRODUCT.md "Balance API semantics"', 'openapi #/components/schemas/CompareReport'],
    checks: ['LEDGER-005'],
    gap: '`expectedBalance`, `yourDiscrepancy` and `theirDiscrepancy` are not compared',
    operations: ['compareBalances'],
  },
  {
    id: 'R-LEDG-007',
    rule: 'Compare without `customerId`: the two views are compared with each other (both match exactly when equal); `computedBalance`, `expectedBalance` and the per-view discrepancies are null.',
    source: ['PRODUCT.md "Balance API semantics"', 'openapi #/components/schemas/CompareReport'],
    checks: ['LEDGER-005'],
    gap: 'the null members are not asserted',
    operations: ['compareBalances'],
  },
  {
    id: 'R-LEDG-008',
    rule: '`discrepancy` is always `yourBalance - theirBalance`, exactly.',
    source: ['openapi #/components/schemas/CompareReport'],
    checks: ['LEDGER-005'],
    operations: ['compareBalances'],
  },
  {
    id: 'R-LEDG-009',
    rule: '`startingBalance` defaults to 0.',
    source: ['openapi #/components/schemas/CompareRequest'],
    operations: ['compareBalances'],
  },
  {
    id: 'R-LEDG-010',
    rule: 'Compare stores nothing.',
    source: ['openapi op compareBalances'],
    operations: ['compareBalances'],
  },
  {
    id: 'R-LEDG-011',
    rule: 'A `referenceId` is used once per customer: a second delta with it is 409 `duplicate_reference` naming the original receipt in `receiptId`, and records nothing.',
    source: ['PRODUCT.md "Balance API semantics"', 'openapi info "Idempotency"'],
    checks: ['LEDGER-004'],
    operations: ['recordDelta'],
  },
  {
    id: 'R-LEDG-012',
    rule: 'The same `referenceId` can be used for another customer.',
    source: ['openapi #/components/schemas/DeltaRequest'],
    operations: ['recordDelta'],
  },
  {
    id: 'R-LEDG-013',
    rule: 'recorded → confirmed: a delta is `recorded` at once (`confirmedAt` null) and becomes `confirmed` shortly after (`confirmedAt` set, the `delta.confirmed` event); it never goes back.',
    source: ['openapi op recordDelta', 'openapi #/components/schemas/Receipt'],
    operations: ['recordDelta', 'getReceipt', 'delta.confirmed'],
  },
  {
    id: 'R-LEDG-014',
    rule: 'A receipt can be fetched by its id.',
    source: ['PRODUCT.md "Balance API semantics"', 'openapi op getReceipt'],
    checks: ['LEDGER-007'],
    operations: ['getReceipt'],
  },
  {
    id: 'R-LEDG-015',
    rule: 'The cost of deriving a balance does not grow with the number of deltas.',
    source: ['openapi op deriveBalance'],
    unobservable: 'a performance property: response times over a network cannot establish it',
    operations: ['deriveBalance'],
  },
];
