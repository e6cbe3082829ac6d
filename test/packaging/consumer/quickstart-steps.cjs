// The quick start's steps (docs/guides/quick-start.md), written once and run by every consumer
// of the packaging test — Node ESM and CommonJS, Bun, Deno and the edge runtime — each passing
// in the SDK module as that runtime loaded it. Prints nothing; returns what the test checks.
'use strict';

const hex = (bytes) => Array.from(new Uint8Array(bytes), (b) => b.toString(16).padStart(2, '0')).join('');

/** Signs a delivery the way PacSpace does: v1=HMAC-SHA256(secret, timestamp + "." + body). */
async function sign(secret, timestamp, body) {
  const key = await crypto.subtle.importKey('raw', new TextEncoder().encode(secret), { name: 'HMAC', hash: 'SHA-256' }, false, ['sign']);
  return `v1=${hex(await crypto.subtle.sign('HMAC', key, new TextEncoder().encode(`${timestamp}.${body}`)))}`;
}

module.exports = async function quickstart(sdk, { apiKey, sandboxUrl, runId }) {
  const { PacSpace, verifyProofRoot, verifyWebhook, AuthenticationError, PacSpaceError, WebhookVerificationError } = sdk;
  const pac = new PacSpace({ apiKey, sandboxUrl });
  const customerId = `customer_${runId}`;

  const receipt = await pac.balance.emit(customerId, 100.0, 'initial-deposit', {
    referenceId: `txn-quickstart-${runId}`,
    metadata: { source: 'quickstart-guide' },
  });
  for (let i = 0; i < 10; i++) await pac.balance.emit(customerId, '-0.1', 'usage');
  const { computedBalance } = await pac.balance.derive(customerId);
  const report = await pac.balance.compare(customerId, { yours: 99, theirs: '99.00000001' }, { startingBalance: 0 });
  const checkpoint = await pac.balance.checkpoint(customerId);
  const verification = await verifyProofRoot(checkpoint.proofRoot, { baseUrl: sandboxUrl });

  const wrongSecret = 'W'.repeat(32);
  const wrongKey = apiKey.replace(/\.sk_(test|live)_[A-Za-z0-9]+$/, (_, env) => `.sk_${env}_${wrongSecret}`);
  let authError;
  try {
    await new PacSpace({ apiKey: wrongKey, sandboxUrl }).balance.derive(customerId);
  } catch (error) {
    authError = error;
  }

  const secret = `whsec_${runId}`;
  const timestamp = String(Math.floor(Date.now() / 1000));
  const body = JSON.stringify({ id: `evt_${runId}`, type: 'delta.recorded', createdAt: new Date().toISOString(), data: receipt });
  const headers = { 'X-PacSpace-Signature': await sign(secret, timestamp, body), 'X-PacSpace-Timestamp': timestamp };
  const event = await verifyWebhook(body, headers, secret);
  let tampered;
  try {
    await verifyWebhook(body.replace('initial-deposit', 'initial-deposiT'), headers, secret);
  } catch (error) {
    tampered = error;
  }

  return {
    receipt: { receiptId: receipt.receiptId, delta: receipt.delta, status: receipt.status },
    computedBalance,
    compare: { matchesYours: report.matchesYours, matchesTheirs: report.matchesTheirs },
    proofRoot: checkpoint.proofRoot,
    verified: verification.verified,
    verifiedRoot: verification.proofRoot,
    authError: {
      isAuthenticationError: authError instanceof AuthenticationError,
      isPacSpaceError: authError instanceof PacSpaceError,
      status: authError && authError.status,
      code: authError && authError.code,
      showsSecret: `${authError && authError.stack} ${JSON.stringify(authError)}`.includes(wrongSecret),
    },
    webhook: { type: event.type, receiptId: event.data.receiptId, tamperedRejected: tampered instanceof WebhookVerificationError },
  };
};
