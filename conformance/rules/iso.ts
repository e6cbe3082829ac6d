// Rule rows of area ISO (see conformance/rules.ts for how to edit them).
// ─── Isolation ───────────────────────────────────────────────────────────────────────
import type { Rule } from '../rules.ts';

export const isoRules: Rule[] = [
  {
    id: 'R-ISO-001',
    rule: 'Every object-by-id operation is 404 for another tenant\'s object: receipts, checkpoints and their receipts, API keys, webhook endpoints and their deliveries, environment status.',
    source: ['PRODUCT.md "The conformance suite"', 'openapi #/components/responses/NotFound', 'OWASP API1:2023'],
    checks: ['ISO-001', 'ISO-002', 'ISO-003'],
    operations: ['getReceipt', 'getCheckpoint', 'listCheckpointReceipts', 'getApiKey', 'deleteApiKey', 'regenerateApiKey', 'toggleApiKey', 'getWebhookEndpoint', 'updateWebhookEndpoint', 'deleteWebhookEndpoint', 'rotateWebhookSecret', 'sendWebhookTestEvent', 'listWebhookDeliveries', 'getEnvironmentStatus'],
  },
  {
    id: 'R-ISO-002',
    rule: 'Environments are isolated: a receipt, checkpoint or proof root of one environment is 404 in the other, and test data never reaches production.',
    source: ['seed 000 "Environment separation"', 'seed 002 "Environment Routing"', 'openapi op verifyProofRoot'],
    checks: ['ISO-004', 'ISO-005'],
    operations: ['getReceipt', 'getCheckpoint', 'verifyProofRoot'],
  },
  {
    id: 'R-ISO-003',
    rule: 'A tenant\'s ledger is its own: the same `customerId` in another tenant is another ledger.',
    source: ['openapi op deriveBalance'],
    checks: ['ISO-003'],
    operations: ['deriveBalance'],
  },
];
