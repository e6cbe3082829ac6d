// Rule rows of area HDR (see conformance/rules.ts for how to edit them).
// ─── Headers ─────────────────────────────────────────────────────────────────────────
import type { Rule } from '../rules.ts';

export const hdrRules: Rule[] = [
  {
    id: 'R-HDR-001',
    rule: 'Every response carries `X-Request-Id`, `req_` and 8 to 64 base62 characters.',
    source: ['openapi #/components/headers/X-Request-Id'],
    checks: ['HDR-001', 'CONTRACT-001'],
  },
  {
    id: 'R-HDR-002',
    rule: 'An error\'s `requestId` equals its `X-Request-Id`.',
    source: ['openapi #/components/schemas/Problem'],
    checks: ['HDR-002'],
  },
  {
    id: 'R-HDR-003',
    rule: 'A 429 carries `Retry-After` in whole seconds and `RateLimit-Limit`, `RateLimit-Remaining` and `RateLimit-Reset` as non-negative integers.',
    source: ['PRODUCT.md "Errors"', 'openapi info "Rate limits"', 'openapi #/components/responses/TooManyRequests'],
    checks: ['ERR-007', 'CONTRACT-001'],
  },
  {
    id: 'R-HDR-004',
    rule: 'A retry after `Retry-After` seconds is served again.',
    source: ['seed 002 "Auth Error Handling"', 'openapi #/components/headers/Retry-After'],
    checks: ['ERR-007'],
  },
  {
    id: 'R-HDR-005',
    rule: 'A 503 carries `Retry-After`.',
    source: ['openapi #/components/responses/StorageUnavailable'],
    checks: ['CONTRACT-001'],
    gap: 'judged on every 503 the run happens to get (the header is required); no documented endpoint can make the target\'s storage fail on purpose',
  },
  {
    id: 'R-HDR-006',
    rule: 'A 405 carries `Allow` listing the methods of the path, and the problem\'s `allowedMethods` is the same list.',
    source: ['PRODUCT.md "Errors"', 'RFC 9110 §15.5.6', 'openapi #/components/schemas/Problem'],
    checks: ['ERR-002'],
  },
  {
    id: 'R-HDR-007',
    rule: '`Idempotent-Replayed: true` is sent on a replay and absent otherwise.',
    source: ['openapi #/components/headers/Idempotent-Replayed'],
    checks: ['HDR-003', 'LEDGER-002'],
    operations: ['recordDelta'],
  },
  {
    id: 'R-HDR-008',
    rule: '`X-Api-Key` carries the full key, both halves and the period, as one opaque string; its public half alone is 401.',
    source: ['seed 002 "The Header"', 'seed 002 "Key Format"'],
    checks: ['AUTH-002', 'AUTH-003'],
  },
  {
    id: 'R-HDR-009',
    rule: 'Requests are rate limited per API key (Balance API) and per client address (public and dashboard routes).',
    source: ['openapi info "Rate limits"', 'seed 000 "Error Responses"'],
    checks: ['ERR-007'],
    gap: 'only the per-key limit of derive is probed',
  },
];
