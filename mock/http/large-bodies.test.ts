// Turns for large bodies (mock/http/large-bodies.ts): one at a time, in order, each after the
// I/O already waiting. (The floods section of `npm run bench` measures what they are for: a
// derive during a flood of 1 MiB login bodies.)
import { describe, expect, it } from 'vitest';
import { createTurns } from './large-bodies.ts';

describe('large-body turns', () => {
  it('one at a time, in arrival order; each starts after what was already waiting on the event loop', async () => {
    const turns = createTurns();
    const log: string[] = [];
    const work = async (name: string) => {
      const release = await turns.take();
      log.push(`${name} start`);
      await new Promise((r) => setTimeout(r, 5));
      log.push(`${name} end`);
      release();
      release(); // a second release is a no-op
    };
    setImmediate(() => log.push('other client'));
    await Promise.all([work('a'), work('b'), work('c')]);
    expect(log).toEqual(['other client', 'a start', 'a end', 'b start', 'b end', 'c start', 'c end']);
    expect(turns.waiting()).toBe(0);
  });

  it('a turn released after a failure passes on to the next', async () => {
    const turns = createTurns();
    const first = await turns.take();
    const second = turns.take();
    expect(turns.waiting()).toBe(1);
    first();
    const release = await second;
    release();
    const third = await turns.take();
    third();
  });
});
