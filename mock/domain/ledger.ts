// The Balance API and proofs, as HTTP operations (the routes' handlers): record deltas,
// derive, compare, checkpoint, receipts with their inclusion proofs, and the public verify.
// Everything is scoped to the API key's tenant and environment; verify answers for the
// listener's environment. The jobs these handlers use are their own modules:
//   ledger-amounts.ts        amounts read exactly from the body (422s for precision and bounds)
//   ledger-idempotency.ts    Idempotency-Key: replay, reuse, in progress
//   ledger-events.ts         building `delta.recorded` and `checkpoint.created`
//   ledger-views.ts          receipts, checkpoints and derived balances as the contract shows them
//   ledger-confirmations.ts  `delta.confirmed` when its time comes, re-armed after a replay
// State is the ledger projection (mock/state/ledger.ts) and its read caches
// (mock/state/ledger-caches.ts).
//
// Every decision of a write is taken synchronously, before the first await, so concurrent
// requests see each other's events in order (mock/state/store.ts): 200 parallel deltas get
// 200 sequences.
import type { components } from '../../generated/openapi.d.ts';
import { formatAmount, inRange } from '../../protocol/decimal.ts';
import { fail } from '../http/problem.ts';
import type { Services } from '../services.ts';
import { keepCheckpointTree } from '../state/ledger-caches.ts';
import { customerKey, idempotencyScope, rootKey, type Checkpoint, type LedgerProjection, type Receipt } from '../state/ledger.ts';
import { billingPeriod, planLimit, verifiedDeltas } from './billing.ts';
import { callerOf, iso, ok, paginate, type HandlerContext, type Handlers } from './handler.ts';
import { MAX_AMOUNT, readAmounts } from './ledger-amounts.ts';
import { scheduleConfirmation } from './ledger-confirmations.ts';
import { checkpointCreatedEvent, deltaRecordedEvent } from './ledger-events.ts';
import { deltaRequestHash, idempotentReplay, whileInFlight } from './ledger-idempotency.ts';
import { checkpointView, derivedBalanceView, receiptView, recordedView } from './ledger-views.ts';

type DeltaBody = components['schemas']['DeltaRequest'];
type CompareBody = components['schemas']['CompareRequest'];
type CompareReport = components['schemas']['CompareReport'];

const ledgerOf = (services: Services): LedgerProjection => services.store.state.ledger;

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
      requestHash = deltaRequestHash(body, delta);
      scope = idempotencyScope(tenantId, environment, idempotencyKey);
      const replayed = idempotentReplay(l, scope, requestHash, now);
      if (replayed) return ok(201, recordedView(replayed), { 'Idempotent-Replayed': 'true' });
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
    const announced = services.webhooks.announce({ type: 'delta.recorded', tenantId, environment, at: now, data: recordedView(receipt), requestId: ctx.requestId });

    await whileInFlight(l, scope, async () => {
      const committed = services.store.commit(event, ...announced);
      scheduleConfirmation(services, receiptId, event.confirmAt);
      await committed;
    });
    if (announced.length) services.webhooks.flush();
    return ok(201, recordedView(l.receipts.get(receiptId) ?? receipt));
  },

  deriveBalance(ctx) {
    const { key } = callerOf(ctx, 'apiKey');
    const customerId = ctx.params.customerId!;
    const c = ledgerOf(ctx.services).customers.get(customerKey(key.tenantId, key.environment, customerId));
    return ok(200, derivedBalanceView(customerId, c, ctx.services.clock.now()));
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
    const now = services.clock.now();
    const next = checkpointCreatedEvent(c, { tenantId: key.tenantId, environment: key.environment, customerId }, now);
    if (!next) throw fail('nothing_to_checkpoint', `Customer ${customerId} has no deltas since its last checkpoint.`);
    const { event, tree } = next;
    const { type: _type, at: _at, ...fields } = event;
    const data = checkpointView({ ...fields, createdAt: now });
    const announced = services.webhooks.announce({ type: 'checkpoint.created', tenantId: key.tenantId, environment: key.environment, at: now, data, requestId: ctx.requestId });
    const committed = services.store.commit(event, ...announced);
    // Applied synchronously by commit; the tree for inclusion proofs is otherwise built on first need.
    const stored = l.checkpoints.get(event.checkpointId);
    if (stored && tree) keepCheckpointTree(stored, tree);
    await committed;
    if (announced.length) services.webhooks.flush();
    return ok(201, data);
  },

  getReceipt(ctx) {
    return ok(200, receiptView(ledgerOf(ctx.services), ownReceipt(ctx), ctx.services.clock.now()));
  },

  getCheckpoint(ctx) {
    return ok(200, checkpointView(ownCheckpoint(ctx)));
  },

  listCheckpointReceipts(ctx) {
    const cp = ownCheckpoint(ctx);
    const l = ledgerOf(ctx.services);
    const c = l.customers.get(customerKey(cp.tenantId, cp.environment, cp.customerId))!;
    const page = paginate(c.receipts.slice(cp.firstSequence - 1, cp.lastSequence), ctx.query, 100);
    const now = ctx.services.clock.now();
    return ok(200, { ...page, items: page.items.map((r) => receiptView(l, r, now)) });
  },

  verifyProofRoot(ctx) {
    const proofRoot = ctx.params.proofRoot ?? '';
    // Public, and per environment: the listener's own roots only.
    const cp = ledgerOf(ctx.services).checkpointsByRoot.get(rootKey(ctx.environment, proofRoot));
    if (!cp) throw fail('not_found', 'No checkpoint with this proof root in this environment.');
    return ok(200, { proofRoot: cp.proofRoot, verified: true, checkpoint: checkpointView(cp) });
  },
};
