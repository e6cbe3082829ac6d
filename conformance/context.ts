// What every check gets: the configuration, recorded HTTP clients for the Balance API (and
// the other environment), a lazily logged-in dashboard session, the secret registry, and
// helpers that create resources on the target and remove them at the end of the run.
import type { ConformanceConfig } from './config.ts';
import { ensure, expectStatus } from './lib/assert.ts';
import { createClient, createRecorder, type Client, type Exchange } from './lib/http.ts';
import { createSecretRegistry, secretOf } from './lib/secrets.ts';

export const CSRF = { 'X-Pacspace-CSRF': '1' } as const;

export type CreatedKey = {
  id: string;
  environment: 'test' | 'live';
  publicKey: string;
  secretKey: string;
  fullKey: string;
  permissions: string[];
  exchange: Exchange;
};

export function createContext(config: ConformanceConfig) {
  const recorder = createRecorder();
  const secrets = createSecretRegistry();
  if (config.apiKey) secrets.add(secretOf(config.apiKey), 'the --api-key secret');
  secrets.add(config.password, 'the --password');
  const cleanups: Array<() => Promise<unknown>> = [];
  let session: Promise<Client> | undefined;

  const keyEnvironment = /^pk_(test|live)_/.exec(config.apiKey ?? '')?.[1] as 'test' | 'live' | undefined;

  /** A new dashboard client with its own cookie jar, logged in with the given credentials. */
  async function loginClient(email = config.email!, password = config.password!) {
    const client = createClient(recorder, config.dashboardUrl!);
    const res = await client.post('/dashboard/auth/login', { json: { email, password } });
    expectStatus(res, 200, 'logging in with --email and --password');
    for (const cookie of res.setCookies) secrets.add(cookie.split(';')[0]!.split('=').slice(1).join('='), 'a session cookie', res.id);
    return client;
  }

  const ctx = {
    config,
    recorder,
    secrets,
    /** The Balance API of the key's environment. */
    api: createClient(recorder, config.baseUrl),
    /** The other environment's Balance API (routing checks). */
    other: config.otherEnvBaseUrl ? createClient(recorder, config.otherEnvBaseUrl) : undefined,
    keyEnvironment,
    /** Headers carrying the --api-key. */
    keyHeaders: (key = config.apiKey!) => ({ 'X-Api-Key': key }),
    /** The shared dashboard session, logged in once per run. */
    dashboard: () => (session ??= loginClient()),
    loginClient,
    /** One login attempt that is expected to fail (it does not touch the shared session). */
    loginAttempt: (email: string, password: string) =>
      createClient(recorder, config.dashboardUrl!).post('/dashboard/auth/login', { json: { email, password } }),

    /** Creates an API key (deleted again at the end of the run) and records its secret. */
    async createKey(input: { name?: string; environment?: 'test' | 'live'; permissions?: string[] } = {}): Promise<CreatedKey> {
      const dash = await ctx.dashboard();
      const res = await dash.post('/dashboard/api-keys', {
        headers: CSRF,
        json: { name: input.name ?? `conformance-${Date.now().toString(36)}`, ...input },
      });
      expectStatus(res, 201, 'creating an API key');
      const d = res.body?.data ?? {};
      ensure(typeof d.fullKey === 'string' && typeof d.secretKey === 'string', 'the create response must reveal fullKey and secretKey');
      secrets.add(d.secretKey, `the secret of key ${d.id}`, res.id);
      secrets.add(secretOf(d.fullKey), `the secret of key ${d.id}`, res.id);
      cleanups.push(() => dash.delete(`/dashboard/api-keys/${d.id}`, { headers: CSRF }));
      return { ...d, exchange: res };
    },

    onCleanup(fn: () => Promise<unknown>) {
      cleanups.push(fn);
    },

    async cleanup() {
      for (const fn of cleanups.reverse()) await fn().catch(() => undefined);
    },
  };
  return ctx;
}

export type CheckContext = ReturnType<typeof createContext>;
