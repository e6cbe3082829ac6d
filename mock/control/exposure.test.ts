// Who can reach the sandbox and its /__sandbox/ control surface, over real HTTP (the Host
// header and the listener a request arrives on are the point): a Host the sandbox does not
// serve is a 421 on both listeners and every path (DNS rebinding); the control surface is on
// the production listener only; cross-site requests (Origin, Sec-Fetch-Site) are a 403, a
// simple form or text/plain POST a 415, and no CORS preflight is ever answered; with a control
// token every control request needs it (401). Every refusal changes nothing.
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createServer, request } from 'node:http';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { startSandbox, type Sandbox } from '../index.ts';
import { parseCommandLine, UsageError } from '../cli/command-line.ts';
import { createHostCheck, normalizeAllowedHost } from '../http/host-check.ts';
import { startTestSandbox, type TestSandbox } from '../testing/test-sandbox.ts';
import { createControlGuard } from './guard.ts';

type Raw = { status: number; headers: Record<string, string | string[] | undefined>; body: any; text: string };

/** A request over node:http, so `Host` (which fetch will not let us set) can be anything. */
function raw(base: string, method: string, path: string, headers: Record<string, string> = {}, body?: string): Promise<Raw> {
  const url = new URL(base);
  return new Promise((resolve, reject) => {
    const req = request({ host: url.hostname, port: url.port, method, path, headers: { ...headers, ...(body === undefined ? {} : { 'content-length': String(Buffer.byteLength(body)) }) } }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        let parsed: unknown;
        try {
          parsed = JSON.parse(text);
        } catch {
          parsed = undefined;
        }
        resolve({ status: res.statusCode ?? 0, headers: res.headers, body: parsed, text });
      });
    });
    req.on('error', reject);
    req.end(body);
  });
}

const portOf = (base: string) => Number(new URL(base).port);

function expectProblem(r: Raw, status: number, code: string) {
  expect([r.status, r.body?.code], r.text).toEqual([status, code]);
  expect(r.headers['content-type']).toMatch(/^application\/problem\+json/);
  expect(r.body.requestId).toBe(r.headers['x-request-id']);
  expect(r.headers['access-control-allow-origin']).toBeUndefined();
}

/** What a reset would change: users, keys, sessions, outbox, events. */
const fingerprint = (sb: TestSandbox) => {
  const s = sb.services.store.state;
  return JSON.stringify({ events: sb.services.store.eventCount, users: s.users.size, keys: s.apiKeys.size, sessions: s.sessions.size, outbox: s.outbox.length });
};

describe('a sandbox without a control token', () => {
  let sb: TestSandbox;
  beforeAll(async () => {
    sb = await startTestSandbox({ allowedHosts: ['sandbox.test', 'mapped.test:8080'] });
    // Some state a reset would wipe: a second key for the demo account.
    const login = await sb.dashboard.post('/dashboard/auth/login', { json: { email: sb.demo!.email, password: sb.demo!.password } });
    expect(login.status).toBe(200);
  });
  afterAll(() => sb?.close());

  describe('the Host check (421 before any routing)', () => {
    it('refuses a Host it does not serve on both listeners, for every path including /docs and /openapi.json', async () => {
      const before = fingerprint(sb);
      for (const base of [sb.productionUrl, sb.sandboxUrl]) {
        for (const [method, path] of [
          ['GET', '/docs/'],
          ['GET', '/openapi.json'],
          ['GET', '/openapi.yaml'],
          ['GET', '/api/v1/balance/derive/customer_001'],
          ['GET', '/dashboard/auth/me'],
          ['POST', '/__sandbox/reset'],
          ['GET', '/__sandbox/outbox'],
          ['GET', '/no/such/path'],
        ] as const) {
          for (const host of [`evil.example:${portOf(base)}`, 'evil.example', `rebind.attacker.test:${portOf(base)}`]) {
            const r = await raw(base, method, path, { host, 'x-api-key': sb.demo!.apiKey });
            expectProblem(r, 421, 'misdirected_request');
            expect(r.text).not.toContain('evil.example');
          }
        }
      }
      expect(fingerprint(sb)).toBe(before);
    });

    it('serves localhost, 127.0.0.1 and [::1] with the listener’s own port only', async () => {
      for (const base of [sb.productionUrl, sb.sandboxUrl]) {
        const port = portOf(base);
        const other = port === portOf(sb.productionUrl) ? portOf(sb.sandboxUrl) : portOf(sb.productionUrl);
        for (const host of [`localhost:${port}`, `127.0.0.1:${port}`, `[::1]:${port}`, `LOCALHOST:${port}`]) {
          const r = await raw(base, 'GET', '/api/v1/verify/0000000000000000000000000000000000000000000000000000000000000000', { host });
          expect(r.status, `${host}: ${r.text}`).not.toBe(421);
        }
        for (const host of [`localhost:${other}`, `127.0.0.1:${other}`, 'localhost', '127.0.0.1', `127.0.0.2:${port}`, `[::2]:${port}`, `2130706433:${port}`, `localhost.evil.example:${port}`]) {
          expectProblem(await raw(base, 'GET', '/api/v1/verify/x', { host }), 421, 'misdirected_request');
        }
      }
    });

    it('--allowed-host: HOST with the listener’s port, HOST:PORT exactly', async () => {
      const port = portOf(sb.productionUrl);
      expect((await raw(sb.productionUrl, 'GET', '/__sandbox/clock', { host: `sandbox.test:${port}` })).status).toBe(200);
      expect((await raw(sb.productionUrl, 'GET', '/__sandbox/clock', { host: `SANDBOX.test:${port}` })).status).toBe(200);
      expect((await raw(sb.sandboxUrl, 'GET', '/api/v1/verify/x', { host: `sandbox.test:${portOf(sb.sandboxUrl)}` })).status).not.toBe(421);
      // A port mapping (docker -p 8080:…) names the mapped port.
      expect((await raw(sb.productionUrl, 'GET', '/__sandbox/clock', { host: 'mapped.test:8080' })).status).toBe(200);
      expectProblem(await raw(sb.productionUrl, 'GET', '/__sandbox/clock', { host: `mapped.test:${port}` }), 421, 'misdirected_request');
      expectProblem(await raw(sb.productionUrl, 'GET', '/__sandbox/clock', { host: 'sandbox.test:8080' }), 421, 'misdirected_request');
      expectProblem(await raw(sb.productionUrl, 'GET', '/__sandbox/clock', { host: `other.test:${port}` }), 421, 'misdirected_request');
    });

    it('the docs site answers once the Host is right', async () => {
      const r = await raw(sb.productionUrl, 'GET', '/openapi.json', { host: `localhost:${portOf(sb.productionUrl)}` });
      expect(r.status).toBe(200);
    });
  });

  describe('the control surface', () => {
    it('is not served on the sandbox listener: 404 as for an unknown path', async () => {
      const before = fingerprint(sb);
      for (const [method, path] of [
        ['POST', '/__sandbox/reset'],
        ['GET', '/__sandbox/outbox'],
        ['GET', '/__sandbox/clock'],
        ['GET', '/__sandbox/rate-limits'],
      ] as const) {
        expectProblem(await raw(sb.sandboxUrl, method, path), 404, 'not_found');
      }
      expect(fingerprint(sb)).toBe(before);
    });

    it('refuses the cross-site reset of the security report, and changes nothing', async () => {
      const before = fingerprint(sb);
      const limitsBefore = JSON.stringify(sb.services.limits.apiKey.settings());
      const attacks: Array<[Record<string, string>, string | undefined, number, string]> = [
        // A simple cross-origin POST from any web page: text/plain, no preflight.
        [{ origin: 'https://evil.example', 'content-type': 'text/plain;charset=UTF-8', 'sec-fetch-site': 'cross-site' }, '{}', 403, 'cross_site_request'],
        [{ origin: 'https://evil.example' }, undefined, 403, 'cross_site_request'],
        [{ origin: 'null' }, undefined, 403, 'cross_site_request'],
        [{ origin: `http://127.0.0.1:${portOf(sb.sandboxUrl)}` }, undefined, 403, 'cross_site_request'],
        [{ origin: `http://localhost:${portOf(sb.productionUrl)}` }, undefined, 403, 'cross_site_request'],
        [{ 'sec-fetch-site': 'cross-site' }, undefined, 403, 'cross_site_request'],
        // Another port of 127.0.0.1 (a dev server) is the same site.
        [{ 'sec-fetch-site': 'same-site' }, undefined, 403, 'cross_site_request'],
        // Form and text/plain bodies need no preflight: refused even without Origin.
        [{ 'content-type': 'text/plain' }, '{}', 415, 'unsupported_media_type'],
        [{ 'content-type': 'application/x-www-form-urlencoded' }, 'a=b', 415, 'unsupported_media_type'],
        [{ 'content-type': 'multipart/form-data; boundary=x' }, '--x--', 415, 'unsupported_media_type'],
        [{ 'content-type': 'text/plain' }, '', 415, 'unsupported_media_type'],
        [{}, 'x', 415, 'unsupported_media_type'],
      ];
      for (const [headers, body, status, code] of attacks) {
        expectProblem(await raw(sb.productionUrl, 'POST', '/__sandbox/reset', headers, body), status, code);
      }
      const lowerLimit = '{"apiKey":{"capacity":1,"refillPerSecond":0.001}}';
      expectProblem(await raw(sb.productionUrl, 'PUT', '/__sandbox/rate-limits', { 'content-type': 'text/plain' }, lowerLimit), 415, 'unsupported_media_type');
      expectProblem(await raw(sb.productionUrl, 'PUT', '/__sandbox/rate-limits', { origin: 'https://evil.example', 'content-type': 'application/json' }, lowerLimit), 403, 'cross_site_request');
      // Reads too: the outbox holds live tokens.
      expectProblem(await raw(sb.productionUrl, 'GET', '/__sandbox/outbox', { origin: 'https://evil.example', 'sec-fetch-site': 'cross-site' }), 403, 'cross_site_request');
      expect(fingerprint(sb)).toBe(before);
      expect(JSON.stringify(sb.services.limits.apiKey.settings())).toBe(limitsBefore);
      // The demo key still works: nothing was reset.
      expect((await sb.sandboxApi.get('/api/v1/balance/derive/customer_001', { headers: { 'X-Api-Key': sb.demo!.apiKey } })).status).toBe(200);
    });

    it('answers no CORS preflight', async () => {
      const r = await raw(sb.productionUrl, 'OPTIONS', '/__sandbox/reset', {
        origin: 'https://evil.example',
        'access-control-request-method': 'POST',
        'access-control-request-headers': 'content-type',
        'sec-fetch-site': 'cross-site',
      });
      expect(r.status).toBeGreaterThanOrEqual(400);
      expect(Object.keys(r.headers).filter((h) => h.startsWith('access-control-'))).toEqual([]);
      const same = await raw(sb.productionUrl, 'OPTIONS', '/__sandbox/reset', { 'access-control-request-method': 'POST' });
      expect(same.status).toBe(405);
      expect(Object.keys(same.headers).filter((h) => h.startsWith('access-control-'))).toEqual([]);
    });

    it('serves its own origin, same-origin pages and tools (no Origin), with JSON bodies', async () => {
      const own = `http://127.0.0.1:${portOf(sb.productionUrl)}`;
      expect((await raw(sb.productionUrl, 'GET', '/__sandbox/clock', { origin: own, 'sec-fetch-site': 'same-origin' })).status).toBe(200);
      expect((await raw(sb.productionUrl, 'GET', '/__sandbox/clock', { 'sec-fetch-site': 'none' })).status).toBe(200);
      const advanced = await raw(sb.productionUrl, 'POST', '/__sandbox/clock/advance', { origin: own, 'content-type': 'application/json' }, '{"seconds":1}');
      expect(advanced.status, advanced.text).toBe(200);
      // localhost's own origin, when the page was loaded as localhost.
      const host = `localhost:${portOf(sb.productionUrl)}`;
      expect((await raw(sb.productionUrl, 'GET', '/__sandbox/clock', { host, origin: `http://${host}` })).status).toBe(200);
      // A reset without a body needs no Content-Type.
      const reset = await raw(sb.productionUrl, 'POST', '/__sandbox/reset');
      expect(reset.status, reset.text).toBe(200);
      expect(reset.body.data.demo.fullKey).toMatch(/^pk_test_/);
    });
  });
});

describe('a sandbox with a control token', () => {
  const TOKEN = 'tok_3f9Qm2xVb7Lr8NcW1pZs';
  let sb: TestSandbox;
  beforeAll(async () => {
    sb = await startTestSandbox({ controlToken: TOKEN });
  });
  afterAll(() => sb?.close());

  it('needs X-Sandbox-Control-Token: missing or wrong → 401 and nothing changes, right → 200', async () => {
    const before = fingerprint(sb);
    const attempts: Array<Record<string, string>> = [{}, { 'x-sandbox-control-token': 'wrong' }, { 'x-sandbox-control-token': `${TOKEN}x` }, { 'x-sandbox-control-token': TOKEN.slice(0, -1) }, { authorization: `Bearer ${TOKEN}` }];
    for (const headers of attempts) {
      for (const [method, path] of [['POST', '/__sandbox/reset'], ['GET', '/__sandbox/outbox'], ['GET', '/__sandbox/clock']] as const) {
        const r = await raw(sb.productionUrl, method, path, headers);
        expectProblem(r, 401, 'unauthenticated');
        expect(r.text).not.toContain(TOKEN);
      }
    }
    expect(fingerprint(sb)).toBe(before);
    const ok = await raw(sb.productionUrl, 'POST', '/__sandbox/reset', { 'x-sandbox-control-token': TOKEN });
    expect(ok.status, ok.text).toBe(200);
    expect(ok.text).not.toContain(TOKEN);
    expect((await raw(sb.productionUrl, 'GET', '/__sandbox/clock', { 'x-sandbox-control-token': TOKEN })).status).toBe(200);
    // The right token does not open the sandbox listener, or excuse a cross-site request.
    expectProblem(await raw(sb.sandboxUrl, 'GET', '/__sandbox/clock', { 'x-sandbox-control-token': TOKEN }), 404, 'not_found');
    expectProblem(await raw(sb.productionUrl, 'GET', '/__sandbox/clock', { 'x-sandbox-control-token': TOKEN, origin: 'https://evil.example' }), 403, 'cross_site_request');
  });

  it('the public API does not need it', async () => {
    const { fullKey } = (await raw(sb.productionUrl, 'POST', '/__sandbox/reset', { 'x-sandbox-control-token': TOKEN })).body.data.demo;
    expect((await sb.sandboxApi.get('/api/v1/balance/derive/customer_001', { headers: { 'X-Api-Key': fullKey } })).status).toBe(200);
  });
});

describe('the programmatic API (mock/index.ts)', () => {
  let sandbox: Sandbox;
  beforeAll(async () => {
    sandbox = await startSandbox({ controlToken: 'secret-token', allowedHosts: ['box.internal'] });
  });
  afterAll(() => sandbox?.close());

  it('calls the control functions in process: no token needed', async () => {
    const before = sandbox.demo.apiKey;
    const demo = await sandbox.reset();
    expect(demo?.apiKey).not.toBe(before);
    expect((await sandbox.clock.advance(1_000)).offsetSeconds).toBeGreaterThanOrEqual(1);
    expect(await sandbox.outbox()).toEqual([]);
    expect((await fetch(`${sandbox.urls.control}/clock`)).status).toBe(401);
    expect((await fetch(`${sandbox.urls.control}/clock`, { headers: { 'X-Sandbox-Control-Token': 'secret-token' } })).status).toBe(200);
    expect((await raw(sandbox.urls.production, 'GET', '/__sandbox/clock', { host: `box.internal:${portOf(sandbox.urls.production)}`, 'x-sandbox-control-token': 'secret-token' })).status).toBe(200);
  });

  it('refuses bad options with a RangeError that never shows the token', async () => {
    await expect(startSandbox({ controlToken: '' })).rejects.toThrow(RangeError);
    await expect(startSandbox({ controlToken: 'has space' })).rejects.toThrow(/controlToken must be/);
    await expect(startSandbox({ controlToken: 'has space' })).rejects.not.toThrow(/has space/);
    await expect(startSandbox({ controlToken: 'x', control: false })).rejects.toThrow(RangeError);
    await expect(startSandbox({ allowedHosts: ['http://evil.example/'] })).rejects.toThrow(RangeError);
    await expect(startSandbox({ allowedHosts: ['a b'] })).rejects.toThrow(RangeError);
    await expect(startSandbox({ allowedHosts: 'box.internal' as unknown as string[] })).rejects.toThrow(RangeError);
  });
});

/** Whether this machine can bind the IPv6 loopback (some containers have no IPv6). */
const ipv6 = await new Promise<boolean>((resolve) => {
  const probe = createServer();
  probe.once('error', () => resolve(false));
  probe.listen(0, '::1', () => probe.close(() => resolve(true)));
});

describe.skipIf(!ipv6)('an IPv6 --host (skipped where ::1 cannot be bound)', () => {
  it('gives URLs with the address in brackets, which answer, and serves Host [::1]:PORT', async () => {
    const sandbox = await startSandbox({ host: '::1' });
    try {
      expect(sandbox.urls.production).toMatch(/^http:\/\/\[::1\]:\d+$/);
      expect(sandbox.urls.sandbox).toMatch(/^http:\/\/\[::1\]:\d+$/);
      const derive = await fetch(`${sandbox.urls.sandbox}/api/v1/balance/derive/customer_001`, { headers: { 'x-api-key': sandbox.demo.apiKey } });
      expect(derive.status).toBe(200);
      expect((await fetch(`${sandbox.urls.control}/clock`)).status).toBe(200);
    } finally {
      await sandbox.close();
    }
  });
});

describe('the command line', () => {
  it('--allowed-host (repeatable) and --control-token', () => {
    const command = parseCommandLine(['--allowed-host', 'Box.Internal', '--allowed-host', 'localhost:8080', '--allowed-host', '::1', '--control-token', 'abc']);
    expect(command).toMatchObject({ kind: 'start', options: { allowedHosts: ['box.internal', 'localhost:8080', '[::1]'], controlToken: 'abc' } });
    const plain = parseCommandLine([]);
    expect(plain.kind === 'start' && (plain.options.allowedHosts ?? plain.options.controlToken)).toBeUndefined();
  });

  it('refuses bad values with a usage error that never shows the token', () => {
    expect(() => parseCommandLine(['--allowed-host', 'http://x/'])).toThrow(UsageError);
    expect(() => parseCommandLine(['--allowed-host', 'x:70000'])).toThrow(UsageError);
    expect(() => parseCommandLine(['--allowed-host', ''])).toThrow(UsageError);
    expect(() => parseCommandLine(['--control-token', 'a b'])).toThrow(/--control-token must be/);
    expect(() => parseCommandLine(['--control-token', 'a b'])).not.toThrow(/a b/);
    expect(() => parseCommandLine(['--control-token', 'abc', '--no-control'])).toThrow(UsageError);
  });
});

describe('--control-token-file', () => {
  const dir = mkdtempSync(join(tmpdir(), 'pacspace-token-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  const file = (name: string, content: string) => {
    const path = join(dir, name);
    writeFileSync(path, content, { mode: 0o600 });
    return path;
  };

  it('reads the token from the file, one trailing newline (LF or CRLF) ignored, and nothing else trimmed', () => {
    for (const [content, token] of [['tok_FromFile42', 'tok_FromFile42'], ['tok_FromFile42\n', 'tok_FromFile42'], ['tok_FromFile42\r\n', 'tok_FromFile42']]) {
      const command = parseCommandLine(['--control-token-file', file('t', content!)]);
      expect(command).toMatchObject({ kind: 'start', options: { controlToken: token } });
    }
  });

  it('refuses, in one line that never shows the file content: a token with spaces or two lines, an empty file, a missing file, both flags, --no-control', () => {
    const secretish = 'my secret value';
    for (const content of [secretish, 'tok_A\ntok_B\n', '', '\n', 'tok_A\n\n']) {
      const path = file('bad', content);
      expect(() => parseCommandLine(['--control-token-file', path]), JSON.stringify(content)).toThrow(new UsageError('--control-token-file must hold 1 to 256 visible ASCII characters (no spaces)'));
    }
    expect(() => parseCommandLine(['--control-token-file', join(dir, 'missing')])).toThrow(new UsageError(`--control-token-file: cannot read ${join(dir, 'missing')} (ENOENT)`));
    expect(() => parseCommandLine(['--control-token-file', ''])).toThrow(new UsageError('--control-token-file must name a file'));
    const good = file('good', 'tok_Good\n');
    expect(() => parseCommandLine(['--control-token-file', good, '--control-token', 'tok_Other'])).toThrow(new UsageError('--control-token and --control-token-file are exclusive: give one'));
    expect(() => parseCommandLine(['--control-token-file', good, '--no-control'])).toThrow(new UsageError('--control-token-file needs the control surface (drop --no-control)'));
  });

  it('the bin started with it needs the token, and the token is not in its arguments', async () => {
    const TOKEN = 'file_Token_9Kq3LmN4pX2b';
    const root = fileURLToPath(new URL('../..', import.meta.url));
    const args = ['bin/pacspace-sandbox.js', '--port', '0', '--sandbox-port', '0', '--seed', 'none', '--control-token-file', file('bin', `${TOKEN}\n`)];
    expect(args.join(' ')).not.toContain(TOKEN);
    const child = spawn(process.execPath, args, { cwd: root });
    let out = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => (out += chunk));
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (out += chunk));
    try {
      await vi.waitFor(() => expect(out).toMatch(/production Balance API[^\n]*http:\/\/127\.0\.0\.1:\d+/), { timeout: 60_000, interval: 50 });
      const production = /production Balance API[^\n]*?(http:\/\/127\.0\.0\.1:\d+)/.exec(out)![1]!;
      expect((await raw(production, 'GET', '/__sandbox/clock', {})).status).toBe(401);
      expect((await raw(production, 'GET', '/__sandbox/clock', { 'x-sandbox-control-token': TOKEN })).status).toBe(200);
      expect(out).not.toContain(TOKEN);
    } finally {
      child.kill('SIGKILL');
    }
  });
});

describe('the bin with --control-token and --allowed-host', () => {
  it('needs the token, answers the allowed Host, and never prints the token', async () => {
    const TOKEN = 'bin_Token_7Hq2LmN4pX9a';
    const root = fileURLToPath(new URL('../..', import.meta.url));
    const child = spawn(process.execPath, ['bin/pacspace-sandbox.js', '--port', '0', '--sandbox-port', '0', '--control-token', TOKEN, '--allowed-host', 'box.test', '--log-level', 'debug'], { cwd: root });
    let out = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => (out += chunk));
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (out += chunk));
    const closed = new Promise((resolve) => child.on('close', resolve));
    try {
      await vi.waitFor(() => expect(out).toMatch(/API key:\s+\S+/), { timeout: 30_000, interval: 50 });
      const production = /Dashboard API[^:]*:\s+(http:\S+)/.exec(out)![1]!;
      const sandboxUrl = /Sandbox Balance API[^:]*:\s+(http:\S+)/.exec(out)![1]!;
      expect(out).toContain('(send X-Sandbox-Control-Token)');
      expectProblem(await raw(production, 'POST', '/__sandbox/reset'), 401, 'unauthenticated');
      expectProblem(await raw(production, 'GET', '/__sandbox/clock', { 'x-sandbox-control-token': 'nope' }), 401, 'unauthenticated');
      expect((await raw(production, 'GET', '/__sandbox/clock', { 'x-sandbox-control-token': TOKEN })).status).toBe(200);
      expect((await raw(production, 'GET', '/__sandbox/clock', { 'x-sandbox-control-token': TOKEN, host: `box.test:${portOf(production)}` })).status).toBe(200);
      expectProblem(await raw(production, 'GET', '/__sandbox/clock', { 'x-sandbox-control-token': TOKEN, host: `evil.test:${portOf(production)}` }), 421, 'misdirected_request');
      expectProblem(await raw(sandboxUrl, 'GET', '/__sandbox/clock', { 'x-sandbox-control-token': TOKEN }), 404, 'not_found');
      expectProblem(await raw(sandboxUrl, 'GET', '/openapi.json', { host: `evil.test:${portOf(sandboxUrl)}` }), 421, 'misdirected_request');
    } finally {
      child.kill('SIGTERM');
      await closed;
    }
    // Debug logging names every request; the token is in none of it.
    expect(out).toMatch(/GET \/__sandbox\/clock 200/);
    expect(out).not.toContain(TOKEN);
  }, 60_000);
});

describe('the checks alone', () => {
  it('Host: names are case-insensitive, ports exact, no Host is not a browser', () => {
    const served = createHostCheck('0.0.0.0', ['box.internal', 'alias.test:9000', 'fd00::1']);
    expect(served(undefined, 4010)).toBe(true);
    expect(served('0.0.0.0:4010', 4010)).toBe(true);
    expect(served('Box.Internal:4010', 4010)).toBe(true);
    expect(served('[fd00::1]:4010', 4010)).toBe(true);
    expect(served('alias.test:9000', 4010)).toBe(true);
    expect(served('alias.test:4010', 4010)).toBe(false);
    expect(served('box.internal:4011', 4010)).toBe(false);
    expect(served('localhost:4010 ', 4010)).toBe(false);
    expect(served('user@localhost:4010', 4010)).toBe(false);
    expect(served('', 4010)).toBe(false);
    expect(createHostCheck('::1')('[::1]:80', 80)).toBe(true);
    expect(normalizeAllowedHost('[FD00::1]:8080')).toBe('[fd00::1]:8080');
    expect(normalizeAllowedHost('host/path')).toBeUndefined();
  });

  it('control guard: the token is compared whole, whatever its length', () => {
    const guard = createControlGuard('abc');
    const base = { method: 'GET', hasBody: false };
    expect(guard({ ...base, headers: { 'x-sandbox-control-token': 'abc' } })).toBeUndefined();
    for (const given of ['', 'ab', 'abcd', 'ABC']) expect(guard({ ...base, headers: { 'x-sandbox-control-token': given } })?.code).toBe('unauthenticated');
    expect(createControlGuard(undefined)({ ...base, headers: {} })).toBeUndefined();
    expect(createControlGuard(undefined)({ ...base, headers: { origin: 'http://127.0.0.1:4010/path', host: '127.0.0.1:4010' } })?.code).toBe('cross_site_request');
    expect(createControlGuard(undefined)({ ...base, headers: { origin: 'http://127.0.0.1:4010', host: '127.0.0.1:4010' } })).toBeUndefined();
    expect(createControlGuard(undefined)({ ...base, headers: { origin: 'http://127.0.0.1:4010' } })?.code).toBe('cross_site_request');
  });
});
