// The ledger's views alone, on a projection built from events: a receipt as recorded and as it
// is now (confirmed by the clock, with an inclusion proof that verifies once a checkpoint
// covers it), a checkpoint, a derived balance; and the read caches they use
// (mock/state/ledger-caches.ts) giving the same answers however they were filled.
import { describe, expect, it } from 'vitest';
import { leafHash, receiptLeaf, rootFromPath } from '../../protocol/merkle.ts';
import { checkpointTree, confirmedCount, receiptsTree } from '../state/ledger-caches.ts';
import { applyLedgerEvent, createLedgerProjection, customerKey, type DeltaRecorded, type LedgerProjection } from '../state/ledger.ts';
import { checkpointCreatedEvent } from './ledger-events.ts';
import { checkpointView, derivedBalanceView, PROOF_ALGORITHM, receiptView, recordedView } from './ledger-views.ts';

const T0 = Date.UTC(2026, 0, 1);
const CONFIRM_MS = 2_000;

/** A ledger with `n` deltas of 1.00 for cus_1, one a second, each confirmed CONFIRM_MS later. */
function ledgerWith(n: number): LedgerProjection {
  const l = createLedgerProjection();
  for (let i = 1; i <= n; i++) {
    const at = T0 + i * 1_000;
    const fields = {
      receiptId: `rcpt_${i}`,
      customerId: 'cus_1',
      sequence: i,
      delta: '1.00',
      balanceAfter: `${i}.00`,
      reason: 'usage',
      referenceId: i === 1 ? 'ref-1' : null,
      metadata: (i === 1 ? { plan: 'pro' } : {}) as Record<string, string>,
    };
    const e: DeltaRecorded = {
      type: 'delta.recorded',
      at,
      tenantId: 'ten_1',
      environment: 'test',
      ...fields,
      leafHash: leafHash(receiptLeaf(fields, new Date(at).toISOString())).toString('hex'),
      confirmAt: at + CONFIRM_MS,
      idempotencyKey: null,
      requestHash: null,
    };
    applyLedgerEvent(l, e);
  }
  return l;
}

const customer = (l: LedgerProjection) => l.customers.get(customerKey('ten_1', 'test', 'cus_1'))!;
const scope = { tenantId: 'ten_1', environment: 'test' as const, customerId: 'cus_1' };

function checkpoint(l: LedgerProjection, at: number) {
  const next = checkpointCreatedEvent(customer(l), scope, at)!;
  applyLedgerEvent(l, next.event);
  return l.checkpoints.get(next.event.checkpointId)!;
}

describe('receipt views', () => {
  it('as recorded: status recorded, no confirmation, checkpoint or proof, its own copy of metadata', () => {
    const l = ledgerWith(1);
    const r = l.receipts.get('rcpt_1')!;
    const view = recordedView(r);
    expect(view).toEqual({
      receiptId: 'rcpt_1',
      customerId: 'cus_1',
      sequence: 1,
      delta: '1.00',
      balanceAfter: '1.00',
      reason: 'usage',
      referenceId: 'ref-1',
      metadata: { plan: 'pro' },
      status: 'recorded',
      leafHash: r.leafHash,
      environment: 'test',
      createdAt: new Date(T0 + 1_000).toISOString(),
      confirmedAt: null,
      checkpointId: null,
      inclusionProof: null,
    });
    expect(view.metadata).not.toBe(r.metadata);
  });

  it('now: confirmed from its confirmAt on the clock', () => {
    const l = ledgerWith(1);
    const r = l.receipts.get('rcpt_1')!;
    expect(receiptView(l, r, r.confirmAt - 1)).toMatchObject({ status: 'recorded', confirmedAt: null });
    expect(receiptView(l, r, r.confirmAt)).toMatchObject({ status: 'confirmed', confirmedAt: new Date(r.confirmAt).toISOString() });
  });

  it('once a checkpoint covers it: its inclusion proof leads from its leaf to the proof root', () => {
    const l = ledgerWith(5);
    const cp = checkpoint(l, T0 + 10_000);
    for (const r of customer(l).receipts) {
      const { inclusionProof, checkpointId } = receiptView(l, r, T0 + 10_000);
      expect(checkpointId).toBe(cp.checkpointId);
      expect(inclusionProof).toMatchObject({ checkpointId: cp.checkpointId, proofRoot: cp.proofRoot, leafIndex: r.sequence - 1, treeSize: 5 });
      const root = rootFromPath(Buffer.from(r.leafHash, 'hex'), inclusionProof!.leafIndex, inclusionProof!.treeSize, inclusionProof!.auditPath.map((h) => Buffer.from(h, 'hex')));
      expect(root?.toString('hex')).toBe(cp.proofRoot);
    }
  });
});

describe('checkpoint and derived balance views', () => {
  it('a checkpoint: its algorithm, range, balances, and chained root', () => {
    const l = ledgerWith(3);
    const first = checkpoint(l, T0 + 5_000);
    expect(checkpointView(first)).toEqual({
      checkpointId: first.checkpointId,
      customerId: 'cus_1',
      proofRoot: first.proofRoot,
      previousProofRoot: null,
      algorithm: PROOF_ALGORITHM,
      deltaCount: 3,
      firstSequence: 1,
      lastSequence: 3,
      openingBalance: '0.00',
      closingBalance: '3.00',
      environment: 'test',
      createdAt: new Date(T0 + 5_000).toISOString(),
    });
    expect(checkpointCreatedEvent(customer(l), scope, T0 + 6_000)).toBeUndefined();
  });

  it('a derived balance: running totals, confirmed count at the clock, the last checkpoint; zero for an unknown customer', () => {
    const l = ledgerWith(4);
    const cp = checkpoint(l, T0 + 4_500);
    expect(derivedBalanceView('cus_1', customer(l), T0 + 2_000 + CONFIRM_MS)).toEqual({
      customerId: 'cus_1',
      computedBalance: '4.00',
      deltaCount: 4,
      confirmedCount: 2,
      firstDeltaAt: new Date(T0 + 1_000).toISOString(),
      lastDeltaAt: new Date(T0 + 4_000).toISOString(),
      lastCheckpoint: { checkpointId: cp.checkpointId, proofRoot: cp.proofRoot, lastSequence: 4, createdAt: new Date(T0 + 4_500).toISOString() },
    });
    expect(derivedBalanceView('nobody', undefined, T0)).toEqual({
      customerId: 'nobody',
      computedBalance: '0.00',
      deltaCount: 0,
      confirmedCount: 0,
      firstDeltaAt: null,
      lastDeltaAt: null,
      lastCheckpoint: null,
    });
  });
});

describe('ledger read caches', () => {
  it('confirmedCount is the confirmed prefix whichever way the clock was asked before', () => {
    const c = customer(ledgerWith(10));
    const expected = (now: number) => c.receipts.filter((r) => r.confirmAt <= now).length;
    for (const now of [T0, T0 + 12_000, T0 + 5_500, T0 + 3_000, T0 + 20_000, T0 + 2_999, T0 + 3_000]) {
      expect(confirmedCount(c, now)).toBe(expected(now));
    }
  });

  it('a checkpoint tree is built once from its receipts and kept; a new projection builds its own', () => {
    const l = ledgerWith(6);
    const cp = checkpoint(l, T0 + 7_000);
    const tree = checkpointTree(l, cp);
    expect(checkpointTree(l, cp)).toBe(tree);
    expect(tree.levels.map((b) => b.toString('hex'))).toEqual(receiptsTree(customer(l), 1, 6).levels.map((b) => b.toString('hex')));
    const rebuilt = ledgerWith(6);
    const again = checkpointCreatedEvent(customer(rebuilt), scope, T0 + 7_000)!;
    applyLedgerEvent(rebuilt, { ...again.event, checkpointId: cp.checkpointId });
    expect(checkpointTree(rebuilt, rebuilt.checkpoints.get(cp.checkpointId)!)).not.toBe(tree);
  });
});
