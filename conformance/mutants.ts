// `npm run conformance:mutants`: proves the suite catches broken servers. One local sandbox
// is started; the suite runs once against it clean (it must pass) and once per fault of the
// sandbox's registry (it must fail, and the table shows which checks caught each fault).
// Exits non-zero if the clean run fails or any fault survives.
import { FAULTS, type FaultName } from '../mock/control/faults.ts';
import { startSandbox } from '../mock/sandbox.ts';
import type { ConformanceConfig } from './config.ts';
import { totals, type RunReport } from './report/format.ts';
import { runConformance } from './run.ts';

/** `--faults a,b` runs only those faults (for working on one); the default is all of them. */
function selectedFaults(): FaultName[] {
  const i = process.argv.indexOf('--faults');
  const all = Object.keys(FAULTS) as FaultName[];
  if (i < 0) return all;
  const wanted = (process.argv[i + 1] ?? '').split(',').filter(Boolean);
  const unknown = wanted.filter((w) => !all.includes(w as FaultName));
  if (unknown.length) throw new Error(`unknown faults: ${unknown.join(', ')}`);
  return wanted as FaultName[];
}

type Outcome = { fault: FaultName | 'none (clean)'; failed: string[]; inconclusive: string[]; report: RunReport };

async function main() {
  const sandbox = await startSandbox({
    port: 0,
    sandboxPort: 0,
    seed: 1,
    provisioningMs: 0,
    confirmationMs: 0,
    logLevel: 'silent',
    webhooks: { timeoutMs: 1_000, retryDelaysMs: [50, 100] },
  });
  const control = async (method: string, path: string, body?: unknown) => {
    const res = await fetch(`${sandbox.productionUrl}/__sandbox${path}`, {
      method,
      headers: body === undefined ? {} : { 'content-type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    if (!res.ok) throw new Error(`control ${method} ${path} → ${res.status}`);
    return res.json() as Promise<any>;
  };

  /**
   * A second tenant, signed up through the public Dashboard API the way an integrator does it
   * (access request, register, verify), with the tokens from the sandbox's outbox.
   */
  async function secondAccount() {
    const email = 'second-tenant@example.com';
    const password = 'second tenant battery staple';
    const post = async (path: string, json: unknown) => {
      const res = await fetch(`${sandbox.productionUrl}${path}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(json) });
      if (!res.ok) throw new Error(`POST ${path} → ${res.status}`);
    };
    const token = async (kind: string) => {
      const got = await control('GET', `/outbox?to=${encodeURIComponent(email)}`);
      const mail = [...((got.data ?? got) as any[])].reverse().find((m) => m.kind === kind);
      if (!mail) throw new Error(`no ${kind} e-mail for ${email} in the outbox`);
      return mail.token as string;
    };
    await post('/dashboard/auth/request-access', { name: 'Second Tenant', email, organization: 'Second Inc', buyerMode: 'DIRECT_INFERENCE_VENDOR', useCase: 'The conformance isolation checks.' });
    await post('/dashboard/auth/register', { accessToken: await token('access'), email, password, name: 'Second Tenant' });
    const verified = await fetch(`${sandbox.productionUrl}/dashboard/auth/verify?token=${encodeURIComponent(await token('verify'))}`);
    if (!verified.ok) throw new Error(`verify → ${verified.status}`);
    return { email, password };
  }

  async function runWith(fault?: FaultName): Promise<Outcome> {
    const reset = await control('POST', '/reset');
    // Signed up before the fault is active, so the fault cannot break the sign-up itself.
    const second = await secondAccount();
    if (fault) await control('PUT', `/faults/${fault}`, { active: true });
    const demo = reset.data.demo;
    const config: ConformanceConfig = {
      baseUrl: sandbox.sandboxUrl,
      apiKey: demo.fullKey,
      dashboardUrl: sandbox.productionUrl,
      email: demo.email,
      password: demo.password,
      secondEmail: second.email,
      secondPassword: second.password,
      otherEnvBaseUrl: sandbox.productionUrl,
      allowWrites: true,
      probeRateLimit: true,
      webhookHost: '127.0.0.1',
      only: [],
      skip: [],
    };
    const report = await runConformance(config);
    const ids = (status: string) => report.results.filter((r) => r.status === status).map((r) => r.id);
    return { fault: fault ?? 'none (clean)', failed: ids('failed'), inconclusive: ids('inconclusive'), report };
  }

  const outcomes: Outcome[] = [];
  try {
    const clean = await runWith();
    outcomes.push(clean);
    if (clean.failed.length || clean.inconclusive.length) {
      console.error('The suite does not pass against the clean sandbox:');
      for (const r of clean.report.results.filter((x) => x.status === 'failed' || x.status === 'inconclusive')) console.error(`  ${r.id} (${r.status}): ${r.message}`);
    }
    for (const fault of selectedFaults()) outcomes.push(await runWith(fault));
  } finally {
    await sandbox.close();
  }

  const width = Math.max(...outcomes.map((o) => o.fault.length));
  console.log(`${'fault'.padEnd(width)}  caught by`);
  for (const o of outcomes) {
    const t = totals(o.report);
    const verdict =
      o.fault === 'none (clean)'
        ? o.failed.length || o.inconclusive.length
          ? `FAILS: ${[...o.failed, ...o.inconclusive.map((id) => `${id} (inconclusive)`)].join(', ')}`
          : `passes (${t.passed} passed, ${t.skipped} skipped, ${o.report.requests?.sent ?? '?'} requests)`
        : o.failed.length
          ? o.failed.join(', ')
          : 'SURVIVED';
    console.log(`${o.fault.padEnd(width)}  ${verdict}`);
  }
  const survivors = outcomes.slice(1).filter((o) => o.failed.length === 0).map((o) => o.fault);
  // The clean run must pass outright: an inconclusive check there proves nothing either way.
  const cleanFailed = outcomes[0]!.failed.length > 0 || outcomes[0]!.inconclusive.length > 0;
  const seconds = (outcomes[0]!.report.durationMs / 1000).toFixed(1);
  console.log(`\nclean run: ${seconds} s; faults: ${outcomes.length - 1}, caught: ${outcomes.length - 1 - survivors.length}, survived: ${survivors.length}`);
  // One line in the plain "N passed, N failed" form: the clean run and each caught fault pass.
  const passed = (cleanFailed ? 0 : 1) + outcomes.length - 1 - survivors.length;
  console.log(`mutants: ${passed} passed, ${survivors.length + (cleanFailed ? 1 : 0)} failed`);
  // The suite runs in this process and sets no exit status of its own; once the sandbox is
  // closed nothing is left open, so the process ends by itself.
  process.exitCode = cleanFailed || survivors.length ? 1 : 0;
}

await main();
