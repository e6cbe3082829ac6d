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
  /** The other environment's Balance API base URL, for routing checks. */
  otherEnvBaseUrl?: string;
  /** Required before any check that creates, rotates or deletes anything on the target. */
  allowWrites: boolean;
  /** Send a bounded burst to provoke 429. */
  probeRateLimit: boolean;
  /** Start a local webhook receiver that the target can reach at this host (e.g. 127.0.0.1). */
  webhookHost?: string;
  /** Run only these check ids (empty: every check). */
  only: string[];
  /** Leave these check ids out. */
  skip: string[];
};

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
    ...(env.PACSPACE_OTHER_ENV_BASE_URL ? { otherEnvBaseUrl: env.PACSPACE_OTHER_ENV_BASE_URL } : {}),
    allowWrites: flag(env.PACSPACE_ALLOW_WRITES),
    probeRateLimit: flag(env.PACSPACE_PROBE_RATE_LIMIT),
    ...(env.PACSPACE_WEBHOOK_HOST ? { webhookHost: env.PACSPACE_WEBHOOK_HOST } : {}),
    only: list(env.PACSPACE_ONLY),
    skip: list(env.PACSPACE_SKIP),
  };
}
