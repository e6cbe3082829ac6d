// Everything a request may touch, built once per sandbox and passed down explicitly.
import type { Faults } from './control/faults.ts';
import type { RateLimiter } from './gate/rate-limiter.ts';
import type { Clock } from './state/clock.ts';
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
  /** The `--seed` of the demo account, re-created by `POST /__sandbox/reset`; absent for none. */
  seed?: number;
};

export type Services = {
  store: Store;
  clock: Clock;
  faults: Faults;
  config: SandboxConfig;
  limits: { client: RateLimiter; apiKey: RateLimiter; login: RateLimiter };
  /** Secrets revealed while the `secret-in-list` fault is on, so the fault can leak them. */
  leakedSecrets: Map<string, string>;
};
