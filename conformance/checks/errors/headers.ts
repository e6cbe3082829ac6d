// The documented headers: X-Request-Id on every response (errors and the generic 404/405
// included) and equal to a problem's requestId, and Idempotent-Replayed on replays only.
import { defineCheck } from '../../check.ts';
import type { CheckContext } from '../../context.ts';
import { ensure } from '../../lib/assert.ts';
import type { Exchange } from '../../lib/http.ts';
import { NOBODY, record, sendAs, unique } from './support.ts';

const REQUEST_ID = /^req_[A-Za-z0-9]{8,64}$/;

/** A success, an auth failure, a 404, a 405 and a 422 on each surface, so a header check judges every kind of answer even when it runs alone. */
async function provokeEveryKind(ctx: CheckContext): Promise<Exchange[]> {
  const dash = await ctx.dashboard();
  return [
    await ctx.api.get(`/api/v1/balance/derive/${NOBODY.customerId}`, { headers: ctx.keyHeaders() }),
    await ctx.api.get(`/api/v1/balance/derive/${NOBODY.customerId}`, { headers: { 'X-Api-Key': 'not-a-key' } }),
    await ctx.api.get(`/api/v1/receipts/${NOBODY.receiptId}`, { headers: ctx.keyHeaders() }),
    await ctx.api.get('/api/v1/no-such-route', { headers: ctx.keyHeaders() }),
    await ctx.api.send('DELETE', '/api/v1/balance/compare', { headers: ctx.keyHeaders() }),
    await ctx.api.post('/api/v1/balance/checkpoint', { headers: ctx.keyHeaders(), json: { customerId: '_not-a-customer-id' } }),
    await dash.get('/dashboard/auth/me'),
    await dash.get('/dashboard/auth/me', { noCookies: true }),
    await dash.get(`/dashboard/webhooks/${NOBODY.webhookId}`),
    await dash.get('/dashboard/no-such-route'),
    await sendAs(ctx, 'PUT', '/dashboard/billing', { json: {} }),
    await dash.get('/dashboard/api-keys?limit=0'),
  ];
}

export const headerChecks = [
  defineCheck({
    id: 'HDR-001',
    rule: 'Every response of the run, success or error, documented or the generic 404/405, on both surfaces, carries X-Request-Id: `req_` and 8 to 64 base62 characters.',
    source: 'openapi #/components/headers/X-Request-Id',
    needs: ['apiKey', 'dashboard'],
    async run(ctx) {
      await provokeEveryKind(ctx);
      const bad = ctx.recorder.exchanges.filter((e) => !REQUEST_ID.test(e.headers['x-request-id'] ?? ''));
      ensure(bad.length === 0, `responses without a valid X-Request-Id: ${bad.slice(0, 8).map((e) => `#${e.id} ${e.method} ${e.path} → ${e.status} ("${e.headers['x-request-id'] ?? '(missing)'}")`).join(', ')}`);
    },
  }),
  defineCheck({
    id: 'HDR-002',
    rule: 'Every error of the run carries a `requestId` equal to its X-Request-Id header.',
    source: 'openapi #/components/schemas/Problem',
    needs: ['apiKey', 'dashboard'],
    async run(ctx) {
      await provokeEveryKind(ctx);
      const errors = ctx.recorder.exchanges.filter((e) => e.status >= 400 && e.body && typeof e.body === 'object');
      const bad = errors.filter((e) => e.body.requestId !== e.headers['x-request-id']);
      ensure(bad.length === 0, `problems whose requestId differs from X-Request-Id: ${bad.slice(0, 8).map((e) => `#${e.id} ${e.method} ${e.path} → ${e.status}`).join(', ')}`);
    },
  }),
  defineCheck({
    id: 'HDR-003',
    rule: '`Idempotent-Replayed: true` comes on a replay of a recorded delta only: not on the first response for an Idempotency-Key, nor on a delta sent without one.',
    source: 'openapi #/components/headers/Idempotent-Replayed; openapi info "Idempotency"',
    needs: ['apiKey', 'writes'],
    async run(ctx) {
      const customer = unique();
      const key = unique('idem');
      const body = { customerId: customer, delta: '1.00', reason: 'conformance-replay' };
      const first = await record(ctx, body, { 'Idempotency-Key': key });
      ensure(first.headers['idempotent-replayed'] === undefined, `the first response for an Idempotency-Key carries Idempotent-Replayed: ${first.headers['idempotent-replayed']}`);
      const replay = await ctx.api.post('/api/v1/balance/delta', { headers: { ...ctx.keyHeaders(), 'Idempotency-Key': key }, json: body });
      ensure(replay.status === 201 && replay.headers['idempotent-replayed'] === 'true', `a replay must carry Idempotent-Replayed: true, got ${replay.status} "${replay.headers['idempotent-replayed'] ?? '(missing)'}"`);
      const plain = await record(ctx, { ...body, reason: 'conformance-no-key' });
      ensure(plain.headers['idempotent-replayed'] === undefined, `a delta without an Idempotency-Key carries Idempotent-Replayed: ${plain.headers['idempotent-replayed']}`);
    },
  }),
];
