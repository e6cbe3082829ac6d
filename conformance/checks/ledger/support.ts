// Helpers shared by the ledger checks: unique customers, recording, reading every place a
// receipt appears, exact decimal formatting as the contract writes amounts, and polling with a
// deadline for what happens asynchronously (confirmation).
import { randomBytes } from 'node:crypto';
import { CSRF, type CheckContext } from '../../context.ts';
import { ensure, expectStatus } from '../../lib/assert.ts';
import { currentScope, sleep, type Exchange } from '../../lib/http.ts';
import { Inconclusive } from '../../lib/outcome.ts';
import type { Delivery } from '../../lib/receiver.ts';
import { units } from '../../lib/proofs.ts';

/** A customer id no earlier run used (the ledger is append-only: every check starts empty). */
export const newCustomer = (name: string) => `conf-${name}-${Date.now().toString(36)}${Math.random().toString(36).slice(2, 8)}`;

/** POST /api/v1/balance/delta with a JSON value, or with raw JSON text (to send numbers exactly as written). */
export function postDelta(ctx: CheckContext, body: Record<string, unknown> | string, headers: Record<string, string> = {}, key?: string) {
  const raw = typeof body === 'string';
  return ctx.api.post('/api/v1/balance/delta', {
    headers: { ...ctx.keyHeaders(key), ...headers, ...(raw ? { 'content-type': 'application/json' } : {}) },
    ...(raw ? { raw: body } : { json: body }),
  });
}

/**
 * postDelta for checks that are not about the plan: every delta counts against the plan's
 * monthly limit, and once it is used up the check cannot decide (inconclusive, not failed).
 * Whether a 402 is right is BILLING-002's to judge.
 */
export async function recordDelta(ctx: CheckContext, body: Record<string, unknown> | string, headers: Record<string, string> = {}, key?: string) {
  const res = await postDelta(ctx, body, headers, key);
  if (res.status === 402 && res.body?.code === 'plan_limit_exceeded') throw new Inconclusive('the plan\'s monthly limit of verified deltas is used up (402 plan_limit_exceeded): this check records deltas');
  return res;
}

export const deriveBalance = (ctx: CheckContext, customerId: string) => ctx.api.get(`/api/v1/balance/derive/${encodeURIComponent(customerId)}`, { headers: ctx.keyHeaders() });
export const getReceipt = (ctx: CheckContext, receiptId: string) => ctx.api.get(`/api/v1/receipts/${receiptId}`, { headers: ctx.keyHeaders() });
export const getCheckpoint = (ctx: CheckContext, checkpointId: string) => ctx.api.get(`/api/v1/checkpoints/${checkpointId}`, { headers: ctx.keyHeaders() });
export const createCheckpoint = (ctx: CheckContext, customerId: string) => ctx.api.post('/api/v1/balance/checkpoint', { headers: ctx.keyHeaders(), json: { customerId } });
export const compareBalances = (ctx: CheckContext, body: unknown) => ctx.api.post('/api/v1/balance/compare', { headers: ctx.keyHeaders(), json: body });
export const listReceipts = (ctx: CheckContext, checkpointId: string, query = '') =>
  ctx.api.get(`/api/v1/checkpoints/${checkpointId}/receipts${query ? `?${query}` : ''}`, { headers: ctx.keyHeaders() });

/** The derived balance of a customer (200 expected). */
export async function derived(ctx: CheckContext, customerId: string) {
  const res = await deriveBalance(ctx, customerId);
  expectStatus(res, 200, `deriving the balance of ${customerId}`);
  return res.body.data;
}

/** An amount as the contract writes it: 2 to 8 fractional digits, trailing zeros past the second removed. */
export function formatUnits(value: bigint): string {
  const negative = value < 0n;
  const abs = negative ? -value : value;
  const trimmed = (abs % 100_000_000n).toString().padStart(8, '0').replace(/0+$/, '').padEnd(2, '0');
  return `${negative && abs !== 0n ? '-' : ''}${abs / 100_000_000n}.${trimmed}`;
}

/** The contract's writing of a decimal text (string or number literal, no exponent). */
export const canonical = (text: string) => formatUnits(units(text));

/** The decimal a response wrote, as units; fails the check (not the run) when it is not one. */
export function amountOf(value: unknown, where: string): bigint {
  ensure(typeof value === 'string' && /^-?(0|[1-9][0-9]*)\.[0-9]{2,8}$/.test(value), `${where} is ${JSON.stringify(value)}, not a decimal string with 2 to 8 fractional digits`);
  return units(value);
}

/**
 * Polls `read` until `done` holds, waiting a little longer each time, for at most `ms`
 * (times --timeout-scale); resolves to the last exchange either way, so the caller judges it.
 */
export async function pollUntil(ctx: CheckContext, read: () => Promise<Exchange>, done: (ex: Exchange) => boolean, ms = 30_000): Promise<Exchange> {
  const deadline = Date.now() + ctx.scaled(ms);
  let wait = 50;
  for (;;) {
    const ex = await read();
    if (done(ex) || Date.now() + wait > deadline) return ex;
    await sleep(wait, currentScope().signal);
    wait = Math.min(wait * 2, 1_000);
  }
}

/** Waits until a receipt is `confirmed` (it must become so "shortly after" recording). */
export async function confirmedReceipt(ctx: CheckContext, receiptId: string, onFirstRead?: (receipt: any) => void) {
  let reads = 0;
  const read = async () => {
    const ex = await getReceipt(ctx, receiptId);
    if (reads++ === 0) onFirstRead?.(ex.body?.data);
    return ex;
  };
  const res = await pollUntil(ctx, read, (ex) => ex.status !== 200 || ex.body?.data?.status === 'confirmed');
  expectStatus(res, 200, `reading receipt ${receiptId}`);
  ensure(res.body.data.status === 'confirmed', `receipt ${receiptId} is still "${res.body.data.status}" ${ctx.scaled(30)} s after it was recorded: a delta becomes confirmed shortly after`);
  return res.body.data;
}

/** The receipt fields fixed at recording: they read the same wherever the receipt appears. */
export const RECORDED_FIELDS = ['receiptId', 'customerId', 'sequence', 'delta', 'balanceAfter', 'reason', 'referenceId', 'metadata', 'leafHash', 'environment', 'createdAt'] as const;

/** Every page of a checkpoint's receipts with `limit`, checking `page`, `limit` and `total` on each page. */
export async function allReceiptPages(ctx: CheckContext, checkpointId: string, limit: number, expectedTotal: number) {
  const pages: any[][] = [];
  const lastPage = Math.max(1, Math.ceil(expectedTotal / limit));
  for (let page = 1; page <= lastPage + 1; page++) {
    const res = await listReceipts(ctx, checkpointId, `page=${page}&limit=${limit}`);
    expectStatus(res, 200, `listing page ${page} of checkpoint ${checkpointId}'s receipts (limit ${limit})`);
    const d = res.body?.data;
    ensure(d && Array.isArray(d.items), `page ${page} (limit ${limit}) has no items array`);
    ensure(d.page === page && d.limit === limit, `page ${page} with limit ${limit} answered page ${d.page} and limit ${d.limit}`);
    ensure(d.total === expectedTotal, `page ${page} (limit ${limit}) says total ${d.total}; the checkpoint covers ${expectedTotal} receipts`);
    const expectedItems = Math.max(0, Math.min(limit, expectedTotal - (page - 1) * limit));
    ensure(d.items.length === expectedItems, `page ${page} with limit ${limit} of ${expectedTotal} receipts holds ${d.items.length} items, not ${expectedItems}`);
    pages.push(d.items);
  }
  return pages;
}

/**
 * A webhook endpoint of this check for some event types, at a tagged URL of the run's receiver
 * so its deliveries are told apart (where the receiver reports the path). `remove` deletes it
 * at once, so later checks never get its deliveries; the run's cleanup deletes it otherwise.
 */
export async function ledgerEndpoint(ctx: CheckContext, label: string, events: string[]) {
  const receiver = await ctx.receiver();
  const dash = await ctx.dashboard();
  const tag = `ledger-${label}-${randomBytes(4).toString('hex')}`;
  const description = `pacspace conformance ${ctx.runTag} ${tag}`;
  const url = `${receiver.url}${receiver.url.includes('?') ? '&' : '?'}hook=${tag}`;
  const created = await dash.post('/dashboard/webhooks', { headers: CSRF, json: { url, events, description, environment: ctx.keyEnvironment ?? 'test' } });
  expectStatus(created, 201, `creating a webhook endpoint for ${events.join(', ')}`);
  const id = created.body?.data?.id;
  const remove = () => dash.delete(`/dashboard/webhooks/${id}`, { headers: CSRF });
  if (typeof id === 'string') ctx.track('webhook endpoint', id, description, remove);
  ctx.secrets.add(created.body?.data?.secret, `the signing secret of the ${label} endpoint`, created.id);
  const atOurs = (d: Delivery) => {
    const path = (d as { path?: string }).path;
    return !path || new URL(path, 'http://receiver.invalid').searchParams.get('hook') === tag;
  };
  /** Deliveries to this endpoint of an event of this type about this receipt. */
  const about = (type: string, receiptId: string) => (d: Delivery) => atOurs(d) && d.body?.type === type && d.body?.data?.receiptId === receiptId;
  return {
    receiver,
    about,
    remove: async () => {
      if (typeof id === 'string') await remove();
    },
    /** After `marker` arrived, waits as long again as it took (deliveries may be late or reordered). */
    settle: (triggeredAt: number, marker: Delivery) => sleep(Math.min(ctx.scaled(5_000), Math.max(ctx.scaled(250), marker.receivedAt - triggeredAt)), currentScope().signal),
  };
}
