// Balance API authentication (seed 000 "Error Responses", seed 002 "Auth Error Handling",
// PRODUCT.md "Keys"; OWASP API2:2023 Broken Authentication).
import { defineCheck } from '../../check.ts';
import { ensure, expectProblem, expectStatus, withoutRequestId } from '../../lib/assert.ts';
import { sameJson } from '../../lib/json.ts';

const DERIVE = '/api/v1/balance/derive/customer_001';

export const authChecks = [
  defineCheck({
    id: 'AUTH-001',
    rule: 'A Balance API request without X-Api-Key is answered 401 unauthenticated.',
    source: 'seed 000 Error Responses; OWASP API2:2023',
    needs: [],
    async run(ctx) {
      expectProblem(await ctx.api.get(DERIVE), 401, 'unauthenticated');
    },
  }),
  defineCheck({
    id: 'AUTH-002',
    rule: 'Malformed, unknown and wrong-secret keys get 401, with one and the same body whatever the cause.',
    source: 'seed 000 Error Responses; PRODUCT.md Keys; OWASP API2:2023',
    needs: ['apiKey'],
    async run(ctx) {
      const key = ctx.config.apiKey!;
      const env = ctx.keyEnvironment ?? 'test';
      const variants = {
        malformed: 'not-a-key',
        'public half only': key.split('.')[0]!,
        'unknown public id': `pk_${env}_Zz9${'x'.repeat(13)}.sk_${env}_${'y'.repeat(32)}`,
        'wrong secret': `${key.split('.')[0]}.sk_${env}_${'A'.repeat(32)}`,
        'environment parts disagree': key.replace(`.sk_${env}_`, `.sk_${env === 'test' ? 'live' : 'test'}_`),
      };
      const bodies: Array<[string, unknown]> = [];
      for (const [name, value] of Object.entries(variants)) {
        const res = await ctx.api.get(DERIVE, { headers: { 'X-Api-Key': value } });
        expectProblem(res, 401, 'unauthenticated', name);
        bodies.push([name, withoutRequestId(res.body)]);
      }
      const [first, ...rest] = bodies;
      for (const [name, body] of rest) {
        ensure(sameJson(body, first![1]), `the 401 for "${name}" differs from the 401 for "${first![0]}": the cause must not be told`);
      }
    },
  }),
  defineCheck({
    id: 'AUTH-003',
    rule: 'The --api-key authenticates a Balance API read.',
    source: 'seed 000 Making Requests',
    needs: ['apiKey'],
    async run(ctx) {
      expectStatus(await ctx.api.get(DERIVE, { headers: ctx.keyHeaders() }), 200, 'derive with the given key');
    },
  }),
  defineCheck({
    id: 'AUTH-004',
    rule: 'A key sent in the query string instead of X-Api-Key is not accepted.',
    source: 'seed 002 Agent Credential Storage; OWASP API2:2023',
    needs: ['apiKey'],
    async run(ctx) {
      const key = encodeURIComponent(ctx.config.apiKey!);
      for (const name of ['api_key', 'apiKey', 'key', 'X-Api-Key']) {
        expectProblem(await ctx.api.get(`${DERIVE}?${name}=${key}`), 401, 'unauthenticated', `key in ?${name}=`);
      }
    },
  }),
  defineCheck({
    id: 'AUTH-005',
    rule: 'A key of this environment is rejected with 401 at the other environment\'s base URL.',
    source: 'seed 002 Environment Routing; PRODUCT.md Keys',
    needs: ['apiKey', 'otherEnv'],
    async run(ctx) {
      const res = await ctx.other!.get(DERIVE, { headers: ctx.keyHeaders() });
      expectProblem(res, 401, 'unauthenticated', 'a key at the other environment');
      const reference = await ctx.other!.get(DERIVE, { headers: { 'X-Api-Key': 'not-a-key' } });
      ensure(sameJson(withoutRequestId(res.body), withoutRequestId(reference.body)), 'the 401 for a key of the other environment differs from the 401 for a malformed key');
    },
  }),
  defineCheck({
    id: 'AUTH-006',
    rule: 'GET /api/v1/verify/{proofRoot} needs no key: an unknown root is 404, never 401.',
    source: 'seed 002 Public Verification',
    needs: [],
    async run(ctx) {
      expectProblem(await ctx.api.get(`/api/v1/verify/${'0'.repeat(64)}`), 404, 'not_found', 'verify without a key');
    },
  }),
];
