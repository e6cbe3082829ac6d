// CSRF on every unsafe cookie-authenticated route (seed 000 "Making Authenticated Requests",
// openapi CsrfHeader; OWASP API8:2023): without `X-Pacspace-CSRF: 1`, or with any other value,
// the answer is 403 csrf_required and nothing changes — judged by reading the state again.
// (Refresh and logout are tried by SESSION-005 and SESSION-004, on their own sessions.)
import { defineCheck } from '../../check.ts';
import { CSRF, type CheckContext } from '../../context.ts';
import { ensure, expectProblem, expectStatus } from '../../lib/assert.ts';
import type { Client, Exchange } from '../../lib/http.ts';
import { sameJson } from '../../lib/json.ts';

/** Values that are not `1`: each refused request is tried without the header and with one of these. */
const WRONG_VALUES = ['0', 'true', '2', 'yes', '11'];

type Attempt = { what: string; send: (headers: Record<string, string>) => Promise<Exchange> };

/** Sends each unsafe request without the header and with a wrong value; every one must be 403 csrf_required. */
async function expectRefused(attempts: Attempt[], onAnswer: (ex: Exchange) => void = () => undefined) {
  for (const [i, a] of attempts.entries()) {
    const wrong = WRONG_VALUES[i % WRONG_VALUES.length]!;
    for (const [label, headers] of [['without X-Pacspace-CSRF', {}], [`with X-Pacspace-CSRF: ${wrong}`, { 'X-Pacspace-CSRF': wrong }]] as const) {
      const res = await a.send(headers);
      onAnswer(res);
      expectProblem(res, 403, 'csrf_required', `${a.what} ${label}`);
    }
  }
}

/** A GET (no CSRF header needed, R-CSRF-003) whose answer must be 200. */
async function read(dash: Client, path: string) {
  const res = await dash.get(path);
  expectStatus(res, 200, `GET ${path} (a safe method needs no CSRF header)`);
  return res;
}

const unchanged = (before: Exchange, after: Exchange, what: string) =>
  ensure(sameJson(before.body?.data, after.body?.data), `a refused request changed ${what}`);

/** Tracks anything a refused create made anyway, so the run still deletes it. */
function trackStray(ctx: CheckContext, dash: Client, kind: 'api key' | 'webhook endpoint', base: string) {
  return (ex: Exchange) => {
    const id = ex.body?.data?.id;
    if (ex.status !== 201 || typeof id !== 'string') return;
    ctx.secrets.add(ex.body.data.secretKey ?? ex.body.data.secret, `the secret of a ${kind} created without CSRF`, ex.id);
    ctx.track(kind, id, undefined, () => dash.delete(`${base}/${id}`, { headers: CSRF }));
  };
}

export const csrfChecks = [
  defineCheck({
    id: 'SESSION-003',
    rule: 'Every unsafe API key and environment route (create, regenerate, toggle, delete, provision) without X-Pacspace-CSRF: 1, or with another value, is 403 csrf_required and changes nothing.',
    source: 'seed 000 Making Authenticated Requests; PRODUCT.md; openapi CsrfHeader; OWASP API8:2023',
    needs: ['dashboard', 'writes'],
    async run(ctx) {
      const dash = await ctx.dashboard();
      const key = await ctx.createKey({ name: 'conformance-csrf', ...(ctx.keyEnvironment ? { environment: ctx.keyEnvironment } : {}) });
      const keyPath = `/dashboard/api-keys/${key.id}`;
      const keysBefore = await read(dash, '/dashboard/api-keys?limit=100');
      const keyBefore = await read(dash, keyPath);
      const envsBefore = await read(dash, '/dashboard/environments');
      await expectRefused(
        [
          { what: 'POST /dashboard/api-keys', send: (headers) => dash.post('/dashboard/api-keys', { headers, json: { name: `conformance-csrf-${ctx.runTag}` } }) },
          { what: `POST ${keyPath}/regenerate`, send: (headers) => dash.post(`${keyPath}/regenerate`, { headers }) },
          { what: `POST ${keyPath}/toggle`, send: (headers) => dash.post(`${keyPath}/toggle`, { headers }) },
          { what: `DELETE ${keyPath}`, send: (headers) => dash.delete(keyPath, { headers }) },
          { what: 'POST /dashboard/contracts/provision', send: (headers) => dash.post('/dashboard/contracts/provision', { headers, json: { environment: 'testnet' } }) },
        ],
        (ex) => {
          trackStray(ctx, dash, 'api key', '/dashboard/api-keys')(ex);
          if (ex.status === 200) ctx.secrets.add(ex.body?.data?.secretKey, 'a key secret regenerated without CSRF', ex.id);
        },
      );
      const keysAfter = await read(dash, '/dashboard/api-keys?limit=100');
      ensure(keysAfter.body?.data?.total === keysBefore.body?.data?.total, 'a refused request changed the number of API keys');
      unchanged(keyBefore, await read(dash, keyPath), `API key ${key.id}`);
      unchanged(envsBefore, await read(dash, '/dashboard/environments'), 'the environments');
      // The key's secret is the one created: a refused regenerate did not replace it.
      if (ctx.keyEnvironment === key.environment) {
        expectStatus(await ctx.api.get('/api/v1/balance/derive/customer_001', { headers: ctx.keyHeaders(key.fullKey) }), 200, 'the key after a refused regenerate, toggle and delete');
      }
      expectStatus(await dash.delete(keyPath, { headers: CSRF }), 200, 'deleting the key with the CSRF header');
    },
  }),
  defineCheck({
    id: 'SESSION-012',
    rule: 'Every unsafe webhook endpoint route (create, update, rotate-secret, test, delete) without X-Pacspace-CSRF: 1, or with another value, is 403 csrf_required and changes nothing.',
    source: 'seed 000 Making Authenticated Requests; openapi CsrfHeader; OWASP API8:2023',
    needs: ['dashboard', 'writes', 'webhooks'],
    async run(ctx) {
      const dash = await ctx.dashboard();
      const receiver = await ctx.receiver();
      const description = `conformance csrf ${ctx.runTag}`;
      const created = await dash.post('/dashboard/webhooks', { headers: CSRF, json: { url: receiver.url, events: ['checkpoint.created'], description, environment: ctx.keyEnvironment ?? 'test' } });
      expectStatus(created, 201, 'creating a webhook endpoint');
      const id = created.body?.data?.id;
      ctx.track('webhook endpoint', id, description, () => dash.delete(`/dashboard/webhooks/${id}`, { headers: CSRF }));
      ctx.secrets.add(created.body?.data?.secret, 'a webhook signing secret', created.id);
      const path = `/dashboard/webhooks/${id}`;
      const listBefore = await read(dash, '/dashboard/webhooks?limit=100');
      const before = await read(dash, path);
      const deliveriesBefore = await read(dash, `${path}/deliveries`);
      await expectRefused(
        [
          { what: 'POST /dashboard/webhooks', send: (headers) => dash.post('/dashboard/webhooks', { headers, json: { url: receiver.url, events: ['checkpoint.created'], description: `${description} stray` } }) },
          { what: `PATCH ${path}`, send: (headers) => dash.patch(path, { headers, json: { description: `${description} changed`, active: false } }) },
          { what: `POST ${path}/rotate-secret`, send: (headers) => dash.post(`${path}/rotate-secret`, { headers, json: { overlapSeconds: 0 } }) },
          { what: `POST ${path}/test`, send: (headers) => dash.post(`${path}/test`, { headers, json: {} }) },
          { what: `DELETE ${path}`, send: (headers) => dash.delete(path, { headers }) },
        ],
        (ex) => {
          trackStray(ctx, dash, 'webhook endpoint', '/dashboard/webhooks')(ex);
          if (ex.status === 200) ctx.secrets.add(ex.body?.data?.secret, 'a webhook secret rotated without CSRF', ex.id);
        },
      );
      const listAfter = await read(dash, '/dashboard/webhooks?limit=100');
      ensure(listAfter.body?.data?.total === listBefore.body?.data?.total, 'a refused request changed the number of webhook endpoints');
      unchanged(before, await read(dash, path), `webhook endpoint ${id}`);
      const deliveriesAfter = await read(dash, `${path}/deliveries`);
      ensure(deliveriesAfter.body?.data?.total === deliveriesBefore.body?.data?.total, 'a refused test event was queued anyway');
      // Deleted now (the cleanup would too, at the end): the run keeps one endpoint of its own at a time.
      expectStatus(await dash.delete(path, { headers: CSRF }), 200, 'deleting the endpoint with the CSRF header');
    },
  }),
];
