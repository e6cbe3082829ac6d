// Rule rows of area COOK (see conformance/rules.ts for how to edit them).
// ─── Session cookies ─────────────────────────────────────────────────────────────────
import type { Rule } from '../rules.ts';

export const cookRules: Rule[] = [
  {
    id: 'R-COOK-001',
    rule: '`pacspace_access` is `HttpOnly`.',
    source: ['seed 000 "Starting a Session"', 'PRODUCT.md "Surfaces and auth"', 'openapi #/components/headers/Set-Cookie-Session'],
    checks: ['SESSION-002'],
    operations: ['login'],
  },
  {
    id: 'R-COOK-002',
    rule: '`pacspace_access` is `Secure`.',
    source: ['PRODUCT.md "Surfaces and auth"', 'openapi #/components/headers/Set-Cookie-Session'],
    checks: ['SESSION-002'],
    operations: ['login'],
  },
  {
    id: 'R-COOK-003',
    rule: '`pacspace_access` is `SameSite=Strict`.',
    source: ['PRODUCT.md "Surfaces and auth"', 'openapi #/components/headers/Set-Cookie-Session'],
    checks: ['SESSION-002'],
    gap: 'SESSION-002 accepts `SameSite=Lax` too',
    operations: ['login'],
  },
  {
    id: 'R-COOK-004',
    rule: '`pacspace_access` has `Path=/dashboard`.',
    source: ['openapi #/components/headers/Set-Cookie-Session', 'openapi op login'],
    operations: ['login'],
  },
  {
    id: 'R-COOK-005',
    rule: '`pacspace_access` has `Max-Age=900` (15 minutes).',
    source: ['openapi #/components/headers/Set-Cookie-Session', 'openapi info "Dashboard sessions"'],
    operations: ['login'],
  },
  {
    id: 'R-COOK-006',
    rule: '`pacspace_refresh` is `HttpOnly`.',
    source: ['PRODUCT.md "Surfaces and auth"', 'openapi #/components/headers/Set-Cookie-Session'],
    checks: ['SESSION-002'],
    operations: ['login'],
  },
  {
    id: 'R-COOK-007',
    rule: '`pacspace_refresh` is `Secure`.',
    source: ['PRODUCT.md "Surfaces and auth"', 'openapi #/components/headers/Set-Cookie-Session'],
    checks: ['SESSION-002'],
    operations: ['login'],
  },
  {
    id: 'R-COOK-008',
    rule: '`pacspace_refresh` is `SameSite=Strict`.',
    source: ['PRODUCT.md "Surfaces and auth"', 'openapi #/components/headers/Set-Cookie-Session'],
    checks: ['SESSION-002'],
    gap: 'SESSION-002 accepts `SameSite=Lax` too',
    operations: ['login'],
  },
  {
    id: 'R-COOK-009',
    rule: '`pacspace_refresh` has `Path=/dashboard/auth`, so it is sent to the auth routes only.',
    source: ['openapi #/components/headers/Set-Cookie-Session', 'openapi #/components/securitySchemes/DashboardRefresh'],
    operations: ['login'],
  },
  {
    id: 'R-COOK-010',
    rule: '`pacspace_refresh` has `Max-Age=1209600` (14 days).',
    source: ['openapi #/components/headers/Set-Cookie-Session', 'openapi info "Dashboard sessions"'],
    operations: ['login'],
  },
  {
    id: 'R-COOK-011',
    rule: 'Refresh sets both cookies again with the same attributes as login.',
    source: ['openapi op refreshSession'],
    operations: ['refreshSession'],
  },
  {
    id: 'R-COOK-012',
    rule: 'Logout clears both cookies with `Max-Age=0` and the same `Path` and attributes.',
    source: ['openapi #/components/headers/Set-Cookie-Clear', 'openapi op logout'],
    operations: ['logout'],
  },
  {
    id: 'R-COOK-013',
    rule: 'Cookie values are opaque and never appear in a response body.',
    source: ['openapi #/components/headers/Set-Cookie-Session'],
    checks: ['SESSION-001', 'REVEAL-002'],
    gap: 'the refresh answer\'s own body is exempt from REVEAL-002 (it set the cookies) and not scanned otherwise',
  },
  {
    id: 'R-COOK-014',
    rule: 'A failed login sets no cookie.',
    source: ['openapi op login'],
    operations: ['login'],
  },
  {
    id: 'R-COOK-015',
    rule: 'Registering starts no session and sets no cookie.',
    source: ['openapi op register'],
    operations: ['register'],
  },
];
