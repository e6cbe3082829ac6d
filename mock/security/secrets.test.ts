import { describe, expect, it } from 'vitest';
import { randomBase62, randomId } from './secrets.ts';

describe('random ids', () => {
  it('are the prefix then n base62 characters, each id new', () => {
    const ids = Array.from({ length: 2000 }, () => randomId('req_', 16));
    for (const id of ids) expect(id).toMatch(/^req_[A-Za-z0-9]{16}$/);
    expect(new Set(ids).size).toBe(ids.length);
    expect(randomId(`pk_test_`, 0)).toBe('pk_test_');
    expect(randomBase62(32)).toMatch(/^[A-Za-z0-9]{32}$/);
  });

  it('use every base62 character about equally often (no modulo bias)', () => {
    const counts = new Map<string, number>();
    const n = 62 * 2000;
    for (const c of randomBase62(n)) counts.set(c, (counts.get(c) ?? 0) + 1);
    expect(counts.size).toBe(62);
    // 2,000 expected each; a biased draw (byte % 62 over all 256 bytes) gives the first 8 ~2,580.
    for (const count of counts.values()) expect(Math.abs(count - 2000)).toBeLessThan(250);
  });
});
