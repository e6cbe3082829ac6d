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

export function createClock(offsetMs = 0): Clock {
  let offset = offsetMs;
  const listeners: Array<() => void> = [];
  return {
    now: () => Date.now() + offset,
    iso: (ms) => new Date(ms ?? Date.now() + offset).toISOString(),
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
