// Builds and starts a sandbox: services, the app, and one listener per environment
// (production: Dashboard API + pk_live_ keys; sandbox: pk_test_ keys).
import { isIP } from 'node:net';
import type { Server } from 'node:http';
import { checkChaosSettings } from './chaos/check.ts';
import { createChaos } from './chaos/policy.ts';
import type { ChaosSettings } from './chaos/settings.ts';
import { createApp, MAX_BODY_BYTES, type IncomingRequest, type OutgoingResponse } from './app.ts';
import { controlHandlers } from './control/handlers.ts';
import { checkInspectHistory, createInspector } from './inspector/history.ts';
import { hashPassword } from './security/secrets.ts';
import { demoIdentity, seedDemoAccount, type DemoAccount, type DemoIdentity } from './demo/seed-demo.ts';
import { apiHandlers } from './domain/index.ts';
import { createRateLimiter } from './gate/rate-limiter.ts';
import { normalizeAllowedHost } from './http/host-check.ts';
import { createListener, listen, listenerLimits, type ListenerLimits } from './http/listener.ts';
import { checkPasswordHashingOptions, createPasswordHashing, type PasswordHashingOptions } from './security/password-hashing.ts';
import { isControlToken } from './control/guard.ts';
import type { SandboxConfig, Services } from './services.ts';
import { createLogger, type Logger, type LogLevel } from './logger.ts';
import { createScheduler } from './scheduler.ts';
import { createClock } from './state/clock.ts';
import { openJournal } from './state/journal.ts';
import { createStore, type Store } from './state/store.ts';
import { createWebhookDispatcher, resumeWebhooks } from './webhooks/dispatcher.ts';
import { resumeActivations } from './domain/environment-activations.ts';
import { resumeLedger } from './domain/ledger-confirmations.ts';

export type SandboxOptions = {
  host?: string;
  port?: number;
  sandboxPort?: number;
  /** Seed for the deterministic demo account; omit for none. */
  seed?: number;
  control?: boolean;
  /** More `Host` values to answer (`--allowed-host`): `HOST` (with the listener's port) or `HOST:PORT`. */
  allowedHosts?: string[];
  /** Require this token in `X-Sandbox-Control-Token` on every control request (`--control-token`). */
  controlToken?: string;
  provisioningMs?: number;
  /** Approve access requests at once (default true); false leaves them pending. */
  autoApprove?: boolean;
  rateLimits?: { client?: { capacity: number; refillPerSecond: number }; apiKey?: { capacity: number; refillPerSecond: number } };
  confirmationMs?: number;
  freePlanDeltas?: number;
  webhooks?: { timeoutMs?: number; retryDelaysMs?: number[] };
  /** Keep an append-only journal in this folder and replay it on start. */
  dataDir?: string;
  /**
   * With `dataDir`: start from a damaged journal by keeping every record that verifies and
   * moving the others aside (`--repair`); without it, damage other than a torn final record
   * refuses the start.
   */
  repair?: boolean;
  /** With `dataDir`: the data key file sealing the journal's secrets (`--data-key-file`); default `DIR/data.key`. */
  dataKeyFile?: string;
  logLevel?: LogLevel;
  /** Password hashes (scrypt, off the event loop) run at once and waiting; past both: 429 `password_hashing_busy`. */
  passwordHashing?: PasswordHashingOptions;
  /** How many answered requests the request inspector keeps (`--inspect-history`; default 500, 0: none). */
  inspectHistory?: number;
  /** Both listeners' header, request and keep-alive timeouts and connections per client address (http/listener.ts). */
  connections?: ListenerLimits;
  /**
   * Chaos from the start (`--chaos FILE`): the control contract's ChaosSettings, checked as
   * `PUT /__sandbox/chaos` checks them (a RangeError otherwise); seeded with `seed` unless
   * they have their own.
   */
  chaos?: ChaosSettings;
};

export type RunningSandbox = {
  productionUrl: string;
  sandboxUrl: string;
  services: Services;
  demo: DemoAccount | undefined;
  /** The demo account found in a replayed journal (its key was shown when it was first seeded). */
  restoredDemo: DemoIdentity | undefined;
  /** The app's own entry point, which both listeners call (in-process tests call it directly). */
  handle: (req: IncomingRequest) => Promise<OutgoingResponse>;
  /**
   * Loads Prism now (it is otherwise loaded by the first refused request or `Prefer`, which then
   * holds the event loop for about a second): the command line does it once the sandbox is up.
   */
  warmUp(): Promise<void>;
  close(): Promise<void>;
};

export async function createServices(
  config: SandboxConfig,
  options: SandboxOptions = {},
  store: Store = createStore(),
  log: Logger = createLogger(options.logLevel ?? 'warn'),
): Promise<Services> {
  const clock = createClock();
  const scheduler = createScheduler(clock, (error) => log.error(`scheduled job failed: ${(error as Error)?.name ?? 'Error'}`));
  clock.onAdvance(() => scheduler.poke());
  const services: Services = {
    scheduler,
    // Replaced just below: the dispatcher needs the services it is part of.
    webhooks: { announce: () => [], flush: () => {} },
    store,
    clock,
    config,
    limits: {
      client: createRateLimiter(clock, options.rateLimits?.client ?? { capacity: 600, refillPerSecond: 300 }),
      apiKey: createRateLimiter(clock, options.rateLimits?.apiKey ?? { capacity: 200, refillPerSecond: 100 }),
      login: createRateLimiter(clock, { capacity: config.loginFailures.limit, refillPerSecond: config.loginFailures.limit / (config.loginFailures.windowMs / 1000) }),
    },
    passwords: createPasswordHashing(options.passwordHashing),
    inspector: createInspector({
      ...(options.inspectHistory === undefined ? {} : { capacity: options.inspectHistory }),
      baseUrl: (environment) => (environment === 'live' ? config.productionUrl : config.sandboxUrl),
      onError: (message) => log.error(message),
    }),
    chaos: createChaos({ ...(options.seed === undefined ? {} : { sandboxSeed: options.seed }), ...(options.chaos ? { settings: chaosSettings(options.chaos) } : {}) }),
  };
  services.webhooks = createWebhookDispatcher(services, (message) => log.error(message), { deliveryChaos: services.chaos!.delivery });
  return services;
}

export async function startSandbox(options: SandboxOptions = {}): Promise<RunningSandbox> {
  const host = options.host ?? '127.0.0.1';
  const config: SandboxConfig = {
    productionUrl: '',
    sandboxUrl: '',
    autoApprove: options.autoApprove ?? true,
    provisioningMs: options.provisioningMs ?? 5_000,
    loginFailures: { limit: 5, windowMs: 15 * 60_000 },
    control: options.control ?? true,
    host,
    allowedHosts: allowedHosts(options.allowedHosts),
    ...(options.controlToken === undefined ? {} : { controlToken: controlToken(options.controlToken) }),
    ...(options.seed === undefined ? {} : { seed: options.seed }),
    confirmationMs: options.confirmationMs ?? 2_000,
    freePlanDeltas: options.freePlanDeltas ?? 100,
    webhooks: {
      timeoutMs: options.webhooks?.timeoutMs ?? 5_000,
      // Fast in the sandbox; the contract documents production's 1 min … 6 h schedule.
      retryDelaysMs: options.webhooks?.retryDelaysMs ?? [1_000, 2_000, 4_000, 8_000, 16_000],
    },
  };
  // Bad limits are a RangeError before anything is opened.
  const connections = listenerLimits(options.connections);
  checkPasswordHashingOptions(options.passwordHashing);
  checkInspectHistory(options.inspectHistory);
  if (options.chaos) chaosSettings(options.chaos);
  const log = createLogger(options.logLevel ?? 'warn');
  const store = await openStore(options, log);
  const services = await createServices(config, options, store, log);
  // The clock never runs backwards across a restart: resume from the latest journaled instant.
  const lastAt = store.state.lastEventAt;
  if (lastAt > services.clock.now()) services.clock.advance(lastAt - services.clock.now());
  // Work still due in the replayed state is re-armed: confirmations, deliveries, activations.
  resumeLedger(services);
  resumeActivations(services);
  resumeWebhooks(services);
  // The demo password's scrypt runs on the thread pool while the app is built (it is a tenth of
  // a start); the account itself is committed only once both listeners are up.
  const demoPasswordHash = options.seed === undefined ? undefined : hashPassword(demoIdentity(options.seed).password);
  demoPasswordHash?.catch(() => {}); // unused when the journal already has the account
  const app = await createApp(services, { api: apiHandlers, control: controlHandlers }, { ...(services.inspector ? { observe: services.inspector.observe } : {}), chaos: services.chaos!.policy, log });
  // The listeners log only a request line at debug: below it, they get no log and build no line.
  const requestLog = options.logLevel === 'debug' ? log : undefined;
  const production = createListener('live', app.handle, requestLog, MAX_BODY_BYTES, connections);
  const sandbox = createListener('test', app.handle, requestLog, MAX_BODY_BYTES, connections);
  const closeServer = (server: Server) =>
    new Promise<void>((resolve) => {
      // Resolves for a server that never started listening too (its callback gets an error).
      server.close(() => resolve());
      server.closeAllConnections();
    });
  const close = async () => {
    services.webhooks.stop?.();
    services.scheduler.stop();
    await Promise.all([closeServer(production), closeServer(sandbox)]);
    await services.store.close();
  };
  try {
    const productionPort = await listen(production, host, options.port ?? 4010, 'production');
    const sandboxPort = await listen(sandbox, host, options.sandboxPort ?? 4011, 'sandbox');
    // An IPv6 address is bracketed in a URL (RFC 3986 §3.2.2): http://[::1]:4010, not http://::1:4010.
    const urlHost = isIP(host) === 6 ? `[${host}]` : host;
    config.productionUrl = `http://${urlHost}:${productionPort}`;
    config.sandboxUrl = `http://${urlHost}:${sandboxPort}`;
    // Deliveries wait for the listeners' ports (mock/webhooks/self-target.ts): start what is due.
    services.webhooks.flush();
  } catch (error) {
    // One listener may be up (the other's port was taken): release it, the timers and the journal.
    await close();
    throw error;
  }
  const { demo, restoredDemo } = options.seed === undefined ? {} : await demoAccount(services, options.seed, demoPasswordHash);
  return {
    productionUrl: config.productionUrl,
    sandboxUrl: config.sandboxUrl,
    services,
    demo,
    restoredDemo,
    handle: app.handle,
    warmUp: app.warmUp,
    close,
  };
}

/** The `allowedHosts` option, normalized; a value that is not a host (with an optional port) is a RangeError. */
function allowedHosts(values: string[] = []): string[] {
  return values.map((value) => {
    const host = normalizeAllowedHost(value);
    if (host === undefined) throw new RangeError(`allowedHosts: "${value}" is not a host name or address (with an optional :port)`);
    return host;
  });
}

/** The `controlToken` option; its value is never part of an error message. */
function controlToken(token: string): string {
  if (!isControlToken(token)) throw new RangeError('controlToken must be 1 to 256 visible ASCII characters (no spaces)');
  return token;
}

async function openStore(options: SandboxOptions, log: Logger): Promise<Store> {
  if (!options.dataDir) return createStore();
  const { replayed, journal } = await openJournal(options.dataDir, {
    warn: log.warn,
    ...(options.repair ? { repair: true } : {}),
    ...(options.dataKeyFile === undefined ? {} : { dataKeyFile: options.dataKeyFile }),
  });
  return createStore(journal, replayed);
}

/** Seeds the demo account, unless a replayed journal already has it (its key was shown then). */
async function demoAccount(services: Services, seed: number, passwordHash?: Promise<string>): Promise<{ demo?: DemoAccount; restoredDemo?: DemoIdentity }> {
  const who = demoIdentity(seed);
  if (services.store.state.usersByEmail.has(who.email)) return { restoredDemo: who };
  return { demo: await seedDemoAccount(services, seed, passwordHash) };
}

/** `chaos` as startSandbox takes it: checked against the control contract, else a RangeError. */
function chaosSettings(settings: ChaosSettings): ChaosSettings {
  const checked = checkChaosSettings(settings);
  if (!checked.ok) throw new RangeError(`chaos: ${checked.problem}`);
  return checked.settings;
}
