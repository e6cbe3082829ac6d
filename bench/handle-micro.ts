// In-process cost of one request on the sandbox's path (no sockets): `handle` called in a loop
// for the load benchmark's requests (derive, and the mixed derive/delta/compare), with the
// request inspector on (the default) and off, and the same requests through the listener
// over loopback from this process. A tool for profiling (`node --cpu-prof --import tsx
// bench/handle-micro.ts`), not part of `npm run bench`: times here are per request, on a
// shared machine; compare runs of the same build only.
//
//   npx tsx bench/handle-micro.ts [--seconds 3] [--only derive,mixed] [--inspector on,off]
import { startSandbox } from '../mock/sandbox.ts';
import type { IncomingRequest } from '../mock/app.ts';
import { mixedWorkload } from './load.ts';

const args = process.argv.slice(2);
const arg = (name: string, fallback: string) => (args.includes(name) ? (args[args.indexOf(name) + 1] ?? fallback) : fallback);
const seconds = Number(arg('--seconds', '3'));
const kinds = arg('--only', 'derive,mixed').split(',');
const inspectors = arg('--inspector', 'on,off').split(',');

const unlimited = { capacity: 1e9, refillPerSecond: 1e9 };

async function run(kind: string, inspector: string) {
  const sandbox = await startSandbox({ port: 0, sandboxPort: 0, seed: 1, freePlanDeltas: 1e9, rateLimits: { client: unlimited, apiKey: unlimited }, ...(inspector === 'off' ? { inspectHistory: 0 } : {}) });
  try {
    const all = mixedWorkload(sandbox.demo!.apiKey);
    const requests: IncomingRequest[] = (kind === 'derive' ? all.slice(0, 1) : all).map((r) => ({
      method: r.method,
      url: r.path,
      // As node:http hands them over: lower-case names, plus what autocannon sends.
      headers: { host: new URL(sandbox.sandboxUrl).host, ...r.headers, ...(r.body === undefined ? {} : { 'content-length': String(Buffer.byteLength(r.body)) }) },
      body: r.body === undefined ? undefined : Buffer.from(r.body),
      environment: 'test',
      clientAddress: '127.0.0.1',
    }));
    // Warm-up: the compiled checks, the JIT.
    for (let i = 0; i < 3000; i++) await sandbox.handle(requests[i % requests.length]!);
    let n = 0;
    const deadline = performance.now() + seconds * 1000;
    const started = performance.now();
    // CPU time too: on a shared machine this process is descheduled at random, and wall time with it.
    const cpu0 = process.cpuUsage();
    while (performance.now() < deadline) {
      // A batch per turn, then a turn for the inspector's deferred keeping (setImmediate), as a listener would give it.
      for (let i = 0; i < 20; i++) {
        const out = await sandbox.handle(requests[n++ % requests.length]!);
        if (out.status >= 300) throw new Error(`${kind}: ${out.status} ${out.body}`);
      }
      await new Promise((resolve) => setImmediate(resolve));
    }
    const us = ((performance.now() - started) * 1000) / n;
    const cpu = process.cpuUsage(cpu0);
    console.log(`${kind.padEnd(7)} inspector ${inspector.padEnd(3)} ${us.toFixed(2)} µs a request, ${((cpu.user + cpu.system) / n).toFixed(2)} µs of CPU (${n} requests)`);
  } finally {
    await sandbox.close();
  }
}

for (const kind of kinds) for (const inspector of inspectors) await run(kind, inspector);
