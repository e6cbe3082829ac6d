// Rule rows of area HOOK (see conformance/rules.ts for how to edit them).
// ─── Webhooks ────────────────────────────────────────────────────────────────────────
import type { Rule } from '../rules.ts';

export const hookRules: Rule[] = [
  {
    id: 'R-HOOK-001',
    rule: 'Creating an endpoint reveals its `whsec_` signing secret once (201); list, get, update and delete never include it.',
    source: ['PRODUCT.md "Webhooks"', 'openapi op createWebhookEndpoint', 'openapi #/components/schemas/WebhookSigningSecret'],
    checks: ['WEBHOOK-001', 'REVEAL-002'],
    gap: 'list, get and update are never called, so their answers are not scanned',
    operations: ['createWebhookEndpoint', 'listWebhookEndpoints', 'getWebhookEndpoint', 'updateWebhookEndpoint'],
  },
  {
    id: 'R-HOOK-002',
    rule: 'Rotating reveals the new secret once (200), with `previousSecretExpiresAt`.',
    source: ['PRODUCT.md "Webhooks"', 'openapi op rotateWebhookSecret'],
    checks: ['WEBHOOK-004'],
    operations: ['rotateWebhookSecret'],
  },
  {
    id: 'R-HOOK-003',
    rule: 'Every delivery carries `X-PacSpace-Signature`, `X-PacSpace-Timestamp`, `X-PacSpace-Event-Id`, `X-PacSpace-Event-Type` and `X-PacSpace-Delivery-Id`.',
    source: ['PRODUCT.md "Webhooks"', 'seed 002 "Webhook Authentication"', 'openapi tag "Events"'],
    checks: ['WEBHOOK-001'],
    gap: '`X-PacSpace-Event-Type` is not asserted',
  },
  {
    id: 'R-HOOK-004',
    rule: 'Signature: `v1=` and the lowercase hex HMAC-SHA256, keyed with the secret\'s UTF-8 bytes (`whsec_` included), of `timestamp + "." + raw body`; several values are separated by `,`.',
    source: ['PRODUCT.md "Webhooks"', 'openapi #/components/parameters/WebhookSignatureHeader'],
    checks: ['WEBHOOK-001', 'WEBHOOK-002'],
  },
  {
    id: 'R-HOOK-005',
    rule: '`X-PacSpace-Timestamp` is the Unix time in seconds when the attempt was signed; every retry is signed afresh.',
    source: ['openapi #/components/parameters/WebhookTimestampHeader'],
    checks: ['WEBHOOK-001'],
    gap: 'retries are never provoked',
  },
  {
    id: 'R-HOOK-006',
    rule: '`X-PacSpace-Event-Id` equals the body\'s `id` and `X-PacSpace-Event-Type` its `type`; an event keeps its id across retries and endpoints, a delivery its id across attempts.',
    source: ['openapi #/components/parameters/WebhookEventIdHeader', 'openapi #/components/parameters/WebhookDeliveryIdHeader'],
  },
  {
    id: 'R-HOOK-007',
    rule: 'Rotation overlap: for `overlapSeconds` (0 to 604800, default 86400) every delivery carries two `v1` signatures, the new secret\'s first, then the new one only; `overlapSeconds: 0` retires the previous secret at once.',
    source: ['PRODUCT.md "Webhooks"', 'openapi op rotateWebhookSecret', 'openapi #/components/schemas/WebhookSecretRotateRequest'],
    checks: ['WEBHOOK-004'],
    gap: 'the order of the two, the end of the overlap and `overlapSeconds: 0` are not tried',
    operations: ['rotateWebhookSecret'],
  },
  {
    id: 'R-HOOK-008',
    rule: 'A delivery never carries more than two signatures: rotating again during an overlap retires the secret already being phased out at once.',
    source: ['openapi op rotateWebhookSecret'],
    operations: ['rotateWebhookSecret'],
  },
  {
    id: 'R-HOOK-009',
    rule: '`previousSecretExpiresAt` is the rotation time plus `overlapSeconds`; the endpoint shows it during the overlap and null otherwise.',
    source: ['openapi #/components/schemas/WebhookSecretRotated', 'openapi #/components/schemas/WebhookEndpoint'],
    operations: ['rotateWebhookSecret', 'getWebhookEndpoint'],
  },
  {
    id: 'R-HOOK-010',
    rule: 'A delivery is acknowledged by any 2xx within 10 seconds; anything else is retried with exponential backoff (1 min, 5 min, 30 min, 2 h, 6 h; faster in the sandbox) until 6 attempts have failed.',
    source: ['PRODUCT.md "Webhooks"', 'openapi tag "Events"'],
  },
  {
    id: 'R-HOOK-011',
    rule: 'Deliveries are listed newest first with every attempt (number, time, receiver status or null, duration, error without the response body); a delivery is `pending`, then `succeeded`, or `failed` after 6 attempts or when its endpoint was disabled.',
    source: ['PRODUCT.md "Webhooks"', 'openapi op listWebhookDeliveries', 'openapi #/components/schemas/WebhookDelivery'],
    operations: ['listWebhookDeliveries'],
  },
  {
    id: 'R-HOOK-012',
    rule: 'Webhook payloads never contain secrets.',
    source: ['PRODUCT.md "Keys"', 'openapi tag "Events"'],
    checks: ['WEBHOOK-003'],
  },
  {
    id: 'R-HOOK-013',
    rule: 'An endpoint receives only the events of its own `environment`, of the types in its `events`, that occur after it was created.',
    source: ['openapi op createWebhookEndpoint', 'openapi #/components/schemas/WebhookEndpoint'],
    operations: ['createWebhookEndpoint'],
  },
  {
    id: 'R-HOOK-014',
    rule: 'A disabled endpoint (`active: false`) receives nothing; events meanwhile are never delivered and pending retries end as `failed`; enabling it again resumes with new events.',
    source: ['openapi op updateWebhookEndpoint', 'openapi #/components/schemas/WebhookEndpointUpdateRequest'],
    operations: ['updateWebhookEndpoint'],
  },
  {
    id: 'R-HOOK-015',
    rule: 'A test event goes to that endpoint only, subscribed or not, disabled or not, with a new `evt_` id and sample data outside the ledger; the answer is 202 with `eventId` and `deliveryId`.',
    source: ['openapi op sendWebhookTestEvent'],
    checks: ['WEBHOOK-001'],
    gap: 'an unsubscribed or disabled endpoint is not tried',
    operations: ['sendWebhookTestEvent'],
  },
  {
    id: 'R-HOOK-016',
    rule: 'The hosted service accepts only public `https` URLs: private, loopback, link-local and other non-public hosts, in any spelling, are 422, checked again after DNS resolution at every delivery; redirects are never followed.',
    source: ['PRODUCT.md "The sandbox"', 'openapi #/components/schemas/WebhookUrl'],
    operations: ['createWebhookEndpoint', 'updateWebhookEndpoint'],
  },
  {
    id: 'R-HOOK-017',
    rule: 'Update changes `url`, `events`, `description` or `active` (at least one, else 422) for events from then on; a new `url` also gets the pending retries; the secret and the environment never change.',
    source: ['openapi op updateWebhookEndpoint', 'openapi #/components/schemas/WebhookEndpointUpdateRequest'],
    operations: ['updateWebhookEndpoint'],
  },
  {
    id: 'R-HOOK-018',
    rule: 'Deleting an endpoint removes it, its secrets and its history and cancels pending retries; reading it again is 404.',
    source: ['openapi op deleteWebhookEndpoint'],
    operations: ['deleteWebhookEndpoint'],
  },
  {
    id: 'R-HOOK-019',
    rule: 'Endpoints of both environments are listed newest first, page by page, without secrets.',
    source: ['openapi op listWebhookEndpoints'],
    operations: ['listWebhookEndpoints'],
  },
];
