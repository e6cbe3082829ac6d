// The chaos of one sandbox: the settings in force, their seeded decision streams, and the two
// functions the rest of the sandbox is composed with — the request path's `ChaosPolicy`
// (mock/http/exchange.ts) and the webhook dispatcher's `DeliveryChaos`
// (mock/webhooks/delivery-chaos.ts). Settings are checked before they get here (settings.ts).
import type { ChaosDecision, ChaosPolicy } from '../http/exchange.ts';
import type { DeliveryChaos, DeliveryChaosDecision } from '../webhooks/delivery-chaos.ts';
import { drawLatency } from './latency.ts';
import { seededStreams, type Streams } from './random.ts';
import { ALL_OPERATIONS, isActive, type ChaosSettings, type ChaosState } from './settings.ts';

/** The default hold of an out-of-order delivery (ChaosWebhookSettings.holdMs). */
export const DEFAULT_HOLD_MS = 2_000;
/** The default Retry-After of a chaos 429 or 503 (ChaosErrorSettings.retryAfterSeconds). */
export const DEFAULT_RETRY_AFTER_SECONDS = 1;
/** The seed of a sandbox started without one (`--seed none`). */
export const DEFAULT_CHAOS_SEED = 1;

export type Chaos = {
  /** For the request path: what to do to one request of the public API. */
  policy: ChaosPolicy;
  /** For the webhook dispatcher: what to do to one delivery attempt. */
  delivery: DeliveryChaos;
  state(): ChaosState;
  /** Replaces the settings (already checked) and starts every stream again. */
  set(settings: ChaosSettings): ChaosState;
  clear(): ChaosState;
};

export type ChaosOptions = {
  /** The sandbox's `--seed`; the settings' own `seed` wins. */
  sandboxSeed?: number;
  settings?: ChaosSettings;
};

export function createChaos(options: ChaosOptions = {}): Chaos {
  let settings: ChaosSettings = {};
  let seed = DEFAULT_CHAOS_SEED;
  let streams: Streams = seededStreams(seed);

  function set(next: ChaosSettings): ChaosState {
    // A copy: the caller's object (a request body, a parsed file) may be changed after.
    settings = structuredClone(next);
    seed = settings.seed ?? options.sandboxSeed ?? DEFAULT_CHAOS_SEED;
    streams = seededStreams(seed);
    return state();
  }

  function state(): ChaosState {
    return { active: isActive(settings), seed, settings: structuredClone(settings) };
  }

  const policy: ChaosPolicy = ({ operationId }) => {
    if (operationId === undefined) return undefined;
    const entry = settings.operations?.[operationId] ?? settings.operations?.[ALL_OPERATIONS];
    if (!entry) return undefined;
    // One stream per operation, whichever entry applies: its n-th request decides the same
    // whatever the other operations were sent. Latency draws from a stream of its own, so a
    // changed latency leaves the faults where they were.
    const draw = streams.stream(`operation:${operationId}`);
    const u = draw();
    const errorRate = entry.error?.rate ?? 0;
    const hangRate = entry.hangRate ?? 0;
    const resetRate = entry.resetRate ?? 0;
    let fault: ChaosDecision['fault'];
    if (entry.error && u < errorRate) {
      const { status } = entry.error;
      fault = status === 500 ? { kind: 'status', status } : { kind: 'status', status, retryAfterSeconds: entry.error.retryAfterSeconds ?? DEFAULT_RETRY_AFTER_SECONDS };
    } else if (u < errorRate + hangRate) {
      fault = { kind: 'hang' };
    } else if (u < errorRate + hangRate + resetRate) {
      fault = { kind: 'reset' };
    }
    const delayMs = entry.latency ? drawLatency(entry.latency, streams.stream(`latency:${operationId}`)) : 0;
    if (fault === undefined && delayMs === 0) return undefined;
    return { delayMs, ...(fault ? { fault } : {}), description: describeRequest(delayMs, fault) };
  };

  const delivery: DeliveryChaos = ({ attempt }) => {
    const hooks = settings.webhooks;
    if (!hooks) return undefined;
    const draw = streams.stream('webhooks');
    // Always the same number of draws per attempt, so one rate's change moves no other decision.
    const dropAnswer = draw() < (hooks.failureRate ?? 0);
    const duplicate = draw() < (hooks.duplicateRate ?? 0);
    const heldBack = draw() < (hooks.outOfOrderRate ?? 0) && attempt === 1;
    const delayMs = hooks.delay ? drawLatency(hooks.delay, draw) : 0;
    const holdMs = delayMs + (heldBack ? (hooks.holdMs ?? DEFAULT_HOLD_MS) : 0);
    if (!dropAnswer && !duplicate && holdMs === 0) return undefined;
    const decision: DeliveryChaosDecision = { holdMs, dropAnswer, duplicate, description: '' };
    decision.description = describeDelivery(decision, heldBack);
    return decision;
  };

  set(options.settings ?? {});

  return { policy, delivery, state, set, clear: () => set({}) };
}

function describeRequest(delayMs: number, fault: ChaosDecision['fault']): string {
  const parts: string[] = [];
  if (delayMs > 0) parts.push(`latency ${delayMs} ms`);
  if (fault?.kind === 'status') parts.push(fault.retryAfterSeconds === undefined ? `status ${fault.status}` : `status ${fault.status} (Retry-After ${fault.retryAfterSeconds} s)`);
  else if (fault) parts.push(fault.kind);
  return parts.join(', then ');
}

function describeDelivery(d: DeliveryChaosDecision, heldBack: boolean): string {
  const parts: string[] = [];
  if (d.holdMs > 0) parts.push(heldBack ? `held ${d.holdMs} ms (out of order)` : `delayed ${d.holdMs} ms`);
  if (d.dropAnswer) parts.push('answer dropped (retried)');
  if (d.duplicate) parts.push('sent twice');
  return parts.join(', ');
}
