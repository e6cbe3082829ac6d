// `@pacspace-io/sandbox`, the programmatic entry: start a PacSpace sandbox inside your own test
// suite, drive its clock, read the e-mails and webhook deliveries it "sent", reset it, stop it.
// A thin facade over mock/sandbox.ts: reset, outbox and clock are the control surface's own
// functions (mock/control/handlers.ts); outbox, clock and deliveries have the types the control
// contract (openapi/sandbox-control.yaml) and the Dashboard API document for them.
import type { WebhookDelivery } from '../generated/openapi.d.ts';
import type { ChaosSettings, ClockState, OutboxMessage } from '../generated/sandbox-control.d.ts';
import { isControlToken } from './control/guard.ts';
import { advanceClock, outboxMessages, resetState } from './control/handlers.ts';
import type { DemoAccount } from './demo/seed-demo.ts';
import { deliveryView } from './domain/webhooks.ts';
import { normalizeAllowedHost } from './http/host-check.ts';
import { isPort, ListenError, type ListenerLimits, type ListenerName } from './http/listener.ts';
import { LOG_LEVELS, type LogLevel } from './logger.ts';
import { startSandbox as startListeners } from './sandbox.ts';
import type { PasswordHashingOptions } from './security/password-hashing.ts';

export { ListenError };
export type { ChaosSettings, ClockState, DemoAccount, ListenerLimits, ListenerName, LogLevel, OutboxMessage, PasswordHashingOptions, WebhookDelivery };

export type SandboxOptions = {
  /** Address both listeners bind to. Default `127.0.0.1`. */
  host?: string;
  /** Port of the production listener (Dashboard API, `pk_live_` keys, `/__sandbox`). Default 0: a free port. */
  port?: number;
  /** Port of the sandbox listener (`pk_test_` keys). Default 0: a free port. */
  sandboxPort?: number;
  /**
   * Seed of the deterministic demo account: the same seed gives the same person, email,
   * password and tenant every time (its API key is new each start and reset). Default 1;
   * `null` for no demo account.
   */
  seed?: number | null;
  /** How long after it is recorded a delta is `confirmed` (and `delta.confirmed` sent), on the sandbox clock. Default 2000. */
  confirmationMs?: number;
  /** How long provisioning an environment takes, on the sandbox clock. Default 5000. */
  provisioningMs?: number;
  /** Verified deltas a month the Free plan allows in the Sandbox environment; past it `402 plan_limit_exceeded`. Default 100. */
  freePlanDeltas?: number;
  /**
   * What one client may hold of each listener: `headersTimeoutMs` (10,000) and `requestTimeoutMs`
   * (30,000) to receive a request's headers and all of it (past them: `408` and disconnected),
   * `keepAliveTimeoutMs` (5,000) for an idle connection, and `maxConnectionsPerClient` (256) open
   * connections per client address (one more is reset unanswered).
   */
  connections?: ListenerLimits;
  /**
   * Password hashes (scrypt, on libuv's thread pool) computed at once, `concurrency` (1 on 2
   * cores, else 2), and waiting, `queueLimit` (64); past both, login, register and password reset
   * answer `429 password_hashing_busy`.
   */
  passwordHashing?: PasswordHashingOptions;
  /** Keep an append-only journal in this folder and replay it on start. Default: memory only. */
  dataDir?: string;
  /**
   * With `dataDir`: start from a damaged journal by keeping every record that verifies (and
   * follows from the ones before it) and moving the others to `journal.ndjson.repair-<time>`,
   * as `--repair` does. Without it, damage other than a torn final record rejects the start.
   * Default false; a `RangeError` without `dataDir`.
   */
  repair?: boolean;
  /**
   * With `dataDir`: the file holding the data key that seals the journal's secrets (webhook
   * signing secrets, the outbox's e-mails), as `--data-key-file`. Default `<dataDir>/data.key`,
   * made on the first start; a missing or wrong key for a sealed journal rejects the start.
   * A `RangeError` without `dataDir`.
   */
  dataKeyFile?: string;
  /** What the sandbox writes to stderr. Default `'silent'`. */
  logLevel?: LogLevel;
  /** Serve the `/__sandbox` control surface over HTTP (and honour `Prefer`). Default true. The methods of `Sandbox` work either way. */
  control?: boolean;
  /**
   * Require this token in the `X-Sandbox-Control-Token` header of every `/__sandbox` request
   * over HTTP (`401` otherwise), as `--control-token` does. 1 to 256 visible ASCII characters.
   * The methods of `Sandbox` do not need it. Default: none needed.
   */
  controlToken?: string;
  /**
   * More `Host` values the sandbox answers, as `--allowed-host` does: `HOST` (with the port of
   * the listener a request came in on) or `HOST:PORT` (exactly). It always answers `localhost`,
   * `127.0.0.1`, `[::1]` and `host` on its own ports; any other `Host` gets `421`.
   */
  allowedHosts?: string[];
  /**
   * Chaos from the start, as `--chaos FILE` and `PUT /__sandbox/chaos` take it: latency, error
   * statuses, hangs and resets per operation, failed, duplicated, out-of-order and delayed
   * webhooks; seeded with `seed` unless it has its own. Bad settings are a `RangeError`.
   */
  chaos?: ChaosSettings;
  /**
   * How many answered requests the request inspector keeps, secrets redacted, as
   * `--inspect-history` (`GET /__sandbox/requests`, the page `/__sandbox/inspector/`). Default 500;
   * `0` keeps none; at most 10000 (a `RangeError` otherwise).
   */
  inspectHistory?: number;
};

export type SandboxUrls = {
  /** The Dashboard API (`/dashboard/…`): the production listener. */
  dashboard: string;
  /** The Balance API for `pk_live_` keys (the SDK's `productionUrl`): the production listener. */
  production: string;
  /** The Balance API for `pk_test_` keys (the SDK's `sandboxUrl`): the sandbox listener. */
  sandbox: string;
  /** The control surface, e.g. `${urls.control}/clock`; `null` when started with `control: false`. */
  control: string | null;
};

/** The sandbox clock: real time plus every advance. Expiries, confirmations, provisioning and webhook retries follow it. */
export type SandboxClock = {
  /** The sandbox's current time. */
  now(): Date;
  /**
   * Moves the clock forward by `ms` (more than 0, at most ten years; it never goes back), as
   * `POST /__sandbox/clock/advance` does: whatever became due runs at once (deltas become
   * `confirmed`, environments active, webhook retries are sent).
   */
  advance(ms: number): Promise<ClockState>;
};

export type Sandbox = {
  /** Where it listens. */
  readonly urls: SandboxUrls;
  /**
   * The demo account of the `seed`: email, password, ids and `apiKey`, a fresh `pk_test_` full
   * key with every permission (for the sandbox listener). Replaced by `reset()`. Throws when
   * there is none: started with `seed: null`, or restored from `dataDir` (its key was shown
   * when it was created; `reset()` makes a new one).
   */
  readonly demo: DemoAccount;
  /**
   * Wipes all state (and the journal), as `POST /__sandbox/reset` does, and re-creates the demo
   * account (same person, new key): returns it, as `demo` now has it (`null` with `seed: null`).
   * The clock keeps its time.
   */
  reset(): Promise<DemoAccount | null>;
  readonly clock: SandboxClock;
  /** The e-mails the sandbox "sent" (access approvals, verifications, password resets), oldest first, with their links and tokens; `to` is compared case-insensitively. */
  outbox(filter?: { to?: string }): Promise<OutboxMessage[]>;
  /** Webhook deliveries with every attempt, newest first, as the Dashboard API lists them: all of them, or one endpoint's (none for an unknown id). */
  webhookDeliveries(filter?: { endpointId?: string }): Promise<WebhookDelivery[]>;
  /** Stops listening (open connections are closed) and stops the timers; safe to call twice. */
  close(): Promise<void>;
};

/** The control contract's limit of one advance (`ClockAdvanceRequest.seconds`: 315360000). */
const TEN_YEARS_MS = 315_360_000 * 1000;

/**
 * Starts a sandbox: by default on two free ports of 127.0.0.1, silent, with the demo account of
 * seed 1. Rejects with a `ListenError` when a port cannot be bound, and a `RangeError` for an
 * invalid option.
 *
 * ```ts
 * const sandbox = await startSandbox();
 * const pac = new PacSpace({ apiKey: sandbox.demo.apiKey, sandboxUrl: sandbox.urls.sandbox });
 * await sandbox.close();
 * ```
 */
export async function startSandbox(options: SandboxOptions = {}): Promise<Sandbox> {
  const { host = '127.0.0.1', port = 0, sandboxPort = 0, seed = 1, logLevel = 'silent' } = options;
  checkOptions({ ...options, port, sandboxPort, seed });
  // Only the public options are passed on, whatever else a JavaScript caller's object holds.
  const running = await startListeners({
    host,
    port,
    sandboxPort,
    ...(seed === null ? {} : { seed }),
    logLevel,
    ...(options.confirmationMs === undefined ? {} : { confirmationMs: options.confirmationMs }),
    ...(options.provisioningMs === undefined ? {} : { provisioningMs: options.provisioningMs }),
    ...(options.freePlanDeltas === undefined ? {} : { freePlanDeltas: options.freePlanDeltas }),
    ...(options.connections === undefined ? {} : { connections: { ...options.connections } }),
    ...(options.passwordHashing === undefined ? {} : { passwordHashing: { ...options.passwordHashing } }),
    ...(options.dataDir === undefined ? {} : { dataDir: options.dataDir }),
    ...(options.repair ? { repair: true } : {}),
    ...(options.dataKeyFile === undefined ? {} : { dataKeyFile: options.dataKeyFile }),
    ...(options.control === undefined ? {} : { control: options.control }),
    ...(options.controlToken === undefined ? {} : { controlToken: options.controlToken }),
    ...(options.allowedHosts === undefined ? {} : { allowedHosts: [...options.allowedHosts] }),
    ...(options.chaos === undefined ? {} : { chaos: options.chaos }),
    ...(options.inspectHistory === undefined ? {} : { inspectHistory: options.inspectHistory }),
  });
  const { services } = running;
  const noDemo =
    seed === null
      ? 'This sandbox has no demo account: it was started with seed: null.'
      : `The demo account was restored from ${options.dataDir}; its API key was shown when it was created. reset() re-creates it with a new key.`;
  let demo: DemoAccount | null = running.demo ?? null;
  let closing: Promise<void> | undefined;

  return {
    urls: {
      dashboard: running.productionUrl,
      production: running.productionUrl,
      sandbox: running.sandboxUrl,
      control: services.config.control ? `${running.productionUrl}/__sandbox` : null,
    },
    get demo() {
      if (!demo) throw new Error(noDemo);
      return demo;
    },
    async reset() {
      demo = (await resetState(services)) ?? null;
      return demo;
    },
    clock: {
      now: () => new Date(services.clock.now()),
      async advance(ms) {
        if (!(typeof ms === 'number' && ms > 0 && ms <= TEN_YEARS_MS)) throw new RangeError(`clock.advance(ms): ms must be more than 0 and at most ten years, got ${ms}`);
        return advanceClock(services, ms);
      },
    },
    async outbox({ to } = {}) {
      return outboxMessages(services, to);
    },
    async webhookDeliveries({ endpointId } = {}) {
      const w = services.store.state.webhooks;
      // Both keep creation order; the Dashboard API lists newest first.
      const ids = endpointId === undefined ? [...w.deliveries.keys()] : [...(w.endpoints.get(endpointId)?.deliveries ?? [])];
      return ids.reverse().map((id) => deliveryView(w.deliveries.get(id)!));
    },
    close() {
      closing ??= running.close();
      return closing;
    },
  };
}

function checkOptions(options: SandboxOptions & { port: number; sandboxPort: number; seed: number | null }) {
  const { port, sandboxPort, seed } = options;
  for (const [name, value] of [['port', port], ['sandboxPort', sandboxPort]] as const) {
    if (!isPort(value)) throw new RangeError(`${name} must be an integer from 0 to 65535, got ${value}`);
  }
  if (port !== 0 && port === sandboxPort) throw new RangeError(`port and sandboxPort must differ (both are ${port})`);
  if (seed !== null && !(Number.isInteger(seed) && seed >= 0)) throw new RangeError(`seed must be a whole number or null, got ${seed}`);
  if (options.logLevel !== undefined && !LOG_LEVELS.includes(options.logLevel)) throw new RangeError(`logLevel must be one of ${LOG_LEVELS.join(', ')}, got ${options.logLevel}`);
  for (const name of ['confirmationMs', 'provisioningMs', 'freePlanDeltas'] as const) {
    const value = options[name];
    if (value !== undefined && !(Number.isInteger(value) && value >= 0)) throw new RangeError(`${name} must be a whole number, got ${value}`);
  }
  if (options.repair !== undefined && typeof options.repair !== 'boolean') throw new RangeError(`repair must be a boolean, got ${options.repair}`);
  if (options.dataKeyFile !== undefined && !(typeof options.dataKeyFile === 'string' && options.dataKeyFile !== '')) {
    throw new RangeError(`dataKeyFile must be a file name, got ${JSON.stringify(options.dataKeyFile)}`);
  }
  // Both concern the journal: without one they would silently do nothing.
  if (!options.dataDir && (options.repair || options.dataKeyFile !== undefined)) throw new RangeError(`${options.repair ? 'repair' : 'dataKeyFile'} needs dataDir`);
  // (The token's value is never part of a message.)
  if (options.controlToken !== undefined && !(typeof options.controlToken === 'string' && isControlToken(options.controlToken))) {
    throw new RangeError('controlToken must be 1 to 256 visible ASCII characters (no spaces)');
  }
  if (options.controlToken !== undefined && options.control === false) throw new RangeError('controlToken needs the control surface (control: false)');
  if (options.allowedHosts !== undefined) {
    if (!Array.isArray(options.allowedHosts)) throw new RangeError('allowedHosts must be an array of host names or addresses');
    for (const value of options.allowedHosts) {
      if (!(typeof value === 'string' && normalizeAllowedHost(value) !== undefined)) throw new RangeError(`allowedHosts: ${JSON.stringify(value)} is not a host name or address (with an optional :port)`);
    }
  }
}
