// The Balance API workloads, fired by autocannon, with a key, so validation, auth and state are
// all exercised on the sandbox: derive alone, and the mixed one where each connection cycles
// through derive, delta and compare (one third each).
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);

type AutocannonRequest = {
  method: string;
  path: string;
  headers?: Record<string, string>;
  body?: string | Buffer;
  /** Rewrites the request before each send (a unique body per request, say). */
  setupRequest?: (request: AutocannonRequest) => AutocannonRequest;
};
type Histogram = { average: number; mean: number; stddev: number; min: number; max: number; p50: number; p90: number; p97_5: number; p99: number; p99_9?: number };
export type AutocannonResult = {
  requests: Histogram & { total: number; sent: number };
  latency: Histogram;
  throughput: Histogram;
  errors: number;
  timeouts: number;
  non2xx: number;
  duration: number;
  statusCodeStats: Record<string, { count: number }>;
};
type Autocannon = (options: {
  url: string;
  connections: number;
  duration?: number;
  amount?: number;
  /** A cap on requests that, unlike `amount`, leaves `duration` in force. */
  maxOverallRequests?: number;
  /** Requests a second from all connections together (default: as fast as answered). */
  overallRate?: number;
  requests: AutocannonRequest[];
  timeout?: number;
}) => Promise<AutocannonResult>;

const autocannon = require('autocannon') as Autocannon;
/** autocannon with a callback returns its run as an event emitter: each response with its time, in fractional milliseconds. */
type Run = { on(event: 'response', listener: (client: unknown, statusCode: number, bytes: number, responseTimeMs: number) => void): void };
const autocannonRun = require('autocannon') as (options: Parameters<Autocannon>[0], done: (error: Error | null, result: AutocannonResult) => void) => Run;

export const CONNECTIONS = 20;

export type Workload = 'derive' | 'mixed';

export function workload(kind: Workload, apiKey: string): AutocannonRequest[] {
  const all = mixedWorkload(apiKey);
  return kind === 'derive' ? all.slice(0, 1) : all;
}

export function mixedWorkload(apiKey: string): AutocannonRequest[] {
  const headers = { 'x-api-key': apiKey, 'content-type': 'application/json' };
  return [
    { method: 'GET', path: '/api/v1/balance/derive/customer_001', headers },
    { method: 'POST', path: '/api/v1/balance/delta', headers, body: JSON.stringify({ customerId: 'customer_001', delta: '1.25', reason: 'usage' }) },
    {
      method: 'POST',
      path: '/api/v1/balance/compare',
      headers,
      body: JSON.stringify({ customerId: 'customer_001', yourBalance: '100.00', theirBalance: '100.00' }),
    },
  ];
}

export type LoadResult = {
  requestsPerSecond: number;
  totalRequests: number;
  latencyMs: { mean: number; p50: number; p90: number; p99: number; max: number };
  non2xx: number;
  errors: number;
  timeouts: number;
  statusCodes: Record<string, number>;
  durationSeconds: number;
};

/** autocannon's answer as a LoadResult. */
function summarize(r: AutocannonResult): LoadResult {
  return {
    requestsPerSecond: r.requests.average,
    totalRequests: r.requests.total,
    latencyMs: { mean: r.latency.average, p50: r.latency.p50, p90: r.latency.p90, p99: r.latency.p99, max: r.latency.max },
    non2xx: r.non2xx,
    errors: r.errors,
    timeouts: r.timeouts,
    statusCodes: Object.fromEntries(Object.entries(r.statusCodeStats ?? {}).map(([k, v]) => [k, v.count])),
    durationSeconds: r.duration,
  };
}

/**
 * Unwanted traffic for `seconds` at `connections` connections and `rate` requests a second, at
 * most `amount` requests in all (every answer counts, whatever its status): the floods of
 * `npm run bench -- --only floods`.
 */
export async function flood(baseUrl: string, requests: AutocannonRequest[], connections: number, seconds: number, amount: number, rate: number): Promise<LoadResult> {
  return summarize(
    await autocannon({ url: baseUrl, connections, duration: seconds, maxOverallRequests: Math.max(amount, connections), ...(rate > 0 ? { overallRate: rate } : {}), requests, timeout: 30 }),
  );
}

/**
 * Warms up for `warmupSeconds`, then measures for `seconds`, at `connections` connections.
 * Latencies are every response's own time at microsecond resolution: autocannon's summary
 * rounds them to whole milliseconds, and a bare server's p99 then reads 0 or 1 ms, so a ratio
 * of p99s would mean nothing.
 */
export async function measure(baseUrl: string, requests: AutocannonRequest[], seconds: number, warmupSeconds: number, connections = CONNECTIONS): Promise<LoadResult> {
  if (warmupSeconds > 0) await autocannon({ url: baseUrl, connections, duration: warmupSeconds, requests, timeout: 10 });
  let times = new Float64Array(1 << 16);
  let count = 0;
  const result = await new Promise<AutocannonResult>((resolve, reject) => {
    const run = autocannonRun({ url: baseUrl, connections, duration: seconds, requests, timeout: 10 }, (error, r) => (error ? reject(error) : resolve(r)));
    run.on('response', (_client, _status, _bytes, ms) => {
      if (count === times.length) {
        const grown = new Float64Array(count * 2);
        grown.set(times);
        times = grown;
      }
      times[count++] = ms;
    });
  });
  return { ...summarize(result), latencyMs: latencyOf(times.subarray(0, count)) };
}

/** Mean and percentiles (nearest rank) of response times in milliseconds. */
export function latencyOf(times: Float64Array): LoadResult['latencyMs'] {
  if (times.length === 0) return { mean: NaN, p50: NaN, p90: NaN, p99: NaN, max: NaN };
  const sorted = Float64Array.from(times).sort();
  const at = (q: number) => sorted[Math.max(0, Math.ceil(q * sorted.length) - 1)]!;
  let sum = 0;
  for (const t of sorted) sum += t;
  return { mean: sum / sorted.length, p50: at(0.5), p90: at(0.9), p99: at(0.99), max: sorted[sorted.length - 1]! };
}
