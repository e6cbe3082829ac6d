// Two rules every JSON request body follows, whatever its operation's schema (the contract's
// "Request bodies" section): the body `null` is a body, not the absence of one, and no string
// may hold a lone UTF-16 surrogate (I-JSON, which RFC 8785 canonical JSON — the proofs'
// leaves — is defined on). Each is a 422 that names the place, over real HTTP, on every
// operation that takes a body, and changes nothing.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadBundle, operations, resolvePointer } from '../../test/contract/load-bundle.ts';
import { loginDemo } from '../testing/accounts.ts';
import type { HttpClient, TestResponse } from '../testing/http-client.ts';
import { CSRF, startTestSandbox, type TestSandbox } from '../testing/test-sandbox.ts';

const doc = loadBundle();
const deref = (node: any): any => (node?.$ref ? deref(resolvePointer(doc, node.$ref)) : node);
const withBody = operations(doc).filter(([, , op]) => op.requestBody);
const optionalBody = withBody.filter(([, , op]) => !deref(op.requestBody).required);

let sb: TestSandbox;
let key: Record<string, string>;
let endpointId: string;

beforeAll(async () => {
  sb = await startTestSandbox();
  key = { 'X-Api-Key': sb.demo!.apiKey };
  await loginDemo(sb);
  const created = await sb.dashboard.post('/dashboard/webhooks', { headers: CSRF, json: { url: 'http://127.0.0.1:9/hooks', events: ['checkpoint.created'] } });
  expect(created.status, created.text).toBe(201);
  endpointId = created.body.data.id;
});
afterAll(() => sb?.close());

/** Sends a raw JSON body to an operation with the credentials it needs (ids from the contract's examples). */
function send(method: string, template: string, op: any, raw: string, ids: Record<string, string> = {}): Promise<TestResponse> {
  const params = [...(doc.paths[template]!.parameters ?? []), ...(op.parameters ?? [])].map(deref);
  const path = template.replace(/\{([^}]+)\}/g, (_m, name: string) => ids[name] ?? params.find((p: any) => p.name === name)!.example);
  const schemes = (op.security ?? []).flatMap((s: Record<string, unknown>) => Object.keys(s));
  const client: HttpClient = path.startsWith('/api/') ? sb.sandboxApi : sb.dashboard;
  const headers: Record<string, string> = { 'content-type': 'application/json' };
  if (schemes.includes('ApiKeyAuth')) Object.assign(headers, key);
  if (schemes.includes('CsrfHeader')) Object.assign(headers, CSRF);
  return client.request(method, path, { headers, raw, noCookies: !schemes.includes('DashboardSession') });
}

function expect422(res: TestResponse, path: string, detail: string, validation: unknown[]) {
  expect(res.status, res.text).toBe(422);
  expect(res.headers.get('content-type')).toBe('application/problem+json');
  expect(res.body).toEqual({
    type: 'https://docs.pacspace.io/errors/validation_failed',
    title: 'Validation failed',
    status: 422,
    detail,
    code: 'validation_failed',
    requestId: expect.stringMatching(/^req_[A-Za-z0-9]{8,64}$/),
    instance: path,
    validation,
  });
  expect(res.headers.get('x-request-id')).toBe(res.body.requestId);
}

const NULL_DETAIL = 'The request body is null; send an object, or no body where it is optional.';
const NULL_VIOLATION = [{ location: ['body'], severity: 'Error', code: 'type', message: 'must be object' }];
const SURROGATE_DETAIL = 'A string in the request body holds a lone UTF-16 surrogate, which I-JSON forbids.';
const surrogateAt = (...location: string[]) => ({ location: ['body', ...location], severity: 'Error', code: 'i-json', message: 'must not contain a lone UTF-16 surrogate' });
const surrogateName = (...location: string[]) => ({
  location: ['body', ...location],
  severity: 'Error',
  code: 'i-json',
  message: 'must not have a member name with a lone UTF-16 surrogate',
});

describe('the body null', () => {
  it('the operations with an optional body are rotate-secret and test', () => {
    expect(optionalBody.map(([, , op]) => op.operationId).sort()).toEqual(['rotateWebhookSecret', 'sendWebhookTestEvent']);
  });

  it.each(optionalBody.map(([m, p, op]) => [op.operationId, m, p, op] as const))('%s: null → 422 at the body; nothing rotated or sent', async (_id, method, template, op) => {
    const path = template.replace('{id}', endpointId);
    const before = { events: sb.services.store.eventCount, endpoint: (await sb.dashboard.get(`/dashboard/webhooks/${endpointId}`)).body };
    const deliveries = (await sb.dashboard.get(`/dashboard/webhooks/${endpointId}/deliveries`)).body.data.total;
    expect422(await send(method, template, op, 'null', { id: endpointId }), path, NULL_DETAIL, NULL_VIOLATION);
    expect422(await send(method, template, op, ' null\n', { id: endpointId }), path, NULL_DETAIL, NULL_VIOLATION);
    expect(sb.services.store.eventCount).toBe(before.events);
    expect((await sb.dashboard.get(`/dashboard/webhooks/${endpointId}`)).body).toEqual(before.endpoint);
    expect((await sb.dashboard.get(`/dashboard/webhooks/${endpointId}/deliveries`)).body.data.total).toBe(deliveries);
  });

  it('without a body, or with {}, rotate-secret still rotates (the refusal is about null only)', async () => {
    const none = await sb.dashboard.post(`/dashboard/webhooks/${endpointId}/rotate-secret`, { headers: CSRF });
    expect(none.status, none.text).toBe(200);
    const empty = await sb.dashboard.post(`/dashboard/webhooks/${endpointId}/rotate-secret`, { headers: CSRF, json: {} });
    expect(empty.status, empty.text).toBe(200);
    expect(empty.body.data.secret).not.toBe(none.body.data.secret);
  });

  it.each(withBody.map(([m, p, op]) => [`${m} ${p}`, m, p, op] as const))('%s: null → 422 at the body, nothing changed', async (_name, method, template, op) => {
    const before = sb.services.store.eventCount;
    const res = await send(method, template, op, 'null', { id: endpointId });
    expect422(res, res.body?.instance ?? '', NULL_DETAIL, NULL_VIOLATION);
    expect(sb.services.store.eventCount).toBe(before);
  });

  it('credentials are still checked first: null without a key is a 401', async () => {
    const res = await sb.sandboxApi.post('/api/v1/balance/delta', { headers: { 'content-type': 'application/json' }, raw: 'null' });
    expect(res.status).toBe(401);
  });
});

describe('lone UTF-16 surrogates', () => {
  const derive = (customerId: string) => sb.sandboxApi.get(`/api/v1/balance/derive/${encodeURIComponent(customerId)}`, { headers: key });
  const postDelta = (raw: string) => sb.sandboxApi.post('/api/v1/balance/delta', { headers: { ...key, 'content-type': 'application/json' }, raw });

  // Raw JSON texts: `\ud800` below is the six characters of a JSON escape.
  const cases: Array<[string, string, unknown[]]> = [
    ['a lone high surrogate in reason', String.raw`{"customerId":"surr-1","delta":"1","reason":"usage\ud800"}`, [surrogateAt('reason')]],
    ['a lone low surrogate in reason', String.raw`{"customerId":"surr-1","delta":"1","reason":"\udfffusage"}`, [surrogateAt('reason')]],
    ['a reversed pair in reason', String.raw`{"customerId":"surr-1","delta":"1","reason":"\ude00\ud83d"}`, [surrogateAt('reason')]],
    ['a lone surrogate in a metadata value', String.raw`{"customerId":"surr-1","delta":"1","reason":"usage","metadata":{"note":"x\uD800y"}}`, [surrogateAt('metadata', 'note')]],
    ['a lone surrogate in a metadata key', String.raw`{"customerId":"surr-1","delta":"1","reason":"usage","metadata":{"n\ud800":"x"}}`, [surrogateName('metadata')]],
    ['a lone surrogate in customerId', String.raw`{"customerId":"surr-1\ud800","delta":"1","reason":"usage"}`, [surrogateAt('customerId')]],
    ['a lone surrogate in referenceId', String.raw`{"customerId":"surr-1","delta":"1","reason":"usage","referenceId":"r\udbff"}`, [surrogateAt('referenceId')]],
    ['a lone surrogate in an unknown member', String.raw`{"customerId":"surr-1","delta":"1","reason":"usage","extra":["ok","\ud800"]}`, [surrogateAt('extra', '1')]],
    [
      'several, each listed in order',
      String.raw`{"customerId":"surr-1","delta":"1","reason":"\ud800","metadata":{"a":"\udc00","b\ud800":"c"}}`,
      [surrogateAt('reason'), surrogateName('metadata'), surrogateAt('metadata', 'a')],
    ],
  ];

  it.each(cases)('%s → 422 naming the string, nothing recorded', async (_name, raw, validation) => {
    const before = sb.services.store.eventCount;
    const res = await postDelta(raw);
    expect422(res, '/api/v1/balance/delta', SURROGATE_DETAIL, validation);
    expect(sb.services.store.eventCount).toBe(before);
    expect((await derive('surr-1')).body.data).toMatchObject({ computedBalance: '0.00', deltaCount: 0 });
  });

  it('a surrogate pair (an emoji) and an escaped backslash are fine', async () => {
    const emoji = await postDelta(String.raw`{"customerId":"surr-2","delta":"1","reason":"usage \ud83d\ude00","metadata":{"key":"\ud83d\udd11 \\ud800"}}`);
    expect(emoji.status, emoji.text).toBe(201);
    expect(emoji.body.data.reason).toBe('usage \u{1F600}');
    expect(emoji.body.data.metadata).toEqual({ key: '\u{1F511} \\ud800' });
    expect((await derive('surr-2')).body.data.deltaCount).toBe(1);
  });

  it('so does every other operation that takes a body', async () => {
    for (const [method, template, op] of withBody) {
      const before = sb.services.store.eventCount;
      const res = await send(method, template, op, String.raw`{"\ud800":"x"}`, { id: endpointId });
      expect422(res, res.body?.instance ?? '', SURROGATE_DETAIL, [surrogateName()]);
      expect(sb.services.store.eventCount, `${method} ${template}`).toBe(before);
    }
    const named = await sb.dashboard.post('/dashboard/api-keys', { headers: CSRF, json: { name: 'key\ud800' } });
    expect422(named, '/dashboard/api-keys', SURROGATE_DETAIL, [surrogateAt('name')]);
  });

  // (Was: at most 100 listed, with no count of the rest. Every 422 now lists at most 20 and
  // counts the others in violationsOmitted, so an error answer stays small: see cheap-requests.test.ts.)
  it('the first 20 are listed, and violationsOmitted counts the rest', async () => {
    const metadata = Object.fromEntries(Array.from({ length: 150 }, (_, i) => [`k${i}`, '\ud800']));
    const res = await sb.sandboxApi.post('/api/v1/balance/delta', { headers: key, json: { customerId: 'surr-3', delta: '1', reason: 'usage', metadata } });
    expect(res.status).toBe(422);
    expect(res.body.validation).toHaveLength(20);
    expect(res.body.validation[19]).toEqual(surrogateAt('metadata', 'k19'));
    expect(res.body.violationsOmitted).toBe(130);
  });

  it('a deeply nested body is walked without recursion; its location is cut to 32 segments and …', async () => {
    const depth = 100_000;
    const raw = `{"customerId":"surr-4","delta":"1","reason":"usage","extra":${'['.repeat(depth)}"\\ud800"${']'.repeat(depth)}}`;
    const res = await postDelta(raw);
    expect(res.status, res.text.slice(0, 300)).toBe(422);
    expect(res.body.validation).toHaveLength(1);
    expect(res.body.violationsOmitted).toBeUndefined();
    // (Was the whole 100,002-segment location, about 400 kB: locations are bounded now.)
    expect(res.body.validation[0].location).toEqual(['body', 'extra', ...Array.from({ length: 30 }, () => '0'), '…']);
    expect(res.text.length).toBeLessThan(2_000);
  });

  it('a path parameter cannot carry one: percent-encoded surrogate bytes are not UTF-8 (422)', async () => {
    const res = await sb.sandboxApi.get('/api/v1/balance/derive/%ED%A0%80', { headers: key });
    expect(res.status).toBe(422);
    expect(res.body.code).toBe('validation_failed');
  });
});
