// Mutants of the error, problem-code, header and schema rows (R-ERR, R-CODE, R-HDR, R-SCH): each
// breaks one rule row in one place (one surface, one operation, one header) the way a buggy
// server would, from the HTTP boundary. The legacy sandbox faults of these areas are here too
// (their old names in the descriptions).
import {
  answer,
  defineMutants,
  header,
  isOperation,
  contractOperations,
  json,
  mapJson,
  operationOf,
  onRequest,
  onResponse,
  problem,
  withHeaders,
  withJson,
  type Mutant,
  type ProxiedRequest,
  type ProxiedResponse,
} from '../mutant.ts';

const MIB = 1024 * 1024;
const pathOf = (req: Pick<ProxiedRequest, 'url'>) => req.url.split('?')[0]!;
const isProblem = (res: ProxiedResponse) => /problem\+json/i.test(header(res, 'content-type') ?? '');
const problemCode = (res: ProxiedResponse): string | undefined => (isProblem(res) ? json(res)?.code : undefined);

/** The same problem answered with another status (the body's `status` follows), as a server with a wrong status table would. */
function restatus(id: string, rules: string[], description: string, operations: string[] | ((req: ProxiedRequest) => boolean), code: string, status: number, newCode = code): Mutant {
  return onResponse(id, rules, description, operations, (res) =>
    problemCode(res) === code ? mapJson({ ...res, status }, (p) => ({ ...p, status, code: newCode, type: `https://docs.pacspace.io/errors/${newCode}` })) : res,
  );
}

/** The request's JSON body passed through `change`; a body that is not JSON goes through as it is. */
function rewriteBody(req: ProxiedRequest, change: (body: any) => any): ProxiedRequest {
  const body = json(req);
  if (body === undefined) return req;
  const changed = change(body);
  return withJson(req, changed === undefined ? body : changed);
}

/** Every string in a JSON value cut to `max` characters (a server that reads an over-long body anyway ends with a smaller one). */
function cutStrings(value: any, max: number): any {
  if (typeof value === 'string') return value.slice(0, max);
  if (Array.isArray(value)) return value.map((v) => cutStrings(v, max));
  if (value && typeof value === 'object') return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, cutStrings(v, max)]));
  return value;
}

/** A body larger than `limit` bytes, read and parsed anyway: forwarded with its strings cut so the real server judges its content. */
const readOverLimit = (limit: number) => (req: ProxiedRequest): ProxiedRequest => {
  if (req.body.length <= limit) return req;
  let parsed: unknown;
  try {
    parsed = JSON.parse(req.body.toString('utf8'));
  } catch {
    return req;
  }
  return withJson(req, cutStrings(parsed, 1000));
};

const legacy: Mutant[] = [
  {
    id: 'hdr-retry-after-missing',
    rules: ['R-HDR-003'],
    description: 'Legacy fault retry-after-missing: a 429 of the Balance API\'s derive answers without Retry-After.',
    async exchange(req, next) {
      const res = await next(req);
      return isOperation(req, 'deriveBalance') && res.status === 429 ? withHeaders(res, { 'retry-after': undefined }) : res;
    },
  },
  onResponse('err-stack-trace-in-errors', ['R-ERR-002'], 'Legacy fault stack-trace-in-errors: the Dashboard\'s 404 problems carry a `stack` member.', (req) => req.url.startsWith('/dashboard/'), (res) =>
    res.status === 404 && isProblem(res)
      ? mapJson(res, (p) => ({ ...p, stack: 'NotFoundError: No route matches\n    at Router.handle (/srv/pacspace/dist/router.js:88:13)\n    at Layer.handle (/srv/pacspace/node_modules/router/lib/layer.js:152:17)' }))
      : res,
  ),
  onResponse('hdr-allow-header-missing', ['R-HDR-006'], 'Legacy fault allow-header-missing: a 405 on /dashboard/webhooks/{id} answers without Allow.', (req) => /^\/dashboard\/webhooks\/[^/]+$/.test(pathOf(req)), (res) =>
    res.status === 405 ? withHeaders(res, { allow: undefined }) : res,
  ),
  onRequest('code-content-type-not-enforced', ['R-CODE-021'], 'Legacy fault content-type-not-enforced: createCheckpoint reads a text/plain body as JSON instead of answering 415.', ['createCheckpoint'], (req) =>
    /^text\/plain/i.test(header(req, 'content-type') ?? '') ? withHeaders(req, { 'content-type': 'application/json' }) : req,
  ),
  onRequest('code-content-type-not-enforced-on-patch', ['R-CODE-021'], 'updateWebhookEndpoint (the one PATCH) reads a text/plain body as JSON instead of answering 415; every POST refuses it.', ['updateWebhookEndpoint'], (req) =>
    /^text\/plain/i.test(header(req, 'content-type') ?? '') ? withHeaders(req, { 'content-type': 'application/json' }) : req,
  ),
  onRequest('code-body-limit-missing', ['R-CODE-020'], 'Legacy fault body-limit-missing: recordDelta reads and parses bodies over 1 MiB instead of answering 413.', ['recordDelta'], readOverLimit(MIB)),
  onResponse('err-invalid-json-echoed', ['R-ERR-004'], 'Legacy fault invalid-json-echoed: the 400 invalid_json of recordDelta quotes the body in its detail.', ['recordDelta'], (res, req) =>
    problemCode(res) === 'invalid_json' ? mapJson(res, (p) => ({ ...p, detail: `Unexpected end of JSON input in: ${req.body.toString('utf8').slice(0, 300)}` })) : res,
  ),
];

const errors: Mutant[] = [
  onResponse('err-problem-as-plain-json', ['R-ERR-001'], 'The 415 answers of the Dashboard are sent as application/json, not application/problem+json.', (req) => req.url.startsWith('/dashboard/'), (res) =>
    res.status === 415 ? withHeaders(res, { 'content-type': 'application/json; charset=utf-8' }) : res,
  ),
  onResponse('err-detail-over-500', ['R-ERR-003'], 'The 422 of createApiKey carries a detail of over 500 characters (every violation spelled out several times).', ['createApiKey'], (res) =>
    problemCode(res) === 'validation_failed' ? mapJson(res, (p) => ({ ...p, detail: `${p.detail} `.repeat(20).slice(0, 620) })) : res,
  ),
  {
    id: 'err-refused-key-still-created',
    rules: ['R-ERR-005'],
    description: 'createApiKey stores the key before validating the rest of the body: a 422 for bad permissions still creates a key with the given name.',
    async exchange(req, next) {
      const res = await next(req);
      if (!isOperation(req, 'createApiKey') || res.status !== 422) return res;
      const body = json(req);
      if (typeof body?.name === 'string' && body.name.length >= 1 && body.name.length <= 100 && 'permissions' in body) {
        await next(withJson(req, { name: body.name }));
      }
      return res;
    },
  },
  onResponse('err-type-differs-by-surface', ['R-ERR-006'], 'The Dashboard\'s 404 problems name another type URI than the Balance API\'s for the same code.', (req) => req.url.startsWith('/dashboard/'), (res) =>
    problemCode(res) === 'not_found' ? mapJson(res, (p) => ({ ...p, type: 'https://docs.pacspace.io/dashboard/errors/resource-not-found' })) : res,
  ),
  onResponse('err-violations-omitted-missing', ['R-ERR-007'], 'The 422 of recordDelta lists the first 20 violations but drops `violationsOmitted`.', ['recordDelta'], (res) =>
    problemCode(res) === 'validation_failed' ? mapJson(res, (p) => { delete p.violationsOmitted; }) : res,
  ),
  onRequest('err-invalid-utf8-accepted', ['R-ERR-008'], 'compareBalances decodes a body that is not UTF-8 leniently (invalid bytes become U+FFFD) instead of answering 400.', ['compareBalances'], (req) => {
    try {
      new TextDecoder('utf-8', { fatal: true }).decode(req.body);
      return req;
    } catch {
      return { ...req, body: Buffer.from(req.body.toString('utf8')) };
    }
  }),
  onRequest('err-null-body-as-empty', ['R-ERR-009'], 'createWebhookEndpoint reads the body null as no body (an empty object).', ['createWebhookEndpoint'], (req) =>
    req.body.toString('utf8').trim() === 'null' ? { ...req, body: Buffer.from('{}') } : req,
  ),
  onRequest('err-null-body-as-none-on-rotate', ['R-ERR-009'], 'rotateWebhookSecret (whose body is optional) reads the body null as no body and rotates the secret.', ['rotateWebhookSecret'], (req) =>
    req.body.toString('utf8').trim() === 'null' ? withHeaders({ ...req, body: Buffer.alloc(0) }, { 'content-type': undefined }) : req,
  ),
  onRequest('err-lone-surrogate-replaced', ['R-ERR-010'], 'createApiKey replaces a lone UTF-16 surrogate with U+FFFD instead of answering 422.', ['createApiKey'], (req) => {
    const text = req.body.toString('utf8');
    const fixed = text.replace(/\\u[dD][89abAB][0-9a-fA-F]{2}(?!\\u[dD][c-fC-F])|(?<!\\u[dD][89abAB][0-9a-fA-F]{2})\\u[dD][c-fC-F][0-9a-fA-F]{2}/g, '\\ufffd');
    return fixed === text ? req : { ...req, body: Buffer.from(fixed) };
  }),
  {
    id: 'err-undecodable-path-404',
    rules: ['R-ERR-011'],
    description: 'A Dashboard path parameter that does not percent-decode is answered 404 not_found instead of 422.',
    async exchange(req, next) {
      if (!req.url.startsWith('/dashboard/')) return next(req);
      try {
        decodeURIComponent(pathOf(req));
        return next(req);
      } catch {
        const res = problem(404, 'not_found', 'No resource was found at this path.');
        return mapJson(withHeaders(res, { 'x-request-id': 'req_mutantUndecodable1' }), (p) => ({ ...p, requestId: 'req_mutantUndecodable1' }));
      }
    },
  },
  onResponse('err-undocumented-status-on-me', ['R-ERR-012'], 'GET /dashboard/auth/me answers 203 (a status its operation does not document).', ['getCurrentUser'], (res) =>
    res.status === 200 ? { ...res, status: 203 } : res,
  ),
];

const codes: Mutant[] = [
  onRequest('code-repeated-member-accepted', ['R-CODE-001'], 'recordDelta reads a body that repeats a member name with different values (the last one wins) instead of answering 400 invalid_json.', ['recordDelta'], (req) => {
    const text = req.body.toString('utf8');
    const names = [...text.matchAll(/"([^"\\]+)"\s*:/g)].map((m) => m[1]);
    if (new Set(names).size === names.length) return req;
    return rewriteBody(req, (b) => b);
  }),
  restatus('code-unknown-reset-token-401', ['R-CODE-002'], 'An unknown reset-password token is answered 401 unauthenticated instead of 400 invalid_token.', ['resetPassword'], 'invalid_token', 401, 'unauthenticated'),
  restatus('code-unauthenticated-403-on-dashboard', ['R-CODE-003'], 'A Dashboard request without a session gets 403 (code unauthenticated) instead of 401.', ['getCurrentUser'], 'unauthenticated', 403),
  restatus('code-invalid-credentials-400', ['R-CODE-004'], 'A failed login is answered 400 (code invalid_credentials) instead of 401.', ['login'], 'invalid_credentials', 400),
  onResponse('code-plan-limit-period-end-missing', ['R-CODE-005'], 'The 402 plan_limit_exceeded of recordDelta carries `limit` but not `periodEnd`.', ['recordDelta'], (res) =>
    problemCode(res) === 'plan_limit_exceeded' ? mapJson(res, (p) => { delete p.periodEnd; }) : res,
  ),
  {
    id: 'code-hashing-busy-without-retry-after',
    rules: ['R-CODE-024'],
    description: 'A server that checks at most 8 login passwords at once refuses the rest with 429 password_hashing_busy but no Retry-After.',
    async exchange(req, next, ctx) {
      if (!isOperation(req, 'login')) return next(req);
      const running = (ctx.memory.get('logins-running') as number | undefined) ?? 0;
      if (running >= 8) {
        const id = `req_mutantBusy${Math.random().toString(36).slice(2, 10).replace(/[^a-z0-9]/g, 'x')}`;
        return mapJson(withHeaders(problem(429, 'password_hashing_busy', 'Too many password checks are in progress.'), { 'x-request-id': id }), (p) => ({ ...p, requestId: id }));
      }
      ctx.memory.set('logins-running', running + 1);
      try {
        return await next(req);
      } finally {
        ctx.memory.set('logins-running', ((ctx.memory.get('logins-running') as number | undefined) ?? 1) - 1);
      }
    },
  },
  restatus('code-insufficient-permission-401', ['R-CODE-006'], 'A key without the permission gets 401 (code insufficient_permission) instead of 403.', (req) => req.url.startsWith('/api/'), 'insufficient_permission', 401),
  restatus('code-csrf-required-400', ['R-CODE-007'], 'A cookie request without the CSRF header gets 400 (code csrf_required) instead of 403.', (req) => req.url.startsWith('/dashboard/'), 'csrf_required', 400),
  restatus('code-unapproved-as-insufficient-permission', ['R-CODE-008'], 'An API key asked for by an account pending approval is refused 403 with code insufficient_permission instead of account_not_approved.', ['createApiKey'], 'account_not_approved', 403, 'insufficient_permission'),
  {
    id: 'code-in-progress-as-reused',
    rules: ['R-CODE-013'],
    description: 'A delta whose Idempotency-Key is still being processed (held 300 ms here) is answered 409 idempotency_key_reused instead of idempotency_request_in_progress.',
    async exchange(req, next, ctx) {
      const key = header(req, 'idempotency-key');
      if (!key || !isOperation(req, 'recordDelta')) return next(req);
      const inFlight = `in-flight:${key}`;
      if (ctx.memory.get(inFlight)) {
        return mapJson(withHeaders(problem(409, 'idempotency_key_reused', 'This Idempotency-Key was used with another request.'), { 'x-request-id': 'req_mutantInFlight001' }), (p) => ({ ...p, requestId: 'req_mutantInFlight001' }));
      }
      ctx.memory.set(inFlight, true);
      try {
        await new Promise((resolve) => setTimeout(resolve, 300));
        return await next(req);
      } finally {
        ctx.memory.delete(inFlight);
      }
    },
  },
  restatus('code-missing-receipt-410', ['R-CODE-010'], 'An unknown receipt is answered 410 gone (code not_found) instead of 404.', ['getReceipt'], 'not_found', 410),
  {
    id: 'code-405-as-404-on-verify',
    rules: ['R-CODE-011'],
    description: 'A wrong method on /api/v1/verify/{proofRoot} is answered 404 not_found instead of 405.',
    async exchange(req, next) {
      const res = await next(req);
      if (res.status !== 405 || !/^\/api\/v1\/verify\/[^/]+$/.test(pathOf(req))) return res;
      return mapJson(withHeaders({ ...res, status: 404 }, { allow: undefined }), (p) => {
        delete p.allowedMethods;
        return { ...p, status: 404, code: 'not_found', type: 'https://docs.pacspace.io/errors/not_found', title: 'Not found' };
      });
    },
  },
  restatus('code-idempotency-reused-422', ['R-CODE-012'], 'An Idempotency-Key reused with another body is answered 422 validation_failed instead of 409.', ['recordDelta'], 'idempotency_key_reused', 422, 'validation_failed'),
  restatus('code-duplicate-reference-422', ['R-CODE-014'], 'A referenceId recorded before is answered 422 (code duplicate_reference) instead of 409.', ['recordDelta'], 'duplicate_reference', 422),
  restatus('code-nothing-to-checkpoint-422', ['R-CODE-015'], 'A checkpoint with no new delta is answered 422 (code nothing_to_checkpoint) instead of 409.', ['createCheckpoint'], 'nothing_to_checkpoint', 422),
  restatus('code-balance-out-of-range-422', ['R-CODE-016'], 'A delta past ±10^15 is answered 422 validation_failed instead of 409 balance_out_of_range.', ['recordDelta'], 'balance_out_of_range', 422, 'validation_failed'),
  restatus('code-live-key-403', ['R-CODE-017'], 'A live key before mainnet is active is answered 403 (code environment_not_active) instead of 409.', ['createApiKey'], 'environment_not_active', 403),
  onResponse('code-reprovision-succeeds', ['R-CODE-018'], 'Provisioning an environment that is already active answers 201 as if it were provisioned again.', ['provisionEnvironment'], (res) =>
    problemCode(res) === 'environment_already_provisioned' ? answer(201, { statusCode: 201, data: { environment: 'testnet', status: 'active' } }, { 'x-request-id': header(res, 'x-request-id') ?? 'req_mutantReprovision' }) : res,
  ),
  restatus('code-account-exists-422', ['R-CODE-019'], 'Registering an address that has an account is answered 422 validation_failed instead of 409 account_exists.', ['register'], 'account_exists', 422, 'validation_failed'),
  onRequest('code-public-body-limit-1mib', ['R-CODE-020'], 'login applies the 1 MiB limit instead of its 16 KiB x-max-body-bytes: bodies between them are read and parsed.', ['login'], (req) =>
    req.body.length <= MIB ? readOverLimit(16 * 1024)(req) : req,
  ),
  restatus('code-validation-400-on-webhooks', ['R-CODE-022'], 'createWebhookEndpoint answers its schema violations 400 (code validation_failed) instead of 422.', ['createWebhookEndpoint'], 'validation_failed', 400),
  onResponse('code-retry-after-member-differs', ['R-CODE-023'], 'The 429 of derive carries a `retryAfter` one second longer than its Retry-After header.', ['deriveBalance'], (res) =>
    res.status === 429 ? mapJson(res, (p) => ({ ...p, retryAfter: Number(header(res, 'retry-after') ?? 0) + 1 })) : res,
  ),
];

/** A well-formed 503 storage_unavailable (with its request id), Retry-After given or not. */
function unavailable(retryAfter: string | undefined, n: number): ProxiedResponse {
  const id = `req_mutant503n${String(n).padStart(8, '0')}`;
  const res = problem(503, 'storage_unavailable', 'The change could not be stored, so nothing was changed; retry after the Retry-After delay.', { 'x-request-id': id, ...(retryAfter === undefined ? {} : { 'retry-after': retryAfter }) });
  return mapJson(res, (p) => ({ ...p, title: 'Storage unavailable', requestId: id }));
}
/** The operations whose 503 the contract documents. */
const documents503 = (req: ProxiedRequest) => {
  const op = operationOf(req);
  return op !== undefined && contractOperations.some((o) => o.operationId === op && '503' in (o.operation.responses ?? {}));
};

const unavailability: Mutant[] = [
  {
    id: 'hdr-503-without-retry-after',
    rules: ['R-HDR-005'],
    description: 'One request in 30 (of operations that document 503) is answered 503 storage_unavailable without Retry-After, and not passed on.',
    async exchange(req, next, ctx) {
      if (!documents503(req)) return next(req);
      const n = ((ctx.memory.get('seen') as number | undefined) ?? 0) + 1;
      ctx.memory.set('seen', n);
      return n % 30 === 0 ? unavailable(undefined, n) : next(req);
    },
  },
  {
    id: 'code-503-after-storing',
    rules: ['R-CODE-025'],
    description: 'Every 4th delta is stored and then answered 503 storage_unavailable with Retry-After: 1, as if nothing had changed.',
    async exchange(req, next, ctx) {
      if (!isOperation(req, 'recordDelta')) return next(req);
      const n = ((ctx.memory.get('deltas') as number | undefined) ?? 0) + 1;
      ctx.memory.set('deltas', n);
      const res = await next(req);
      return n % 4 === 0 && res.status === 201 ? unavailable('1', n) : res;
    },
  },
];

const headers: Mutant[] = [
  onResponse('hdr-request-id-missing-on-405', ['R-HDR-001'], 'The Dashboard\'s 405 answers carry no X-Request-Id.', (req) => req.url.startsWith('/dashboard/'), (res) =>
    res.status === 405 ? withHeaders(res, { 'x-request-id': undefined }) : res,
  ),
  onResponse('hdr-request-id-differs-on-422', ['R-HDR-002'], 'The 422 problems of createCheckpoint carry a requestId other than their X-Request-Id.', ['createCheckpoint'], (res) =>
    problemCode(res) === 'validation_failed' ? mapJson(res, (p) => ({ ...p, requestId: `req_${'Z'.repeat(12)}${Date.now().toString(36)}` })) : res,
  ),
  onResponse('hdr-ratelimit-reset-missing', ['R-HDR-003'], 'The 429 of derive answers without RateLimit-Reset.', ['deriveBalance'], (res) =>
    res.status === 429 ? withHeaders(res, { 'ratelimit-reset': undefined }) : res,
  ),
  {
    id: 'hdr-retry-after-too-short',
    rules: ['R-HDR-004'],
    description: 'derive keeps a key limited three seconds longer than the Retry-After it sends: a retry after the wait is refused again.',
    async exchange(req, next, ctx) {
      if (!isOperation(req, 'deriveBalance')) return next(req);
      const until = ctx.memory.get('limited-until') as number | undefined;
      const last = ctx.memory.get('last-429') as ProxiedResponse | undefined;
      if (until && last && Date.now() < until) return last;
      const res = await next(req);
      if (res.status === 429 && !until) {
        ctx.memory.set('limited-until', Date.now() + Number(header(res, 'retry-after') ?? 1) * 1000 + 3000);
        ctx.memory.set('last-429', res);
      }
      return res;
    },
  },
  onResponse('hdr-allowed-methods-differ', ['R-HDR-006'], 'The 405 of /dashboard/api-keys lists both methods in Allow but only GET in allowedMethods.', (req) => pathOf(req) === '/dashboard/api-keys', (res) =>
    res.status === 405 ? mapJson(res, (p) => ({ ...p, allowedMethods: ['GET'] })) : res,
  ),
  onResponse('hdr-replayed-on-first', ['R-HDR-007'], 'recordDelta sends Idempotent-Replayed: true on the first response for an Idempotency-Key too.', ['recordDelta'], (res, req) =>
    res.status === 201 && header(req, 'idempotency-key') ? withHeaders(res, { 'idempotent-replayed': 'true' }) : res,
  ),
  {
    id: 'hdr-public-half-accepted',
    rules: ['R-HDR-008'],
    description: 'The Balance API accepts the public half of a key alone in X-Api-Key (it looks the key up by its public id).',
    async exchange(req, next, ctx) {
      const key = header(req, 'x-api-key');
      if (req.url.startsWith('/api/') && key) {
        const [publicHalf, secretHalf] = key.split('.');
        if (publicHalf && secretHalf) ctx.memory.set(`full:${publicHalf}`, key);
        else if (publicHalf && ctx.memory.has(`full:${publicHalf}`)) return next(withHeaders(req, { 'x-api-key': ctx.memory.get(`full:${publicHalf}`) }));
      }
      return next(req);
    },
  },
  {
    id: 'hdr-no-rate-limit-on-derive',
    rules: ['R-HDR-009'],
    description: 'derive is not rate limited per key: past the limit it serves the last answer again instead of 429.',
    async exchange(req, next, ctx) {
      const res = await next(req);
      if (!isOperation(req, 'deriveBalance')) return res;
      const cacheKey = `derive:${pathOf(req)}`;
      if (res.status === 200) ctx.memory.set(cacheKey, res);
      if (res.status !== 429) return res;
      // Never limited: the last answer for this customer, or the one a new customer gets.
      const customerId = decodeURIComponent(pathOf(req).split('/').pop()!);
      const empty = { customerId, computedBalance: '0.00', deltaCount: 0, confirmedCount: 0, firstDeltaAt: null, lastDeltaAt: null, lastCheckpoint: null };
      return ctx.memory.get(cacheKey) ?? answer(200, { statusCode: 200, data: empty }, { 'x-request-id': header(res, 'x-request-id') ?? 'req_mutantNoLimit001' });
    },
  },
];

/** Derive's customerId cut to 128 characters, as a server that truncates ids would. */
function truncateDerivedCustomer(req: ProxiedRequest): ProxiedRequest {
  const m = /^\/api\/v1\/balance\/derive\/([^/?]+)/.exec(req.url);
  if (!m || m[1]!.length <= 128) return req;
  return { ...req, url: req.url.replace(m[1]!, m[1]!.slice(0, 128)) };
}

const schemas: Mutant[] = [
  onRequest('sch-customer-id-129-accepted-in-path', ['R-SCH-001'], 'derive cuts a customerId over 128 characters to 128 instead of answering 422.', ['deriveBalance'], truncateDerivedCustomer),
  onRequest('sch-reason-201-accepted', ['R-SCH-002'], 'recordDelta cuts a reason over 200 characters to 200 instead of answering 422.', ['recordDelta'], (req) =>
    rewriteBody(req, (b) => (typeof b?.reason === 'string' && b.reason.length > 200 ? { ...b, reason: b.reason.slice(0, 200) } : b)),
  ),
  onRequest('sch-metadata-21-members-accepted', ['R-SCH-003'], 'recordDelta keeps the first 20 metadata members of a larger object instead of answering 422.', ['recordDelta'], (req) =>
    rewriteBody(req, (b) => (b?.metadata && typeof b.metadata === 'object' && Object.keys(b.metadata).length > 20 ? { ...b, metadata: Object.fromEntries(Object.entries(b.metadata).slice(0, 20)) } : b)),
  ),
  onRequest('sch-unknown-member-ignored-on-delta', ['R-SCH-004'], 'recordDelta ignores members DeltaRequest does not define instead of answering 422.', ['recordDelta'], (req) =>
    rewriteBody(req, (b) => {
      if (!b || typeof b !== 'object' || Array.isArray(b)) return b;
      const known = ['customerId', 'delta', 'reason', 'referenceId', 'metadata'];
      return Object.fromEntries(Object.entries(b).filter(([k]) => known.includes(k)));
    }),
  ),
  onResponse('sch-email-case-sensitive', ['R-SCH-005'], 'register compares emails case-sensitively: the address of an account in another case is registered again.', ['register'], (res, req) => {
    const email = json(req)?.email;
    if (problemCode(res) !== 'account_exists' || typeof email !== 'string' || email === email.toLowerCase()) return res;
    return answer(201, { statusCode: 201, data: { id: 'usr_MutantCaseSensitive1', email, name: json(req)?.name ?? '', emailVerified: false } }, { 'x-request-id': header(res, 'x-request-id') ?? 'req_mutantRegister01' });
  }),
  onResponse('sch-new-password-utf16-units', ['R-SCH-006'], 'reset-password counts a new password\'s length in UTF-16 units: 11 emoji (22 units) pass the length rule.', ['resetPassword'], (res, req) => {
    const password = json(req)?.password;
    if (res.status !== 422 || typeof password !== 'string' || [...password].length >= 12 || password.length < 12) return res;
    return mapJson({ ...problem(400, 'invalid_token', 'The reset token is unknown, expired or already used.'), headers: { ...res.headers } }, (p) => ({ ...p, requestId: header(res, 'x-request-id') }));
  }),
  onResponse('sch-token-31-chars-invalid-token', ['R-SCH-007'], 'verify looks a 31-character token up instead of refusing it: 400 invalid_token instead of 422.', ['verifyEmail'], (res, req) => {
    const token = new URL(req.url, 'http://x').searchParams.get('token') ?? '';
    if (res.status !== 422 || token.length !== 31) return res;
    return mapJson({ ...problem(400, 'invalid_token', 'The verification token is unknown, expired or already used.'), headers: { ...res.headers } }, (p) => ({ ...p, requestId: header(res, 'x-request-id') }));
  }),
  {
    id: 'sch-receipt-id-prefix',
    rules: ['R-SCH-008'],
    description: 'Receipts returned by recordDelta carry ids with the prefix `rct_` instead of `rcpt_`.',
    async exchange(req, next) {
      const res = await next(req);
      return isOperation(req, 'recordDelta') && res.status === 201 ? mapJson(res, (b) => { if (b?.data?.receiptId) b.data.receiptId = b.data.receiptId.replace(/^rcpt_/, 'rct_'); }) : res;
    },
  },
  onResponse('sch-malformed-receipt-id-404', ['R-SCH-009'], 'getReceipt looks a malformed receipt id up: 404 not_found instead of 422.', ['getReceipt'], (res) =>
    problemCode(res) === 'validation_failed' ? mapJson({ ...res, status: 404 }, (p) => { delete p.validation; return { ...p, status: 404, code: 'not_found', type: 'https://docs.pacspace.io/errors/not_found', title: 'Not found' }; }) : res,
  ),
  onRequest('sch-page-0-as-page-1', ['R-SCH-010'], 'listApiKeys reads page=0 as page 1 instead of answering 422.', ['listApiKeys'], (req) => ({ ...req, url: req.url.replace(/([?&])page=0(&|$)/, '$1page=1$2') })),
  onRequest('sch-limit-101-clamped', ['R-SCH-011'], 'listApiKeys clamps limit=101 to 100 instead of answering 422.', ['listApiKeys'], (req) => ({ ...req, url: req.url.replace(/([?&])limit=101(&|$)/, '$1limit=100$2') })),
  onResponse('sch-total-counts-page', ['R-SCH-012'], 'listApiKeys reports as `total` the number of items on the page.', ['listApiKeys'], (res) =>
    res.status === 200 ? mapJson(res, (b) => { if (Array.isArray(b?.data?.items)) b.data.total = b.data.items.length; }) : res,
  ),
  onResponse('sch-keys-oldest-first', ['R-SCH-013'], 'listApiKeys lists each page oldest first.', ['listApiKeys'], (res) =>
    res.status === 200 ? mapJson(res, (b) => { if (Array.isArray(b?.data?.items)) b.data.items.reverse(); }) : res,
  ),
  onResponse('sch-keys-later-pages-oldest-first', ['R-SCH-013'], 'listApiKeys lists page 1 newest first but every later page oldest first.', (req) => isOperation(req, 'listApiKeys') && Number(new URL(req.url, 'http://x').searchParams.get('page') ?? '1') > 1, (res) =>
    res.status === 200 ? mapJson(res, (b) => { if (Array.isArray(b?.data?.items)) b.data.items.reverse(); }) : res,
  ),
  onRequest('sch-deliveries-limit-101-clamped', ['R-SCH-011'], 'listWebhookDeliveries clamps limit=101 to 100 instead of answering 422.', ['listWebhookDeliveries'], (req) => ({ ...req, url: req.url.replace(/([?&])limit=101(&|$)/, '$1limit=100$2') })),
  {
    id: 'sch-webhooks-oldest-first',
    rules: ['R-SCH-013'],
    description: 'listWebhookEndpoints pages through its endpoints oldest first.',
    async exchange(req, next, ctx) {
      const res = await next(req);
      if (!isOperation(req, 'listWebhookEndpoints') || res.status !== 200) return res;
      const q = new URL(req.url, 'http://x').searchParams;
      const page = Number(q.get('page') ?? 1);
      const limit = Number(q.get('limit') ?? 20);
      // The whole list (at most 100 here), in the order the server should not use.
      const all = json(await ctx.forward({ ...req, url: '/dashboard/webhooks?page=1&limit=100' }))?.data?.items;
      if (!Array.isArray(all)) return res;
      const items = [...all].reverse().slice((page - 1) * limit, page * limit);
      return mapJson(res, (b) => { b.data.items = items; });
    },
  },
  onRequest('sch-empty-permissions-default', ['R-SCH-014'], 'createApiKey reads an empty permissions list as "the default permissions" instead of answering 422.', ['createApiKey'], (req) =>
    rewriteBody(req, (b) => {
      if (Array.isArray(b?.permissions) && b.permissions.length === 0) {
        const { permissions: _p, ...rest } = b;
        return rest;
      }
      return b;
    }),
  ),
  onRequest('sch-webhook-description-201-accepted', ['R-SCH-015'], 'createWebhookEndpoint cuts a description over 200 characters to 200 instead of answering 422.', ['createWebhookEndpoint'], (req) =>
    rewriteBody(req, (b) => (typeof b?.description === 'string' && b.description.length > 200 ? { ...b, description: b.description.slice(0, 200) } : b)),
  ),
  onRequest('sch-buyer-mode-lowercase-accepted', ['R-SCH-016'], 'requestAccess upper-cases buyerMode instead of refusing a lower-case one.', ['requestAccess'], (req) =>
    rewriteBody(req, (b) => (typeof b?.buyerMode === 'string' ? { ...b, buyerMode: b.buyerMode.toUpperCase() } : b)),
  ),
  onRequest('sch-provision-env-case-insensitive', ['R-SCH-017'], 'provisionEnvironment reads `environment` case-insensitively (MAINNET provisions mainnet).', ['provisionEnvironment'], (req) =>
    rewriteBody(req, (b) => (typeof b?.environment === 'string' ? { ...b, environment: b.environment.toLowerCase() } : b)),
  ),
  onResponse('sch-created-at-not-rfc3339', ['R-SCH-018'], 'GET /dashboard/auth/me gives createdAt as a locale date string, not an RFC 3339 date-time.', ['getCurrentUser'], (res) =>
    res.status === 200 ? mapJson(res, (b) => { if (b?.data?.createdAt) b.data.createdAt = new Date(b.data.createdAt).toString(); }) : res,
  ),
];

export const errorsAndHeadersMutants = defineMutants([...legacy, ...errors, ...codes, ...headers, ...unavailability, ...schemas]);
