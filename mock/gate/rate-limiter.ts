// Token buckets keyed by caller (API key, client address, login email). Buckets refill
// continuously on the sandbox clock; settings can be changed live from the control surface.
import type { Clock } from '../state/clock.ts';

export type RateLimitSettings = { capacity: number; refillPerSecond: number };

export type RateDecision = { allowed: boolean; limit: number; remaining: number; resetSeconds: number; retryAfterSeconds: number };

export function createRateLimiter(clock: Clock, initial: RateLimitSettings) {
  let settings = { ...initial };
  const buckets = new Map<string, { tokens: number; at: number }>();

  function level(key: string) {
    const now = clock.now();
    const b = buckets.get(key) ?? { tokens: settings.capacity, at: now };
    b.tokens = Math.min(settings.capacity, b.tokens + ((now - b.at) / 1000) * settings.refillPerSecond);
    b.at = now;
    buckets.set(key, b);
    return b;
  }

  function decision(b: { tokens: number }, allowed: boolean): RateDecision {
    const missing = Math.max(0, 1 - b.tokens);
    const perToken = settings.refillPerSecond > 0 ? 1 / settings.refillPerSecond : Number.POSITIVE_INFINITY;
    return {
      allowed,
      limit: settings.capacity,
      remaining: Math.max(0, Math.floor(b.tokens)),
      resetSeconds: Math.ceil(((settings.capacity - b.tokens) * perToken) || 0),
      retryAfterSeconds: allowed ? 0 : Math.max(1, Math.ceil(missing * perToken)),
    };
  }

  return {
    /** Spends one token if there is one. */
    take(key: string): RateDecision {
      const b = level(key);
      if (b.tokens >= 1) {
        b.tokens -= 1;
        return decision(b, true);
      }
      return decision(b, false);
    },
    /** Whether a token is available, without spending it. */
    peek(key: string): RateDecision {
      const b = level(key);
      return decision(b, b.tokens >= 1);
    },
    /** Refills one caller's bucket (a successful login clears its email's failures). */
    forget(key: string) {
      buckets.delete(key);
    },
    settings: () => ({ ...settings }),
    configure(next: Partial<RateLimitSettings>) {
      settings = { ...settings, ...next };
      buckets.clear();
    },
    reset: () => buckets.clear(),
  };
}

export type RateLimiter = ReturnType<typeof createRateLimiter>;
