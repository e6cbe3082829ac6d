#!/usr/bin/env node
// Runs npm scripts side by side and reports each whole, in order, once it ends: `npm test`'s
// vitest run, packaging test and conformance self-test spend most of their time waiting on
// sockets, timers and installs, so together they take little longer than the longest alone.
// Exits non-zero when any of them fails, after all have ended.
//   node scripts/run-parallel.mjs test:unit test:packaging conformance:mutants
import { spawn } from 'node:child_process';

const scripts = process.argv.slice(2);
if (!scripts.length) {
  console.error('usage: node scripts/run-parallel.mjs SCRIPT [SCRIPT…]');
  process.exit(2);
}

const started = Date.now();
const TAIL_LINES = 120;
const seconds = (ms) => `${(ms / 1000).toFixed(0)} s`;
const runs = scripts.map(
  (name) =>
    new Promise((resolve) => {
      const begun = Date.now();
      const chunks = [];
      // Output is kept and printed whole, so the three logs never interleave.
      const child = spawn('npm', ['run', '--silent', name], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, FORCE_COLOR: process.env.FORCE_COLOR ?? '0' } });
      child.stdout.on('data', (c) => chunks.push(c));
      child.stderr.on('data', (c) => chunks.push(c));
      child.on('close', (code, signal) => {
        const status = code === 0 ? 'passed' : `FAILED (${signal ?? `exit ${code}`})`;
        process.stdout.write(`\n===== npm run ${name}: ${status} in ${seconds(Date.now() - begun)} =====\n${Buffer.concat(chunks).toString('utf8')}`);
        resolve({ name, ok: code === 0, output: Buffer.concat(chunks).toString('utf8') });
      });
    }),
);

// Ctrl-C stops every child (they share the process group) and this process with them.
const results = await Promise.all(runs);
const failed = results.filter((r) => !r.ok).map((r) => r.name);
// A CI log is often read from its end: each failed script's last lines are repeated there.
for (const r of results.filter((r) => !r.ok)) {
  const tail = r.output.trimEnd().split('\n').slice(-TAIL_LINES).join('\n');
  process.stdout.write(`\n===== the last ${TAIL_LINES} lines of npm run ${r.name} (FAILED) =====\n${tail}\n`);
}
console.log(`\n${scripts.length - failed.length} of ${scripts.length} passed in ${seconds(Date.now() - started)}${failed.length ? `; failed: ${failed.join(', ')}` : ''}`);
process.exitCode = failed.length ? 1 : 0;
