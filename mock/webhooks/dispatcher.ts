// The webhook dispatcher, the sandbox's `WebhookOutbound`. `announce` turns a domain event into
// the journal event that creates one delivery per receiving endpoint (active, same tenant,
// same environment, subscribed to the type); the caller commits it with its own events and
// calls `flush`, which starts every due delivery in the background: a request never waits for
// a receiver. Each attempt is signed afresh (protocol/webhook-signature.ts), POSTed with a
// timeout, and recorded as an event; a non-2xx answer, a redirect, a timeout or a connection
// error is retried after `retryDelaysMs[attempt - 1]` on the sandbox clock until
// `retryDelaysMs.length + 1` attempts (at most the contract's 6) have failed. Redirects are
// never followed. A target that is the sandbox's own listener (mock/webhooks/self-target.ts,
// judged after DNS resolution) is never sent anything: the attempt is recorded with the reason
// and the delivery is failed at once. Chaos (`deliveryChaos`, mock/chaos/) may hold an attempt
// back, drop a receiver's answer (a failed attempt, retried) or send a delivery twice.
import { performance } from 'node:perf_hooks';
import { signatureHeader } from '../../protocol/webhook-signature.ts';
import type { Announcement, Services, WebhookOutbound } from '../services.ts';
import { StorageUnavailableError } from '../state/storage.ts';
import { signingSecrets, type WebhookDeliveryAttempted } from '../state/webhooks.ts';
import { DROPPED_ANSWER_ERROR, type DeliveryChaos, type DeliveryChaosDecision } from './delivery-chaos.ts';
import { announcement, isWebhookEventType } from './envelope.ts';
import { postWebhook } from './post.ts';
import { ownPorts, SelfTargetError } from './self-target.ts';

/** The contract's ceiling: a delivery is `failed` after at most 6 attempts. */
export const MAX_ATTEMPTS = 6;
/** Bytes of a receiver's answer read (and thrown away) before the connection is let go. */
const MAX_RESPONSE_BYTES = 64 * 1024;
const USER_AGENT = 'PacSpace-Webhooks/1 (sandbox)';

export type WebhookDispatcher = WebhookOutbound & {
  stop(): void;
  /** Deliveries with an attempt in flight (for tests). */
  inFlight(): number;
};

export type DispatcherOptions = {
  /** Asked once per attempt, before it is made: hold it back, drop the answer, send it twice. */
  deliveryChaos?: DeliveryChaos;
};

type ChaosDecided = { attempt: number; decision: DeliveryChaosDecision | undefined; heldUntil?: number };

export function createWebhookDispatcher(services: Services, onError: (message: string) => void = () => {}, options: DispatcherOptions = {}): WebhookDispatcher {
  const inFlight = new Set<string>();
  /** Chaos: the decision for a delivery's next attempt (asked once), and until when it is held back. */
  const chaosDecisions = new Map<string, ChaosDecided>();
  /** Deliveries with a retry armed on the scheduler, and for when. */
  const armed = new Map<string, number>();
  const stopping = new AbortController();
  const webhooks = () => services.store.state.webhooks;

  function announce(a: Announcement) {
    if (!isWebhookEventType(a.type)) throw new Error(`announce: ${a.type} is not an event type of the contract`);
    const eventType = a.type;
    const w = webhooks();
    const endpointIds = [...(w.endpointsByTenant.get(a.tenantId) ?? [])].filter((id) => {
      const endpoint = w.endpoints.get(id)!;
      return endpoint.active && endpoint.environment === a.environment && endpoint.events.includes(eventType);
    });
    if (endpointIds.length === 0) return [];
    return [
      announcement({
        eventType,
        tenantId: a.tenantId,
        environment: a.environment,
        data: a.data,
        at: a.at ?? services.clock.now(),
        endpointIds,
        ...(a.requestId === undefined ? {} : { requestId: a.requestId }),
      }),
    ];
  }

  function flush() {
    if (stopping.signal.aborted) return;
    // Nothing is sent before both listeners are bound (startSandbox flushes then): until their
    // ports are known, a target that is the sandbox itself could not be recognized.
    if (ownPorts(services.config).length < 2) return;
    const w = webhooks();
    const now = services.clock.now();
    for (const id of armed.keys()) if (!w.pending.has(id)) armed.delete(id);
    for (const id of chaosDecisions.keys()) if (!w.pending.has(id)) chaosDecisions.delete(id);
    for (const id of w.pending) {
      if (inFlight.has(id)) continue;
      const delivery = w.deliveries.get(id)!;
      const due = Math.max(delivery.nextAttemptAt ?? now, heldUntil(id, delivery.attempts.length + 1));
      if (due <= now) {
        inFlight.add(id);
        armed.delete(id);
        // Off the caller's stack: even signing happens after the request has been answered.
        setImmediate(() => void attempt(id));
      } else if (armed.get(id) !== due) {
        armed.set(id, due);
        services.scheduler.at(due, () => {
          if (armed.get(id) === due) armed.delete(id);
          flush();
        });
      }
    }
  }

  /** Chaos's decision for attempt `number` of a delivery, asked once however often the attempt is started. */
  function chaosFor(id: string, number: number, eventType: string) {
    const known = chaosDecisions.get(id);
    if (known?.attempt === number) return known;
    const decided: ChaosDecided = { attempt: number, decision: options.deliveryChaos?.({ deliveryId: id, eventType, attempt: number }) };
    chaosDecisions.set(id, decided);
    return decided;
  }

  /** When chaos releases a held attempt (0: not held). */
  function heldUntil(id: string, number: number): number {
    const known = chaosDecisions.get(id);
    return known?.attempt === number ? (known.heldUntil ?? 0) : 0;
  }

  async function attempt(id: string) {
    try {
      const w = webhooks();
      const delivery = w.deliveries.get(id);
      const endpoint = delivery && w.endpoints.get(delivery.endpointId);
      const event = delivery && w.events.get(delivery.eventId);
      if (!delivery || !endpoint || !event || delivery.status !== 'pending' || stopping.signal.aborted) return;

      const { timeoutMs, retryDelaysMs } = services.config.webhooks;
      const number = delivery.attempts.length + 1;
      const chaos = chaosFor(id, number, event.type);
      if (chaos.decision && chaos.decision.holdMs > 0 && chaos.heldUntil === undefined) {
        // Held back: `finally` calls flush, which arms the scheduler for the release.
        chaos.heldUntil = services.clock.now() + chaos.decision.holdMs;
        return;
      }
      const attemptedAt = services.clock.now();
      // The signature's timestamp is real time, not the sandbox clock: it guards the wire against
      // replays and receivers judge it by their own clock, so moving the sandbox clock (say, to
      // end a rotation's overlap) must not make them reject deliveries. What a delivery records
      // (attemptedAt, nextAttemptAt) and which secrets sign are judged on the sandbox clock.
      const timestamp = Math.floor(Date.now() / 1000);
      const { body } = event;
      const headers = {
        'Content-Type': 'application/json',
        'User-Agent': USER_AGENT,
        'X-PacSpace-Signature': signatureHeader(signingSecrets(endpoint, attemptedAt), timestamp, body),
        'X-PacSpace-Timestamp': String(timestamp),
        'X-PacSpace-Event-Id': event.id,
        'X-PacSpace-Event-Type': event.type,
        'X-PacSpace-Delivery-Id': delivery.id,
      };
      const started = performance.now();
      let responseStatus: number | null = null;
      let error: string | null = null;
      let refused = false;
      try {
        const signal = AbortSignal.any([AbortSignal.timeout(timeoutMs), stopping.signal]);
        // Redirects are not followed: they count as failed attempts (the contract's 5XX note).
        responseStatus = await postWebhook(endpoint.url, { headers, body, signal, ownPorts: () => ownPorts(services.config), maxResponseBytes: MAX_RESPONSE_BYTES });
        if (responseStatus < 200 || responseStatus > 299) error = `non-2xx response status ${responseStatus}`;
        else if (chaos.decision?.dropAnswer) [responseStatus, error] = [null, DROPPED_ANSWER_ERROR];
        else if (chaos.decision?.duplicate) {
          // The same delivery once more, as a sender that did not see the first answer would.
          await postWebhook(endpoint.url, { headers, body, signal, ownPorts: () => ownPorts(services.config), maxResponseBytes: MAX_RESPONSE_BYTES }).catch(() => {});
        }
      } catch (failure) {
        refused = failure instanceof SelfTargetError;
        error = refused ? (failure as SelfTargetError).message : describeFailure(failure, timeoutMs);
      }
      const durationMs = Math.max(0, Math.round(performance.now() - started));
      if (stopping.signal.aborted) return;
      // Deleted (or the sandbox reset) while the attempt was in flight: nothing to record.
      if (webhooks().deliveries.get(id) !== delivery) return;

      const maxAttempts = Math.min(retryDelaysMs.length + 1, MAX_ATTEMPTS);
      const endedAt = services.clock.now();
      // (A refused target stays refused: retrying would only record the same refusal again.)
      const outcome = error === null ? 'succeeded' : refused || number >= maxAttempts ? 'failed' : 'retry';
      const recorded: WebhookDeliveryAttempted = {
        type: 'webhook.delivery.attempted',
        at: endedAt,
        deliveryId: id,
        attempt: number,
        attemptedAt,
        responseStatus,
        durationMs,
        error,
        // What was sent, for the request inspector: the signature is no secret (the secret is never kept here).
        headers: Object.fromEntries(Object.entries(headers).map(([name, value]) => [name.toLowerCase(), value])),
        outcome,
        nextAttemptAt: outcome === 'retry' ? endedAt + (retryDelaysMs[number - 1] ?? 0) : null,
      };
      await services.store.commit(recorded);
      chaosDecisions.delete(id);
    } catch (failure) {
      if (failure instanceof StorageUnavailableError) {
        // The attempt could not be recorded, so the delivery is still due: try again once the
        // journal may take it, not at once (that would hammer the receiver while the disk is full).
        inFlight.delete(id);
        setTimeout(flush, failure.retryAfterMs).unref();
        return;
      }
      onError(`webhook delivery ${id} failed: ${(failure as Error)?.name ?? 'Error'}`);
    } finally {
      if (inFlight.delete(id)) flush();
    }
  }

  return {
    announce,
    flush,
    stop() {
      stopping.abort();
      armed.clear();
    },
    inFlight: () => inFlight.size,
  };
}

/** Why no usable response arrived, in the contract's words; never quotes the receiver. */
function describeFailure(failure: unknown, timeoutMs: number): string {
  const name = (failure as Error)?.name;
  if (name === 'TimeoutError') return `timeout after ${timeoutMs} ms`;
  // node:http puts the system's code on the error itself (fetch put it on its cause).
  const code = (failure as { code?: unknown })?.code ?? (failure as { cause?: { code?: unknown } })?.cause?.code;
  switch (code) {
    case 'ECONNREFUSED':
      return 'connection refused';
    case 'ECONNRESET':
    case 'UND_ERR_SOCKET':
      return 'connection reset';
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
      return 'host not found';
    case 'ETIMEDOUT':
    case 'UND_ERR_CONNECT_TIMEOUT':
      return 'connection timed out';
    case undefined:
      return 'connection failed';
    default:
      return typeof code === 'string' && /^[A-Z_]+$/.test(code) ? `connection failed (${code})` : 'connection failed';
  }
}

/**
 * Re-arms webhook deliveries after a journal replay: every pending delivery (a due one is
 * attempted at once; one that was in flight when the sandbox stopped is sent again, as the
 * contract allows). (Announcements still to come are re-armed by their domains:
 * resumeLedger and resumeActivations.)
 */
export function resumeWebhooks(services: Services) {
  services.webhooks.flush();
}
