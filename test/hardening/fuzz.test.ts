// Fuzz: more than 10,000 requests generated with fast-check from the contract's own schemas,
// across every operation of generated/openapi.json, sent to a real sandbox one at a time —
// handed to its app in process as its listener would (PACSPACE_TEST_TRANSPORT=loopback: over
// loopback HTTP). Bodies are valid, broken (wrong types, missing and extra members,
// huge and odd strings, odd numbers) or not JSON at all (truncated, repeated members, deep
// nesting, invalid UTF-8, UTF-16); path parameters are real ids, random valid-looking ids or
// odd and badly percent-encoded strings; queries gain wrong types, repeats and extras; keys
// are real, malformed, of the other environment or with a wrong secret; cookies are real,
// empty, garbled or repeated; the CSRF header and the content type vary.
//
// (Messages Node's HTTP parser refuses before any operation sees them — a request line and
// headers over its 16 KiB limit, broken HTTP framing — are out of scope: requests here stay
// within the limit.)
//
// Every answer must be: below 500; documented for its operation and valid against the
// contract (status, content type, body schema, required headers — conformance/lib/contract.ts);
// not flagged by the sandbox's own response validation; and, when it is an error, a
// problem+json that changed nothing (the store's event count, less webhook delivery attempts,
// which happen in the background, is the same before and after). The compiled request and
// response validators are shadowed by Prism's all along and must never accept more.
//
// Reproducible: PACSPACE_FUZZ_SEED picks the seed (default 20261123), PACSPACE_FUZZ_RUNS the
// requests per operation (default 280; 37 operations).
import { appendFileSync } from 'node:fs';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadContract } from '../../conformance/lib/contract.ts';
import { setShadowValidation, shadowDisagreements as disagreements } from '../../mock/app.ts';
import { ACCESS_COOKIE, REFRESH_COOKIE } from '../../mock/gate/authenticate.ts';
import { hashSecret } from '../../mock/security/secrets.ts';
import { loginDemo } from '../../mock/testing/accounts.ts';
import { CSRF, startTestSandbox, type TestSandbox } from '../../mock/testing/test-sandbox.ts';
import type { SandboxEvent } from '../../mock/state/events.ts';
import { broken, createDeref, LOOPBACK_URLS, oddString, rawBody, valid, type Schema } from './fuzz-arbitraries.ts';
import { createInProcessPool, createPool, type RawRequest, type RawResponse } from './http.ts';

const SEED = Number(process.env.PACSPACE_FUZZ_SEED ?? 20261123);
const RUNS_PER_OPERATION = Number(process.env.PACSPACE_FUZZ_RUNS ?? 280);

const contract = loadContract();
const deref = createDeref(contract.doc);

let sb: TestSandbox;
let realFetch: typeof fetch;
/** Events committed in the background (webhook delivery attempts), not by the request answered. */
let backgroundEvents = 0;
const visibleEvents = () => sb.services.store.eventCount - backgroundEvents;
/** The types of the events committed, in order (to name what a rejected request changed). */
const committed: string[] = [];
/**
 * The one rejection that must change state: a rotated refresh cookie presented again is
 * taken for theft, and the whole session family is revoked (401 and session.revoked).
 */
const allowedOnRejection = (operationId: string, status: number, events: string[]) =>
  operationId === 'refreshSession' && status === 401 && events.length === 1 && events[0] === 'session.revoked:refresh_reuse';

type Identity = {
  testKey: string;
  liveKey: string;
  cookies: Record<string, string>;
  ids: Record<string, string[]>;
};
const me: Identity = { testKey: '', liveKey: '', cookies: {}, ids: {} };

beforeAll(async () => {
  // Deliveries go only to loopback: anything else fails at once (and nothing leaves the machine).
  realFetch = globalThis.fetch;
  globalThis.fetch = ((input: any, init?: any) => {
    const url = new URL(typeof input === 'string' || input instanceof URL ? input : input.url);
    if (!['127.0.0.1', 'localhost', '[::1]'].includes(url.hostname)) return Promise.reject(new TypeError('fuzz: only loopback is reachable'));
    return realFetch(input, init);
  }) as typeof fetch;

  sb = await startTestSandbox({
    logLevel: 'silent',
    // Nothing scheduled fires during the run: no confirmations, activations or retries.
    confirmationMs: 1e9,
    provisioningMs: 1e9,
    freePlanDeltas: 1_000_000,
    webhooks: { timeoutMs: 500, retryDelaysMs: [1e9] },
    rateLimits: { client: { capacity: 1_000_000, refillPerSecond: 1_000_000 }, apiKey: { capacity: 1_000_000, refillPerSecond: 1_000_000 } },
  });
  const store = sb.services.store;
  const commit = store.commit.bind(store);
  store.commit = (...events: SandboxEvent[]) => {
    backgroundEvents += events.filter((e) => e.type === 'webhook.delivery.attempted').length;
    for (const e of events) if (e.type !== 'webhook.delivery.attempted') committed.push(e.type === 'session.revoked' ? `${e.type}:${e.reason}` : e.type);
    return commit(...events);
  };
  setShadowValidation(true);
  disagreements.length = 0;

  // Real resources for path parameters; the demo key the requests authenticate with is
  // never among them (so the fuzz cannot disable, regenerate or delete it).
  me.testKey = sb.demo!.apiKey;
  await loginDemo(sb);
  // Production (mainnet) activated for live keys: provisioned, then the sandbox clock moved past it.
  expect((await sb.dashboard.post('/dashboard/contracts/provision', { headers: CSRF, json: { environment: 'mainnet' } })).status).toBe(201);
  sb.services.clock.advance(1e9 + 1_000);
  sb.dashboard.jar.clear();
  await loginDemo(sb);
  const live = await sb.dashboard.post('/dashboard/api-keys', { headers: CSRF, json: { name: 'fuzz-live', environment: 'live' } });
  expect(live.status).toBe(201);
  me.liveKey = live.body.data.fullKey;
  me.ids = { apiKey: [], webhook: [] };
  await ensureVictims();
  const receipts: string[] = [];
  for (let i = 0; i < 3; i++) {
    const r = await sb.sandboxApi.post('/api/v1/balance/delta', { headers: { 'X-Api-Key': me.testKey }, json: { customerId: 'fuzz_customer', delta: `${i + 1}.5`, reason: 'seed' } });
    receipts.push(r.body.data.receiptId);
  }
  const cp = await sb.sandboxApi.post('/api/v1/balance/checkpoint', { headers: { 'X-Api-Key': me.testKey }, json: { customerId: 'fuzz_customer' } });
  const user = (await sb.dashboard.get('/dashboard/auth/me')).body.data;
  me.ids = {
    ...me.ids,
    receiptId: receipts,
    checkpointId: [cp.body.data.checkpointId],
    proofRoot: [cp.body.data.proofRoot],
    customerId: ['fuzz_customer', 'customer_001'],
    tenantId: [user.tenantId ?? user.user?.tenantId ?? 'tnt_unknown'],
  };
  me.cookies = Object.fromEntries(sb.dashboard.jar);
}, 60_000);

afterAll(async () => {
  setShadowValidation(false);
  if (realFetch) globalThis.fetch = realFetch;
  await sb?.close();
});

/** Logs the demo account in again when the fuzz ended its session (logout, refresh rotation). */
async function ensureSession() {
  const state = sb.services.store.state;
  const access = me.cookies[ACCESS_COOKIE];
  const session = access ? state.sessionsByAccess.get(hashSecret(access)) : undefined;
  const refreshOk = me.cookies[REFRESH_COOKIE] !== undefined && session?.refreshHash === hashSecret(me.cookies[REFRESH_COOKIE]);
  if (session && !session.revoked && refreshOk && session.accessExpiresAt > sb.services.clock.now()) return;
  sb.services.limits.login.forget(sb.demo!.email.toLowerCase());
  sb.dashboard.jar.clear();
  await loginDemo(sb);
  me.cookies = Object.fromEntries(sb.dashboard.jar);
}

/**
 * Keys and webhook endpoints the fuzz may regenerate, toggle, rotate or delete: three of
 * each, re-created (outside any measured request) when the fuzz deleted one.
 */
async function ensureVictims() {
  const state = sb.services.store.state;
  me.ids.apiKey = (me.ids.apiKey ?? []).filter((id) => state.apiKeys.has(id));
  me.ids.webhook = (me.ids.webhook ?? []).filter((id) => state.webhooks.endpoints.has(id));
  if (me.ids.apiKey.length >= 3 && me.ids.webhook.length >= 3) return;
  await ensureSession();
  while (me.ids.apiKey.length < 3) {
    const environment = me.ids.apiKey.length % 2 ? 'live' : 'test';
    const created = await sb.dashboard.post('/dashboard/api-keys', { headers: CSRF, json: { name: `victim-${environment}`, environment } });
    me.ids.apiKey.push(created.body.data.id);
  }
  while (me.ids.webhook.length < 3) {
    const created = await sb.dashboard.post('/dashboard/webhooks', { headers: CSRF, json: { url: LOOPBACK_URLS[0], events: ['delta.recorded'] } });
    me.ids.webhook.push(created.body.data.id);
  }
  me.cookies = Object.fromEntries(sb.dashboard.jar);
}

/** Which pool of real ids a path parameter draws from. */
const poolOf = (path: string, name: string) => (name === 'id' ? (path.includes('/webhooks/') ? 'webhook' : 'apiKey') : name);

type Operation = (typeof contract.operations)[number];

const badKeys = (good: string): fc.Arbitrary<string> =>
  fc.oneof(
    fc.constantFrom(
      '',
      ' ',
      'pk_test_',
      good.toUpperCase(),
      `${good} `.trimStart() + ' ',
      good.replace('sk_test_', 'sk_live_').replace('sk_live_', 'sk_test_'),
      good.replace(/.$/, (c) => (c === 'a' ? 'b' : 'a')),
      `${good.split('.')[0]}.`,
      good.split('.')[1] ?? '',
      `Bearer ${good}`,
      'pk_test_AAAAAAAAAAAA.sk_test_AAAAAAAAAAAAAAAAAAAAAAAA',
      `${good},${good}`,
    ),
    fc.string({ unit: fc.constantFrom(...'abcXYZ019_.-:; '.split('')), maxLength: 80 }),
    fc.integer({ min: 200, max: 4_000 }).map((n) => `pk_test_${'a'.repeat(n)}.sk_test_${'b'.repeat(32)}`),
  );

const badCookies = (): fc.Arbitrary<string> =>
  fc.oneof(
    fc.constantFrom(
      `${ACCESS_COOKIE}=`,
      `${ACCESS_COOKIE}`,
      `${ACCESS_COOKIE}=%%%`,
      `${ACCESS_COOKIE}="quoted"`,
      `${ACCESS_COOKIE}=${'A'.repeat(43)}; ${ACCESS_COOKIE}=again`,
      `;;;=;`,
      `${REFRESH_COOKIE}=x; ${ACCESS_COOKIE}=y`,
      '=',
    ),
    fc.string({ unit: fc.constantFrom(...'ab=;, %"\t'.split('')), maxLength: 60 }).map((s) => `${ACCESS_COOKIE}=${s}`),
  );

const CONTENT_TYPES = [
  'application/json',
  'application/json; charset=utf-8',
  'APPLICATION/JSON',
  'application/problem+json',
  'application/json; charset=latin1',
  'text/plain',
  'application/x-www-form-urlencoded',
  'multipart/form-data; boundary=x',
  '',
  'application/',
  '*/*',
];

/** Header-safe (latin-1 printable) text; node:http refuses anything else before it is sent. */
const headerText = (): fc.Arbitrary<string> =>
  fc.oneof(fc.string({ unit: fc.integer({ min: 0x20, max: 0x7e }).map((c) => String.fromCharCode(c)), maxLength: 60 }), fc.constantFrom('é', '\u00ff'.repeat(10), 'a\tb'));

/** Percent-encoding that also takes lone surrogates (as their UTF-8 replacement bytes). */
const pct = (value: string): string => {
  try {
    return encodeURIComponent(value);
  } catch {
    return [...Buffer.from(value, 'utf8')].map((b) => `%${b.toString(16).toUpperCase().padStart(2, '0')}`).join('');
  }
};

const oddSegment = (): fc.Arbitrary<string> =>
  fc.oneof(
    oddString().map((s) => pct(s.slice(0, 300))),
    fc.constantFrom('%zz', '%E0%A4%A', '%C3%28', '%00', '..', '.', '%2F', 'a%2Fb', 'a,b', '%20', `${'%41'.repeat(200)}`),
    fc.string({ unit: fc.constantFrom(...'abcXYZ019_-.~'.split('')), maxLength: 30 }).filter((s) => s.length > 0),
  );

type Sample = { label: string; listener: 'test' | 'live'; materialize(): RawRequest };

function operationArbitrary(op: Operation): fc.Arbitrary<Sample> {
  const o = op.operation;
  const params = (o.parameters ?? []).map((p: any) => deref(p));
  const pathParams = params.filter((p: any) => p.in === 'path');
  const queryParams = params.filter((p: any) => p.in === 'query');
  const headerParams = params.filter((p: any) => p.in === 'header');
  const security: Array<Record<string, string[]>> = o.security ?? contract.doc.security ?? [];
  const usesKey = security.some((s) => 'ApiKeyAuth' in s);
  const usesSession = security.some((s) => 'DashboardSession' in s || 'DashboardRefresh' in s);
  const isBalance = op.path.startsWith('/api/');
  const bodySchema: Schema | undefined = o.requestBody?.content?.['application/json']?.schema;

  // A real id is picked when the request is sent (the fuzz may have deleted the one it had).
  const segment = (p: any): fc.Arbitrary<() => string> =>
    fc.oneof(
      { weight: 5, arbitrary: fc.nat().map((n) => () => { const ids = me.ids[poolOf(op.path, p.name)] ?? []; return ids.length ? pct(ids[n % ids.length]!) : 'none'; }) },
      { weight: 2, arbitrary: valid(p.schema, deref).map((v) => () => pct(String(v))) },
      { weight: 2, arbitrary: oddSegment().map((v) => () => v) },
    );
  const path = fc.tuple(...pathParams.map(segment)).map((values) => () => {
    let out = op.path;
    pathParams.forEach((p: any, i: number) => (out = out.replace(`{${p.name}}`, (values[i] as () => string)())));
    return out;
  });

  const queryValue = (p: any) =>
    fc.oneof(
      { weight: 4, arbitrary: valid(p.schema, deref).map((v) => [String(v)]) },
      { weight: 1, arbitrary: fc.constant([] as string[]) },
      { weight: 2, arbitrary: fc.oneof(oddString().map((v) => v.slice(0, 2_000)), fc.constantFrom('-1', '0', '1.5', '1e3', '99999999999999999999', 'true', '')).map((v) => [v]) },
      { weight: 1, arbitrary: fc.tuple(valid(p.schema, deref), valid(p.schema, deref)).map(([a, b]) => [String(a), String(b)]) },
    );
  const query = fc
    .tuple(
      fc.tuple(...queryParams.map((p: any) => queryValue(p).map((values: string[]) => values.map((v) => `${pct(p.name)}=${pct(v)}`)))),
      fc.oneof(
        { weight: 5, arbitrary: fc.constant([] as string[]) },
        { weight: 1, arbitrary: fc.constantFrom(['api_key=KEY'], ['token=%zz'], ['a=1&a=2'], ['=='], ['%E0%A4%A=1'], ['x=' + 'y'.repeat(3000)]) },
      ),
    )
    .map(([own, extra]) => [...(own as string[][]).flat(), ...extra].join('&'));

  const credentials = fc.oneof(
    { weight: 7, arbitrary: fc.constant({ kind: 'valid' as const }) },
    { weight: 2, arbitrary: badKeys(me.testKey).map((key) => ({ kind: 'bad-key' as const, key })) },
    { weight: 2, arbitrary: badCookies().map((cookie) => ({ kind: 'bad-cookie' as const, cookie })) },
    { weight: 1, arbitrary: fc.constant({ kind: 'other-environment' as const }) },
    { weight: 1, arbitrary: fc.constant({ kind: 'none' as const }) },
  );

  const headerExtras = fc.record(
    {
      idempotency: fc.oneof(headerParams.length ? valid(deref(headerParams[0]).schema, deref).map(String) : fc.constant('k'), headerText()),
      csrf: fc.oneof({ weight: 6, arbitrary: fc.constant('1') }, { weight: 1, arbitrary: fc.constantFrom('0', '', 'true', ' 1', '1, 1') }),
      contentType: fc.constantFrom(...CONTENT_TYPES),
      extra: fc.tuple(fc.constantFrom('x-forwarded-for', 'x-request-id', 'accept', 'prefer-not', 'x-api-key-2', 'authorization'), headerText()),
    },
    { requiredKeys: ['csrf'] },
  );

  const body: fc.Arbitrary<{ kind: string; bytes?: Buffer }> = bodySchema
    ? fc.oneof(
        { weight: 4, arbitrary: valid(bodySchema, deref).map((v) => ({ kind: 'valid', bytes: Buffer.from(JSON.stringify(v)) })) },
        { weight: 5, arbitrary: broken(bodySchema, deref).map((v) => ({ kind: 'broken', bytes: Buffer.from(JSON.stringify(v) ?? 'null') })) },
        { weight: 2, arbitrary: rawBody(valid(bodySchema, deref)).map((bytes) => ({ kind: 'raw', bytes })) },
        { weight: 1, arbitrary: fc.constant({ kind: 'none' }) },
      )
    : fc.oneof(
        { weight: 6, arbitrary: fc.constant({ kind: 'none' }) },
        { weight: 1, arbitrary: rawBody(fc.constant({ a: 1 })).map((bytes) => ({ kind: 'unexpected', bytes })) },
      );

  return fc
    .record({
      path,
      query,
      credentials,
      headerExtras,
      body,
      method: fc.oneof({ weight: 30, arbitrary: fc.constant(op.method) }, { weight: 1, arbitrary: fc.constantFrom('PUT', 'PATCH', 'DELETE', 'OPTIONS') }),
      listener: isBalance ? fc.oneof({ weight: 5, arbitrary: fc.constant('test' as const) }, { weight: 1, arbitrary: fc.constant('live' as const) }) : fc.constant('live' as const),
    })
    .map((c) => ({
      label: `${o.operationId} [${c.credentials.kind}, body ${c.body.kind}, ${c.listener}]`,
      listener: c.listener,
      // Credentials are filled in when the request is sent (the session may have changed since).
      materialize: (): RawRequest => {
        const headers: Record<string, string> = {};
        const key = c.listener === 'test' ? me.testKey : me.liveKey;
        if (c.credentials.kind === 'valid' || c.credentials.kind === 'bad-cookie') {
          if (usesKey || !usesSession) headers['x-api-key'] = key;
        }
        if (c.credentials.kind === 'other-environment') headers['x-api-key'] = c.listener === 'test' ? me.liveKey : me.testKey;
        if (c.credentials.kind === 'bad-key') headers['x-api-key'] = c.credentials.key;
        const cookie = Object.entries(me.cookies).map(([k, v]) => `${k}=${v}`).join('; ');
        if (c.credentials.kind === 'bad-cookie') headers.cookie = c.credentials.cookie;
        else if (c.credentials.kind !== 'none' && cookie && (usesSession || !usesKey)) headers.cookie = cookie;
        if (c.headerExtras.csrf !== undefined) headers['x-pacspace-csrf'] = c.headerExtras.csrf;
        if (headerParams.length && c.headerExtras.idempotency !== undefined) headers['idempotency-key'] = c.headerExtras.idempotency;
        if (c.headerExtras.extra) headers[c.headerExtras.extra[0]] = c.headerExtras.extra[1];
        if (c.body.bytes !== undefined) headers['content-type'] = c.headerExtras.contentType ?? 'application/json';
        const q = c.query.replace('api_key=KEY', `api_key=${pct(key)}`);
        return { method: c.method, path: `${c.path()}${q ? `?${q}` : ''}`, headers, ...(c.body.bytes !== undefined ? { body: c.body.bytes } : {}) };
      },
    }));
}

describe('fuzz', () => {
  it(`${RUNS_PER_OPERATION} generated requests for each operation of the contract: no 5xx, every answer documented, errors change nothing`, async () => {
    // In process by default (the app's answers are what is fuzzed; the socket is out of scope,
    // above); PACSPACE_TEST_TRANSPORT=loopback sends the same requests over the listeners.
    const pools =
      sb.transport === 'in-process'
        ? { test: createInProcessPool(sb.sandboxUrl, sb.handle, 'test'), live: createInProcessPool(sb.productionUrl, sb.handle, 'live') }
        : { test: createPool(sb.sandboxUrl, 1), live: createPool(sb.productionUrl, 1) };
    const failures: string[] = [];
    const statuses = new Map<string, Map<string, number>>();
    let sent = 0;
    try {
      for (const [index, op] of contract.operations.entries()) {
        const samples = fc.sample(operationArbitrary(op), { numRuns: RUNS_PER_OPERATION, seed: SEED + index });
        const seen = new Map<string, number>();
        statuses.set(op.operation.operationId, seen);
        for (const sample of samples) {
          await ensureSession();
          await ensureVictims();
          const { label, listener } = sample;
          const request = sample.materialize();
          const before = visibleEvents();
          const committedBefore = committed.length;
          if (process.env.PACSPACE_FUZZ_TRACE) appendFileSync(process.env.PACSPACE_FUZZ_TRACE, `${label} ${request.method} ${request.path.slice(0, 200)} ${request.body?.length ?? '-'} ${JSON.stringify(request.headers).slice(0, 300)} ${request.body === undefined ? '' : Buffer.from(request.body).subarray(0, 200).toString('latin1')}\n`);
          let res: RawResponse;
          try {
            res = await pools[listener].send(request);
          } catch (error) {
            failures.push(`${label} ${request.method} ${request.path.slice(0, 120)}: ${(error as Error).message}`);
            continue;
          }
          sent++;
          const outcome = res.status >= 400 && res.body?.code ? `${res.status} ${res.body.code}` : String(res.status);
          seen.set(outcome, (seen.get(outcome) ?? 0) + 1);
          const where = `${label} ${request.method} ${request.path.slice(0, 120)} → ${res.status}`;
          if (res.status >= 500) failures.push(`${where}: ${res.text.slice(0, 300)}`);
          if (res.headers['sl-violations']) failures.push(`${where}: the sandbox flagged its own answer: ${res.headers['sl-violations']}`);
          const problems = contract.check({
            id: sent,
            method: request.method,
            url: request.path,
            path: request.path.split('?')[0]!,
            requestHeaders: request.headers ?? {},
            status: res.status,
            headers: res.headers,
            setCookies: res.setCookies,
            text: res.text,
            body: res.body,
          });
          if (problems.length) failures.push(`${where}: ${problems.join('; ')}`);
          if (res.status >= 400) {
            if (!String(res.headers['content-type']).startsWith('application/problem+json')) failures.push(`${where}: not problem+json`);
            const changes = committed.slice(committedBefore);
            if (visibleEvents() !== before && !allowedOnRejection(op.operation.operationId, res.status, changes)) {
              failures.push(`${where}: a rejected request changed state (${changes.join(', ')})`);
            }
          }
          if (failures.length > 50) break;
        }
        if (failures.length > 50) break;
      }
    } finally {
      pools.test.close();
      pools.live.close();
    }
    const summary = [...statuses].map(([id, m]) => `${id}: ${[...m].sort(([a], [b]) => a.localeCompare(b)).map(([s, n]) => `${s} ×${n}`).join(', ')}`);
    console.log(`fuzz: ${sent} requests, seed ${SEED}\n  ${summary.join('\n  ')}`);
    expect(failures.slice(0, 20), `${failures.length} failures`).toEqual([]);
    expect(disagreements, 'the compiled validators accepted what Prism rejects').toEqual([]);
    expect(sent).toBeGreaterThanOrEqual(10_000);
    expect(statuses.size).toBe(contract.operations.length);
  }, 240_000);
});
