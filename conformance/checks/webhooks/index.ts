// Outbound webhooks (PRODUCT.md "Webhooks", seed 002 "Webhook Authentication", the
// contract's Events section). The suite starts its own receiver and verifies every delivery
// with its own HMAC code.
import { defineCheck } from '../../check.ts';
import { CSRF, type CheckContext } from '../../context.ts';
import { ensure, expectStatus } from '../../lib/assert.ts';
import type { Receiver } from '../../lib/receiver.ts';
import { signaturesOf, signedBy } from '../../lib/signature.ts';
import { endpointChecks } from './endpoints.ts';
import { eventChecks } from './events.ts';
import { tagOf, taggedUrl } from './support.ts';

const EVENTS = ['delta.recorded', 'delta.confirmed', 'checkpoint.created', 'api_key.created', 'api_key.regenerated', 'api_key.disabled', 'api_key.enabled', 'api_key.deleted'];

const SHARED_TAG = 'shared';

type Endpoint = { id: string; secret: string; receiver: Receiver };
// Keyed by the run's context: one process may run the suite many times (runConformance, the
// mutants script), and each run needs its own endpoint.
const shared = new WeakMap<CheckContext, Promise<Endpoint>>();

/** One receiver and one endpoint for the run, removed at the end. */
function endpoint(ctx: CheckContext): Promise<Endpoint> {
  const existing = shared.get(ctx);
  if (existing) return existing;
  const created = (async () => {
    // The run's receiver (the context closes it after the cleanup); its url is --webhook-url when given.
    const receiver = await ctx.receiver();
    const dash = await ctx.dashboard();
    const description = `pacspace conformance ${ctx.runTag}`;
    const res = await dash.post('/dashboard/webhooks', {
      headers: CSRF,
      // Tagged like every endpoint of the run, so its deliveries are told apart from theirs.
      json: { url: taggedUrl(receiver, SHARED_TAG), events: EVENTS, description, environment: ctx.keyEnvironment ?? 'test' },
    });
    expectStatus(res, 201, 'creating a webhook endpoint');
    ctx.track('webhook endpoint', res.body.data.id, description, () => dash.delete(`/dashboard/webhooks/${res.body.data.id}`, { headers: CSRF }));
    const secret = res.body?.data?.secret;
    ensure(typeof secret === 'string' && /^whsec_/.test(secret), 'the create response must reveal the whsec_ signing secret');
    ctx.secrets.add(secret, 'the webhook signing secret', res.id);
    return { id: res.body.data.id, secret, receiver };
  })();
  shared.set(ctx, created);
  return created;
}

function verified(e: Endpoint, d: { headers: Record<string, string>; raw: string }, secret = e.secret) {
  return signedBy(secret, d.headers['x-pacspace-timestamp'] ?? '', d.raw, d.headers['x-pacspace-signature']);
}

export const webhookChecks = [
  defineCheck({
    id: 'WEBHOOK-001',
    rule: 'A test event is delivered with X-PacSpace-Signature, -Timestamp, -Event-Id, -Event-Type and -Delivery-Id; the signature verifies and the timestamp is within 300 s.',
    source: 'PRODUCT.md Webhooks; seed 002 Webhook Authentication; openapi.yaml Events',
    needs: ['dashboard', 'writes', 'webhooks'],
    async run(ctx) {
      const e = await endpoint(ctx);
      const dash = await ctx.dashboard();
      const sent = await dash.post(`/dashboard/webhooks/${e.id}/test`, { headers: CSRF, json: {} });
      expectStatus(sent, 202, 'sending a test event');
      const d = await e.receiver.waitFor((x) => tagOf(x) === SHARED_TAG && x.headers['x-pacspace-event-id'] === sent.body.data.eventId);
      for (const h of ['x-pacspace-signature', 'x-pacspace-timestamp', 'x-pacspace-event-id', 'x-pacspace-event-type', 'x-pacspace-delivery-id']) ensure(d.headers[h], `the delivery lacks ${h}`);
      ensure(verified(e, d), 'the delivery\'s signature does not verify with the endpoint\'s secret');
      const ts = Number(d.headers['x-pacspace-timestamp']);
      ensure(Number.isInteger(ts) && Math.abs(Date.now() / 1000 - ts) <= 300, `X-PacSpace-Timestamp ${d.headers['x-pacspace-timestamp']} is not Unix seconds within 300 s of now`);
    },
  }),
  defineCheck({
    id: 'WEBHOOK-002',
    rule: 'The signature binds body and timestamp: a tampered body or a replayed older timestamp no longer verifies.',
    source: 'seed 002 (reject timestamps older than five minutes); openapi.yaml Events',
    needs: ['dashboard', 'writes', 'webhooks'],
    async run(ctx) {
      const e = await endpoint(ctx);
      const d = await e.receiver.waitFor((x) => tagOf(x) === SHARED_TAG);
      ensure(verified(e, d), 'the untampered delivery must verify');
      // Any trailing whitespace is kept out of the way, so the tampered body always differs.
      const tampered = /}\s*$/.test(d.raw) ? d.raw.replace(/}(\s*)$/, ',"tampered":true}$1') : `${d.raw} `;
      ensure(!verified(e, { ...d, raw: tampered }), 'a tampered body still verifies');
      const old = String(Number(d.headers['x-pacspace-timestamp']) - 301);
      ensure(!verified(e, { headers: { ...d.headers, 'x-pacspace-timestamp': old }, raw: d.raw }), 'the signature does not cover the timestamp');
    },
  }),
  defineCheck({
    id: 'WEBHOOK-003',
    rule: 'Recording a delta delivers delta.recorded with the receipt, signed; no delivery of the run (body or headers) carries any secret the run has seen (signing secrets, key secrets, the password).',
    source: 'PRODUCT.md Webhooks; openapi webhooks/delta.recorded',
    needs: ['apiKey', 'dashboard', 'writes', 'webhooks'],
    async run(ctx) {
      const e = await endpoint(ctx);
      const customerId = `conf-hook-${Date.now().toString(36)}`;
      const res = await ctx.api.post('/api/v1/balance/delta', { headers: ctx.keyHeaders(), json: { customerId, delta: '3.00', reason: 'conformance' } });
      expectStatus(res, 201, 'recording a delta');
      const d = await e.receiver.waitFor((x) => tagOf(x) === SHARED_TAG && x.body?.type === 'delta.recorded' && x.body?.data?.receiptId === res.body.data.receiptId);
      ensure(verified(e, d), 'the delta.recorded delivery does not verify');
      // Every delivery that arrived in the run so far, whichever check caused it.
      for (const x of e.receiver.deliveries) {
        for (const s of ctx.secrets.all()) ensure(!x.raw.includes(s.value) && !JSON.stringify(x.headers).includes(s.value), `a ${x.body?.type ?? ''} delivery carries ${s.label}`);
      }
    },
  }),
  defineCheck({
    id: 'WEBHOOK-004',
    rule: 'During a secret rotation deliveries carry two signatures, one by the new and one by the previous secret.',
    source: 'PRODUCT.md Webhooks (both signatures are sent); openapi.yaml Events',
    needs: ['dashboard', 'writes', 'webhooks'],
    async run(ctx) {
      const e = await endpoint(ctx);
      const dash = await ctx.dashboard();
      const rotated = await dash.post(`/dashboard/webhooks/${e.id}/rotate-secret`, { headers: CSRF, json: { overlapSeconds: 3600 } });
      expectStatus(rotated, 200, 'rotating the signing secret');
      const fresh = rotated.body?.data?.secret;
      ensure(typeof fresh === 'string' && fresh !== e.secret, 'rotation must reveal a new secret');
      ctx.secrets.add(fresh, 'the rotated webhook signing secret', rotated.id);
      const sent = await dash.post(`/dashboard/webhooks/${e.id}/test`, { headers: CSRF, json: {} });
      const d = await e.receiver.waitFor((x) => tagOf(x) === SHARED_TAG && x.headers['x-pacspace-event-id'] === sent.body?.data?.eventId);
      ensure(signaturesOf(d.headers['x-pacspace-signature']).length === 2, 'a delivery during the overlap must carry two v1 signatures');
      ensure(verified(e, d, fresh), 'no signature verifies with the new secret');
      ensure(verified(e, d, e.secret), 'no signature verifies with the previous secret');
      e.secret = fresh;
    },
  }),
  ...endpointChecks,
  ...eventChecks,
];
