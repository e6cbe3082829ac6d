// `Idempotency-Key` on POST /api/v1/balance/delta: the same key and body within 24 hours is
// the first response again (`Idempotent-Replayed: true`); another body is `409
// idempotency_key_reused`; a first request still being committed is `409
// idempotency_request_in_progress`. Keys are scoped to tenant and environment
// (idempotencyScope). Which key answered with which receipt is the ledger projection's
// `idempotency` record, written by `delta.recorded` events (mock/state/ledger.ts).
import { createHash } from 'node:crypto';
import type { components } from '../../generated/openapi.d.ts';
import { canonicalize } from '../../protocol/canonical-json.ts';
import { formatAmount, type Units } from '../../protocol/decimal.ts';
import { fail } from '../http/problem.ts';
import type { LedgerProjection, Receipt } from '../state/ledger.ts';

type DeltaBody = components['schemas']['DeltaRequest'];

/** How long the first response for an Idempotency-Key is kept (the contract's 24 hours). */
export const IDEMPOTENCY_TTL_MS = 24 * 60 * 60 * 1000;

const sha256 = (text: string) => createHash('sha256').update(text, 'utf8').digest('hex');

/**
 * The request's hash, to tell a replay from a reuse: the body as understood, with exact
 * amounts; member order, whitespace, the notation of the amount and an absent versus empty
 * metadata do not matter.
 */
export function deltaRequestHash(body: DeltaBody, delta: Units): string {
  return sha256(canonicalize({ ...body, delta: formatAmount(delta), metadata: body.metadata ?? {} }));
}

/**
 * Idempotency scopes whose first request has decided (its events are applied) but not yet
 * been answered, per ledger state. This is not sandbox state but the bookkeeping of open
 * requests: it is never journaled (after a restart no request is open) and lasts only while
 * recordDelta awaits its commit. It is keyed by the projection object, so a state replaced by
 * a reset or a rolled-back write starts with no open requests.
 */
const inFlight = new WeakMap<LedgerProjection, Set<string>>();

function inFlightOf(l: LedgerProjection): Set<string> {
  let set = inFlight.get(l);
  if (!set) inFlight.set(l, (set = new Set()));
  return set;
}

/**
 * What an earlier request with this scope decides for one with `requestHash` at `now`: the
 * receipt to replay, or undefined for none (a new request). Throws the 409s: the first request
 * is still in flight, or the key was used with another body.
 */
export function idempotentReplay(l: LedgerProjection, scope: string, requestHash: string, now: number): Receipt | undefined {
  if (inFlightOf(l).has(scope)) throw fail('idempotency_request_in_progress');
  const first = l.idempotency.get(scope);
  const firstReceipt = first && l.receipts.get(first.receiptId);
  if (first && firstReceipt && now - firstReceipt.createdAt < IDEMPOTENCY_TTL_MS) {
    if (first.requestHash !== requestHash) throw fail('idempotency_key_reused');
    return firstReceipt;
  }
  return undefined;
}

/** Runs `work` (the commit of the first request with `scope`, if any) with the scope marked in flight. */
export async function whileInFlight<T>(l: LedgerProjection, scope: string | undefined, work: () => Promise<T>): Promise<T> {
  if (scope) inFlightOf(l).add(scope);
  try {
    return await work();
  } finally {
    if (scope) inFlightOf(l).delete(scope);
  }
}
