// Secret hygiene: the real binary at --log-level debug, stdout and stderr captured whole,
// through the quick start and everything around it — log in, create a key, regenerate it,
// webhooks with a signing secret (created, rotated, delivered to a local receiver), deltas,
// a session refresh, a second account signed up through its e-mailed tokens and its password
// reset — plus bad requests that carry those secrets in headers, query strings, cookies and
// bodies. Afterwards no secret appears anywhere in the output: API key secrets, passwords,
// session cookie values, webhook signing secrets, the e-mailed tokens. The demo account's
// password and key are printed once by design, in the start-up banner, and never again.
import { spawn, type ChildProcess } from 'node:child_process';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { createHttpClient } from '../../mock/testing/http-client.ts';
import { createPool } from './http.ts';

const bin = join(import.meta.dirname, '..', '..', 'bin', 'pacspace-sandbox.js');
let child: ChildProcess | undefined;
let receiver: Server | undefined;

afterAll(async () => {
  child?.kill('SIGKILL');
  await new Promise((r) => (receiver ? receiver.close(r) : r(undefined)));
});

const CSRF = { 'X-Pacspace-CSRF': '1' };

describe('secret hygiene', () => {
  it('a full debug-level run logs no secret', async () => {
    // A local receiver for the webhook deliveries (signed with the secrets under test).
    let deliveries = 0;
    receiver = createServer((req, res) => {
      req.resume();
      req.on('end', () => {
        deliveries++;
        res.writeHead(200).end();
      });
    });
    await new Promise<void>((r) => receiver!.listen(0, '127.0.0.1', r));
    const hookUrl = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/hooks`;

    child = spawn(process.execPath, [bin, '--port', '0', '--sandbox-port', '0', '--seed', '5', '--log-level', 'debug', '--confirmation-ms', '50'], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout!.on('data', (d) => (output += d));
    child.stderr!.on('data', (d) => (output += d));
    const banner = await new Promise<{ production: string; sandbox: string; email: string; password: string; key: string }>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no banner:\n${output}`)), 60_000);
      const check = () => {
        const production = /production Balance API \(pk_live_\):\s+(\S+)/.exec(output)?.[1];
        const sandbox = /Sandbox Balance API \(pk_test_\):\s+(\S+)/.exec(output)?.[1];
        const email = /email:\s+(\S+)/.exec(output)?.[1];
        const password = /password:\s+(\S+)/.exec(output)?.[1];
        const key = /API key:\s+(pk_\S+)/.exec(output)?.[1];
        if (production && sandbox && email && password && key) {
          clearTimeout(timer);
          resolve({ production, sandbox, email, password, key });
        } else setTimeout(check, 20);
      };
      check();
    });
    const secrets = new Map<string, string>(); // value → what it is
    const secret = (what: string, value: unknown) => {
      expect(typeof value === 'string' && value.length >= 8, `${what} is a secret-sized string`).toBe(true);
      secrets.set(value as string, what);
    };

    const dashboard = createHttpClient(banner.production);
    const sandboxApi = createHttpClient(banner.sandbox);
    const control = createHttpClient(banner.production);
    const outboxToken = async (to: string, kind: string) => {
      const mails = (await control.get(`/__sandbox/outbox?to=${encodeURIComponent(to)}`)).body.data as Array<{ kind: string; token: string }>;
      const token = [...mails].reverse().find((m) => m.kind === kind)?.token;
      secret(`${kind} token`, token);
      return token!;
    };

    // Quick start: log in, create a key, use it, regenerate it.
    expect((await dashboard.post('/dashboard/auth/login', { json: { email: banner.email, password: banner.password } })).status).toBe(200);
    for (const [name, value] of dashboard.jar) secret(`cookie ${name}`, value);
    const created = await dashboard.post('/dashboard/api-keys', { headers: CSRF, json: { name: 'quickstart-key' } });
    expect(created.status).toBe(201);
    secret('fullKey', created.body.data.fullKey);
    secret('secretKey', created.body.data.secretKey);
    const regenerated = await dashboard.post(`/dashboard/api-keys/${created.body.data.id}/regenerate`, { headers: CSRF });
    expect(regenerated.status).toBe(200);
    secret('regenerated fullKey', regenerated.body.data.fullKey);
    secret('regenerated secretKey', regenerated.body.data.secretKey);
    const key = regenerated.body.data.fullKey as string;

    // Webhooks with a signing secret, rotated; deliveries signed with both.
    const hook = await dashboard.post('/dashboard/webhooks', { headers: CSRF, json: { url: hookUrl, events: ['delta.recorded', 'delta.confirmed', 'checkpoint.created'] } });
    expect(hook.status).toBe(201);
    secret('webhook secret', hook.body.data.secret);
    const rotated = await dashboard.post(`/dashboard/webhooks/${hook.body.data.id}/rotate-secret`, { headers: CSRF, json: { overlapSeconds: 600 } });
    expect(rotated.status).toBe(200);
    secret('rotated webhook secret', rotated.body.data.secret);

    for (let i = 0; i < 5; i++) {
      const delta = await sandboxApi.post('/api/v1/balance/delta', {
        headers: { 'X-Api-Key': key, 'Idempotency-Key': `hygiene-${i}` },
        json: { customerId: 'customer_001', delta: `${i + 1}.25`, reason: 'usage', referenceId: `hygiene-${i}` },
      });
      expect(delta.status).toBe(201);
    }
    expect((await sandboxApi.get('/api/v1/balance/derive/customer_001', { headers: { 'X-Api-Key': key } })).status).toBe(200);
    expect((await sandboxApi.post('/api/v1/balance/checkpoint', { headers: { 'X-Api-Key': key }, json: { customerId: 'customer_001' } })).status).toBe(201);

    // The session is refreshed (new cookie values), then ended.
    expect((await dashboard.post('/dashboard/auth/refresh', { headers: CSRF })).status).toBe(200);
    for (const [name, value] of dashboard.jar) secret(`refreshed cookie ${name}`, value);

    // A second account, through its e-mailed tokens, and a password reset.
    const other = createHttpClient(banner.production);
    const email = 'jane.hygiene@example.com';
    const password = 'Correct-Horse-Battery-Staple-42';
    const newPassword = 'Another-Long-Passphrase-77';
    secret('password', password);
    secret('new password', newPassword);
    await other.post('/dashboard/auth/request-access', {
      json: { name: 'Jane Doe', email, organization: 'Acme Inc', buyerMode: 'DIRECT_INFERENCE_VENDOR', useCase: 'Record usage before invoices go out.' },
    });
    const accessToken = await outboxToken(email, 'access');
    expect((await other.post('/dashboard/auth/register', { json: { accessToken, email, password, name: 'Jane Doe' } })).status).toBe(201);
    const verifyToken = await outboxToken(email, 'verify');
    expect((await other.get(`/dashboard/auth/verify?token=${encodeURIComponent(verifyToken)}`)).status).toBe(200);
    expect((await other.post('/dashboard/auth/login', { json: { email, password } })).status).toBe(200);
    for (const [name, value] of other.jar) secret(`second cookie ${name}`, value);
    expect((await other.post('/dashboard/auth/request-password-reset', { json: { email } })).status).toBe(202);
    const resetToken = await outboxToken(email, 'reset');
    expect((await other.post('/dashboard/auth/reset-password', { json: { token: resetToken, password: newPassword } })).status).toBe(200);

    // Bad requests that carry the secrets where they do not belong.
    const sandboxRaw = createPool(banner.sandbox, 1);
    const productionRaw = createPool(banner.production, 1);
    const cookieHeader = [...dashboard.jar].map(([k, v]) => `${k}=${v}`).join('; ');
    const secretPart = key.split('.')[1]!;
    const bad: Array<[ReturnType<typeof createPool>, Parameters<ReturnType<typeof createPool>['send']>[0]]> = [
      [sandboxRaw, { method: 'GET', path: `/api/v1/balance/derive/customer_001?api_key=${encodeURIComponent(key)}` }],
      [sandboxRaw, { method: 'GET', path: `/api/v1/balance/derive/customer_001?secret=${secretPart}&password=${encodeURIComponent(newPassword)}` }],
      [productionRaw, { method: 'GET', path: '/api/v1/balance/derive/customer_001', headers: { 'x-api-key': key } }],
      [sandboxRaw, { method: 'GET', path: '/api/v1/balance/derive/customer_001', headers: { 'x-api-key': `${key}x` } }],
      [sandboxRaw, { method: 'GET', path: '/api/v1/balance/derive/customer_001', headers: { authorization: `Bearer ${key}` } }],
      [sandboxRaw, { method: 'GET', path: '/api/v1/balance/derive/customer_001', headers: { cookie: cookieHeader } }],
      [sandboxRaw, { method: 'POST', path: '/api/v1/balance/delta', headers: { 'x-api-key': key, 'content-type': 'application/json' }, body: `{"customerId":"${secretPart}","delta":` }],
      [sandboxRaw, { method: 'POST', path: '/api/v1/balance/delta', headers: { 'x-api-key': key, 'content-type': 'application/json' }, body: JSON.stringify({ customerId: key, delta: 'x', reason: secretPart }) }],
      [sandboxRaw, { method: 'POST', path: '/api/v1/balance/delta', headers: { 'x-api-key': key, 'content-type': 'text/plain' }, body: key }],
      [productionRaw, { method: 'POST', path: '/dashboard/auth/login', headers: { 'content-type': 'application/json' }, body: `{"email":"${email}","password":"${newPassword}"` }],
      [productionRaw, { method: 'POST', path: '/dashboard/auth/login', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ email, password: `${newPassword}!` }) }],
      [productionRaw, { method: 'POST', path: '/dashboard/auth/reset-password', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ token: resetToken, password: newPassword }) }],
      [productionRaw, { method: 'GET', path: `/dashboard/auth/verify?token=${encodeURIComponent(verifyToken)}` }],
      [productionRaw, { method: 'POST', path: '/dashboard/api-keys', headers: { cookie: cookieHeader, 'content-type': 'application/json' }, body: JSON.stringify({ name: key }) }],
      [productionRaw, { method: 'POST', path: '/dashboard/webhooks', headers: { cookie: cookieHeader, 'x-pacspace-csrf': '1', 'content-type': 'application/json' }, body: `{"url":"${rotated.body.data.secret}"}` }],
      [productionRaw, { method: 'GET', path: `/no/such/path?key=${encodeURIComponent(key)}&token=${resetToken}`, headers: { 'x-api-key': key, cookie: cookieHeader } }],
    ];
    for (const [pool, request] of bad) {
      const res = await pool.send(request);
      expect(res.status, `${request.method} ${request.path}`).toBeGreaterThanOrEqual(400);
      expect(res.status).toBeLessThan(500);
    }
    sandboxRaw.close();
    productionRaw.close();

    // Let the deliveries (and confirmations) happen, then stop the sandbox the usual way.
    // (A deadline a loaded CI machine meets: the deliveries and confirmations are the child's background work.)
    const deadline = Date.now() + 30_000;
    while (deliveries < 11 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    expect(deliveries, 'webhook deliveries received').toBeGreaterThanOrEqual(11);
    // 'close', not 'exit': the output read below may still be arriving when the child has exited.
    const exited = new Promise((r) => child!.once('close', r));
    child.kill('SIGTERM');
    await exited;

    // The run was logged at debug level: one line per request.
    const requestLines = output.split('\n').filter((l) => /^\[sandbox\] debug: (test|live) [A-Z]+ \//.test(l));
    expect(requestLines.length).toBeGreaterThan(30);
    for (const [value, what] of secrets) {
      expect(output.includes(value), `${what} appears in the output`).toBe(false);
    }
    // The demo account's password and key: in the banner, once.
    expect(output.split(banner.password).length - 1, 'demo password printed once').toBe(1);
    expect(output.split(banner.key).length - 1, 'demo key printed once').toBe(1);
    expect(output.split(banner.key.split('.')[1]!).length - 1, 'demo key secret printed once').toBe(1);
  }, 90_000);
});
