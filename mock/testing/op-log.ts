// Which requests the tests sent, for measuring which contract operations they exercise: with
// PACSPACE_TEST_OPS_LOG=FILE set, every request a test client sends (in-process or over
// loopback) appends `METHOD PATH STATUS` to FILE; otherwise nothing happens.
// `npx tsx mock/testing/op-coverage.ts FILE` maps the lines to the contract's operations.
import { appendFileSync } from 'node:fs';

const file = process.env.PACSPACE_TEST_OPS_LOG;

export function logRequest(method: string, pathAndQuery: string, status: number): void {
  if (!file) return;
  const path = pathAndQuery.split('?')[0]!;
  appendFileSync(file, `${method.toUpperCase()} ${path} ${status}\n`);
}
