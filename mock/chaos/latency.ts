// A delay drawn from one of ChaosLatency's distributions (openapi/sandbox-control/components/
// schemas/ChaosLatency.yaml), always a whole number of ms within its bounds.
import type { Draw } from './random.ts';

export type Latency =
  | { distribution: 'fixed'; ms: number }
  | { distribution: 'uniform'; minMs: number; maxMs: number }
  | { distribution: 'normal'; meanMs: number; stdDevMs: number; minMs?: number; maxMs?: number };

/** The contract's ceiling of every latency field. */
export const MAX_LATENCY_MS = 120_000;

/** The bounds a latency's draws stay within. */
export function latencyBounds(latency: Latency): { minMs: number; maxMs: number } {
  switch (latency.distribution) {
    case 'fixed':
      return { minMs: latency.ms, maxMs: latency.ms };
    case 'uniform':
      return { minMs: latency.minMs, maxMs: latency.maxMs };
    case 'normal':
      return { minMs: latency.minMs ?? 0, maxMs: latency.maxMs ?? MAX_LATENCY_MS };
  }
}

export function drawLatency(latency: Latency, draw: Draw): number {
  const { minMs, maxMs } = latencyBounds(latency);
  switch (latency.distribution) {
    case 'fixed':
      return latency.ms;
    case 'uniform':
      // Both ends included: maxMs - minMs + 1 whole values, equally likely.
      return minMs + Math.floor(draw() * (maxMs - minMs + 1));
    case 'normal': {
      // Box–Muller; 1 - u keeps the logarithm's argument in (0, 1].
      const u = 1 - draw();
      const v = draw();
      const z = Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v);
      return Math.min(maxMs, Math.max(minMs, Math.round(latency.meanMs + z * latency.stdDevMs)));
    }
  }
}
