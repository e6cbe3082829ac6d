// Rule rows of area SCH (see conformance/rules.ts for how to edit them).
// ─── Schema constraints ──────────────────────────────────────────────────────────────
import type { Rule } from '../rules.ts';

export const schRules: Rule[] = [
  {
    id: 'R-SCH-001',
    rule: 'A `customerId` is 1 to 128 characters matching `^[A-Za-z0-9][A-Za-z0-9_.:-]{0,127}$`, in bodies and paths; anything else is 422.',
    source: ['openapi #/components/schemas/CustomerId'],
    operations: ['recordDelta', 'deriveBalance', 'compareBalances', 'createCheckpoint'],
  },
  {
    id: 'R-SCH-002',
    rule: 'A delta\'s `reason` is 1 to 200 characters; `referenceId` 1 to 128 printable ASCII characters.',
    source: ['openapi #/components/schemas/DeltaRequest'],
    operations: ['recordDelta'],
  },
  {
    id: 'R-SCH-003',
    rule: '`metadata` has at most 20 members, names of 1 to 40 `[A-Za-z0-9_.-]` characters and string values of at most 500 characters.',
    source: ['openapi #/components/schemas/Metadata'],
    operations: ['recordDelta'],
  },
  {
    id: 'R-SCH-004',
    rule: 'Request bodies refuse members their schema does not define and need its required ones (422).',
    source: ['openapi #/components/schemas/DeltaRequest', 'openapi #/components/schemas/ApiKeyCreateRequest'],
  },
  {
    id: 'R-SCH-005',
    rule: 'An email is ASCII dot-atoms, `@`, and a domain of at least two labels, 3 to 254 characters: `v@io`, `a..b@example.com` and quoted or non-ASCII local parts are 422; it is compared case-insensitively and stored as given.',
    source: ['openapi #/components/schemas/EmailAddress'],
    operations: ['requestAccess', 'register', 'login', 'resendVerificationEmail', 'requestPasswordReset'],
  },
  {
    id: 'R-SCH-006',
    rule: 'A new password is 12 to 128 characters (code points); a login password 1 to 128.',
    source: ['openapi #/components/schemas/NewPassword', 'openapi #/components/schemas/LoginRequest'],
    operations: ['register', 'resetPassword', 'login'],
  },
  {
    id: 'R-SCH-007',
    rule: 'An e-mailed token is 32 to 128 base64url characters: a malformed one is 422, a well-formed unknown one 400 `invalid_token`.',
    source: ['openapi #/components/schemas/EmailToken'],
    operations: ['register', 'verifyEmail', 'resetPassword'],
  },
  {
    id: 'R-SCH-008',
    rule: 'Ids have fixed prefixes and base62 bodies: `rcpt_`, `chk_`, `key_`, `wh_`, `evt_`, `dlv_`, `tnt_`, `usr_`, `ctr_`, `req_`, `pk_{env}_`, `sk_{env}_`, `whsec_`; `proofRoot` and `leafHash` are 64 lowercase hex characters.',
    source: ['openapi #/components/schemas/ReceiptId', 'openapi #/components/schemas/CheckpointId', 'openapi #/components/schemas/ApiKeyId', 'openapi #/components/schemas/WebhookEndpointId', 'openapi #/components/schemas/Sha256Hex'],
    checks: ['CONTRACT-001', 'KEY-001'],
    gap: 'judged in the responses the run provokes only',
  },
  {
    id: 'R-SCH-009',
    rule: 'A path id that does not match its pattern (`receiptId`, `checkpointId`, `proofRoot`, key and webhook ids, `tenantId`) is 422, not 404.',
    source: ['openapi #/components/parameters/ReceiptIdPath', 'openapi #/components/parameters/ProofRootPath', 'openapi #/components/responses/ValidationFailed'],
  },
  {
    id: 'R-SCH-010',
    rule: '`page` is 1-based, 1 to 1000000, default 1; anything else is 422.',
    source: ['openapi #/components/parameters/Page'],
    operations: ['listApiKeys', 'listWebhookEndpoints', 'listWebhookDeliveries', 'listCheckpointReceipts'],
  },
  {
    id: 'R-SCH-011',
    rule: '`limit` is 1 to 100, default 20 (a checkpoint\'s receipts: 1 to 1000, default 100); anything else is 422.',
    source: ['openapi #/components/parameters/Limit', 'openapi #/components/parameters/ReceiptLimit'],
    operations: ['listApiKeys', 'listWebhookEndpoints', 'listWebhookDeliveries', 'listCheckpointReceipts'],
  },
  {
    id: 'R-SCH-012',
    rule: 'A page holds at most `limit` `items`, echoes `page` and `limit`, and `total` counts the items across all pages.',
    source: ['seed 001 "List API Keys"', 'openapi #/components/schemas/ApiKeyPage', 'openapi #/components/schemas/ReceiptPage'],
    checks: ['LEDGER-006'],
    gap: 'only a checkpoint\'s receipts are paged, and only `total` is relied on',
    operations: ['listApiKeys', 'listWebhookEndpoints', 'listWebhookDeliveries', 'listCheckpointReceipts'],
  },
  {
    id: 'R-SCH-013',
    rule: 'Keys, webhook endpoints and deliveries are listed newest first.',
    source: ['openapi #/components/schemas/ApiKeyPage', 'openapi #/components/schemas/WebhookEndpointPage', 'openapi #/components/schemas/WebhookDeliveryPage'],
    operations: ['listApiKeys', 'listWebhookEndpoints', 'listWebhookDeliveries'],
  },
  {
    id: 'R-SCH-014',
    rule: 'A key\'s `name` is 1 to 100 characters; `permissions` at least one, each once, of `balance:read` and `balance:write`.',
    source: ['openapi #/components/schemas/ApiKeyCreateRequest'],
    operations: ['createApiKey'],
  },
  {
    id: 'R-SCH-015',
    rule: 'A webhook `url` is at most 2048 characters matching `WebhookUrl`; `events` at least one known type, each once; `description` at most 200 characters; `environment` defaults to `test`.',
    source: ['openapi #/components/schemas/WebhookEndpointCreateRequest', 'openapi #/components/schemas/WebhookEventTypeList'],
    operations: ['createWebhookEndpoint', 'updateWebhookEndpoint'],
  },
  {
    id: 'R-SCH-016',
    rule: 'An access request has `name` (1 to 100), `email`, `organization` (1 to 200), an upper-case `buyerMode` identifier (at most 64) and `useCase` (1 to 2000).',
    source: ['seed 003 "Step 1: Request Access"', 'openapi #/components/schemas/RequestAccessRequest'],
    operations: ['requestAccess'],
  },
  {
    id: 'R-SCH-017',
    rule: 'Provisioning takes `environment` `testnet` or `mainnet` only.',
    source: ['seed 004 "Provision an Environment"', 'openapi #/components/schemas/ProvisionRequest'],
    operations: ['provisionEnvironment'],
  },
  {
    id: 'R-SCH-018',
    rule: 'Every time is an RFC 3339 `date-time`.',
    source: ['openapi #/components/schemas/Receipt'],
    checks: ['CONTRACT-001'],
    gap: 'judged in the responses the run provokes only',
  },
];
