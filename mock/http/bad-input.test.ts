// Hostile and malformed requests over real HTTP: each gets its exact problem+json answer with
// a requestId, never a 500, and leaves the state exactly as it was.
import { request as rawRequest } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestSandbox, type TestSandbox } from '../testing/test-sandbox.ts';

let sb: TestSandbox;
let key: Record<string, string>;

beforeAll(async () => {
  sb = await startTestSandbox();
  key = { 'X-Api-Key': sb.demo!.apiKey };
});
afterAll(() => sb.close());

function expectProblem(res: { status: number; headers: Headers; body: any }, status: number, code: string) {
  expect(res.status).toBe(status);
  expect(res.headers.get('content-type')).toBe('application/problem+json');
  expect(res.body).toMatchObject({ type: `https://docs.pacspace.io/errors/${code}`, status, code });
  expect(typeof res.body.title).toBe('string');
  expect(typeof res.body.detail).toBe('string');
  expect(res.body.requestId).toMatch(/^req_[A-Za-z0-9]{8,64}$/);
  expect(res.headers.get('x-request-id')).toBe(res.body.requestId);
  expect(JSON.stringify(res.body)).not.toMatch(/at [\w.]+ \(|node_modules|\.ts:\d+/); // no stack traces
}

describe('bad input', () => {
  const cases: Array<[string, () => Promise<any>, number, string]> = [
    ['unparsable JSON → 400', () => sb.sandboxApi.post('/api/v1/balance/delta', { headers: { ...key, 'content-type': 'application/json' }, raw: '{"customerId": "c",' }), 400, 'invalid_json'],
    ['invalid UTF-8 → 400', () => sb.sandboxApi.post('/api/v1/balance/delta', { headers: { ...key, 'content-type': 'application/json' }, raw: Buffer.from([0x7b, 0xff, 0xfe, 0x7d]) }), 400, 'invalid_json'],
    ['schema-invalid body → 422', () => sb.sandboxApi.post('/api/v1/balance/delta', { headers: key, json: { customerId: 'customer_001', delta: '1.123456789', reason: '' } }), 422, 'validation_failed'],
    ['unknown property → 422', () => sb.sandboxApi.post('/api/v1/balance/checkpoint', { headers: key, json: { customerId: 'customer_001', force: true } }), 422, 'validation_failed'],
    ['JSON array instead of object → 422', () => sb.sandboxApi.post('/api/v1/balance/checkpoint', { headers: key, json: [1, 2] }), 422, 'validation_failed'],
    ['missing body → 422', () => sb.sandboxApi.post('/api/v1/balance/checkpoint', { headers: key }), 422, 'validation_failed'],
    ['bad path parameter → 422', () => sb.sandboxApi.get('/api/v1/receipts/not-a-receipt', { headers: key }), 422, 'validation_failed'],
    ['bad query parameter → 422', () => sb.sandboxApi.get('/api/v1/checkpoints/chk_8sJd2Kq9LmZx/receipts?limit=0', { headers: key }), 422, 'validation_failed'],
    ['wrong content type → 415', () => sb.sandboxApi.post('/api/v1/balance/checkpoint', { headers: { ...key, 'content-type': 'text/plain' }, raw: '{"customerId":"customer_001"}' }), 415, 'unsupported_media_type'],
    ['form-encoded body → 415', () => sb.sandboxApi.post('/api/v1/balance/checkpoint', { headers: { ...key, 'content-type': 'application/x-www-form-urlencoded' }, raw: 'customerId=customer_001' }), 415, 'unsupported_media_type'],
    ['body over 1 MiB → 413', () => sb.sandboxApi.post('/api/v1/balance/delta', { headers: key, json: { customerId: 'customer_001', delta: '1', reason: 'x'.repeat(1024 * 1024) } }), 413, 'payload_too_large'],
    // Prism's validator would take an empty header for an absent one; the contract says 1 to 255 characters.
    ['empty Idempotency-Key → 422', () => sb.sandboxApi.post('/api/v1/balance/delta', { headers: { ...key, 'Idempotency-Key': '' }, json: { customerId: 'customer_001', delta: '1', reason: 'x' } }), 422, 'validation_failed'],
    ['unknown path → 404', () => sb.sandboxApi.get('/api/v1/nope', { headers: key }), 404, 'not_found'],
    ['dashboard on the sandbox listener → 404', () => sb.sandboxApi.get('/dashboard/api-keys'), 404, 'not_found'],
    ['public route with bad JSON → 400', () => sb.dashboard.post('/dashboard/auth/login', { headers: { 'content-type': 'application/json' }, raw: 'nope' }), 400, 'invalid_json'],
  ];

  it.each(cases)('%s', async (_name, send, status, code) => {
    const before = sb.services.store.eventCount;
    const res = await send();
    expectProblem(res, status, code);
    expect(sb.services.store.eventCount).toBe(before);
  });

  it('an empty Idempotency-Key names the header, and twice with other bodies is never a replay nor a 409', async () => {
    for (const delta of ['1', '2']) {
      const res = await sb.sandboxApi.post('/api/v1/balance/delta', { headers: { ...key, 'Idempotency-Key': '' }, json: { customerId: 'customer_001', delta, reason: 'x' } });
      expectProblem(res, 422, 'validation_failed');
      expect(res.body.validation).toEqual([{ location: ['header', 'idempotency-key'], severity: 'Error', code: 'minLength', message: 'Request header idempotency-key must not be empty' }]);
    }
  });

  it('a number parameter that reads as Infinity (1e309) is 422 naming it, not a page of Infinity', async () => {
    const res = await sb.sandboxApi.get('/api/v1/checkpoints/chk_8sJd2Kq9LmZx/receipts?page=1e309&limit=5', { headers: key });
    expectProblem(res, 422, 'validation_failed');
    expect(res.body.validation).toEqual([{ location: ['query', 'page'], severity: 'Error', code: 'type', message: 'Request query parameter page must be a finite number' }]);
    // A finite number in exponent form is a number like any other (this checkpoint does not exist).
    expect((await sb.sandboxApi.get('/api/v1/checkpoints/chk_8sJd2Kq9LmZx/receipts?page=1e2&limit=5', { headers: key })).status).toBe(404);
  });

  it('an unparsable body is never echoed back (it may hold a password)', async () => {
    const res = await sb.dashboard.post('/dashboard/auth/login', {
      headers: { 'content-type': 'application/json' },
      raw: '{"email":"a@b.co","password": hunter2-secret}',
    });
    expectProblem(res, 400, 'invalid_json');
    expect(res.text).not.toContain('hunter2');
    expect(res.body.detail).toMatch(/^The request body is not valid JSON( \(at position \d+\))?\.$/);
  });

  it('422 lists every violation with its location', async () => {
    const res = await sb.sandboxApi.post('/api/v1/balance/delta', { headers: key, json: { delta: true, reason: 'usage', extra: 1 } });
    expectProblem(res, 422, 'validation_failed');
    const locations = res.body.validation.map((v: any) => v.location.join('.'));
    expect(locations).toEqual(expect.arrayContaining(['body', 'body.delta']));
    for (const v of res.body.validation) {
      expect(v).toMatchObject({ severity: 'Error', code: expect.any(String), message: expect.any(String) });
    }
  });

  it('wrong method → 405 with Allow', async () => {
    const res = await sb.sandboxApi.request('PUT', '/api/v1/balance/delta', { headers: key });
    expectProblem(res, 405, 'method_not_allowed');
    expect(res.headers.get('allow')).toBe('POST');
    expect(res.body.allowedMethods).toEqual(['POST']);
    const multi = await sb.dashboard.request('PUT', '/dashboard/api-keys');
    expect(multi.headers.get('allow')).toBe('GET, POST');
  });

  it('a declared Content-Length over 1 MiB is refused without reading the body', async () => {
    const status = await new Promise<number>((resolve, reject) => {
      const url = new URL(`${sb.sandboxUrl}/api/v1/balance/delta`);
      const req = rawRequest(
        { host: url.hostname, port: url.port, path: url.pathname, method: 'POST', headers: { ...key, 'content-type': 'application/json', 'content-length': String(50 * 1024 * 1024) } },
        (res) => {
          res.resume();
          resolve(res.statusCode ?? 0);
          req.destroy();
        },
      );
      req.on('error', reject);
      req.write('{"customerId":"');
      // The rest is never sent: the answer must not wait for 50 MiB.
    });
    expect(status).toBe(413);
  });

  it('malformed cookies and huge headers never crash the sandbox', async () => {
    const res = await sb.dashboard.get('/dashboard/auth/me', { headers: { cookie: 'pacspace_access=%%%; ;;=; pacspace_access' } });
    expectProblem(res, 401, 'unauthenticated');
    const weird = await sb.sandboxApi.get('/api/v1/balance/derive/%E0%A4%A', { headers: key });
    expect(weird.status).toBeLessThan(500);
    expect((await sb.sandboxApi.get('/api/v1/balance/derive/customer_001', { headers: key })).status).toBe(200);
  });
});
