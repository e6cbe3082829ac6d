// Seeded decision streams: one generator per named stream (an operation, the webhooks), each
// started from SHA-256(seed, name), so the n-th draw of a stream depends on the seed, the name
// and n only — never on how other streams' draws interleave with it. xoroshiro128+ from
// pure-rand; the seed is hashed because nearby small seeds start it on nearby states.
import { createHash } from 'node:crypto';
import { uniformFloat64 } from 'pure-rand/distribution/uniformFloat64';
import { xoroshiro128plus } from 'pure-rand/generator/xoroshiro128plus';

/** A source of uniform numbers in [0, 1). */
export type Draw = () => number;

export type Streams = { stream(name: string): Draw };

export function seededStreams(seed: number): Streams {
  const streams = new Map<string, Draw>();
  return {
    stream(name) {
      let draw = streams.get(name);
      if (!draw) {
        const digest = createHash('sha256').update(`${seed}\0${name}`).digest();
        const generator = xoroshiro128plus(digest.readInt32BE(0));
        draw = () => uniformFloat64(generator);
        streams.set(name, draw);
      }
      return draw;
    },
  };
}
