// The suite's own building blocks: the HTTP layer (429 + Retry-After honoured within a wait
// budget, the request budget, scopes that abort, network errors in words), media types per
// RFC 9110, JSON compared as values, and curl commands with secrets as shell variables.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createClient, createRecorder, inScope, NetworkError, newScope, retryDelayMs } from './lib/http.ts';
import { sameJson } from './lib/json.ts';
import { isMediaType, parseMediaType } from '../contract/media-type.ts';
import { Inconclusive } from './lib/outcome.ts';
import { curlOf, placeholdersFor, responseOf, shellWord } from './report/curl.ts';

let server: Server;
let base: string;
/** Per path: the statuses to answer in turn (the last one repeats), and the Retry-After to send with an error. */
const plans = new Map<string, { statuses: number[]; retryAfter?: string; hits: number }>();

beforeAll(async () => {
  server = createServer((req, res) => {
    const plan = plans.get(req.url!) ?? { statuses: [200], hits: 0 };
    const status = plan.statuses[Math.min(plan.hits++, plan.statuses.length - 1)]!;
    const headers: Record<string, string> = { 'content-type': status === 429 || status >= 500 ? 'application/problem+json' : 'application/json' };
    if (status >= 400 && plan.retryAfter !== undefined) headers['retry-after'] = plan.retryAfter;
    res.writeHead(status, headers).end(JSON.stringify({ status }));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(() => new Promise<void>((r) => server.close(() => r())));

/** A recorder whose waits are recorded instead of slept. */
function recorderWithFakeSleep(settings: Parameters<typeof createRecorder>[0] = {}) {
  const waits: number[] = [];
  const recorder = createRecorder({ ...settings, sleep: async (ms) => void waits.push(ms) });
  return { recorder, waits, client: createClient(recorder, base) };
}

describe('the HTTP layer', () => {
  it('waits out 429 + Retry-After (seconds) and sends again; every attempt is recorded', async () => {
    plans.set('/a', { statuses: [429, 429, 200], retryAfter: '2', hits: 0 });
    const { recorder, waits, client } = recorderWithFakeSleep();
    const res = await inScope(newScope('T-1', 'check'), () => client.get('/a'));
    expect(res.status).toBe(200);
    expect(waits).toEqual([2000, 2000]);
    expect(recorder.exchanges.map((e) => [e.status, e.scope])).toEqual([[429, 'T-1'], [429, 'T-1'], [200, 'T-1']]);
    expect(recorder.sent).toEqual({ preflight: 0, check: 3, cleanup: 0 });
  });

  it('reads Retry-After as an HTTP date, and backs off by default when it is absent', async () => {
    const now = Date.parse('2026-01-01T00:00:00Z');
    expect(retryDelayMs('Thu, 01 Jan 2026 00:00:05 GMT', 0, now)).toBe(5000);
    expect(retryDelayMs('Wed, 31 Dec 2025 23:59:00 GMT', 0, now)).toBe(0);
    expect(retryDelayMs(' 7 ', 0, now)).toBe(7000);
    expect([0, 1, 2, 3, 4, 5, 9].map((n) => retryDelayMs(undefined, n))).toEqual([1000, 2000, 4000, 8000, 16_000, 16_000, 16_000]);
    expect(retryDelayMs('soon', 1)).toBe(2000);
    plans.set('/b', { statuses: [429, 200], hits: 0 });
    const { waits, client } = recorderWithFakeSleep();
    expect((await client.get('/b')).status).toBe(200);
    expect(waits).toEqual([1000]);
  });

  it('leaves 429 to the caller with retry: false (checks that provoke it)', async () => {
    plans.set('/c', { statuses: [429, 200], retryAfter: '1', hits: 0 });
    const { waits, client } = recorderWithFakeSleep();
    expect((await client.get('/c', { retry: false })).status).toBe(429);
    expect(waits).toEqual([]);
  });

  it('is inconclusive once a check would wait past its budget (60 s × --timeout-scale)', async () => {
    plans.set('/d', { statuses: [429], retryAfter: '25', hits: 0 });
    const { waits, client } = recorderWithFakeSleep();
    const scope = newScope('T-2', 'check');
    const error = await inScope(scope, () => client.get('/d')).catch((e) => e);
    expect(error).toBeInstanceOf(Inconclusive);
    expect(error.message).toBe("the target answered 429 (rate limited) to GET /d; waiting 25 s more would pass this check's wait budget of 60 s (50 s already waited; --timeout-scale raises it)");
    expect(waits).toEqual([25_000, 25_000]);
    // Twice the scale, twice the budget.
    plans.set('/d', { statuses: [429, 429, 429, 429, 200], retryAfter: '25', hits: 0 });
    const scaled = recorderWithFakeSleep({ timeoutScale: 2 });
    expect((await inScope(newScope('T-3', 'check'), () => scaled.client.get('/d'))).status).toBe(200);
    expect(scaled.waits).toEqual([25_000, 25_000, 25_000, 25_000]);
  });

  it('waits out 503 + Retry-After (nothing was changed, come back then) within the same budget, and gives the check the 503 once it is spent', async () => {
    plans.set('/u', { statuses: [503, 503, 200], retryAfter: '3', hits: 0 });
    const { recorder, waits, client } = recorderWithFakeSleep();
    expect((await inScope(newScope('T-5', 'check'), () => client.get('/u'))).status).toBe(200);
    expect(waits).toEqual([3000, 3000]);
    expect(recorder.exchanges.map((e) => e.status)).toEqual([503, 503, 200]);
    // Unavailable for the whole budget: the check judges the 503 it got (a target down for good fails, it is not undecided).
    plans.set('/v', { statuses: [503], retryAfter: '25', hits: 0 });
    const down = recorderWithFakeSleep();
    const res = await inScope(newScope('T-6', 'check'), () => down.client.get('/v'));
    expect(res.status).toBe(503);
    expect(down.waits).toEqual([25_000, 25_000]);
    // A 503 without Retry-After says nothing about when to come back: not retried; nor with retry: false.
    plans.set('/w', { statuses: [503, 200], hits: 0 });
    const plain = recorderWithFakeSleep();
    expect((await plain.client.get('/w')).status).toBe(503);
    plans.set('/x', { statuses: [503, 200], retryAfter: '1', hits: 0 });
    expect((await plain.client.get('/x', { retry: false })).status).toBe(503);
    expect(plain.waits).toEqual([]);
    // 'unavailable-only' (the probes that judge their own 429s): a 429 comes back at once, a 503 is still waited out.
    plans.set('/z', { statuses: [429, 200], retryAfter: '1', hits: 0 });
    expect((await plain.client.get('/z', { retry: 'unavailable-only' })).status).toBe(429);
    expect(plain.waits).toEqual([]);
    plans.set('/z2', { statuses: [503, 429], retryAfter: '2', hits: 0 });
    expect((await plain.client.get('/z2', { retry: 'unavailable-only' })).status).toBe(429);
    expect(plain.waits).toEqual([2000]);
    // Other 5xx are never retried, Retry-After or not.
    plans.set('/y', { statuses: [500, 200], retryAfter: '1', hits: 0 });
    expect((await plain.client.get('/y')).status).toBe(500);
  });

  it('a Retry-After longer than the whole budget is inconclusive at once, without waiting', async () => {
    plans.set('/e', { statuses: [429], retryAfter: '900', hits: 0 });
    const { waits, client } = recorderWithFakeSleep();
    await expect(client.get('/e')).rejects.toBeInstanceOf(Inconclusive);
    expect(waits).toEqual([]);
  });

  it('holds the checks to --max-requests, but not the preflight or the cleanup', async () => {
    plans.set('/f', { statuses: [200], hits: 0 });
    const { recorder, client } = recorderWithFakeSleep({ maxRequests: 2 });
    await inScope(newScope('preflight', 'preflight'), () => client.get('/f'));
    await inScope(newScope('T-4', 'check'), async () => {
      await client.get('/f');
      await client.get('/f');
      await expect(client.get('/f')).rejects.toThrow('the request budget is used up (--max-requests 2); GET /f was not sent');
    });
    await inScope(newScope('cleanup', 'cleanup'), () => client.get('/f'));
    expect(recorder.sent).toEqual({ preflight: 1, check: 2, cleanup: 1 });
    expect(recorder.budgetExhausted()).toBe(true);
    expect(plans.get('/f')!.hits).toBe(4);
  });

  it('stops when its scope is aborted, with the abort reason', async () => {
    const { client } = recorderWithFakeSleep();
    const controller = new AbortController();
    controller.abort(new Inconclusive('stopped'));
    await expect(inScope(newScope('T-5', 'check', controller.signal), () => client.get('/f'))).rejects.toThrow('stopped');
  });

  it('says in words why a request got no answer', async () => {
    const closed = createServer();
    await new Promise<void>((r) => closed.listen(0, '127.0.0.1', r));
    const url = `http://127.0.0.1:${(closed.address() as AddressInfo).port}`;
    await new Promise<void>((r) => closed.close(() => r()));
    const error = await createClient(createRecorder(), url).get('/x').catch((e) => e);
    expect(error).toBeInstanceOf(NetworkError);
    expect(error.message).toBe(`GET ${url}/x: connection refused`);
  });
});

describe('media types (RFC 9110 §8.3.1)', () => {
  it.each([
    ['application/problem+json', true],
    ['application/problem+json; charset=utf-8', true],
    ['Application/Problem+JSON', true],
    ['APPLICATION/PROBLEM+JSON ; Charset="UTF-8"', true],
    ['application/problem+json;charset=utf-8;', true],
    [' application/problem+json ', true],
    ['application/json', false],
    ['application/problem+jsonx', false],
    ['application/problem+json, text/html', false],
    ['application/problem+json; charset', false],
    ['', false],
    [undefined, false],
  ])('%j is problem+json: %s', (value, expected) => {
    expect(isMediaType(value, 'application/problem+json')).toBe(expected);
  });

  it('keeps parameters, names lowercased, quoted values unquoted', () => {
    expect(parseMediaType('Text/HTML; Charset="utf-8"; q="a;b"')).toEqual({ essence: 'text/html', type: 'text', subtype: 'html', parameters: { charset: 'utf-8', q: 'a;b' } });
  });
});

describe('JSON compared as values', () => {
  it('ignores member order, not anything else', () => {
    expect(sameJson({ a: 1, b: { c: [1, { d: 2, e: 3 }] } }, { b: { c: [1, { e: 3, d: 2 }] }, a: 1 })).toBe(true);
    expect(sameJson({ a: 1 }, { a: 1, b: undefined })).toBe(false);
    expect(sameJson([1, 2], [2, 1])).toBe(false);
    expect(sameJson({ a: '1' }, { a: 1 })).toBe(false);
    expect(sameJson(null, {})).toBe(false);
    expect(sameJson({ a: [] }, { a: {} })).toBe(false);
  });
});

describe('curl commands', () => {
  const key = 'pk_test_AbCdEf0123456789.sk_test_SuperSecretValue0123456789abcdef';
  const placeholders = placeholdersFor({ apiKey: key, password: "it's-a-password" }, [
    { value: 'sessionCookieValue123', label: 'a session cookie', revealedIn: new Set() },
    { value: 'whsec_abcdefghijklmnop', label: 'the webhook signing secret', revealedIn: new Set() },
  ]);

  it('turns every known secret into a shell variable and masks anything else shaped like one', () => {
    expect(shellWord(`X-Api-Key: ${key}`, placeholders)).toBe(`'X-Api-Key: '"$PACSPACE_API_KEY"`);
    expect(shellWord('key=sk_test_Unknown999', placeholders)).toBe(`'key=sk_test_[REDACTED]'`);
    expect(shellWord("it's", placeholders)).toBe(`'it'\\''s'`);
    const ex = {
      id: 3,
      method: 'POST',
      url: 'https://api.example/dashboard/auth/login',
      path: '/dashboard/auth/login',
      requestHeaders: { 'content-type': 'application/json', cookie: 'pacspace_access=sessionCookieValue123' },
      requestBody: JSON.stringify({ email: 'a@b.c', password: "it's-a-password" }),
      status: 401,
      headers: { 'content-type': 'application/problem+json', 'x-request-id': 'req_12345678' },
      setCookies: [],
      text: '{"code":"invalid_credentials","echo":"whsec_abcdefghijklmnop"}',
      body: undefined,
    };
    expect(curlOf(ex, placeholders)).toBe(
      [
        `curl -i -X POST 'https://api.example/dashboard/auth/login'`,
        `  -H 'content-type: application/json'`,
        `  -H 'cookie: pacspace_access='"$PACSPACE_SESSION_COOKIE_1"`,
        `  --data-binary '{"email":"a@b.c","password":"'"$PACSPACE_PASSWORD"'"}'`,
      ].join(' \\\n'),
    );
    expect(responseOf(ex, placeholders)).toBe('HTTP 401\ncontent-type: application/problem+json\nx-request-id: req_12345678\n\n{"code":"invalid_credentials","echo":"$PACSPACE_WEBHOOK_SECRET_1"}');
  });

  it('cuts a large body, and says so', () => {
    const ex = { id: 1, method: 'POST', url: 'http://x/y', path: '/y', requestHeaders: {}, requestBody: 'x'.repeat(5000), status: 413, headers: {}, setCookies: [], text: '', body: undefined };
    const curl = curlOf(ex, []);
    expect(curl.split('\n')[0]).toBe('# the request body was 5000 bytes; only the first 1000 are shown');
    expect(curl).toContain(`--data-binary '${'x'.repeat(1000)}'`);
  });
});
