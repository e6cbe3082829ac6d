// The ledger's events and read model: per customer (scoped to tenant and environment) the
// receipts in sequence order, the running balance as exact 1e-8 units, referenceIds, and
// checkpoints; plus lookups by receipt id, checkpoint id, proof root and idempotency key.
// Derive is O(1): the balance and counts are running aggregates, never re-summed. The leaves
// recorded since the customer's last checkpoint are folded into a compact range as they
// arrive, so a checkpoint's proof root costs O(log n), however many deltas it covers.
import { parseDecimal } from '../../protocol/decimal.ts';
import { appendLeaf, emptyRange, type CompactRange } from '../../protocol/merkle.ts';
import type { KeyEnvironment } from './events.ts';

export type DeltaRecorded = {
  type: 'delta.recorded';
  at: number;
  receiptId: string;
  tenantId: string;
  environment: KeyEnvironment;
  customerId: string;
  sequence: number;
  /** Amounts in the contract's decimal-string form. */
  delta: string;
  balanceAfter: string;
  reason: string;
  referenceId: string | null;
  metadata: Record<string, string>;
  leafHash: string;
  /** When the delta becomes `confirmed` on the sandbox clock. */
  confirmAt: number;
  idempotencyKey: string | null;
  /** SHA-256 of the canonical request body, to tell a replay from a reuse. */
  requestHash: string | null;
};

export type CheckpointCreated = {
  type: 'checkpoint.created';
  at: number;
  checkpointId: string;
  tenantId: string;
  environment: KeyEnvironment;
  customerId: string;
  proofRoot: string;
  previousProofRoot: string | null;
  firstSequence: number;
  lastSequence: number;
  openingBalance: string;
  closingBalance: string;
};

export type LedgerEvent = DeltaRecorded | CheckpointCreated;

/** A recorded delta. Which checkpoint covers it follows from its sequence (checkpointOf). */
export type Receipt = Omit<DeltaRecorded, 'type' | 'at' | 'idempotencyKey' | 'requestHash'> & {
  createdAt: number;
};

/** A checkpoint. Its tree (for inclusion proofs) is a read cache: checkpointTree in ledger-caches.ts. */
export type Checkpoint = Omit<CheckpointCreated, 'type' | 'at'> & {
  createdAt: number;
};

export type CustomerLedger = {
  receipts: Receipt[];
  balance: bigint;
  references: Map<string, string>;
  checkpoints: Checkpoint[];
  /** The leaves recorded since the last checkpoint (sequences lastSequence + 1 … receipts.length). */
  open: CompactRange;
};

/** Confirmation instants of one tenant-environment, in recording order (non-decreasing). */
type ConfirmTimeline = number[];

export function createLedgerProjection() {
  return {
    customers: new Map<string, CustomerLedger>(),
    receipts: new Map<string, Receipt>(),
    checkpoints: new Map<string, Checkpoint>(),
    checkpointsByRoot: new Map<string, Checkpoint>(),
    idempotency: new Map<string, { requestHash: string; receiptId: string }>(),
    confirmations: new Map<string, ConfirmTimeline>(),
  };
}

export type LedgerProjection = ReturnType<typeof createLedgerProjection>;

export const customerKey = (tenantId: string, environment: KeyEnvironment, customerId: string) =>
  `${tenantId}\u0000${environment}\u0000${customerId}`;
export const scopeKey = (tenantId: string, environment: KeyEnvironment) => `${tenantId}\u0000${environment}`;
export const idempotencyScope = (tenantId: string, environment: KeyEnvironment, key: string) =>
  `${tenantId}\u0000${environment}\u0000${key}`;
export const rootKey = (environment: KeyEnvironment, proofRoot: string) => `${environment}\u0000${proofRoot}`;

export function customerLedger(l: LedgerProjection, key: string): CustomerLedger {
  let c = l.customers.get(key);
  if (!c) {
    c = { receipts: [], balance: 0n, references: new Map(), checkpoints: [], open: emptyRange() };
    l.customers.set(key, c);
  }
  return c;
}

export function applyLedgerEvent(l: LedgerProjection, e: LedgerEvent): void {
  switch (e.type) {
    case 'delta.recorded': {
      const { type: _t, at, idempotencyKey, requestHash, ...rest } = e;
      const receipt: Receipt = { ...rest, createdAt: at };
      const c = customerLedger(l, customerKey(e.tenantId, e.environment, e.customerId));
      c.receipts.push(receipt);
      c.balance = parseDecimal(e.balanceAfter);
      appendLeaf(c.open, Buffer.from(e.leafHash, 'hex'));
      if (e.referenceId !== null) c.references.set(e.referenceId, e.receiptId);
      l.receipts.set(e.receiptId, receipt);
      if (idempotencyKey && requestHash) {
        l.idempotency.set(idempotencyScope(e.tenantId, e.environment, idempotencyKey), { requestHash, receiptId: e.receiptId });
      }
      const scope = scopeKey(e.tenantId, e.environment);
      const timeline = l.confirmations.get(scope) ?? [];
      timeline.push(e.confirmAt);
      l.confirmations.set(scope, timeline);
      return;
    }
    case 'checkpoint.created': {
      const { type: _t, at, ...rest } = e;
      const checkpoint: Checkpoint = { ...rest, createdAt: at };
      const c = customerLedger(l, customerKey(e.tenantId, e.environment, e.customerId));
      // Nothing is written to the receipts it covers (O(1) however many): checkpointOf finds it.
      c.checkpoints.push(checkpoint);
      // What the checkpoint did not cover (never, as the sandbox writes them) stays open.
      c.open = emptyRange();
      for (let i = e.lastSequence; i < c.receipts.length; i++) appendLeaf(c.open, Buffer.from(c.receipts[i]!.leafHash, 'hex'));
      l.checkpoints.set(e.checkpointId, checkpoint);
      l.checkpointsByRoot.set(rootKey(e.environment, e.proofRoot), checkpoint);
      return;
    }
  }
}

/** Whether a ledger event continues the state (see checkEvent in projections.ts); why not, if it does not. */
export function checkLedgerEvent(l: LedgerProjection, e: LedgerEvent): string | undefined {
  const c = l.customers.get(customerKey(e.tenantId, e.environment, e.customerId));
  const recorded = c?.receipts.length ?? 0;
  switch (e.type) {
    case 'delta.recorded':
      if (l.receipts.has(e.receiptId)) return `receipt ${e.receiptId} exists already`;
      return e.sequence === recorded + 1 ? undefined : `delta sequence ${e.sequence} does not follow the customer's ${recorded} deltas`;
    case 'checkpoint.created': {
      if (l.checkpoints.has(e.checkpointId)) return `checkpoint ${e.checkpointId} exists already`;
      const covered = c?.checkpoints[c.checkpoints.length - 1]?.lastSequence ?? 0;
      if (e.firstSequence !== covered + 1 || e.lastSequence < e.firstSequence || e.lastSequence > recorded) {
        return `checkpoint over sequences ${e.firstSequence}…${e.lastSequence} does not follow the customer's ${recorded} deltas (${covered} covered)`;
      }
      return undefined;
    }
  }
}

/** The checkpoint covering a receipt, if any: the customer's checkpoints cover consecutive sequences. */
export function checkpointOf(l: LedgerProjection, r: Receipt): Checkpoint | undefined {
  const checkpoints = l.customers.get(customerKey(r.tenantId, r.environment, r.customerId))?.checkpoints;
  if (!checkpoints?.length || checkpoints[checkpoints.length - 1]!.lastSequence < r.sequence) return undefined;
  let lo = 0;
  let hi = checkpoints.length - 1;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (checkpoints[mid]!.lastSequence < r.sequence) lo = mid + 1;
    else hi = mid;
  }
  const cp = checkpoints[lo]!;
  return cp.firstSequence <= r.sequence ? cp : undefined;
}

/** How many entries of a non-decreasing timeline fall in [from, to). */
export function countBetween(timeline: number[] | undefined, from: number, to: number): number {
  if (!timeline?.length) return 0;
  const lowerBound = (x: number) => {
    let lo = 0;
    let hi = timeline.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (timeline[mid]! < x) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  };
  return Math.max(0, lowerBound(to) - lowerBound(from));
}
