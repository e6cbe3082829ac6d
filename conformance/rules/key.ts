// Rule rows of area KEY (see conformance/rules.ts for how to edit them).
// ─── API keys ────────────────────────────────────────────────────────────────────────
import type { Rule } from '../rules.ts';

export const keyRules: Rule[] = [
  {
    id: 'R-KEY-001',
    rule: 'A key is `pk_{env}_{publicId}.sk_{env}_{secret}`: both env parts equal (`test` or `live`), publicId and secret base62; `publicKey` and `secretKey` are its two halves.',
    source: ['seed 001 "API Key Format"', 'seed 000 "Key Format"', 'PRODUCT.md "Keys"', 'openapi #/components/schemas/FullKey'],
    checks: ['KEY-001'],
    operations: ['createApiKey', 'regenerateApiKey'],
  },
  {
    id: 'R-KEY-002',
    rule: 'Public ids are unique, and every secret carries at least 128 bits of randomness.',
    source: ['PRODUCT.md "Keys"', 'openapi info "API keys"', 'OWASP API2:2023'],
    checks: ['KEY-002'],
    gap: 'randomness can only be judged statistically: eight secrets (six created, two regenerated), from their length, shared prefixes or suffixes and alphabet',
  },
  {
    id: 'R-KEY-003',
    rule: 'A key created without `environment` is a `test` (Sandbox) key.',
    source: ['PRODUCT.md "Keys"', 'openapi #/components/schemas/ApiKeyCreateRequest'],
    checks: ['KEY-001'],
    operations: ['createApiKey'],
  },
  {
    id: 'R-KEY-004',
    rule: 'A `live` key can be created only once the `mainnet` environment is `active`; before, it is 409 `environment_not_active` and nothing is created.',
    source: ['PRODUCT.md "Keys"', 'openapi op createApiKey'],
    checks: ['KEY-007', 'ISO-005'],
    gap: 'the 409 can be tried only on a target whose mainnet is not active yet when KEY-007 runs (the run activates it later: ENV-002, ISO-005)',
    operations: ['createApiKey'],
  },
  {
    id: 'R-KEY-005',
    rule: 'Only an approved account (else 403 `account_not_approved`) whose email is verified (else 403 `email_not_verified`) can create keys; a refused request creates nothing.',
    source: ['seed 003 "Your account must be approved"', 'PRODUCT.md "Surfaces and auth"', 'openapi op createApiKey'],
    unobservable: 'it needs an account that is not approved or not verified, and over HTTP such an account can only be made by registering, whose access and verification tokens arrive by e-mail (the suite is given approved, verified accounts)',
    operations: ['createApiKey'],
  },
  {
    id: 'R-KEY-006',
    rule: 'Reveal once: `secretKey` and `fullKey` appear only in the create (201) and regenerate (200) responses.',
    source: ['seed 001 "Create an API Key"', 'PRODUCT.md "Keys"', 'openapi #/components/schemas/SecretKey'],
    checks: ['KEY-001', 'KEY-003', 'REVEAL-002'],
    operations: ['createApiKey', 'regenerateApiKey'],
  },
  {
    id: 'R-KEY-007',
    rule: 'List, get, toggle and delete responses never contain `secretKey`, `fullKey` or the secret.',
    source: ['seed 001 "never returned in list responses"', 'PRODUCT.md "Keys"', 'openapi #/components/schemas/ApiKey'],
    checks: ['REVEAL-001'],
    operations: ['listApiKeys', 'getApiKey', 'toggleApiKey', 'deleteApiKey'],
  },
  {
    id: 'R-KEY-008',
    rule: 'Created: a new key is `active` and authenticates at once.',
    source: ['seed 001 "Create an API Key"', 'openapi op createApiKey'],
    checks: ['KEY-003', 'KEY-004', 'AUTH-008'],
    operations: ['createApiKey'],
  },
  {
    id: 'R-KEY-009',
    rule: 'Regenerated: the key keeps its `id`, `publicKey`, name, environment, permissions and active state and gets a new secret; the old secret is 401 at once.',
    source: ['seed 001 "old secret is immediately invalidated"', 'PRODUCT.md "Keys"', 'openapi op regenerateApiKey'],
    checks: ['KEY-003'],
    operations: ['regenerateApiKey'],
  },
  {
    id: 'R-KEY-010',
    rule: 'Disabled ⇄ active: toggle disables an active key (`active: false`, "API key has been disabled.") so it gets the 401 of any bad key; toggling again enables it (`active: true`, "API key has been enabled.") with the same secret.',
    source: ['seed 001 "Calling toggle again re-enables the key"', 'PRODUCT.md "Keys"', 'openapi #/components/schemas/ApiKeyToggled'],
    checks: ['KEY-004'],
    operations: ['toggleApiKey'],
  },
  {
    id: 'R-KEY-011',
    rule: 'Deleted: the key is gone for good: 401 on the Balance API, 404 on `GET /dashboard/api-keys/{id}`.',
    source: ['seed 001 "Delete an API Key"', 'PRODUCT.md "Keys"', 'openapi op deleteApiKey'],
    checks: ['KEY-005'],
    operations: ['deleteApiKey', 'getApiKey'],
  },
  {
    id: 'R-KEY-012',
    rule: 'A deleted key cannot be regenerated, toggled or deleted again: each is 404 `not_found`.',
    source: ['openapi #/components/responses/NotFound', 'openapi op deleteApiKey'],
    checks: ['KEY-005'],
    operations: ['regenerateApiKey', 'toggleApiKey', 'deleteApiKey'],
  },
];
