// The Balance API and proofs: record deltas, derive, compare, checkpoint, receipts with their
// inclusion proofs, and the public verify. Everything is scoped to the API key's tenant and
// environment; verify answers for the listener's environment.
//
// Amounts are exact: JSON numbers are read from the raw body's text (lossless-json), never
// through a double, and held as bigint 1e-8 units (protocol/decimal.ts). Every decision of a
// write is taken synchronously, before the first await, so concurrent requests see each
// other's events in order (mock/state/store.ts): 200 parallel deltas get 200 sequences.
import { createHash } from 'node:crypto';
import { isLosslessNumber, parse as parseLossless } from 'lossless-json';
import type { components } from '../../generated/openapi.d.ts';
import { canonicalize } from '../../protocol/canonical-json.ts';
import { checkJsonNumber, formatAmount, inRange, parseAmount, type Units } from '../../protocol/decimal.ts';
import { buildTree, leafHash, leavesFromHex, rangeRoot, treeAuditPath, treeRoot, type MerkleTree } from '../../protocol/merkle.ts';
import { fail, type ValidationViolation } from '../http/problem.ts';
import { randomBase62 } from '../security/secrets.ts';
import type { Services } from '../services.ts';
import {
  checkpointOf,
  customerKey,
  idempotencyScope,
  rootKey,
  type Checkpoint,
  type CheckpointCreated,
  type CustomerLedger,
  type DeltaRecorded,
  type LedgerProjection,
  type Receipt,
} from '../state/ledger.ts';
import { billingPeriod, planLimit, verifiedDeltas } from './billing.ts';
import { callerOf, iso, ok, paginate, type HandlerContext, type Handlers } from './handler.ts';

type ReceiptView = components['schemas']['Receipt'];
type CheckpointView = components['schemas']['Checkpoint'];
type DeltaBody = components['schemas']['DeltaRequest'];
type CompareBody = components['schemas']['CompareRequest'];
type CompareReport = components['schemas']['CompareReport'];
type DerivedBalance = components['schemas']['DerivedBalance'];

export const PROOF_ALGORITHM = 'rfc6962-sha256-jcs-v1';
/** How long the first response for an Idempotency-Key is kept (the contract's 24 hours). */
export const IDEMPOTENCY_TTL_MS = 24 * 60 * 60 * 1000;
/** The bound of every amount and balance, ±10^15 (the `maximum` of `Amount`'s number form). */
const MAX_AMOUNT = '1000000000000000';

// ---------------------------------------------------------------- exact amounts

/**
 * Reads amount members of the (already schema-validated) body exactly: numbers from their
 * JSON text, strings by the contract's grammar. Every amount that breaks the contract's
 * precision or bounds is reported in one 422, located like Prism's violations. Prism reads
 * numbers as doubles, so what is left to find here is what a double cannot see: more than 8
 * decimal places (the schema's `x-max-decimal-places`, which no standard keyword states
 * exactly) and a number past ±10^15 by less than a double's spacing (`maximum`/`minimum`).
 */
function readAmounts<F extends string>(ctx: HandlerContext, fields: readonly F[]): Record<F, Units | undefined> {
  let exact: Record<string, unknown>;
  try {
    exact = parseLossless(ctx.rawBody ?? 'null') as Record<string, unknown>;
  } catch {
    // JSON.parse accepted it, so the only difference left is a repeated member name with
    // different values: ambiguous, and never guessed at. The parser's message is not echoed.
    throw fail('invalid_json', 'The request body repeats a member name.');
  }
  const out = {} as Record<F, Units | undefined>;
  const violations: ValidationViolation[] = [];
  for (const field of fields) {
    const value = exact?.[field];
    if (value === undefined) {
      out[field] = undefined;
      continue;
    }
    const text = isLosslessNumber(value) ? value.value : String(value);
    const checked = isLosslessNumber(value) ? checkJsonNumber(text) : stringAmount(text);
    if ('units' in checked) {
      out[field] = checked.units;
      continue;
    }
    const location = ['body', field];
    if (checked.violation === 'precision') {
      violations.push({ location, severity: 'Error', code: 'x-max-decimal-places', message: 'must have at most 8 decimal places' });
    } else if (checked.violation === 'range') {
      violations.push(
        text.startsWith('-')
          ? { location, severity: 'Error', code: 'minimum', message: `must be >= -${MAX_AMOUNT}` }
          : { location, severity: 'Error', code: 'maximum', message: `must be <= ${MAX_AMOUNT}` },
      );
    } else {
      violations.push({ location, severity: 'Error', code: 'type', message: 'must be a decimal string or a number' });
    }
  }
  if (violations.length) {
    throw fail('validation_failed', `An amount breaks the contract: at most 8 decimal places, from -${MAX_AMOUNT} to ${MAX_AMOUNT}.`, { validation: violations });
  }
  return out;
}

/** A string amount; the schema's pattern already held, so this only guards the bounds again. */
function stringAmount(text: string): ReturnType<typeof checkJsonNumber> {
  const units = parseAmount(text);
  if (units !== undefined) return { units };
  return /\.[0-9]{9,}$/.test(text) ? { violation: 'precision' } : /^-?[0-9]+(\.[0-9]+)?$/.test(text) ? { violation: 'range' } : { violation: 'syntax' };
}

// ---------------------------------------------------------------- views

const confirmedCursor = new WeakMap<CustomerLedger, number>();

/**
 * How many of the customer's deltas are confirmed at `now`. Receipts are in recording order
 * and `confirmAt = createdAt + confirmationMs`, so the confirmed ones are a prefix; its end
 * only moves forward with the clock, so this is amortized O(1) per call.
 */
function confirmedCount(c: CustomerLedger, now: number): number {
  let i = confirmedCursor.get(c) ?? 0;
  while (i > 0 && c.receipts[i - 1]!.confirmAt > now) i--;
  while (i < c.receipts.length && c.receipts[i]!.confirmAt <= now) i++;
  confirmedCursor.set(c, i);
  return i;
}

const ledgerOf = (services: Services): LedgerProjection => services.store.state.ledger;

/** The tree over receipts firstSequence … lastSequence (1-based) of a customer. */
function treeOf(c: CustomerLedger, firstSequence: number, lastSequence: number): MerkleTree {
  const size = lastSequence - firstSequence + 1;
  const hashes = function* () {
    for (let i = firstSequence - 1; i < lastSequence; i++) yield c.receipts[i]!.leafHash;
  };
  return buildTree(leavesFromHex(hashes(), size), size);
}

/** The checkpoint's tree, built from its receipts' leaf hashes on first need (a proof) and kept. */
function treeOfCheckpoint(l: LedgerProjection, cp: Checkpoint): MerkleTree {
  if (!cp.tree) {
    const c = l.customers.get(customerKey(cp.tenantId, cp.environment, cp.customerId))!;
    cp.tree = treeOf(c, cp.firstSequence, cp.lastSequence);
  }
  return cp.tree;
}

function receiptView(services: Services, r: Receipt): ReceiptView {
  const l = ledgerOf(services);
  const confirmed = services.clock.now() >= r.confirmAt;
  const cp = checkpointOf(l, r);
  let inclusionProof: ReceiptView['inclusionProof'] = null;
  if (cp) {
    const leafIndex = r.sequence - cp.firstSequence;
    inclusionProof = {
      checkpointId: cp.checkpointId,
      proofRoot: cp.proofRoot,
      leafIndex,
      treeSize: cp.lastSequence - cp.firstSequence + 1,
      auditPath: treeAuditPath(treeOfCheckpoint(l, cp), leafIndex).map((h) => h.toString('hex')),
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

/** The receipt as it was when recorded: the 201 answer, its replays and `delta.recorded`. */
function recordedView(r: Receipt): ReceiptView {
  return {
    receiptId: r.receiptId,
    customerId: r.customerId,
    sequence: r.sequence,
    delta: r.delta,
    balanceAfter: r.balanceAfter,
    reason: r.reason,
    referenceId: r.referenceId,
    metadata: { ...r.metadata },
    status: 'recorded',
    leafHash: r.leafHash,
    environment: r.environment,
    createdAt: iso(r.createdAt),
    confirmedAt: null,
    checkpointId: null,
    inclusionProof: null,
  };
}

function checkpointView(cp: Checkpoint): CheckpointView {
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

/** The Proofs section's leaf: exactly these members, with the receipt's string values. */
export function leafOf(r: Pick<Receipt, 'receiptId' | 'customerId' | 'sequence' | 'delta' | 'balanceAfter' | 'reason' | 'referenceId' | 'metadata'>, createdAt: string) {
  return {
    receiptId: r.receiptId,
    customerId: r.customerId,
    sequence: r.sequence,
    delta: r.delta,
    balanceAfter: r.balanceAfter,
    reason: r.reason,
    referenceId: r.referenceId,
    metadata: r.metadata,
    createdAt,
  };
}

// ---------------------------------------------------------------- scoping

function ownReceipt(ctx: HandlerContext): Receipt {
  const { key } = callerOf(ctx, 'apiKey');
  const r = ledgerOf(ctx.services).receipts.get(ctx.params.receiptId ?? '');
  // Another tenant's or environment's receipt is indistinguishable from a missing one.
  if (!r || r.tenantId !== key.tenantId || r.environment !== key.environment) throw fail('not_found', 'No receipt with this id.');
  return r;
}

function ownCheckpoint(ctx: HandlerContext): Checkpoint {
  const { key } = callerOf(ctx, 'apiKey');
  const cp = ledgerOf(ctx.services).checkpoints.get(ctx.params.checkpointId ?? '');
  if (!cp || cp.tenantId !== key.tenantId || cp.environment !== key.environment) throw fail('not_found', 'No checkpoint with this id.');
  return cp;
}

// ---------------------------------------------------------------- confirmations

/** Announces `delta.confirmed` when the delta's confirmation instant arrives on the sandbox clock. */
function scheduleConfirmation(services: Services, receiptId: string, confirmAt: number) {
  services.scheduler.at(confirmAt, async () => {
    const r = ledgerOf(services).receipts.get(receiptId);
    // Gone since (a reset): nothing to announce.
    if (!r || r.confirmAt !== confirmAt) return;
    const events = services.webhooks.announce({
      type: 'delta.confirmed',
      tenantId: r.tenantId,
      environment: r.environment,
      at: confirmAt,
      data: { ...receiptView(services, r), status: 'confirmed', confirmedAt: iso(confirmAt) },
    });
    if (events.length === 0) return;
    await services.store.commit(...events);
    services.webhooks.flush();
  });
}

/** Re-arms the `delta.confirmed` announcements still due, after a journal replay. */
export function resumeLedger(services: Services): void {
  const now = services.clock.now();
  for (const r of ledgerOf(services).receipts.values()) {
    if (r.confirmAt > now) scheduleConfirmation(services, r.receiptId, r.confirmAt);
  }
}

// ---------------------------------------------------------------- idempotency

/** Idempotency scopes whose first request has decided but not yet been answered (per state). */
const inFlight = new WeakMap<LedgerProjection, Set<string>>();

function inFlightOf(l: LedgerProjection): Set<string> {
  let set = inFlight.get(l);
  if (!set) inFlight.set(l, (set = new Set()));
  return set;
}

const sha256 = (text: string) => createHash('sha256').update(text, 'utf8').digest('hex');

// ---------------------------------------------------------------- recording

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

/**
 * The `delta.recorded` event for the customer's next delta, against the current state:
 * sequence, running balance, receipt id, leaf hash and confirmation instant. recordDelta
 * commits it after its checks; the benchmark loads large ledgers through it.
 */
export function deltaRecordedEvent(services: Services, input: DeltaInput): DeltaRecorded {
  const existing = ledgerOf(services).customers.get(customerKey(input.tenantId, input.environment, input.customerId));
  const balance = existing?.balance ?? 0n;
  const fields = {
    receiptId: `rcpt_${randomBase62(16)}`,
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
    leafHash: leafHash(leafOf(fields, iso(input.at))).toString('hex'),
    confirmAt: input.at + services.config.confirmationMs,
    idempotencyKey: input.idempotencyKey,
    requestHash: input.requestHash,
  };
}

// ---------------------------------------------------------------- handlers

export const ledgerHandlers: Handlers = {
  async recordDelta(ctx) {
    const { key } = callerOf(ctx, 'apiKey');
    const { services } = ctx;
    const body = ctx.body as DeltaBody;
    const delta = readAmounts(ctx, ['delta'] as const).delta!;
    const l = ledgerOf(services);
    const now = services.clock.now();
    const { tenantId, environment } = key;

    // Idempotency first: a retry of a recorded delta must replay, not hit its own referenceId.
    const idempotencyKey = ctx.headers['idempotency-key'];
    let requestHash: string | null = null;
    let scope: string | undefined;
    if (idempotencyKey !== undefined) {
      // The body as understood: exact amounts; member order, whitespace, the notation of the
      // amount and an absent versus empty metadata do not matter.
      requestHash = sha256(canonicalize({ ...body, delta: formatAmount(delta), metadata: body.metadata ?? {} }));
      scope = idempotencyScope(tenantId, environment, idempotencyKey);
      if (inFlightOf(l).has(scope)) throw fail('idempotency_request_in_progress');
      const first = l.idempotency.get(scope);
      const firstReceipt = first && l.receipts.get(first.receiptId);
      if (first && firstReceipt && now - firstReceipt.createdAt < IDEMPOTENCY_TTL_MS) {
        if (first.requestHash !== requestHash) throw fail('idempotency_key_reused');
        return ok(201, recordedView(firstReceipt), { 'Idempotent-Replayed': 'true' });
      }
    }

    const ck = customerKey(tenantId, environment, body.customerId);
    const existing = l.customers.get(ck);
    const referenceId = body.referenceId ?? null;
    const holder = referenceId === null ? undefined : existing?.references.get(referenceId);
    if (holder) {
      throw fail(
        'duplicate_reference',
        `referenceId ${referenceId} is already recorded for customer ${body.customerId} in receipt ${holder}.`,
        { receiptId: holder },
      );
    }

    // Balances stay in the amounts' range, so every balance can be sent back as an amount
    // (to compare, say).
    const balance = existing?.balance ?? 0n;
    if (!inRange(balance + delta)) {
      throw fail(
        'balance_out_of_range',
        `The delta would take the balance of customer ${body.customerId} from ${formatAmount(balance)} to ${formatAmount(balance + delta)}, outside -${MAX_AMOUNT} to ${MAX_AMOUNT}.`,
      );
    }

    const limit = planLimit(services, environment);
    if (limit !== null && verifiedDeltas(services, tenantId, environment, now) >= limit) {
      const { end } = billingPeriod(now);
      throw fail(
        'plan_limit_exceeded',
        `The Free plan includes ${limit} verified deltas a month in the Sandbox; upgrade or wait for the next period.`,
        { limit, periodEnd: iso(end) },
      );
    }

    const event = deltaRecordedEvent(services, {
      tenantId,
      environment,
      customerId: body.customerId,
      delta,
      reason: body.reason,
      referenceId,
      metadata: body.metadata ?? {},
      at: now,
      idempotencyKey: idempotencyKey ?? null,
      requestHash,
    });
    const { type: _type, at: _at, idempotencyKey: _key, requestHash: _hash, ...recorded } = event;
    const { receiptId } = event;
    const receipt: Receipt = { ...recorded, createdAt: now };
    const announced = services.webhooks.announce({ type: 'delta.recorded', tenantId, environment, at: now, data: recordedView(receipt) });

    if (scope) inFlightOf(l).add(scope);
    try {
      const committed = services.store.commit(event, ...announced);
      scheduleConfirmation(services, receiptId, event.confirmAt);
      await committed;
    } finally {
      if (scope) inFlightOf(l).delete(scope);
    }
    if (announced.length) services.webhooks.flush();
    return ok(201, recordedView(l.receipts.get(receiptId) ?? receipt));
  },

  deriveBalance(ctx) {
    const { key } = callerOf(ctx, 'apiKey');
    const customerId = ctx.params.customerId!;
    const c = ledgerOf(ctx.services).customers.get(customerKey(key.tenantId, key.environment, customerId));
    const first = c?.receipts[0];
    const last = c?.receipts[c.receipts.length - 1];
    const checkpoint = c?.checkpoints[c.checkpoints.length - 1];
    const data: DerivedBalance = {
      customerId,
      computedBalance: formatAmount(c?.balance ?? 0n),
      deltaCount: c?.receipts.length ?? 0,
      confirmedCount: c ? confirmedCount(c, ctx.services.clock.now()) : 0,
      firstDeltaAt: first ? iso(first.createdAt) : null,
      lastDeltaAt: last ? iso(last.createdAt) : null,
      lastCheckpoint: checkpoint
        ? { checkpointId: checkpoint.checkpointId, proofRoot: checkpoint.proofRoot, lastSequence: checkpoint.lastSequence, createdAt: iso(checkpoint.createdAt) }
        : null,
    };
    return ok(200, data);
  },

  compareBalances(ctx) {
    const { key } = callerOf(ctx, 'apiKey');
    const body = ctx.body as CompareBody;
    const amounts = readAmounts(ctx, ['yourBalance', 'theirBalance', 'startingBalance'] as const);
    const yours = amounts.yourBalance!;
    const theirs = amounts.theirBalance!;
    const starting = amounts.startingBalance ?? 0n;
    const common = {
      startingBalance: formatAmount(starting),
      yourBalance: formatAmount(yours),
      theirBalance: formatAmount(theirs),
      discrepancy: formatAmount(yours - theirs),
    };
    let report: CompareReport;
    if (body.customerId === undefined) {
      // No ledger reference: the two views are compared with each other.
      report = {
        customerId: null,
        ...common,
        computedBalance: null,
        expectedBalance: null,
        matchesYours: yours === theirs,
        matchesTheirs: yours === theirs,
        yourDiscrepancy: null,
        theirDiscrepancy: null,
      };
    } else {
      const c = ledgerOf(ctx.services).customers.get(customerKey(key.tenantId, key.environment, body.customerId));
      const computed = c?.balance ?? 0n;
      const expected = starting + computed;
      report = {
        customerId: body.customerId,
        ...common,
        computedBalance: formatAmount(computed),
        expectedBalance: formatAmount(expected),
        matchesYours: yours === expected,
        matchesTheirs: theirs === expected,
        yourDiscrepancy: formatAmount(yours - expected),
        theirDiscrepancy: formatAmount(theirs - expected),
      };
    }
    return ok(200, report);
  },

  async createCheckpoint(ctx) {
    const { key } = callerOf(ctx, 'apiKey');
    const { services } = ctx;
    const { customerId } = ctx.body as { customerId: string };
    const l = ledgerOf(services);
    const c = l.customers.get(customerKey(key.tenantId, key.environment, customerId));
    const previous = c?.checkpoints[c.checkpoints.length - 1];
    const firstSequence = (previous?.lastSequence ?? 0) + 1;
    const lastSequence = c?.receipts.length ?? 0;
    if (!c || lastSequence < firstSequence) {
      throw fail('nothing_to_checkpoint', `Customer ${customerId} has no deltas since its last checkpoint.`);
    }
    // The open range has been folded delta by delta: its root is the checkpoint's, in O(log n).
    // (Should it ever not match the sequences covered, the tree is built from the receipts.)
    const tree = c.open.size === lastSequence - firstSequence + 1 ? undefined : treeOf(c, firstSequence, lastSequence);
    const proofRoot = tree ? treeRoot(tree) : rangeRoot(c.open);
    const now = services.clock.now();
    const checkpointId = `chk_${randomBase62(16)}`;
    const event: CheckpointCreated = {
      type: 'checkpoint.created',
      at: now,
      checkpointId,
      tenantId: key.tenantId,
      environment: key.environment,
      customerId,
      proofRoot: proofRoot.toString('hex'),
      previousProofRoot: previous?.proofRoot ?? null,
      firstSequence,
      lastSequence,
      openingBalance: firstSequence === 1 ? formatAmount(0n) : c.receipts[firstSequence - 2]!.balanceAfter,
      closingBalance: c.receipts[lastSequence - 1]!.balanceAfter,
    };
    const { type: _type, at: _at, ...fields } = event;
    const data = checkpointView({ ...fields, createdAt: now });
    const announced = services.webhooks.announce({ type: 'checkpoint.created', tenantId: key.tenantId, environment: key.environment, at: now, data });
    const committed = services.store.commit(event, ...announced);
    // Applied synchronously by commit; the tree for inclusion proofs is built on first need.
    const stored = l.checkpoints.get(checkpointId);
    if (stored && tree) stored.tree = tree;
    await committed;
    if (announced.length) services.webhooks.flush();
    return ok(201, data);
  },

  getReceipt(ctx) {
    return ok(200, receiptView(ctx.services, ownReceipt(ctx)));
  },

  getCheckpoint(ctx) {
    return ok(200, checkpointView(ownCheckpoint(ctx)));
  },

  listCheckpointReceipts(ctx) {
    const cp = ownCheckpoint(ctx);
    const l = ledgerOf(ctx.services);
    const c = l.customers.get(customerKey(cp.tenantId, cp.environment, cp.customerId))!;
    const page = paginate(c.receipts.slice(cp.firstSequence - 1, cp.lastSequence), ctx.query, 100);
    return ok(200, { ...page, items: page.items.map((r) => receiptView(ctx.services, r)) });
  },

  verifyProofRoot(ctx) {
    const proofRoot = ctx.params.proofRoot ?? '';
    // Public, and per environment: the listener's own roots only.
    const cp = ledgerOf(ctx.services).checkpointsByRoot.get(rootKey(ctx.environment, proofRoot));
    if (!cp) throw fail('not_found', 'No checkpoint with this proof root in this environment.');
    return ok(200, { proofRoot: cp.proofRoot, verified: true, checkpoint: checkpointView(cp) });
  },
};
