// Read caches over the ledger projection (mock/state/ledger.ts). They hold nothing the
// projection does not: each value is computed from the projection's receipts and checkpoints
// alone, so it is never journaled, a missing entry is simply computed again, and a projection
// rebuilt from the journal (a restart, a rolled-back write, a reset) starts with none. They are
// keyed by the projection's own objects (WeakMaps), so they go when those objects go, and no
// event handler needs to know about them. Only reads fill them; events never consult them.
import { buildTree, leavesFromHex, type MerkleTree } from '../../protocol/merkle.ts';
import { customerKey, type Checkpoint, type CustomerLedger, type LedgerProjection } from './ledger.ts';

/** Per customer: where the confirmed prefix of its receipts ended when last asked. */
const confirmedCursor = new WeakMap<CustomerLedger, number>();

/**
 * How many of the customer's deltas are confirmed at `now`. Receipts are in recording order
 * and `confirmAt = createdAt + confirmationMs`, so the confirmed ones are a prefix; its end
 * only moves forward with the clock, so this is amortized O(1) per call. The cursor is only a
 * starting point: from any start the loops find the same prefix end.
 */
export function confirmedCount(c: CustomerLedger, now: number): number {
  let i = confirmedCursor.get(c) ?? 0;
  while (i > 0 && c.receipts[i - 1]!.confirmAt > now) i--;
  while (i < c.receipts.length && c.receipts[i]!.confirmAt <= now) i++;
  confirmedCursor.set(c, i);
  return i;
}

/** The tree over receipts firstSequence … lastSequence (1-based) of a customer. */
export function receiptsTree(c: CustomerLedger, firstSequence: number, lastSequence: number): MerkleTree {
  const size = lastSequence - firstSequence + 1;
  const hashes = function* () {
    for (let i = firstSequence - 1; i < lastSequence; i++) yield c.receipts[i]!.leafHash;
  };
  return buildTree(leavesFromHex(hashes(), size), size);
}

/** Per checkpoint: its tree, for inclusion proofs. */
const checkpointTrees = new WeakMap<Checkpoint, MerkleTree>();

/** The checkpoint's tree, built from its receipts' leaf hashes on first need (a proof) and kept. */
export function checkpointTree(l: LedgerProjection, cp: Checkpoint): MerkleTree {
  let tree = checkpointTrees.get(cp);
  if (!tree) {
    const c = l.customers.get(customerKey(cp.tenantId, cp.environment, cp.customerId))!;
    tree = receiptsTree(c, cp.firstSequence, cp.lastSequence);
    checkpointTrees.set(cp, tree);
  }
  return tree;
}

/** Keeps a tree already built over exactly the checkpoint's receipts (its creation built it). */
export function keepCheckpointTree(cp: Checkpoint, tree: MerkleTree): void {
  checkpointTrees.set(cp, tree);
}
