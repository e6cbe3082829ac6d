// CPU time a request costs each server under the derive load (user and system, from
// /proc/PID/stat), and what the load generator (autocannon, in this process) spends per request
// meanwhile: a throughput ratio on a shared 2-core machine depends on who gets the cores, the
// CPU time a request costs much less. A diagnostic (`npx tsx bench/cpu-per-request.ts
// [seconds]`), Linux only, not part of `npm run bench`.
import { readFileSync, rmSync, writeFileSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { measure, workload } from './load.ts';
import { liftRateLimits, startBareProcess, startSandboxProcess, loadArgs } from './processes.ts';

const seconds = Number(process.argv[2] ?? 5);
const TICK_US = 1e6 / 100; // USER_HZ

function cpuOf(pid: number): { user: number; system: number } {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').replace(/^.*\) /, '').split(' ');
  return { user: Number(fields[11]) * TICK_US, system: Number(fields[12]) * TICK_US };
}

async function measured(name: string, pid: number, url: string, apiKey: string) {
  await measure(url, workload('derive', apiKey), 1, 0);
  const before = cpuOf(pid);
  const self = process.cpuUsage();
  const r = await measure(url, workload('derive', apiKey), seconds, 0);
  const after = cpuOf(pid);
  const client = process.cpuUsage(self);
  const n = r.totalRequests;
  const us = (x: number) => (x / n).toFixed(1).padStart(5);
  console.log(
    `${name.padEnd(22)} ${r.requestsPerSecond.toFixed(0).padStart(6)} req/s  server ${us(after.user - before.user)} µs user + ${us(after.system - before.system)} µs system a request; load generator ${us(client.user)} + ${us(client.system)} µs`,
  );
}

const sandbox = await startSandboxProcess(loadArgs());
let answers: Record<string, { status: number; headers: Record<string, string>; body: string }> = {};
try {
  await liftRateLimits(sandbox.productionUrl);
  const r = workload('derive', sandbox.apiKey)[0]!;
  const res = await fetch(`${sandbox.sandboxUrl}${r.path}`, { headers: r.headers ?? {} });
  const headers: Record<string, string> = {};
  res.headers.forEach((value, name) => {
    if (!['date', 'connection', 'keep-alive', 'content-length', 'transfer-encoding'].includes(name)) headers[name] = value;
  });
  answers = { [`GET ${r.path}`]: { status: res.status, headers, body: await res.text() } };
  await measured('sandbox', sandbox.child.pid!, sandbox.sandboxUrl, sandbox.apiKey);
} finally {
  await sandbox.stop();
}
const quiet = await startSandboxProcess(loadArgs('off'));
try {
  await liftRateLimits(quiet.productionUrl);
  await measured('sandbox, inspector off', quiet.child.pid!, quiet.sandboxUrl, quiet.apiKey);
} finally {
  await quiet.stop();
}
const dir = mkdtempSync(join(tmpdir(), 'pacspace-cpu-'));
writeFileSync(join(dir, 'answers.json'), JSON.stringify(answers));
const bare = await startBareProcess(join(dir, 'answers.json'));
try {
  await measured('bare node:http', bare.child.pid!, bare.url, sandbox.apiKey);
} finally {
  await bare.stop();
  rmSync(dir, { recursive: true, force: true });
}
