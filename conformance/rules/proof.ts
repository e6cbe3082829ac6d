// Rule rows of area PROOF (see conformance/rules.ts for how to edit them).
// ─── Checkpoints and proofs ──────────────────────────────────────────────────────────
import type { Rule } from '../rules.ts';

export const proofRules: Rule[] = [
  {
    id: 'R-PROOF-001',
    rule: 'A checkpoint locks a Merkle `proofRoot` over every delta of the customer since its previous checkpoint, in `sequence` order.',
    source: ['seed 003 "Step 6: Checkpoint the Period"', 'PRODUCT.md "Balance API semantics"', 'openapi op createCheckpoint'],
    checks: ['LEDGER-006', 'LEDGER-016'],
    operations: ['createCheckpoint'],
  },
  {
    id: 'R-PROOF-002',
    rule: 'Leaf: `leafHash = SHA-256(0x00 || JCS(leaf))`, the leaf holding exactly receiptId, customerId, sequence, delta, balanceAfter, reason, referenceId (null when absent), metadata ({} when absent) and createdAt as the receipt shows them.',
    source: ['PRODUCT.md "Balance API semantics"', 'openapi tag "Proofs"', 'RFC 8785'],
    checks: ['LEDGER-006', 'LEDGER-009', 'LEDGER-016', 'LEDGER-017'],
  },
  {
    id: 'R-PROOF-003',
    rule: 'Tree: the RFC 6962 Merkle Tree Hash with nodes `SHA-256(0x01 || left || right)`; hashes are 64 lowercase hex characters.',
    source: ['openapi tag "Proofs"', 'RFC 6962 §2.1'],
    checks: ['LEDGER-006', 'LEDGER-016'],
  },
  {
    id: 'R-PROOF-004',
    rule: 'With nothing new since the last checkpoint the answer is 409 `nothing_to_checkpoint`, never an empty root.',
    source: ['openapi op createCheckpoint'],
    checks: ['LEDGER-006', 'LEDGER-016'],
    operations: ['createCheckpoint'],
  },
  {
    id: 'R-PROOF-005',
    rule: 'First checkpoint: `previousProofRoot` is null.',
    source: ['openapi #/components/schemas/Checkpoint'],
    checks: ['LEDGER-016'],
    operations: ['createCheckpoint'],
  },
  {
    id: 'R-PROOF-006',
    rule: 'Later checkpoints chain: `previousProofRoot` is the `proofRoot` of the customer\'s previous checkpoint.',
    source: ['openapi tag "Proofs"', 'openapi #/components/schemas/Checkpoint'],
    checks: ['LEDGER-008', 'LEDGER-016'],
    operations: ['createCheckpoint'],
  },
  {
    id: 'R-PROOF-007',
    rule: 'A checkpoint states what it covers: `deltaCount`, `firstSequence`, `lastSequence`, `openingBalance`, `closingBalance`, and `algorithm` `rfc6962-sha256-jcs-v1`.',
    source: ['openapi #/components/schemas/Checkpoint'],
    checks: ['LEDGER-006', 'LEDGER-016'],
    operations: ['createCheckpoint'],
  },
  {
    id: 'R-PROOF-008',
    rule: 'A checkpoint\'s receipts are listed page by page in leaf order (ascending `sequence`).',
    source: ['openapi op listCheckpointReceipts'],
    checks: ['LEDGER-006', 'LEDGER-017'],
    operations: ['listCheckpointReceipts'],
  },
  {
    id: 'R-PROOF-009',
    rule: 'A receipt\'s `checkpointId` and `inclusionProof` are null until a checkpoint covers it, then both set.',
    source: ['PRODUCT.md "Balance API semantics"', 'openapi #/components/schemas/Receipt'],
    checks: ['LEDGER-007', 'LEDGER-009', 'LEDGER-016', 'LEDGER-017'],
    operations: ['getReceipt'],
  },
  {
    id: 'R-PROOF-010',
    rule: 'An inclusion proof is the RFC 6962 audit path from leaf `leafIndex` to the root of `treeSize` leaves, and it verifies against the checkpoint\'s `proofRoot`.',
    source: ['openapi tag "Proofs"', 'openapi #/components/schemas/InclusionProof', 'RFC 9162'],
    checks: ['LEDGER-007', 'LEDGER-016', 'LEDGER-017'],
    operations: ['getReceipt'],
  },
  {
    id: 'R-PROOF-011',
    rule: 'Verify: a known root answers `verified: true` with the checkpoint it locks, without a key; an unknown root is 404.',
    source: ['seed 002 "Public Verification"', 'PRODUCT.md "Balance API semantics"', 'openapi op verifyProofRoot'],
    checks: ['LEDGER-008', 'AUTH-006', 'LEDGER-016'],
    operations: ['verifyProofRoot'],
  },
  {
    id: 'R-PROOF-012',
    rule: '`GET /api/v1/checkpoints/{checkpointId}` returns the checkpoint as it was created.',
    source: ['openapi op getCheckpoint'],
    checks: ['LEDGER-016'],
    operations: ['getCheckpoint'],
  },
  {
    id: 'R-PROOF-013',
    rule: 'Derive\'s `lastCheckpoint` names the customer\'s latest checkpoint (id, root, last sequence).',
    source: ['openapi #/components/schemas/DerivedBalance'],
    checks: ['LEDGER-016'],
    operations: ['deriveBalance'],
  },
];
