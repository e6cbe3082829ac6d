// `npm run conformance:mutants`: proves the conformance suite tells broken servers from correct
// ones. One local sandbox runs behind the mutant layer (layer.ts):
// - clean: the whole suite through the transparent layer must pass;
// - each legal variation (variations.ts): the whole suite must still pass;
// - each mutant (mutants/): the checks that enforce the mutant's rules (conformance/rules.ts)
//   must fail. A mutant whose rules name a whole-run check runs the whole suite.
// Exits non-zero when the clean run or a variation fails, or a mutant survives.
//
// Flags: `--mutants a,b` (ids or id prefixes) and `--variations a,b` narrow the run;
// `--shards N` (default: the machine's cores, at most 4) splits the mutants over N processes;
// `--full` runs the whole suite against every mutant (as a user would run it against a broken
// server), not only the checks of its rules; `--extra FILE` adds the mutants a module exports
// as `mutants` (your own, e.g. servers the registry has never seen).
import { fork } from 'node:child_process';
import os from 'node:os';
import { resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { catalogue } from '../../conformance/checks/index.ts';
import { totals, type RunReport } from '../../conformance/report/format.ts';
import { runConformance } from '../../conformance/run.ts';
import { checksFor } from './checks-for.ts';
import { startMutantLayer } from './layer.ts';
import { localConfig, startLocalTarget } from './local-target.ts';
import type { Mutant, Variation } from './mutant.ts';
import { mutants } from './mutants/index.ts';
import { variations } from './variations.ts';

type Kind = 'clean' | 'variation' | 'mutant';
export type Outcome = { kind: Kind; id: string; ran: number; failed: string[]; inconclusive: string[]; report: RunReport; verdict: 'ok' | 'FAILED' | 'SURVIVED' };

const arg = (name: string) => {
  const i = process.argv.indexOf(name);
  return i < 0 ? undefined : (process.argv[i + 1] ?? '');
};
const list = (v: string | undefined) => (v === undefined ? undefined : v.split(',').map((s) => s.trim()).filter(Boolean));

function select<T extends { id: string }>(all: T[], wanted: string[] | undefined, what: string): T[] {
  if (!wanted) return all;
  const picked = all.filter((m) => wanted.some((w) => m.id === w || m.id.startsWith(w)));
  const unknown = wanted.filter((w) => !all.some((m) => m.id === w || m.id.startsWith(w)));
  if (unknown.length) throw new Error(`unknown ${what}: ${unknown.join(', ')}`);
  return picked;
}

/** Runs the given targets against one sandbox behind one layer, in order. */
async function runTargets(targets: { kind: Kind; subject?: Mutant | Variation }[], onOutcome: (o: Outcome) => void) {
  const target = await startLocalTarget();
  const layer = await startMutantLayer({ production: target.sandbox.productionUrl, sandbox: target.sandbox.sandboxUrl });
  try {
    for (const { kind, subject } of targets) {
      const only = kind === 'mutant' && !process.argv.includes('--full') ? checksFor(subject as Mutant) : [];
      const selected = only.length ? catalogue.filter((c) => only.includes(c.id)) : catalogue;
      layer.use(undefined);
      const demo = await target.reset();
      // Signed up around the layer, before the mutant is in place, so no mutant breaks the sign-up.
      const second = selected.some((c) => c.needs.includes('secondAccount')) ? await target.secondTenant() : undefined;
      layer.use(subject);
      const config = localConfig(layer, demo, second, only);
      let report: RunReport;
      try {
        report = await runConformance(config);
      } catch (error) {
        // A preflight refusal (or a crash of the suite) is an outcome too: no check ran.
        report = { results: [{ id: 'PREFLIGHT', status: 'failed', message: String((error as Error)?.message ?? error) }], durationMs: 0 } as unknown as RunReport;
      }
      const ids = (status: string) => report.results.filter((r) => r.status === status).map((r) => r.id);
      const failed = ids('failed');
      const inconclusive = ids('inconclusive');
      const verdict = kind === 'mutant' ? (failed.length ? 'ok' : 'SURVIVED') : failed.length || inconclusive.length ? 'FAILED' : 'ok';
      onOutcome({ kind, id: subject?.id ?? 'clean', ran: report.results.length, failed, inconclusive, report, verdict });
    }
  } finally {
    await layer.close();
    await target.close();
  }
}

function describe(o: Outcome): string {
  if (o.kind === 'mutant') return o.failed.length ? `caught by ${o.failed.join(', ')}` : `SURVIVED (${o.ran} checks ran${o.inconclusive.length ? `, inconclusive: ${o.inconclusive.join(', ')}` : ''})`;
  if (o.verdict === 'ok') {
    const t = totals(o.report);
    return `passes (${t.passed} passed, ${t.skipped} skipped, ${o.report.requests?.sent ?? '?'} requests, ${(o.report.durationMs / 1000).toFixed(1)} s)`;
  }
  const bad = o.report.results.filter((r) => r.status === 'failed' || r.status === 'inconclusive');
  return `FAILS: ${bad.map((r) => `${r.id} (${r.status}): ${r.message?.split('\n')[0]}`).join('; ')}`;
}

async function main() {
  const extraFile = arg('--extra');
  const extra: Mutant[] = extraFile ? ((await import(pathToFileURL(resolve(extraFile)).href)) as { mutants: Mutant[] }).mutants : [];
  const chosenMutants = select([...mutants, ...extra], list(arg('--mutants')), 'mutants');
  const chosenVariations = select(variations, list(arg('--variations')), 'variations');
  const shard = arg('--shard');

  if (shard !== undefined) {
    // A worker process: run its share of the mutants and report each outcome to the parent.
    const [index, count] = shard.split('/').map(Number) as [number, number];
    const mine = chosenMutants.filter((_, i) => i % count === index);
    await runTargets(mine.map((m) => ({ kind: 'mutant' as const, subject: m })), (o) => process.send!({ ...o, report: { results: [], durationMs: o.report.durationMs } }));
    return;
  }

  const started = Date.now();
  const outcomes: Outcome[] = [];
  const print = (o: Outcome) => {
    outcomes.push(o);
    console.log(`${o.kind.padEnd(9)} ${o.id.padEnd(44)} ${describe(o)}`);
  };
  const onlyMutants = process.argv.includes('--mutants') && !process.argv.includes('--variations');
  const head = [
    ...(onlyMutants ? [] : [{ kind: 'clean' as const }]),
    ...(onlyMutants ? [] : chosenVariations.map((v) => ({ kind: 'variation' as const, subject: v }))),
  ];
  const shards = Math.max(1, Math.min(Number(arg('--shards') ?? Math.min(4, os.availableParallelism())), chosenMutants.length));
  // The mutants run in worker processes while this one runs the clean run and the variations.
  const workers = Array.from({ length: shards }, (_, i) =>
    new Promise<void>((resolve, reject) => {
      const child = fork(fileURLToPath(import.meta.url), [...process.argv.slice(2).filter((a, j, all) => a !== '--shards' && all[j - 1] !== '--shards'), '--shard', `${i}/${shards}`], {
        execArgv: process.execArgv,
        stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
      });
      child.on('message', (o: Outcome) => print(o));
      child.on('error', reject);
      child.on('exit', (code) => (code === 0 ? resolve() : reject(new Error(`mutant shard ${i} exited with ${code}`))));
    }),
  );
  await Promise.all([runTargets(head, print), ...workers]);

  const bad = outcomes.filter((o) => o.verdict !== 'ok');
  const mutantOutcomes = outcomes.filter((o) => o.kind === 'mutant');
  const clean = outcomes.find((o) => o.kind === 'clean');
  console.log(
    `\n${clean ? `clean run: ${(clean.report.durationMs / 1000).toFixed(1)} s; ` : ''}variations: ${outcomes.filter((o) => o.kind === 'variation').length}; ` +
      `mutants: ${mutantOutcomes.length}, caught: ${mutantOutcomes.filter((o) => o.verdict === 'ok').length}, survived: ${mutantOutcomes.filter((o) => o.verdict === 'SURVIVED').length}; ` +
      `${((Date.now() - started) / 1000).toFixed(0)} s in all`,
  );
  // One line in the plain "N passed, N failed" form.
  console.log(`mutants: ${outcomes.length - bad.length} passed, ${bad.length} failed`);
  process.exitCode = bad.length ? 1 : 0;
}

await main();
