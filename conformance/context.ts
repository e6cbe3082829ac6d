// What every check gets: the configuration, recorded HTTP clients for the Balance API (and
// the other environment), the dashboard session the preflight logged in (reused, not logged
// in again), the secret registry, the webhook receiver, and helpers that create resources on
// the target, track them, and delete them at the end of the run — listing what could not be.
import { randomBytes } from 'node:crypto';
import { DEFAULT_MAX_REQUESTS, type ConformanceConfig } from './config.ts';
import { ensure, expectStatus } from './lib/assert.ts';
import { createClient, createRecorder, type Client, type Exchange } from './lib/http.ts';
import { startReceiver, type Receiver } from './lib/receiver.ts';
import { createSecretRegistry, secretOf } from './lib/secrets.ts';
import type { Leftover } from './report/format.ts';

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

/** A resource on the target the run created, and how to delete it. */
type Tracked = { kind: string; id: string; name?: string; remove: () => Promise<Exchange> };

export type ContextOptions = {
  /** A line for the person running the suite (e.g. where the webhook receiver listens). */
  onNotice?(line: string): void;
};

export function createContext(config: ConformanceConfig, options: ContextOptions = {}) {
  const timeoutScale = config.timeoutScale ?? 1;
  const recorder = createRecorder({ timeoutScale, maxRequests: config.maxRequests ?? DEFAULT_MAX_REQUESTS });
  const secrets = createSecretRegistry();
  if (config.apiKey) secrets.add(secretOf(config.apiKey), 'the --api-key secret');
  secrets.add(config.password, 'the --password');
  if (config.secondPassword) secrets.add(config.secondPassword, 'the --second-password');
  /** In registration order; deleted (or run) in reverse at the end. */
  const cleanups: Array<Tracked | (() => Promise<unknown>)> = [];
  /** Local things (the receiver) closed after everything on the target is cleaned up. */
  const finalizers: Array<() => Promise<unknown>> = [];
  let session: Promise<{ client: Client; exchange: Exchange }> | undefined;
  let loggedIn: Client | undefined;
  let receiver: Promise<Receiver> | undefined;
  /** Named into everything the run creates, so the cleanup can also find what it never saw answered. */
  const runTag = `conf${randomBytes(5).toString('hex')}`;

  const keyEnvironment = /^pk_(test|live)_/.exec(config.apiKey ?? '')?.[1] as 'test' | 'live' | undefined;

  /** One login attempt with the given credentials, on a new client with its own cookie jar; the caller judges the answer. */
  async function attemptLogin(email = config.email!, password = config.password!) {
    const client = createClient(recorder, config.dashboardUrl!);
    const exchange = await client.post('/dashboard/auth/login', { json: { email, password } });
    if (exchange.status === 200) {
      for (const cookie of exchange.setCookies) secrets.add(cookie.split(';')[0]!.split('=').slice(1).join('='), 'a session cookie', exchange.id);
    }
    return { client, exchange };
  }

  /** A new dashboard client with its own cookie jar, logged in with the given credentials (one more login: only for checks that must own their session). */
  async function loginClient(email?: string, password?: string) {
    const { client, exchange } = await attemptLogin(email, password);
    expectStatus(exchange, 200, 'logging in with --email and --password');
    return client;
  }

  /** The run's dashboard login: made once (by the preflight) and reused by every check. */
  function sharedLogin() {
    session ??= attemptLogin().then((s) => {
      if (s.exchange.status === 200) loggedIn = s.client;
      return s;
    });
    return session;
  }

  /** Deletes one tracked resource; 404 and 410 count as already gone. */
  async function remove(item: Tracked): Promise<Leftover | undefined> {
    try {
      const res = await item.remove();
      if ((res.status >= 200 && res.status < 300) || res.status === 404 || res.status === 410) return undefined;
      return { kind: item.kind, id: item.id, ...(item.name ? { name: item.name } : {}), reason: `DELETE answered ${res.status}` };
    } catch (error) {
      return { kind: item.kind, id: item.id, ...(item.name ? { name: item.name } : {}), reason: (error as Error).message };
    }
  }

  /** Every item of a paged dashboard list (at most 20 pages of 100). */
  async function listAll(dash: Client, path: string): Promise<any[]> {
    const items: any[] = [];
    for (let page = 1; page <= 20; page++) {
      const res = await dash.get(`${path}?page=${page}&limit=100`);
      if (res.status !== 200) throw new Error(`GET ${path} answered ${res.status}`);
      const got: any[] = res.body?.data?.items ?? [];
      items.push(...got);
      if (got.length < 100 || items.length >= (res.body?.data?.total ?? 0)) break;
    }
    return items;
  }

  const ctx = {
    config,
    recorder,
    secrets,
    /** What the cleanup could not delete (set when it has run). */
    leftovers: [] as Leftover[],
    /** The Balance API of the key's environment. */
    api: createClient(recorder, config.baseUrl),
    /** The other environment's Balance API (routing checks). */
    other: config.otherEnvBaseUrl ? createClient(recorder, config.otherEnvBaseUrl) : undefined,
    keyEnvironment,
    /** Multiplies every deadline (--timeout-scale). */
    timeoutScale,
    /** `ms` times --timeout-scale. */
    scaled: (ms: number) => ms * timeoutScale,
    /** Part of the name of everything the run creates on the target. */
    runTag,
    /** Headers carrying the --api-key. */
    keyHeaders: (key = config.apiKey!) => ({ 'X-Api-Key': key }),
    /** The shared dashboard session, logged in once per run (by the preflight). */
    async dashboard() {
      const { client, exchange } = await sharedLogin();
      expectStatus(exchange, 200, 'logging in with --email and --password');
      return client;
    },
    /** The login exchange of the shared session (its body and Set-Cookie headers), whatever it answered. */
    dashboardLogin: async () => (await sharedLogin()).exchange,
    loginClient,
    /** One login attempt that is expected to fail (it does not touch the shared session). */
    loginAttempt: (email: string, password: string) =>
      createClient(recorder, config.dashboardUrl!).post('/dashboard/auth/login', { json: { email, password } }),

    /**
     * The run's webhook receiver on --webhook-host/--webhook-port, started once; its `url` is
     * --webhook-url when given (a tunnel to it), else its own http://host:port URL.
     */
    receiver(): Promise<Receiver> {
      receiver ??= startReceiver(config.webhookHost ?? '127.0.0.1', {
        ...(config.webhookPort !== undefined ? { port: config.webhookPort } : {}),
        ...(config.webhookUrl ? { publicUrl: config.webhookUrl } : {}),
        timeoutScale,
      }).then((r) => {
        finalizers.push(() => r.close());
        options.onNotice?.(
          config.webhookUrl
            ? `webhook receiver listening on ${r.localUrl.replace(/\/pacspace-webhooks$/, '')}; registering ${config.webhookUrl} (the tunnel must forward it to port ${r.port})`
            : `webhook receiver listening on ${r.localUrl}`,
        );
        return r;
      });
      return receiver;
    },

    /** Records something the run created on the target, to be deleted at the end (and listed if it cannot be). */
    track(kind: string, id: string, name: string | undefined, removeIt: () => Promise<Exchange>) {
      cleanups.push({ kind, id, ...(name ? { name } : {}), remove: removeIt });
    },

    /** Creates an API key (deleted again at the end of the run) and records its secret. */
    async createKey(input: { name?: string; environment?: 'test' | 'live'; permissions?: string[] } = {}): Promise<CreatedKey> {
      const dash = await ctx.dashboard();
      const name = `${input.name ?? 'conformance'}-${runTag}`;
      const res = await dash.post('/dashboard/api-keys', {
        headers: CSRF,
        json: { ...input, name },
      });
      expectStatus(res, 201, 'creating an API key');
      const d = res.body?.data ?? {};
      // Tracked before anything else can fail, so it is deleted whatever happens next.
      if (typeof d.id === 'string') ctx.track('api key', d.id, name, () => dash.delete(`/dashboard/api-keys/${d.id}`, { headers: CSRF }));
      ensure(typeof d.fullKey === 'string' && typeof d.secretKey === 'string', 'the create response must reveal fullKey and secretKey');
      secrets.add(d.secretKey, `the secret of key ${d.id}`, res.id);
      secrets.add(secretOf(d.fullKey), `the secret of key ${d.id}`, res.id);
      return { ...d, exchange: res };
    },

    onCleanup(fn: () => Promise<unknown>) {
      cleanups.push(fn);
    },

    /**
     * Deletes what the run created (newest first), then looks for anything else named with
     * this run's tag (created by a request whose answer was never seen: a timeout, Ctrl-C),
     * ends the shared session, and closes the receiver. Resolves to what is left on the
     * target; never rejects. Run it in the `cleanup` scope, which the budget does not limit.
     */
    async cleanup(): Promise<Leftover[]> {
      const leftovers: Leftover[] = [];
      const gone = new Set<string>();
      for (const item of cleanups.splice(0).reverse()) {
        if (typeof item === 'function') {
          await item().catch(() => undefined);
          continue;
        }
        const left = await remove(item);
        if (left) leftovers.push(left);
        else gone.add(`${item.kind} ${item.id}`);
      }
      const dash = loggedIn;
      if (dash && config.allowWrites) {
        const sweep: Array<[string, string, (x: any) => string | undefined]> = [
          ['api key', '/dashboard/api-keys', (x) => x?.name],
          ['webhook endpoint', '/dashboard/webhooks', (x) => x?.description],
        ];
        for (const [kind, path, nameOf] of sweep) {
          try {
            for (const x of await listAll(dash, path)) {
              const name = nameOf(x);
              if (typeof x?.id !== 'string' || typeof name !== 'string' || !name.includes(runTag) || gone.has(`${kind} ${x.id}`)) continue;
              if (leftovers.some((l) => l.kind === kind && l.id === x.id)) continue;
              const left = await remove({ kind, id: x.id, name, remove: () => dash.delete(`${path}/${x.id}`, { headers: CSRF }) });
              if (left) leftovers.push(left);
            }
          } catch (error) {
            leftovers.push({ kind: `${kind}s named *${runTag}*`, id: '(not listed)', reason: `could not check what is left: ${(error as Error).message}` });
          }
        }
      }
      // The shared session ends with the run; a failed logout leaves only a session that expires.
      if (dash) await dash.post('/dashboard/auth/logout', { headers: CSRF }).catch(() => undefined);
      loggedIn = undefined;
      for (const fn of finalizers.splice(0).reverse()) await fn().catch(() => undefined);
      return leftovers;
    },
  };
  return ctx;
}

export type CheckContext = ReturnType<typeof createContext>;
