// Idempotency as a state machine: unused → (in progress) → stored; replays with the same body
// however it is written, conflicts with another, the stored answer unchanged by what happens to
// the delta later, failed requests leaving the key unused, the key's grammar, concurrent
// requests, and scoping to the tenant.
import { randomBytes } from 'node:crypto';
import { defineCheck } from '../../check.ts';
import type { CheckContext } from '../../context.ts';
import { CSRF } from '../../context.ts';
import { ensure, expectProblem, expectStatus } from '../../lib/assert.ts';
import type { Exchange } from '../../lib/http.ts';
import { sameJson } from '../../lib/json.ts';
import { secretOf } from '../../lib/secrets.ts';
import { confirmedReceipt, createCheckpoint, derived, ledgerEndpoint, newCustomer, recordDelta } from './support.ts';

const newKey = (length = 32) => `conf-${randomBytes(Math.ceil(length / 2)).toString('hex')}`.slice(0, length);
const BASE62 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';
const replayed = (ex: Exchange) => ex.headers['idempotent-replayed'] === 'true';

function expectReplay(ex: Exchange, first: Exchange, what: string) {
  expectStatus(ex, first.status, what);
  ensure(replayed(ex), `${what}: the replay lacks Idempotent-Replayed: true`);
  ensure(sameJson(ex.body?.data, first.body?.data), `${what}: the replay is not the first response as it was`);
}

function expectFresh(ex: Exchange, what: string) {
  expectStatus(ex, 201, what);
  ensure(!replayed(ex), `${what}: a first request carries Idempotent-Replayed: true`);
}

export const idempotencyChecks = [
  defineCheck({
    id: 'LEDGER-012',
    rule: 'A stored Idempotency-Key replays the first response exactly (Idempotent-Replayed: true) for the same body however it is written (member order, whitespace, amount notation, absent or empty metadata) — still as recorded after the delta is confirmed and checkpointed — while any other body is 409 idempotency_key_reused; nothing more is recorded.',
    source: 'openapi info "Idempotency"; PRODUCT.md Balance API semantics; seed 002 Idempotency',
    needs: ['apiKey', 'writes'],
    async run(ctx) {
      const customerId = newCustomer('idem-states');
      const key = newKey();
      const headers = { 'Idempotency-Key': key };
      const body = { customerId, delta: '25.50', reason: 'conformance', referenceId: `ref-${customerId}` };
      const first = await recordDelta(ctx, body, headers);
      expectFresh(first, 'the first request with a new key');
      expectReplay(await recordDelta(ctx, body, headers), first, 'the same body again');
      const id = JSON.stringify(customerId);
      const ref = JSON.stringify(`ref-${customerId}`);
      for (const [text, how] of [
        [`{ "referenceId": ${ref},\n  "reason": "conformance", "delta": 25.5, "customerId": ${id} }`, 'reordered, with whitespace, the amount as the number 25.5'],
        [`{"customerId":${id},"delta":2.55e1,"reason":"conformance","referenceId":${ref}}`, 'the amount as 2.55e1'],
        [`{"customerId":${id},"delta":"25.50","reason":"conformance","referenceId":${ref},"metadata":{}}`, 'with an empty metadata'],
      ] as const) {
        expectReplay(await recordDelta(ctx, text, headers), first, `the same body ${how}`);
      }
      for (const [other, how] of [
        [{ ...body, delta: '25.51' }, 'another amount'],
        [{ ...body, metadata: { note: 'other' } }, 'other metadata'],
        [{ ...body, customerId: `${customerId}-b` }, 'another customer'],
      ] as const) {
        expectProblem(await recordDelta(ctx, other, headers), 409, 'idempotency_key_reused', `the same key with ${how}`);
      }
      ensure((await derived(ctx, customerId)).deltaCount === 1, 'replays or conflicts recorded the delta again');
      ensure((await derived(ctx, `${customerId}-b`)).deltaCount === 0, 'a conflicting request was recorded for its customer');

      // Later states of the delta do not change the stored answer.
      await confirmedReceipt(ctx, first.body.data.receiptId);
      expectStatus(await createCheckpoint(ctx, customerId), 201, 'checkpointing the customer');
      const late = await recordDelta(ctx, body, headers);
      expectReplay(late, first, 'the replay after confirmation and checkpoint');
      ensure(late.body.data.status === 'recorded' && late.body.data.inclusionProof === null, 'the replay must be the first response as it was (status recorded, no proof)');
      ensure((await derived(ctx, customerId)).deltaCount === 1, 'the late replay recorded the delta again');
    },
  }),
  defineCheck({
    id: 'LEDGER-013',
    rule: 'An Idempotency-Key is 1 to 255 printable ASCII characters (others are 422 and record nothing), and a request that failed leaves its key unused: the same key then records a valid delta afresh.',
    source: 'openapi #/components/parameters/IdempotencyKey; openapi info "Idempotency"',
    needs: ['apiKey', 'writes'],
    async run(ctx) {
      const customerId = newCustomer('idem-keys');
      for (const [bad, how] of [
        ['x'.repeat(200) + newKey(56), '256 characters'],
        [`conf ${newKey(12)}`, 'a space'],
        [`conf\t${newKey(12)}`, 'a tab'],
      ] as const) {
        const res = await recordDelta(ctx, { customerId, delta: '1.00', reason: 'conformance' }, { 'Idempotency-Key': bad });
        expectProblem(res, 422, 'validation_failed', `an Idempotency-Key with ${how}`);
      }
      ensure((await derived(ctx, customerId)).deltaCount === 0, 'a request with an invalid Idempotency-Key recorded a delta');

      const longest = newKey(255);
      const body = { customerId, delta: '1.00', reason: 'conformance', referenceId: `ref-${customerId}` };
      const first = await recordDelta(ctx, body, { 'Idempotency-Key': longest });
      expectFresh(first, 'an Idempotency-Key of 255 characters');
      expectReplay(await recordDelta(ctx, body, { 'Idempotency-Key': longest }), first, 'the replay with the 255-character key');

      // The shortest key is a key: a stored answer of an earlier run within 24 hours makes it a conflict, never a 422.
      const shortest = await recordDelta(ctx, { customerId, delta: '0', reason: 'conformance' }, { 'Idempotency-Key': BASE62[randomBytes(1)[0]! % 62]! });
      if (shortest.status === 409) expectProblem(shortest, 409, 'idempotency_key_reused', 'a one-character Idempotency-Key used before');
      else expectFresh(shortest, 'a one-character Idempotency-Key');

      // Failed first requests store nothing: the key stays unused.
      const afterInvalid = newKey();
      expectProblem(await recordDelta(ctx, { customerId, delta: '0.123456789', reason: 'conformance' }, { 'Idempotency-Key': afterInvalid }), 422, 'validation_failed', 'an invalid amount');
      expectFresh(await recordDelta(ctx, { customerId, delta: '2.00', reason: 'conformance' }, { 'Idempotency-Key': afterInvalid }), 'the key of a refused request, with a valid body');
      const afterConflict = newKey();
      const duplicate = await recordDelta(ctx, { ...body, delta: '3.00' }, { 'Idempotency-Key': afterConflict });
      expectProblem(duplicate, 409, 'duplicate_reference', 'a used referenceId');
      ensure(!replayed(duplicate), 'a refused request carries Idempotent-Replayed: true');
      expectFresh(await recordDelta(ctx, { customerId, delta: '3.00', reason: 'conformance' }, { 'Idempotency-Key': afterConflict }), 'the key of a request refused with 409, with another body');
      const d = await derived(ctx, customerId);
      const count = shortest.status === 201 ? 4 : 3;
      ensure(d.deltaCount === count && d.computedBalance === '6.00', `expected ${count} deltas summing to 6.00 (1 + 2 + 3, and 0), derived ${d.deltaCount} summing to ${d.computedBalance}`);
    },
  }),
  defineCheck({
    id: 'LEDGER-014',
    rule: 'Requests sent at once with the same Idempotency-Key and body record one delta: each is answered with it (replayed) or 409 idempotency_request_in_progress while the first is processed.',
    source: 'openapi info "Idempotency"',
    needs: ['apiKey', 'writes'],
    async run(ctx) {
      const customerId = newCustomer('idem-race');
      const headers = { 'Idempotency-Key': newKey() };
      const body = { customerId, delta: '4.00', reason: 'conformance' };
      const answers = await Promise.all([0, 1, 2].map(() => recordDelta(ctx, body, headers)));
      const recorded = answers.filter((a) => a.status === 201);
      ensure(recorded.length >= 1, `none of three simultaneous requests was answered 201 (got ${answers.map((a) => `${a.status} ${a.body?.code ?? ''}`).join(', ')})`);
      for (const a of answers) {
        if (a.status === 201) ensure(a.body?.data?.receiptId === recorded[0]!.body.data.receiptId, 'simultaneous requests with one key were answered with different receipts');
        else expectProblem(a, 409, 'idempotency_request_in_progress', 'a request with the key of one still being processed');
      }
      ensure(recorded.filter((a) => !replayed(a)).length === 1, `${recorded.filter((a) => !replayed(a)).length} of the simultaneous requests were answered as first requests (without Idempotent-Replayed): exactly one records`);
      const d = await derived(ctx, customerId);
      ensure(d.deltaCount === 1 && d.computedBalance === '4.00', `simultaneous requests with one key recorded ${d.deltaCount} deltas`);
      const later = await recordDelta(ctx, body, headers);
      expectStatus(later, 201, 'the same request once the first is done');
      ensure(replayed(later) && later.body?.data?.receiptId === recorded[0]!.body.data.receiptId, 'once the first is done, the same request must replay it');
    },
  }),
  defineCheck({
    id: 'LEDGER-015',
    rule: 'Idempotency keys are scoped to the tenant: another tenant using the same key (with another body) records its own delta, neither a replay nor a 409.',
    source: 'seed 002 Idempotency; openapi info "Idempotency"',
    needs: ['apiKey', 'writes', 'dashboard', 'secondAccount'],
    async run(ctx) {
      const environment = ctx.keyEnvironment ?? 'test';
      const b = await ctx.loginClient(ctx.config.secondEmail, ctx.config.secondPassword);
      ctx.onCleanup(() => b.post('/dashboard/auth/logout', { headers: CSRF }));
      const name = `conformance-idem-b-${ctx.runTag}`;
      const created = await b.post('/dashboard/api-keys', { headers: CSRF, json: { name, environment } });
      expectStatus(created, 201, 'creating an API key for the second account');
      const id = created.body?.data?.id;
      if (typeof id === 'string') ctx.track('api key (second account)', id, name, () => b.delete(`/dashboard/api-keys/${id}`, { headers: CSRF }));
      const bKey = created.body?.data?.fullKey;
      ensure(typeof bKey === 'string', 'the create response must reveal fullKey');
      ctx.secrets.add(created.body?.data?.secretKey, 'the secret of the second account\'s key', created.id);
      ctx.secrets.add(secretOf(bKey), 'the secret of the second account\'s key', created.id);

      const headers = { 'Idempotency-Key': newKey() };
      const customerId = newCustomer('idem-tenant');
      const mine = await recordDelta(ctx, { customerId, delta: '1.00', reason: 'conformance' }, headers);
      expectFresh(mine, 'the first request with the key');
      const theirs = await recordDelta(ctx, { customerId, delta: '2.00', reason: 'conformance' }, headers, bKey);
      expectFresh(theirs, 'the same key in another tenant, with another body');
      ensure(theirs.body.data.receiptId !== mine.body.data.receiptId && theirs.body.data.delta === '2.00', 'the other tenant was answered with this tenant\'s receipt');
    },
  }),
  defineCheck({
    id: 'LEDGER-019',
    rule: 'An idempotent replay sends no second delta.recorded event: the replayed delta has one event (however often it is delivered).',
    source: 'openapi #/webhooks/delta.recorded; openapi info "Idempotency"',
    needs: ['apiKey', 'dashboard', 'writes', 'webhooks'],
    async run(ctx) {
      const hook = await ledgerEndpoint(ctx, 'idem-events', ['delta.recorded']);
      const ours = (receiptId: string) => hook.about('delta.recorded', receiptId);
      const customerId = newCustomer('idem-events');
      const headers = { 'Idempotency-Key': newKey() };
      const body = { customerId, delta: '1.00', reason: 'conformance' };
      const first = await recordDelta(ctx, body, headers);
      expectFresh(first, 'the first request');
      for (let i = 0; i < 2; i++) expectReplay(await recordDelta(ctx, body, headers), first, 'a replay');
      // A later delta marks the end: anything the replays caused was sent before it. Deliveries
      // may be late or reordered, so after the marker arrives wait as long again as it took.
      const triggeredAt = Date.now();
      const marker = await recordDelta(ctx, { ...body, delta: '2.00' });
      expectStatus(marker, 201, 'the marker delta');
      await hook.receiver.waitFor(ours(first.body.data.receiptId));
      await hook.settle(triggeredAt, await hook.receiver.waitFor(ours(marker.body.data.receiptId)));
      const events = new Set(hook.receiver.deliveries.filter(ours(first.body.data.receiptId)).map((d) => String(d.body?.id ?? d.headers['x-pacspace-event-id'])));
      await hook.remove();
      ensure(events.size === 1, `the replayed delta has ${events.size} delta.recorded events (${[...events].join(', ')}); a replay sends none`);
    },
  }),
];
