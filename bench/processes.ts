// The two servers the benchmark compares, started as the user starts them: the sandbox's
// package binary (bin/pacspace-sandbox.js) and `prism mock` from the project's own
// @stoplight/prism-cli dependency, both on the same Node and the same bundled contract.
// Everything listens on loopback only.
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { request } from 'node:http';
import { createRequire } from 'node:module';
import { createServer, type AddressInfo } from 'node:net';
import { dirname, join } from 'node:path';

export const root = join(import.meta.dirname, '..');
export const specFile = join(root, 'generated', 'openapi.yaml');
const sandboxBin = join(root, 'bin', 'pacspace-sandbox.js');

/** Prism's CLI entry, resolved from the project's own dependency (its package.json `bin`). */
export function prismBin(): string {
  const require = createRequire(import.meta.url);
  const pkgFile = require.resolve('@stoplight/prism-cli/package.json');
  const pkg = JSON.parse(readFileSync(pkgFile, 'utf8')) as { version: string; bin: string | Record<string, string> };
  const bin = typeof pkg.bin === 'string' ? pkg.bin : pkg.bin.prism!;
  return join(dirname(pkgFile), bin);
}

export function prismVersion(): string {
  const require = createRequire(import.meta.url);
  return (JSON.parse(readFileSync(require.resolve('@stoplight/prism-cli/package.json'), 'utf8')) as { version: string }).version;
}

export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

/** Lifts the sandbox's client and per-key rate limits (control surface) so a benchmark measures the code, not the limiter. */
export async function liftRateLimits(productionUrl: string): Promise<void> {
  const unlimited = { capacity: 1_000_000, refillPerSecond: 1_000_000 };
  const res = await fetch(`${productionUrl}/__sandbox/rate-limits`, {
    method: 'PUT',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ client: unlimited, apiKey: unlimited }),
  });
  if (res.status !== 200) throw new Error(`PUT /__sandbox/rate-limits answered ${res.status}`);
}

/** A syntactically valid key, for Prism (which only checks that the header is there). */
export const ANY_KEY = 'pk_test_benchBenchBench01.sk_test_benchBenchBenchBenchBench0123';

export type Started = { child: ChildProcess; stop(): Promise<void> };

function stopper(child: ChildProcess): () => Promise<void> {
  return () =>
    new Promise<void>((resolve) => {
      if (child.exitCode !== null || child.signalCode !== null) return resolve();
      const timer = setTimeout(() => child.kill('SIGKILL'), 5_000);
      child.once('exit', () => {
        clearTimeout(timer);
        resolve();
      });
      child.kill('SIGTERM');
    });
}

/** The bare node:http reference (bench/bare-server.mjs), answering from a file of recorded answers. */
export function startBareProcess(answersFile: string, timeoutMs = 30_000): Promise<Started & { url: string }> {
  const child = spawn(process.execPath, [join(root, 'bench', 'bare-server.mjs'), answersFile], { stdio: ['ignore', 'pipe', 'inherit'] });
  return new Promise((resolve, reject) => {
    let out = '';
    const timer = setTimeout(() => reject(new Error('the bare server did not start')), timeoutMs);
    child.stdout!.on('data', (c) => {
      out += c;
      const m = /listening on (http:\/\/\S+)/.exec(out);
      if (m) {
        clearTimeout(timer);
        resolve({ child, url: m[1]!, stop: stopper(child) });
      }
    });
    child.once('exit', (code) => reject(new Error(`the bare server exited with ${code}`)));
  });
}

export type SandboxProcess = Started & { productionUrl: string; sandboxUrl: string; apiKey: string; output: () => string };

/** Starts the sandbox binary and resolves once it printed its URLs and the demo key. */
/**
 * The sandbox as every load measurement runs it: validation, auth and state on as always; only
 * the Free plan limit is lifted (the rate limits through the control surface: liftRateLimits),
 * and the log kept to warnings. `inspector: 'off'` adds `--inspect-history 0`.
 */
export const loadArgs = (inspector: 'on' | 'off' = 'on'): string[] => ['--free-plan-deltas', '1000000000', '--log-level', 'warn', ...(inspector === 'off' ? ['--inspect-history', '0'] : [])];

export function startSandboxProcess(args: string[] = [], timeoutMs = 60_000, nodeArgs: string[] = []): Promise<SandboxProcess & { printedAt: number }> {
  const child = spawn(process.execPath, [...nodeArgs, sandboxBin, '--port', '0', '--sandbox-port', '0', '--seed', '1', ...args], {
    cwd: root,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`the sandbox did not start within ${timeoutMs} ms:\n${out}`));
    }, timeoutMs);
    const onData = (chunk: Buffer) => {
      out += chunk;
      const production = /production Balance API \(pk_live_\):\s+(\S+)/.exec(out)?.[1];
      const sandbox = /Sandbox Balance API \(pk_test_\):\s+(\S+)/.exec(out)?.[1];
      const apiKey = /API key:\s+(pk_\S+)/.exec(out)?.[1];
      if (production && sandbox && apiKey) {
        clearTimeout(timer);
        child.stdout!.off('data', onData);
        child.stdout!.resume();
        resolve({ child, productionUrl: production, sandboxUrl: sandbox, apiKey, printedAt: performance.now(), output: () => out, stop: stopper(child) });
      }
    };
    child.stdout!.on('data', onData);
    child.stderr!.on('data', (chunk) => (out += chunk));
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`the sandbox exited (${code}) before it was ready:\n${out}`));
    });
  });
}

/** Starts `prism mock generated/openapi.yaml -h 127.0.0.1 -p PORT`; its log goes nowhere. */
export function startPrismProcess(port: number, extraArgs: string[] = []): Started {
  const child = spawn(process.execPath, [prismBin(), 'mock', specFile, '-h', '127.0.0.1', '-p', String(port), ...extraArgs], {
    cwd: root,
    stdio: ['ignore', 'ignore', 'ignore'],
  });
  return { child, stop: stopper(child) };
}

/** One GET; resolves with the status, or 0 when the connection failed. */
export function getStatus(url: string, headers: Record<string, string> = {}): Promise<number> {
  return new Promise((resolve) => {
    const req = request(url, { method: 'GET', headers, agent: false }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode ?? 0));
    });
    req.on('error', () => resolve(0));
    req.setTimeout(2_000, () => req.destroy());
    req.end();
  });
}

/** Polls `url` every `everyMs` until it answers 200; resolves with performance.now() of that answer. */
export async function waitFor200(url: string, headers: () => Record<string, string> | undefined, timeoutMs = 60_000, everyMs = 5): Promise<number> {
  const deadline = performance.now() + timeoutMs;
  while (performance.now() < deadline) {
    const h = headers();
    if (h && (await getStatus(url, h)) === 200) return performance.now();
    await new Promise((r) => setTimeout(r, everyMs));
  }
  throw new Error(`${url} did not answer 200 within ${timeoutMs} ms`);
}

export const DERIVE_PATH = '/api/v1/balance/derive/customer_001';

/**
 * Cold start, process start to first 200: the time from spawn() to the first 200 for
 * `GET /api/v1/balance/derive/customer_001` with a key. The sandbox's key exists only
 * once it has started and printed it, so its clock includes creating the demo account. `bin` is
 * the repository's binary (TypeScript through tsx) or an installed package's `pacspace-sandbox`.
 */
export async function coldStart(kind: 'sandbox' | 'prism', bin = sandboxBin): Promise<number> {
  if (kind === 'sandbox') {
    const t0 = performance.now();
    const child = spawn(process.execPath, [bin, '--port', '0', '--sandbox-port', '0', '--seed', '1', '--log-level', 'warn'], {
      cwd: root,
      stdio: ['ignore', 'pipe', 'ignore'],
    });
    let out = '';
    child.stdout!.on('data', (d) => (out += d));
    try {
      const url = () => /Sandbox Balance API \(pk_test_\):\s+(\S+)/.exec(out)?.[1];
      const key = () => /API key:\s+(pk_\S+)/.exec(out)?.[1];
      // Nothing to poll before the URL (port 0) and key are printed.
      while (!url() || !key()) {
        if (child.exitCode !== null) throw new Error(`the sandbox exited: ${out}`);
        if (performance.now() - t0 > 60_000) throw new Error('the sandbox did not start');
        await new Promise((r) => setTimeout(r, 2));
      }
      const at = await waitFor200(`${url()}${DERIVE_PATH}`, () => ({ 'x-api-key': key()! }));
      return at - t0;
    } finally {
      await stopper(child)();
    }
  }
  const port = await freePort();
  const t0 = performance.now();
  const prism = startPrismProcess(port);
  try {
    const at = await waitFor200(`http://127.0.0.1:${port}${DERIVE_PATH}`, () => ({ 'x-api-key': ANY_KEY }));
    return at - t0;
  } finally {
    await prism.stop();
  }
}
