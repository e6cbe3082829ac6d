#!/usr/bin/env node
// `pacspace-conformance` / `npm run conformance`: checks a deployment against the contract.
import { writeFile } from 'node:fs/promises';
import { parseArgs } from 'node:util';
import { configFromEnv, DEFAULT_MAX_REQUESTS, type ConformanceConfig } from './config.ts';
import { Interrupted } from './lib/outcome.ts';
import pkg from './package.json' with { type: 'json' };
import { json, junit, pretty, STATUS_ICON, summary, totals, type CheckResult, type RunReport } from './report/format.ts';
import { html } from './report/html.ts';
import { configProblem, PreflightError, runConformance, unknownCheckIds } from './run.ts';

const usage = `Usage: pacspace-conformance --base-url URL [options]

Inputs (each also as an environment variable):
  --base-url URL             Balance API base URL of the key's environment   PACSPACE_BASE_URL
  --api-key KEY              a Balance API key for that environment          PACSPACE_API_KEY
  --dashboard-url URL        Dashboard API base URL                          PACSPACE_DASHBOARD_URL
  --email EMAIL              dashboard login (enables key, session, webhook checks)  PACSPACE_EMAIL
  --password PASSWORD                                                        PACSPACE_PASSWORD
  --second-email EMAIL       a second account (another tenant): isolation checks  PACSPACE_SECOND_EMAIL
  --second-password PASSWORD                                                 PACSPACE_SECOND_PASSWORD
  --other-env-base-url URL   the other environment's Balance API             PACSPACE_OTHER_ENV_BASE_URL
  --allow-writes             allow checks that create, rotate or delete      PACSPACE_ALLOW_WRITES=1
  --probe-rate-limit         send a bounded burst to provoke 429             PACSPACE_PROBE_RATE_LIMIT=1
  --use-up-plan              record deltas until the plan's monthly limit (402); no
                             delta is then accepted until the month ends    PACSPACE_USE_UP_PLAN=1
  --provision                provision Production (mainnet) if it is not yet, to
                             observe its activation (irreversible)           PACSPACE_PROVISION=1
  --webhook-host HOST        run a webhook receiver the target can reach     PACSPACE_WEBHOOK_HOST
  --webhook-port N           the receiver's port (default: a free one)       PACSPACE_WEBHOOK_PORT
  --webhook-url URL          a public/tunnelled URL (https:// for the hosted service) that
                             forwards to the receiver; registered instead of
                             http://HOST:PORT (receiver on 127.0.0.1 unless --webhook-host)
                                                                             PACSPACE_WEBHOOK_URL
  --only ID,ID / --skip ID,ID   select checks by id                          PACSPACE_ONLY / PACSPACE_SKIP
Safety and pacing:
  --timeout-scale N          multiply every deadline (default 1)             PACSPACE_TIMEOUT_SCALE
  --max-requests N           requests the checks may send (default ${DEFAULT_MAX_REQUESTS});
                             past it the remaining checks are inconclusive   PACSPACE_MAX_REQUESTS
Output:
  --reporter pretty|json|junit|html   (default pretty)
  --out FILE                 write the report to FILE instead of stdout
  --quiet                    no progress lines on stderr
  --version, --help
Outcomes: passed, failed, skipped (input not given), inconclusive (could not decide: rate
limited past the wait budget, request budget used up, interrupted).
Exit status: 0 when no check failed (inconclusive ones do not fail the run), 1 when one did,
2 for bad arguments, 3 when the preflight stopped the run (target unreachable, key refused,
dashboard login failed: no check was run), 130 on SIGINT and 143 on SIGTERM (after cleanup).`;

type Options = { config: ConformanceConfig; reporter: string; out?: string; quiet: boolean };

const REPORTERS = ['pretty', 'json', 'junit', 'html'];
/** The exit status of a preflight that stopped the run: nothing was checked. */
const EXIT_PREFLIGHT = 3;

function parse(argv: string[]): Options {
  const { values } = parseArgs({
    args: argv,
    options: {
      'base-url': { type: 'string' },
      'api-key': { type: 'string' },
      'dashboard-url': { type: 'string' },
      email: { type: 'string' },
      password: { type: 'string' },
      'second-email': { type: 'string' },
      'second-password': { type: 'string' },
      'other-env-base-url': { type: 'string' },
      'allow-writes': { type: 'boolean' },
      'probe-rate-limit': { type: 'boolean' },
      'use-up-plan': { type: 'boolean' },
      provision: { type: 'boolean' },
      'webhook-host': { type: 'string' },
      'webhook-port': { type: 'string' },
      'webhook-url': { type: 'string' },
      'timeout-scale': { type: 'string' },
      'max-requests': { type: 'string' },
      only: { type: 'string' },
      skip: { type: 'string' },
      reporter: { type: 'string', default: 'pretty' },
      out: { type: 'string' },
      quiet: { type: 'boolean', short: 'q' },
      version: { type: 'boolean' },
      help: { type: 'boolean', short: 'h' },
    },
    strict: true,
  });
  if (values.help) {
    console.log(usage);
    process.exit(0);
  }
  if (values.version) {
    console.log(pkg.version);
    process.exit(0);
  }
  const env = configFromEnv();
  const list = (v: string | undefined, fallback: string[]) => (v ? v.split(',').map((s) => s.trim()).filter(Boolean) : fallback);
  const config: ConformanceConfig = {
    ...env,
    baseUrl: values['base-url'] ?? env.baseUrl,
    ...(values['api-key'] ? { apiKey: values['api-key'] } : {}),
    ...(values['dashboard-url'] ? { dashboardUrl: values['dashboard-url'] } : {}),
    ...(values.email ? { email: values.email } : {}),
    ...(values.password ? { password: values.password } : {}),
    ...(values['second-email'] ? { secondEmail: values['second-email'] } : {}),
    ...(values['second-password'] ? { secondPassword: values['second-password'] } : {}),
    ...(values['other-env-base-url'] ? { otherEnvBaseUrl: values['other-env-base-url'] } : {}),
    ...(values['webhook-host'] ? { webhookHost: values['webhook-host'] } : {}),
    ...(values['webhook-port'] !== undefined ? { webhookPort: number(values['webhook-port']) } : {}),
    ...(values['webhook-url'] ? { webhookUrl: values['webhook-url'] } : {}),
    ...(values['timeout-scale'] !== undefined ? { timeoutScale: number(values['timeout-scale']) } : {}),
    ...(values['max-requests'] !== undefined ? { maxRequests: number(values['max-requests']) } : {}),
    allowWrites: values['allow-writes'] ?? env.allowWrites,
    probeRateLimit: values['probe-rate-limit'] ?? env.probeRateLimit,
    useUpPlan: values['use-up-plan'] ?? env.useUpPlan ?? false,
    provision: values.provision ?? env.provision ?? false,
    only: list(values.only, env.only),
    skip: list(values.skip, env.skip),
  };
  if (!config.baseUrl) throw new Error('--base-url (or PACSPACE_BASE_URL) is required');
  for (const [name, url] of [['--base-url', config.baseUrl], ['--dashboard-url', config.dashboardUrl], ['--other-env-base-url', config.otherEnvBaseUrl]] as const) {
    if (url && !/^https?:\/\/[^/]+/.test(url)) throw new Error(`${name} must be an http(s) URL`);
  }
  const problem = configProblem(config);
  if (problem) throw new Error(problem.replace(/^\w+ \((--[\w-]+)\)/, '$1'));
  const unknown = unknownCheckIds(config);
  if (unknown.length) throw new Error(`--only/--skip name unknown check id(s): ${unknown.join(', ')}`);
  if (!REPORTERS.includes(values.reporter!)) throw new Error('--reporter must be pretty, json, junit or html');
  return { config, reporter: values.reporter!, ...(values.out ? { out: values.out } : {}), quiet: values.quiet ?? false };
}

/** A numeric flag's value; NaN (refused by configProblem) when it is not a number. */
const number = (v: string) => (v.trim() === '' ? Number.NaN : Number(v));

/** One line per finished check; stderr, so stdout carries only the report. */
function progress(r: CheckResult) {
  const detail = {
    passed: `${r.durationMs} ms`,
    failed: `FAILED in ${r.durationMs} ms`,
    skipped: 'skipped',
    inconclusive: `INCONCLUSIVE after ${r.durationMs} ms: ${r.message?.split('\n')[0] ?? ''}`,
  }[r.status];
  process.stderr.write(`${STATUS_ICON[r.status]} ${r.id.padEnd(11)} ${r.rule} (${detail})\n`);
}

const format = (reporter: string, report: RunReport) =>
  reporter === 'json' ? json(report) : reporter === 'junit' ? junit(report) : reporter === 'html' ? html(report) : pretty(report);

let options: Options;
try {
  options = parse(process.argv.slice(2));
} catch (error) {
  console.error(`pacspace-conformance: ${(error as Error).message}\n\n${usage}`);
  process.exit(2);
}

// Ctrl-C or SIGTERM: no further check starts, the running one is abandoned, the cleanup
// deletes what the run created, the report is written, and the exit status is 128 + signal.
// A second signal exits at once.
const controller = new AbortController();
const SIGNAL_EXIT = { SIGINT: 130, SIGTERM: 143 } as const;
let stopping: keyof typeof SIGNAL_EXIT | undefined;
for (const sig of ['SIGINT', 'SIGTERM'] as const) {
  process.on(sig, () => {
    if (stopping) {
      process.stderr.write(`pacspace-conformance: ${sig} again: exiting without finishing the cleanup\n`);
      process.exit(SIGNAL_EXIT[sig]);
    }
    stopping = sig;
    process.stderr.write(`pacspace-conformance: ${sig}: stopping; cleaning up what the run created (${sig} again to exit at once)\n`);
    controller.abort(new Interrupted(sig));
  });
}

try {
  const { config, reporter, out, quiet } = options;
  const notice = (line: string) => process.stderr.write(`pacspace-conformance: ${line}\n`);
  const report = await runConformance(config, { signal: controller.signal, onNotice: notice, ...(quiet ? {} : { onResult: progress }) });
  const text = format(reporter, report);
  if (out) {
    await writeFile(out, text);
    console.log(summary(report).join('\n'));
  } else {
    process.stdout.write(text);
  }
  process.exit(stopping ? SIGNAL_EXIT[stopping] : totals(report).failed > 0 ? 1 : 0);
} catch (error) {
  // One line: a down target or a wrong password must not produce forty copies of one error.
  console.error(`pacspace-conformance: ${(error as Error).message}`);
  process.exit(stopping ? SIGNAL_EXIT[stopping] : error instanceof PreflightError ? EXIT_PREFLIGHT : 2);
}
