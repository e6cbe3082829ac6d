// Which contract operations a test run exercised: reads the PACSPACE_TEST_OPS_LOG file(s)
// (mock/testing/op-log.ts) and maps each `METHOD PATH STATUS` line to the operation of the
// bundled contracts (API and control surface) it routes to, with the same path templates the
// sandbox routes by. Prints the counts and, with --list, each operation and its statuses.
//   npx tsx mock/testing/op-coverage.ts /tmp/ops.log [--list]
import { readFileSync } from 'node:fs';
import { readBundle } from '../../contract/document.ts';
import { listOperations } from '../../contract/operations.ts';

const files = process.argv.slice(2).filter((a) => !a.startsWith('--'));
const list = process.argv.includes('--list');
const operations = ['openapi', 'sandbox-control'].flatMap((bundle) =>
  listOperations(readBundle(bundle)).map((op) => ({ ...op, bundle })),
).sort((a, b) => a.template.parameters - b.template.parameters);

const seen = new Map<string, Set<string>>();
let requests = 0;
let unrouted = 0;
for (const file of files) {
  for (const line of readFileSync(file, 'utf8').split('\n')) {
    if (!line) continue;
    requests++;
    const [method, path, status] = line.split(' ');
    const op = operations.find((o) => o.method.toUpperCase() === method && o.template.test(path!));
    if (!op) {
      unrouted++;
      continue;
    }
    const key = `${op.bundle}:${op.operationId}`;
    if (!seen.has(key)) seen.set(key, new Set());
    seen.get(key)!.add(status!);
  }
}
const total = operations.length;
const succeeded = [...seen.values()].filter((s) => [...s].some((x) => x.startsWith('2'))).length;
console.log(`requests ${requests} (no operation: ${unrouted}); operations ${total}; exercised ${seen.size}; with a 2xx answer ${succeeded}`);
if (list) {
  for (const op of operations) {
    const key = `${op.bundle}:${op.operationId}`;
    console.log(`${seen.has(key) ? '+' : '-'} ${key} ${op.method.toUpperCase()} ${op.path} ${[...(seen.get(key) ?? [])].sort().join(',')}`);
  }
}
