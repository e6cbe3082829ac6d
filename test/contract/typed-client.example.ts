// Example code that calls every Balance API operation through openapi-fetch with the
// generated types. typed-client.test.ts compiles it: it must type-check as written, and
// every `@ts-expect-error` line must really be an error (wrong bodies do not compile).
import createClient from 'openapi-fetch';
import type { paths } from '../../generated/openapi.d.ts';

const balance = createClient<paths>({
  baseUrl: 'http://127.0.0.1:4011',
  headers: { 'X-Api-Key': process.env.PACSPACE_API_KEY ?? '' },
});

export async function quickstart(): Promise<string> {
  const emitted = await balance.POST('/api/v1/balance/delta', {
    params: { header: { 'Idempotency-Key': 'txn-quickstart-001' } },
    body: {
      customerId: 'customer_001',
      delta: 100.0,
      reason: 'initial-deposit',
      referenceId: 'txn-quickstart-001',
      metadata: { source: 'quickstart-guide', note: 'First delta!' },
    },
  });
  if (emitted.error) throw new Error(`${emitted.error.code}: ${emitted.error.detail}`);
  const receiptId: string = emitted.data.data.receiptId;
  const status: 'recorded' | 'confirmed' = emitted.data.data.status;

  const derived = await balance.GET('/api/v1/balance/derive/{customerId}', {
    params: { path: { customerId: 'customer_001' } },
  });
  const computedBalance: string | undefined = derived.data?.data.computedBalance;

  const report = await balance.POST('/api/v1/balance/compare', {
    body: { yourBalance: 100.0, theirBalance: '100.00', startingBalance: 0 },
  });
  const matches: boolean | undefined = report.data?.data.matchesYours;

  const checkpoint = await balance.POST('/api/v1/balance/checkpoint', { body: { customerId: 'customer_001' } });
  if (checkpoint.error) throw new Error(checkpoint.error.code);
  const proofRoot: string = checkpoint.data.data.proofRoot;

  const receipt = await balance.GET('/api/v1/receipts/{receiptId}', { params: { path: { receiptId } } });
  const auditPath: string[] | undefined = receipt.data?.data.inclusionProof?.auditPath;

  const period = await balance.GET('/api/v1/checkpoints/{checkpointId}', {
    params: { path: { checkpointId: checkpoint.data.data.checkpointId } },
  });
  const leaves = await balance.GET('/api/v1/checkpoints/{checkpointId}/receipts', {
    params: { path: { checkpointId: checkpoint.data.data.checkpointId }, query: { page: 1, limit: 1000 } },
  });
  const total: number | undefined = leaves.data?.data.total;

  const verified = await balance.GET('/api/v1/verify/{proofRoot}', { params: { path: { proofRoot } } });
  const covered: number | undefined = verified.data?.data.checkpoint.deltaCount;

  return [status, computedBalance, matches, auditPath, period.data?.data.closingBalance, total, covered].join(' ');
}

export async function wrongCallsDoNotCompile(): Promise<void> {
  // @ts-expect-error reason is required
  await balance.POST('/api/v1/balance/delta', { body: { customerId: 'customer_001', delta: '1.00' } });
  // @ts-expect-error an amount is a decimal string or a number, not a boolean
  await balance.POST('/api/v1/balance/delta', { body: { customerId: 'customer_001', delta: true, reason: 'usage' } });
  // @ts-expect-error metadata values are strings
  await balance.POST('/api/v1/balance/delta', { body: { customerId: 'c', delta: 1, reason: 'usage', metadata: { n: 1 } } });
  // @ts-expect-error a customer id is a string
  await balance.POST('/api/v1/balance/checkpoint', { body: { customerId: 1 } });
  // @ts-expect-error compare needs both views
  await balance.POST('/api/v1/balance/compare', { body: { yourBalance: '1.00' } });
  // @ts-expect-error derive needs its path parameter
  await balance.GET('/api/v1/balance/derive/{customerId}', {});
  // @ts-expect-error there is no such operation
  await balance.DELETE('/api/v1/balance/delta', {});
  // @ts-expect-error limit is a number
  await balance.GET('/api/v1/checkpoints/{checkpointId}/receipts', { params: { path: { checkpointId: 'chk_8sJd2Kq9LmZx' }, query: { limit: 'all' } } });
}
