// The Balance API ledger (seed 003 steps 3–6, PRODUCT.md "Balance API semantics", the
// contract's Amounts, Idempotency and Proofs sections). Roots and inclusion proofs are
// recomputed with the suite's own code (lib/proofs.ts), never taken on trust.
import { defineCheck } from '../../check.ts';
import type { CheckContext } from '../../context.ts';
import { ensure, expectProblem, expectStatus } from '../../lib/assert.ts';
import { leafHash, merkleRoot, units, verifyInclusion } from '../../lib/proofs.ts';
import { checkpointChecks } from './checkpoints.ts';
import { compareChecks } from './compare.ts';
import { idempotencyChecks } from './idempotency.ts';
import { receiptChecks } from './receipts.ts';

const customer = (name: string) => `conf-${name}-${Date.now().toString(36)}${Math.random().toString(36).slice(2, 6)}`;

async function record(ctx: CheckContext, body: Record<string, unknown>, headers: Record<string, string> = {}, raw?: string) {
  return ctx.api.post('/api/v1/balance/delta', {
    headers: { ...ctx.keyHeaders(), ...headers, ...(raw ? { 'content-type': 'application/json' } : {}) },
    ...(raw ? { raw } : { json: body }),
  });
}

const derive = (ctx: CheckContext, id: string) => ctx.api.get(`/api/v1/balance/derive/${id}`, { headers: ctx.keyHeaders() });

async function receiptsOf(ctx: CheckContext, checkpointId: string) {
  const all: any[] = [];
  for (let page = 1; ; page++) {
    const res = await ctx.api.get(`/api/v1/checkpoints/${checkpointId}/receipts?page=${page}&limit=2`, { headers: ctx.keyHeaders() });
    expectStatus(res, 200, 'listing a checkpoint\'s receipts');
    all.push(...res.body.data.items);
    if (all.length >= res.body.data.total || res.body.data.items.length === 0) return all;
  }
}

export const ledgerChecks = [
  defineCheck({
    id: 'LEDGER-001',
    rule: 'Amounts are exact decimals: 3 × 0.1 derives 0.30, 0.1 + 0.2 derives 0.30, and the largest amounts keep every digit.',
    source: 'PRODUCT.md Balance API semantics; openapi.yaml Amounts',
    needs: ['apiKey', 'writes'],
    async run(ctx) {
      // Three deltas of 0.1 (not the contract's ten: every delta counts against the plan's monthly limit); as doubles they sum to 0.30000000000000004.
      const tenth = customer('tenth');
      for (let i = 0; i < 3; i++) expectStatus(await record(ctx, {}, {}, `{"customerId":"${tenth}","delta":0.1,"reason":"conformance"}`), 201, 'a delta of 0.1 sent as a JSON number');
      const d1 = await derive(ctx, tenth);
      ensure(d1.body?.data?.computedBalance === '0.30', `3 × 0.1 derived ${d1.body?.data?.computedBalance}, not "0.30"`);
      const sum = customer('sum');
      await record(ctx, { customerId: sum, delta: '0.1', reason: 'conformance' });
      await record(ctx, { customerId: sum, delta: '0.2', reason: 'conformance' });
      const d2 = await derive(ctx, sum);
      ensure(d2.body?.data?.computedBalance === '0.30', `0.1 + 0.2 derived ${d2.body?.data?.computedBalance}, not "0.30"`);
      const big = customer('big');
      const largest = await record(ctx, {}, {}, `{"customerId":"${big}","delta":999999999999999.99999999,"reason":"conformance"}`);
      expectStatus(largest, 201, 'the largest amount as a JSON number');
      // As a double it is 1e15 exactly: a server summing doubles shows 1000000000000000.00 here.
      ensure(largest.body?.data?.balanceAfter === '999999999999999.99999999', `the largest amount recorded balanceAfter ${largest.body?.data?.balanceAfter}`);
      const d0 = await derive(ctx, big);
      ensure(d0.body?.data?.computedBalance === '999999999999999.99999999', `the largest amount derived ${d0.body?.data?.computedBalance}, not every digit`);
      await record(ctx, { customerId: big, delta: '0.00000001', reason: 'conformance' });
      const d3 = await derive(ctx, big);
      ensure(d3.body?.data?.computedBalance === '1000000000000000.00', `999999999999999.99999999 + 0.00000001 derived ${d3.body?.data?.computedBalance}`);
    },
  }),
  defineCheck({
    id: 'LEDGER-002',
    rule: 'The same Idempotency-Key with the same body replays the first response (Idempotent-Replayed: true) and records once.',
    source: 'PRODUCT.md Balance API semantics; openapi.yaml Idempotency; seed 002 Idempotency',
    needs: ['apiKey', 'writes'],
    async run(ctx) {
      const id = customer('idem');
      const key = `conformance-${id}`;
      const body = { customerId: id, delta: '5.00', reason: 'conformance' };
      const first = await record(ctx, body, { 'Idempotency-Key': key });
      expectStatus(first, 201, 'the first request');
      const replay = await record(ctx, body, { 'Idempotency-Key': key });
      expectStatus(replay, 201, 'the replay');
      ensure(replay.body?.data?.receiptId === first.body?.data?.receiptId, 'the replay answered another receipt');
      ensure(replay.headers['idempotent-replayed'] === 'true', 'the replay lacks Idempotent-Replayed: true');
      const d = await derive(ctx, id);
      ensure(d.body?.data?.deltaCount === 1 && d.body?.data?.computedBalance === '5.00', 'the replay recorded the delta twice');
    },
  }),
  defineCheck({
    id: 'LEDGER-003',
    rule: 'The same Idempotency-Key with another body gets 409 idempotency_key_reused and records nothing.',
    source: 'PRODUCT.md Balance API semantics; openapi.yaml Idempotency',
    needs: ['apiKey', 'writes'],
    async run(ctx) {
      const id = customer('idem-conflict');
      const key = `conformance-${id}`;
      expectStatus(await record(ctx, { customerId: id, delta: '5.00', reason: 'conformance' }, { 'Idempotency-Key': key }), 201, 'the first request');
      expectProblem(await record(ctx, { customerId: id, delta: '6.00', reason: 'conformance' }, { 'Idempotency-Key': key }), 409, 'idempotency_key_reused');
      const d = await derive(ctx, id);
      ensure(d.body?.data?.deltaCount === 1 && d.body?.data?.computedBalance === '5.00', 'the conflicting request was recorded');
    },
  }),
  defineCheck({
    id: 'LEDGER-004',
    rule: 'A repeated referenceId for the same customer gets 409 duplicate_reference naming the original receipt, and records nothing.',
    source: 'PRODUCT.md Balance API semantics',
    needs: ['apiKey', 'writes'],
    async run(ctx) {
      const id = customer('ref');
      const first = await record(ctx, { customerId: id, delta: '1.00', reason: 'conformance', referenceId: `txn-${id}` });
      expectStatus(first, 201, 'the first delta');
      const again = await record(ctx, { customerId: id, delta: '2.00', reason: 'conformance', referenceId: `txn-${id}` });
      expectProblem(again, 409, 'duplicate_reference');
      ensure(again.body.receiptId === first.body.data.receiptId, '409 duplicate_reference must name the original receipt in receiptId');
      ensure((await derive(ctx, id)).body?.data?.deltaCount === 1, 'the duplicate was recorded');
    },
  }),
  defineCheck({
    id: 'LEDGER-005',
    rule: 'Compare reports exact matches and discrepancies, against the ledger with customerId and between the two views without.',
    source: 'seed 003 Step 5; PRODUCT.md Balance API semantics',
    needs: ['apiKey', 'writes'],
    async run(ctx) {
      const compare = (body: unknown) => ctx.api.post('/api/v1/balance/compare', { headers: ctx.keyHeaders(), json: body });
      const agree = await compare({ yourBalance: 100.0, theirBalance: 100.0, startingBalance: 0 });
      expectStatus(agree, 200, 'the quick start\'s compare');
      ensure(agree.body.data.matchesYours === true && agree.body.data.matchesTheirs === true, 'equal views must match');
      const apart = await compare({ yourBalance: '100.00', theirBalance: '99.50' });
      ensure(apart.body.data.matchesYours === false && apart.body.data.matchesTheirs === false, 'different views must not match');
      ensure(units(apart.body.data.discrepancy) === units('0.50'), `the discrepancy of 100.00 vs 99.50 was ${apart.body.data.discrepancy}`);
      const id = customer('cmp');
      await record(ctx, { customerId: id, delta: '70.10', reason: 'conformance' });
      await record(ctx, { customerId: id, delta: '29.90', reason: 'conformance' });
      const ledger = await compare({ customerId: id, yourBalance: '110.00', theirBalance: '109.99', startingBalance: '10' });
      ensure(ledger.body.data.matchesYours === true, '10 + 70.10 + 29.90 must match yourBalance 110.00');
      ensure(ledger.body.data.matchesTheirs === false, 'theirBalance 109.99 must not match the ledger');
      ensure(units(ledger.body.data.discrepancy) === units('0.01'), `discrepancy was ${ledger.body.data.discrepancy}, not 0.01`);
    },
  }),
  defineCheck({
    id: 'LEDGER-006',
    rule: 'A checkpoint\'s proofRoot is the RFC 6962 root over its receipts\' leaves, recomputed here from the receipts alone; with nothing new the answer is 409 nothing_to_checkpoint.',
    source: 'PRODUCT.md Balance API semantics; openapi.yaml Proofs',
    needs: ['apiKey', 'writes'],
    async run(ctx) {
      const id = customer('root');
      for (const delta of ['10.00', '-2.50', '0.12345678']) {
        expectStatus(await record(ctx, { customerId: id, delta, reason: 'conformance', metadata: { n: delta } }), 201, 'recording');
      }
      const cp = await ctx.api.post('/api/v1/balance/checkpoint', { headers: ctx.keyHeaders(), json: { customerId: id } });
      expectStatus(cp, 201, 'checkpoint');
      const checkpoint = cp.body.data;
      const receipts = await receiptsOf(ctx, checkpoint.checkpointId);
      ensure(receipts.length === 3 && checkpoint.deltaCount === 3, `the checkpoint covers ${receipts.length} receipts / deltaCount ${checkpoint.deltaCount}, not 3`);
      const leaves = receipts.map((r) => {
        const h = leafHash(r);
        ensure(h.toString('hex') === r.leafHash, `receipt ${r.receiptId}: leafHash is not SHA-256(0x00 || canonical JSON of its leaf)`);
        return h;
      });
      ensure(merkleRoot(leaves).toString('hex') === checkpoint.proofRoot, 'proofRoot is not the RFC 6962 root of the receipts\' leaves');
      let balance = 0n;
      for (const r of receipts) balance += units(r.delta);
      ensure(units(checkpoint.closingBalance) === balance, 'closingBalance is not the sum of the deltas');
      expectProblem(await ctx.api.post('/api/v1/balance/checkpoint', { headers: ctx.keyHeaders(), json: { customerId: id } }), 409, 'nothing_to_checkpoint');
    },
  }),
  defineCheck({
    id: 'LEDGER-007',
    rule: 'Every checkpointed receipt carries an RFC 9162 inclusion proof that verifies against the checkpoint\'s root.',
    source: 'PRODUCT.md Balance API semantics; openapi.yaml Proofs',
    needs: ['apiKey', 'writes'],
    async run(ctx) {
      const id = customer('proof');
      // Three leaves: the first two have audit paths of two hashes, the third of one.
      for (let i = 1; i <= 3; i++) await record(ctx, { customerId: id, delta: `${i}.00`, reason: 'conformance' });
      const cp = await ctx.api.post('/api/v1/balance/checkpoint', { headers: ctx.keyHeaders(), json: { customerId: id } });
      expectStatus(cp, 201, 'checkpoint');
      const root = Buffer.from(cp.body.data.proofRoot, 'hex');
      for (const listed of await receiptsOf(ctx, cp.body.data.checkpointId)) {
        const res = await ctx.api.get(`/api/v1/receipts/${listed.receiptId}`, { headers: ctx.keyHeaders() });
        expectStatus(res, 200, 'reading a receipt');
        const proof = res.body.data.inclusionProof;
        ensure(proof && proof.proofRoot === cp.body.data.proofRoot, `receipt ${listed.receiptId} has no inclusion proof for the checkpoint`);
        const ok = verifyInclusion(leafHash(res.body.data), proof.leafIndex, proof.treeSize, proof.auditPath.map((h: string) => Buffer.from(h, 'hex')), root);
        ensure(ok, `the inclusion proof of receipt ${listed.receiptId} (leaf ${proof.leafIndex} of ${proof.treeSize}) does not verify`);
      }
    },
  }),
  defineCheck({
    id: 'LEDGER-008',
    rule: 'GET /api/v1/verify/{proofRoot} confirms a root without a key, and checkpoints chain through previousProofRoot.',
    source: 'seed 002 Public Verification; PRODUCT.md',
    needs: ['apiKey', 'writes'],
    async run(ctx) {
      const id = customer('verify');
      await record(ctx, { customerId: id, delta: '1.00', reason: 'conformance' });
      const first = await ctx.api.post('/api/v1/balance/checkpoint', { headers: ctx.keyHeaders(), json: { customerId: id } });
      await record(ctx, { customerId: id, delta: '2.00', reason: 'conformance' });
      const second = await ctx.api.post('/api/v1/balance/checkpoint', { headers: ctx.keyHeaders(), json: { customerId: id } });
      expectStatus(second, 201, 'the second checkpoint');
      ensure(second.body.data.previousProofRoot === first.body.data.proofRoot, 'the second checkpoint does not chain to the first');
      const verified = await ctx.api.get(`/api/v1/verify/${second.body.data.proofRoot}`);
      expectStatus(verified, 200, 'public verify without a key');
      ensure(verified.body.data.checkpoint?.checkpointId === second.body.data.checkpointId, 'verify answered another checkpoint');
    },
  }),
  ...receiptChecks,
  ...compareChecks,
  ...idempotencyChecks,
  ...checkpointChecks,
];
