// Construction: the key prefix picks the environment and the base URL; malformed keys and
// key/URL mismatches fail at once with a ConfigurationError that names the problem but never
// contains the key; the cookie jar's browser-like rules.
import { inspect } from 'node:util';
import { describe, expect, it } from 'vitest';
import { CookieJar } from './cookies.ts';
import { ConfigurationError, DEFAULT_SANDBOX_URL, PacSpace, PacSpaceDashboard, PRODUCTION_URL, parseApiKey } from './index.ts';

const SECRET = 'S3cretS3cretS3cretS3cret12';
const TEST_KEY = `pk_test_Pub1icId.sk_test_${SECRET}`;
const LIVE_KEY = `pk_live_Pub1icId.sk_live_${SECRET}`;

function configurationError(build: () => unknown): ConfigurationError {
  let caught: unknown;
  try {
    build();
  } catch (error) {
    caught = error;
  }
  expect(caught).toBeInstanceOf(ConfigurationError);
  const err = caught as ConfigurationError;
  for (const text of [err.message, err.stack ?? '', inspect(err, { depth: Infinity, showHidden: true }), JSON.stringify(err)]) {
    expect(text).not.toContain(SECRET);
    expect(text).not.toContain('Pub1icId');
  }
  return err;
}

describe('environment from the key prefix', () => {
  it('pk_test_ → the Sandbox URL (default or given); pk_live_ → https://app.pacspace.io', () => {
    expect(new PacSpace({ apiKey: TEST_KEY })).toMatchObject({ environment: 'test', baseUrl: DEFAULT_SANDBOX_URL, publicKey: 'pk_test_Pub1icId' });
    expect(new PacSpace({ apiKey: TEST_KEY, sandboxUrl: 'http://127.0.0.1:4011/' }).baseUrl).toBe('http://127.0.0.1:4011');
    expect(new PacSpace({ apiKey: LIVE_KEY })).toMatchObject({ environment: 'live', baseUrl: PRODUCTION_URL });
    expect(new PacSpace({ apiKey: LIVE_KEY, sandboxUrl: 'http://127.0.0.1:4011' }).baseUrl).toBe(PRODUCTION_URL);
    expect(new PacSpace({ apiKey: LIVE_KEY, productionUrl: 'http://127.0.0.1:4010' }).baseUrl).toBe('http://127.0.0.1:4010');
  });

  it('baseUrl may point a key at its own environment', () => {
    expect(new PacSpace({ apiKey: TEST_KEY, baseUrl: 'http://127.0.0.1:4011' }).baseUrl).toBe('http://127.0.0.1:4011');
    expect(new PacSpace({ apiKey: TEST_KEY, baseUrl: 'http://127.0.0.1:4011', sandboxUrl: 'http://127.0.0.1:4011/' }).baseUrl).toBe('http://127.0.0.1:4011');
    expect(new PacSpace({ apiKey: LIVE_KEY, baseUrl: PRODUCTION_URL }).baseUrl).toBe(PRODUCTION_URL);
  });
});

describe('mismatches fail at construction, without the key', () => {
  it('a pk_test_ key at the Production URL, or a pk_live_ key at the Sandbox URL', () => {
    expect(configurationError(() => new PacSpace({ apiKey: TEST_KEY, baseUrl: 'https://app.pacspace.io/' })).code).toBe('environment_mismatch');
    expect(configurationError(() => new PacSpace({ apiKey: TEST_KEY, baseUrl: 'http://127.0.0.1:4010', productionUrl: 'http://127.0.0.1:4010' })).message).toMatch(/Production URL.*pk_test_/);
    expect(configurationError(() => new PacSpace({ apiKey: LIVE_KEY, baseUrl: DEFAULT_SANDBOX_URL })).code).toBe('environment_mismatch');
    expect(configurationError(() => new PacSpace({ apiKey: LIVE_KEY, baseUrl: 'http://127.0.0.1:4011', sandboxUrl: 'http://127.0.0.1:4011' })).message).toMatch(/Sandbox URL.*pk_live_/);
  });

  it('baseUrl disagreeing with the key’s own environment URL, or one URL for both environments', () => {
    expect(configurationError(() => new PacSpace({ apiKey: TEST_KEY, baseUrl: 'http://127.0.0.1:9999', sandboxUrl: 'http://127.0.0.1:4011' })).message).toMatch(/baseUrl and sandboxUrl differ/);
    expect(configurationError(() => new PacSpace({ apiKey: LIVE_KEY, baseUrl: 'http://127.0.0.1:9999', productionUrl: 'http://127.0.0.1:4010' })).message).toMatch(/baseUrl and productionUrl differ/);
    expect(configurationError(() => new PacSpace({ apiKey: TEST_KEY, sandboxUrl: 'http://127.0.0.1:4010', productionUrl: 'http://127.0.0.1:4010' })).code).toBe('environment_mismatch');
    expect(configurationError(() => new PacSpace({ apiKey: TEST_KEY, sandboxUrl: PRODUCTION_URL })).code).toBe('environment_mismatch');
  });

  it('invalid URLs', () => {
    expect(configurationError(() => new PacSpace({ apiKey: TEST_KEY, baseUrl: 'not a url' })).code).toBe('invalid_configuration');
    expect(configurationError(() => new PacSpace({ apiKey: TEST_KEY, sandboxUrl: 'ftp://sandbox' })).code).toBe('invalid_configuration');
    expect(configurationError(() => new PacSpace({ apiKey: TEST_KEY, baseUrl: `https://x.test/?key=${SECRET}` })).code).toBe('invalid_configuration');
    expect(configurationError(() => new PacSpaceDashboard({ baseUrl: 'nope' })).code).toBe('invalid_configuration');
  });
});

describe('malformed keys fail at construction, without the key', () => {
  const cases: [string, unknown, RegExp][] = [
    ['missing', undefined, /missing/],
    ['empty', '', /missing/],
    ['not a string', 42, /missing/],
    ['whitespace', ` ${TEST_KEY}\n`, /whitespace/],
    ['unknown prefix', `sk_test_Pub1icId.${SECRET}`, /pk_test_ or pk_live_/],
    ['only the public half', 'pk_test_Pub1icId', /no "\."/],
    ['secret without its sk_ prefix', `pk_test_Pub1icId.${SECRET}`, /malformed/],
    ['non-base62 secret', `pk_test_Pub1icId.sk_test_${SECRET}!`, /malformed/],
    ['mixed environments', `pk_test_Pub1icId.sk_live_${SECRET}`, /mixes environments/],
    ['the quick start placeholder', 'pk_test_PUBLIC.SECRET', /malformed/],
  ];
  for (const [name, apiKey, why] of cases) {
    it(name, () => {
      const err = configurationError(() => new PacSpace({ apiKey: apiKey as string }));
      expect(err).toMatchObject({ code: 'invalid_api_key', status: undefined });
      expect(err.message).toMatch(why);
      expect(err.message).toContain('pk_{test|live}_{publicId}.sk_{test|live}_{secret}');
    });
  }

  it('no options at all', () => {
    expect(configurationError(() => new PacSpace(undefined as never)).code).toBe('invalid_configuration');
  });

  it('parseApiKey splits a valid key', () => {
    expect(parseApiKey(LIVE_KEY)).toEqual({ environment: 'live', publicKey: 'pk_live_Pub1icId', secretKey: `sk_live_${SECRET}` });
  });
});

describe('options', () => {
  it('rejects negative retry and timeout settings', () => {
    expect(() => new PacSpace({ apiKey: TEST_KEY, maxRetries: -1 })).toThrow(RangeError);
    expect(() => new PacSpace({ apiKey: TEST_KEY, timeoutMs: Number.NaN })).toThrow(RangeError);
  });
});

describe('the dashboard cookie jar', () => {
  const api = new URL('https://app.pacspace.io/dashboard/api-keys');
  const auth = new URL('https://app.pacspace.io/dashboard/auth/refresh');

  it('keeps cookies by path, replaces and deletes them, and never prints values', () => {
    const jar = new CookieJar();
    jar.store(new URL('https://app.pacspace.io/dashboard/auth/login'), [
      'pacspace_access=AAA; Path=/dashboard; Max-Age=900; HttpOnly; Secure; SameSite=Strict',
      'pacspace_refresh=RRR; Path=/dashboard/auth; Max-Age=1209600; HttpOnly; Secure; SameSite=Strict',
    ]);
    expect(jar.header(api)).toBe('pacspace_access=AAA');
    expect(jar.header(auth)).toBe('pacspace_refresh=RRR; pacspace_access=AAA');
    expect(jar.header(new URL('https://app.pacspace.io/dashboardx'))).toBeUndefined();
    expect(inspect(jar)).toBe('CookieJar { pacspace_access, pacspace_refresh }');
    expect(JSON.stringify(jar)).not.toMatch(/AAA|RRR/);

    jar.store(auth, ['pacspace_access=BBB; Path=/dashboard; Max-Age=900']);
    expect(jar.header(api)).toBe('pacspace_access=BBB');
    jar.store(auth, ['pacspace_access=; Path=/dashboard; Max-Age=0', 'pacspace_refresh=; Path=/dashboard/auth; Max-Age=0']);
    expect(jar.header(auth)).toBeUndefined();
  });

  it('expires cookies and keeps Secure ones off plain http except on loopback', () => {
    const jar = new CookieJar();
    const now = Date.now();
    jar.store(api, ['short=1; Path=/; Max-Age=10', 'secure=1; Path=/; Secure'], now);
    expect(jar.header(api, now + 5_000)).toBe('short=1; secure=1');
    expect(jar.header(api, now + 11_000)).toBe('secure=1');
    expect(jar.header(new URL('http://example.test/'), now)).toBeUndefined();
    expect(jar.header(new URL('http://127.0.0.1:4010/'), now)).toBe('secure=1');
    expect(jar.header(new URL('http://localhost:4010/'), now)).toBe('secure=1');
  });
});
