// An integrator's own test set-up with the installed sandbox's programmatic API: start on free
// ports, use the demo key, move the clock, read the outbox and deliveries, reset, close.
import { startSandbox } from '@pacspace-io/sandbox';
import { PacSpace } from '@pacspace-io/sdk';

const sandbox = await startSandbox({ seed: 7 });
const pac = new PacSpace({ apiKey: sandbox.demo.apiKey, sandboxUrl: sandbox.urls.sandbox });
const receipt = await pac.balance.emit('customer_api', '1.5', 'api-test');
await sandbox.clock.advance(60_000);
const confirmed = await pac.receipts.get(receipt.receiptId);
const before = sandbox.demo.apiKey;
await sandbox.reset();
let afterReset;
try {
  await pac.balance.derive('customer_api');
} catch (error) {
  afterReset = error.status;
}
const fresh = new PacSpace({ apiKey: sandbox.demo.apiKey, sandboxUrl: sandbox.urls.sandbox });
const derived = await fresh.balance.derive('customer_api');
await sandbox.close();
console.log(JSON.stringify({ status: confirmed.status, keyChanged: before !== sandbox.demo.apiKey, afterReset, balanceAfterReset: derived.computedBalance }));
