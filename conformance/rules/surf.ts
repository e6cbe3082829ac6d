// Rule rows of area SURF (see conformance/rules.ts for how to edit them).
// ─── Surfaces, environments and routing ──────────────────────────────────────────────
import type { Rule } from '../rules.ts';

export const surfRules: Rule[] = [
  {
    id: 'R-SURF-001',
    rule: 'The Balance API (`/api/v1/*`) is authenticated by the full API key in the `X-Api-Key` header.',
    source: ['seed 000 "Making Requests"', 'PRODUCT.md "Surfaces and auth"', 'openapi #/components/securitySchemes/ApiKeyAuth'],
    checks: ['AUTH-003'],
  },
  {
    id: 'R-SURF-002',
    rule: 'The Dashboard API (`/dashboard/*`) is authenticated by httpOnly session cookies only: the `Authorization: Bearer` scheme of the older pages is superseded and answers 401.',
    source: ['seed 000 "Dashboard API - Browser Session Authentication"', 'PRODUCT.md "Surfaces and auth"', 'openapi info "Dashboard sessions"'],
    checks: ['SESSION-008'],
  },
  {
    id: 'R-SURF-003',
    rule: 'A dashboard session cookie does not authenticate the Balance API (401 `unauthenticated`).',
    source: ['seed 000 "Which Auth Method Should I Use"', 'PRODUCT.md "Surfaces and auth"'],
    checks: ['SESSION-008', 'AUTH-011'],
  },
  {
    id: 'R-SURF-004',
    rule: 'The public dashboard routes are exactly login, register, verify, resend-verification-email, request-password-reset, reset-password and request-access; every other dashboard route is 401 `unauthenticated` without a valid session.',
    source: ['seed 000 "Public Endpoints"', 'PRODUCT.md "Surfaces and auth"', 'openapi tag "Dashboard auth"'],
    checks: ['SESSION-004', 'SESSION-008', 'AUTH-007'],
  },
  {
    id: 'R-SURF-005',
    rule: 'Each environment is its own base URL: a `pk_live_` key at the Sandbox URL, or a `pk_test_` key at the Production URL, is 401 with exactly the answer an unknown key gets.',
    source: ['seed 002 "Environment Routing"', 'PRODUCT.md "Keys"', 'openapi info "Environments and routing"'],
    checks: ['AUTH-005', 'KEY-007', 'ISO-005'],
  },
  {
    id: 'R-SURF-006',
    rule: 'Key environment `test` is the Sandbox and contract network `testnet`; `live` is Production and `mainnet` (a key\'s `environment`, `GET /dashboard/environments` `keyEnvironment`, event envelopes).',
    source: ['PRODUCT.md "Keys"', 'openapi #/components/schemas/KeyEnvironment', 'openapi #/components/schemas/ContractNetwork'],
    checks: ['AUTH-010', 'KEY-001', 'ENV-002'],
    gap: 'in event envelopes the mapping is seen only in environment.activated (ENV-002, R-EVT-004), which a run sees only when it provisions mainnet itself',
    operations: ['listEnvironments'],
  },
  {
    id: 'R-SURF-007',
    rule: '`GET /dashboard/environments` gives, for each environment, the `apiBaseUrl` its keys must be sent to; Production\'s is `https://app.pacspace.io`, the Sandbox\'s is per deployment.',
    source: ['seed 003 "Step 3: Emit Your First Delta"', 'openapi op listEnvironments', 'openapi #/components/schemas/Environment'],
    checks: ['AUTH-010'],
    gap: 'that Production\'s apiBaseUrl is exactly https://app.pacspace.io is not checked: the suite knows Production only as --other-env-base-url, which it compares with',
    operations: ['listEnvironments'],
  },
  {
    id: 'R-SURF-008',
    rule: 'A path that is not in the contract is 404 `not_found`, an `application/problem+json` problem.',
    source: ['openapi #/components/schemas/ProblemCode', 'PRODUCT.md "Errors"'],
    checks: ['ERR-001'],
  },
];
