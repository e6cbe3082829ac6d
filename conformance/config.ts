// What the suite is pointed at. Every input comes from a flag of the CLI or an environment
// variable (or, programmatically, from the caller).
export type ConformanceConfig = {
  /** Balance API base URL of the key's environment. */
  baseUrl: string;
  /** A Balance API key (`pk_test_….sk_test_…`) of that environment. */
  apiKey?: string;
  /** Dashboard API base URL; with email and password it enables the key, session and webhook checks. */
  dashboardUrl?: string;
  /** Dashboard login. */
  email?: string;
  password?: string;
  /** A second account on the same deployment (another tenant), for the isolation checks. */
  secondEmail?: string;
  secondPassword?: string;
  /** The other environment's Balance API base URL, for routing checks. */
  otherEnvBaseUrl?: string;
  /** Required before any check that creates, rotates or deletes anything on the target. */
  allowWrites: boolean;
  /** Send a bounded burst to provoke 429. */
  probeRateLimit: boolean;
  /** Let the plan-limit check use up what is left of the month's allowance of deltas (never on an account in use). */
  useUpPlan?: boolean;
  /** Let ENV-002 and ISO-005 provision Production (mainnet) when it is not provisioned: irreversible. */
  provision?: boolean;
  /** Start a local webhook receiver that the target can reach at this host (e.g. 127.0.0.1). */
  webhookHost?: string;
  /** The receiver's port (default: a free one); a tunnel behind `webhookUrl` forwards to it. */
  webhookPort?: number;
  /**
   * A public (e.g. tunnelled, https://) URL that reaches the local receiver: it is registered
   * with the target instead of http://webhookHost:port. The receiver still listens on
   * `webhookHost` (default 127.0.0.1) and `webhookPort`.
   */
  webhookUrl?: string;
  /** Multiplies every deadline: request timeouts, check timeouts, 429 waits, webhook waits (default 1). */
  timeoutScale?: number;
  /** Requests the checks may send in all (default DEFAULT_MAX_REQUESTS); past it the remaining checks are inconclusive. */
  maxRequests?: number;
  /** Run only these check ids (empty: every check). */
  only: string[];
  /** Leave these check ids out. */
  skip: string[];
};

/**
 * The default --max-requests: about twice the most a full run against the local sandbox sends
 * (1,430 to 1,730 requests, depending on latency and how soon the rate-limit probe meets the
 * limit). A target with a much higher rate limit makes the probe inconclusive rather than
 * flooding it; raise the budget to probe such a target.
 */
export const DEFAULT_MAX_REQUESTS = 3500;

// A plain record rather than NodeJS.ProcessEnv, so consumers need no @types/node for this type.
/** The configuration the PACSPACE_* environment variables describe (see `pacspace-conformance --help`). */
export function configFromEnv(env: Readonly<Record<string, string | undefined>> = process.env): ConformanceConfig {
  const list = (v: string | undefined) => (v ? v.split(',').map((s) => s.trim()).filter(Boolean) : []);
  const flag = (v: string | undefined) => v === '1' || v === 'true';
  return {
    baseUrl: env.PACSPACE_BASE_URL ?? '',
    ...(env.PACSPACE_API_KEY ? { apiKey: env.PACSPACE_API_KEY } : {}),
    ...(env.PACSPACE_DASHBOARD_URL ? { dashboardUrl: env.PACSPACE_DASHBOARD_URL } : {}),
    ...(env.PACSPACE_EMAIL ? { email: env.PACSPACE_EMAIL } : {}),
    ...(env.PACSPACE_PASSWORD ? { password: env.PACSPACE_PASSWORD } : {}),
    ...(env.PACSPACE_SECOND_EMAIL ? { secondEmail: env.PACSPACE_SECOND_EMAIL } : {}),
    ...(env.PACSPACE_SECOND_PASSWORD ? { secondPassword: env.PACSPACE_SECOND_PASSWORD } : {}),
    ...(env.PACSPACE_OTHER_ENV_BASE_URL ? { otherEnvBaseUrl: env.PACSPACE_OTHER_ENV_BASE_URL } : {}),
    allowWrites: flag(env.PACSPACE_ALLOW_WRITES),
    probeRateLimit: flag(env.PACSPACE_PROBE_RATE_LIMIT),
    useUpPlan: flag(env.PACSPACE_USE_UP_PLAN),
    provision: flag(env.PACSPACE_PROVISION),
    ...(env.PACSPACE_WEBHOOK_HOST ? { webhookHost: env.PACSPACE_WEBHOOK_HOST } : {}),
    ...(env.PACSPACE_WEBHOOK_PORT ? { webhookPort: Number(env.PACSPACE_WEBHOOK_PORT) } : {}),
    ...(env.PACSPACE_WEBHOOK_URL ? { webhookUrl: env.PACSPACE_WEBHOOK_URL } : {}),
    ...(env.PACSPACE_TIMEOUT_SCALE ? { timeoutScale: Number(env.PACSPACE_TIMEOUT_SCALE) } : {}),
    ...(env.PACSPACE_MAX_REQUESTS ? { maxRequests: Number(env.PACSPACE_MAX_REQUESTS) } : {}),
    only: list(env.PACSPACE_ONLY),
    skip: list(env.PACSPACE_SKIP),
  };
}
