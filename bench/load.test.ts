// The load benchmark's latency summary: nearest-rank percentiles of each response's own time,
// at the resolution it was measured (autocannon's own summary rounds to whole milliseconds).
import { describe, expect, it } from 'vitest';
import { latencyOf } from './load.ts';

describe('latencyOf', () => {
  it('gives nearest-rank percentiles, the mean and the max, keeping fractions of a millisecond', () => {
    // 1..100 hundredths of a millisecond, shuffled.
    const times = Float64Array.from({ length: 100 }, (_, i) => ((i * 37) % 100) / 100 + 0.01);
    expect(latencyOf(times)).toEqual({ mean: expect.closeTo(0.505, 9), p50: 0.5, p90: 0.9, p99: 0.99, max: 1 });
    // The input is left as measured.
    expect(times[1]).toBeCloseTo(0.38, 9);
  });

  it('reads one response as every percentile, and none as NaN rather than 0', () => {
    expect(latencyOf(Float64Array.of(0.25))).toEqual({ mean: 0.25, p50: 0.25, p90: 0.25, p99: 0.25, max: 0.25 });
    const none = latencyOf(new Float64Array(0));
    expect(Object.values(none).every(Number.isNaN)).toBe(true);
  });
});
