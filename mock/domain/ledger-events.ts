// The ledger's events, built against the current state: `delta.recorded` (the customer's next
// sequence, running balance, receipt id, leaf hash and confirmation instant) and
// `checkpoint.created` (the next range of sequences and its RFC 6962 root). The handlers
// (mock/domain/ledger.ts) decide whether to write them; the benchmark loads large ledgers
// through deltaRecordedEvent.
import { formatAmount, type Units } from '../../protocol/decimal.ts';
import { leafHash, rangeRoot, receiptLeaf, treeRoot, type MerkleTree } from '../../protocol/merkle.ts';
import { randomId } from '../security/secrets.ts';
import type { Services } from '../services.ts';
import { receiptsTree } from '../state/ledger-caches.ts';
import { customerKey, type CheckpointCreated, type CustomerLedger, type DeltaRecorded } from '../state/ledger.ts';
import { iso } from './handler.ts';

export type DeltaInput = {
  tenantId: string;
  environment: DeltaRecorded['environment'];
  customerId: string;
  delta: Units;
  reason: string;
  referenceId: string | null;
  metadata: Record<string, string>;
  at: number;
  idempotencyKey: string | null;
  requestHash: string | null;
};

/** The `delta.recorded` event for the customer's next delta, against the current state. recordDelta commits it after its checks. */
export function deltaRecordedEvent(services: Services, input: DeltaInput): DeltaRecorded {
  const existing = services.store.state.ledger.customers.get(customerKey(input.tenantId, input.environment, input.customerId));
  const balance = existing?.balance ?? 0n;
  const fields = {
    receiptId: randomId('rcpt_', 16),
    customerId: input.customerId,
    sequence: (existing?.receipts.length ?? 0) + 1,
    delta: formatAmount(input.delta),
    balanceAfter: formatAmount(balance + input.delta),
    reason: input.reason,
    referenceId: input.referenceId,
    metadata: { ...input.metadata },
  };
  return {
    type: 'delta.recorded',
    at: input.at,
    tenantId: input.tenantId,
    environment: input.environment,
    ...fields,
    leafHash: leafHash(receiptLeaf(fields, iso(input.at))).toString('hex'),
    confirmAt: input.at + services.config.confirmationMs,
    idempotencyKey: input.idempotencyKey,
    requestHash: input.requestHash,
  };
}

/**
 * The `checkpoint.created` event over the customer's deltas since its last checkpoint, or
 * undefined when there are none; with the tree, when one had to be built.
 */
export function checkpointCreatedEvent(
  c: CustomerLedger | undefined,
  scope: Pick<CheckpointCreated, 'tenantId' | 'environment' | 'customerId'>,
  at: number,
): { event: CheckpointCreated; tree: MerkleTree | undefined } | undefined {
  const previous = c?.checkpoints[c.checkpoints.length - 1];
  const firstSequence = (previous?.lastSequence ?? 0) + 1;
  const lastSequence = c?.receipts.length ?? 0;
  if (!c || lastSequence < firstSequence) return undefined;
  // The open range has been folded delta by delta: its root is the checkpoint's, in O(log n).
  // (Should it ever not match the sequences covered, the tree is built from the receipts.)
  const tree = c.open.size === lastSequence - firstSequence + 1 ? undefined : receiptsTree(c, firstSequence, lastSequence);
  const proofRoot = tree ? treeRoot(tree) : rangeRoot(c.open);
  const event: CheckpointCreated = {
    type: 'checkpoint.created',
    at,
    checkpointId: randomId('chk_', 16),
    tenantId: scope.tenantId,
    environment: scope.environment,
    customerId: scope.customerId,
    proofRoot: proofRoot.toString('hex'),
    previousProofRoot: previous?.proofRoot ?? null,
    firstSequence,
    lastSequence,
    openingBalance: firstSequence === 1 ? formatAmount(0n) : c.receipts[firstSequence - 2]!.balanceAfter,
    closingBalance: c.receipts[lastSequence - 1]!.balanceAfter,
  };
  return { event, tree };
}
