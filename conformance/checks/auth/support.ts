// Helpers shared by the auth, key and isolation checks: the reference 401, one read and one
// write per key, and "a refused write recorded nothing".
import { randomBytes } from 'node:crypto';
import { CSRF, type CheckContext } from '../../context.ts';
import { ensure, expectProblem, expectStatus, withoutRequestId } from '../../lib/assert.ts';
import { currentScope, sleep, type Client, type Exchange } from '../../lib/http.ts';
import { sameJson } from '../../lib/json.ts';

export const DERIVE = '/api/v1/balance/derive/customer_001';
export const GRAMMAR = /^pk_(test|live)_([A-Za-z0-9]+)\.sk_(test|live)_([A-Za-z0-9]+)$/;

/** A customer id no run has used: its ledger is empty until this check writes to it. */
export const freshCustomer = (label: string) => `conf-${label}-${randomBytes(5).toString('hex')}`;

const DATE_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}/;
/**
 * A problem body as far as it may tell the cause: without the members that legitimately differ
 * per request (requestId, instance, trace ids, timestamps), which say nothing about the key.
 */
export function comparableProblem(body: any) {
  const rest = withoutRequestId(body);
  if (!rest || typeof rest !== 'object') return rest;
  return Object.fromEntries(Object.entries(rest).filter(([name, value]) => !/trace|span|correlation|timestamp/i.test(name) && !(typeof value === 'string' && DATE_TIME.test(value))));
}

/** Polls `read` until `done` holds, waiting a little longer each time, for at most `ms` (times --timeout-scale); resolves to the last value. */
export async function pollUntil<T>(ctx: CheckContext, read: () => Promise<T>, done: (v: T) => boolean, ms = 10_000): Promise<T> {
  const deadline = Date.now() + ctx.scaled(ms);
  for (let wait = 50; ; wait = Math.min(wait * 2, 1_000)) {
    const value = await read();
    if (done(value) || Date.now() + wait > deadline) return value;
    await sleep(wait, currentScope().signal);
  }
}

/** Reference 401s per run, by base URL, method and path: asked once, so the checks stay within the request budget. */
const references = new WeakMap<CheckContext, Map<string, Promise<unknown>>>();

/** The 401 a malformed key gets from `client` for this request, without its per-request members. */
function reference(ctx: CheckContext, client: Client, method: 'GET' | 'POST', path: string, json?: unknown) {
  let cache = references.get(ctx);
  if (!cache) references.set(ctx, (cache = new Map()));
  const id = `${client.baseUrl} ${method} ${path}`;
  let got = cache.get(id);
  if (!got) {
    got = client.send(method, path, { headers: { 'X-Api-Key': 'not-a-key' }, ...(json === undefined ? {} : { json }) }).then((res) => {
      expectProblem(res, 401, 'unauthenticated', 'a malformed key (the reference 401)');
      return comparableProblem(res.body);
    });
    // A failed reference is not kept: the next check asks again (and reports its own failure).
    got.catch(() => cache!.delete(id));
    cache.set(id, got);
  }
  return got;
}

/** A 401 that must be indistinguishable from the one a malformed key gets for the same request (the cause is not told). */
export async function expectSameUnauthenticated(ctx: CheckContext, res: Exchange, why: string, client: Client = ctx.api) {
  expectProblem(res, 401, 'unauthenticated', why);
  const json = res.requestBody ? JSON.parse(res.requestBody) : undefined;
  const ref = await reference(ctx, client, res.method as 'GET' | 'POST', res.path, json);
  ensure(sameJson(comparableProblem(res.body), ref), `the 401 for ${why} differs from the 401 for a malformed key: the cause must not be told`);
}

/** A read (derive) with `key`. */
export const readWith = (ctx: CheckContext, key: string, customer = 'customer_001', client: Client = ctx.api) =>
  client.get(`/api/v1/balance/derive/${customer}`, { headers: ctx.keyHeaders(key) });

/** A write (record a delta of 1.00) with `key`. */
export const writeWith = (ctx: CheckContext, key: string | undefined, customer: string, client: Client = ctx.api, path = '/api/v1/balance/delta') =>
  client.post(path, { headers: key === undefined ? {} : ctx.keyHeaders(key), json: { customerId: customer, delta: '1.00', reason: 'conformance' } });

/** The customer's ledger, read with the run's --api-key (the same tenant as the keys the run creates). */
export async function deltaCount(ctx: CheckContext, customer: string, key = ctx.config.apiKey!) {
  const res = await readWith(ctx, key, customer);
  expectStatus(res, 200, `deriving ${customer}`);
  return res.body?.data?.deltaCount as number;
}

/** Ensures the refused writes to `customer` recorded nothing. */
export async function expectNothingRecorded(ctx: CheckContext, customer: string, why: string, expected = 0, key?: string) {
  const count = await deltaCount(ctx, customer, key);
  ensure(count === expected, `${why} was refused, yet the ledger of ${customer} has ${count} deltas (expected ${expected})`);
}

/** Every key of the dashboard list, walked page by page with a small `limit` (at most `maxPages`). */
export async function listKeys(dash: Client, limit = 100, maxPages = 20): Promise<{ items: any[]; pages: Exchange[] }> {
  const items: any[] = [];
  const pages: Exchange[] = [];
  for (let page = 1; page <= maxPages; page++) {
    const res = await dash.get(`/dashboard/api-keys?page=${page}&limit=${limit}`);
    expectStatus(res, 200, `listing keys (page ${page})`);
    pages.push(res);
    const got: any[] = res.body?.data?.items ?? [];
    items.push(...got);
    if (got.length < limit || items.length >= (res.body?.data?.total ?? 0)) break;
  }
  return { items, pages };
}

/** GET /dashboard/api-keys/{id}, expecting 200; its `data`. */
export async function readKey(dash: Client, id: string, why: string) {
  const res = await dash.get(`/dashboard/api-keys/${id}`);
  expectStatus(res, 200, why);
  return res.body?.data;
}

export const toggle = (dash: Client, id: string) => dash.post(`/dashboard/api-keys/${id}/toggle`, { headers: CSRF });
export const regenerate = (dash: Client, id: string) => dash.post(`/dashboard/api-keys/${id}/regenerate`, { headers: CSRF });

/** Records a regenerated key's new secret (revealed only in `res`). */
export function recordRegenerated(ctx: CheckContext, res: Exchange) {
  const d = res.body?.data ?? {};
  ctx.secrets.add(d.secretKey, `the regenerated secret of ${d.id}`, res.id);
  ctx.secrets.add(String(d.fullKey ?? '').split('.')[1], `the regenerated secret of ${d.id}`, res.id);
  return d as { id: string; publicKey: string; secretKey: string; fullKey: string };
}
