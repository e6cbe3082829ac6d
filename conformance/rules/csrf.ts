// Rule rows of area CSRF (see conformance/rules.ts for how to edit them).
// ─── CSRF ────────────────────────────────────────────────────────────────────────────
import type { Rule } from '../rules.ts';

export const csrfRules: Rule[] = [
  {
    id: 'R-CSRF-001',
    rule: 'An unsafe method (POST, PUT, PATCH, DELETE) on a cookie-authenticated route without `X-Pacspace-CSRF: 1` is 403 `csrf_required` and changes nothing.',
    source: ['seed 000 "Making Authenticated Requests"', 'PRODUCT.md "Surfaces and auth"', 'openapi #/components/securitySchemes/CsrfHeader', 'OWASP API8:2023'],
    checks: ['SESSION-003', 'SESSION-012', 'SESSION-004', 'SESSION-005'],
  },
  {
    id: 'R-CSRF-002',
    rule: 'The CSRF header\'s value must be exactly `1`; any other value is refused like a missing header.',
    source: ['openapi #/components/securitySchemes/CsrfHeader'],
    checks: ['SESSION-003', 'SESSION-012', 'SESSION-004', 'SESSION-005'],
  },
  {
    id: 'R-CSRF-003',
    rule: 'Safe methods (GET) of cookie-authenticated routes need no CSRF header.',
    source: ['seed 000 "Making Authenticated Requests"'],
    checks: ['REVEAL-001', 'SESSION-003', 'SESSION-012'],
  },
  {
    id: 'R-CSRF-004',
    rule: 'The public routes need no CSRF header.',
    source: ['openapi tag "Dashboard auth"', 'seed 000 "Public Endpoints"'],
    checks: ['SESSION-001', 'SESSION-007', 'ACCT-001', 'ACCT-002', 'ACCT-003', 'ACCT-004', 'ACCT-005', 'ACCT-006'],
  },
];
