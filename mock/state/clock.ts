// The sandbox's clock: real time plus an offset the control surface can move, so expiries,
// provisioning delays and rate-limit windows can be tested without waiting.
export type Clock = {
  now(): number;
  iso(ms?: number): string;
  advance(ms: number): void;
  offset(): number;
  /** Called after every advance, so scheduled work that became due runs at once. */
  onAdvance(listener: () => void): void;
};

/** Recently formatted instants, by their low bits: views format the same receipts' and checkpoints' times on every read, the inspector the same millisecond for a dozen exchanges. */
const isoTexts: (string | undefined)[] = new Array(64);
const isoInstants = new Float64Array(64).fill(NaN);

/** An instant (ms since the epoch) as ISO 8601; a RangeError for one Date cannot represent, as `toISOString`. */
export function isoOf(ms: number): string {
  const slot = ms & 63;
  if (isoInstants[slot] === ms) return isoTexts[slot]!;
  const text = new Date(ms).toISOString();
  isoInstants[slot] = ms;
  isoTexts[slot] = text;
  return text;
}

export function createClock(offsetMs = 0): Clock {
  let offset = offsetMs;
  const listeners: Array<() => void> = [];
  return {
    now: () => Date.now() + offset,
    iso: (ms) => isoOf(ms ?? Date.now() + offset),
    advance: (ms) => {
      offset += ms;
      for (const listener of listeners) listener();
    },
    offset: () => offset,
    onAdvance: (listener) => {
      listeners.push(listener);
    },
  };
}
