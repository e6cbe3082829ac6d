// What the fuzz test found, pinned one by one (each answered 500 or an undocumented status).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loginDemo } from '../../mock/testing/accounts.ts';
import { startTestSandbox, type TestSandbox } from '../../mock/testing/test-sandbox.ts';
import { createPool } from './http.ts';

let sb: TestSandbox;
let sandboxRaw: ReturnType<typeof createPool>;
let productionRaw: ReturnType<typeof createPool>;
let key: string;

beforeAll(async () => {
  sb = await startTestSandbox({ logLevel: 'silent' });
  key = sb.demo!.apiKey;
  sandboxRaw = createPool(sb.sandboxUrl, 1);
  productionRaw = createPool(sb.productionUrl, 1);
});

afterAll(async () => {
  sandboxRaw?.close();
  productionRaw?.close();
  await sb?.close();
});

describe('fuzz findings', () => {
  it('a Content-Type that is not a media type is a 415 for a body, and ignored without one (was 500)', async () => {
    const delta = await sandboxRaw.send({
      method: 'POST',
      path: '/api/v1/balance/delta',
      headers: { 'x-api-key': key, 'content-type': 'application/' },
      body: JSON.stringify({ customerId: 'c1', delta: '1.00', reason: 'usage' }),
    });
    expect(delta.status).toBe(415);
    expect(delta.body.code).toBe('unsupported_media_type');
    const derive = await sandboxRaw.send({ method: 'GET', path: '/api/v1/balance/derive/c1', headers: { 'x-api-key': key, 'content-type': '/;;' } });
    expect(derive.status).toBe(200);
  });

  it('a path parameter that does not percent-decode is a 422 on that parameter, after authentication (was 404, undocumented)', async () => {
    for (const segment of ['%zz', '%E0%A4%A', '%C3%28']) {
      const res = await sandboxRaw.send({ method: 'GET', path: `/api/v1/balance/derive/${segment}`, headers: { 'x-api-key': key } });
      expect(res.status, segment).toBe(422);
      expect(res.headers['content-type']).toMatch(/^application\/problem\+json/);
      expect(res.body.validation).toEqual([expect.objectContaining({ location: ['path', 'customerId'], severity: 'Error' })]);
      const anonymous = await sandboxRaw.send({ method: 'GET', path: `/api/v1/balance/derive/${segment}` });
      expect(anonymous.status).toBe(401);
    }
    // Not an operation's path at all: still a plain 404.
    expect((await sandboxRaw.send({ method: 'GET', path: '/api/v1/%zz/derive' })).status).toBe(404);
  });

  it('content sent to an operation that takes none is ignored (was a 422 some operations do not document)', async () => {
    await loginDemo(sb);
    const cookie = [...sb.dashboard.jar].map(([k, v]) => `${k}=${v}`).join('; ');
    const me = await productionRaw.send({ method: 'GET', path: '/dashboard/auth/me', headers: { cookie, 'content-type': 'application/json' }, body: '{"a":1}' });
    expect(me.status).toBe(200);
    const derive = await sandboxRaw.send({ method: 'GET', path: '/api/v1/balance/derive/c1', headers: { 'x-api-key': key, 'content-type': 'text/plain' }, body: 'hello' });
    expect(derive.status).toBe(200);
    expect(derive.headers['sl-violations']).toBeUndefined();
  });

  it('an empty page or limit is an absent one (was page 0, a response that broke the contract)', async () => {
    await loginDemo(sb);
    const list = await sb.dashboard.get('/dashboard/api-keys?page=&limit=');
    expect(list.status).toBe(200);
    expect(list.body.data).toMatchObject({ page: 1, limit: 20 });
  });
});
