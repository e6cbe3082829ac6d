// Amounts of a ledger request, read exactly. JSON numbers are read from the raw body's text
// (lossless-json), never through a double, and held as bigint 1e-8 units; the arithmetic and
// the decimal grammar themselves are protocol/decimal.ts.
import { isLosslessNumber, parse as parseLossless } from 'lossless-json';
import { checkJsonNumber, parseAmount, type Units } from '../../protocol/decimal.ts';
import { fail, type ValidationViolation } from '../http/problem.ts';
import type { HandlerContext } from './handler.ts';

/** The bound of every amount and balance, ±10^15 (the `maximum` of `Amount`'s number form). */
export const MAX_AMOUNT = '1000000000000000';

/**
 * Reads amount members of the (already schema-validated) body exactly: numbers from their
 * JSON text, strings by the contract's grammar. Every amount that breaks the contract's
 * precision or bounds is reported in one 422, located like Prism's violations. Prism reads
 * numbers as doubles, so what is left to find here is what a double cannot see: more than 8
 * decimal places (the schema's `x-max-decimal-places`, which no standard keyword states
 * exactly) and a number past ±10^15 by less than a double's spacing (`maximum`/`minimum`).
 */
export function readAmounts<F extends string>(ctx: Pick<HandlerContext, 'rawBody'>, fields: readonly F[]): Record<F, Units | undefined> {
  let exact: Record<string, unknown>;
  try {
    exact = parseLossless(ctx.rawBody ?? 'null') as Record<string, unknown>;
  } catch {
    // JSON.parse accepted it, so the only difference left is a repeated member name with
    // different values: ambiguous, and never guessed at. The parser's message is not echoed.
    throw fail('invalid_json', 'The request body repeats a member name.');
  }
  const out = {} as Record<F, Units | undefined>;
  const violations: ValidationViolation[] = [];
  for (const field of fields) {
    const value = exact?.[field];
    if (value === undefined) {
      out[field] = undefined;
      continue;
    }
    const text = isLosslessNumber(value) ? value.value : String(value);
    const checked = isLosslessNumber(value) ? checkJsonNumber(text) : stringAmount(text);
    if ('units' in checked) {
      out[field] = checked.units;
      continue;
    }
    const location = ['body', field];
    if (checked.violation === 'precision') {
      violations.push({ location, severity: 'Error', code: 'x-max-decimal-places', message: 'must have at most 8 decimal places' });
    } else if (checked.violation === 'range') {
      violations.push(
        text.startsWith('-')
          ? { location, severity: 'Error', code: 'minimum', message: `must be >= -${MAX_AMOUNT}` }
          : { location, severity: 'Error', code: 'maximum', message: `must be <= ${MAX_AMOUNT}` },
      );
    } else {
      violations.push({ location, severity: 'Error', code: 'type', message: 'must be a decimal string or a number' });
    }
  }
  if (violations.length) {
    throw fail('validation_failed', `An amount breaks the contract: at most 8 decimal places, from -${MAX_AMOUNT} to ${MAX_AMOUNT}.`, { validation: violations });
  }
  return out;
}

/** A string amount; the schema's pattern already held, so this only guards the bounds again. */
function stringAmount(text: string): ReturnType<typeof checkJsonNumber> {
  const units = parseAmount(text);
  if (units !== undefined) return { units };
  return /\.[0-9]{9,}$/.test(text) ? { violation: 'precision' } : /^-?[0-9]+(\.[0-9]+)?$/.test(text) ? { violation: 'range' } : { violation: 'syntax' };
}
