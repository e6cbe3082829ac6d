// Error answers (PRODUCT.md "Errors", RFC 9457; OWASP API8:2023 Security Misconfiguration).
import { defineCheck } from '../../check.ts';
import { ensure, expectProblem } from '../../lib/assert.ts';
import { currentScope, sleep, type Exchange } from '../../lib/http.ts';

const STACK = /(\bat [\w.$<>]+ \(|node_modules|\.(ts|js):\d+:\d+|Traceback|Exception in)/;
const unique = () => `conformance-${Date.now().toString(36)}${Math.random().toString(36).slice(2, 6)}`;

export const errorChecks = [
  defineCheck({
    id: 'ERR-001',
    rule: 'Unknown routes get 404 problem+json with a requestId; no error of the run carries a stack trace.',
    source: 'PRODUCT.md Errors; RFC 9457; OWASP API8:2023',
    needs: [],
    async run(ctx) {
      expectProblem(await ctx.api.get('/api/v1/does-not-exist'), 404, 'not_found');
      const traced = ctx.recorder.exchanges.filter((e: Exchange) => e.status >= 400 && STACK.test(e.text));
      ensure(traced.length === 0, `error bodies with stack traces: ${traced.map((e) => `#${e.id} ${e.path}`).join(', ')}`);
    },
  }),
  defineCheck({
    id: 'ERR-002',
    rule: 'A wrong method on a known path gets 405 with an Allow header listing the methods it supports.',
    source: 'PRODUCT.md Errors; RFC 9110 §15.5.6',
    needs: [],
    async run(ctx) {
      const res = await ctx.api.send('PUT', '/api/v1/balance/delta');
      expectProblem(res, 405, 'method_not_allowed');
      ensure(/\bPOST\b/.test(res.headers.allow ?? ''), `Allow must list POST, got "${res.headers.allow ?? ''}"`);
    },
  }),
  defineCheck({
    id: 'ERR-003',
    rule: 'A body that is not JSON gets 415 unsupported_media_type.',
    source: 'PRODUCT.md Errors',
    needs: ['apiKey'],
    async run(ctx) {
      const res = await ctx.api.post('/api/v1/balance/checkpoint', {
        headers: { ...ctx.keyHeaders(), 'content-type': 'text/plain' },
        raw: JSON.stringify({ customerId: unique() }),
      });
      expectProblem(res, 415, 'unsupported_media_type');
    },
  }),
  defineCheck({
    id: 'ERR-004',
    rule: 'A body over 1 MiB gets 413 payload_too_large.',
    source: 'PRODUCT.md Errors',
    needs: ['apiKey'],
    async run(ctx) {
      const res = await ctx.api.post('/api/v1/balance/checkpoint', {
        headers: ctx.keyHeaders(),
        json: { customerId: unique(), padding: 'x'.repeat(1024 * 1024 + 16) },
      });
      expectProblem(res, 413, 'payload_too_large');
    },
  }),
  defineCheck({
    id: 'ERR-005',
    rule: 'An unparsable JSON body gets 400 invalid_json, and the error does not echo the body.',
    source: 'PRODUCT.md Errors',
    needs: ['apiKey'],
    async run(ctx) {
      const marker = 'conformance-echo-marker';
      const res = await ctx.api.post('/api/v1/balance/delta', {
        headers: { ...ctx.keyHeaders(), 'content-type': 'application/json' },
        raw: `{"customerId": "c", "reason": ${marker}`,
      });
      expectProblem(res, 400, 'invalid_json');
      ensure(!res.text.includes(marker), 'the 400 echoes the unparsable body');
    },
  }),
  defineCheck({
    id: 'ERR-006',
    rule: 'A schema-invalid body gets 422 validation_failed listing the violations, and records nothing.',
    source: 'PRODUCT.md Errors; openapi ValidationFailed',
    needs: ['apiKey', 'writes'],
    async run(ctx) {
      const customer = unique();
      const res = await ctx.api.post('/api/v1/balance/delta', {
        headers: ctx.keyHeaders(),
        json: { customerId: customer, delta: '1.123456789', reason: 'conformance' },
      });
      expectProblem(res, 422, 'validation_failed', 'a delta with 9 decimal places');
      ensure(Array.isArray(res.body.validation) && res.body.validation.length > 0, '422 must list the violations in `validation`');
      const derived = await ctx.api.get(`/api/v1/balance/derive/${customer}`, { headers: ctx.keyHeaders() });
      ensure(derived.body?.data?.deltaCount === 0, 'the rejected delta was recorded');
    },
  }),
  defineCheck({
    id: 'ERR-007',
    rule: 'Past the rate limit the answer is 429 with a parseable Retry-After and RateLimit headers, and a retry after that wait succeeds.',
    source: 'seed 000/002 (429: back off, respect Retry-After); PRODUCT.md Errors',
    needs: ['apiKey', 'rateLimitProbe'],
    async run(ctx) {
      // This check provokes 429 on purpose: its requests are not retried by the HTTP layer.
      const probe = () => ctx.api.get('/api/v1/balance/derive/customer_001', { headers: ctx.keyHeaders(), retry: false });
      let limited: Exchange | undefined;
      // Bursts grow (25, 50, then 100 at once) while no 429 comes, so a slow target whose
      // latency caps the request rate is still pushed past its limit; 2000 requests at most.
      // Never more than 100 at once: a server may refuse more connections per client.
      for (let sent = 0, size = 25; sent < 2_000 && !limited; sent += size, size = Math.min(size * 2, 100, 2_000 - sent)) {
        const burst = await Promise.all(Array.from({ length: size }, probe));
        limited = burst.find((r) => r.status === 429);
      }
      ensure(limited, 'no 429 after 2000 requests: the key is not rate limited');
      expectProblem(limited, 429, 'rate_limited');
      const retryAfter = limited.headers['retry-after'];
      ensure(retryAfter !== undefined && /^\d+$/.test(retryAfter), `Retry-After must be whole seconds, got "${retryAfter ?? '(missing)'}"`);
      for (const h of ['ratelimit-limit', 'ratelimit-remaining', 'ratelimit-reset']) ensure(limited.headers[h] !== undefined, `429 lacks ${h}`);
      const wait = Number(retryAfter);
      ensure(wait <= ctx.scaled(60), `Retry-After ${wait} s is longer than the suite waits (60 s × --timeout-scale)`);
      // The wait the target asked for, not a guess: then exactly one retry, which must succeed.
      await sleep(wait * 1000 + ctx.scaled(250), currentScope().signal);
      const retry = await probe();
      ensure(retry.status === 200, `the retry after Retry-After got ${retry.status}`);
    },
  }),
];
