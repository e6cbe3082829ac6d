// Rule rows of area SEC (see conformance/rules.ts for how to edit them).
// ─── Secrets ─────────────────────────────────────────────────────────────────────────
import type { Rule } from '../rules.ts';

export const secRules: Rule[] = [
  {
    id: 'R-SEC-001',
    rule: 'No secret (key secret, webhook signing secret, session cookie, password) appears in any response other than the one that revealed it.',
    source: ['PRODUCT.md "Keys"', 'seed 001 "Create an API Key"', 'OWASP API3:2023'],
    checks: ['REVEAL-002'],
  },
  {
    id: 'R-SEC-002',
    rule: 'Fields shown once are marked `x-reveal-once: true` in the contract, never `writeOnly`.',
    source: ['PRODUCT.md "Keys"', 'openapi info "API keys"'],
    unobservable: 'a property of the contract document, not of a server (the lint rule pacspace/reveal-once enforces it)',
  },
  {
    id: 'R-SEC-003',
    rule: 'Key secrets are stored only as hashes, webhook signing secrets encrypted, passwords as slow salted hashes.',
    source: ['PRODUCT.md "Keys"', 'openapi #/components/schemas/WebhookSigningSecret', 'openapi #/components/schemas/NewPassword'],
    unobservable: 'storage is not visible over HTTP',
  },
  {
    id: 'R-SEC-004',
    rule: 'Secrets and passwords are never logged or e-mailed.',
    source: ['seed 001 "API Key Format"', 'PRODUCT.md "Keys"'],
    unobservable: 'logs and e-mails are not visible over HTTP',
  },
];
