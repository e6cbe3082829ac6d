// Rule rows of area AMT (see conformance/rules.ts for how to edit them).
// ─── Amounts ─────────────────────────────────────────────────────────────────────────
import type { Rule } from '../rules.ts';

export const amtRules: Rule[] = [
  {
    id: 'R-AMT-001',
    rule: 'Amounts are exact decimals, never summed as binary floats: ten deltas of 0.1 derive exactly "1.00", 0.1 + 0.2 derives "0.30".',
    source: ['PRODUCT.md "Balance API semantics"', 'openapi info "Amounts"'],
    checks: ['LEDGER-001', 'LEDGER-009'],
  },
  {
    id: 'R-AMT-002',
    rule: 'An amount is a decimal string or a JSON number; a number is read from its exact text, never through a double.',
    source: ['openapi #/components/schemas/Amount'],
    checks: ['LEDGER-001', 'LEDGER-009', 'LEDGER-012'],
  },
  {
    id: 'R-AMT-003',
    rule: 'Amounts from -1000000000000000 to 1000000000000000 inclusive (±10^15) are accepted.',
    source: ['PRODUCT.md "Balance API semantics"', 'openapi #/components/schemas/Amount'],
    checks: ['LEDGER-001', 'LEDGER-009'],
  },
  {
    id: 'R-AMT-004',
    rule: 'An amount outside ±10^15 is 422 `validation_failed` (`minimum`/`maximum`), including the number 1000000000000000.00000001, which a double reads as 1e15.',
    source: ['openapi #/components/schemas/Amount', 'openapi info "Amounts"'],
    checks: ['LEDGER-010'],
    operations: ['recordDelta', 'compareBalances'],
  },
  {
    id: 'R-AMT-005',
    rule: 'An amount has at most 8 decimal places: a string with more is 422 (`pattern`), a number with more is 422 with the violation code `x-max-decimal-places`, at `["body", "delta"]`.',
    source: ['PRODUCT.md "Balance API semantics"', 'openapi #/components/schemas/Amount', 'openapi info "Amounts"'],
    checks: ['ERR-006', 'LEDGER-010'],
    operations: ['recordDelta'],
  },
  {
    id: 'R-AMT-006',
    rule: 'The string grammar is the whole rule: optional `-`, at most 15 integer digits without leading zeros (or exactly 1000000000000000), then optionally `.` and 1 to 8 digits; no exponent, `+`, `.5` or `1.`.',
    source: ['openapi #/components/schemas/Amount'],
    checks: ['LEDGER-010'],
  },
  {
    id: 'R-AMT-007',
    rule: 'Responses write amounts as decimal strings with 2 to 8 fractional digits, trailing zeros past the second removed ("100.00", "0.30", "0.12345678").',
    source: ['openapi info "Amounts"', 'openapi #/components/schemas/Decimal', 'openapi #/components/schemas/BoundedDecimal'],
    checks: ['LEDGER-001', 'LEDGER-009', 'LEDGER-011', 'LEDGER-017', 'CONTRACT-001'],
  },
  {
    id: 'R-AMT-008',
    rule: 'Every balance stays within ±10^15: a delta that would take it outside is 409 `balance_out_of_range` and records nothing.',
    source: ['openapi info "Amounts"', 'openapi #/components/schemas/BoundedDecimal', 'openapi op recordDelta'],
    checks: ['LEDGER-009'],
    operations: ['recordDelta'],
  },
  {
    id: 'R-AMT-009',
    rule: 'Sums and differences of two amounts in a comparison may reach ±2×10^15 and are written as `Decimal`.',
    source: ['openapi #/components/schemas/CompareReport'],
    checks: ['LEDGER-011'],
    operations: ['compareBalances'],
  },
];
