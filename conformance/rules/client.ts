// Rule rows of area CLIENT (see conformance/rules.ts for how to edit them).
// ─── Client obligations ──────────────────────────────────────────────────────────────
import type { Rule } from '../rules.ts';
import { CLIENT_SIDE } from './reasons.ts';

export const clientRules: Rule[] = [
  {
    id: 'R-CLIENT-001',
    rule: 'Retry only 408, 429, 5xx and network errors, with bounded exponential backoff, waiting at least `Retry-After` on 429 and 503; never retry 401, 403 or other 4xx.',
    source: ['seed 002 "Retry"', 'seed 002 "Auth Error Handling"', 'openapi info "Retries"'],
    unobservable: CLIENT_SIDE('sdk/transport tests'),
  },
  {
    id: 'R-CLIENT-002',
    rule: 'Retry a POST only with an `Idempotency-Key`, the same for every retry of the operation, and never reuse one across environments.',
    source: ['seed 002 "Idempotency"', 'openapi info "Retries"'],
    unobservable: CLIENT_SIDE('sdk/transport tests'),
  },
  {
    id: 'R-CLIENT-003',
    rule: 'A webhook receiver verifies the signature over the raw body in constant time, accepts any `v1` value, ignores other schemes, rejects a timestamp more than 300 s from its clock, and deduplicates by event id.',
    source: ['seed 002 "Webhook Authentication"', 'PRODUCT.md "Webhooks"', 'openapi tag "Events"'],
    unobservable: CLIENT_SIDE('the SDK\'s verifyWebhook tests'),
  },
  {
    id: 'R-CLIENT-004',
    rule: 'Keys are kept server-side as one opaque string: never in client code, logs, telemetry or receipts, never split or truncated.',
    source: ['seed 002 "Agent Credential Storage"', 'seed 000 "Key Management Best Practices"'],
    unobservable: CLIENT_SIDE('the SDK\'s redaction tests'),
  },
  {
    id: 'R-CLIENT-005',
    rule: '`pk_test_` keys go only to the Sandbox URL and `pk_live_` keys only to Production; the SDK picks the URL from the prefix and refuses a mismatch.',
    source: ['seed 002 "Environment Routing"', 'openapi info "Environments and routing"'],
    unobservable: CLIENT_SIDE('the SDK\'s construction tests'),
  },
];
