// Error answers (PRODUCT.md "Errors", RFC 9457; OWASP API8:2023 Security Misconfiguration), the
// documented headers, the problem codes and the schema constraints of request bodies and
// parameters. Every check sends what it needs on both surfaces (Balance API and Dashboard)
// and re-reads the state a refused request could have changed.
import { defineCheck } from '../../check.ts';
import { CSRF, type CheckContext } from '../../context.ts';
import { ensure, expectProblem, expectStatus } from '../../lib/assert.ts';
import { currentScope, sleep, type Exchange } from '../../lib/http.ts';
import { Inconclusive } from '../../lib/outcome.ts';
import { codeChecks } from './codes.ts';
import { headerChecks } from './headers.ts';
import { limitChecks } from './limits.ts';
import { schemaChecks } from './schema.ts';
import { bodyOfSize, concretePath, CONTRACT_PATHS, derived, expectViolation, sendAs, totalOf, unique } from './support.ts';

const STACK = /(\bat [\w.$<>]+ \(|node_modules|\.(ts|js|py|rb|java|go):\d+(:\d+)?|Traceback|Exception in|^\s+at\s)/m;
/** Members a stack or exception would be carried in. */
const TRACE_MEMBERS = ['stack', 'stackTrace', 'trace', 'exception', 'errorStack'];
const MIB = 1024 * 1024;
const PUBLIC_LIMIT = 16 * 1024;
const METHODS = ['PUT', 'PATCH', 'DELETE', 'POST', 'GET'];

/** Operations that take a JSON body and have no path parameter, by surface, with a body that is refused by the schema. */
const BODY_OPERATIONS: Array<{ op: string; path: string }> = [
  { op: 'recordDelta', path: '/api/v1/balance/delta' },
  { op: 'compareBalances', path: '/api/v1/balance/compare' },
  { op: 'createCheckpoint', path: '/api/v1/balance/checkpoint' },
  { op: 'requestAccess', path: '/dashboard/auth/request-access' },
  { op: 'register', path: '/dashboard/auth/register' },
  { op: 'login', path: '/dashboard/auth/login' },
  { op: 'resendVerificationEmail', path: '/dashboard/auth/resend-verification-email' },
  { op: 'requestPasswordReset', path: '/dashboard/auth/request-password-reset' },
  { op: 'resetPassword', path: '/dashboard/auth/reset-password' },
  { op: 'createApiKey', path: '/dashboard/api-keys' },
  { op: 'provisionEnvironment', path: '/dashboard/contracts/provision' },
  { op: 'createWebhookEndpoint', path: '/dashboard/webhooks' },
];
/**
 * The operations with a body and a path id (update, rotate-secret, test of a webhook endpoint),
 * on an endpoint of the run's own (deleted at the end); none without --allow-writes.
 */
async function ownEndpointBodyTargets(ctx: CheckContext, label: string): Promise<Array<[string, string]>> {
  if (!ctx.config.allowWrites) return [];
  const dash = await ctx.dashboard();
  const description = `conformance-${label}-${ctx.runTag}`;
  const created = await dash.post('/dashboard/webhooks', { headers: CSRF, json: { url: 'https://example.com/pacspace-conformance', events: ['environment.activated'], description } });
  expectStatus(created, 201, 'creating a webhook endpoint');
  const id = created.body.data.id;
  ctx.track('webhook endpoint', id, description, () => dash.delete(`/dashboard/webhooks/${id}`, { headers: CSRF }));
  if (typeof created.body.data.secret === 'string') ctx.secrets.add(created.body.data.secret, 'a webhook signing secret', created.id);
  return [['PATCH', `/dashboard/webhooks/${id}`], ['POST', `/dashboard/webhooks/${id}/rotate-secret`], ['POST', `/dashboard/webhooks/${id}/test`]];
}

/** The public account operations: `x-max-body-bytes` 16 KiB in the contract. */
const PUBLIC_BODY_PATHS = new Set(['/dashboard/auth/request-access', '/dashboard/auth/register', '/dashboard/auth/login', '/dashboard/auth/resend-verification-email', '/dashboard/auth/request-password-reset', '/dashboard/auth/reset-password']);

/** What every error of the run must not carry: a stack trace in its text or a member holding one. */
function tracedErrors(exchanges: Exchange[]): string[] {
  return exchanges
    .filter((e) => e.status >= 400 && (STACK.test(e.text) || (e.body && typeof e.body === 'object' && TRACE_MEMBERS.some((m) => m in e.body))))
    .map((e) => `#${e.id} ${e.method} ${e.path} → ${e.status}`);
}

/** Header names in an Allow value, upper-cased. */
const allowList = (value: string | undefined) => (value ?? '').split(',').map((m) => m.trim().toUpperCase()).filter(Boolean);

export const errorChecks = [
  defineCheck({
    id: 'ERR-001',
    rule: 'Unknown routes get 404 problem+json on both surfaces; no error of the run carries a stack trace (in its text or a `stack`-like member).',
    source: 'PRODUCT.md Errors; RFC 9457; OWASP API8:2023',
    needs: ['apiKey', 'dashboard'],
    async run(ctx) {
      const own = [
        await ctx.api.get('/api/v1/does-not-exist', { headers: ctx.keyHeaders() }),
        await ctx.api.get('/api/v1/balance/derive', { headers: ctx.keyHeaders() }),
        await (await ctx.dashboard()).get('/dashboard/does-not-exist'),
        await ctx.api.get(`/api/v1/receipts/${'rcpt_A1b2C3d4E5f6G7h8'}`, { headers: ctx.keyHeaders() }),
        await (await ctx.dashboard()).get('/dashboard/api-keys/key_A1b2C3d4E5f6G7h8'),
      ];
      for (const res of own) expectProblem(res, 404, 'not_found', `${res.method} ${res.path} names nothing`);
      const traced = tracedErrors(ctx.recorder.exchanges);
      ensure(traced.length === 0, `error answers with a stack trace: ${traced.slice(0, 8).join(', ')}`);
    },
  }),
  defineCheck({
    id: 'ERR-002',
    rule: 'Every path of the contract, asked with a method it does not document, answers 405 method_not_allowed with `Allow` and `allowedMethods` listing exactly its documented methods.',
    source: 'PRODUCT.md Errors; RFC 9110 §15.5.6; openapi Problem.allowedMethods',
    needs: ['apiKey', 'dashboard'],
    async run(ctx) {
      const failures: string[] = [];
      for (const [i, { path, methods }] of CONTRACT_PATHS.entries()) {
        // A different undocumented method per path, so every method is tried somewhere.
        const undocumented = METHODS.filter((m) => !methods.includes(m));
        const method = undocumented[i % undocumented.length]!;
        const res = await sendAs(ctx, method, concretePath(path), method === 'GET' || method === 'DELETE' ? {} : { json: {} });
        const where = `${method} ${path}`;
        if (res.status !== 405 || res.body?.code !== 'method_not_allowed') {
          failures.push(`${where} → ${res.status} ${res.body?.code ?? ''}`.trim());
          continue;
        }
        expectProblem(res, 405, 'method_not_allowed', where);
        // A server that answers HEAD wherever it answers GET may list it (RFC 9110 §9.3.2).
        const allow = allowList(res.headers.allow).filter((m) => !(m === 'HEAD' && methods.includes('GET')));
        const same = (list: string[]) => list.length === methods.length && methods.every((m) => list.includes(m));
        if (!same(allow)) failures.push(`${where}: Allow "${res.headers.allow ?? '(missing)'}", documented ${methods.join(', ')}`);
        const allowed = Array.isArray(res.body.allowedMethods) ? res.body.allowedMethods.map((m: unknown) => String(m).toUpperCase()).filter((m: string) => !(m === 'HEAD' && methods.includes('GET'))) : undefined;
        if (!allowed || !same(allowed)) failures.push(`${where}: allowedMethods ${JSON.stringify(res.body.allowedMethods)}, documented ${methods.join(', ')}`);
      }
      ensure(failures.length === 0, `wrong answers to an undocumented method: ${failures.join('; ')}`);
    },
  }),
  defineCheck({
    id: 'ERR-003',
    rule: 'A body that is not application/json gets 415 unsupported_media_type on every operation that takes one (POST and PATCH, with a path id or not: those on an endpoint of the run\'s own, with --allow-writes), on both surfaces, and changes nothing; `application/json; charset=utf-8` is JSON.',
    source: 'PRODUCT.md Errors; openapi UnsupportedMediaType',
    needs: ['apiKey', 'dashboard'],
    async run(ctx) {
      const failures: string[] = [];
      // `{}` is refused by every one of these schemas: a server that parsed it anyway answers 422, not 415.
      // Every operation with a body: POST ones, and (with --allow-writes, on an endpoint of the run's own) PATCH and those with a path id.
      const targets: Array<[string, string]> = [...BODY_OPERATIONS.map(({ path }): [string, string] => ['POST', path]), ...(await ownEndpointBodyTargets(ctx, 'media-type'))];
      for (const [i, [method, path]] of targets.entries()) {
        // text/plain everywhere; a form (what a cross-site HTML form sends) on every fourth operation too.
        for (const type of i % 4 === 0 ? ['text/plain', 'application/x-www-form-urlencoded'] : ['text/plain']) {
          const res = await sendAs(ctx, method, path, { headers: { 'content-type': type }, raw: '{}' });
          if (res.status !== 415 || res.body?.code !== 'unsupported_media_type') failures.push(`${method} ${path} as ${type} → ${res.status} ${res.body?.code ?? ''}`.trim());
          else expectProblem(res, 415, 'unsupported_media_type', `${method} ${path} as ${type}`);
        }
      }
      // A whole, valid delta sent as text/plain: refused, and not recorded.
      const customer = unique();
      const delta = await ctx.api.post('/api/v1/balance/delta', { headers: { ...ctx.keyHeaders(), 'content-type': 'text/plain' }, raw: JSON.stringify({ customerId: customer, delta: '1.00', reason: 'conformance-415' }) });
      if (delta.status !== 415) failures.push(`POST /api/v1/balance/delta with a valid delta as text/plain → ${delta.status}`);
      ensure(failures.length === 0, `bodies that are not JSON were not refused with 415: ${failures.join('; ')}`);
      const after = await derived(ctx, customer);
      ensure(after.deltaCount === 0, 'a delta sent as text/plain was recorded');
      // The media type's parameters do not change it.
      const charset = await ctx.api.post('/api/v1/balance/compare', { headers: { ...ctx.keyHeaders(), 'content-type': 'application/json; charset=utf-8' }, raw: JSON.stringify({ yourBalance: '1.00', theirBalance: '1.00' }) });
      expectStatus(charset, 200, 'a compare sent as application/json; charset=utf-8');
    },
  }),
  defineCheck({
    id: 'ERR-004',
    rule: 'A body over its documented limit gets 413 payload_too_large before it is parsed: 1 MiB on the Balance API and the session operations, 16 KiB (`x-max-body-bytes`) on the public account operations; a body of exactly the limit is read.',
    source: 'PRODUCT.md Errors; openapi PayloadTooLarge; openapi x-max-body-bytes',
    needs: ['apiKey', 'dashboard'],
    async run(ctx) {
      const failures: string[] = [];
      for (const { path } of BODY_OPERATIONS) {
        const limit = PUBLIC_BODY_PATHS.has(path) ? PUBLIC_LIMIT : MIB;
        const res = await sendAs(ctx, 'POST', path, { headers: { 'content-type': 'application/json' }, raw: bodyOfSize({ customerId: unique() }, limit + 1) });
        if (res.status !== 413 || res.body?.code !== 'payload_too_large') failures.push(`POST ${path} with ${limit + 1} bytes → ${res.status} ${res.body?.code ?? ''}`.trim());
        else expectProblem(res, 413, 'payload_too_large', `POST ${path} with ${limit + 1} bytes`);
      }
      ensure(failures.length === 0, `bodies over the limit were not refused with 413: ${failures.join('; ')}`);
      // Exactly at the limit: read and judged by the schema (the padding member is unknown: 422).
      const atLimit: Array<[string, number]> = [
        ['/api/v1/balance/checkpoint', MIB],
        ['/dashboard/auth/request-password-reset', PUBLIC_LIMIT],
      ];
      for (const [path, size] of atLimit) {
        const res = await sendAs(ctx, 'POST', path, { headers: { 'content-type': 'application/json' }, raw: bodyOfSize({}, size) });
        ensure(res.status !== 413, `POST ${path} with exactly ${size} bytes (the limit) was refused with 413`);
        expectViolation(res, undefined, `POST ${path} with exactly ${size} bytes and an unknown member`);
      }
    },
  }),
  defineCheck({
    id: 'ERR-005',
    rule: 'A body that is not JSON or not UTF-8, or that repeats a member name with different values where amounts are read exactly, gets 400 invalid_json on both surfaces, does not echo the body, and changes nothing.',
    source: 'PRODUCT.md Errors; openapi info "Request bodies"; openapi ProblemCode',
    needs: ['apiKey', 'dashboard'],
    async run(ctx) {
      const marker = 'conformance-echo-marker';
      const customer = unique();
      const keysBefore = await totalOf(ctx, '/dashboard/api-keys');
      const bad: Array<[string, string | Buffer, string]> = [
        ['/api/v1/balance/delta', `{"customerId": "${customer}", "delta": "1.00", "reason": ${marker}`, 'a truncated body'],
        ['/api/v1/balance/compare', Buffer.concat([Buffer.from(`{"yourBalance": "1.00", "theirBalance": "1.00", "customerId": "${marker}`), Buffer.from([0xc3, 0x28]), Buffer.from('"}')]), 'a body that is not UTF-8'],
        ['/api/v1/balance/delta', `{"customerId": "${customer}", "delta": "1.00", "delta": "2.00", "reason": "${marker}"}`, 'a repeated member with different values'],
        ['/dashboard/api-keys', `{"name": "${marker}-${ctx.runTag}"`, 'a truncated body'],
        ['/dashboard/auth/login', `{"email": "${marker}@example.com", "password": ${marker}}`, 'a body that is not JSON'],
        ['/dashboard/auth/request-password-reset', Buffer.concat([Buffer.from(`{"email": "${marker}`), Buffer.from([0xff]), Buffer.from('@example.com"}')]), 'a body that is not UTF-8'],
      ];
      for (const [path, raw, what] of bad) {
        const res = await sendAs(ctx, 'POST', path, { headers: { 'content-type': 'application/json' }, raw });
        expectProblem(res, 400, 'invalid_json', `POST ${path} with ${what}`);
        ensure(!res.text.includes(marker), `the 400 for ${what} on POST ${path} echoes the body`);
      }
      ensure((await derived(ctx, customer)).deltaCount === 0, 'a refused, unparsable delta was recorded');
      ensure((await totalOf(ctx, '/dashboard/api-keys')) === keysBefore, 'a refused, unparsable key creation created a key');
    },
  }),
  defineCheck({
    id: 'ERR-006',
    rule: 'A schema-invalid body gets 422 validation_failed listing well-formed violations (the first 20, `violationsOmitted` counting the rest; messages and location segments of at most 200 characters), and records nothing.',
    source: 'PRODUCT.md Errors; openapi ValidationFailed; openapi ValidationViolation',
    needs: ['apiKey', 'writes'],
    async run(ctx) {
      const customer = unique();
      const res = await ctx.api.post('/api/v1/balance/delta', {
        headers: ctx.keyHeaders(),
        json: { customerId: customer, delta: '1.123456789', reason: 'conformance' },
      });
      expectViolation(res, 'delta', 'a delta with 9 decimal places');
      // 25 metadata values of the wrong type, and a member name of 300 characters: more than 20 violations.
      const metadata: Record<string, unknown> = {};
      for (let i = 0; i < 25; i++) metadata[`m${i}`] = i;
      const many = await ctx.api.post('/api/v1/balance/delta', {
        headers: ctx.keyHeaders(),
        json: { customerId: customer, delta: '1.00', reason: 'conformance', metadata, ['n'.repeat(300)]: 'x' },
      });
      expectViolation(many, undefined, 'a delta with more than 20 violations');
      ensure(many.body.validation.length === 20, `more than 20 violations must list exactly the first 20, got ${many.body.validation.length}`);
      ensure(Number.isInteger(many.body.violationsOmitted) && many.body.violationsOmitted >= 5, `violationsOmitted must count the violations beyond 20 (at least 5 here), got ${JSON.stringify(many.body.violationsOmitted)}`);
      for (const v of many.body.validation) {
        ensure(v.message.length <= 200, 'a violation message is longer than 200 characters');
        ensure(v.location.length <= 33 && v.location.every((s: unknown) => typeof s === 'string' && s.length <= 200), 'a violation location has a segment longer than 200 characters or more than 33 segments');
      }
      ensure((await derived(ctx, customer)).deltaCount === 0, 'a rejected delta was recorded');
    },
  }),
  defineCheck({
    id: 'ERR-008',
    rule: 'The body `null` gets 422 (location ["body"], code `type`) on every operation that takes a body, on both surfaces, even where the body is optional (with --allow-writes, on an endpoint of its own), and changes nothing.',
    source: 'openapi info "Request bodies"',
    needs: ['apiKey', 'dashboard'],
    async run(ctx) {
      const keysBefore = await totalOf(ctx, '/dashboard/api-keys');
      const failures: string[] = [];
      const targets: Array<[string, string]> = [...BODY_OPERATIONS.map(({ path }): [string, string] => ['POST', path]), ...(await ownEndpointBodyTargets(ctx, 'null'))];
      for (const [method, path] of targets) {
        const res = await sendAs(ctx, method, path, { headers: { 'content-type': 'application/json' }, raw: 'null' });
        const ok = res.status === 422 && res.body?.code === 'validation_failed' && Array.isArray(res.body.validation) &&
          res.body.validation.some((v: any) => Array.isArray(v?.location) && v.location.length === 1 && v.location[0] === 'body' && v.code === 'type');
        if (!ok) failures.push(`${method} ${path} → ${res.status} ${res.body?.code ?? ''} ${JSON.stringify(res.body?.validation?.map((v: any) => [v.location, v.code]) ?? null)}`);
      }
      ensure(failures.length === 0, `the body null was not refused with 422 at ["body"], code type: ${failures.join('; ')}`);
      ensure((await totalOf(ctx, '/dashboard/api-keys')) === keysBefore, 'a null body created a key');
    },
  }),
  defineCheck({
    id: 'ERR-009',
    rule: 'A string or member name holding a lone UTF-16 surrogate gets 422 with the violation code `i-json` at that string, on both surfaces, and changes nothing.',
    source: 'openapi info "Request bodies"; RFC 7493',
    needs: ['apiKey', 'dashboard'],
    async run(ctx) {
      const customer = unique();
      const keysBefore = await totalOf(ctx, '/dashboard/api-keys');
      const cases: Array<[string, string, string[], string]> = [
        ['/api/v1/balance/delta', `{"customerId":"${customer}","delta":"1.00","reason":"conformance \\ud800"}`, ['body', 'reason'], 'a reason with a lone high surrogate'],
        ['/api/v1/balance/delta', `{"customerId":"${customer}","delta":"1.00","reason":"conformance","metadata":{"a\\udc00":"x"}}`, ['body', 'metadata'], 'a metadata name with a lone low surrogate'],
        ['/dashboard/api-keys', `{"name":"conformance \\udbff ${ctx.runTag}"}`, ['body', 'name'], 'a key name with a lone surrogate'],
      ];
      for (const [path, raw, location, what] of cases) {
        const res = await sendAs(ctx, 'POST', path, { headers: { 'content-type': 'application/json' }, raw });
        expectViolation(res, undefined, what);
        ensure(
          res.body.validation.some((v: any) => v.code === 'i-json' && location.every((s, i) => v.location[i] === s)),
          `${what}: no violation with code i-json at ${JSON.stringify(location)} (got ${JSON.stringify(res.body.validation.map((v: any) => [v.location, v.code]))})`,
        );
      }
      ensure((await derived(ctx, customer)).deltaCount === 0, 'a delta with a lone surrogate was recorded');
      ensure((await totalOf(ctx, '/dashboard/api-keys')) === keysBefore, 'a key named with a lone surrogate was created');
    },
  }),
  defineCheck({
    id: 'ERR-010',
    rule: 'A path parameter that does not percent-decode to UTF-8 gets 422, not 404, on both surfaces.',
    source: 'openapi info "Request bodies"',
    needs: ['apiKey', 'dashboard'],
    async run(ctx) {
      const paths = ['/api/v1/balance/derive/cust%FF', '/api/v1/receipts/rcpt_A1b2C3d4%E0%A4', '/dashboard/api-keys/key_A1b2C3%C3', '/dashboard/webhooks/wh_A1b2C3%FE/deliveries'];
      for (const path of paths) expectViolation(await sendAs(ctx, 'GET', path), undefined, `GET ${path} (a path parameter that does not decode)`);
    },
  }),
  ...codeChecks,
  ...headerChecks,
  ...schemaChecks,
  // Past the plan's allowance no delta is recorded: after every check that records one.
  ...limitChecks,
  defineCheck({
    id: 'ERR-007',
    rule: 'Past the rate limit the answer is 429 rate_limited with Retry-After in whole seconds, the problem\'s `retryAfter` equal to it, and RateLimit headers as non-negative integers; a retry after that wait succeeds.',
    source: 'seed 000/002 (429: back off, respect Retry-After); PRODUCT.md Errors; openapi TooManyRequests',
    needs: ['apiKey', 'rateLimitProbe'],
    async run(ctx) {
      // This check provokes 429 on purpose: the HTTP layer gives its 429s back to it (a 503 + Retry-After it still waits out).
      const probe = () => ctx.api.get('/api/v1/balance/derive/customer_001', { headers: ctx.keyHeaders(), retry: 'unavailable-only' });
      let limited: Exchange | undefined;
      // Bursts grow (25, 50, then 100 at once) while no 429 comes, so a slow target whose
      // latency caps the request rate is still pushed past its limit; 2000 requests at most.
      // Never more than 100 at once: a server may refuse more connections per client.
      // The contract states that keys are limited, not at what rate: only a probe that sends
      // faster than a limit refills can call an unlimited key a fault. A target (or a loaded
      // machine) that answers under 100 requests a second cannot tell: inconclusive, not failed.
      const started = performance.now();
      const tooSlow = (sent: number) => {
        const seconds = (performance.now() - started) / 1000;
        const perSecond = sent / Math.max(seconds, 0.001);
        return perSecond < 100 ? `no 429 after ${sent} requests in ${seconds.toFixed(1)} s (${perSecond.toFixed(0)} a second): too slow to reach a limit that refills faster` : undefined;
      };
      let sent = 0;
      for (let size = 25; sent < 2_000 && !limited; sent += size, size = Math.min(size * 2, 100, 2_000 - sent)) {
        const burst = await Promise.all(Array.from({ length: size }, probe));
        limited = burst.find((r) => r.status === 429);
        const slow = !limited && performance.now() - started > 5_000 ? tooSlow(sent + size) : undefined;
        if (slow) throw new Inconclusive(slow);
      }
      if (!limited) {
        const slow = tooSlow(sent);
        if (slow) throw new Inconclusive(slow);
      }
      ensure(limited, `no 429 after ${sent} requests: the key is not rate limited`);
      expectProblem(limited, 429, 'rate_limited');
      const retryAfter = limited.headers['retry-after'];
      ensure(retryAfter !== undefined && /^\d+$/.test(retryAfter), `Retry-After must be whole seconds, got "${retryAfter ?? '(missing)'}"`);
      for (const h of ['ratelimit-limit', 'ratelimit-remaining', 'ratelimit-reset']) {
        ensure(limited.headers[h] !== undefined && /^\d+$/.test(limited.headers[h]!.trim()), `429 ${h} must be a non-negative integer, got "${limited.headers[h] ?? '(missing)'}"`);
      }
      ensure(limited.body.retryAfter === Number(retryAfter), `the problem's retryAfter (${JSON.stringify(limited.body.retryAfter)}) differs from Retry-After (${retryAfter})`);
      const wait = Number(retryAfter);
      ensure(wait <= ctx.scaled(60), `Retry-After ${wait} s is longer than the suite waits (60 s × --timeout-scale)`);
      // The wait the target asked for, not a guess: then exactly one retry, which must succeed.
      await sleep(wait * 1000 + ctx.scaled(250), currentScope().signal);
      const retry = await probe();
      ensure(retry.status === 200, `the retry after Retry-After got ${retry.status}`);
    },
  }),
];

