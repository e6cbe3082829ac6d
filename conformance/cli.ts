#!/usr/bin/env node
// `pacspace-conformance` / `npm run conformance`: checks a deployment against the contract.
import { writeFile } from 'node:fs/promises';
import { parseArgs } from 'node:util';
import { configFromEnv, type ConformanceConfig } from './config.ts';
import pkg from './package.json' with { type: 'json' };
import { json, junit, pretty, totals, type CheckResult } from './report/format.ts';
import { runConformance, unknownCheckIds } from './run.ts';

const usage = `Usage: pacspace-conformance --base-url URL [options]

Inputs (each also as an environment variable):
  --base-url URL             Balance API base URL of the key's environment   PACSPACE_BASE_URL
  --api-key KEY              a Balance API key for that environment          PACSPACE_API_KEY
  --dashboard-url URL        Dashboard API base URL                          PACSPACE_DASHBOARD_URL
  --email EMAIL              dashboard login (enables key, session, webhook checks)  PACSPACE_EMAIL
  --password PASSWORD                                                        PACSPACE_PASSWORD
  --other-env-base-url URL   the other environment's Balance API             PACSPACE_OTHER_ENV_BASE_URL
  --allow-writes             allow checks that create, rotate or delete      PACSPACE_ALLOW_WRITES=1
  --probe-rate-limit         send a bounded burst to provoke 429             PACSPACE_PROBE_RATE_LIMIT=1
  --webhook-host HOST        run a webhook receiver the target can reach     PACSPACE_WEBHOOK_HOST
  --only ID,ID / --skip ID,ID   select checks by id                          PACSPACE_ONLY / PACSPACE_SKIP
Output:
  --reporter pretty|json|junit   (default pretty)
  --out FILE                 write the report to FILE instead of stdout
  --quiet                    no progress lines on stderr
  --version, --help
Exit status: 0 when no check failed, 1 when one did, 2 for bad arguments.`;

type Options = { config: ConformanceConfig; reporter: string; out?: string; quiet: boolean };

function parse(argv: string[]): Options {
  const { values } = parseArgs({
    args: argv,
    options: {
      'base-url': { type: 'string' },
      'api-key': { type: 'string' },
      'dashboard-url': { type: 'string' },
      email: { type: 'string' },
      password: { type: 'string' },
      'other-env-base-url': { type: 'string' },
      'allow-writes': { type: 'boolean' },
      'probe-rate-limit': { type: 'boolean' },
      'webhook-host': { type: 'string' },
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
    ...(values['other-env-base-url'] ? { otherEnvBaseUrl: values['other-env-base-url'] } : {}),
    ...(values['webhook-host'] ? { webhookHost: values['webhook-host'] } : {}),
    allowWrites: values['allow-writes'] ?? env.allowWrites,
    probeRateLimit: values['probe-rate-limit'] ?? env.probeRateLimit,
    only: list(values.only, env.only),
    skip: list(values.skip, env.skip),
  };
  if (!config.baseUrl) throw new Error('--base-url (or PACSPACE_BASE_URL) is required');
  for (const [name, url] of [['--base-url', config.baseUrl], ['--dashboard-url', config.dashboardUrl], ['--other-env-base-url', config.otherEnvBaseUrl]] as const) {
    if (url && !/^https?:\/\/[^/]+/.test(url)) throw new Error(`${name} must be an http(s) URL`);
  }
  const unknown = unknownCheckIds(config);
  if (unknown.length) throw new Error(`--only/--skip name unknown check id(s): ${unknown.join(', ')}`);
  if (!['pretty', 'json', 'junit'].includes(values.reporter!)) throw new Error('--reporter must be pretty, json or junit');
  return { config, reporter: values.reporter!, ...(values.out ? { out: values.out } : {}), quiet: values.quiet ?? false };
}

/** One line per finished check; stderr, so stdout carries only the report. */
function progress(r: CheckResult) {
  const icon = { passed: '✓', failed: '✗', skipped: '-' }[r.status];
  const detail = r.status === 'passed' ? `${r.durationMs} ms` : r.status === 'failed' ? `FAILED in ${r.durationMs} ms` : 'skipped';
  process.stderr.write(`${icon} ${r.id.padEnd(11)} ${r.rule} (${detail})\n`);
}

try {
  const { config, reporter, out, quiet } = parse(process.argv.slice(2));
  const report = await runConformance(config, quiet ? {} : { onResult: progress });
  const text = reporter === 'json' ? json(report) : reporter === 'junit' ? junit(report) : pretty(report);
  if (out) {
    await writeFile(out, text);
    console.log(pretty(report).split('\n').slice(-2).join('\n').trim());
  } else {
    process.stdout.write(text);
  }
  process.exit(totals(report).failed > 0 ? 1 : 0);
} catch (error) {
  console.error(`pacspace-conformance: ${(error as Error).message}\n\n${usage}`);
  process.exit(2);
}
