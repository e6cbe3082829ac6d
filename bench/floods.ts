// The `floods` section of `npm run bench`: does unwanted traffic slow down another client?
// (A tester found that a flood of failed logins took a derive from 10 ms to 2.2 s, and that a
// 1 MiB body of unknown members cost 2.4 s and a 17.5 MB answer.)
//
// Against the sandbox binary on 127.0.0.1 (its client and per-key rate limits lifted through
// the control surface, as for the load section, so that every flood request reaches the code
// it aims at), another client — the probe, connecting from 127.0.0.2, another client address
// on the loopback — sends a derive every 5 ms on one keep-alive connection and times each with
// performance.now() (autocannon's histograms have 1 ms resolution, too coarse for a 1 ms p99):
// first alone, then during each flood. Each flood comes from 127.0.0.1, in its own process
// (bench/flood-client.ts, autocannon through bench/load.ts), at a fixed rate, bounded in time
// and in requests:
//   logins            failed logins, a new email each, 1,000 a second from 100 connections: about
//                     25 times what scrypt can check, so most are refused 429 password_hashing_busy
//   delta-1mb-no-key  1 MiB bodies of unknown members to POST /api/v1/balance/delta without a key,
//                     100 a second (100 MB/s): refused 401 before the body is parsed
//   login-1mb         the same bodies to login, 4 connections as fast as answered: a public
//                     operation, so each is parsed and validated (a 422 listing 20 violations)
import { spawn } from 'node:child_process';
import { Agent, request } from 'node:http';
import { join } from 'node:path';
import type { FloodConfig, FloodKind } from './flood-client.ts';
import type { LoadResult } from './load.ts';
import { liftRateLimits, root, startSandboxProcess } from './processes.ts';

export type ProbeResult = { requests: number; p50Ms: number; p90Ms: number; p99Ms: number; maxMs: number; non200: number };
export type FloodRun = { kind: FloodKind; connections: number; rate: number; flood: LoadResult; derive: ProbeResult; p99Ratio: number };
export type FloodsResult = { seconds: number; alone: ProbeResult; floods: FloodRun[] };

const DERIVE = '/api/v1/balance/derive/customer_001';

/** The floods: connections, requests a second (0: as fast as answered) and at most how many. */
export const FLOODS: Array<{ kind: FloodKind; connections: number; rate: number; amount: number }> = [
  { kind: 'logins', connections: 100, rate: 1_000, amount: 20_000 },
  { kind: 'delta-1mb-no-key', connections: 4, rate: 100, amount: 2_000 },
  { kind: 'login-1mb', connections: 4, rate: 0, amount: 500 },
];

const percentile = (sorted: number[], p: number) => sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? 0;

const PROBE_ADDRESS = '127.0.0.2';
const PROBE_EVERY_MS = 5;

/** A derive every PROBE_EVERY_MS (or right after the last, when slower) on one keep-alive connection from PROBE_ADDRESS for `seconds`; each timed. */
async function probe(baseUrl: string, apiKey: string, seconds: number): Promise<ProbeResult> {
  const agent = new Agent({ keepAlive: true, maxSockets: 1, localAddress: PROBE_ADDRESS } as ConstructorParameters<typeof Agent>[0]);
  const url = new URL(DERIVE, baseUrl);
  const times: number[] = [];
  let non200 = 0;
  const deadline = performance.now() + seconds * 1000;
  try {
    while (performance.now() < deadline) {
      const started = performance.now();
      const status = await new Promise<number>((resolve, reject) => {
        const req = request(url, { agent, headers: { 'x-api-key': apiKey } }, (res) => {
          res.resume();
          res.on('end', () => resolve(res.statusCode ?? 0));
        });
        req.setTimeout(30_000, () => req.destroy(new Error('derive timed out')));
        req.on('error', reject);
        req.end();
      });
      const took = performance.now() - started;
      times.push(took);
      if (status !== 200) non200++;
      if (took < PROBE_EVERY_MS) await new Promise((r) => setTimeout(r, PROBE_EVERY_MS - took));
    }
  } finally {
    agent.destroy();
  }
  const sorted = times.sort((a, b) => a - b);
  return { requests: times.length, p50Ms: percentile(sorted, 50), p90Ms: percentile(sorted, 90), p99Ms: percentile(sorted, 99), maxMs: sorted.at(-1) ?? 0, non200 };
}

/** Runs one flood in its own process; resolves with autocannon's summary. */
function runFlood(config: FloodConfig): { result: Promise<LoadResult>; started: Promise<void> } {
  const child = spawn(process.execPath, ['--import', 'tsx', join(root, 'bench', 'flood-client.ts'), JSON.stringify(config)], { cwd: root, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  child.stdout!.on('data', (d) => (out += d));
  child.stderr!.on('data', (d) => (err += d));
  const result = new Promise<LoadResult>((resolve, reject) => {
    const timer = setTimeout(() => child.kill('SIGKILL'), (config.seconds + 60) * 1000);
    child.once('exit', (code) => {
      clearTimeout(timer);
      try {
        if (code !== 0) throw new Error(`exit ${code}`);
        resolve(JSON.parse(out.trim().split('\n').at(-1)!) as LoadResult);
      } catch (error) {
        reject(new Error(`flood ${config.kind} failed (${(error as Error).message}):\n${err}${out}`));
      }
    });
  });
  // The child needs a moment to load (tsx, autocannon) and to build its 1 MiB bodies.
  const started = new Promise<void>((resolve) => setTimeout(resolve, 2_500));
  return { result, started };
}

export async function floodsBench(seconds: number, log: (line: string) => void): Promise<FloodsResult> {
  const sandbox = await startSandboxProcess(['--log-level', 'warn']);
  try {
    await liftRateLimits(sandbox.productionUrl);
    await probe(sandbox.sandboxUrl, sandbox.apiKey, 1); // warm-up
    const alone = await probe(sandbox.sandboxUrl, sandbox.apiKey, seconds);
    log(`  derive alone: p50 ${alone.p50Ms.toFixed(2)} ms, p99 ${alone.p99Ms.toFixed(2)} ms, max ${alone.maxMs.toFixed(1)} ms (${alone.requests} derives)`);
    const floods: FloodRun[] = [];
    for (const { kind, connections, rate, amount } of FLOODS) {
      // The flood outlasts the probe: it starts before and ends after it.
      const run = runFlood({ kind, productionUrl: sandbox.productionUrl, sandboxUrl: sandbox.sandboxUrl, connections, rate, seconds: seconds + 4, amount });
      await run.started;
      const derive = await probe(sandbox.sandboxUrl, sandbox.apiKey, seconds);
      const flood = await run.result;
      const p99Ratio = derive.p99Ms / alone.p99Ms;
      floods.push({ kind, connections, rate, flood, derive, p99Ratio });
      const statuses = Object.entries(flood.statusCodes).map(([s, c]) => `${s} ×${c}`).join(', ');
      log(`  derive during ${kind} (${connections} connections, ${rate ? `${rate}/s` : 'as fast as answered'}; ${flood.totalRequests} requests: ${statuses || 'none'}; ${flood.errors} errors): p50 ${derive.p50Ms.toFixed(2)} ms, p99 ${derive.p99Ms.toFixed(2)} ms (${p99Ratio.toFixed(2)}×), max ${derive.maxMs.toFixed(1)} ms`);
      await new Promise((r) => setTimeout(r, 1_000)); // let queued work drain
    }
    return { seconds, alone, floods };
  } finally {
    await sandbox.stop();
  }
}
