// The README's quick start as a TypeScript consumer writes it; the packaging test compiles it with
// `tsc --noEmit` under strict + exactOptionalPropertyTypes, once with `module: nodenext` and once
// with `moduleResolution: bundler`. Each @ts-expect-error must be a real type error (tsc fails on
// an unused one), so the types are proven to say something.
import {
  PacSpace,
  PlanLimitExceededError,
  RateLimitError,
  verifyWebhook,
  type Checkpoint,
  type Receipt,
  type components,
  type paths,
} from '@pacspace-io/sdk';

export async function quickstart(apiKey: string): Promise<string> {
  const pac = new PacSpace({ apiKey });
  const delta: Receipt = await pac.balance.emit('customer_001', 100.0, 'initial-deposit', {
    referenceId: 'txn-quickstart-001',
    metadata: { source: 'quickstart-guide' },
  });
  const { computedBalance } = await pac.balance.derive('customer_001');
  const report = await pac.balance.compare('customer_001', { yours: 100.0, theirs: 100.0 }, { startingBalance: 0 });
  const checkpoint: Checkpoint = await pac.balance.checkpoint('customer_001');
  const { verified } = await pac.verify(checkpoint.proofRoot);
  const ok: true = verified;
  const matches: boolean = report.matchesYours;

  try {
    await pac.balance.emit('cust_123', -1000, 'charge');
  } catch (err) {
    if (err instanceof PlanLimitExceededError) {
      console.log('Plan limit reached - upgrade or wait for next period');
    } else if (err instanceof RateLimitError) {
      const wait: number | undefined = err.retryAfter;
      console.log(`Wait ${wait}s`);
    }
  }

  // @ts-expect-error the customer id is required
  await pac.balance.derive();
  // @ts-expect-error amounts are numbers or decimal strings
  await pac.balance.emit('customer_001', { amount: 1 }, 'x');
  // @ts-expect-error no such option
  new PacSpace({ apiKey, baseURL: 'http://127.0.0.1:4011' });

  const event = await verifyWebhook('{}', { 'x-pacspace-signature': 'v1=00', 'x-pacspace-timestamp': '0' }, 'whsec_x');
  const receiptPath: keyof paths = '/api/v1/receipts/{receiptId}';
  const amount: components['schemas']['Amount'] = '1.5';
  return `${delta.receiptId} ${computedBalance} ${ok} ${matches} ${event.type} ${receiptPath} ${amount}`;
}
