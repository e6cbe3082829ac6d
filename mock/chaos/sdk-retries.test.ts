// Request chaos end to end, over real HTTP: the SDK against a sandbox answering 503, 429 and
// 500 instead of handling, hanging, resetting connections and taking its time. The SDK's calls
// still succeed (retries with the same Idempotency-Key, Retry-After honoured, timeouts) and
// every delta is recorded exactly once: a fault runs no handler, and a retry of one that did
// is answered from the idempotency record.
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { PacSpace, RateLimitError, type RetryEvent } from '../../sdk/index.ts';
import { startTestSandbox, type TestSandbox } from '../testing/test-sandbox.ts';
import { createChaos } from './policy.ts';
import type { ChaosSettings } from './settings.ts';

let sb: TestSandbox;
beforeAll(async () => {
  sb = await startTestSandbox({ transport: 'loopback' });
});
afterAll(() => sb.close());

async function setChaos(settings: ChaosSettings) {
  const r = await sb.dashboard.request('PUT', '/__sandbox/chaos', { json: settings });
  expect(r.status, r.text).toBe(200);
}

let customer = 0;
let retries: RetryEvent[];
beforeEach(() => {
  retries = [];
  customer++;
});

/**
 * A client that retries quickly: backoff in ms, not seconds. An attempt's timeout is long by
 * default, so that on a loaded machine only the hang test (which passes a short one) sees a
 * timeout: the others count exactly which retries they caused.
 */
const client = (timeoutMs = 30_000, maxRetries = 8) =>
  new PacSpace({ apiKey: sb.demo!.apiKey, sandboxUrl: sb.sandboxUrl, maxRetries, timeoutMs, retry: { baseDelayMs: 2, maxDelayMs: 10 }, onRetry: (e) => retries.push(e) });

/** Emits `n` deltas of 1.00 to a fresh customer, then checks with chaos off that each was recorded once. */
async function emitAndCount(pac: PacSpace, n: number) {
  const id = `chaos_customer_${customer}`;
  for (let i = 0; i < n; i++) {
    const receipt = await pac.balance.emit(id, '1.00', `usage ${i}`, { referenceId: `ref-${customer}-${i}` });
    expect(receipt.status).toBe('recorded');
  }
  await setChaos({});
  const derived = await client().balance.derive(id);
  expect([derived.deltaCount, Number(derived.computedBalance)]).toEqual([n, n]);
  const recorded = [...sb.services.store.state.ledger.receipts.values()].filter((r) => r.customerId === id);
  expect(recorded).toHaveLength(n);
}

describe('the SDK under chaos', () => {
  it('503 and 429 error rates (and latency): every call succeeds, every delta recorded once', async () => {
    await setChaos({
      seed: 5,
      operations: {
        recordDelta: { error: { rate: 0.4, status: 503, retryAfterSeconds: 0 }, latency: { distribution: 'uniform', minMs: 0, maxMs: 15 } },
        deriveBalance: { error: { rate: 0.4, status: 429, retryAfterSeconds: 0 } },
        '*': { error: { rate: 0.3, status: 500 } },
      },
    });
    const pac = client();
    for (let i = 0; i < 8; i++) await pac.balance.derive('chaos_customer_0');
    await emitAndCount(pac, 10);
    const statuses = new Set(retries.map((r) => r.status));
    expect(statuses).toEqual(new Set([503, 429]));
    // Every retry of an emit resent the same Idempotency-Key: the idempotency records hold one per delta.
    expect(retries.filter((r) => r.status === 503).length).toBeGreaterThan(0);
  });

  it('500: the SDK retries it like any 5xx', async () => {
    await setChaos({ seed: 2, operations: { '*': { error: { rate: 0.5, status: 500 } } } });
    await emitAndCount(client(), 6);
    expect(retries.some((r) => r.status === 500)).toBe(true);
  });

  it('Retry-After is honoured: the SDK waits at least that long', async () => {
    // A seed whose first recordDelta draw is a 429 and whose second is not, found by the policy itself.
    const settings = (seed: number): ChaosSettings => ({ seed, operations: { recordDelta: { error: { rate: 0.5, status: 429, retryAfterSeconds: 1 } } } });
    let seed = 0;
    for (;; seed++) {
      const chaos = createChaos({ settings: settings(seed) });
      const ask = () => chaos.policy({ operationId: 'recordDelta', environment: 'test', method: 'POST' });
      if (ask()?.fault && !ask()) break;
    }
    await setChaos(settings(seed));
    await emitAndCount(client(), 1);
    expect(retries).toEqual([{ method: 'POST', url: `${sb.sandboxUrl}/api/v1/balance/delta`, attempt: 1, delayMs: expect.any(Number), status: 429, error: undefined }]);
    expect(retries[0]!.delayMs).toBeGreaterThanOrEqual(1_000);
  });

  it('a Retry-After longer than the SDK waits for is thrown as a RateLimitError with it', async () => {
    await setChaos({ operations: { recordDelta: { error: { rate: 1, status: 429, retryAfterSeconds: 120 } } } });
    const error = await client().balance.emit('chaos_customer_x', '1.00', 'usage').catch((e: unknown) => e);
    expect(error).toBeInstanceOf(RateLimitError);
    expect((error as RateLimitError).retryAfter).toBe(120);
    expect(retries).toEqual([]);
  });

  it('hang: an attempt times out and the SDK tries again', async () => {
    await setChaos({ seed: 9, operations: { recordDelta: { hangRate: 0.4 } } });
    // 1 s an attempt: long enough that only the hung ones time out on a loaded machine.
    await emitAndCount(client(1_000), 5);
    expect(retries.some((r) => r.error === 'timeout')).toBe(true);
    expect(retries.every((r) => r.error === 'timeout')).toBe(true);
  });

  it('reset: the connection is reset and the SDK tries again', async () => {
    await setChaos({ seed: 4, operations: { recordDelta: { resetRate: 0.4 } } });
    await emitAndCount(client(), 6);
    expect(retries.some((r) => r.error === 'connection_error')).toBe(true);
    expect(retries.every((r) => r.error === 'connection_error')).toBe(true);
  });

  it('the same seed, the same faults: a run can be replayed', async () => {
    const settings: ChaosSettings = { seed: 12, operations: { deriveBalance: { error: { rate: 0.5, status: 503, retryAfterSeconds: 0 } } } };
    const run = async () => {
      await setChaos(settings);
      retries = [];
      const pac = client();
      for (let i = 0; i < 6; i++) await pac.balance.derive('chaos_customer_0');
      return retries.map((r) => r.attempt);
    };
    const first = await run();
    expect(first.length).toBeGreaterThan(0);
    expect(await run()).toEqual(first);
  });
});
