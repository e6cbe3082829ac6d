// The token buckets (rate-limiter.ts), alone, on a clock the test moves: capacity, continuous
// refill, the numbers a 429 and the RateLimit headers are made of, peek, forget, configure.
import { describe, expect, it } from 'vitest';
import { createClock } from '../state/clock.ts';
import { createRateLimiter } from './rate-limiter.ts';

/** A clock that only moves when told (createClock follows Date.now()). */
function stillClock() {
  const clock = createClock();
  const start = clock.now();
  let offset = 0;
  return { ...clock, now: () => start + offset, advance: (ms: number) => void (offset += ms) };
}

describe('createRateLimiter', () => {
  it('allows capacity requests at once, then refuses with how long to wait', () => {
    const clock = stillClock();
    const limiter = createRateLimiter(clock, { capacity: 3, refillPerSecond: 1 });
    expect([1, 2, 3].map(() => limiter.take('k'))).toEqual([
      { allowed: true, limit: 3, remaining: 2, resetSeconds: 1, retryAfterSeconds: 0 },
      { allowed: true, limit: 3, remaining: 1, resetSeconds: 2, retryAfterSeconds: 0 },
      { allowed: true, limit: 3, remaining: 0, resetSeconds: 3, retryAfterSeconds: 0 },
    ]);
    expect(limiter.take('k')).toEqual({ allowed: false, limit: 3, remaining: 0, resetSeconds: 3, retryAfterSeconds: 1 });
  });

  it('refills continuously, never past capacity', () => {
    const clock = stillClock();
    const limiter = createRateLimiter(clock, { capacity: 2, refillPerSecond: 4 });
    limiter.take('k');
    limiter.take('k');
    clock.advance(125); // half a token
    expect(limiter.take('k')).toMatchObject({ allowed: false, retryAfterSeconds: 1 });
    clock.advance(125); // one token
    expect(limiter.take('k')).toMatchObject({ allowed: true, remaining: 0 });
    clock.advance(60_000);
    expect(limiter.peek('k')).toMatchObject({ allowed: true, remaining: 2, resetSeconds: 0 });
  });

  it('rounds Retry-After up to whole seconds, at least 1', () => {
    const clock = stillClock();
    const slow = createRateLimiter(clock, { capacity: 1, refillPerSecond: 0.1 }); // a token every 10 s
    slow.take('k');
    expect(slow.take('k').retryAfterSeconds).toBe(10);
    clock.advance(9_001);
    expect(slow.take('k').retryAfterSeconds).toBe(1);
    const fast = createRateLimiter(clock, { capacity: 1, refillPerSecond: 1000 });
    fast.take('k');
    expect(fast.take('k').retryAfterSeconds).toBe(1);
  });

  it('never refills with refillPerSecond 0 (and says so without dividing by zero)', () => {
    const clock = stillClock();
    const limiter = createRateLimiter(clock, { capacity: 1, refillPerSecond: 0 });
    expect(limiter.take('k').allowed).toBe(true);
    clock.advance(3_600_000);
    const refused = limiter.take('k');
    expect(refused.allowed).toBe(false);
    expect(refused.retryAfterSeconds).toBe(Number.POSITIVE_INFINITY);
  });

  it('keeps one bucket per key', () => {
    const limiter = createRateLimiter(stillClock(), { capacity: 1, refillPerSecond: 1 });
    expect(limiter.take('a').allowed).toBe(true);
    expect(limiter.take('a').allowed).toBe(false);
    expect(limiter.take('b').allowed).toBe(true);
  });

  it('peek spends nothing', () => {
    const limiter = createRateLimiter(stillClock(), { capacity: 1, refillPerSecond: 1 });
    for (let i = 0; i < 5; i++) expect(limiter.peek('k')).toMatchObject({ allowed: true, remaining: 1 });
    expect(limiter.take('k').allowed).toBe(true);
    expect(limiter.peek('k')).toMatchObject({ allowed: false, remaining: 0 });
  });

  it('forget refills one key only; reset refills every key', () => {
    const limiter = createRateLimiter(stillClock(), { capacity: 1, refillPerSecond: 1 });
    limiter.take('a');
    limiter.take('b');
    limiter.forget('a');
    expect(limiter.take('a').allowed).toBe(true);
    expect(limiter.take('b').allowed).toBe(false);
    limiter.reset();
    expect(limiter.take('a').allowed).toBe(true);
    expect(limiter.take('b').allowed).toBe(true);
  });

  it('configure changes the settings live, partly, and starts every bucket full', () => {
    const limiter = createRateLimiter(stillClock(), { capacity: 1, refillPerSecond: 1 });
    limiter.take('k');
    limiter.configure({ capacity: 5 });
    expect(limiter.settings()).toEqual({ capacity: 5, refillPerSecond: 1 });
    expect(limiter.take('k')).toMatchObject({ allowed: true, limit: 5, remaining: 4 });
    const copy = limiter.settings();
    copy.capacity = 99;
    expect(limiter.settings().capacity).toBe(5);
  });

  it('does not share the settings object it was given', () => {
    const initial = { capacity: 2, refillPerSecond: 1 };
    const limiter = createRateLimiter(stillClock(), initial);
    initial.capacity = 100;
    expect(limiter.settings().capacity).toBe(2);
  });
});
