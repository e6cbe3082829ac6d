// Event payloads against the objects they describe: each event a client can trigger, its
// envelope and data checked against the event's schema and against the receipt, checkpoint or
// key as the API shows it. Events are matched by what they describe, deduplicated on their id,
// and never assumed to arrive in order.
import { randomBytes } from 'node:crypto';
import { defineCheck, type Check } from '../../check.ts';
import { CSRF } from '../../context.ts';
import { ensure, expectStatus } from '../../lib/assert.ts';
import type { Delivery } from '../../lib/receiver.ts';
import { arrivedAt, createHook, customer, deletingItsEndpoints, differingFields, distinctEvents, eventProblems, ofType, recordDelta, schemaFields, settle, waitAt, type Hook } from './support.ts';

const RECEIPT_FIELDS = schemaFields('Receipt');
/** What a receipt keeps from recording on: later a checkpoint adds `checkpointId` and `inclusionProof`. */
const LEDGER_FIELDS = RECEIPT_FIELDS.filter((f) => !['status', 'confirmedAt', 'checkpointId', 'inclusionProof'].includes(f));
const CHECKPOINT_FIELDS = schemaFields('Checkpoint');
const KEY_FIELDS = schemaFields('ApiKey');
const KEY_EVENTS = ['api_key.created', 'api_key.regenerated', 'api_key.enabled', 'api_key.disabled', 'api_key.deleted'];

/** Confirmation happens on the environment's contract network: it may take longer than a delivery. */
const CONFIRMATION_WAIT_MS = 90_000;

/** Waits for the event, then judges it against its schema and environment. */
async function eventAt(hook: Hook, type: string, about: (data: any) => boolean, environment: string | undefined, timeoutMs?: number): Promise<Delivery> {
  const d = await waitAt(hook, ofType(type, about), timeoutMs);
  const problems = eventProblems(d.body);
  ensure(problems.length === 0, `the ${type} event does not match its schema: ${problems.slice(0, 3).join('; ')}`);
  if (environment) ensure(d.body.environment === environment, `the ${type} event says environment ${d.body.environment}, not ${environment}`);
  return d;
}

const agree = (what: string, event: any, shown: any, fields: string[]) => {
  const diff = differingFields(event, shown, fields);
  ensure(diff.length === 0, `${what}: the event's data differs from what the API shows in ${diff.join(', ')}`);
};

// Each deletes the endpoints it created as soon as it ends.
export const eventChecks = ([
  defineCheck({
    id: 'EVENT-001',
    rule: 'delta.recorded carries each receipt as recorded (as POST /balance/delta answered it; an idempotent replay sends no second event), delta.confirmed the receipt confirmed (status confirmed, confirmedAt as GET shows it), checkpoint.created the checkpoint as POST /balance/checkpoint answered it (the first of a customer and a later, chained one); each in the key\'s environment.',
    source: 'PRODUCT.md Webhooks; openapi #/webhooks/delta.recorded, #/webhooks/delta.confirmed, #/webhooks/checkpoint.created',
    needs: ['apiKey', 'dashboard', 'writes', 'webhooks'],
    async run(ctx) {
      const hook = await createHook(ctx, 'ledger-events', { events: ['delta.recorded', 'delta.confirmed', 'checkpoint.created'] });
      const env = ctx.keyEnvironment;
      const id = customer('events');
      const idem = `conf-${ctx.runTag}-${randomBytes(6).toString('hex')}`;
      const started = Date.now();
      const body = { customerId: id, delta: '12.34', reason: 'conformance', referenceId: `ref-${idem}`, metadata: { check: 'EVENT-001' } };
      const first = await ctx.api.post('/api/v1/balance/delta', { headers: { ...ctx.keyHeaders(), 'Idempotency-Key': idem }, json: body });
      expectStatus(first, 201, 'recording a delta');
      const replay = await ctx.api.post('/api/v1/balance/delta', { headers: { ...ctx.keyHeaders(), 'Idempotency-Key': idem }, json: body });
      expectStatus(replay, [200, 201], 'replaying the delta with its Idempotency-Key');
      const second = await recordDelta(ctx, id, '-0.50');
      const receipts = [first.body.data, second.body.data];
      let lastRecorded: Delivery | undefined;
      for (const r of receipts) {
        const recorded = await eventAt(hook, 'delta.recorded', (x) => x?.receiptId === r.receiptId, env);
        lastRecorded = recorded;
        agree(`delta.recorded of ${r.delta}`, recorded.body.data, r, RECEIPT_FIELDS);
        const confirmed = await eventAt(hook, 'delta.confirmed', (x) => x?.receiptId === r.receiptId, env, ctx.scaled(CONFIRMATION_WAIT_MS));
        const data = confirmed.body.data;
        ensure(data.status === 'confirmed' && typeof data.confirmedAt === 'string', `delta.confirmed of ${r.delta} says status ${data.status}, confirmedAt ${data.confirmedAt}`);
        agree(`delta.confirmed of ${r.delta}`, data, r, LEDGER_FIELDS);
        const shown = await ctx.api.get(`/api/v1/receipts/${r.receiptId}`, { headers: ctx.keyHeaders() });
        expectStatus(shown, 200, 'reading the receipt');
        ensure(shown.body.data.status === 'confirmed' && Date.parse(shown.body.data.confirmedAt) === Date.parse(data.confirmedAt), `delta.confirmed says confirmedAt ${data.confirmedAt}; the receipt shows ${shown.body.data.status} at ${shown.body.data.confirmedAt}`);
      }
      const cp = await ctx.api.post('/api/v1/balance/checkpoint', { headers: ctx.keyHeaders(), json: { customerId: id } });
      expectStatus(cp, 201, 'creating a checkpoint');
      const made = await eventAt(hook, 'checkpoint.created', (x) => x?.checkpointId === cp.body.data.checkpointId, env);
      agree('checkpoint.created', made.body.data, cp.body.data, CHECKPOINT_FIELDS);
      // A later checkpoint, chained to the first: its event carries the chain as the API answered it.
      await recordDelta(ctx, id, '1.00');
      const cp2 = await ctx.api.post('/api/v1/balance/checkpoint', { headers: ctx.keyHeaders(), json: { customerId: id } });
      expectStatus(cp2, 201, 'creating a second checkpoint');
      const made2 = await eventAt(hook, 'checkpoint.created', (x) => x?.checkpointId === cp2.body.data.checkpointId, env);
      agree('checkpoint.created of the second (chained) checkpoint', made2.body.data, cp2.body.data, CHECKPOINT_FIELDS);
      await settle(ctx, started, lastRecorded!);
      const once = distinctEvents(arrivedAt(hook).filter(ofType('delta.recorded', (x) => x?.receiptId === first.body.data.receiptId)));
      ensure(once.size === 1, `the delta and its idempotent replay sent ${once.size} delta.recorded events`);
    },
  }),

  defineCheck({
    id: 'EVENT-002',
    rule: 'api_key.created, .regenerated, .disabled, .enabled and .deleted are sent to the key\'s environment only, each with the key as the API shows it then (deleted: as it was just before; regenerated: same id and publicKey), never a secret.',
    source: 'PRODUCT.md Webhooks; openapi #/webhooks/api_key.created … #/webhooks/api_key.deleted',
    needs: ['dashboard', 'writes', 'webhooks'],
    async run(ctx) {
      const dash = await ctx.dashboard();
      const hook = await createHook(ctx, 'key-events', { events: KEY_EVENTS });
      const live = await createHook(ctx, 'key-events-live', { events: KEY_EVENTS, environment: 'live' });
      const started = Date.now();
      const key = await ctx.createKey({ name: 'hook-events' });
      const about = (x: any) => x?.id === key.id;
      const shown = async () => {
        const res = await dash.get(`/dashboard/api-keys/${key.id}`);
        expectStatus(res, 200, 'reading the key');
        return res.body.data;
      };
      const secrets = [key.secretKey, key.fullKey];
      const judge = async (type: string, expected: any) => {
        const d = await eventAt(hook, type, about, key.environment);
        agree(type, d.body.data, expected, KEY_FIELDS);
        ensure(!secrets.some((s) => d.raw.includes(s)), `the ${type} event carries the key's secret`);
        ensure(!('secretKey' in d.body.data) && !('fullKey' in d.body.data), `the ${type} event has a secretKey or fullKey member`);
        return d;
      };
      await judge('api_key.created', await shown());

      const regen = await dash.post(`/dashboard/api-keys/${key.id}/regenerate`, { headers: CSRF, json: {} });
      expectStatus(regen, 200, 'regenerating the key');
      for (const [s, what] of [[regen.body?.data?.secretKey, 'secretKey'], [regen.body?.data?.fullKey, 'fullKey']] as const) {
        if (typeof s === 'string') {
          ctx.secrets.add(s, `the regenerated ${what} of key ${key.id}`, regen.id);
          secrets.push(s);
        }
      }
      const regenerated = await judge('api_key.regenerated', await shown());
      ensure(regenerated.body.data.publicKey === key.publicKey, 'api_key.regenerated shows another publicKey');

      for (const [type, active] of [['api_key.disabled', false], ['api_key.enabled', true]] as const) {
        const res = await dash.post(`/dashboard/api-keys/${key.id}/toggle`, { headers: CSRF, json: {} });
        expectStatus(res, 200, 'toggling the key');
        const d = await judge(type, await shown());
        ensure(d.body.data.active === active, `${type} says active ${d.body.data.active}`);
      }
      const before = await shown();
      expectStatus(await dash.delete(`/dashboard/api-keys/${key.id}`, { headers: CSRF }), 200, 'deleting the key');
      const last = await judge('api_key.deleted', before);
      await settle(ctx, started, last);
      const once = distinctEvents(arrivedAt(hook).filter((d) => about(d.body?.data)));
      const types = [...once.values()].map((c) => c[0]!.body.type).sort();
      ensure(types.join() === [...KEY_EVENTS].sort().join(), `the key's life sent ${types.join(', ')}: each event once`);
      const crossed = arrivedAt(live).filter((d) => about(d.body?.data));
      ensure(crossed.length === 0, `a live endpoint received ${crossed[0]?.body?.type} of a test key`);
    },
  }),
] as Check[]).map(deletingItsEndpoints);
