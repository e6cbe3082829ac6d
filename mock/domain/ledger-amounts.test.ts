// Amounts read exactly from the raw body: numbers from their JSON text (never a double),
// strings by the grammar, and every amount past 8 decimals or ±10^15 reported in one 422.
import { describe, expect, it } from 'vitest';
import { ProblemError } from '../http/problem.ts';
import { MAX_AMOUNT, readAmounts } from './ledger-amounts.ts';

const read = (rawBody: string, fields: string[] = ['delta']) => readAmounts({ rawBody }, fields);

function problem(run: () => unknown): ProblemError {
  try {
    run();
  } catch (error) {
    if (error instanceof ProblemError) return error;
    throw error;
  }
  throw new Error('expected a problem');
}

describe('readAmounts', () => {
  it('reads numbers and strings exactly, as 1e-8 units; an absent member is undefined', () => {
    expect(read('{"delta": 0.1}')).toEqual({ delta: 10_000_000n });
    expect(read('{"delta": "-12.34567891"}')).toEqual({ delta: -1_234_567_891n });
    expect(read('{"delta": 999999999999999.99999999}')).toEqual({ delta: 99_999_999_999_999_999_999_999n });
    expect(read('{"delta": 1e2}')).toEqual({ delta: 10_000_000_000n });
    expect(read('{"a": "1"}', ['a', 'b'])).toEqual({ a: 100_000_000n, b: undefined });
  });

  it('more than 8 decimals, or past ±10^15 by less than a double can tell: one 422 naming each member', () => {
    const error = problem(() => read(`{"a": 0.123456789, "b": 1000000000000000.00000001, "c": "-1000000000000000.00000001"}`, ['a', 'b', 'c']));
    expect(error.code).toBe('validation_failed');
    expect(error.extra.validation).toEqual([
      { location: ['body', 'a'], severity: 'Error', code: 'x-max-decimal-places', message: 'must have at most 8 decimal places' },
      { location: ['body', 'b'], severity: 'Error', code: 'maximum', message: `must be <= ${MAX_AMOUNT}` },
      { location: ['body', 'c'], severity: 'Error', code: 'minimum', message: `must be >= -${MAX_AMOUNT}` },
    ]);
  });

  it('a member repeated with different values is invalid_json, never guessed at', () => {
    expect(problem(() => read('{"delta": 1, "delta": 2}')).code).toBe('invalid_json');
  });
});
