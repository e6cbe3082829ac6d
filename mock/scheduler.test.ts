// The scheduler (scheduler.ts), alone, on the sandbox clock with Vitest's fake timers: order
// (instant, then scheduling order), due jobs on poke and on the timer, re-arming for an earlier
// job, far instants, failures (reported; a storage failure retried after its delay unless cleared), clear and
// stop.
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { createScheduler } from './scheduler.ts';
import { createClock } from './state/clock.ts';
import { StorageUnavailableError } from './state/storage.ts';

beforeEach(() => {
  vi.useFakeTimers({ now: 1_000_000 });
});
afterEach(() => {
  vi.useRealTimers();
});

function setup() {
  const clock = createClock();
  const errors: unknown[] = [];
  const scheduler = createScheduler(clock, (error) => errors.push(error));
  clock.onAdvance(() => scheduler.poke());
  const ran: string[] = [];
  const job = (name: string) => () => void ran.push(name);
  return { clock, scheduler, errors, ran, job };
}

describe('createScheduler', () => {
  it('runs due jobs by instant, then in the order they were scheduled', async () => {
    const { clock, scheduler, ran, job } = setup();
    const t = clock.now();
    scheduler.at(t + 300, job('c'));
    scheduler.at(t + 100, job('a1'));
    scheduler.at(t + 200, job('b'));
    scheduler.at(t + 100, job('a2'));
    scheduler.at(t + 400, job('later'));
    expect(scheduler.pending()).toBe(5);
    clock.advance(300);
    expect(ran).toEqual(['a1', 'a2', 'b', 'c']);
    expect(scheduler.pending()).toBe(1);
  });

  it('keeps many jobs in order (the heap)', () => {
    const { clock, scheduler, ran } = setup();
    const t = clock.now();
    // A fixed pseudo-random sequence of instants, with repeats.
    const instants = Array.from({ length: 500 }, (_, i) => (i * 7919) % 97);
    instants.forEach((d, i) => scheduler.at(t + 1 + d, () => void ran.push(`${d}:${String(i).padStart(3, '0')}`)));
    clock.advance(1_000);
    const expected = instants.map((d, i) => ({ d, i })).sort((a, b) => a.d - b.d || a.i - b.i).map(({ d, i }) => `${d}:${String(i).padStart(3, '0')}`);
    expect(ran).toEqual(expected);
    expect(scheduler.pending()).toBe(0);
  });

  it('runs a job that is already due soon after, never inside the call that scheduled it', async () => {
    const { clock, scheduler, ran, job } = setup();
    scheduler.at(clock.now(), job('now'));
    scheduler.at(clock.now() - 5_000, job('past'));
    expect(ran).toEqual([]);
    await Promise.resolve();
    expect(ran).toEqual(['past', 'now']);
  });

  it('runs a job on its timer when the instant comes in real time', () => {
    const { clock, scheduler, ran, job } = setup();
    scheduler.at(clock.now() + 1_000, job('a'));
    vi.advanceTimersByTime(999);
    expect(ran).toEqual([]);
    vi.advanceTimersByTime(1);
    expect(ran).toEqual(['a']);
  });

  it('re-arms for a job earlier than the armed one; later ones wait their turn', () => {
    const { clock, scheduler, ran, job } = setup();
    scheduler.at(clock.now() + 5_000, job('late'));
    scheduler.at(clock.now() + 1_000, job('early'));
    scheduler.at(clock.now() + 3_000, job('middle'));
    vi.advanceTimersByTime(1_000);
    expect(ran).toEqual(['early']);
    vi.advanceTimersByTime(2_000);
    expect(ran).toEqual(['early', 'middle']);
    vi.advanceTimersByTime(2_000);
    expect(ran).toEqual(['early', 'middle', 'late']);
  });

  it('runs nothing before its instant when poked', () => {
    const { clock, scheduler, ran, job } = setup();
    scheduler.at(clock.now() + 1_000, job('a'));
    scheduler.poke();
    clock.advance(999);
    expect(ran).toEqual([]);
    clock.advance(1);
    expect(ran).toEqual(['a']);
  });

  it('waits for far instants without overflowing the timer (setTimeout caps at 2^31-1 ms)', () => {
    const { clock, scheduler, ran, job } = setup();
    scheduler.at(clock.now() + 2 ** 32, job('far'));
    vi.advanceTimersByTime(1_000);
    expect(ran).toEqual([]);
    clock.advance(2 ** 32);
    expect(ran).toEqual(['far']);
  });

  it('reports a failing job, thrown or rejected, and goes on with the others', async () => {
    const { clock, scheduler, errors, ran, job } = setup();
    const thrown = new Error('thrown');
    const rejected = new Error('rejected');
    scheduler.at(clock.now() + 1, () => {
      throw thrown;
    });
    scheduler.at(clock.now() + 1, () => Promise.reject(rejected));
    scheduler.at(clock.now() + 1, job('after'));
    clock.advance(1);
    await Promise.resolve();
    await Promise.resolve();
    expect(ran).toEqual(['after']);
    expect(errors).toEqual([thrown, rejected]);
  });

  it('runs a job whose write failed (storage unavailable) again after the Retry-After delay, not reporting it', async () => {
    const { clock, scheduler, errors } = setup();
    let attempts = 0;
    scheduler.at(clock.now() + 1, async () => {
      attempts++;
      if (attempts < 3) throw new StorageUnavailableError('ENOSPC (injected)', 500);
    });
    clock.advance(1);
    await vi.advanceTimersByTimeAsync(0);
    expect(attempts).toBe(1);
    await vi.advanceTimersByTimeAsync(499);
    expect(attempts).toBe(1);
    await vi.advanceTimersByTimeAsync(1);
    expect(attempts).toBe(2);
    await vi.advanceTimersByTimeAsync(500);
    expect(attempts).toBe(3);
    await vi.advanceTimersByTimeAsync(5_000);
    expect(attempts).toBe(3);
    expect(errors).toEqual([]);
  });

  it('clear drops every job, a storage retry waiting among them', async () => {
    const { clock, scheduler, ran, job } = setup();
    let attempts = 0;
    scheduler.at(clock.now() + 1, () => {
      attempts++;
      throw new StorageUnavailableError('EIO (injected)', 100);
    });
    scheduler.at(clock.now() + 1_000, job('dropped'));
    clock.advance(1);
    expect(attempts).toBe(1);
    scheduler.clear();
    expect(scheduler.pending()).toBe(0);
    await vi.advanceTimersByTimeAsync(5_000);
    clock.advance(5_000);
    expect(attempts).toBe(1);
    expect(ran).toEqual([]);
    // Still in service after clear.
    scheduler.at(clock.now() + 10, job('new'));
    clock.advance(10);
    expect(ran).toEqual(['new']);
  });

  it('stop drops every job and takes no more', async () => {
    const { clock, scheduler, ran, job } = setup();
    scheduler.at(clock.now() + 10, job('dropped'));
    scheduler.stop();
    scheduler.at(clock.now() + 10, job('refused'));
    scheduler.at(clock.now(), job('refused-now'));
    expect(scheduler.pending()).toBe(0);
    await vi.advanceTimersByTimeAsync(1_000);
    clock.advance(1_000);
    expect(ran).toEqual([]);
    expect(vi.getTimerCount()).toBe(0);
  });

  it('leaves no timer armed when nothing is pending', () => {
    const { clock, scheduler, job } = setup();
    expect(vi.getTimerCount()).toBe(0);
    scheduler.at(clock.now() + 10, job('a'));
    expect(vi.getTimerCount()).toBe(1);
    clock.advance(10);
    expect(vi.getTimerCount()).toBe(0);
  });
});
