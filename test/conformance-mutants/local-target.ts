// The local sandbox as a conformance target: started the way the self-test and the benchmark
// run the suite against it (instant confirmation and provisioning, quick webhook retries, a lower
// per-key rate limit), with its control surface, a fresh demo account per reset, and the suite's
// configuration for it.
import type { ConformanceConfig } from '../../conformance/config.ts';
import { startSandbox } from '../../mock/sandbox.ts';
import { signUpSecondTenant } from './second-tenant.ts';

export type Account = { email: string; password: string };
export type Urls = { sandboxUrl: string; productionUrl: string };

export async function startLocalTarget() {
  const sandbox = await startSandbox({
    port: 0,
    sandboxPort: 0,
    seed: 1,
    provisioningMs: 0,
    confirmationMs: 0,
    logLevel: 'silent',
    webhooks: { timeoutMs: 5_000, retryDelaysMs: [50, 100] },
    // A per-key limit the rate-limit probe (ERR-007) reaches at any pace a loaded machine keeps
    // (it calls a key that is never limited inconclusive when it sends under 100 a second); a
    // whole run's other Balance requests stay under it.
    rateLimits: { apiKey: { capacity: 100, refillPerSecond: 20 } },
  });
  // Prism is loaded on the first refused request; loading it holds the event loop (seconds on a
  // loaded machine), which the suite would otherwise meet mid-run as a request without answer.
  await sandbox.warmUp();
  const control = async (method: string, path: string) => {
    const res = await fetch(`${sandbox.productionUrl}/__sandbox${path}`, { method });
    if (!res.ok) throw new Error(`control ${method} ${path} → ${res.status}`);
    return res.json() as Promise<any>;
  };
  return {
    sandbox,
    control,
    /** Wipes the sandbox; returns the new demo account (email, password, fullKey). */
    reset: async () => (await control('POST', '/reset')).data.demo as Account & { fullKey: string },
    /** Signs up a second tenant directly at the sandbox (for the isolation checks). */
    secondTenant: () => signUpSecondTenant(sandbox.productionUrl, control),
    close: () => sandbox.close(),
  };
}

/** Every input of the suite, every check enabled, for the given listeners and accounts. */
export function localConfig(urls: Urls, demo: Account & { fullKey: string }, second?: Account, only: string[] = []): ConformanceConfig {
  return {
    baseUrl: urls.sandboxUrl,
    apiKey: demo.fullKey,
    dashboardUrl: urls.productionUrl,
    email: demo.email,
    password: demo.password,
    ...(second ? { secondEmail: second.email, secondPassword: second.password } : {}),
    otherEnvBaseUrl: urls.productionUrl,
    allowWrites: true,
    probeRateLimit: true,
    useUpPlan: true,
    provision: true,
    webhookHost: '127.0.0.1',
    only,
    skip: [],
  };
}
