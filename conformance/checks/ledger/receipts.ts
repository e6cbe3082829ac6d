// Receipts and amounts through a customer's whole life: positive, zero and negative amounts,
// JSON numbers and strings at the precision limits (8 decimal places, ±10^15), the response as
// recorded, the receipt read back before and after confirmation, derive — and the amounts a
// server must refuse, with proof that a refusal changed nothing.
import { defineCheck } from '../../check.ts';
import type { CheckContext } from '../../context.ts';
import { ensure, expectProblem, expectStatus } from '../../lib/assert.ts';
import type { Exchange } from '../../lib/http.ts';
import { sameInstant, sameJson } from '../../lib/json.ts';
import { leafHash, units } from '../../lib/proofs.ts';
import { RECORDED_FIELDS, canonical, confirmedReceipt, derived, formatUnits, getReceipt, ledgerEndpoint, newCustomer, recordDelta } from './support.ts';

type Sent = { text: string; reason: string; referenceId?: string; metadata?: Record<string, string> };

/** Checks a 201 answer to recordDelta against what was sent and the customer's ledger so far. */
function expectRecorded(ctx: CheckContext, res: Exchange, customerId: string, sent: Sent, sequence: number, balanceAfter: bigint) {
  expectStatus(res, 201, `recording the delta ${sent.text}`);
  const r = res.body?.data;
  const what = `the receipt of delta ${sent.text} (sequence ${sequence})`;
  ensure(r && typeof r === 'object', `${what}: no data`);
  ensure(typeof r.receiptId === 'string' && /^rcpt_[A-Za-z0-9]{8,64}$/.test(r.receiptId), `${what}: receiptId ${JSON.stringify(r.receiptId)} is not rcpt_ and 8 to 64 base62 characters`);
  ensure(r.customerId === customerId, `${what}: customerId ${r.customerId}, sent ${customerId}`);
  ensure(r.sequence === sequence, `${what}: sequence ${r.sequence}; it is the customer's delta number ${sequence}`);
  ensure(r.delta === canonical(sent.text), `${what}: delta "${r.delta}", the contract writes ${sent.text} as "${canonical(sent.text)}"`);
  ensure(r.balanceAfter === formatUnits(balanceAfter), `${what}: balanceAfter "${r.balanceAfter}", the balance after it is "${formatUnits(balanceAfter)}"`);
  ensure(r.reason === sent.reason, `${what}: reason ${JSON.stringify(r.reason)}, sent ${JSON.stringify(sent.reason)}`);
  ensure(r.referenceId === (sent.referenceId ?? null), `${what}: referenceId ${JSON.stringify(r.referenceId)}, sent ${JSON.stringify(sent.referenceId ?? null)}`);
  ensure(sameJson(r.metadata, sent.metadata ?? {}), `${what}: metadata is not what was sent (or {} when none was)`);
  ensure(r.status === 'recorded' && r.confirmedAt === null, `${what}: status "${r.status}", confirmedAt ${r.confirmedAt}: a delta is "recorded" (confirmedAt null) when first answered`);
  ensure(r.checkpointId === null && r.inclusionProof === null, `${what}: checkpointId/inclusionProof must be null before a checkpoint covers it`);
  if (ctx.keyEnvironment) ensure(r.environment === ctx.keyEnvironment, `${what}: environment "${r.environment}" for a pk_${ctx.keyEnvironment}_ key`);
  ensure(typeof r.createdAt === 'string' && !Number.isNaN(Date.parse(r.createdAt)), `${what}: createdAt is not a date-time`);
  ensure(r.leafHash === leafHash(r).toString('hex'), `${what}: leafHash is not SHA-256(0x00 || JCS(leaf))`);
  return r;
}

/** The amounts of one customer, walked from +10^15 to −10^15 and back, as numbers and strings. */
const LIFE: Array<Sent & { json: 'number' | 'string' }> = [
  { text: '1000000000000000', json: 'number', reason: 'conformance-max', referenceId: 'max', metadata: { note: 'upper bound' } },
  { text: '-1000000000000000', json: 'string', reason: 'conformance-down' },
  { text: '-1000000000000000', json: 'number', reason: 'conformance-min' },
  { text: '0', json: 'number', reason: 'conformance-zero', metadata: {} },
  { text: '999999999999999.99999999', json: 'number', reason: 'conformance-up' },
  { text: '12.50000000', json: 'string', reason: 'conformance-tail' },
];

const bodyText = (customerId: string, s: Sent & { json: 'number' | 'string' }) =>
  `{"customerId":${JSON.stringify(customerId)},"delta":${s.json === 'number' ? s.text : JSON.stringify(s.text)},"reason":${JSON.stringify(s.reason)}${s.referenceId ? `,"referenceId":${JSON.stringify(`${s.referenceId}-${customerId}`)}` : ''}${s.metadata ? `,"metadata":${JSON.stringify(s.metadata)}` : ''}}`;

export const receiptChecks = [
  defineCheck({
    id: 'LEDGER-009',
    rule: 'Every delta is answered with its receipt as recorded (sequence 1, 2, 3…, the exact delta and balanceAfter written as the contract writes amounts, the echoed fields, status recorded, no proof); read back it is the same receipt, confirmed shortly after; derive sums it all; balances never leave ±10^15 — across positive, zero and negative amounts, numbers and strings, at the bounds and at 8 decimal places.',
    source: 'PRODUCT.md Balance API semantics; openapi info "Amounts"; openapi #/components/schemas/Receipt, DerivedBalance',
    needs: ['apiKey', 'writes'],
    async run(ctx) {
      const customerId = newCustomer('life');
      const fresh = await derived(ctx, customerId);
      ensure(fresh.computedBalance === '0.00' && fresh.deltaCount === 0 && fresh.confirmedCount === 0, `a customer without deltas derives ${fresh.computedBalance} / ${fresh.deltaCount} deltas, not "0.00" / 0`);
      ensure(fresh.firstDeltaAt === null && fresh.lastDeltaAt === null && fresh.lastCheckpoint === null, 'a customer without deltas must have firstDeltaAt, lastDeltaAt and lastCheckpoint null');

      const receipts: any[] = [];
      let balance = 0n;
      for (const [i, sent] of LIFE.entries()) {
        const referenceId = sent.referenceId ? `${sent.referenceId}-${customerId}` : undefined;
        balance += units(sent.text);
        receipts.push(expectRecorded(ctx, await recordDelta(ctx, bodyText(customerId, sent)), customerId, { ...sent, ...(referenceId ? { referenceId } : {}) }, i + 1, balance));
        // At each bound, one smallest step further is refused and records nothing.
        if (i === 0) expectProblem(await recordDelta(ctx, { customerId, delta: '0.00000001', reason: 'conformance-over' }), 409, 'balance_out_of_range', 'a delta taking the balance above 10^15');
        if (i === 2) expectProblem(await recordDelta(ctx, `{"customerId":${JSON.stringify(customerId)},"delta":-0.00000001,"reason":"conformance-under"}`), 409, 'balance_out_of_range', 'a delta taking the balance below -10^15');
      }

      // Derive at once: confirmedCount cannot exceed the deltas not seen still recorded after it.
      const early = await derived(ctx, customerId);
      ensure(early.deltaCount === receipts.length && early.computedBalance === formatUnits(balance), `derive right after recording: ${early.deltaCount} deltas, balance ${early.computedBalance}`);
      let stillRecorded = 0;

      // Read back: the same receipt, and it becomes confirmed.
      for (const recorded of receipts) {
        const read = await confirmedReceipt(ctx, recorded.receiptId, (first) => void (first?.status === 'recorded' && stillRecorded++));
        for (const f of RECORDED_FIELDS) ensure(sameJson(read[f], recorded[f]), `GET /api/v1/receipts/${recorded.receiptId}: ${f} is ${JSON.stringify(read[f])}, it was recorded as ${JSON.stringify(recorded[f])}`);
        ensure(typeof read.confirmedAt === 'string' && Date.parse(read.confirmedAt) >= Date.parse(read.createdAt), `receipt ${read.receiptId} is confirmed with confirmedAt ${read.confirmedAt} (before createdAt or missing)`);
        ensure(read.checkpointId === null && read.inclusionProof === null, `receipt ${read.receiptId} has a checkpoint or a proof though no checkpoint covers it`);
      }

      ensure(early.confirmedCount >= 0 && early.confirmedCount <= receipts.length - stillRecorded, `derive counted ${early.confirmedCount} confirmed deltas while ${stillRecorded} of ${receipts.length} were still recorded afterwards`);
      const d = await derived(ctx, customerId);
      ensure(d.computedBalance === formatUnits(balance), `derive: computedBalance "${d.computedBalance}", the deltas sum to "${formatUnits(balance)}"`);
      ensure(d.deltaCount === receipts.length && d.confirmedCount === receipts.length, `derive: deltaCount ${d.deltaCount} / confirmedCount ${d.confirmedCount}; ${receipts.length} deltas were recorded and confirmed (two refused)`);
      ensure(sameInstant(d.firstDeltaAt, receipts[0].createdAt) && sameInstant(d.lastDeltaAt, receipts.at(-1).createdAt), `derive: firstDeltaAt ${d.firstDeltaAt} / lastDeltaAt ${d.lastDeltaAt} are not the first and last receipts' createdAt`);
      ensure(d.lastCheckpoint === null, 'derive: lastCheckpoint must be null before the first checkpoint');
      // Confirmed never goes back.
      const again = await confirmedReceipt(ctx, receipts[0].receiptId);
      ensure(again.confirmedAt !== null, 'a confirmed receipt went back to recorded');
    },
  }),
  defineCheck({
    id: 'LEDGER-010',
    rule: 'Amounts outside ±10^15, with more than 8 decimal places, or outside the string grammar are 422 validation_failed at ["body", "delta"] (numbers: minimum, maximum, x-max-decimal-places; strings: pattern) and record nothing; every amount of the grammar is accepted.',
    source: 'openapi #/components/schemas/Amount; openapi info "Amounts"',
    needs: ['apiKey', 'writes'],
    async run(ctx) {
      const customerId = newCustomer('refused');
      const first = await recordDelta(ctx, { customerId, delta: '1.00', reason: 'conformance' });
      expectStatus(first, 201, 'recording the customer\'s first delta');
      const refusals: Array<[string, string]> = [
        ['1000000000000000.00000001', 'maximum'],
        ['-1000000000000000.00000001', 'minimum'],
        ['0.123456789', 'x-max-decimal-places'],
        ['0.1000000000000000000001', 'x-max-decimal-places'],
        ['"0.123456789"', 'pattern'],
        ['"1000000000000001"', 'pattern'],
        ['"1e3"', 'pattern'],
        ['".5"', 'pattern'],
        ['"01"', 'pattern'],
      ];
      for (const [literal, code] of refusals) {
        const res = await recordDelta(ctx, `{"customerId":${JSON.stringify(customerId)},"delta":${literal},"reason":"conformance"}`);
        expectProblem(res, 422, 'validation_failed', `the delta ${literal}`);
        const violations: any[] = Array.isArray(res.body?.validation) ? res.body.validation : [];
        ensure(
          violations.some((v) => sameJson(v?.location, ['body', 'delta']) && v?.code === code),
          `the delta ${literal} was refused without a violation ${code} at ["body","delta"] (got ${JSON.stringify(violations.map((v) => [v?.location, v?.code]))})`,
        );
      }
      // The same bounds hold in a comparison; and the grammar's edge cases are accepted there (it stores nothing).
      const tooBig = await ctx.api.post('/api/v1/balance/compare', { headers: { ...ctx.keyHeaders(), 'content-type': 'application/json' }, raw: '{"yourBalance":-1000000000000000.00000001,"theirBalance":"0"}' });
      expectProblem(tooBig, 422, 'validation_failed', 'yourBalance -1000000000000000.00000001');
      ensure((tooBig.body.validation ?? []).some((v: any) => sameJson(v?.location, ['body', 'yourBalance']) && v?.code === 'minimum'), 'yourBalance -1000000000000000.00000001 was refused without a violation minimum at ["body","yourBalance"]');
      const edges = await ctx.api.post('/api/v1/balance/compare', {
        headers: { ...ctx.keyHeaders(), 'content-type': 'application/json' },
        raw: '{"yourBalance":"1000000000000000.00000000","theirBalance":"-0","startingBalance":0.12345678}',
      });
      expectStatus(edges, 200, 'comparing "1000000000000000.00000000" with "-0" from 0.12345678 (all within the grammar)');
      ensure(edges.body.data.yourBalance === '1000000000000000.00' && edges.body.data.theirBalance === '0.00' && edges.body.data.startingBalance === '0.12345678', `the amounts were written back as ${edges.body.data.yourBalance} / ${edges.body.data.theirBalance} / ${edges.body.data.startingBalance}`);

      const d = await derived(ctx, customerId);
      ensure(d.deltaCount === 1 && d.computedBalance === '1.00' && sameInstant(d.lastDeltaAt, first.body.data.createdAt), `the refused amounts changed the ledger: deltaCount ${d.deltaCount}, balance ${d.computedBalance}`);
    },
  }),
  defineCheck({
    id: 'LEDGER-020',
    rule: 'recorded → confirmed, seen in the events too: delta.recorded carries the receipt as recorded (status recorded, confirmedAt null), delta.confirmed the same receipt confirmed, with the confirmedAt the receipt then shows.',
    source: 'openapi #/webhooks/delta.recorded; openapi #/webhooks/delta.confirmed; openapi #/components/schemas/Receipt',
    needs: ['apiKey', 'dashboard', 'writes', 'webhooks'],
    async run(ctx) {
      const hook = await ledgerEndpoint(ctx, 'confirmation', ['delta.recorded', 'delta.confirmed']);
      try {
        const customerId = newCustomer('confirm');
        const res = await recordDelta(ctx, { customerId, delta: '-7.25', reason: 'conformance', referenceId: `ref-${customerId}`, metadata: { step: 'confirm' } });
        expectStatus(res, 201, 'recording a delta');
        const recorded = res.body.data;
        // Either event may arrive first (the contract says so): each is judged on its own.
        const onRecorded = (await hook.receiver.waitFor(hook.about('delta.recorded', recorded.receiptId))).body.data;
        const onConfirmed = (await hook.receiver.waitFor(hook.about('delta.confirmed', recorded.receiptId))).body.data;
        for (const f of RECORDED_FIELDS) {
          ensure(sameJson(onRecorded?.[f], recorded[f]), `the delta.recorded event's receipt has ${f} ${JSON.stringify(onRecorded?.[f])}, the answer had ${JSON.stringify(recorded[f])}`);
          ensure(sameJson(onConfirmed?.[f], recorded[f]), `the delta.confirmed event's receipt has ${f} ${JSON.stringify(onConfirmed?.[f])}, the answer had ${JSON.stringify(recorded[f])}`);
        }
        ensure(onRecorded.status === 'recorded' && onRecorded.confirmedAt === null, `delta.recorded carries status ${onRecorded.status}, confirmedAt ${onRecorded.confirmedAt}: the receipt as recorded`);
        ensure(onConfirmed.status === 'confirmed' && typeof onConfirmed.confirmedAt === 'string' && Date.parse(onConfirmed.confirmedAt) >= Date.parse(recorded.createdAt), `delta.confirmed carries status ${onConfirmed.status}, confirmedAt ${onConfirmed.confirmedAt}`);
        const read = await getReceipt(ctx, recorded.receiptId);
        expectStatus(read, 200, 'reading the confirmed receipt');
        ensure(read.body.data.status === 'confirmed' && sameInstant(read.body.data.confirmedAt, onConfirmed.confirmedAt), `after delta.confirmed the receipt reads status ${read.body.data.status}, confirmedAt ${read.body.data.confirmedAt}; the event said confirmed at ${onConfirmed.confirmedAt}`);
      } finally {
        await hook.remove();
      }
    },
  }),
];
