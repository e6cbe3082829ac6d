// Helpers shared by the error, header and schema checks: which client and credentials reach an
// operation, well-formed ids that name nothing, bodies of an exact size, and judging a 422.
import type { CheckContext } from '../../context.ts';
import { CSRF } from '../../context.ts';
import { ensure, expectProblem } from '../../lib/assert.ts';
import type { Client, Exchange } from '../../lib/http.ts';

export const unique = (prefix = 'conformance') => `${prefix}-${Date.now().toString(36)}${Math.random().toString(36).slice(2, 6)}`;

/** The Balance API paths and the Dashboard paths of the contract with their documented methods. */
export const CONTRACT_PATHS: Array<{ path: string; methods: string[] }> = [
  { path: '/api/v1/balance/delta', methods: ['POST'] },
  { path: '/api/v1/balance/derive/{customerId}', methods: ['GET'] },
  { path: '/api/v1/balance/compare', methods: ['POST'] },
  { path: '/api/v1/balance/checkpoint', methods: ['POST'] },
  { path: '/api/v1/receipts/{receiptId}', methods: ['GET'] },
  { path: '/api/v1/checkpoints/{checkpointId}', methods: ['GET'] },
  { path: '/api/v1/checkpoints/{checkpointId}/receipts', methods: ['GET'] },
  { path: '/api/v1/verify/{proofRoot}', methods: ['GET'] },
  { path: '/dashboard/auth/request-access', methods: ['POST'] },
  { path: '/dashboard/auth/register', methods: ['POST'] },
  { path: '/dashboard/auth/login', methods: ['POST'] },
  { path: '/dashboard/auth/verify', methods: ['GET'] },
  { path: '/dashboard/auth/resend-verification-email', methods: ['POST'] },
  { path: '/dashboard/auth/request-password-reset', methods: ['POST'] },
  { path: '/dashboard/auth/reset-password', methods: ['POST'] },
  { path: '/dashboard/auth/refresh', methods: ['POST'] },
  { path: '/dashboard/auth/logout', methods: ['POST'] },
  { path: '/dashboard/auth/me', methods: ['GET'] },
  { path: '/dashboard/api-keys', methods: ['GET', 'POST'] },
  { path: '/dashboard/api-keys/{id}', methods: ['GET', 'DELETE'] },
  { path: '/dashboard/api-keys/{id}/regenerate', methods: ['POST'] },
  { path: '/dashboard/api-keys/{id}/toggle', methods: ['POST'] },
  { path: '/dashboard/environments', methods: ['GET'] },
  { path: '/dashboard/contracts', methods: ['GET'] },
  { path: '/dashboard/contracts/provision', methods: ['POST'] },
  { path: '/dashboard/contracts/{tenantId}/status', methods: ['GET'] },
  { path: '/dashboard/webhooks', methods: ['GET', 'POST'] },
  { path: '/dashboard/webhooks/{id}', methods: ['GET', 'PATCH', 'DELETE'] },
  { path: '/dashboard/webhooks/{id}/rotate-secret', methods: ['POST'] },
  { path: '/dashboard/webhooks/{id}/test', methods: ['POST'] },
  { path: '/dashboard/webhooks/{id}/deliveries', methods: ['GET'] },
  { path: '/dashboard/billing', methods: ['GET'] },
];

const BASE62 = 'A1b2C3d4E5f6G7h8';
/** Well-formed ids (they match their patterns) that name nothing on any target. */
export const NOBODY = {
  customerId: 'conformance-nobody',
  receiptId: `rcpt_${BASE62}`,
  checkpointId: `chk_${BASE62}`,
  proofRoot: '0'.repeat(64),
  keyId: `key_${BASE62}`,
  webhookId: `wh_${BASE62}`,
  tenantId: `tnt_${BASE62}`,
};

/** The template with every path parameter replaced by a well-formed id that names nothing. */
export function concretePath(template: string): string {
  return template
    .replace('{customerId}', NOBODY.customerId)
    .replace('{receiptId}', NOBODY.receiptId)
    .replace('{checkpointId}', NOBODY.checkpointId)
    .replace('{proofRoot}', NOBODY.proofRoot)
    .replace('{tenantId}', NOBODY.tenantId)
    .replace(/^\/dashboard\/api-keys\/\{id\}/, `/dashboard/api-keys/${NOBODY.keyId}`)
    .replace(/^\/dashboard\/webhooks\/\{id\}/, `/dashboard/webhooks/${NOBODY.webhookId}`);
}

export const isBalancePath = (path: string) => path.startsWith('/api/');

/**
 * Sends a request with the credentials its surface takes: the API key on the Balance API,
 * the run's session (and the CSRF header) on the Dashboard. So an answer is never about
 * missing credentials.
 */
export async function sendAs(ctx: CheckContext, method: string, path: string, options: { headers?: Record<string, string>; json?: unknown; raw?: string | Buffer } = {}): Promise<Exchange> {
  if (isBalancePath(path)) return ctx.api.send(method, path, { ...options, headers: { ...ctx.keyHeaders(), ...(options.headers ?? {}) } });
  const dash: Client = await ctx.dashboard();
  return dash.send(method, path, { ...options, headers: { ...CSRF, ...(options.headers ?? {}) } });
}

/** A JSON object body of exactly `bytes` bytes: `members` plus a `padding` string member. */
export function bodyOfSize(members: Record<string, unknown>, bytes: number): string {
  const empty = JSON.stringify({ ...members, padding: '' });
  const fill = bytes - Buffer.byteLength(empty);
  if (fill < 0) throw new Error(`cannot make a ${bytes}-byte body from these members`);
  const body = JSON.stringify({ ...members, padding: 'x'.repeat(fill) });
  return body;
}

/**
 * A 422 validation_failed whose `validation` names `field` (a location segment equal to it), and
 * whose violations are well formed: location, severity, code, and a message of at most 200.
 */
export function expectViolation(ex: Exchange, field: string | undefined, why: string) {
  expectProblem(ex, 422, 'validation_failed', why);
  const list = ex.body.validation;
  ensure(Array.isArray(list) && list.length > 0, `${why}: the 422 must list the violations in \`validation\``);
  for (const v of list) {
    ensure(Array.isArray(v?.location) && typeof v.severity === 'string' && typeof v.code === 'string' && typeof v.message === 'string', `${why}: a violation lacks location, severity, code or message`);
  }
  if (field !== undefined) {
    ensure(
      // Parameter names are matched without case: some validators report them lower-cased.
      list.some((v: any) => v.location.some((s: unknown) => typeof s === 'string' && s.toLowerCase() === field.toLowerCase())),
      `${why}: no violation is located at "${field}" (got ${list.map((v: any) => JSON.stringify(v.location)).join(', ')})`,
    );
  }
}

/** The number of items of a paged dashboard list (its `total`). */
export async function totalOf(ctx: CheckContext, path: string): Promise<number> {
  const dash = await ctx.dashboard();
  const res = await dash.get(`${path}?page=1&limit=1`);
  ensure(res.status === 200 && typeof res.body?.data?.total === 'number', `GET ${path} answered ${res.status} without a total`);
  return res.body.data.total;
}

/** A customer's derived balance and delta count. */
export async function derived(ctx: CheckContext, customerId: string): Promise<{ computedBalance: string; deltaCount: number }> {
  const res = await ctx.api.get(`/api/v1/balance/derive/${encodeURIComponent(customerId)}`, { headers: ctx.keyHeaders() });
  ensure(res.status === 200, `deriving ${customerId} answered ${res.status}`);
  return res.body.data;
}

/** Records one delta and insists on 201. */
export async function record(ctx: CheckContext, body: Record<string, unknown>, headers: Record<string, string> = {}): Promise<Exchange> {
  const res = await ctx.api.post('/api/v1/balance/delta', { headers: { ...ctx.keyHeaders(), ...headers }, json: body });
  ensure(res.status === 201, `recording a delta ${JSON.stringify(Object.keys(body))} answered ${res.status}${res.body?.code ? ` ${res.body.code}` : ''}`);
  return res;
}
