// The Idempotency-Key rules alone, on a ledger projection built from events: the request hash
// (what counts as the same body), replay, reuse, expiry, and a first request still in flight.
import { describe, expect, it } from 'vitest';
import { applyLedgerEvent, createLedgerProjection, idempotencyScope, type DeltaRecorded } from '../state/ledger.ts';
import { ProblemError } from '../http/problem.ts';
import { deltaRequestHash, IDEMPOTENCY_TTL_MS, idempotentReplay, whileInFlight } from './ledger-idempotency.ts';

const scope = idempotencyScope('ten_1', 'test', 'key-1');

function recorded(over: Partial<DeltaRecorded> = {}): DeltaRecorded {
  return {
    type: 'delta.recorded',
    at: 1_000,
    receiptId: 'rcpt_1',
    tenantId: 'ten_1',
    environment: 'test',
    customerId: 'cus_1',
    sequence: 1,
    delta: '1.00',
    balanceAfter: '1.00',
    reason: 'usage',
    referenceId: null,
    metadata: {},
    leafHash: '00'.repeat(32),
    confirmAt: 3_000,
    idempotencyKey: 'key-1',
    requestHash: 'hash-1',
    ...over,
  };
}

const codeOf = (run: () => unknown) => {
  try {
    run();
  } catch (error) {
    if (error instanceof ProblemError) return error.code;
    throw error;
  }
  return undefined;
};

describe('deltaRequestHash', () => {
  it('is the body as understood: member order, amount notation and absent versus empty metadata do not matter', () => {
    const a = deltaRequestHash({ customerId: 'c', delta: '1.5', reason: 'r' }, 150_000_000n);
    expect(deltaRequestHash({ reason: 'r', delta: '1.50000000', customerId: 'c' } as never, 150_000_000n)).toBe(a);
    expect(deltaRequestHash({ customerId: 'c', delta: 1.5, reason: 'r', metadata: {} } as never, 150_000_000n)).toBe(a);
    expect(a).toMatch(/^[0-9a-f]{64}$/);
  });

  it('differs for another amount, reason, customer, reference or metadata', () => {
    const base = { customerId: 'c', delta: '1', reason: 'r' };
    const a = deltaRequestHash(base, 100_000_000n);
    for (const [body, units] of [
      [base, 200_000_000n],
      [{ ...base, reason: 's' }, 100_000_000n],
      [{ ...base, customerId: 'd' }, 100_000_000n],
      [{ ...base, referenceId: 'ref' }, 100_000_000n],
      [{ ...base, metadata: { k: 'v' } }, 100_000_000n],
    ] as const) {
      expect(deltaRequestHash(body as never, units)).not.toBe(a);
    }
  });
});

describe('idempotentReplay', () => {
  it('no earlier request with the key: a new request', () => {
    expect(idempotentReplay(createLedgerProjection(), scope, 'hash-1', 1_000)).toBeUndefined();
  });

  it('the same body within 24 hours: the first receipt again; another body: idempotency_key_reused', () => {
    const l = createLedgerProjection();
    applyLedgerEvent(l, recorded());
    expect(idempotentReplay(l, scope, 'hash-1', 1_000 + IDEMPOTENCY_TTL_MS - 1)?.receiptId).toBe('rcpt_1');
    expect(codeOf(() => idempotentReplay(l, scope, 'hash-2', 2_000))).toBe('idempotency_key_reused');
  });

  it('is scoped to tenant and environment', () => {
    const l = createLedgerProjection();
    applyLedgerEvent(l, recorded());
    expect(idempotentReplay(l, idempotencyScope('ten_2', 'test', 'key-1'), 'hash-2', 2_000)).toBeUndefined();
    expect(idempotentReplay(l, idempotencyScope('ten_1', 'live', 'key-1'), 'hash-2', 2_000)).toBeUndefined();
  });

  it('after 24 hours the key is free again, whatever the body', () => {
    const l = createLedgerProjection();
    applyLedgerEvent(l, recorded());
    expect(idempotentReplay(l, scope, 'hash-1', 1_000 + IDEMPOTENCY_TTL_MS)).toBeUndefined();
    expect(idempotentReplay(l, scope, 'hash-2', 1_000 + IDEMPOTENCY_TTL_MS)).toBeUndefined();
  });

  it('while the first request is in flight: idempotency_request_in_progress, for any body; released after, also when it fails', async () => {
    const l = createLedgerProjection();
    let release!: () => void;
    const held = new Promise<void>((resolve) => (release = resolve));
    const first = whileInFlight(l, scope, async () => {
      applyLedgerEvent(l, recorded());
      await held;
      return 'answered';
    });
    expect(codeOf(() => idempotentReplay(l, scope, 'hash-1', 2_000))).toBe('idempotency_request_in_progress');
    expect(codeOf(() => idempotentReplay(l, scope, 'hash-2', 2_000))).toBe('idempotency_request_in_progress');
    // Other keys are not held up.
    expect(idempotentReplay(l, idempotencyScope('ten_1', 'test', 'key-2'), 'hash-1', 2_000)).toBeUndefined();
    release();
    expect(await first).toBe('answered');
    expect(idempotentReplay(l, scope, 'hash-1', 2_000)?.receiptId).toBe('rcpt_1');

    const other = idempotencyScope('ten_1', 'test', 'key-3');
    await expect(whileInFlight(l, other, async () => Promise.reject(new Error('storage')))).rejects.toThrow('storage');
    expect(idempotentReplay(l, other, 'hash-1', 2_000)).toBeUndefined();
  });

  it('in flight is per ledger state: a state rebuilt from the journal has no open requests', async () => {
    const l = createLedgerProjection();
    let release!: () => void;
    const first = whileInFlight(l, scope, () => new Promise<void>((resolve) => (release = resolve)));
    expect(idempotentReplay(createLedgerProjection(), scope, 'hash-1', 2_000)).toBeUndefined();
    release();
    await first;
  });
});
