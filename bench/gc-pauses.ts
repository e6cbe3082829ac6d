// The garbage collector's pauses under the derive load (`node --trace-gc`), with the request
// inspector on and off: at 20 connections a request's latency is mostly the queue in front of
// it, and a pause stops everything for its length, so the pauses are most of the p99 gap to a
// bare server. A separate run from the measured one (tracing prints a line per collection).
import { liftRateLimits, startSandboxProcess, loadArgs } from './processes.ts';
import { measure, workload, type LoadResult } from './load.ts';

export type Pauses = { count: number; totalMs: number; medianMs: number; maxMs: number };
export type GcPauses = { inspector: 'on' | 'off'; load: LoadResult; scavenges: Pauses; markCompacts: Pauses };

/** The pause of each collection a `--trace-gc` line reports, by kind (young: Scavenge; old: Mark-Compact). */
export function pausesOf(trace: string): { scavenges: number[]; markCompacts: number[] } {
  const scavenges: number[] = [];
  const markCompacts: number[] = [];
  // e.g. "[123:0x…]  4496 ms: Scavenge 94.0 (115.1) -> 81.8 (115.1) MB, 1.54 / 0.00 ms  (average mu …"
  for (const match of trace.matchAll(/ ms: (Scavenge|Mark-Compact)\b[^\n]*?MB, ([\d.]+) \/ [\d.]+ ms/g)) {
    (match[1] === 'Scavenge' ? scavenges : markCompacts).push(Number(match[2]));
  }
  return { scavenges, markCompacts };
}

export function summarizePauses(pauses: number[]): Pauses {
  const sorted = [...pauses].sort((a, b) => a - b);
  return {
    count: sorted.length,
    totalMs: sorted.reduce((sum, x) => sum + x, 0),
    medianMs: sorted.length === 0 ? 0 : sorted[Math.floor(sorted.length / 2)]!,
    maxMs: sorted.at(-1) ?? 0,
  };
}

/** The sandbox binary under the derive load for `seconds`, its collections traced. */
export async function gcPauses(inspector: 'on' | 'off', seconds: number, warmupSeconds: number): Promise<GcPauses> {
  const sandbox = await startSandboxProcess(loadArgs(inspector), 60_000, ['--trace-gc']);
  let trace = '';
  sandbox.child.stdout!.on('data', (chunk: Buffer) => (trace += chunk));
  try {
    await liftRateLimits(sandbox.productionUrl);
    // A delta first, as the load section records one (a derive of a customer with deltas).
    await fetch(`${sandbox.sandboxUrl}/api/v1/balance/delta`, {
      method: 'POST',
      headers: { 'x-api-key': sandbox.apiKey, 'content-type': 'application/json' },
      body: JSON.stringify({ customerId: 'customer_001', delta: '1.25', reason: 'usage' }),
    });
    await measure(sandbox.sandboxUrl, workload('derive', sandbox.apiKey), warmupSeconds, 0);
    const from = trace.length;
    const load = await measure(sandbox.sandboxUrl, workload('derive', sandbox.apiKey), seconds, 0);
    const { scavenges, markCompacts } = pausesOf(trace.slice(from));
    return { inspector, load, scavenges: summarizePauses(scavenges), markCompacts: summarizePauses(markCompacts) };
  } finally {
    await sandbox.stop();
  }
}
