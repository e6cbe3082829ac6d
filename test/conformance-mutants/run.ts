// `npm run conformance:mutants`: proves the conformance suite tells broken servers from correct
// ones. One local sandbox runs behind the mutant layer (layer.ts):
// - clean: the whole suite through the transparent layer must pass;
// - each legal variation (variations.ts): the whole suite must still pass;
// - each mutant (mutants/): the checks that enforce the mutant's rules (conformance/rules.ts)
//   must fail. A mutant whose rules name a whole-run check runs the whole suite.
// Exits non-zero when the clean run or a variation fails, or a mutant survives.
//
// Flags: `--mutants a,b` (ids or id prefixes) and `--variations a,b` narrow the run;
// `--workers N` (default 6) runs that many worker processes, each with its own sandbox;
// `--full` runs the whole suite against every mutant (as a user would run it against a broken
// server), not only the checks of its rules; `--extra FILE` adds the mutants a module exports
// as `mutants` (your own, e.g. servers the registry has never seen).
import { fork } from 'node:child_process';
import { resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { catalogue } from '../../conformance/checks/index.ts';
import { totals, type RunReport } from '../../conformance/report/format.ts';
import { runConformance } from '../../conformance/run.ts';
import { checksFor, enforcing } from './checks-for.ts';
import { startMutantLayer } from './layer.ts';
import { localConfig, startLocalTarget } from './local-target.ts';
import type { Mutant, Variation } from './mutant.ts';
import { mutants } from './mutants/index.ts';
import { singleVariations, variations } from './variations.ts';

type Kind = 'clean' | 'variation' | 'mutant';
export type Outcome = { kind: Kind; id: string; ran: number; failed: string[]; alsoFailed: string[]; inconclusive: string[]; report: RunReport; verdict: 'ok' | 'FAILED' | 'SURVIVED' };

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

type Job = { kind: Kind; id?: string };

/** One sandbox behind one layer; `run` puts a job's subject in place on a fresh sandbox and runs the suite. */
async function startRunner(subjects: Map<string, Mutant | Variation>) {
  const target = await startLocalTarget();
  const layer = await startMutantLayer({ production: target.sandbox.productionUrl, sandbox: target.sandbox.sandboxUrl });
  async function run({ kind, id }: Job): Promise<Outcome> {
    const subject = id === undefined ? undefined : subjects.get(`${kind}:${id}`);
    const only = kind === 'mutant' && !process.argv.includes('--full') ? checksFor(subject as Mutant) : [];
    const selected = only.length ? catalogue.filter((c) => only.includes(c.id)) : catalogue;
    layer.use(undefined);
    const demo = await target.reset();
    // Signed up around the layer, before the mutant is in place, so no mutant breaks the sign-up.
    const second = selected.some((c) => c.needs.includes('secondAccount')) ? await target.secondTenant() : undefined;
    layer.use(subject);
    let report: RunReport;
    try {
      report = await runConformance(localConfig(layer, demo, second, only));
    } catch (error) {
      // A preflight refusal (or a crash of the suite) is an outcome too: no check ran.
      report = { results: [{ id: 'PREFLIGHT', status: 'failed', message: String((error as Error)?.message ?? error) }], durationMs: 0 } as unknown as RunReport;
    }
    const ids = (status: string) => report.results.filter((r) => r.status === status).map((r) => r.id);
    const inconclusive = ids('inconclusive');
    // A mutant is caught by a check that enforces one of its rules (or by a preflight that stops
    // the run): with the whole suite running, another check failing on its side effects proves
    // nothing about the rule. Those others are reported beside.
    // (A mutant of your own that names no checked rule is caught by any failing check.)
    const named = kind === 'mutant' ? enforcing(subject as Mutant) : undefined;
    const rulesChecks = named?.size ? named : undefined;
    const failed = ids('failed').filter((c) => rulesChecks === undefined || c === 'PREFLIGHT' || rulesChecks.has(c));
    const alsoFailed = ids('failed').filter((c) => !failed.includes(c));
    const verdict = kind === 'mutant' ? (failed.length ? 'ok' : 'SURVIVED') : failed.length || inconclusive.length ? 'FAILED' : 'ok';
    // Only what the parent prints crosses the process boundary.
    const slim = { results: report.results.filter((r) => r.status === 'failed' || r.status === 'inconclusive').map((r) => ({ id: r.id, status: r.status, message: r.message })), durationMs: report.durationMs, requests: report.requests, totals: totals(report) };
    return { kind, id: id ?? 'clean', ran: report.results.length, failed, alsoFailed, inconclusive, report: slim as unknown as RunReport, verdict };
  }
  return {
    run,
    async close() {
      await layer.close();
      await target.close();
    },
  };
}

function describe(o: Outcome): string {
  const took = `${(o.report.durationMs / 1000).toFixed(1)} s`;
  const others = o.alsoFailed.length ? `; also failed, outside its rules: ${o.alsoFailed.join(', ')}` : '';
  if (o.kind === 'mutant') return o.failed.length ? `caught by ${o.failed.join(', ')} (${took}${others})` : `SURVIVED (${o.ran} checks ran${o.inconclusive.length ? `, inconclusive: ${o.inconclusive.join(', ')}` : ''}${others}, ${took})`;
  if (o.verdict === 'ok') {
    const t = (o.report as unknown as { totals: ReturnType<typeof totals> }).totals;
    return `passes (${t.passed} passed, ${t.skipped} skipped, ${o.report.requests?.sent ?? '?'} requests, ${(o.report.durationMs / 1000).toFixed(1)} s)`;
  }
  const bad = o.report.results.filter((r) => r.status === 'failed' || r.status === 'inconclusive');
  return `FAILS: ${bad.map((r) => `${r.id} (${r.status}): ${r.message?.split('\n')[0]}`).join('; ')}`;
}

async function main() {
  const extraFile = arg('--extra');
  const extra: Mutant[] = extraFile ? ((await import(pathToFileURL(resolve(extraFile)).href)) as { mutants: Mutant[] }).mutants : [];
  const chosenMutants = select([...mutants, ...extra], list(arg('--mutants')), 'mutants');
  const chosenVariations = arg('--variations') === undefined ? variations : select([...variations, ...singleVariations], list(arg('--variations')), 'variations');
  const subjects = new Map<string, Mutant | Variation>([...chosenMutants.map((m) => [`mutant:${m.id}`, m] as const), ...chosenVariations.map((v) => [`variation:${v.id}`, v] as const)]);

  if (process.argv.includes('--worker')) {
    // A worker process: runs each job the parent sends on its own sandbox and answers the outcome.
    const runner = await startRunner(subjects);
    process.on('message', async (job: Job | 'stop') => {
      if (job === 'stop') {
        await runner.close();
        process.disconnect();
        return;
      }
      process.send!(await runner.run(job));
    });
    process.send!('ready');
    return;
  }

  const started = Date.now();
  const outcomes: Outcome[] = [];
  const print = (o: Outcome) => {
    outcomes.push(o);
    console.log(`${o.kind.padEnd(9)} ${o.id.padEnd(44)} ${describe(o)}`);
  };
  const onlyMutants = process.argv.includes('--mutants') && !process.argv.includes('--variations');
  // A queue the worker processes take from as they finish, longest jobs first so none is left
  // running alone at the end: the clean run, the variations (each a whole suite), the mutants
  // that run the whole suite or wait out a webhook deadline (a mutant that drops deliveries makes
  // its check wait the whole deadline), then the quick mutants. Most of a job is waiting
  // (webhooks, Retry-After, latency), not computing, so there are more workers than cores.
  const slow = (m: Mutant) => {
    const checks = checksFor(m);
    return checks.length === 0 || checks.some((c) => c.startsWith('WEBHOOK-'));
  };
  const mutantJob = (m: Mutant) => ({ kind: 'mutant' as const, id: m.id });
  const queue: Job[] = [
    ...(onlyMutants ? [] : [{ kind: 'clean' as const }]),
    ...(onlyMutants ? [] : chosenVariations.map((v) => ({ kind: 'variation' as const, id: v.id }))),
    ...chosenMutants.filter(slow).map(mutantJob),
    ...chosenMutants.filter((m) => !slow(m)).map(mutantJob),
  ];
  const workers = Math.max(1, Math.min(Number(arg('--workers') ?? 6), queue.length));
  const passOn = process.argv.slice(2).filter((a, j, all) => a !== '--workers' && all[j - 1] !== '--workers');
  await Promise.all(
    Array.from({ length: workers }, () =>
      new Promise<void>((done, reject) => {
        const child = fork(fileURLToPath(import.meta.url), [...passOn, '--worker'], { execArgv: process.execArgv, stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
        const next = () => {
          const job = queue.shift();
          child.send(job ?? 'stop');
        };
        child.on('message', (m: Outcome | 'ready') => {
          if (m !== 'ready') print(m);
          next();
        });
        child.on('error', reject);
        child.on('exit', (code) => (code === 0 ? done() : reject(new Error(`a mutants worker exited with ${code}`))));
      }),
    ),
  );

  const bad = outcomes.filter((o) => o.verdict !== 'ok');
  const mutantOutcomes = outcomes.filter((o) => o.kind === 'mutant');
  const clean = outcomes.find((o) => o.kind === 'clean');
  console.log(
    `\n${clean ? `clean run: ${(clean.report.durationMs / 1000).toFixed(1)} s; ` : ''}variations: ${outcomes.filter((o) => o.kind === 'variation').length}; ` +
      `mutants: ${mutantOutcomes.length}, caught: ${mutantOutcomes.filter((o) => o.verdict === 'ok').length}, survived: ${mutantOutcomes.filter((o) => o.verdict === 'SURVIVED').length}; ` +
      `${((Date.now() - started) / 1000).toFixed(0)} s in all with ${workers} workers`,
  );
  // One line in the plain "N passed, N failed" form.
  console.log(`mutants: ${outcomes.length - bad.length} passed, ${bad.length} failed`);
  process.exitCode = bad.length ? 1 : 0;
}

await main();
