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

/** Warms up for `warmupSeconds`, then measures for `seconds`, at `connections` connections. */
export async function measure(baseUrl: string, requests: AutocannonRequest[], seconds: number, warmupSeconds: number, connections = CONNECTIONS): Promise<LoadResult> {
  if (warmupSeconds > 0) await autocannon({ url: baseUrl, connections, duration: warmupSeconds, requests, timeout: 10 });
  return summarize(await autocannon({ url: baseUrl, connections, duration: seconds, requests, timeout: 10 }));
}
