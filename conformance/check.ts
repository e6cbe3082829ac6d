// A conformance check: a stable id, the one rule it enforces, where the rule comes from,
// the inputs it needs, and the test. The catalogue (checks/index.ts) lists them all.
import type { ConformanceConfig } from './config.ts';
import type { CheckContext } from './context.ts';

export type Need =
  /** --api-key */
  | 'apiKey'
  /** --dashboard-url, --email, --password */
  | 'dashboard'
  /** --second-email, --second-password (another tenant's account on the same deployment) */
  | 'secondAccount'
  /** --allow-writes */
  | 'writes'
  /** --other-env-base-url */
  | 'otherEnv'
  /** --probe-rate-limit */
  | 'rateLimitProbe'
  /** --use-up-plan (spends what is left of the plan's monthly allowance of deltas) */
  | 'usePlan'
  /** --webhook-host or --webhook-url (a receiver the target can reach) */
  | 'webhooks';

export type Check = {
  id: string;
  rule: string;
  /** Seed page, PRODUCT.md section, contract location or OWASP API Top 10 item. */
  source: string;
  needs: Need[];
  run(ctx: CheckContext): Promise<void>;
};

const REASONS: Record<Need, (c: ConformanceConfig) => string | undefined> = {
  apiKey: (c) => (c.apiKey ? undefined : 'needs --api-key'),
  dashboard: (c) => (c.dashboardUrl && c.email && c.password ? undefined : 'needs --dashboard-url, --email and --password'),
  secondAccount: (c) => (c.secondEmail && c.secondPassword ? undefined : "needs --second-email and --second-password (a second account: another tenant on the same deployment)"),
  writes: (c) => (c.allowWrites ? undefined : 'needs --allow-writes (it creates, rotates or deletes on the target)'),
  otherEnv: (c) => (c.otherEnvBaseUrl ? undefined : "needs --other-env-base-url (the other environment's Balance API)"),
  rateLimitProbe: (c) => (c.probeRateLimit ? undefined : 'needs --probe-rate-limit (it sends a bounded burst)'),
  usePlan: (c) => (c.useUpPlan ? undefined : "needs --use-up-plan (it records deltas until the plan's monthly allowance is used up: no further delta is accepted until the month ends)"),
  webhooks: (c) => (c.webhookHost || c.webhookUrl ? undefined : 'needs --webhook-host or --webhook-url (a local receiver the target can reach)'),
};

/** Why a check cannot run with this configuration, or undefined when it can. */
export function skipReason(check: Check, config: ConformanceConfig): string | undefined {
  const missing = check.needs.map((n) => REASONS[n](config)).filter(Boolean);
  return missing.length ? missing.join('; ') : undefined;
}

export const defineCheck = (check: Check) => check;
