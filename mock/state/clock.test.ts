// Instants as ISO 8601, formatted once per distinct value (remembered by their low bits, so a
// remembered text must never be returned for another instant), and the clock that moves.
import { describe, expect, it } from 'vitest';
import { createClock, isoOf } from './clock.ts';

describe('isoOf', () => {
  it('writes each instant as toISOString does, also for instants that share a slot, read in any order', () => {
    const base = Date.UTC(2026, 11, 1, 4, 30, 10, 183);
    const instants = [base, base + 64, base + 128, base, base - 64, base + 1, base + 64 * 1000, 0, -1, 8.64e15, -8.64e15, base];
    for (const round of [1, 2]) for (const ms of instants) expect(isoOf(ms), `${ms} (round ${round})`).toBe(new Date(ms).toISOString());
  });

  it('refuses what a Date cannot hold, as toISOString does', () => {
    expect(() => isoOf(NaN)).toThrow(RangeError);
    expect(() => isoOf(8.64e15 + 1)).toThrow(RangeError);
    expect(isoOf(0)).toBe('1970-01-01T00:00:00.000Z');
  });
});

describe('the clock', () => {
  it('is real time plus an offset that advance moves, and tells its listeners', () => {
    const clock = createClock(5_000);
    let told = 0;
    clock.onAdvance(() => told++);
    expect(clock.now() - Date.now()).toBeGreaterThanOrEqual(4_900);
    clock.advance(60_000);
    expect(clock.offset()).toBe(65_000);
    expect(told).toBe(1);
    expect(clock.iso(0)).toBe('1970-01-01T00:00:00.000Z');
    expect(Date.parse(clock.iso())).toBeGreaterThanOrEqual(Date.now() + 64_000);
  });
});
