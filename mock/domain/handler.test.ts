// The handlers' shared helpers: pagination as the seeds do it.
import { describe, expect, it } from 'vitest';
import { paginate } from './handler.ts';

describe('paginate', () => {
  it('reads page and limit (empty as absent) and reports the total', () => {
    const all = Array.from({ length: 45 }, (_, i) => i);
    expect(paginate(all, {})).toEqual({ items: all.slice(0, 20), total: 45, page: 1, limit: 20 });
    expect(paginate(all, { page: '3', limit: '20' })).toEqual({ items: all.slice(40), total: 45, page: 3, limit: 20 });
    expect(paginate(all, { page: '', limit: '' }, 10)).toEqual({ items: all.slice(0, 10), total: 45, page: 1, limit: 10 });
  });
});
