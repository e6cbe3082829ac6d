// Everything a request may touch, built once per sandbox and passed down explicitly.
import type { Chaos } from './chaos/policy.ts';
import type { RateLimiter } from './gate/rate-limiter.ts';
import type { Inspector } from './inspector/history.ts';
import type { PasswordHashing } from './security/password-hashing.ts';
import type { Scheduler } from './scheduler.ts';
import type { Clock } from './state/clock.ts';
import type { KeyEnvironment, SandboxEvent } from './state/events.ts';
import type { Store } from './state/store.ts';

export type SandboxConfig = {
  /** Base URLs the sandbox announces (dashboard + live Balance API, test Balance API). */
  productionUrl: string;
  sandboxUrl: string;
  /** Access requests are approved at once (the sandbox has no reviewers). */
  autoApprove: boolean;
  /** How long provisioning an environment takes on the sandbox clock. */
  provisioningMs: number;
  /** Failed logins per email before 429, and the window they are counted in. */
  loginFailures: { limit: number; windowMs: number };
  /** Whether the /__sandbox/ control surface is served. */
  control: boolean;
  /** The address both listeners bind to (`--host`): served as a `Host` too (mock/http/host-check.ts). */
  host?: string;
  /** More `Host` values served (`--allowed-host`): `HOST` with the listener's port, or `HOST:PORT` exactly. */
  allowedHosts?: string[];
  /** When set, every control request must send it in `X-Sandbox-Control-Token` (`--control-token`). Never logged. */
  controlToken?: string;
  /** The `--seed` of the demo account, re-created by `POST /__sandbox/reset`; absent for none. */
  seed?: number;
  /** How long after recording a delta becomes `confirmed` (verified) on the sandbox clock. */
  confirmationMs: number;
  /** Verified deltas a month the Free plan allows in the Sandbox (testnet). */
  freePlanDeltas: number;
  /** Webhook delivery: per-attempt timeout and the waits between attempts (its length + 1 = max attempts). */
  webhooks: { timeoutMs: number; retryDelaysMs: number[] };
};

export type Services = {
  store: Store;
  clock: Clock;
  config: SandboxConfig;
  limits: { client: RateLimiter; apiKey: RateLimiter; login: RateLimiter };
  /** scrypt off the event loop, a few at a time (login, register, password reset). */
  passwords: PasswordHashing;
  /** Work due at instants of the sandbox clock (confirmations, activations, webhook retries). */
  scheduler: Scheduler;
  webhooks: WebhookOutbound;
  /** The request inspector's history (mock/inspector/); absent where no app records exchanges. */
  inspector?: Inspector;
  /** The chaos settings in force and their decisions (mock/chaos/); `/__sandbox/chaos` changes them. */
  chaos?: Chaos;
};

/** Something that happened which webhook endpoints may subscribe to (the contract's `webhooks`). */
export type Announcement = {
  type: string;
  tenantId: string;
  environment: KeyEnvironment;
  data: unknown;
  /** When it happened (the envelope's `createdAt`); default now. */
  at?: number;
  /** The request that caused it (its `X-Request-Id`), when a request did: kept with the deliveries for the request inspector. */
  requestId?: string;
};

export type WebhookOutbound = {
  /**
   * The journal events that announce `a` to every subscribed endpoint (none when nobody
   * listens). Commit them together with the events that caused them, then call `flush`.
   */
  announce(a: Announcement): SandboxEvent[];
  /** Starts delivering whatever is due; never awaited by a request. */
  flush(): void;
  /** Stops delivering (sandbox shutdown): attempts in flight are aborted and not recorded. */
  stop?(): void;
};
