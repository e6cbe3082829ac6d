// What the suite is pointed at. Every input comes from a flag of the CLI or an environment
// variable, and reaches the test workers as one JSON environment variable.
export type ConformanceConfig = {
  /** Balance API base URL of the key's environment. */
  baseUrl: string;
  apiKey?: string;
  /** Dashboard API base URL; with email and password it enables the key, session and webhook checks. */
  dashboardUrl?: string;
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
  only: string[];
  skip: string[];
};

export const CONFIG_ENV = 'PACSPACE_CONFORMANCE_CONFIG';

export function configFromEnv(env: NodeJS.ProcessEnv = process.env): ConformanceConfig {
  const raw = env[CONFIG_ENV];
  if (raw) return JSON.parse(raw) as ConformanceConfig;
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
