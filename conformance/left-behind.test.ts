import { describe, expect, it } from 'vitest';
import type { Exchange } from './lib/http.ts';
import { undeletable } from './left-behind.ts';

let id = 0;
const sent = (method: string, path: string, status: number, body?: unknown, scope = 'LEDGER-001', answer?: unknown): Exchange => ({
  id: ++id, method, url: `http://127.0.0.1:4010${path}`, path, requestHeaders: {}, ...(body === undefined ? {} : { requestBody: JSON.stringify(body) }),
  status, headers: {}, setCookies: [], text: '', body: answer, scope,
});
/** A delta recorded (201) with its receipt, or replayed: 201 again naming the same receipt. */
const delta = (customerId: string, receiptId: string) => sent('POST', '/api/v1/balance/delta', 201, { customerId, delta: '1' }, 'LEDGER-001', { data: { receiptId, customerId } });

describe('what no operation deletes, from what the run sent', () => {
  it('lists each account registered, each access request for another address, each environment provisioned, and the ledger entries', () => {
    const exchanges = [
      sent('POST', '/dashboard/auth/register', 201, { email: 'Conformance-A@conformance.invalid', password: 'x' }),
      sent('POST', '/dashboard/auth/register', 400, { email: 'refused@conformance.invalid' }),
      sent('POST', '/dashboard/auth/request-access', 202, { email: 'owner@example.com' }),
      sent('POST', '/dashboard/auth/request-access', 202, { email: 'new@conformance.invalid' }),
      sent('POST', '/dashboard/auth/request-access', 202, { email: 'NEW@conformance.invalid' }),
      sent('POST', '/dashboard/contracts/provision', 201, { environment: 'mainnet' }),
      sent('POST', '/dashboard/contracts/provision', 409, { environment: 'testnet' }),
      delta('c1', 'rcpt_1'),
      delta('c1', 'rcpt_2'),
      // Idempotent replays of rcpt_2 (201 again, Idempotent-Replayed: true): no new delta.
      { ...delta('c1', 'rcpt_2'), headers: { 'idempotent-replayed': 'true' } },
      { ...delta('c1', 'rcpt_2'), headers: { 'idempotent-replayed': 'true' } },
      sent('POST', '/api/v1/balance/delta', 422, { customerId: 'c9' }),
      sent('POST', '/api/v1/balance/checkpoint', 201, { customerId: 'c2' }, 'LEDGER-001', { data: { checkpointId: 'chk_1' } }),
      sent('GET', '/api/v1/balance/derive/c3', 200),
      // A request never answered is not counted; nor what the cleanup sent.
      sent('POST', '/dashboard/auth/register', 0, { email: 'unanswered@conformance.invalid' }),
      sent('POST', '/dashboard/auth/register', 201, { email: 'cleanup@conformance.invalid' }, 'cleanup'),
    ];
    expect(undeletable(exchanges, ['Owner@example.com', undefined])).toEqual([
      { kind: 'account', id: 'conformance-a@conformance.invalid', reason: 'no operation of the contract deletes an account' },
      { kind: 'access request', id: 'new@conformance.invalid', reason: 'no operation of the contract deletes an access request' },
      { kind: 'environment', id: 'mainnet', reason: 'provisioned by the run (--provision); provisioning cannot be undone' },
      { kind: 'ledger entries', id: '2 deltas, 1 checkpoint', name: '2 customers: c1, c2', reason: 'the ledger is append-only: no operation deletes a delta or a checkpoint' },
    ]);
  });

  it('lists nothing for a run that created nothing, and names at most five customers', () => {
    expect(undeletable([sent('GET', '/api/v1/balance/derive/c1', 200), sent('POST', '/api/v1/balance/delta', 401, { customerId: 'c1' })], [])).toEqual([]);
    const many = Array.from({ length: 7 }, (_, i) => delta(`c${i}`, `rcpt_${i}`));
    expect(undeletable(many, [])).toEqual([
      { kind: 'ledger entries', id: '7 deltas, 0 checkpoints', name: '7 customers: c0, c1, c2, c3, c4 and 2 more', reason: 'the ledger is append-only: no operation deletes a delta or a checkpoint' },
    ]);
  });
});
