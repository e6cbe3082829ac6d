// R-OPR: what each operation answers. One check per group of contract tags calls every
// operation of its group the way a client would (create → read → change → delete) and judges
// each answer against the operation's own contract entry: the one documented success status,
// its media type, the envelope's required and constant members, the list envelope's `page`,
// `limit`, `total` and `items`, the documented headers (required ones present, all valid), and
// the body schema. It also judges every answer the run recorded for these operations so far
// (their statuses must be documented), and fails when an operation's success was never seen,
// listing which. Operations whose success needs an e-mailed token (or would change the account
// for good) are exercised in a documented error form instead, named in ERROR_FORMS.
import { defineCheck, type Need } from '../../check.ts';
import { CSRF, type CheckContext } from '../../context.ts';
import { CheckFailure, ensure } from '../../lib/assert.ts';
import { createClient, type Client, type Exchange } from '../../lib/http.ts';
import { parseMediaType } from '../../../contract/media-type.ts';
import { fixtures, freshCustomer, noteSecrets, sendOperation } from './requests.ts';
import { envelopeOf, operations, pageSchemaOf, successMediaType, theContract, type Operation, type PathValues } from './table.ts';

/** The check groups, by contract tag; each fails for an operation whose tags no group has. */
export const OPR_GROUPS = [
  { id: 'OPR-001', tags: ['Balance', 'Proofs', 'Verification'], title: 'Balance API and verification' },
  { id: 'OPR-002', tags: ['Dashboard auth'], title: 'Dashboard sign-in and accounts' },
  { id: 'OPR-003', tags: ['API keys'], title: 'API keys' },
  { id: 'OPR-004', tags: ['Webhooks'], title: 'Webhook endpoints' },
  { id: 'OPR-005', tags: ['Environments', 'Billing'], title: 'Environments and billing' },
] as const;

/**
 * Operations no client can drive to success in a run, and the documented answer they are
 * exercised with instead (the request is otherwise valid).
 */
export const ERROR_FORMS: Record<string, { status: number; code: string; why: string }> = {
  register: { status: 409, code: 'account_exists', why: 'success creates an account (no operation deletes one); tried with the --email address' },
  verifyEmail: { status: 400, code: 'invalid_token', why: 'the token is only e-mailed' },
  resetPassword: { status: 400, code: 'invalid_token', why: 'the token is only e-mailed' },
  provisionEnvironment: { status: 409, code: 'environment_already_provisioned', why: 'success provisions an environment for good; tried on an active one' },
};

/** Order within a group: sign in, create, read, change, delete, sign out. */
const PHASE: Record<string, number> = { login: -1, createCheckpoint: 0.5, logout: 4 };
function phaseOf(op: Operation) {
  if (op.operationId in PHASE) return PHASE[op.operationId]!;
  const params = op.path.includes('{');
  if (op.method === 'GET') return 1;
  if (op.method === 'DELETE') return 3;
  return params ? 2 : 0;
}

/** The operation a recorded exchange belongs to. */
function operationOfExchange(ex: Exchange): string | undefined {
  return theContract().operations.find((o) => o.method === ex.method && o.pattern.test(ex.path))?.operation.operationId;
}

/** Why a success answer breaks the operation's contract entry ([] when it does not). */
export function judgeSuccess(op: Operation, ex: Exchange): string[] {
  const problems: string[] = [];
  if (ex.status !== op.success) problems.push(`answered ${ex.status}${ex.body?.code ? ` ${ex.body.code}` : ''}; its documented success status is ${op.success}`);
  const media = successMediaType(op);
  const got = parseMediaType(ex.headers['content-type'])?.essence;
  if (media && got !== parseMediaType(media)?.essence) problems.push(`content type "${ex.headers['content-type'] ?? ''}", documented ${media}`);
  const body = ex.body;
  const envelope = envelopeOf(op);
  if (media) {
    if (!body || typeof body !== 'object' || Array.isArray(body)) problems.push('the body is not the documented JSON envelope object');
    else {
      const missing = envelope.required.filter((k) => !(k in body));
      if (missing.length) problems.push(`the envelope lacks ${missing.join(', ')}`);
      for (const [k, v] of Object.entries(envelope.consts)) if (k in body && body[k] !== v) problems.push(`envelope member ${k} is ${JSON.stringify(body[k])}, documented ${JSON.stringify(v)}`);
    }
  }
  if (pageSchemaOf(op)) {
    // The page and limit asked for, from the request's query (absent: not judged, whatever the default).
    const query = new URL(ex.url).searchParams;
    const asked = (name: string) => (/^\d+$/.test(query.get(name) ?? '') ? Number(query.get(name)) : undefined);
    const page = asked('page');
    const limit = asked('limit');
    const d = body?.data ?? {};
    const items = Array.isArray(d.items) ? d.items : undefined;
    if (!items) problems.push('the list envelope has no items array');
    if (page !== undefined && d.page !== page) problems.push(`page is ${JSON.stringify(d.page)} for page=${page}`);
    if (limit !== undefined && d.limit !== limit) problems.push(`limit is ${JSON.stringify(d.limit)} for limit=${limit}`);
    if (!Number.isInteger(d.total) || d.total < 0) problems.push(`total is ${JSON.stringify(d.total)}`);
    else if (items && Number.isInteger(d.page) && Number.isInteger(d.limit) && d.page >= 1 && d.limit >= 1) {
      const expected = Math.max(0, Math.min(d.limit, d.total - (d.page - 1) * d.limit));
      if (items.length !== expected) problems.push(`page ${d.page} with limit ${d.limit} of ${d.total} item(s) has ${items.length}, not ${expected}`);
    }
  }
  for (const p of theContract().check(ex)) problems.push(p);
  return problems;
}

/** Why an error-form answer is not the documented one ([] when it is). */
function judgeErrorForm(op: Operation, ex: Exchange): string[] {
  const form = ERROR_FORMS[op.operationId]!;
  const problems: string[] = [];
  if (ex.status !== form.status || ex.body?.code !== form.code) problems.push(`answered ${ex.status} ${ex.body?.code ?? ''}; expected ${form.status} ${form.code} (${form.why})`);
  for (const p of theContract().check(ex)) problems.push(p);
  return problems;
}

const credentialsFor = (ctx: CheckContext, op: Operation): Record<string, string> =>
  op.auth === 'api key' ? ctx.keyHeaders() : op.auth === 'session + CSRF' || op.auth === 'refresh cookie + CSRF' ? { ...CSRF } : {};

/** Remembers what a success created (ids for later requests) and registers it for deletion. */
function learn(ctx: CheckContext, op: Operation, ex: Exchange, values: PathValues, client: Client) {
  const d = ex.body?.data;
  if (!d || typeof d !== 'object') return;
  for (const k of ['receiptId', 'checkpointId', 'proofRoot']) if (typeof d[k] === 'string') values[k] = d[k];
  if (op.path.includes('{') || typeof d.id !== 'string') return;
  const segment = op.path.split('/').at(-1)!;
  values[`${segment}/id`] = d.id;
  const remover = operations().find((o) => o.method === 'DELETE' && o.path === `${op.path}/{id}`);
  if (remover) ctx.track(op.operationId, d.id, d.name ?? d.description, () => client.delete(`${op.path}/${d.id}`, { headers: CSRF }));
}

function groupCheck(group: (typeof OPR_GROUPS)[number]) {
  const needs: Need[] = ['apiKey', 'dashboard', 'writes', 'webhooks'];
  return defineCheck({
    id: group.id,
    rule: `Every ${group.title} operation (contract tags ${group.tags.join(', ')}) answers a valid request with its one documented success status, media type, envelope (and list envelope with page, limit, total), documented headers and body schema; every answer of these operations in the run has a documented status; each one's success is seen (or its documented error form, for those needing an e-mailed token).`,
    source: `openapi tags ${group.tags.join(', ')}`,
    needs,
    async run(ctx) {
      const f = await fixtures(ctx);
      const ops = operations().filter((o) => o.tags.some((t) => (group.tags as readonly string[]).includes(t)));
      const names = new Set(ops.map((o) => o.operationId));
      // Answers recorded so far by any check: their statuses must be documented.
      const earlier = ctx.recorder.exchanges.filter((ex) => names.has(operationOfExchange(ex) ?? ''));
      const failures: string[] = [];
      // An operation whose tags no group has is called by no check: every group says so.
      const known = new Set<string>(OPR_GROUPS.flatMap((g) => [...g.tags]));
      const orphans = operations().filter((o) => !o.tags.some((t) => known.has(t)) || !o.success);
      if (orphans.length) failures.push(`operations no check calls (no group has their tags, or no success status is documented): ${orphans.map((o) => `${o.operationId} [${o.tags.join(', ')}]`).join(', ')}`);
      const seen = new Set<string>();
      for (const ex of earlier) {
        const op = ops.find((o) => o.operationId === operationOfExchange(ex))!;
        // A success another check provoked is judged whole (and counts as seen: e.g. ENV-002's provisioning).
        const problems = ex.status === op.success ? judgeSuccess(op, ex) : theContract().check(ex);
        for (const p of problems) failures.push(`#${ex.id} ${op.operationId}: ${p}`);
        if (ex.status === op.success && !problems.length) seen.add(op.operationId);
      }
      // Signing in and out is done on a session of its own: the shared one is kept.
      const client = ops.some((o) => o.operationId === 'logout' || o.auth === 'refresh cookie + CSRF') ? createClient(ctx.recorder, ctx.config.dashboardUrl!) : f.dash;
      const values: PathValues = { customerId: freshCustomer('opr') };
      for (const op of [...ops].sort((a, b) => phaseOf(a) - phaseOf(b))) {
        try {
          const ex = await sendOperation(ctx, f, op, { values, client, headers: credentialsFor(ctx, op) });
          noteSecrets(ctx, ex);
          const problems = ERROR_FORMS[op.operationId] ? judgeErrorForm(op, ex) : judgeSuccess(op, ex);
          if (problems.length) failures.push(...problems.map((p) => `${op.operationId} (${op.method} ${op.path}): ${p}`));
          else seen.add(op.operationId);
          if (ex.status >= 200 && ex.status < 300) learn(ctx, op, ex, values, client);
        } catch (error) {
          if (!(error instanceof CheckFailure)) throw error;
          failures.push(`${op.operationId}: ${error.message}`);
        }
      }
      if (client !== f.dash && client.jar.size) ctx.onCleanup(() => client.post('/dashboard/auth/logout', { headers: CSRF }));
      const unseen = ops.filter((o) => !seen.has(o.operationId)).map((o) => o.operationId);
      if (unseen.length) failures.push(`never answered as documented in this run: ${unseen.join(', ')}`);
      ensure(failures.length === 0, `${failures.length} problem(s):\n${failures.slice(0, 25).join('\n')}`);
    },
  });
}

export const oprChecks = OPR_GROUPS.map(groupCheck);
