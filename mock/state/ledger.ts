// The ledger's events and read model: per customer (scoped to tenant and environment) the
// receipts in sequence order, the running balance as exact 1e-8 units, referenceIds, and
// checkpoints; plus lookups by receipt id, checkpoint id, proof root and idempotency key.
// Derive is O(1): the balance and counts are running aggregates, never re-summed.
import { parseDecimal } from '../../protocol/decimal.ts';
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

export type Receipt = Omit<DeltaRecorded, 'type' | 'at' | 'idempotencyKey' | 'requestHash'> & {
  createdAt: number;
  checkpointId: string | null;
};

export type Checkpoint = Omit<CheckpointCreated, 'type' | 'at'> & {
  createdAt: number;
  /** Tree levels, built on first need (proofs) and kept. */
  levels?: Buffer[][];
};

export type CustomerLedger = {
  receipts: Receipt[];
  balance: bigint;
  references: Map<string, string>;
  checkpoints: Checkpoint[];
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
    c = { receipts: [], balance: 0n, references: new Map(), checkpoints: [] };
    l.customers.set(key, c);
  }
  return c;
}

export function applyLedgerEvent(l: LedgerProjection, e: LedgerEvent): void {
  switch (e.type) {
    case 'delta.recorded': {
      const { type: _t, at, idempotencyKey, requestHash, ...rest } = e;
      const receipt: Receipt = { ...rest, createdAt: at, checkpointId: null };
      const c = customerLedger(l, customerKey(e.tenantId, e.environment, e.customerId));
      c.receipts.push(receipt);
      c.balance = parseDecimal(e.balanceAfter);
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
      c.checkpoints.push(checkpoint);
      for (let i = e.firstSequence - 1; i < e.lastSequence; i++) c.receipts[i]!.checkpointId = e.checkpointId;
      l.checkpoints.set(e.checkpointId, checkpoint);
      l.checkpointsByRoot.set(rootKey(e.environment, e.proofRoot), checkpoint);
      return;
    }
  }
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
