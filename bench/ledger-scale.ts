// A ledger of 1,000,000 deltas: loaded in-process through the domain and the store (each
// `delta.recorded` event built by the very function recordDelta uses, then committed), then
// derive and checkpoint are measured over HTTP on loopback against the same in-process
// sandbox, next to a customer with 1,000 deltas.
import { Agent, request } from 'node:http';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { formatAmount } from '../protocol/decimal.ts';
import { buildTree, leavesFromHex, treeRoot } from '../protocol/merkle.ts';
import { deltaRecordedEvent } from '../mock/domain/ledger-events.ts';
import { startSandbox, type RunningSandbox } from '../mock/sandbox.ts';
import { customerKey } from '../mock/state/ledger.ts';

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

export function heapAfterGc() {
  for (let i = 0; i < 3; i++) gc();
  const m = process.memoryUsage();
  return { heapUsed: m.heapUsed, external: m.external, arrayBuffers: m.arrayBuffers, rss: m.rss };
}

export type ScaleResult = {
  deltas: { small: number; large: number };
  loadSeconds: number;
  loadPerSecond: number;
  memory: { heapBytes: number; externalBytes: number; rssBytes: number; bytesPerDelta: number };
  derive: {
    how: string;
    requestsEach: number;
    small: { meanMs: number; p50Ms: number; p99Ms: number };
    large: { meanMs: number; p50Ms: number; p99Ms: number };
    ratio: number;
    balanceExact: boolean;
  };
  checkpoint: { how: string; smallMs: number; largeMs: number; deltaCount: number; rootMatchesFullTree: boolean };
  firstInclusionProofMs: number;
  fullTreeBuildMs: number;
};

/** Sequential requests over one keep-alive connection. */
function client(baseUrl: string, apiKey: string) {
  const agent = new Agent({ keepAlive: true, maxSockets: 1 });
  return (method: string, path: string, body?: unknown) =>
    new Promise<{ status: number; json: any; ms: number }>((resolve, reject) => {
      const payload = body === undefined ? undefined : JSON.stringify(body);
      const started = performance.now();
      const req = request(
        `${baseUrl}${path}`,
        { method, agent, headers: { 'x-api-key': apiKey, ...(payload ? { 'content-type': 'application/json', 'content-length': Buffer.byteLength(payload) } : {}) } },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('end', () => {
            const ms = performance.now() - started;
            const text = Buffer.concat(chunks).toString('utf8');
            resolve({ status: res.statusCode ?? 0, json: text ? JSON.parse(text) : undefined, ms });
          });
        },
      );
      req.on('error', reject);
      req.end(payload);
    });
}

const stats = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  const at = (q: number) => s[Math.min(s.length - 1, Math.floor(q * s.length))]!;
  return { meanMs: xs.reduce((a, b) => a + b, 0) / xs.length, p50Ms: at(0.5), p99Ms: at(0.99) };
};

export async function ledgerScale(large = 1_000_000, small = 1_000, log: (line: string) => void = () => {}): Promise<ScaleResult> {
  // Every delta confirmed at once, so derive's confirmed count does not move while measured;
  // limits generous (this is a benchmark, not a test of the rate limiter).
  const sandbox: RunningSandbox = await startSandbox({
    port: 0,
    sandboxPort: 0,
    seed: 1,
    logLevel: 'silent',
    confirmationMs: 0,
    freePlanDeltas: 1_000_000_000,
    rateLimits: { client: { capacity: 1_000_000, refillPerSecond: 1_000_000 }, apiKey: { capacity: 1_000_000, refillPerSecond: 1_000_000 } },
  });
  try {
    const { services } = sandbox;
    const apiKey = sandbox.demo!.apiKey;
    const key = services.store.state.apiKeysByPublicId.get(/^pk_test_([A-Za-z0-9]+)\./.exec(apiKey)![1]!)!;
    const before = heapAfterGc();

    const expected = { small: 0n, large: 0n };
    const load = (customerId: string, count: number) => {
      let sum = 0n;
      for (let i = 0; i < count; i++) {
        // 0.01 … 9.97, and a charge every seventh delta.
        const units = BigInt((i % 997) + 1) * 1_000_000n * (i % 7 === 6 ? -1n : 1n);
        sum += units;
        const event = deltaRecordedEvent(services, {
          tenantId: key.tenantId,
          environment: key.environment,
          customerId,
          delta: units,
          reason: 'usage',
          referenceId: `ref-${i}`,
          metadata: {},
          at: services.clock.now(),
          idempotencyKey: null,
          requestHash: null,
        });
        // Applied synchronously (memory-only store: nothing to await).
        void services.store.commit(event);
        if (i % 100_000 === 99_999) log(`  ${customerId}: ${i + 1} deltas`);
      }
      return sum;
    };
    const t0 = performance.now();
    expected.small = load('scale_small', small);
    expected.large = load('scale_large', large);
    const loadSeconds = (performance.now() - t0) / 1000;
    const after = heapAfterGc();
    const total = small + large;

    const call = client(sandbox.sandboxUrl, apiKey);
    const derivePath = (c: string) => `/api/v1/balance/derive/${c}`;
    // Warm-up, then interleaved: both customers see the same heap, GC and JIT state.
    for (let i = 0; i < 500; i++) {
      await call('GET', derivePath('scale_small'));
      await call('GET', derivePath('scale_large'));
    }
    const times = { small: [] as number[], large: [] as number[] };
    const requestsEach = 3_000;
    let balanceExact = true;
    for (let i = 0; i < requestsEach; i++) {
      for (const which of i % 2 ? (['large', 'small'] as const) : (['small', 'large'] as const)) {
        const r = await call('GET', derivePath(which === 'small' ? 'scale_small' : 'scale_large'));
        if (r.status !== 200) throw new Error(`derive answered ${r.status}`);
        times[which].push(r.ms);
        if (i === 0) balanceExact &&= r.json.data.computedBalance === formatAmount(expected[which]) && r.json.data.deltaCount === (which === 'small' ? small : large);
      }
    }
    const derive = { small: stats(times.small), large: stats(times.large) };

    const cpSmall = await call('POST', '/api/v1/balance/checkpoint', { customerId: 'scale_small' });
    const cpLarge = await call('POST', '/api/v1/balance/checkpoint', { customerId: 'scale_large' });
    if (cpSmall.status !== 201 || cpLarge.status !== 201) throw new Error(`checkpoint answered ${cpSmall.status}/${cpLarge.status}`);

    // The root recomputed from scratch over all 1,000,000 leaves (in-process).
    const c = services.store.state.ledger.customers.get(customerKey(key.tenantId, key.environment, 'scale_large'))!;
    const t1 = performance.now();
    const tree = buildTree(leavesFromHex((function* () {
      for (const r of c.receipts) yield r.leafHash;
    })(), c.receipts.length));
    const fullTreeBuildMs = performance.now() - t1;
    const rootMatchesFullTree = treeRoot(tree).toString('hex') === cpLarge.json.data.proofRoot;

    // The first inclusion proof builds and keeps the checkpoint's tree.
    const proof = await call('GET', `/api/v1/receipts/${c.receipts[large - 1]!.receiptId}`);
    if (proof.status !== 200 || proof.json.data.inclusionProof?.proofRoot !== cpLarge.json.data.proofRoot) throw new Error('the inclusion proof does not name the checkpoint');

    return {
      deltas: { small, large },
      loadSeconds,
      loadPerSecond: total / loadSeconds,
      memory: {
        heapBytes: after.heapUsed - before.heapUsed,
        externalBytes: after.external - before.external,
        rssBytes: after.rss - before.rss,
        bytesPerDelta: (after.heapUsed - before.heapUsed + (after.external - before.external)) / total,
      },
      derive: {
        how: 'HTTP on loopback, one keep-alive connection, sequential, the two customers interleaved (in-process sandbox)',
        requestsEach,
        ...derive,
        ratio: derive.large.meanMs / derive.small.meanMs,
        balanceExact,
      },
      checkpoint: {
        how: 'one POST /api/v1/balance/checkpoint over HTTP on loopback (in-process sandbox), request to response',
        smallMs: cpSmall.ms,
        largeMs: cpLarge.ms,
        deltaCount: cpLarge.json.data.deltaCount,
        rootMatchesFullTree,
      },
      firstInclusionProofMs: proof.ms,
      fullTreeBuildMs,
    };
  } finally {
    await sandbox.close();
  }
}
