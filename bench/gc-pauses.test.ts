import { describe, expect, it } from 'vitest';
import { pausesOf, summarizePauses } from './gc-pauses.ts';

describe('GC pauses from --trace-gc', () => {
  it('reads each collection’s pause by kind, and nothing else', () => {
    const trace = [
      '[22136:0x23294150]     4496 ms: Scavenge 94.0 (115.1) -> 81.8 (115.1) MB, 1.54 / 0.00 ms  (average mu = 0.989, current mu = 0.989) task; ',
      '[22136:0x23294150]     4527 ms: Scavenge (interleaved) 94.0 (115.1) -> 81.9 (116.1) MB, 0.36 / 0.01 ms  (average mu = 0.989) allocation failure; ',
      '[22136:0x23294150]     5001 ms: Mark-Compact 120.2 (140.0) -> 60.1 (90.0) MB, 5.59 / 0.00 ms  (+ 12.1 ms in 40 steps since start of marking) finalize incremental marking via task; ',
      'production Balance API (pk_live_): http://127.0.0.1:4010 took 5 ms: Scavenge-free',
    ].join('\n');
    expect(pausesOf(trace)).toEqual({ scavenges: [1.54, 0.36], markCompacts: [5.59] });
  });

  it('summarizes: count, total, median (upper for an even count), max; zeros for none', () => {
    expect(summarizePauses([3, 1, 2, 10])).toEqual({ count: 4, totalMs: 16, medianMs: 3, maxMs: 10 });
    expect(summarizePauses([])).toEqual({ count: 0, totalMs: 0, medianMs: 0, maxMs: 0 });
  });
});
