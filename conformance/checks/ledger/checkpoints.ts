// Checkpoints over a customer's life (first and later, chained), every place a checkpoint or a
// receipt appears afterwards (its own GET, derive's lastCheckpoint, public verify, the receipt
// by id, the paged listing), each root and proof recomputed with the suite's own code; the
// listing's pagination; and referenceId reuse.
import { defineCheck } from '../../check.ts';
import type { CheckContext } from '../../context.ts';
import { ensure, expectProblem, expectStatus } from '../../lib/assert.ts';
import { sameInstant, sameJson } from '../../lib/json.ts';
import { leafHash, merkleRoot, verifyInclusion } from '../../lib/proofs.ts';
import { RECORDED_FIELDS, allReceiptPages, confirmedReceipt, createCheckpoint, derived, getCheckpoint, getReceipt, listReceipts, newCustomer, recordDelta } from './support.ts';

async function recordAll(ctx: CheckContext, customerId: string, deltas: string[]) {
  const receipts: any[] = [];
  for (const delta of deltas) {
    const res = await recordDelta(ctx, { customerId, delta, reason: 'conformance', ...(receipts.length % 2 ? { metadata: { n: delta } } : { referenceId: `ref-${delta}-${customerId}` }) });
    expectStatus(res, 201, `recording ${delta}`);
    receipts.push(res.body.data);
  }
  return receipts;
}

/** The checkpoint the contract defines over these receipts (in sequence order) after `previous`. */
function expectCheckpoint(ctx: CheckContext, cp: any, customerId: string, receipts: any[], previous: any | null, what: string) {
  ensure(cp && typeof cp === 'object', `${what}: no data`);
  const first = receipts[0];
  const last = receipts.at(-1);
  ensure(cp.customerId === customerId, `${what}: customerId ${cp.customerId}`);
  ensure(cp.previousProofRoot === (previous ? previous.proofRoot : null), `${what}: previousProofRoot ${cp.previousProofRoot}, expected ${previous ? `the previous checkpoint's root ${previous.proofRoot}` : 'null (the first checkpoint)'}`);
  ensure(cp.algorithm === 'rfc6962-sha256-jcs-v1', `${what}: algorithm ${cp.algorithm}`);
  ensure(cp.deltaCount === receipts.length && cp.firstSequence === first.sequence && cp.lastSequence === last.sequence, `${what}: covers ${cp.deltaCount} deltas, sequences ${cp.firstSequence}…${cp.lastSequence}; expected ${receipts.length}, ${first.sequence}…${last.sequence}`);
  const opening = previous ? previous.closingBalance : '0.00';
  ensure(cp.openingBalance === opening && cp.closingBalance === last.balanceAfter, `${what}: opening/closing ${cp.openingBalance}/${cp.closingBalance}; expected ${opening}/${last.balanceAfter}`);
  if (ctx.keyEnvironment) ensure(cp.environment === ctx.keyEnvironment, `${what}: environment ${cp.environment}`);
  ensure(/^[0-9a-f]{64}$/.test(cp.proofRoot), `${what}: proofRoot is not 64 lowercase hex characters`);
  const root = merkleRoot(receipts.map((r) => leafHash(r))).toString('hex');
  ensure(cp.proofRoot === root, `${what}: proofRoot ${cp.proofRoot} is not the RFC 6962 root of the ${receipts.length} receipts' leaves (${root})`);
}

/** A receipt read back after its checkpoint: as recorded, and with a proof that verifies. */
function expectCovered(read: any, recorded: any, cp: any, leafIndex: number, where: string) {
  for (const f of RECORDED_FIELDS) ensure(sameJson(read?.[f], recorded[f]), `${where}: receipt ${recorded.receiptId}'s ${f} is ${JSON.stringify(read?.[f])}, recorded as ${JSON.stringify(recorded[f])}`);
  ensure(read.checkpointId === cp.checkpointId, `${where}: receipt ${recorded.receiptId} names checkpoint ${read.checkpointId}, not ${cp.checkpointId}`);
  const p = read.inclusionProof;
  ensure(p && p.checkpointId === cp.checkpointId && p.proofRoot === cp.proofRoot, `${where}: receipt ${recorded.receiptId} has no inclusion proof for checkpoint ${cp.checkpointId}`);
  ensure(p.leafIndex === leafIndex && p.treeSize === cp.deltaCount, `${where}: receipt ${recorded.receiptId}'s proof is for leaf ${p.leafIndex} of ${p.treeSize}; it is leaf ${leafIndex} of ${cp.deltaCount}`);
  const ok = Array.isArray(p.auditPath) && verifyInclusion(leafHash(read), p.leafIndex, p.treeSize, p.auditPath.map((h: string) => Buffer.from(String(h), 'hex')), Buffer.from(cp.proofRoot, 'hex'));
  ensure(ok, `${where}: the inclusion proof of receipt ${recorded.receiptId} (leaf ${p.leafIndex} of ${p.treeSize}) does not verify against ${cp.proofRoot}`);
}

export const checkpointChecks = [
  defineCheck({
    id: 'LEDGER-016',
    rule: 'The first checkpoint (previousProofRoot null) and a later one (chained to it) each lock exactly the deltas since the previous one, and read the same everywhere: GET /checkpoints/{id}, derive\'s lastCheckpoint, public verify (and 404 for an unknown root), each receipt by id and in the listing (with its current status: once GET shows it confirmed, so does the listing), whose proofs verify; with nothing new the answer is 409 nothing_to_checkpoint and changes nothing.',
    source: 'seed 003 Step 6; seed 002 Public Verification; openapi tag "Proofs"; openapi #/components/schemas/Checkpoint',
    needs: ['apiKey', 'writes'],
    async run(ctx) {
      const customerId = newCustomer('chain');
      const firstBatch = await recordAll(ctx, customerId, ['10.00', '-2.50', '0.12345678']);
      const created1 = await createCheckpoint(ctx, customerId);
      expectStatus(created1, 201, 'the first checkpoint');
      const cp1 = created1.body.data;
      expectCheckpoint(ctx, cp1, customerId, firstBatch, null, 'the first checkpoint');
      expectProblem(await createCheckpoint(ctx, customerId), 409, 'nothing_to_checkpoint', 'a checkpoint with nothing new');

      const secondBatch = await recordAll(ctx, customerId, ['5', '-0.00000001']);
      const created2 = await createCheckpoint(ctx, customerId);
      expectStatus(created2, 201, 'the second checkpoint');
      const cp2 = created2.body.data;
      expectCheckpoint(ctx, cp2, customerId, secondBatch, cp1, 'the second checkpoint');

      const d = await derived(ctx, customerId);
      const lc = d.lastCheckpoint;
      ensure(d.deltaCount === 5 && d.computedBalance === secondBatch.at(-1).balanceAfter && sameInstant(d.firstDeltaAt, firstBatch[0].createdAt) && sameInstant(d.lastDeltaAt, secondBatch.at(-1).createdAt), `derive after two checkpoints: ${d.deltaCount} deltas, balance ${d.computedBalance}, first/last ${d.firstDeltaAt}/${d.lastDeltaAt}; a checkpoint does not change what derive sums`);
      ensure(lc && lc.checkpointId === cp2.checkpointId && lc.proofRoot === cp2.proofRoot && lc.lastSequence === cp2.lastSequence && sameInstant(lc.createdAt, cp2.createdAt), `derive's lastCheckpoint is ${JSON.stringify(lc)}, not the latest checkpoint ${cp2.checkpointId}`);

      for (const [cp, batch, what] of [[cp1, firstBatch, 'first'], [cp2, secondBatch, 'second']] as const) {
        const read = await getCheckpoint(ctx, cp.checkpointId);
        expectStatus(read, 200, `reading the ${what} checkpoint`);
        ensure(sameJson(read.body.data, cp), `GET /api/v1/checkpoints/${cp.checkpointId} is not the ${what} checkpoint as it was created`);
        const verified = await ctx.api.get(`/api/v1/verify/${cp.proofRoot}`);
        expectStatus(verified, 200, `public verify of the ${what} checkpoint's root, without a key`);
        ensure(verified.body?.data?.verified === true && verified.body.data.proofRoot === cp.proofRoot, `verify of the ${what} root does not answer verified: true for it`);
        ensure(sameJson(verified.body.data.checkpoint, cp), `verify of the ${what} root answers another checkpoint than the one created`);
        const listed = await listReceipts(ctx, cp.checkpointId);
        expectStatus(listed, 200, `listing the ${what} checkpoint's receipts`);
        const items: any[] = listed.body?.data?.items ?? [];
        ensure(items.length === batch.length && listed.body.data.total === batch.length, `the ${what} checkpoint lists ${items.length} receipts (total ${listed.body?.data?.total}), it covers ${batch.length}`);
        for (const [i, recorded] of batch.entries()) {
          const byId = await getReceipt(ctx, recorded.receiptId);
          expectStatus(byId, 200, `reading receipt ${recorded.receiptId}`);
          expectCovered(byId.body.data, recorded, cp, i, `GET /api/v1/receipts/${recorded.receiptId}`);
          expectCovered(items[i], recorded, cp, i, `the ${what} checkpoint's listing, item ${i + 1}`);
        }
      }
      // The listing shows each receipt as it is now, not as it was locked: once GET shows a receipt
      // confirmed (a status that never goes back), a later listing shows it confirmed at the same time.
      await confirmedReceipt(ctx, firstBatch[0].receiptId);
      const now = await Promise.all(firstBatch.map(async (r: any) => (await getReceipt(ctx, r.receiptId)).body?.data));
      const relisted = await listReceipts(ctx, cp1.checkpointId);
      expectStatus(relisted, 200, 'listing the first checkpoint\'s receipts again');
      for (const [i, shown] of now.entries()) {
        if (shown?.status !== 'confirmed') continue;
        const item = (relisted.body?.data?.items ?? [])[i];
        ensure(item?.status === 'confirmed' && sameInstant(item.confirmedAt, shown.confirmedAt), `receipt ${shown.receiptId} reads confirmed at ${shown.confirmedAt} by id, but the checkpoint's listing, read after, shows it ${item?.status} (confirmedAt ${item?.confirmedAt})`);
      }
      const unknown = await ctx.api.get(`/api/v1/verify/${'0'.repeat(63)}1`);
      expectProblem(unknown, 404, 'not_found', 'verifying an unknown root');
      const after = await derived(ctx, customerId);
      ensure(sameJson(after.lastCheckpoint, d.lastCheckpoint) && after.deltaCount === 5, 'reading changed the checkpoint state');
    },
  }),
  defineCheck({
    id: 'LEDGER-017',
    rule: 'A checkpoint\'s receipts are listed page by page in leaf order: every page states page, limit and the total; pages hold limit receipts until the last, then none; together they hold every receipt once; limit is 1 to 1000 (default 100) and page 1 to 1000000, anything else is 422.',
    source: 'openapi op listCheckpointReceipts; openapi #/components/schemas/ReceiptPage; openapi #/components/parameters/ReceiptLimit; openapi #/components/parameters/Page',
    needs: ['apiKey', 'writes'],
    async run(ctx) {
      const customerId = newCustomer('pages');
      const receipts = await recordAll(ctx, customerId, ['1.00', '-2.00', '3.00', '-4.00']);
      const created = await createCheckpoint(ctx, customerId);
      expectStatus(created, 201, 'checkpointing four deltas');
      const cp = created.body.data;
      const ids = receipts.map((r) => r.receiptId);
      for (const limit of [2, 3]) {
        const pages = await allReceiptPages(ctx, cp.checkpointId, limit, receipts.length);
        const listed = pages.flat();
        ensure(sameJson(listed.map((r) => r?.receiptId), ids), `with limit ${limit} the pages list ${JSON.stringify(listed.map((r) => r?.sequence))} by sequence: not each of the 4 receipts once, in leaf order`);
        for (const [i, item] of listed.entries()) expectCovered(item, receipts[i], cp, i, `page ${Math.floor(i / limit) + 1} with limit ${limit}`);
      }
      const plain = await listReceipts(ctx, cp.checkpointId);
      expectStatus(plain, 200, 'listing without page or limit');
      ensure(plain.body.data.page === 1 && plain.body.data.limit === 100 && plain.body.data.total === 4 && plain.body.data.items.length === 4, `without page and limit the listing says page ${plain.body.data.page}, limit ${plain.body.data.limit} (the defaults are 1 and 100)`);
      for (const query of ['limit=0', 'limit=1001', 'page=0', 'page=1000001']) {
        const res = await listReceipts(ctx, cp.checkpointId, query);
        expectProblem(res, 422, 'validation_failed', `listing with ${query}`);
      }
      const far = await listReceipts(ctx, cp.checkpointId, 'page=1000000&limit=1000');
      expectStatus(far, 200, 'the largest page number');
      ensure(far.body.data.items.length === 0 && far.body.data.total === 4 && far.body.data.limit === 1000 && far.body.data.page === 1000000, 'page 1000000 with limit 1000 must be an empty page that states page, limit and the total');
    },
  }),
  defineCheck({
    id: 'LEDGER-018',
    rule: 'A referenceId is used once per customer: another customer may use it, the same customer gets 409 duplicate_reference naming the receipt that holds it, and nothing is recorded (the next delta takes the next sequence).',
    source: 'PRODUCT.md Balance API semantics; openapi #/components/schemas/DeltaRequest',
    needs: ['apiKey', 'writes'],
    async run(ctx) {
      const a = newCustomer('ref-a');
      const b = newCustomer('ref-b');
      const referenceId = `inv-${a}`;
      const first = await recordDelta(ctx, { customerId: a, delta: '-1.50', reason: 'conformance', referenceId });
      expectStatus(first, 201, 'the first use of the referenceId');
      const other = await recordDelta(ctx, { customerId: b, delta: '2.00', reason: 'conformance', referenceId });
      expectStatus(other, 201, 'the same referenceId for another customer');
      const again = await recordDelta(ctx, { customerId: a, delta: '-1.50', reason: 'conformance', referenceId });
      expectProblem(again, 409, 'duplicate_reference', 'the same referenceId for the same customer');
      ensure(again.body.receiptId === first.body.data.receiptId, `409 duplicate_reference names receipt ${again.body.receiptId}, the referenceId is held by ${first.body.data.receiptId}`);
      const next = await recordDelta(ctx, { customerId: a, delta: '1.00', reason: 'conformance' });
      expectStatus(next, 201, 'the next delta');
      ensure(next.body.data.sequence === 2 && next.body.data.balanceAfter === '-0.50', `after the refused duplicate the next delta has sequence ${next.body.data.sequence} and balanceAfter ${next.body.data.balanceAfter}; the duplicate must have recorded nothing`);
      const d = await derived(ctx, a);
      ensure(d.deltaCount === 2 && d.computedBalance === '-0.50', `customer a derives ${d.deltaCount} deltas / ${d.computedBalance}`);
    },
  }),
];
