// In-process cost of keeping one exchange in the request inspector (redaction, summary,
// copy-as-curl, the ring), for the derive and mixed exchanges of the load benchmark: a tool for
// profiling the inspector alone (`npx tsx bench/inspector-micro.ts`), not part of `npm run bench`.
import type { Exchange } from '../mock/http/exchange.ts';
import { createInspector } from '../mock/inspector/history.ts';

const KEY = 'pk_test_AbCdEfGh12345678.sk_test_S3cr3tS3cr3tS3cr3tS3cr3tS3cr3tAB';
const seconds = Number(process.argv[2] ?? 2);
let n = 0;
const base = (): Exchange => ({
  requestId: `req_${String(++n).padStart(16, '0')}`,
  at: Date.now(),
  durationMs: 0.123,
  environment: 'test',
  surface: 'api',
  method: 'GET',
  url: '/api/v1/balance/derive/customer_001',
  operationId: 'deriveBalance',
  auth: { kind: 'apiKey', keyId: 'key_abcdef', tenantId: 'ten_1', environment: 'test' },
  violations: [],
  request: { headers: { host: '127.0.0.1:4011', 'x-api-key': KEY, 'content-type': 'application/json' } },
  response: {
    status: 200,
    headers: { 'content-type': 'application/json', 'x-request-id': `req_${n}` },
    body: JSON.stringify({ statusCode: 200, data: { customerId: 'customer_001', balance: '1234.50', deltaCount: 120, lastDeltaAt: '2026-12-01T01:00:00.000Z', lastCheckpointAt: null } }),
  },
});
const delta = (): Exchange => ({
  ...base(),
  method: 'POST',
  url: '/api/v1/balance/delta',
  operationId: 'recordDelta',
  request: { headers: { host: '127.0.0.1:4011', 'x-api-key': KEY, 'content-type': 'application/json', 'content-length': '62' }, body: JSON.stringify({ customerId: 'customer_001', delta: '1.25', reason: 'usage' }) },
});
const inspector = createInspector({ baseUrl: () => 'http://127.0.0.1:4011' });
for (const [name, make] of [['derive', base], ['delta', delta]] as const) {
  for (let i = 0; i < 20000; i++) inspector.observe(make());
  inspector.size();
  let count = 0;
  const t0 = performance.now();
  // CPU time, not wall time: on a shared machine this process is descheduled at random.
  const cpu0 = process.cpuUsage();
  while (performance.now() - t0 < seconds * 1000) {
    for (let i = 0; i < 100; i++) inspector.observe(make());
    inspector.size();
    count += 100;
  }
  const cpu = process.cpuUsage(cpu0);
  console.log(`${name.padEnd(7)} ${((cpu.user + cpu.system) / count).toFixed(2)} µs of CPU an exchange kept`);
}
