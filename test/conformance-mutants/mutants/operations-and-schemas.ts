// Mutants of the per-operation rows (R-OPS: who may call it; R-OPR: what it answers), generated
// from the contract's operations, so each operation gets one mutant per family: one server that
// lets an unauthorized request through the way real servers do (a remembered key or session,
// a skipped CSRF check, a Bearer token taken for the cookie, a gate on a public route), and one
// whose answer breaks the operation's contract entry (an undocumented success status, a missing
// envelope, a list without its pagination, an error form with an undocumented status).
import { operations, kebab, type Operation } from '../../../conformance/checks/operations/table.ts';
import { rules } from '../../../conformance/rules.ts';
import { answer, defineMutants, header, isOperation, json, problem, withHeaders, type Mutant, type ProxiedRequest, type ProxiedResponse } from '../mutant.ts';

const rowOf = (area: 'OPS' | 'OPR', operationId: string) => {
  const row = rules.find((r) => r.id.startsWith(`R-${area}-`) && r.contract?.operationId === operationId);
  if (!row) throw new Error(`no R-${area} row for ${operationId}`);
  return row.id;
};

const ACCESS = 'pacspace_access';
const cookieValue = (req: ProxiedRequest, name: string) => new RegExp(`(?:^|;\\s*)${name}=([^;]+)`).exec(header(req, 'cookie') ?? '')?.[1];
const ok = (res: ProxiedResponse) => res.status >= 200 && res.status < 300;

/** A mutant that watches every exchange (to remember credentials) and changes only `op`'s. */
function forOperation(
  id: string,
  rule: string,
  description: string,
  op: Operation,
  change: (req: ProxiedRequest, next: (r: ProxiedRequest) => Promise<ProxiedResponse>, memory: Map<string, any>) => Promise<ProxiedResponse>,
): Mutant {
  return {
    id,
    rules: [rule],
    description,
    async exchange(req, next, ctx) {
      const res = isOperation(req, op.operationId) ? await change(req, next, ctx.memory) : await next(req);
      // What a careless server keeps: the last key that could write, the last session that worked.
      const key = header(req, 'x-api-key');
      if (key && ok(res) && isOperation(req, 'recordDelta', 'createCheckpoint')) ctx.memory.set('key', key);
      const cookie = header(req, 'cookie');
      if (cookie && cookieValue(req, ACCESS) && ok(res) && isOperation(req, 'getCurrentUser')) ctx.memory.set('cookie', cookie);
      return res;
    },
  };
}

/** R-OPS: one mutant per operation that lets a request its auth class refuses through. */
function opsMutant(op: Operation, index: number): Mutant {
  const rule = rowOf('OPS', op.operationId);
  const name = kebab(op.operationId);
  switch (op.auth) {
    case 'api key':
      return forOperation(`ops-${name}-falls-back-to-known-key`, rule, `${op.operationId}: a request refused for its key (none, wrong, lacking a permission) is served with the last key that could write.`, op, async (req, next, memory) => {
        const res = await next(req);
        return (res.status === 401 || res.status === 403) && memory.has('key') ? next(withHeaders(req, { 'x-api-key': memory.get('key') })) : res;
      });
    case 'session':
      return index % 2 === 0
        ? forOperation(`ops-${name}-accepts-bearer`, rule, `${op.operationId}: an Authorization: Bearer token is taken as the access cookie.`, op, (req, next) => {
            const bearer = /^Bearer\s+(.+)$/i.exec(header(req, 'authorization') ?? '')?.[1];
            return next(bearer && !cookieValue(req, ACCESS) ? withHeaders(req, { cookie: `${ACCESS}=${bearer}` }) : req);
          })
        : forOperation(`ops-${name}-remembered-session`, rule, `${op.operationId}: a request without a session cookie is served with the last session that worked.`, op, (req, next, memory) =>
            next(!cookieValue(req, ACCESS) && memory.has('cookie') ? withHeaders(req, { cookie: memory.get('cookie') }) : req),
          );
    case 'session + CSRF':
    case 'refresh cookie + CSRF':
      return forOperation(`ops-${name}-csrf-not-enforced`, rule, `${op.operationId}: the X-Pacspace-CSRF check is skipped on this route.`, op, (req, next) =>
        next(header(req, 'x-pacspace-csrf') ? req : withHeaders(req, { 'x-pacspace-csrf': '1' })),
      );
    case 'public':
      if (op.method !== 'GET') {
        // CSRF middleware mounted on every POST of the dashboard, sign-in routes included.
        return forOperation(`ops-${name}-csrf-on-public-route`, rule, `${op.operationId}: the public route demands X-Pacspace-CSRF (403 csrf_required without it).`, op, async (req, next) =>
          header(req, 'x-pacspace-csrf') ? next(req) : problem(403, 'csrf_required', 'The X-Pacspace-CSRF header is required.'),
        );
      }
      if (op.dashboard) {
        return forOperation(`ops-${name}-needs-session`, rule, `${op.operationId}: the public route sits behind the session gate (401 without a session cookie).`, op, async (req, next) =>
          cookieValue(req, ACCESS) ? next(req) : problem(401, 'unauthenticated', 'Log in first.'),
        );
      }
      return forOperation(`ops-${name}-needs-key`, rule, `${op.operationId}: the public route sits behind the API key gate (401 without X-Api-Key).`, op, async (req, next) =>
        header(req, 'x-api-key') ? next(req) : problem(401, 'unauthenticated', 'An API key is required.'),
      );
    default:
      throw new Error(`${op.operationId}: no auth class`);
  }
}

/**
 * R-OPS "a refused request changes nothing": the answer is the right refusal, but the server
 * has already done the work (the check ran after the handler, or in a second pass that reused
 * the last credentials it saw). Only for operations that change something.
 */
function actsThenRefuses(op: Operation): Mutant | undefined {
  const changes = (op.auth === 'api key' && op.method !== 'GET' && op.permissions.some((p) => p.endsWith(':write'))) || op.auth === 'session + CSRF' || op.auth === 'refresh cookie + CSRF';
  // Provisioning is only ever tried on an active environment: done or not, nothing changes.
  if (!changes || op.operationId === 'provisionEnvironment') return undefined;
  return forOperation(`ops-${kebab(op.operationId)}-acts-then-refuses`, rowOf('OPS', op.operationId), `${op.operationId}: a refused request is carried out anyway (with the last credentials the server saw), though the answer is the right refusal.`, op, async (req, next, memory) => {
    const res = await next(req);
    if (res.status !== 401 && res.status !== 403) return res;
    const credentials: Record<string, string> = op.auth === 'api key' ? { 'x-api-key': memory.get('key') } : { 'x-pacspace-csrf': '1', ...(cookieValue(req, ACCESS) || op.auth === 'refresh cookie + CSRF' ? {} : { cookie: memory.get('cookie') }) };
    if (Object.values(credentials).some((v) => v === undefined)) return res;
    await next(withHeaders(req, credentials));
    return res;
  });
}

/** The same JSON answer with another status (and the envelope's statusCode kept in step, as a real server would). */
function restatus(res: ProxiedResponse, status: number): ProxiedResponse {
  const body = json(res);
  if (body && typeof body === 'object' && 'statusCode' in body) body.statusCode = status;
  return body === undefined ? { ...res, status } : answer(status, body, withHeaders(res, { 'content-type': undefined }).headers);
}

/** Error forms (operations whose success a run cannot reach): the documented error turned into an undocumented status. */
const ERROR_FORM_BREAKS: Record<string, { status: number; code: string; how: string }> = {
  register: { status: 403, code: 'account_exists', how: 'an address with an account is refused with 403 (undocumented for register)' },
  verifyEmail: { status: 404, code: 'not_found', how: 'an unknown token is 404 not_found (undocumented for verifyEmail)' },
  resetPassword: { status: 404, code: 'not_found', how: 'an unknown token is 404 not_found (undocumented for resetPassword)' },
};

/** R-OPR: one mutant per operation whose answer breaks its contract entry. */
function oprMutant(op: Operation): Mutant {
  const rule = rowOf('OPR', op.operationId);
  const name = kebab(op.operationId);
  const mutant = (what: string, description: string, change: (res: ProxiedResponse) => ProxiedResponse): Mutant =>
    forOperation(`opr-${name}-${what}`, rule, `${op.operationId}: ${description}`, op, async (req, next) => {
      const res = await next(req);
      return change(res);
    });
  const form = ERROR_FORM_BREAKS[op.operationId];
  if (form) return mutant('undocumented-error-status', form.how, (res) => (res.status >= 400 && res.status !== 429 ? problem(form.status, form.code, 'Refused.', { 'x-request-id': header(res, 'x-request-id') ?? '' }) : res));
  if (op.operationId === 'provisionEnvironment') {
    return mutant('200-when-active', 'provisioning an active environment answers 200 with its status (an "idempotent" server) instead of 409.', (res) =>
      res.status === 409 ? answer(200, { statusCode: 200, data: { status: 'active' } }, { 'x-request-id': header(res, 'x-request-id') ?? '' }) : res,
    );
  }
  if (op.operationId === 'login') {
    return mutant('status-code-envelope', 'the sign-in answer uses the {statusCode, data} envelope of the other operations instead of {success: true, data}.', (res) => {
      const body = json(res);
      if (res.status !== 200 || !body) return res;
      const { success: _s, ...rest } = body;
      return answer(200, { statusCode: 200, ...rest }, withHeaders(res, { 'content-type': undefined }).headers);
    });
  }
  if (op.success === 201) return mutant('200-for-201', `answers 200 instead of the documented 201.`, (res) => (res.status === 201 ? restatus(res, 200) : res));
  if (op.success === 202) return mutant('200-for-202', `answers 200 instead of the documented 202.`, (res) => (res.status === 202 ? restatus(res, 200) : res));
  if (op.method === 'DELETE' || ['logout', 'refreshSession'].includes(op.operationId) || op.method === 'PATCH') {
    return mutant('204-no-content', 'answers 204 with no body instead of the documented 200 and its envelope.', (res) =>
      res.status === 200 ? { status: 204, headers: withHeaders(res, { 'content-type': undefined }).headers, body: Buffer.alloc(0) } : res,
    );
  }
  if (op.method === 'POST' && op.path.includes('{')) return mutant('201-for-200', 'answers 201 (as if it created something) instead of the documented 200.', (res) => (res.status === 200 ? restatus(res, 201) : res));
  const body = (res: ProxiedResponse) => (res.status === 200 ? json(res) : undefined);
  if (op.method === 'GET' && op.parameters.some((p) => p?.name === 'limit')) {
    return mutant('list-without-pagination', 'a list answers its items as a bare array, without page, limit and total.', (res) => {
      const b = body(res);
      return b?.data?.items ? answer(200, { ...b, data: b.data.items }, withHeaders(res, { 'content-type': undefined }).headers) : res;
    });
  }
  return mutant('bare-data', 'answers the resource itself, without the {statusCode, data} envelope.', (res) => {
    const b = body(res);
    return b && 'data' in b ? answer(200, b.data, withHeaders(res, { 'content-type': undefined }).headers) : res;
  });
}

export const operationsAndSchemasMutants = defineMutants([
  ...operations().map((op, i) => opsMutant(op, i)),
  ...operations().flatMap((op) => actsThenRefuses(op) ?? []),
  ...operations().map(oprMutant),
]);
