// Every operation the contract must describe (issue "The contract"), by method and path,
// and every webhook event. A missing one fails here before anything is built on it.
import { describe, expect, it } from 'vitest';
import { loadBundle, operations, propertyNames, resolvePointer } from './load-bundle.ts';

const required: Array<[string, string]> = [
  // Dashboard auth, public
  ['POST', '/dashboard/auth/request-access'],
  ['POST', '/dashboard/auth/register'],
  ['POST', '/dashboard/auth/login'],
  ['GET', '/dashboard/auth/verify'],
  ['POST', '/dashboard/auth/resend-verification-email'],
  ['POST', '/dashboard/auth/request-password-reset'],
  ['POST', '/dashboard/auth/reset-password'],
  // Dashboard auth, session
  ['POST', '/dashboard/auth/refresh'],
  ['POST', '/dashboard/auth/logout'],
  ['GET', '/dashboard/auth/me'],
  // API keys
  ['POST', '/dashboard/api-keys'],
  ['GET', '/dashboard/api-keys'],
  ['GET', '/dashboard/api-keys/{id}'],
  ['POST', '/dashboard/api-keys/{id}/regenerate'],
  ['POST', '/dashboard/api-keys/{id}/toggle'],
  ['DELETE', '/dashboard/api-keys/{id}'],
  // Environments
  ['GET', '/dashboard/environments'],
  ['POST', '/dashboard/contracts/provision'],
  ['GET', '/dashboard/contracts/{tenantId}/status'],
  ['GET', '/dashboard/contracts'],
  // Webhook endpoints
  ['POST', '/dashboard/webhooks'],
  ['GET', '/dashboard/webhooks'],
  ['GET', '/dashboard/webhooks/{id}'],
  ['PATCH', '/dashboard/webhooks/{id}'],
  ['DELETE', '/dashboard/webhooks/{id}'],
  ['POST', '/dashboard/webhooks/{id}/rotate-secret'],
  ['POST', '/dashboard/webhooks/{id}/test'],
  ['GET', '/dashboard/webhooks/{id}/deliveries'],
  // Billing
  ['GET', '/dashboard/billing'],
  // Balance API
  ['POST', '/api/v1/balance/delta'],
  ['GET', '/api/v1/balance/derive/{customerId}'],
  ['POST', '/api/v1/balance/compare'],
  ['POST', '/api/v1/balance/checkpoint'],
  ['GET', '/api/v1/receipts/{receiptId}'],
  ['GET', '/api/v1/checkpoints/{checkpointId}'],
  ['GET', '/api/v1/checkpoints/{checkpointId}/receipts'],
  ['GET', '/api/v1/verify/{proofRoot}'],
];

const requiredEvents = [
  'delta.recorded',
  'delta.confirmed',
  'checkpoint.created',
  'environment.activated',
  'api_key.created',
  'api_key.regenerated',
  'api_key.disabled',
  'api_key.deleted',
];

const doc = loadBundle();
const documented = new Set(operations(doc).map(([m, p]) => `${m} ${p}`));

describe('operation coverage', () => {
  it.each(required)('%s %s is documented', (method, path) => {
    expect(documented.has(`${method} ${path}`)).toBe(true);
  });

  it('documents nothing the brief does not know about (a new operation must be added to this list)', () => {
    const known = new Set(required.map(([m, p]) => `${m} ${p}`));
    expect([...documented].filter((op) => !known.has(op))).toEqual([]);
  });

  it.each(requiredEvents)('webhook event %s is documented with the signature headers', (event) => {
    const op = doc.webhooks[event]?.post;
    expect(op, event).toBeDefined();
    const headers = (op.parameters ?? [])
      .map((p: any) => (p.$ref ? resolvePointer(doc, p.$ref) : p))
      .filter((p: any) => p.in === 'header')
      .map((p: any) => p.name);
    expect(headers).toEqual(expect.arrayContaining(['X-PacSpace-Signature', 'X-PacSpace-Timestamp']));
  });
});

describe('security as the brief fixes it', () => {
  const publicOps = operations(doc)
    .filter(([, , op]) => Array.isArray(op.security) && op.security.length === 0)
    .map(([m, p]) => `${m} ${p}`)
    .sort();

  it('exactly the seed\'s public dashboard routes, request-access and verify are public', () => {
    expect(publicOps).toEqual(
      [
        'POST /dashboard/auth/login',
        'POST /dashboard/auth/register',
        'GET /dashboard/auth/verify',
        'POST /dashboard/auth/resend-verification-email',
        'POST /dashboard/auth/request-password-reset',
        'POST /dashboard/auth/reset-password',
        'POST /dashboard/auth/request-access',
        'GET /api/v1/verify/{proofRoot}',
      ].sort(),
    );
  });

  it('defines no bearer scheme', () => {
    const schemes = Object.values(doc.components.securitySchemes ?? {});
    expect(schemes.filter((s: any) => s.type === 'http')).toEqual([]);
  });

  it('login returns no token in its body', () => {
    const schema = doc.paths['/dashboard/auth/login']?.post?.responses?.['200']?.content?.['application/json']?.schema;
    const names = [...propertyNames(doc, schema)];
    expect(names).toEqual(expect.arrayContaining(['success', 'data', 'email']));
    expect(names.filter((n) => /token|jwt|secret/i.test(n))).toEqual([]);
  });
});
