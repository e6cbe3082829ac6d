// Exact decimal amounts, as the contract defines them: at most 8 fractional digits and at
// most 15 integer digits on input; any size as a running total. Amounts are held as bigint
// counts of 1e-8 units, so sums never touch binary floating point.
export const SCALE_DIGITS = 8;
const SCALE = 10n ** BigInt(SCALE_DIGITS);
const INPUT = /^(-)?(0|[1-9][0-9]{0,14})(?:\.([0-9]{1,8}))?$/;
const ANY = /^(-)?([0-9]+)(?:\.([0-9]+))?$/;

export type Units = bigint;

/** Parses an input amount (its decimal text); undefined when it breaks the contract's bounds. */
export function parseAmount(text: string): Units | undefined {
  const m = INPUT.exec(text);
  if (!m) return undefined;
  return toUnits(m[1], m[2]!, m[3] ?? '');
}

/**
 * Parses the text of a JSON number (e.g. `100.00`, `1e-2`, `-0.5E1`) exactly, without
 * going through a double; undefined past 8 decimal places or 15 integer digits.
 */
export function parseJsonNumber(text: string): Units | undefined {
  const m = /^(-)?([0-9]+)(?:\.([0-9]+))?(?:[eE]([+-]?[0-9]+))?$/.exec(text);
  if (!m) return undefined;
  let digits = `${m[2]}${m[3] ?? ''}`;
  let point = m[2]!.length + Number(m[4] ?? 0);
  if (point < 0) {
    digits = '0'.repeat(-point) + digits;
    point = 0;
  }
  if (point > digits.length) digits += '0'.repeat(point - digits.length);
  const int = digits.slice(0, point).replace(/^0+(?=\d)/, '') || '0';
  const frac = digits.slice(point).replace(/0+$/, '');
  return parseAmount(`${m[1] ?? ''}${int}${frac ? `.${frac}` : ''}`);
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
