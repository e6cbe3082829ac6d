// Compiled by types.test.ts, never run. The quick start's "Using the SDK" code must type-check
// as written, and every line after a `@ts-expect-error` marker must really be a type error:
// wrong arguments to the SDK do not compile.
import {
  PacSpace,
  PacSpaceDashboard,
  PacSpaceError,
  PlanLimitExceededError,
  RateLimitError,
  ValidationError,
  verifyWebhook,
  type CompareReport,
  type DerivedBalance,
  type Receipt,
  type components,
  type operations,
  type paths,
  type webhooks,
} from './index.ts';
import { verifyWebhookSync } from './node.ts';

export async function quickStart(): Promise<string> {
  const pac = new PacSpace({ apiKey: 'pk_test_PUBLIC.SECRET' });

  // Step 3: Emit a delta
  const delta = await pac.balance.emit('customer_001', 100.0, 'initial-deposit', {
    referenceId: 'txn-quickstart-001',
    metadata: { source: 'quickstart-guide' },
  });

  // Step 4: Query the balance
  const { computedBalance } = await pac.balance.derive('customer_001');
  console.log(computedBalance); // 100.00

  // Step 5: Verify agreement
  const report = await pac.balance.compare('customer_001', {
    yours: 100.0,
    theirs: 100.0,
  }, { startingBalance: 0 });
  console.log(report.matchesYours); // true

  // Step 6: Checkpoint
  const checkpoint = await pac.balance.checkpoint('customer_001');
  console.log(checkpoint.proofRoot); // proof root for this period

  try {
    await pac.balance.emit('cust_123', -1000, 'charge');
  } catch (err) {
    if (err instanceof PlanLimitExceededError) {
      console.log('Plan limit reached - upgrade or wait for next period');
    } else if (err instanceof RateLimitError) {
      console.log(`Wait ${err.retryAfter}s`);
    } else if (err instanceof ValidationError) {
      console.log(err.violations.map((v) => v.location.join('.')));
    }
  }

  const receipt: Receipt = await pac.receipts.get(delta.receiptId);
  const auditPath: string[] | undefined = receipt.inclusionProof?.auditPath;
  const derived: DerivedBalance = await pac.balance.derive('customer_001');
  const twoViews: CompareReport = await pac.balance.compare(null, { yours: '1.00', theirs: 1 });
  for await (const leaf of pac.checkpoints.allReceipts(checkpoint.checkpointId)) console.log(leaf.leafHash);
  const verified: true = (await pac.verify(checkpoint.proofRoot)).verified;
  return [delta.status, computedBalance, auditPath, derived.deltaCount, twoViews.discrepancy, verified].join(' ');
}

export async function dashboardAndWebhooks(rawBody: string, headers: Record<string, string>): Promise<string> {
  const dashboard = new PacSpaceDashboard();
  await dashboard.auth.login('you@example.com', 'your-secure-password');
  const key = await dashboard.apiKeys.create({ name: 'quickstart-key' });
  const live = await dashboard.apiKeys.create({ name: 'billing', environment: 'live', permissions: ['balance:read'] });
  const endpoint = await dashboard.webhooks.create({ url: 'https://api.example.com/webhooks/pacspace', events: ['delta.confirmed'] });
  const event = await verifyWebhook(rawBody, headers, [endpoint.secret, 'whsec_previous']);
  let about = '';
  if (event.type === 'checkpoint.created') about = event.data.proofRoot;
  if (event.type === 'delta.confirmed') about = event.data.receiptId;
  return [key.fullKey, live.environment, about].join(' ');
}

export async function wrongCallsDoNotCompile(pac: PacSpace, dashboard: PacSpaceDashboard, raw: string): Promise<void> {
  // @ts-expect-error the constructor needs apiKey
  new PacSpace({ sandboxUrl: 'https://sandbox.pacspace.io' });
  // @ts-expect-error maxRetries is a number
  new PacSpace({ apiKey: 'pk_test_a.sk_test_b', maxRetries: '3' });
  // @ts-expect-error there is no such option
  new PacSpace({ apiKey: 'pk_test_a.sk_test_b', environment: 'test' });
  // @ts-expect-error emit needs a reason
  await pac.balance.emit('customer_001', 100);
  // @ts-expect-error an amount is a decimal string or a number, not a boolean
  await pac.balance.emit('customer_001', true, 'usage');
  // @ts-expect-error metadata values are strings
  await pac.balance.emit('customer_001', 1, 'usage', { metadata: { count: 1 } });
  // @ts-expect-error the option is referenceId
  await pac.balance.emit('customer_001', 1, 'usage', { reference: 'txn-1' });
  // @ts-expect-error an idempotency key is a string
  await pac.balance.emit('customer_001', 1, 'usage', { idempotencyKey: 42 });
  // @ts-expect-error a customer id is a string
  await pac.balance.derive(1);
  // @ts-expect-error compare needs both views
  await pac.balance.compare('customer_001', { yours: 100 });
  // @ts-expect-error the views are yours and theirs, not the wire names
  await pac.balance.compare('customer_001', { yourBalance: 100, theirBalance: 100 });
  // @ts-expect-error checkpoint needs a customer
  await pac.balance.checkpoint();
  // @ts-expect-error there is no such method
  await pac.balance.delete('customer_001');
  // @ts-expect-error limit is a number
  await pac.checkpoints.listReceipts('chk_1', { limit: 'all' });
  // @ts-expect-error computedBalance is a decimal string, not a number
  const balance: number = (await pac.balance.derive('customer_001')).computedBalance;
  // @ts-expect-error matchesYours is a boolean
  const matches: string = (await pac.balance.compare(null, { yours: 1, theirs: 1 })).matchesYours;
  // @ts-expect-error an API key needs a name
  await dashboard.apiKeys.create({ environment: 'test' });
  // @ts-expect-error environments are test and live
  await dashboard.apiKeys.create({ name: 'k', environment: 'production' });
  // @ts-expect-error no such permission
  await dashboard.apiKeys.create({ name: 'k', permissions: ['balance:admin'] });
  // @ts-expect-error no such event type
  await dashboard.webhooks.create({ url: 'https://example.com/hook', events: ['delta.created'] });
  // @ts-expect-error login needs a password
  await dashboard.auth.login('you@example.com');
  // @ts-expect-error a signing secret is a string (or several)
  await verifyWebhook(raw, {}, 42);
  // @ts-expect-error verifyWebhook is async: the event is what it resolves to
  console.log(verifyWebhook(raw, {}, 'whsec_x').type);
  // @ts-expect-error the sync variant takes the same arguments
  verifyWebhookSync(raw, {}, 42);
  const event = await verifyWebhook(raw, {}, 'whsec_x');
  const sameEvent = verifyWebhookSync(raw, new Headers(), ['whsec_x', 'whsec_y'], { now: new Date() });
  if (sameEvent.type === 'delta.confirmed') console.log(sameEvent.data.receiptId);
  if (event.type === 'checkpoint.created') {
    // @ts-expect-error a checkpoint event carries a checkpoint, not a receipt
    console.log(event.data.receiptId);
  }
  try {
    await pac.balance.derive('customer_001');
  } catch (err) {
    if (err instanceof PacSpaceError) {
      // @ts-expect-error retryAfter is only on RateLimitError
      console.log(err.retryAfter);
    }
  }
  console.log(balance, matches);
}

/** The generated contract types are exported whole, for what the named aliases do not cover. */
export function contractTypes(
  request: components['schemas']['DeltaRequest'],
  created: paths['/api/v1/balance/delta']['post']['responses'][201]['content']['application/json'],
  headers: NonNullable<operations['recordDelta']['parameters']['header']>,
  event: webhooks['delta.recorded']['post']['requestBody']['content']['application/json'],
): string {
  const receipt: Receipt = created.data;
  // @ts-expect-error a delta request has no receiptId
  console.log(request.receiptId);
  return [request.customerId, receipt.receiptId, headers['Idempotency-Key'], event.data.receiptId].join(' ');
}
