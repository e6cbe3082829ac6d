// The test client itself: both transports give the same answers (status, headers that are not
// about the connection, body, cookies) for the same requests to the same sandbox; the
// in-process transport hands the app what the listener would; a response flagged with
// `sl-violations` fails the request on either transport.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { IncomingRequest, OutgoingResponse } from '../app.ts';
import { loginDemo } from './accounts.ts';
import { createHttpClient, type HttpClient, type TestResponse } from './http-client.ts';
import { CSRF, startTestSandbox, type TestSandbox } from './test-sandbox.ts';

let sb: TestSandbox;
beforeAll(async () => {
  sb = await startTestSandbox({ transport: 'in-process' });
});
afterAll(() => sb?.close());

/** What does not depend on the connection or the moment: no date, keep-alive, transfer coding, request id. */
function comparable(res: TestResponse) {
  const headers = Object.fromEntries(
    [...res.headers].filter(([k]) => !['date', 'connection', 'keep-alive', 'transfer-encoding', 'content-length', 'x-request-id', 'set-cookie'].includes(k)),
  );
  const body = res.body === undefined ? res.text : JSON.parse(res.text.replace(/req_[A-Za-z0-9]{16}/g, 'req_X'));
  return { status: res.status, headers, body, cookies: res.setCookies.map((c) => c.replace(/=[^;]*/, '=…')) };
}

describe('in-process and loopback answer alike', () => {
  const pair = (url: () => string, environment: 'live' | 'test'): [HttpClient, HttpClient] => [
    createHttpClient(url(), { handle: sb.handle, environment }),
    createHttpClient(url()),
  ];

  it.each<[string, 'live' | 'test', string, string, Parameters<HttpClient['request']>[2]?]>([
    ['unknown path', 'test', 'GET', '/nothing/here'],
    ['405 with Allow', 'test', 'PUT', '/api/v1/balance/delta'],
    ['401 without a key', 'test', 'GET', '/api/v1/balance/derive/customer_1'],
    ['Dashboard API on the sandbox listener', 'test', 'GET', '/dashboard/auth/me'],
    ['invalid JSON', 'live', 'POST', '/dashboard/auth/login', { raw: '{"email"', headers: { 'content-type': 'application/json' } }],
    ['unsupported media type (fetch’s text/plain default)', 'live', 'POST', '/dashboard/auth/login', { raw: '{}' }],
    ['validation failed', 'live', 'POST', '/dashboard/auth/login', { json: { email: 'x@example.com' } }],
    ['a dot segment, removed as fetch removes it', 'test', 'GET', '/api/v1/../v1/verify/abc'],
    ['a query string', 'live', 'GET', '/__sandbox/outbox?to=nobody%40example.com'],
    ['HEAD', 'live', 'HEAD', '/__sandbox/clock'],
    ['a foreign Origin on the control surface', 'live', 'POST', '/__sandbox/clock/advance', { json: { ms: 1 }, headers: { origin: 'https://evil.example' } }],
  ])('%s', async (_name, environment, method, path, options) => {
    const [inProcess, loopback] = pair(() => (environment === 'live' ? sb.productionUrl : sb.sandboxUrl), environment);
    const a = await inProcess.request(method, path, options);
    const b = await loopback.request(method, path, options);
    expect(comparable(a)).toEqual(comparable(b));
  });

  it('a logged-in session: the same cookies set, kept and sent, and the same answers with them', async () => {
    const [inProcess, loopback] = pair(() => sb.productionUrl, 'live');
    const clients = { inProcess, loopback };
    for (const client of Object.values(clients)) await loginDemo(sb, client);
    expect([...inProcess.jar.keys()].sort()).toEqual([...loopback.jar.keys()].sort());
    expect(inProcess.jar.size).toBeGreaterThan(0);
    const a = await inProcess.get('/dashboard/auth/me');
    const b = await loopback.get('/dashboard/auth/me');
    expect(a.status).toBe(200);
    expect(comparable(a)).toEqual(comparable(b));
    // Logging out clears the jar the same way.
    for (const client of Object.values(clients)) expect((await client.post('/dashboard/auth/logout', { headers: CSRF })).status).toBe(200);
    expect(inProcess.jar.size).toBe(loopback.jar.size);
  });
});

describe('the in-process transport', () => {
  const recorder = (answer: OutgoingResponse) => {
    const seen: IncomingRequest[] = [];
    const handle = async (req: IncomingRequest) => {
      seen.push(req);
      return answer;
    };
    return { seen, handle };
  };

  it('hands the app what the listener would', async () => {
    const { seen, handle } = recorder({ status: 200, headers: { 'content-type': 'application/json' }, body: '{"ok":true}' });
    const client = createHttpClient('http://127.0.0.1:4567', { handle, environment: 'test' });
    await client.post('/a/./b/../c?x=1&x=2', { json: { a: 1 }, headers: { 'X-Api-Key': 'k' } });
    expect(seen[0]).toEqual({
      method: 'POST',
      url: '/a/c?x=1&x=2',
      headers: expect.objectContaining({ host: '127.0.0.1:4567', 'content-type': 'application/json', 'content-length': '7', 'x-api-key': 'k', accept: '*/*', 'user-agent': 'node' }),
      body: Buffer.from('{"a":1}'),
      environment: 'test',
      clientAddress: '127.0.0.1',
      localPort: 4567,
    });
    await client.get('/');
    expect(seen[1]!.body).toBeUndefined();
    expect(seen[1]!.headers['content-length']).toBeUndefined();
  });

  it('keeps and sends cookies, forgets one set empty or with Max-Age=0', async () => {
    const answers: OutgoingResponse[] = [
      { status: 200, headers: { 'set-cookie': ['a=1; Path=/; HttpOnly', 'b=2; Path=/'] }, body: undefined },
      { status: 200, headers: { 'set-cookie': ['a=; Max-Age=0; Path=/', 'b=3'] }, body: undefined },
      { status: 200, headers: {}, body: undefined },
    ];
    const seen: IncomingRequest[] = [];
    const client = createHttpClient('http://127.0.0.1:1', { handle: async (req) => (seen.push(req), answers.shift()!), environment: 'live' });
    const first = await client.get('/');
    expect(first.setCookies).toEqual(['a=1; Path=/; HttpOnly', 'b=2; Path=/']);
    await client.get('/');
    expect(seen[1]!.headers.cookie).toBe('a=1; b=2');
    await client.get('/', { noCookies: true });
    expect(seen[2]!.headers.cookie).toBeUndefined();
    expect([...client.jar]).toEqual([['b', '3']]);
  });

  it('fails the request when the sandbox flags a contract violation', async () => {
    const { handle } = recorder({ status: 200, headers: { 'sl-violations': '[{"path":["body"],"message":"must be object"}]' }, body: '1' });
    const client = createHttpClient('http://127.0.0.1:1', { handle, environment: 'test' });
    await expect(client.get('/x')).rejects.toThrow(/GET \/x → 200 violates the contract: .*must be object/);
  });

  it('gives a HEAD answer no body', async () => {
    const { handle } = recorder({ status: 200, headers: { 'content-type': 'application/json' }, body: '{"a":1}' });
    const res = await createHttpClient('http://127.0.0.1:1', { handle, environment: 'live' }).request('HEAD', '/');
    expect(res.text).toBe('');
    expect(res.body).toBeUndefined();
  });
});

it('startTestSandbox: in-process clients, or loopback ones on request', async () => {
  expect(sb.transport).toBe('in-process');
  expect([sb.dashboard, sb.sandboxApi, sb.productionApi, sb.newDashboardClient(), sb.newSandboxClient()].map((c) => c.transport)).toEqual(Array(5).fill('in-process'));
  const wire = await startTestSandbox({ transport: 'loopback', seed: undefined });
  try {
    expect(wire.dashboard.transport).toBe('loopback');
    expect((await wire.dashboard.get('/__sandbox/clock')).status).toBe(200);
  } finally {
    await wire.close();
  }
});
