// The request inspector through the app, as a user sees it: real requests carrying every kind
// of secret (the demo key, passwords, session and refresh cookies, the control token, e-mailed
// tokens, a new key and a signing secret revealed once), then the whole history and every
// inspector and delivery answer searched for each secret; filters, the exact answers to a bad
// filter and an unknown id, clear, the capacity, and the webhook deliveries a request caused.
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSandbox as startPackageSandbox } from '../index.ts';
import { startSandbox } from '../sandbox.ts';
import { loginDemo, signUp } from '../testing/accounts.ts';
import type { HttpClient } from '../testing/http-client.ts';
import { CSRF, startTestSandbox, type TestSandbox } from '../testing/test-sandbox.ts';
import { waitFor } from '../testing/wait-for.ts';

const CONTROL_TOKEN = 'tok_InspectorTestControlToken42';
const CONTROL = { 'X-Sandbox-Control-Token': CONTROL_TOKEN };
const NEW_PASSWORD = 'a long "quoted" passphrase 123';

let sb: TestSandbox;
let receiver: Server;
let receiverUrl: string;
const received: IncomingHttpHeaders[] = [];
/** Every secret the scenario sent or was shown. */
const secrets: string[] = [];
let deltaRequestId: string;
let demoKeyId: string;

const control = (client: HttpClient, path: string) => client.get(path, { headers: CONTROL });

beforeAll(async () => {
  receiver = createServer((req, res) => {
    received.push(req.headers);
    req.resume();
    req.on('end', () => res.writeHead(204).end());
  });
  await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
  receiverUrl = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/hooks`;
  sb = await startTestSandbox({ controlToken: CONTROL_TOKEN });
  const demo = sb.demo!;
  secrets.push(demo.apiKey, demo.apiKey.slice(demo.apiKey.indexOf('.') + 1), demo.password, CONTROL_TOKEN);

  await loginDemo(sb);
  secrets.push(...sb.dashboard.jar.values());
  const keys = await sb.dashboard.get('/dashboard/api-keys');
  demoKeyId = keys.body.data.items.find((k: { publicKey: string }) => demo.apiKey.startsWith(k.publicKey)).id;
  const created = await sb.dashboard.post('/dashboard/api-keys', { headers: CSRF, json: { name: 'inspected' } });
  expect(created.status).toBe(201);
  secrets.push(created.body.data.fullKey, created.body.data.secretKey);
  const endpoint = await sb.dashboard.post('/dashboard/webhooks', { headers: CSRF, json: { url: receiverUrl, events: ['delta.recorded'] } });
  expect(endpoint.status).toBe(201);
  secrets.push(endpoint.body.data.secret);

  const delta = await sb.sandboxApi.post('/api/v1/balance/delta', { headers: { 'X-Api-Key': demo.apiKey }, json: { customerId: 'customer_001', delta: '12.50', reason: 'inspected' } });
  expect(delta.status).toBe(201);
  deltaRequestId = delta.headers.get('x-request-id')!;
  // A wrong secret for the demo key's public part, a bad body, and a whole new account (e-mailed tokens, a password).
  const wrong = `${demo.apiKey.slice(0, demo.apiKey.indexOf('.'))}.sk_test_WrongWrongWrongWrong123456`;
  secrets.push(wrong.slice(wrong.indexOf('.') + 1));
  expect((await sb.sandboxApi.get('/api/v1/balance/derive/customer_001', { headers: { 'X-Api-Key': wrong } })).status).toBe(401);
  expect((await sb.sandboxApi.post('/api/v1/balance/delta', { headers: { 'X-Api-Key': demo.apiKey }, json: { customerId: 'customer_001', delta: 'lots' } })).status).toBe(422);
  const { client } = await signUp(sb, 'inspected@example.com', NEW_PASSWORD);
  secrets.push(NEW_PASSWORD, ...client.jar.values());
  const outbox = await control(sb.dashboard, '/__sandbox/outbox');
  expect(outbox.status).toBe(200);
  secrets.push(...outbox.body.data.map((m: { token: string }) => m.token));
  // (expect.poll is for tests only.)
  await waitFor(() => [...sb.services.store.state.webhooks.deliveries.values()][0]?.status === 'succeeded', 'the delivery to succeed');
});

afterAll(async () => {
  await sb?.close();
  await new Promise((resolve) => receiver?.close(resolve));
});

/** Every page of the list, every request whole, every delivery and endpoint: all the inspector answers. */
async function everything() {
  const answers: unknown[] = [];
  const ids: string[] = [];
  for (let page = 1; ; page++) {
    const res = await control(sb.dashboard, `/__sandbox/requests?limit=100&page=${page}`);
    expect(res.status).toBe(200);
    answers.push(res.body);
    ids.push(...res.body.data.items.map((s: { requestId: string }) => s.requestId));
    if (page * 100 >= res.body.data.total) break;
  }
  for (const id of ids) {
    const res = await control(sb.dashboard, `/__sandbox/requests/${id}`);
    expect(res.status).toBe(200);
    answers.push(res.body);
  }
  answers.push((await control(sb.dashboard, '/__sandbox/webhook-deliveries?limit=100')).body, (await control(sb.dashboard, '/__sandbox/webhook-endpoints')).body);
  return { text: JSON.stringify(answers), ids };
}

describe('the request inspector', () => {
  it('keeps no secret: the whole history and every inspector answer hold none of the secrets sent or shown', async () => {
    expect(secrets.length).toBeGreaterThan(12);
    const { text, ids } = await everything();
    expect(ids.length).toBeGreaterThanOrEqual(10);
    const kept = JSON.stringify(sb.services.inspector!.list());
    for (const secret of secrets) {
      expect(secret.length).toBeGreaterThan(5);
      for (const spelling of [secret, JSON.stringify(secret).slice(1, -1), encodeURIComponent(secret)]) {
        expect(text.includes(spelling), `an inspector answer holds a secret (${secret.slice(0, 4)}…)`).toBe(false);
        expect(kept.includes(spelling), `the history holds a secret (${secret.slice(0, 4)}…)`).toBe(false);
      }
    }
    // What it does keep: the key's public part, the cookie names, the placeholders.
    expect(text).toContain(sb.demo!.apiKey.slice(0, sb.demo!.apiKey.indexOf('.') + 1) + '[redacted]');
    expect(text).toContain('pacspace_access=[redacted]');
    expect(text).toContain('$PACSPACE_PASSWORD');
  });

  it('shows a request with its operation, auth verdict, timing, curl and the webhook delivery it caused, with the attempt\'s headers and signature', async () => {
    const res = await control(sb.dashboard, `/__sandbox/requests/${deltaRequestId}`);
    expect(res.status).toBe(200);
    const x = res.body.data;
    expect(x.summary).toMatchObject({
      requestId: deltaRequestId,
      environment: 'test',
      surface: 'api',
      method: 'POST',
      url: '/api/v1/balance/delta',
      operationId: 'recordDelta',
      auth: { kind: 'apiKey', keyId: demoKeyId, publicKey: sb.demo!.apiKey.slice(0, sb.demo!.apiKey.indexOf('.')), environment: 'test' },
      status: 201,
      problemCode: null,
      violations: 0,
      deliveries: 1,
    });
    expect(x.summary.durationMs).toBeGreaterThanOrEqual(0);
    expect(x.curl).toMatch(/^curl -X POST 'http:\/\/127\.0\.0\.1:\d+\/api\/v1\/balance\/delta' -H 'x-api-key: '"\$PACSPACE_API_KEY" /);
    expect(x.webhookDeliveries).toHaveLength(1);
    const [delivery] = x.webhookDeliveries;
    expect(delivery).toMatchObject({ eventType: 'delta.recorded', endpointUrl: receiverUrl, requestId: deltaRequestId, status: 'succeeded' });
    const headers = Object.fromEntries(delivery.attempts[0].headers.map((h: { name: string; value: string }) => [h.name, h.value]));
    expect(headers['x-pacspace-signature']).toMatch(/^v1=[0-9a-f]{64}$/);
    // What was recorded is what the receiver got.
    const got = received.find((h) => h['x-pacspace-delivery-id'] === delivery.id)!;
    expect(headers['x-pacspace-signature']).toBe(got['x-pacspace-signature']);
    expect(headers['x-pacspace-timestamp']).toBe(got['x-pacspace-timestamp']);
    expect(JSON.parse(delivery.payload).type).toBe('delta.recorded');
    // The same delivery in the list across endpoints, by request.
    const byRequest = await control(sb.dashboard, `/__sandbox/webhook-deliveries?requestId=${deltaRequestId}`);
    expect(byRequest.body.data).toMatchObject({ total: 1, items: [{ id: delivery.id }] });
  });

  it('filters by operation, status (exact and class) and key id, newest first', async () => {
    const ops = await control(sb.dashboard, '/__sandbox/requests?operationId=recordDelta');
    expect(ops.body.data.items.map((s: { status: number }) => s.status)).toEqual([422, 201]);
    const refused = await control(sb.dashboard, '/__sandbox/requests?status=4xx&operationId=deriveBalance');
    expect(refused.body.data.items).toMatchObject([{ status: 401, problemCode: 'unauthenticated', auth: { kind: 'refused', code: 'unauthenticated' } }]);
    const exact = await control(sb.dashboard, '/__sandbox/requests?status=422');
    expect(exact.body.data.items.every((s: { status: number }) => s.status === 422)).toBe(true);
    expect(exact.body.data.items[0]).toMatchObject({ operationId: 'recordDelta', problemCode: 'validation_failed' });
    const detail = await control(sb.dashboard, `/__sandbox/requests/${exact.body.data.items[0].requestId}`);
    expect(detail.body.data.violations.length).toBe(exact.body.data.items[0].violations);
    expect(detail.body.data.violations).toContainEqual(expect.objectContaining({ location: ['body', 'delta'], code: 'type' }));
    const byKey = await control(sb.dashboard, `/__sandbox/requests?keyId=${demoKeyId}`);
    expect(byKey.body.data.items.map((s: { operationId: string }) => s.operationId)).toEqual(['recordDelta', 'recordDelta']);
    const page = await control(sb.dashboard, '/__sandbox/requests?limit=2&page=2');
    expect(page.body.data).toMatchObject({ page: 2, limit: 2, capacity: 500 });
    expect(page.body.data.items).toHaveLength(2);
  });

  it('shows the chaos a request got (and none for one that got none)', async () => {
    const put = await sb.dashboard.request('PUT', '/__sandbox/chaos', {
      headers: CONTROL,
      json: { seed: 3, operations: { deriveBalance: { latency: { distribution: 'fixed', ms: 1 }, error: { rate: 1, status: 503, retryAfterSeconds: 1 } } } },
    });
    expect(put.status, put.text).toBe(200);
    try {
      const faulted = await sb.sandboxApi.get('/api/v1/balance/derive/customer_001', { headers: { 'X-Api-Key': sb.demo!.apiKey } });
      expect(faulted.status).toBe(503);
      const kept = await control(sb.dashboard, `/__sandbox/requests/${faulted.headers.get('x-request-id')}`);
      expect(kept.status).toBe(200);
      expect(kept.body.data.summary ?? kept.body.data).toMatchObject({ operationId: 'deriveBalance', status: 503, chaos: 'latency 1 ms, then status 503 (Retry-After 1 s)' });
    } finally {
      expect((await sb.dashboard.delete('/__sandbox/chaos', { headers: CONTROL })).status).toBeLessThan(300);
    }
    const calm = await sb.sandboxApi.get('/api/v1/balance/derive/customer_001', { headers: { 'X-Api-Key': sb.demo!.apiKey } });
    const keptCalm = await control(sb.dashboard, `/__sandbox/requests/${calm.headers.get('x-request-id')}`);
    expect(keptCalm.body.data.summary ?? keptCalm.body.data).toMatchObject({ status: 200, chaos: null });
  });

  it('keeps a request chaos reset (no answer sent) with status 0, as its contract allows', async () => {
    const put = await sb.dashboard.request('PUT', '/__sandbox/chaos', { headers: CONTROL, json: { seed: 5, operations: { deriveBalance: { resetRate: 1 } } } });
    expect(put.status, put.text).toBe(200);
    let answer;
    try {
      answer = await sb.handle({
        method: 'GET',
        url: '/api/v1/balance/derive/customer_001',
        headers: { 'x-api-key': sb.demo!.apiKey, host: new URL(sb.sandboxUrl).host },
        body: undefined,
        environment: 'test',
        clientAddress: '127.0.0.1',
      });
    } finally {
      expect((await sb.dashboard.delete('/__sandbox/chaos', { headers: CONTROL })).status).toBeLessThan(300);
    }
    expect(answer.abort).toBe('reset');
    // The test client fails on a response flagged in sl-violations: the list is as its contract says.
    const listed = await control(sb.dashboard, '/__sandbox/requests?operationId=deriveBalance&limit=1');
    expect(listed.status).toBe(200);
    expect(listed.body.data.items[0]).toMatchObject({ status: 0, chaos: 'reset' });
  });

  it('answers a malformed filter with 422 and an unknown id with 404, exactly', async () => {
    const bad = await control(sb.dashboard, '/__sandbox/requests?status=45x');
    expect(bad.status).toBe(422);
    expect(bad.body).toEqual({
      type: 'https://docs.pacspace.io/errors/validation_failed',
      title: 'Validation failed',
      status: 422,
      detail: expect.any(String),
      code: 'validation_failed',
      requestId: bad.headers.get('x-request-id'),
      instance: '/__sandbox/requests',
      validation: [{ location: ['query', 'status'], severity: 'Error', code: 'pattern', message: 'Request query parameter status must match pattern "^([1-5][0-9][0-9]|[1-5][xX][xX])$"' }],
    });
    const missing = await control(sb.dashboard, '/__sandbox/requests/req_NoSuchRequest00');
    expect(missing.status).toBe(404);
    expect(missing.body).toEqual({
      type: 'https://docs.pacspace.io/errors/not_found',
      title: 'Not found',
      status: 404,
      detail: 'The inspector keeps no request with this id; it may have been forgotten (--inspect-history) or cleared.',
      code: 'not_found',
      requestId: missing.headers.get('x-request-id'),
      instance: '/__sandbox/requests/req_NoSuchRequest00',
    });
    // Without the control token: refused like any control request, and kept.
    const noToken = await sb.dashboard.get('/__sandbox/requests');
    expect(noToken.status).toBe(401);
  });

  it('clears the history (keeping nothing of its own reads), and the state stays', async () => {
    const before = (await control(sb.dashboard, '/__sandbox/requests')).body.data.total;
    const cleared = await sb.dashboard.delete('/__sandbox/requests', { headers: CONTROL });
    expect(cleared.status).toBe(200);
    expect(cleared.body.data.cleared).toBe(before);
    const after = await control(sb.dashboard, '/__sandbox/requests');
    expect(after.body.data).toMatchObject({ items: [], total: 0 });
    expect((await control(sb.dashboard, '/__sandbox/webhook-deliveries')).body.data.total).toBe(1);
  });
});

describe('the inspector page', () => {
  it('is served to a browser GET without the control token, with a strict policy; other methods, files and listeners are refused exactly', async () => {
    const html = await sb.dashboard.get('/__sandbox/inspector/');
    expect(html.status).toBe(200);
    expect(html.headers.get('content-type')).toBe('text/html; charset=utf-8');
    expect(html.headers.get('content-security-policy')).toBe("default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'");
    expect(html.text).toContain('<script src="inspector.js" defer></script>');
    expect((await sb.dashboard.get('/__sandbox/inspector/inspector.js')).headers.get('content-type')).toBe('text/javascript; charset=utf-8');
    expect((await sb.dashboard.get('/__sandbox/inspector/inspector.css')).headers.get('content-type')).toBe('text/css; charset=utf-8');
    const bare = await sb.dashboard.get('/__sandbox/inspector');
    expect([bare.status, bare.headers.get('location')]).toEqual([301, '/__sandbox/inspector/']);
    const post = await sb.dashboard.post('/__sandbox/inspector/', { json: {} });
    expect(post.status).toBe(405);
    expect(post.headers.get('allow')).toBe('GET, HEAD');
    expect(post.body).toEqual({
      type: 'https://docs.pacspace.io/errors/method_not_allowed',
      title: 'Method not allowed',
      status: 405,
      detail: 'POST is not allowed here; use GET, HEAD.',
      code: 'method_not_allowed',
      requestId: post.headers.get('x-request-id'),
      instance: '/__sandbox/inspector/',
    });
    const missing = await sb.dashboard.get('/__sandbox/inspector/%2e%2e%2f%2e%2e%2fpackage.json');
    expect(missing.status).toBe(404);
    const other = await sb.dashboard.get('/__sandbox/inspector/index.html');
    expect(other.body).toEqual({
      type: 'https://docs.pacspace.io/errors/not_found',
      title: 'Not found',
      status: 404,
      detail: 'The inspector page has no file at this path.',
      code: 'not_found',
      requestId: other.headers.get('x-request-id'),
      instance: '/__sandbox/inspector/index.html',
    });
    // Not on the sandbox listener.
    expect((await sb.sandboxApi.get('/__sandbox/inspector/')).status).toBe(404);
  });
});

describe('the capacity (--inspect-history)', () => {
  it('keeps the last N, 0 keeps none, and a bad value is a RangeError before anything starts', async () => {
    const small = await startTestSandbox({ inspectHistory: 2, seed: undefined });
    try {
      for (let i = 0; i < 3; i++) await small.dashboard.get(`/dashboard/auth/verify?token=${'x'.repeat(31 + i)}`);
      const list = await small.dashboard.get('/__sandbox/requests');
      expect(list.body.data).toMatchObject({ total: 2, capacity: 2 });
      expect(list.body.data.items.map((s: { url: string }) => s.url)).toEqual([`/dashboard/auth/verify?token=[redacted]`, `/dashboard/auth/verify?token=[redacted]`]);
      small.services.inspector!.clear();
    } finally {
      await small.close();
    }
    const noControl = await startSandbox({ port: 0, sandboxPort: 0, control: false });
    try {
      expect((await fetch(`${noControl.productionUrl}/__sandbox/inspector/`)).status).toBe(404);
    } finally {
      await noControl.close();
    }
    const off = await startSandbox({ port: 0, sandboxPort: 0, inspectHistory: 0 });
    try {
      const res = await fetch(`${off.productionUrl}/__sandbox/requests`);
      expect(await res.json()).toMatchObject({ data: { items: [], total: 0, capacity: 0 } });
    } finally {
      await off.close();
    }
    await expect(startSandbox({ port: 0, sandboxPort: 0, inspectHistory: -1 })).rejects.toThrow(new RangeError('inspectHistory must be a whole number from 0 to 10000, got -1'));
    // The package's startSandbox passes it on.
    await expect(startPackageSandbox({ inspectHistory: 1.5 })).rejects.toThrow(new RangeError('inspectHistory must be a whole number from 0 to 10000, got 1.5'));
  });
});
