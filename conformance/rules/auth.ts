// Rule rows of area AUTH (see conformance/rules.ts for how to edit them).
// ─── API key authentication ──────────────────────────────────────────────────────────
import type { Rule } from '../rules.ts';

export const authRules: Rule[] = [
  {
    id: 'R-AUTH-001',
    rule: 'A Balance API request without `X-Api-Key` is 401 `unauthenticated`.',
    source: ['seed 000 "Error Responses"', 'seed 002 "Auth Error Handling"', 'OWASP API2:2023'],
    checks: ['AUTH-001'],
  },
  {
    id: 'R-AUTH-002',
    rule: 'Malformed, unknown, wrong-secret and mixed-environment keys are 401 `unauthenticated` with one and the same body: the cause is not told.',
    source: ['openapi #/components/securitySchemes/ApiKeyAuth', 'openapi #/components/responses/Unauthorized', 'OWASP API2:2023'],
    checks: ['AUTH-002'],
  },
  {
    id: 'R-AUTH-003',
    rule: 'Disabled, deleted, superseded (regenerated) and other-environment keys get exactly the 401 a malformed key gets.',
    source: ['openapi #/components/responses/Unauthorized', 'PRODUCT.md "Keys"'],
    checks: ['KEY-003', 'KEY-004', 'KEY-005', 'AUTH-005'],
  },
  {
    id: 'R-AUTH-004',
    rule: 'A key is accepted only in `X-Api-Key`, never from the query string.',
    source: ['seed 002 "Agent Credential Storage"', 'OWASP API2:2023'],
    checks: ['AUTH-004'],
  },
  {
    id: 'R-AUTH-005',
    rule: 'A valid key that lacks the operation\'s permission is 403 `insufficient_permission` (never 401) and changes nothing.',
    source: ['seed 000 "Error Responses"', 'PRODUCT.md "Keys"', 'openapi #/components/responses/ForbiddenPermission', 'OWASP API5:2023'],
    checks: ['KEY-006'],
  },
  {
    id: 'R-AUTH-006',
    rule: '`balance:read` allows derive, compare and reading receipts and checkpoints; `balance:write` allows recording deltas and creating checkpoints.',
    source: ['PRODUCT.md "Keys"', 'openapi #/components/schemas/ApiKeyPermission'],
    checks: ['KEY-006'],
  },
  {
    id: 'R-AUTH-007',
    rule: 'A key created without `permissions` has both `balance:read` and `balance:write`.',
    source: ['PRODUCT.md "Keys"', 'openapi #/components/schemas/ApiKeyCreateRequest'],
    checks: ['KEY-006'],
    operations: ['createApiKey'],
  },
  {
    id: 'R-AUTH-008',
    rule: 'Two keys of the same environment authenticate at the same time, so a key can be rotated without downtime (create, deploy, cut over, then delete or disable the old one).',
    source: ['seed 000 "Both keys remain active"', 'seed 002 "Rotating Keys"', 'openapi info "API keys"'],
    checks: ['AUTH-008'],
  },
  {
    id: 'R-AUTH-009',
    rule: 'A key\'s `lastUsedAt` is set when it authenticates a Balance API request, and is `null` until then.',
    source: ['openapi #/components/schemas/ApiKey'],
    checks: ['AUTH-009'],
    operations: ['getApiKey', 'listApiKeys'],
  },
  {
    id: 'R-AUTH-010',
    rule: 'Key secrets are compared in constant time.',
    source: ['PRODUCT.md "Keys"'],
    unobservable: 'the timing of one secret comparison is far below the jitter of a network round trip',
  },
];
