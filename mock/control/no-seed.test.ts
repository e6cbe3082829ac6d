// POST /__sandbox/reset on a sandbox started without a seed: nothing is re-created.
import { afterAll, beforeAll, expect, it } from 'vitest';
import { startTestSandbox, type TestSandbox } from '../testing/test-sandbox.ts';

let sb: TestSandbox;

beforeAll(async () => {
  sb = await startTestSandbox({ seed: undefined });
});
afterAll(() => sb?.close());

it('resets to an empty sandbox and returns no demo account', async () => {
  expect(sb.demo).toBeUndefined();
  const requested = await sb.dashboard.post('/dashboard/auth/request-access', {
    json: { name: 'Jane Doe', email: 'you@example.com', organization: 'Acme Inc', buyerMode: 'DIRECT_INFERENCE_VENDOR', useCase: 'Record usage before invoices go out.' },
  });
  expect(requested.status).toBe(202);
  expect((await sb.dashboard.get('/__sandbox/outbox')).body.data).toHaveLength(1);

  const r = await sb.dashboard.post('/__sandbox/reset');
  expect(r.status).toBe(200);
  expect(r.body).toEqual({ statusCode: 200, data: { seed: null, demo: null } });
  expect(sb.services.store.state.users.size).toBe(0);
  expect((await sb.dashboard.get('/__sandbox/outbox')).body.data).toEqual([]);
});
