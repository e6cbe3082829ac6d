// How the ledger's state is shown: receipts (as recorded, and as they are now with their
// inclusion proof), checkpoints, and a customer's derived balance, in the contract's schemas.
// Views only read the projection (and its read caches, mock/state/ledger-caches.ts).
import type { components } from '../../generated/openapi.d.ts';
import { formatAmount } from '../../protocol/decimal.ts';
import { receiptLeaf, treeAuditPath } from '../../protocol/merkle.ts';
import { checkpointTree, confirmedCount } from '../state/ledger-caches.ts';
import { checkpointOf, type Checkpoint, type CustomerLedger, type LedgerProjection, type Receipt } from '../state/ledger.ts';
import { iso } from './handler.ts';

export type ReceiptView = components['schemas']['Receipt'];
export type CheckpointView = components['schemas']['Checkpoint'];
export type DerivedBalance = components['schemas']['DerivedBalance'];

export const PROOF_ALGORITHM = 'rfc6962-sha256-jcs-v1';

/** The receipt as it is at `now`: confirmed once its instant has come, with its proof once a checkpoint covers it. */
export function receiptView(l: LedgerProjection, r: Receipt, now: number): ReceiptView {
  const confirmed = now >= r.confirmAt;
  const cp = checkpointOf(l, r);
  let inclusionProof: ReceiptView['inclusionProof'] = null;
  if (cp) {
    const leafIndex = r.sequence - cp.firstSequence;
    inclusionProof = {
      checkpointId: cp.checkpointId,
      proofRoot: cp.proofRoot,
      leafIndex,
      treeSize: cp.lastSequence - cp.firstSequence + 1,
      auditPath: treeAuditPath(checkpointTree(l, cp), leafIndex).map((h) => h.toString('hex')),
    };
  }
  return {
    ...recordedView(r),
    status: confirmed ? 'confirmed' : 'recorded',
    confirmedAt: confirmed ? iso(r.confirmAt) : null,
    checkpointId: cp ? cp.checkpointId : null,
    inclusionProof,
  };
}

/**
 * The receipt as it was when recorded: the 201 answer, its replays and `delta.recorded` — its
 * proof leaf (protocol/merkle.ts) and its state.
 */
export function recordedView(r: Receipt): ReceiptView {
  return {
    ...receiptLeaf(r, iso(r.createdAt)),
    status: 'recorded',
    leafHash: r.leafHash,
    environment: r.environment,
    confirmedAt: null,
    checkpointId: null,
    inclusionProof: null,
  };
}

export function checkpointView(cp: Checkpoint): CheckpointView {
  return {
    checkpointId: cp.checkpointId,
    customerId: cp.customerId,
    proofRoot: cp.proofRoot,
    previousProofRoot: cp.previousProofRoot,
    algorithm: PROOF_ALGORITHM,
    deltaCount: cp.lastSequence - cp.firstSequence + 1,
    firstSequence: cp.firstSequence,
    lastSequence: cp.lastSequence,
    openingBalance: cp.openingBalance,
    closingBalance: cp.closingBalance,
    environment: cp.environment,
    createdAt: iso(cp.createdAt),
  };
}

/** A customer's derived balance at `now` (no ledger yet: zero, no deltas). Running aggregates: O(1). */
export function derivedBalanceView(customerId: string, c: CustomerLedger | undefined, now: number): DerivedBalance {
  const first = c?.receipts[0];
  const last = c?.receipts[c.receipts.length - 1];
  const checkpoint = c?.checkpoints[c.checkpoints.length - 1];
  return {
    customerId,
    computedBalance: formatAmount(c?.balance ?? 0n),
    deltaCount: c?.receipts.length ?? 0,
    confirmedCount: c ? confirmedCount(c, now) : 0,
    firstDeltaAt: first ? iso(first.createdAt) : null,
    lastDeltaAt: last ? iso(last.createdAt) : null,
    lastCheckpoint: checkpoint
      ? { checkpointId: checkpoint.checkpointId, proofRoot: checkpoint.proofRoot, lastSequence: checkpoint.lastSequence, createdAt: iso(checkpoint.createdAt) }
      : null,
  };
}
