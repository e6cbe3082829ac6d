// Rule rows of area IDEM (see conformance/rules.ts for how to edit them).
// ─── Idempotency ─────────────────────────────────────────────────────────────────────
import type { Rule } from '../rules.ts';
import { NOT_IN_A_RUN } from './reasons.ts';

export const idemRules: Rule[] = [
  {
    id: 'R-IDEM-001',
    rule: '`Idempotency-Key` is 1 to 255 printable ASCII characters; any other value is 422.',
    source: ['openapi #/components/parameters/IdempotencyKey', 'openapi info "Idempotency"'],
    checks: ['LEDGER-013'],
    gap: 'an empty header value is not tried: intermediaries may drop an empty field',
    operations: ['recordDelta'],
  },
  {
    id: 'R-IDEM-002',
    rule: 'Stored → replay: the same key with the same body answers the stored first response again, with `Idempotent-Replayed: true`, and records nothing more.',
    source: ['PRODUCT.md "Balance API semantics"', 'seed 002 "Idempotency"', 'openapi info "Idempotency"'],
    checks: ['LEDGER-002', 'LEDGER-012'],
    operations: ['recordDelta'],
  },
  {
    id: 'R-IDEM-003',
    rule: 'Bodies are compared as understood: member order, whitespace, how an amount is written ("25.50", 25.5, 2.55e1) and an absent versus an empty `metadata` do not matter.',
    source: ['openapi info "Idempotency"'],
    checks: ['LEDGER-012'],
    operations: ['recordDelta'],
  },
  {
    id: 'R-IDEM-004',
    rule: 'Stored → conflict: the same key with another body is 409 `idempotency_key_reused` and records nothing.',
    source: ['PRODUCT.md "Balance API semantics"', 'openapi info "Idempotency"'],
    checks: ['LEDGER-003', 'LEDGER-012'],
    operations: ['recordDelta'],
  },
  {
    id: 'R-IDEM-005',
    rule: 'The replay is the first response as it was (`status` `recorded`, no proof), whatever happened to the delta since.',
    source: ['openapi info "Idempotency"'],
    checks: ['LEDGER-012'],
    operations: ['recordDelta'],
  },
  {
    id: 'R-IDEM-006',
    rule: 'Unused stays unused on failure: only a recorded delta stores a response, so a request that failed leaves its key free.',
    source: ['openapi info "Idempotency"'],
    checks: ['LEDGER-013'],
    operations: ['recordDelta'],
  },
  {
    id: 'R-IDEM-007',
    rule: 'In progress: while the first request with a key is being processed, another with the same key is 409 `idempotency_request_in_progress`.',
    source: ['openapi info "Idempotency"'],
    checks: ['LEDGER-014'],
    gap: 'the 409 is seen only when the target is still processing the first request as the others arrive',
    operations: ['recordDelta'],
  },
  {
    id: 'R-IDEM-008',
    rule: 'Expired: a stored response is kept for 24 hours.',
    source: ['openapi #/components/parameters/IdempotencyKey'],
    unobservable: NOT_IN_A_RUN('24 hours'),
    operations: ['recordDelta'],
  },
  {
    id: 'R-IDEM-009',
    rule: 'Keys are scoped to the tenant and the environment: the same key elsewhere is another key.',
    source: ['seed 002 "Idempotency"', 'openapi info "Idempotency"'],
    checks: ['LEDGER-015'],
    gap: 'the environment scope is not tried: it needs a key of the other environment, active',
    operations: ['recordDelta'],
  },
  {
    id: 'R-IDEM-010',
    rule: 'An idempotent replay sends no second `delta.recorded` event.',
    source: ['openapi #/webhooks/delta.recorded'],
    checks: ['LEDGER-019'],
    operations: ['recordDelta', 'delta.recorded'],
  },
];
