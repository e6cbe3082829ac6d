// The handlers' shared helpers: instants as ISO 8601 (remembered by their low bits, so a
// remembered text must never be returned for another instant), pagination as the seeds do it.
import { describe, expect, it } from 'vitest';
import { iso, paginate } from './handler.ts';

describe('iso', () => {
  it('writes each instant as toISOString does, also for instants that share a slot, read in any order', () => {
    const base = Date.UTC(2026, 11, 1, 4, 30, 10, 183);
    const instants = [base, base + 64, base + 128, base, base - 64, base + 1, base + 64 * 1000, 0, -1, 8.64e15, -8.64e15, base];
    for (const round of [1, 2]) for (const ms of instants) expect(iso(ms), `${ms} (round ${round})`).toBe(new Date(ms).toISOString());
  });

  it('refuses what a Date cannot hold, as toISOString does', () => {
    expect(() => iso(NaN)).toThrow(RangeError);
    expect(() => iso(8.64e15 + 1)).toThrow(RangeError);
    expect(iso(0)).toBe('1970-01-01T00:00:00.000Z');
  });
});

describe('paginate', () => {
  it('reads page and limit (empty as absent) and reports the total', () => {
    const all = Array.from({ length: 45 }, (_, i) => i);
    expect(paginate(all, {})).toEqual({ items: all.slice(0, 20), total: 45, page: 1, limit: 20 });
    expect(paginate(all, { page: '3', limit: '20' })).toEqual({ items: all.slice(40), total: 45, page: 3, limit: 20 });
    expect(paginate(all, { page: '', limit: '' }, 10)).toEqual({ items: all.slice(0, 10), total: 45, page: 1, limit: 10 });
  });
});
