// Rule rows of area EVT (see conformance/rules.ts for how to edit them).
// ─── Webhook events ──────────────────────────────────────────────────────────────────
import type { Rule } from '../rules.ts';

export const evtRules: Rule[] = [
  {
    id: 'R-EVT-001',
    rule: '`delta.recorded` is sent when a delta is recorded; `data` is the receipt as recorded (`status` `recorded`, `confirmedAt` null); an idempotent replay sends no second event.',
    source: ['PRODUCT.md "Webhooks"', 'openapi #/webhooks/delta.recorded', 'openapi #/components/schemas/DeltaRecordedEvent'],
    checks: ['EVENT-001', 'WEBHOOK-003'],
    operations: ['delta.recorded'],
  },
  {
    id: 'R-EVT-002',
    rule: '`delta.confirmed` is sent when a recorded delta is confirmed; `data` is the receipt with `status` `confirmed` and `confirmedAt` set. It may arrive before `delta.recorded`.',
    source: ['PRODUCT.md "Webhooks"', 'seed 003 "get notified when deltas are confirmed"', 'openapi #/webhooks/delta.confirmed'],
    checks: ['EVENT-001'],
    operations: ['delta.confirmed'],
  },
  {
    id: 'R-EVT-003',
    rule: '`checkpoint.created` is sent when a checkpoint is created; `data` is the checkpoint as the API returned it.',
    source: ['PRODUCT.md "Webhooks"', 'openapi #/webhooks/checkpoint.created'],
    checks: ['EVENT-001'],
    operations: ['checkpoint.created'],
  },
  {
    id: 'R-EVT-004',
    rule: '`environment.activated` is sent when an environment becomes `active`; `data.environment` is the network and the envelope\'s `environment` the matching key environment.',
    source: ['PRODUCT.md "Webhooks"', 'openapi #/webhooks/environment.activated'],
    checks: ['ENV-002'],
    gap: 'observable only while mainnet is not yet provisioned (the check then provisions it)',
    operations: ['environment.activated'],
  },
  {
    id: 'R-EVT-005',
    rule: '`api_key.created` is sent to the key\'s environment when a key is created; `data` is the key without its secret.',
    source: ['PRODUCT.md "Webhooks"', 'openapi #/webhooks/api_key.created'],
    checks: ['EVENT-002'],
    operations: ['api_key.created'],
  },
  {
    id: 'R-EVT-006',
    rule: '`api_key.regenerated` is sent when a key\'s secret is replaced; `data` is the key (same `id` and `publicKey`), never the new secret.',
    source: ['PRODUCT.md "Webhooks"', 'openapi #/webhooks/api_key.regenerated'],
    checks: ['EVENT-002'],
    operations: ['api_key.regenerated'],
  },
  {
    id: 'R-EVT-007',
    rule: '`api_key.enabled` is sent when a disabled key is enabled again; `data.active` is true.',
    source: ['openapi #/webhooks/api_key.enabled'],
    checks: ['EVENT-002'],
    operations: ['api_key.enabled'],
  },
  {
    id: 'R-EVT-008',
    rule: '`api_key.disabled` is sent when a key is disabled; `data.active` is false.',
    source: ['PRODUCT.md "Webhooks"', 'openapi #/webhooks/api_key.disabled'],
    checks: ['EVENT-002'],
    operations: ['api_key.disabled'],
  },
  {
    id: 'R-EVT-009',
    rule: '`api_key.deleted` is sent when a key is deleted; `data` is the key as it was just before.',
    source: ['PRODUCT.md "Webhooks"', 'openapi #/webhooks/api_key.deleted'],
    checks: ['EVENT-002'],
    operations: ['api_key.deleted'],
  },
  {
    id: 'R-EVT-010',
    rule: 'Every event has `id` (`evt_`), `type`, `createdAt` (the same on every retry) and `environment`; an event may arrive more than once or out of order.',
    source: ['openapi tag "Events"', 'openapi #/components/schemas/WebhookEventType'],
    checks: ['WEBHOOK-008', 'WEBHOOK-009', 'WEBHOOK-014'],
  },
];
