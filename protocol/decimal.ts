// Exact decimal amounts, as the contract defines them: at most 8 fractional digits and
// |amount| <= 10^15 (at most 15 integer digits, or exactly ±1000000000000000), on input and
// for every balance. Amounts are held as bigint counts of 1e-8 units, so sums never touch
// binary floating point.
export const SCALE_DIGITS = 8;
const SCALE = 10n ** BigInt(SCALE_DIGITS);
/** The largest magnitude of an amount or a balance, 10^15, in units. */
export const MAX_UNITS = 10n ** 15n * SCALE;
const INPUT = /^(-)?(0|[1-9][0-9]{0,15})(?:\.([0-9]{1,8}))?$/;
const ANY = /^(-)?([0-9]+)(?:\.([0-9]+))?$/;

export type Units = bigint;

/** Parses an input amount (its decimal text); undefined when it breaks the contract's bounds. */
export function parseAmount(text: string): Units | undefined {
  const m = INPUT.exec(text);
  if (!m) return undefined;
  const units = toUnits(m[1], m[2]!, m[3] ?? '');
  return inRange(units) ? units : undefined;
}

/** Whether an amount or balance is within the contract's range, |x| <= 10^15. */
export const inRange = (units: Units): boolean => units <= MAX_UNITS && units >= -MAX_UNITS;

/**
 * Parses the text of a JSON number (e.g. `100.00`, `1e-2`, `-0.5E1`) exactly, without
 * going through a double; undefined past 8 decimal places or past ±10^15.
 */
export function parseJsonNumber(text: string): Units | undefined {
  const checked = checkJsonNumber(text);
  return 'units' in checked ? checked.units : undefined;
}

/**
 * Like `parseJsonNumber`, but tells why a number is refused: `range` past ±10^15 (checked
 * first), `precision` past 8 decimal places, `syntax` when it is not a JSON number. The
 * exponent is never expanded digit by digit, so `1e-999999999` or `0e999999999` cost no
 * more than `1`.
 */
export function checkJsonNumber(text: string): { units: Units } | { violation: 'precision' | 'range' | 'syntax' } {
  const m = /^(-)?([0-9]+)(?:\.([0-9]+))?(?:[eE]([+-]?[0-9]+))?$/.exec(text);
  if (!m) return { violation: 'syntax' };
  const frac = m[3] ?? '';
  // value = digits × 10^exp, with digits free of leading and trailing zeros. Scanned by
  // hand: a /0+$/ regex is quadratic on a long run of inner zeros (a 1 MiB body).
  const all = `${m[2]}${frac}`;
  let start = 0;
  while (start < all.length && all.charCodeAt(start) === 0x30) start++;
  if (start === all.length) return { units: 0n };
  let end = all.length;
  while (all.charCodeAt(end - 1) === 0x30) end--;
  const exp = Number(m[4] ?? '0') - frac.length + (all.length - end);
  const digits = all.slice(start, end);
  // digits × 10^exp has digits.length + exp integer digits: past 16 it is over 10^15; at 16
  // it is 10^15 itself only when the digits are "1".
  const magnitude = digits.length + exp;
  if (magnitude > 16 || (magnitude === 16 && digits !== '1')) return { violation: 'range' };
  if (exp < -SCALE_DIGITS) return { violation: 'precision' };
  const units = BigInt(digits) * 10n ** BigInt(exp + SCALE_DIGITS);
  return { units: m[1] ? -units : units };
}

function toUnits(sign: string | undefined, int: string, frac: string): Units {
  const units = BigInt(int) * SCALE + BigInt(frac.padEnd(SCALE_DIGITS, '0'));
  return sign ? -units : units;
}

/** Parses any decimal string PacSpace wrote (e.g. a response amount), without bounds. */
export function parseDecimal(text: string): Units {
  const m = ANY.exec(text);
  if (!m || (m[3] ?? '').length > SCALE_DIGITS) throw new Error(`not a decimal amount: ${text}`);
  return toUnits(m[1], m[2]!, m[3] ?? '');
}

/** The contract's output form: 2 to 8 fractional digits, trailing zeros past the second removed. */
export function formatAmount(units: Units): string {
  const negative = units < 0n;
  const abs = negative ? -units : units;
  const int = abs / SCALE;
  let frac = (abs % SCALE).toString().padStart(SCALE_DIGITS, '0').replace(/0+$/, '');
  if (frac.length < 2) frac = frac.padEnd(2, '0');
  return `${negative ? '-' : ''}${int}.${frac}`;
}
