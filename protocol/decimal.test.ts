import { describe, expect, it } from 'vitest';
import { checkJsonNumber, formatAmount, parseAmount, parseDecimal, parseJsonNumber } from './decimal.ts';

const sum = (xs: string[]) => formatAmount(xs.reduce((acc, x) => acc + parseAmount(x)!, 0n));

describe('exact decimal amounts', () => {
  it.each([
    ['ten times 0.1 is exactly 1', Array(10).fill('0.1'), '1.00'],
    ['0.1 + 0.2 is 0.3', ['0.1', '0.2'], '0.30'],
    ['large values keep every digit', ['999999999999999.99999999', '0.00000001'], '1000000000000000.00'],
    ['debits', ['100.00', '-12.34567891'], '87.65432109'],
    ['to zero', ['5', '-5'], '0.00'],
    ['negative totals', ['-0.5', '-0.25'], '-0.75'],
  ])('%s', (_n, xs, expected) => {
    expect(sum(xs)).toBe(expected);
  });

  it.each(['1.123456789', '1e5', '01', '1.', '.5', '', '-', '1000000000000001', '1000000000000000.00000001', '-1000000000000000.1', '9999999999999999', '+1', ' 1', '1,5', 'NaN'])(
    'refuses %j',
    (text) => {
      expect(parseAmount(text)).toBeUndefined();
    },
  );

  it.each([
    ['100.00', '100.00'],
    ['1e-2', '0.01'],
    ['-0.5E1', '-5.00'],
    ['12345678901234.12345678', '12345678901234.12345678'],
    ['0.000000010', '0.00000001'],
  ])('reads the JSON number %s exactly', (text, expected) => {
    expect(formatAmount(parseJsonNumber(text)!)).toBe(expected);
  });

  it.each([
    ['1000000000000000', '1000000000000000.00'],
    ['-1000000000000000.00000000', '-1000000000000000.00'],
    ['999999999999999.99999999', '999999999999999.99999999'],
  ])('reads the bound and what is just inside it: %s', (text, expected) => {
    expect(formatAmount(parseAmount(text)!)).toBe(expected);
    expect(formatAmount(parseJsonNumber(text)!)).toBe(expected);
  });

  it.each(['1e-9', '1.123456789', '1.000000000000001e15', '1e16'])('refuses the JSON number %s', (text) => {
    expect(parseJsonNumber(text)).toBeUndefined();
  });

  it.each([
    ['1.123456789', 'precision'],
    ['1e-9', 'precision'],
    ['1e-999999999', 'precision'],
    ['1000000000000001', 'range'],
    ['1000000000000000.00000001', 'range'],
    ['-1000000000000000.00000001', 'range'],
    ['10000000000000001e-1', 'range'],
    ['1.0000000000000001e15', 'range'],
    ['1e999999999', 'range'],
    ['12345678901234567.123456789', 'range'],
    ['0x10', 'syntax'],
  ])('tells why the JSON number %s is refused: %s', (text, violation) => {
    expect(checkJsonNumber(text)).toEqual({ violation });
  });

  it.each([
    ['0e999999999', '0.00'],
    ['-0', '0.00'],
    ['999999999999999.99999999', '999999999999999.99999999'],
    ['-99999999999999999999999e-8', '-999999999999999.99999999'],
    ['0.00000000000000000001e12', '0.00000001'],
    ['100E-2', '1.00'],
    ['1e15', '1000000000000000.00'],
    ['10000000000000000e-1', '1000000000000000.00'],
    ['-0.1e16', '-1000000000000000.00'],
  ])('never expands the exponent, yet reads %s exactly as %s', (text, expected) => {
    const checked = checkJsonNumber(text);
    expect('units' in checked && formatAmount(checked.units)).toBe(expected);
  });

  it('stays linear on a body-sized number with a long run of inner zeros', () => {
    // No elapsed-time bound (a loaded CI machine is slow at anything): linear is milliseconds, and
    // quadratic in 500,000 digits is some 10^11 steps, minutes, so the test's timeout fails it.
    expect(checkJsonNumber(`1.${'0'.repeat(500_000)}1`)).toEqual({ violation: 'precision' });
    expect(checkJsonNumber(`1${'0'.repeat(500_000)}1`)).toEqual({ violation: 'range' });
    expect(checkJsonNumber(`0.${'0'.repeat(500_000)}`)).toEqual({ units: 0n });
  });

  it('round-trips what it writes', () => {
    for (const x of ['0.00', '-0.30', '123.45678901']) expect(formatAmount(parseDecimal(x))).toBe(x);
  });
});
