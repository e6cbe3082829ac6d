// The suite against servers that differ from the sandbox in ways HTTP and the contract allow,
// and its safety on a real deployment (the issue "false alarms and hazards on targets it had
// never seen"), through the CLI. Each target is the local sandbox behind a small node:http proxy
// that changes one thing: a lower rate limit (429 + Retry-After: 1 to every 3rd request, 12 times), 150 ms
// of latency (and a slow webhook tunnel), a script in an error code. (Every legal variation
// runs against the whole suite in `npm run conformance:mutants`: test/conformance-mutants/variations.ts.) Safety: a wrong password is one login request
// and one line; a closed port is one line; --max-requests holds; Ctrl-C cleans up.
import { execFile, spawn } from 'node:child_process';
import { createServer, request as httpRequest, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { signUp } from '../../mock/testing/accounts.ts';
import { startTestSandbox, type TestSandbox } from '../../mock/testing/test-sandbox.ts';

const bin = join(import.meta.dirname, '..', '..', 'bin', 'pacspace-conformance.js');
let sb: TestSandbox;
let dir: string;
let demo: { email: string; password: string; fullKey: string };
const servers: Server[] = [];

type Run = { code: number | null; stdout: string; stderr: string };

function cli(args: string[], timeout = 120_000): Promise<Run> {
  return new Promise((resolve) => {
    execFile(process.execPath, [bin, ...args], { maxBuffer: 32 << 20, timeout }, (error, stdout, stderr) =>
      resolve({ code: error ? ((error as { code?: number }).code ?? null) : 0, stdout, stderr }),
    );
  });
}

const control = async (method: string, path: string, body?: unknown) => {
  const res = await fetch(`${sb.productionUrl}/__sandbox${path}`, {
    method,
    headers: body === undefined ? {} : { 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  if (!res.ok) throw new Error(`control ${method} ${path} → ${res.status}`);
  return (await res.json()) as any;
};

type Seen = { method: string; path: string };
type ProxyOptions = {
  /** Answers the request itself (returns true) instead of forwarding it. */
  intercept?(req: IncomingMessage, res: ServerResponse): boolean;
  /** Waits this long before forwarding. */
  latencyMs?: number;
  /** Rewrites the request's headers before it is forwarded. */
  forwardHeaders?(headers: Record<string, string | string[] | undefined>, req: IncomingMessage): void;
  /** Rewrites the answer before it goes back. */
  transform?(answer: { status: number; headers: Record<string, string | string[]>; body: Buffer }, req: IncomingMessage): void;
};

/** A proxy in front of `target` that logs every request it gets. */
async function startProxy(target: string, options: ProxyOptions = {}) {
  const seen: Seen[] = [];
  const to = new URL(target);
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', async () => {
      seen.push({ method: req.method!, path: req.url! });
      if (options.intercept?.(req, res)) return;
      if (options.latencyMs) await new Promise((r) => setTimeout(r, options.latencyMs));
      const headers = { ...req.headers, host: to.host };
      options.forwardHeaders?.(headers, req);
      const upstream = httpRequest({ host: to.hostname, port: to.port, method: req.method, path: req.url, headers }, (up) => {
        const body: Buffer[] = [];
        up.on('data', (c: Buffer) => body.push(c));
        up.on('end', () => {
          const answer = { status: up.statusCode!, headers: { ...(up.headers as Record<string, string | string[]>) }, body: Buffer.concat(body) };
          for (const h of ['content-length', 'transfer-encoding', 'connection', 'keep-alive']) delete answer.headers[h];
          options.transform?.(answer, req);
          answer.headers['content-length'] = String(answer.body.length);
          res.writeHead(answer.status, answer.headers).end(answer.body);
        });
      });
      upstream.on('error', () => res.destroy());
      upstream.end(Buffer.concat(chunks));
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  servers.push(server);
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, seen };
}

/** A port nothing listens on. */
async function closedPort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const { port } = s.address() as AddressInfo;
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}

/** Full inputs against the given Balance API and dashboard URLs. */
const inputs = (api: string, dashboard: string, extra: string[] = []) => [
  '--base-url', api, '--api-key', demo.fullKey, '--dashboard-url', dashboard, '--email', demo.email, '--password', demo.password,
  '--other-env-base-url', dashboard, '--allow-writes', '--webhook-host', '127.0.0.1', ...extra,
];

/** The run's JSON report; when the run wrote none, fails with what the run printed instead. */
async function report(file: string, run: Run) {
  const text = await readFile(file, 'utf8').catch(() => {
    throw new Error(`the run wrote no report (exit ${run.code}):\n${run.stderr}\n${run.stdout}`);
  });
  return JSON.parse(text);
}

/** What is left in the demo account: keys other than its own, and webhook endpoints. */
async function leftOnTarget() {
  const client = sb.newDashboardClient();
  expect((await client.post('/dashboard/auth/login', { json: { email: demo.email, password: demo.password } })).status).toBe(200);
  const keys = (await client.get('/dashboard/api-keys?limit=100')).body.data.items.map((k: any) => k.name as string);
  const hooks = (await client.get('/dashboard/webhooks?limit=100')).body.data.items.map((w: any) => w.description as string);
  return { keys: keys.filter((n: string) => n.startsWith('conformance')), hooks };
}

beforeAll(async () => {
  sb = await startTestSandbox({ confirmationMs: 0, provisioningMs: 0 });
  dir = await mkdtemp(join(tmpdir(), 'pacspace-portability-'));
});
beforeEach(async () => {
  // A fresh account and fresh rate-limit buckets for every test.
  demo = (await control('POST', '/reset')).data.demo;
});
afterAll(async () => {
  for (const s of servers) {
    s.closeAllConnections();
    await new Promise<void>((r) => s.close(() => r()));
  }
  await sb.close();
  await rm(dir, { recursive: true, force: true });
});

describe('correct servers that differ from the sandbox', () => {
  it('a lower rate limit — 429 + Retry-After: 1 to every 3rd request, 12 times — still passes: every request waits and retries', async () => {
    let n = 0;
    let refused = 0;
    // Each refusal costs the run a second (Retry-After: 1): 12 of them prove the retries.
    const intercept = (_req: IncomingMessage, res: ServerResponse) => {
      if (++n % 3 !== 0 || refused >= 12) return false;
      refused++;
      const requestId = `req_proxy${String(n).padStart(8, '0')}`;
      const body = JSON.stringify({ type: 'https://docs.pacspace.io/errors/rate_limited', title: 'Too many requests', status: 429, detail: 'Rate limit exceeded; retry after 1 seconds.', code: 'rate_limited', requestId, retryAfter: 1 });
      res.writeHead(429, { 'content-type': 'application/problem+json', 'retry-after': '1', 'ratelimit-limit': '2', 'ratelimit-remaining': '0', 'ratelimit-reset': '1', 'x-request-id': requestId });
      res.end(body);
      return true;
    };
    const api = await startProxy(sb.sandboxUrl, { intercept });
    const dash = await startProxy(sb.productionUrl, { intercept });
    const out = join(dir, 'rate-limited.json');
    const only = 'AUTH-002,AUTH-003,KEY-003,SESSION-003,SESSION-008,LEDGER-002,WEBHOOK-001,CONTRACT-001,REVEAL-002';
    const run = await cli([...inputs(api.url, dash.url), '--only', only, '--reporter', 'json', '--out', out]);
    const r = await report(out, run);
    expect(r.results.filter((x: any) => x.status !== 'passed')).toEqual([]);
    expect(run.code).toBe(0);
    expect(refused).toBe(12);
    // Every 429 was retried: the proxy saw each of them plus the request that then got through.
    expect(api.seen.length + dash.seen.length).toBe(r.requests.sent);
    // Every key and endpoint deleted; the deltas LEDGER-002 recorded are listed (no operation deletes one).
    expect(r.leftovers).toEqual([expect.objectContaining({ kind: 'ledger entries', reason: 'the ledger is append-only: no operation deletes a delta or a checkpoint' })]);
  }, 90_000);

  it('150 ms of latency on every request and on webhook deliveries (through --webhook-url) passes with --timeout-scale 2', async () => {
    const api = await startProxy(sb.sandboxUrl, { latencyMs: 150 });
    const dash = await startProxy(sb.productionUrl, { latencyMs: 150 });
    const out = join(dir, 'slow.json');
    const only = 'AUTH-002,KEY-003,SESSION-005,LEDGER-006,WEBHOOK-001,WEBHOOK-003,WEBHOOK-004';
    let port: number;
    let tunnel: Awaited<ReturnType<typeof startProxy>>;
    let run: Run;
    // The receiver's port is chosen free here and then given to the run; on a busy machine
    // another process can take it in between (the run then stops in its preflight, saying so),
    // so only that is tried again, with another port.
    for (let attempt = 1; ; attempt++) {
      port = await closedPort();
      // The "tunnel": a public URL that forwards, slowly, to the receiver's fixed port.
      tunnel = await startProxy(`http://127.0.0.1:${port}`, { latencyMs: 150 });
      run = await cli([
        ...inputs(api.url, dash.url), '--only', only, '--timeout-scale', '2',
        '--webhook-url', `${tunnel.url}/hooks`, '--webhook-port', String(port), '--reporter', 'json', '--out', out,
      ]);
      if (attempt === 3 || !run.stderr.includes(`the webhook receiver cannot listen on 127.0.0.1:${port}: EADDRINUSE`)) break;
    }
    const r = await report(out, run);
    expect(r.results.filter((x: any) => x.status !== 'passed').map((x: any) => `${x.id}: ${x.message}`)).toEqual([]);
    expect(run.code).toBe(0);
    // The receiver's local port is printed, and the deliveries came through the tunnel.
    expect(run.stderr).toContain(`webhook receiver listening on http://127.0.0.1:${port}; registering ${tunnel.url}/hooks (the tunnel must forward it to port ${port})`);
    expect(tunnel.seen.filter((s) => s.path.startsWith('/hooks')).length).toBeGreaterThanOrEqual(1);
  }, 90_000);

  it('a slow target that never answers 429: the rate-limit probe is inconclusive, not failed (the contract names no rate)', async () => {
    // The Balance API answers derive one request at a time, every 20 ms (50 a second), and
    // never refuses: whether its key is limited cannot be seen at that pace.
    let queue = Promise.resolve();
    const intercept = (req: IncomingMessage, res: ServerResponse) => {
      if (!req.url!.startsWith('/api/v1/balance/derive/')) return false;
      queue = queue.then(async () => {
        await new Promise((r) => setTimeout(r, 20));
        res.writeHead(200, { 'content-type': 'application/json', 'x-request-id': 'req_slow00000001' });
        res.end(JSON.stringify({ data: { customerId: 'customer_001', balance: '0', deltaCount: 0 } }));
      });
      return true;
    };
    const api = await startProxy(sb.sandboxUrl, { intercept });
    const out = join(dir, 'slow-unlimited.json');
    const run = await cli([...inputs(api.url, sb.productionUrl, ['--probe-rate-limit']), '--only', 'ERR-007', '--reporter', 'json', '--out', out]);
    const r = await report(out, run);
    expect(r.results.map((x: any) => [x.id, x.status])).toEqual([['ERR-007', 'inconclusive']]);
    expect(r.results[0].message).toMatch(/^no 429 after \d+ requests in \d+\.\d s \(\d+ a second\): too slow to reach a limit that refills faster$/);
    expect(run.code).toBe(0);
    // It gave up after about 5 s, not after 2,000 requests.
    expect(api.seen.length).toBeLessThan(1_000);
  });
});

describe('safe on a real deployment', () => {
  it('a wrong password: one login request, one line, exit 3, no check run', async () => {
    const api = await startProxy(sb.sandboxUrl);
    const dash = await startProxy(sb.productionUrl);
    const run = await cli(inputs(api.url, dash.url).map((a) => (a === demo.password ? 'not-the-password-1' : a)));
    expect(run).toEqual({ code: 3, stdout: '', stderr: 'pacspace-conformance: dashboard login failed (401 invalid_credentials); no check was run\n' });
    expect(dash.seen.filter((s) => s.path === '/dashboard/auth/login')).toHaveLength(1);
    // Besides that login, only the preflight's one read of the Balance API.
    expect(dash.seen).toHaveLength(1);
    expect(api.seen).toHaveLength(1);
  });

  it('a down target: one line, exit 3', async () => {
    const port = await closedPort();
    const run = await cli(['--base-url', `http://127.0.0.1:${port}`, '--api-key', demo.fullKey]);
    expect(run).toEqual({ code: 3, stdout: '', stderr: `pacspace-conformance: cannot reach http://127.0.0.1:${port}: connection refused; no check was run\n` });
  });

  it('a refused key: one line, exit 3, and the key is not printed', async () => {
    const wrong = `${demo.fullKey.split('.')[0]}.sk_test_ThisSecretMustNeverBePrinted1234567890`;
    const run = await cli(['--base-url', sb.sandboxUrl, '--api-key', wrong]);
    expect(run).toEqual({ code: 3, stdout: '', stderr: 'pacspace-conformance: the API key was refused (401 unauthenticated); no check was run\n' });
  });

  it('--max-requests 5: no more than 5 requests (+ the preflight), the rest inconclusive, exit 0', async () => {
    const api = await startProxy(sb.sandboxUrl);
    const out = join(dir, 'budget.json');
    const run = await cli(['--base-url', api.url, '--api-key', demo.fullKey, '--allow-writes', '--max-requests', '5', '--reporter', 'json', '--out', out]);
    expect(run.code).toBe(0);
    const r = await report(out, run);
    expect(r.requests).toEqual({ sent: 6, preflight: 1, checks: 5, cleanup: 0, budget: 5 });
    expect(api.seen).toHaveLength(6);
    const inconclusive = r.results.filter((x: any) => x.status === 'inconclusive');
    expect(inconclusive.length).toBeGreaterThan(10);
    expect(inconclusive[0].message).toMatch(/^the request budget is used up \(--max-requests 5\)/);
    expect(r.totals.failed).toBe(0);
    expect(run.stdout).toMatch(/0 failed, \d+ skipped, \d+ inconclusive in [\d.]+ s\n6 requests sent \(1 preflight, 5 by checks of a budget of 5, 0 cleanup\)\n/);
    expect(run.stderr).toMatch(/^\? [A-Z]+-\d+ .*\(INCONCLUSIVE after \d+ ms: the request budget is used up/m);
  });

  it('SIGINT mid-run: no further check starts, the cleanup deletes every key and endpoint the run created, exit 130', async () => {
    const api = await startProxy(sb.sandboxUrl, { latencyMs: 20 });
    const dash = await startProxy(sb.productionUrl, { latencyMs: 20 });
    const out = join(dir, 'interrupted.json');
    const child = spawn(process.execPath, [bin, ...inputs(api.url, dash.url, ['--probe-rate-limit']), '--reporter', 'json', '--out', out]);
    try {
      let stderr = '';
      let stdout = '';
      child.stdout.on('data', (c) => (stdout += c));
      // 'close', not 'exit': its last lines on stdout and stderr may still be arriving when it has exited.
      const exited = new Promise<number | null>((r) => child.on('close', (code) => r(code)));
      // Once KEY-002 has passed, the keys it created (kept until the end of the run) exist.
      await new Promise<void>((resolve) =>
        child.stderr.on('data', (c) => {
          stderr += c;
          if (/KEY-002/.test(stderr)) resolve();
        }),
      );
      const before = await leftOnTarget();
      expect(before.keys.length).toBeGreaterThan(0);
      child.kill('SIGINT');
      expect(await exited).toBe(130);
      expect(stderr).toContain('pacspace-conformance: SIGINT: stopping; cleaning up what the run created');
      expect(await leftOnTarget()).toEqual({ keys: [], hooks: [] });
      const r = await report(out, { code: 130, stdout, stderr });
      expect(r.interrupted).toBe('SIGINT');
      // Every key and endpoint deleted; what no operation deletes (accounts, ledger entries) only listed.
      expect(r.leftovers.filter((l: any) => !['account', 'access request', 'ledger entries'].includes(l.kind))).toEqual([]);
      expect(r.results.at(-1)).toMatchObject({ id: 'REVEAL-002', status: 'skipped', message: 'not run: the run was interrupted (SIGINT)' });
      expect(stdout).toContain('interrupted by SIGINT');
    } finally {
      // A failed expectation must not leave the run going.
      if (child.exitCode === null) child.kill('SIGKILL');
    }
  }, 90_000);

  it('the HTML report escapes what the target sends and shows failures as curl without the key', async () => {
    // A broken target that takes a key from ?api_key= (AUTH-004 fails) and a hostile one: an
    // error code carrying markup.
    const forwardHeaders: ProxyOptions['forwardHeaders'] = (headers, req) => {
      const key = new URL(req.url!, 'http://x').searchParams.get('api_key');
      if (key !== null) headers['x-api-key'] = key;
    };
    const transform: ProxyOptions['transform'] = (answer, req) => {
      if (answer.status !== 404) return;
      const body = JSON.parse(answer.body.toString('utf8'));
      answer.body = Buffer.from(JSON.stringify({ ...body, code: '<script>alert(1)</script>' }));
    };
    const api = await startProxy(sb.sandboxUrl, { transform, forwardHeaders });
    const out = join(dir, 'report.html');
    const run = await cli(['--base-url', api.url, '--api-key', demo.fullKey, '--dashboard-url', sb.productionUrl, '--email', demo.email, '--password', demo.password, '--only', 'AUTH-003,AUTH-004,ERR-001', '--reporter', 'html', '--out', out]);
    expect(run.code).toBe(1);
    const page = await readFile(out, 'utf8');
    expect(page).toMatch(/^<!doctype html>/);
    expect(page).not.toMatch(/<script/i);
    expect(page).toContain('&lt;script&gt;alert(1)&lt;/script&gt;');
    // No external resource, and the browser is told so.
    expect(page).not.toMatch(/\b(src|href)=["']?(https?:)?\/\//i);
    expect(page).toContain(`default-src 'none'`);
    // AUTH-004's failing request, as curl: the key in the query string is a shell variable.
    expect(page).toContain(`curl -i &#39;${api.url}/api/v1/balance/derive/customer_001?api_key=&#39;&quot;$PACSPACE_API_KEY&quot;`);
    const secret = demo.fullKey.split('.')[1]!;
    expect(page).not.toContain(secret);
    expect(run.stdout + run.stderr).not.toContain(secret);
  });
});
