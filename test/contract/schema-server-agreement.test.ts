// The contract says what the server enforces, no less: tables of boundary values (and a
// seeded random sweep) run through a standard JSON Schema 2020-12 validator (Ajv, set up as
// examples.test.ts does) against the bundled schema *and* through the sandbox over HTTP, and
// the two must accept and refuse the same values.
//
// Amount: strings are decided by `pattern`, which every validator evaluates exactly. Numbers
// reach a validator as binary doubles, so two rules can only be seen by a reader of the exact
// text, and the contract says so (Amount's description):
//   - `decimals`: more than 8 decimal places. No standard keyword states it exactly
//     (`multipleOf: 0.00000001` is computed in floating point and refuses 0.29), so the schema
//     states it as `x-max-decimal-places: 8`. Plain Ajv accepts these numbers; Ajv with that
//     keyword registered (a dozen lines, below) refuses them, as the server does.
//   - `finer-than-double`: a number text that its double does not write back (e.g.
//     `1000000000000000.00000001`, which is the double 1e15). The server reads the text; a
//     double-based validator cannot, whatever the schema says.
// Every other row must get the same verdict from plain Ajv, Ajv with the keyword, and the server.
import { Ajv2020 } from 'ajv/dist/2020.js';
import addFormats from 'ajv-formats';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestSandbox, type TestSandbox } from '../../mock/testing/test-sandbox.ts';
import { loadBundle } from './load-bundle.ts';

const doc = loadBundle();
const unlimited = { capacity: 1_000_000, refillPerSecond: 1_000_000 };

/** Decimal places of a double as its shortest round-trip text says (`1.5e-7` has 8). */
function decimalPlaces(value: number): number {
  const m = /^-?[0-9]+(?:\.([0-9]+))?(?:e([+-]?[0-9]+))?$/.exec(String(value));
  if (!m) return Infinity;
  const frac = (m[1] ?? '').replace(/0+$/, '');
  return Math.max(0, frac.length - Number(m[2] ?? '0'));
}

function validator(options: { maxDecimalPlaces: boolean; formats: boolean }) {
  const ajv = new Ajv2020({ strict: false, allErrors: true, validateSchema: false, validateFormats: options.formats });
  addFormats.default(ajv);
  if (options.maxDecimalPlaces) {
    ajv.addKeyword({
      keyword: 'x-max-decimal-places',
      type: 'number',
      schemaType: 'number',
      errors: false,
      validate: (max: number, data: number) => decimalPlaces(data) <= max,
    });
  }
  ajv.addSchema(doc as object, 'bundle');
  return (name: string, value: unknown) => ajv.validate({ $ref: `bundle#/components/schemas/${name}` }, value) as boolean;
}
const plain = validator({ maxDecimalPlaces: false, formats: true });
const withKeyword = validator({ maxDecimalPlaces: true, formats: true });
/** `format` as an annotation only (the 2020-12 default): the `pattern` must carry the rule. */
const formatsOff = validator({ maxDecimalPlaces: false, formats: false });

let sb: TestSandbox;
let key: Record<string, string>;
let counter = 0;

beforeAll(async () => {
  // No confirmations during the run: nothing counts against the plan's verified deltas.
  sb = await startTestSandbox({ confirmationMs: 24 * 60 * 60 * 1000, rateLimits: { client: unlimited, apiKey: unlimited } });
  key = { 'X-Api-Key': sb.demo!.apiKey };
});
afterAll(() => sb?.close());

type Verdict = 'accept' | 'refuse';

/** The sandbox's verdict on an amount (a raw JSON value text), checked in full on the way. */
async function serverOnAmount(jsonText: string, parsable: boolean): Promise<{ verdict: Verdict; recorded?: string }> {
  const customerId = `agree-${++counter}`;
  const before = sb.services.store.eventCount;
  const res = await sb.sandboxApi.post('/api/v1/balance/delta', {
    headers: { ...key, 'content-type': 'application/json' },
    raw: `{"customerId":"${customerId}","delta":${jsonText},"reason":"agreement"}`,
  });
  if (res.status === 201) return { verdict: 'accept', recorded: res.body.data.delta };
  expect(sb.services.store.eventCount, 'a refused amount records nothing').toBe(before);
  if (!parsable) {
    expect(res.status, res.text).toBe(400);
    expect(res.body.code).toBe('invalid_json');
  } else {
    expect(res.status, res.text).toBe(422);
    expect(res.body.code).toBe('validation_failed');
    expect(res.body.validation.map((v: any) => v.location.join('.')), res.text).toContain('body.delta');
  }
  return { verdict: 'refuse' };
}

const parse = (text: string): { ok: true; value: unknown } | { ok: false } => {
  try {
    return { ok: true, value: JSON.parse(text) };
  } catch {
    return { ok: false };
  }
};

type Note = 'decimals' | 'finer-than-double';
// [JSON number text, the server's verdict, the exact value recorded (accepted) or why a double-based validator cannot see it]
const numbers: Array<[string, Verdict, string?, Note?]> = [
  ['0', 'accept', '0.00'],
  ['-0', 'accept', '0.00'],
  ['100.00', 'accept', '100.00'],
  ['1E2', 'accept', '100.00'],
  ['1e2', 'accept', '100.00'],
  ['1e-8', 'accept', '0.00000001'],
  ['-1E-8', 'accept', '-0.00000001'],
  ['1.5e-7', 'accept', '0.00000015'],
  ['0.1', 'accept', '0.10'],
  ['0.29', 'accept', '0.29'],
  ['1.13', 'accept', '1.13'],
  ['0.000000010', 'accept', '0.00000001'],
  ['-12.34567891', 'accept', '-12.34567891'],
  ['98765432.12345678', 'accept', '98765432.12345678'],
  ['999999999999999', 'accept', '999999999999999.00'],
  ['999999999999999.9', 'accept', '999999999999999.90'],
  // Not what its double writes back, but the double (1e15) is in range too: both accept.
  ['999999999999999.99999999', 'accept', '999999999999999.99999999'],
  ['1000000000000000', 'accept', '1000000000000000.00'],
  ['1e15', 'accept', '1000000000000000.00'],
  ['-1000000000000000', 'accept', '-1000000000000000.00'],
  ['-1E15', 'accept', '-1000000000000000.00'],
  ['1000000000000000.00000000', 'accept', '1000000000000000.00'],
  ['1000000000000001', 'refuse'],
  ['-1000000000000001', 'refuse'],
  ['1000000000000000.2', 'refuse'],
  ['9999999999999999', 'refuse'],
  ['1e16', 'refuse'],
  ['1e400', 'refuse'],
  ['-1e400', 'refuse'],
  ['1.7976931348623157e308', 'refuse'],
  ['0.000000001', 'refuse', undefined, 'decimals'],
  ['1e-9', 'refuse', undefined, 'decimals'],
  ['0.123456789', 'refuse', undefined, 'decimals'],
  ['-1.000000001', 'refuse', undefined, 'decimals'],
  ['5e-324', 'refuse', undefined, 'decimals'],
  ['2.220446049250313e-16', 'refuse', undefined, 'decimals'],
  ['1000000000000000.00000001', 'refuse', undefined, 'finer-than-double'],
  ['-1000000000000000.00000001', 'refuse', undefined, 'finer-than-double'],
  ['0.1000000000000000000001', 'refuse', undefined, 'finer-than-double'],
  // Not JSON at all: the server answers 400 invalid_json, a validator never gets a value.
  ['01', 'refuse'],
  ['-01.5', 'refuse'],
  ['.5', 'refuse'],
  ['1.', 'refuse'],
  ['+1', 'refuse'],
  ['--1', 'refuse'],
  ['1e', 'refuse'],
  ['0x10', 'refuse'],
  ['NaN', 'refuse'],
  ['Infinity', 'refuse'],
];

// [string amount, the server's verdict, the value recorded]
const strings: Array<[string, Verdict, string?]> = [
  ['0', 'accept', '0.00'],
  ['-0', 'accept', '0.00'],
  ['0.00', 'accept', '0.00'],
  ['100', 'accept', '100.00'],
  ['100.00', 'accept', '100.00'],
  ['-12.34567891', 'accept', '-12.34567891'],
  ['0.00000001', 'accept', '0.00000001'],
  ['12.30000000', 'accept', '12.30'],
  ['999999999999999', 'accept', '999999999999999.00'],
  ['999999999999999.99999999', 'accept', '999999999999999.99999999'],
  ['1000000000000000', 'accept', '1000000000000000.00'],
  ['1000000000000000.00000000', 'accept', '1000000000000000.00'],
  ['-1000000000000000.0', 'accept', '-1000000000000000.00'],
  ['0.000000001', 'refuse'],
  ['0.123456789', 'refuse'],
  ['1000000000000001', 'refuse'],
  ['1000000000000000.00000001', 'refuse'],
  ['1000000000000000.1', 'refuse'],
  ['9999999999999999', 'refuse'],
  ['1e2', 'refuse'],
  ['1E2', 'refuse'],
  ['1e-8', 'refuse'],
  ['1.', 'refuse'],
  ['.5', 'refuse'],
  ['+1', 'refuse'],
  ['01', 'refuse'],
  ['00', 'refuse'],
  ['-01.5', 'refuse'],
  ['-', 'refuse'],
  ['', 'refuse'],
  [' 1', 'refuse'],
  ['1 ', 'refuse'],
  ['1,5', 'refuse'],
  ['1_000', 'refuse'],
  ['NaN', 'refuse'],
  ['Infinity', 'refuse'],
  ['\u0661', 'refuse'], // ARABIC-INDIC DIGIT ONE
  ['\uff11', 'refuse'], // FULLWIDTH DIGIT ONE
  ['1\n', 'refuse'],
];

describe('Amount: the schema and the sandbox agree', () => {
  it.each(numbers)('the JSON number %s → %s', async (text, expected, recorded, note) => {
    const parsed = parse(text);
    const server = await serverOnAmount(text, parsed.ok);
    expect(server.verdict).toBe(expected);
    if (recorded !== undefined) expect(server.recorded).toBe(recorded);
    if (!parsed.ok) return; // not JSON: nothing for a validator to validate
    const ajvPlain = plain('Amount', parsed.value) ? 'accept' : 'refuse';
    const ajvKeyword = withKeyword('Amount', parsed.value) ? 'accept' : 'refuse';
    // A row marked finer-than-double is one whose double really writes back another number.
    const double = parsed.value as number;
    if (note === 'finer-than-double') expect(Number.isFinite(double) && exactlyEqual(text, String(double)), `${text} reads as ${double}`).toBe(false);
    if (note === undefined) {
      expect(ajvPlain).toBe(expected);
      expect(ajvKeyword).toBe(expected);
    } else if (note === 'decimals') {
      expect(ajvPlain, 'a standard validator cannot check decimal places of a number').toBe('accept');
      expect(ajvKeyword, 'x-max-decimal-places says it').toBe('refuse');
    } else {
      expect([ajvPlain, ajvKeyword], 'the double is in range').toEqual(['accept', 'accept']);
    }
  });

  it.each(strings)('the string %j → %s', async (text, expected, recorded) => {
    const server = await serverOnAmount(JSON.stringify(text), true);
    expect(server.verdict).toBe(expected);
    if (recorded !== undefined) expect(server.recorded).toBe(recorded);
    expect(plain('Amount', text) ? 'accept' : 'refuse').toBe(expected);
    expect(withKeyword('Amount', text) ? 'accept' : 'refuse').toBe(expected);
  });

  it('a seeded sweep of doubles, as JSON serializers write them, and of decimal strings', async () => {
    const doubles = fc.sample(
      fc.oneof(
        fc.double({ noNaN: true, noDefaultInfinity: true }),
        fc.double({ min: -2e15, max: 2e15, noNaN: true }),
        fc.double({ min: -1, max: 1, noNaN: true }),
        fc.integer({ min: -(10 ** 9), max: 10 ** 9 }).map((n) => n / 100),
        fc.bigInt({ min: -(10n ** 23n) - 5n, max: 10n ** 23n + 5n }).map((n) => Number(n) / 1e8),
        fc.constantFrom(1e15, -1e15, 1e15 - 0.125, 1e15 + 0.25, 1e-8, 5e-9, 0.29, 1.13, 4.18),
      ),
      { numRuns: 300, seed: 20260601 },
    );
    const strs = fc.sample(
      fc.oneof(
        fc.tuple(fc.bigInt({ min: 0n, max: 10n ** 16n }), fc.nat({ max: 10 }), fc.boolean()).map(([n, d, neg]) => {
          const s = n.toString().padStart(d + 1, '0');
          return `${neg ? '-' : ''}${d ? `${s.slice(0, -d)}.${s.slice(-d)}` : s}`;
        }),
        fc.stringMatching(/^-?[0-9]{1,17}(\.[0-9]{0,10})?$/),
      ),
      { numRuns: 200, seed: 20260601 },
    );
    const disagreements: string[] = [];
    for (const value of doubles) {
      const text = JSON.stringify(value);
      const server = (await serverOnAmount(text, true)).verdict;
      const schema = withKeyword('Amount', JSON.parse(text)) ? 'accept' : 'refuse';
      if (server !== schema) disagreements.push(`number ${text}: server ${server}, schema ${schema}`);
      // Plain Ajv differs exactly on the numbers past 8 decimal places.
      const plainVerdict = plain('Amount', JSON.parse(text)) ? 'accept' : 'refuse';
      if (plainVerdict !== server && !(plainVerdict === 'accept' && decimalPlaces(value) > 8)) disagreements.push(`number ${text}: plain Ajv ${plainVerdict}`);
    }
    for (const text of strs) {
      const server = (await serverOnAmount(JSON.stringify(text), true)).verdict;
      const schema = plain('Amount', text) ? 'accept' : 'refuse';
      if (server !== schema) disagreements.push(`string ${JSON.stringify(text)}: server ${server}, schema ${schema}`);
    }
    expect(disagreements).toEqual([]);
    expect(new Set(doubles.map((d) => (withKeyword('Amount', d) ? 'a' : 'r'))).size, 'the sweep hits both verdicts').toBe(2);
  });
});

/** Whether two decimal texts denote the same number (exactly, not as doubles). */
function exactlyEqual(a: string, b: string): boolean {
  const norm = (t: string) => {
    const m = /^(-?)([0-9]+)(?:\.([0-9]+))?(?:[eE]([+-]?[0-9]+))?$/.exec(t)!;
    const digits = `${m[2]}${m[3] ?? ''}`.replace(/^0+/, '');
    const exp = Number(m[4] ?? '0') - (m[3] ?? '').length;
    const trimmed = digits.replace(/0+$/, '');
    if (!trimmed) return '0';
    return `${m[1]}${trimmed}e${exp + (digits.length - trimmed.length)}`;
  };
  return norm(a) === norm(b);
}

// [address, the server's verdict]
const emails: Array<[string, Verdict]> = [
  ['you@example.com', 'accept'],
  ['a@b.co', 'accept'],
  ['V@Example.COM', 'accept'],
  ["o'neil+tag@mail.example.org", 'accept'],
  ['user.name@sub.domain.example', 'accept'],
  ["!#$%&'*+/=?^_`{|}~-@example.com", 'accept'],
  ['x@a-b.io', 'accept'],
  ['1@2.3', 'accept'],
  ['a@xn--bcher-kva.example', 'accept'],
  [`${'l'.repeat(64)}@${'d'.repeat(63)}.${'e'.repeat(63)}.${'f'.repeat(58)}.io`, 'accept'], // 254 characters
  [`${'l'.repeat(64)}@${'d'.repeat(63)}.${'e'.repeat(63)}.${'f'.repeat(59)}.io`, 'refuse'], // 255 characters
  ['v@io', 'refuse'],
  ['v@localhost', 'refuse'],
  ['a..b@example.com', 'refuse'],
  ['.a@example.com', 'refuse'],
  ['a.@example.com', 'refuse'],
  ['a@-example.com', 'refuse'],
  ['a@example-.com', 'refuse'],
  ['a@example..com', 'refuse'],
  ['a@.example.com', 'refuse'],
  ['a@example.com.', 'refuse'],
  ['a@example_x.com', 'refuse'],
  ['"quoted"@example.com', 'refuse'],
  ['"a b"@example.com', 'refuse'],
  ['\u00fc@example.com', 'refuse'],
  ['a@ex\u00e4mple.com', 'refuse'],
  ['\u017f@example.com', 'refuse'], // LATIN SMALL LETTER LONG S: upper-cases to S
  ['a@\u212aelvin.example', 'refuse'], // KELVIN SIGN: lower-cases to k
  ['a b@example.com', 'refuse'],
  ['a@[127.0.0.1]', 'refuse'],
  ['a@b', 'refuse'],
  ['@example.com', 'refuse'],
  ['a@', 'refuse'],
  ['ab', 'refuse'],
  ['', 'refuse'],
  ['you@example.com\n', 'refuse'],
];

describe('EmailAddress: the schema and the sandbox agree', () => {
  it('the length bounds are at 254 and 255 characters', () => {
    expect(emails.filter(([e]) => e.length >= 254).map(([e, v]) => [e.length, v])).toEqual([
      [254, 'accept'],
      [255, 'refuse'],
    ]);
  });

  it.each(emails)('%j → %s', async (email, expected) => {
    const before = sb.services.store.eventCount;
    // Answers the same for every well-formed address (no user enumeration); 422 otherwise.
    const res = await sb.dashboard.post('/dashboard/auth/request-password-reset', { json: { email } });
    if (res.status === 422) {
      expect(res.body.code).toBe('validation_failed');
      expect(res.body.validation.map((v: any) => v.location.join('.'))).toContain('body.email');
      expect(sb.services.store.eventCount).toBe(before);
    } else {
      expect(res.status, res.text).toBe(202);
    }
    const server: Verdict = res.status === 202 ? 'accept' : 'refuse';
    expect(server).toBe(expected);
    expect(plain('EmailAddress', email) ? 'accept' : 'refuse', 'with the email format').toBe(expected);
    expect(formatsOff('EmailAddress', email) ? 'accept' : 'refuse', 'format as an annotation: the pattern alone').toBe(expected);
  });
});
