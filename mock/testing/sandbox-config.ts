// A sandbox configuration for tests that build services without a listener (`createServices`):
// the defaults `startSandbox` uses, confirmation held back, a large plan allowance, quick webhook
// retries; a test changes only what it is about.
import type { SandboxConfig } from '../services.ts';

export function testSandboxConfig(overrides: Partial<SandboxConfig> = {}): SandboxConfig {
  return {
    productionUrl: 'http://127.0.0.1:4010',
    sandboxUrl: 'http://127.0.0.1:4011',
    autoApprove: true,
    provisioningMs: 0,
    loginFailures: { limit: 5, windowMs: 15 * 60_000 },
    control: true,
    seed: 1,
    confirmationMs: 60_000,
    freePlanDeltas: 1_000_000,
    webhooks: { timeoutMs: 1_000, retryDelaysMs: [10] },
    ...overrides,
  };
}
