// Rule rows of area ERR (see conformance/rules.ts for how to edit them).
// ─── Errors and request bodies ───────────────────────────────────────────────────────
import type { Rule } from '../rules.ts';

export const errRules: Rule[] = [
  {
    id: 'R-ERR-001',
    rule: 'Every error is an RFC 9457 `application/problem+json` document with `type`, `title`, `status` (the HTTP status), `detail`, `code` and `requestId`.',
    source: ['PRODUCT.md "Errors"', 'openapi #/components/schemas/Problem', 'RFC 9457'],
    checks: ['ERR-001', 'ERR-002', 'ERR-003', 'ERR-004', 'ERR-005', 'ERR-006', 'ERR-008', 'ERR-009', 'ERR-010', 'CODE-001', 'CONTRACT-001'],
    gap: 'judged on the errors the run provokes: every code but those its CODE row leaves unchecked or marks unobservable',
  },
  {
    id: 'R-ERR-002',
    rule: 'No error carries a stack trace.',
    source: ['PRODUCT.md "Errors"', 'openapi info "Errors"', 'OWASP API8:2023'],
    checks: ['ERR-001'],
  },
  {
    id: 'R-ERR-003',
    rule: 'No error echoes a secret; `detail` never contains one and is at most 500 characters.',
    source: ['PRODUCT.md "Errors"', 'openapi #/components/schemas/Problem'],
    checks: ['REVEAL-002', 'CONTRACT-001'],
  },
  {
    id: 'R-ERR-004',
    rule: 'An error does not echo the request body.',
    source: ['PRODUCT.md "Errors"', 'openapi #/components/schemas/ValidationViolation'],
    checks: ['ERR-005'],
    gap: 'tried with unparsable bodies on both surfaces; a 422 that quotes a value it refuses is not judged',
  },
  {
    id: 'R-ERR-005',
    rule: 'A request that fails changes nothing (the one exception: a reused refresh cookie revokes its session family).',
    source: ['PRODUCT.md "Errors"', 'openapi info "Errors"'],
    checks: ['ERR-003', 'ERR-005', 'ERR-006', 'ERR-008', 'ERR-009', 'CODE-002', 'CODE-003', 'CODE-004', 'SCHEMA-001', 'SCHEMA-002', 'SCHEMA-003', 'SCHEMA-009', 'SCHEMA-010', 'SCHEMA-012', 'LEDGER-003', 'LEDGER-004', 'KEY-006', 'SESSION-003'],
    gap: 'shown for the refusals these checks provoke, by re-reading the ledger, the keys, the webhook endpoints, the environments and the account',
  },
  {
    id: 'R-ERR-006',
    rule: '`type` is a URI that resolves to its entry in the errors reference, and `title` does not change between occurrences of a code.',
    source: ['openapi #/components/schemas/Problem'],
    checks: ['CODE-001'],
    gap: 'the `type` URI is compared across occurrences and codes, not fetched from the errors reference',
  },
  {
    id: 'R-ERR-007',
    rule: 'A 422 lists the violations in `validation` (the first 20; `violationsOmitted` counts the rest), each with `location`, `severity`, `code` and a `message` of at most 200 characters.',
    source: ['PRODUCT.md "Errors"', 'openapi #/components/schemas/ValidationViolation', 'openapi #/components/responses/ValidationFailed'],
    checks: ['ERR-006', 'CONTRACT-001'],
    gap: 'a message over 200 characters cut with `…` is not provoked',
  },
  {
    id: 'R-ERR-008',
    rule: 'Request bodies are I-JSON objects in UTF-8: a body that is not UTF-8 or not JSON is 400 `invalid_json`.',
    source: ['PRODUCT.md "Errors"', 'openapi info "Request bodies"'],
    checks: ['ERR-005'],
  },
  {
    id: 'R-ERR-009',
    rule: 'The body `null` is 422 (location `["body"]`, code `type`) on every operation that takes a body, even an optional one, and changes nothing.',
    source: ['openapi info "Request bodies"', 'openapi op rotateWebhookSecret'],
    checks: ['ERR-008'],
  },
  {
    id: 'R-ERR-010',
    rule: 'A string holding a lone UTF-16 surrogate is 422 with the violation code `i-json`.',
    source: ['openapi info "Request bodies"'],
    checks: ['ERR-009'],
  },
  {
    id: 'R-ERR-011',
    rule: 'A path parameter that does not percent-decode is 422.',
    source: ['openapi info "Request bodies"'],
    checks: ['ERR-010'],
  },
  {
    id: 'R-ERR-012',
    rule: 'Every response has a status documented for its operation, a body valid against its schema and the required headers.',
    source: ['PRODUCT.md "What we ship"', 'openapi #/paths'],
    checks: ['CONTRACT-001'],
    gap: 'judged for the operations and statuses the run provokes only (see the OPR rows)',
  },
];
