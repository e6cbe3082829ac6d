// `--no-control`: the /__sandbox/ surface is not served and `Prefer` forcing is off.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestSandbox, type TestSandbox } from '../testing/test-sandbox.ts';

const DERIVE = '/api/v1/balance/derive/customer_001';
let sb: TestSandbox;

beforeAll(async () => {
  sb = await startTestSandbox({ control: false });
});
afterAll(() => sb?.close());

describe('a sandbox started without the control surface', () => {
  it('answers 404 on every /__sandbox/ path, on both listeners', async () => {
    for (const client of [sb.dashboard, sb.sandboxApi]) {
      for (const [method, path] of [
        ['POST', '/__sandbox/reset'],
        ['GET', '/__sandbox/outbox'],
        ['GET', '/__sandbox/clock'],
        ['GET', '/__sandbox/rate-limits'],
      ] as const) {
        const r = await client.request(method, path);
        expect(r.status, `${method} ${path}`).toBe(404);
        expect(r.body.code).toBe('not_found');
        expect(r.headers.get('x-request-id')).toBe(r.body.requestId);
      }
    }
  });

  it('ignores Prefer: the sandbox answers as usual', async () => {
    const headers = { 'X-Api-Key': sb.demo!.apiKey };
    const notFound = await sb.sandboxApi.get(DERIVE, { headers: { ...headers, Prefer: 'code=404' } });
    expect(notFound.status).toBe(200);
    const tooMany = await sb.sandboxApi.get(DERIVE, { headers: { ...headers, Prefer: 'code=429' } });
    expect(tooMany.status).toBe(200);
    const noKey = await sb.sandboxApi.get(DERIVE, { headers: { Prefer: 'code=200' } });
    expect(noKey.status).toBe(401);
  });
});
