// Webhook endpoints and deliveries: their events and read model. Per tenant the endpoints
// (both environments), each with its current signing secret and, during a rotation's overlap,
// the previous one; every announced event's exact body; and per endpoint its deliveries with
// every attempt. Deliveries that still await an attempt are indexed in `pending`, so the
// dispatcher (mock/webhooks/dispatcher.ts) can re-arm them after a journal replay.
//
// Signing secrets are kept in plain text here, in memory. Unlike API key secrets they cannot
// be hashed: the sandbox needs the secret itself as the HMAC key of every delivery it signs.
// In the journal they are sealed with the data key (AES-256-GCM; SEALED_FIELDS in events.ts).
// They never leave this projection except in the create and rotate responses (and as HMAC keys).
import type { KeyEnvironment } from './events.ts';

export type WebhookEventType =
  | 'delta.recorded'
  | 'delta.confirmed'
  | 'checkpoint.created'
  | 'environment.activated'
  | 'api_key.created'
  | 'api_key.regenerated'
  | 'api_key.enabled'
  | 'api_key.disabled'
  | 'api_key.deleted';

export type WebhookEndpointCreated = {
  type: 'webhook.endpoint.created';
  at: number;
  endpointId: string;
  tenantId: string;
  environment: KeyEnvironment;
  url: string;
  description: string | null;
  events: WebhookEventType[];
  secret: string;
};

/** Only the properties that changed. `active: false` ends the endpoint's pending deliveries as failed. */
export type WebhookEndpointUpdated = {
  type: 'webhook.endpoint.updated';
  at: number;
  endpointId: string;
  url?: string;
  events?: WebhookEventType[];
  description?: string | null;
  active?: boolean;
};

/** Removes the endpoint, its secrets and its deliveries (pending ones are cancelled with it). */
export type WebhookEndpointDeleted = { type: 'webhook.endpoint.deleted'; at: number; endpointId: string };

/** The current secret becomes the previous one until `previousSecretExpiresAt`; an older previous one is dropped. */
export type WebhookSecretRotated = {
  type: 'webhook.secret.rotated';
  at: number;
  endpointId: string;
  secret: string;
  previousSecretExpiresAt: number;
};

/** An event of the contract's `webhooks`, and its delivery to each endpoint that receives it. */
export type WebhookEventAnnounced = {
  type: 'webhook.event.announced';
  at: number;
  eventId: string;
  eventType: WebhookEventType;
  tenantId: string;
  environment: KeyEnvironment;
  /** The request body every attempt sends, byte for byte: `{id, type, createdAt, environment, data}`. */
  body: string;
  /** A sample sent with `POST /dashboard/webhooks/{id}/test`, not a ledger or key event. */
  test: boolean;
  deliveries: Array<{ deliveryId: string; endpointId: string }>;
  /** The request whose handling announced it (absent for events that fell due on the clock, and in older journals). */
  requestId?: string;
};

/** One attempt, recorded when it ended, with what the dispatcher decided next. */
export type WebhookDeliveryAttempted = {
  type: 'webhook.delivery.attempted';
  /** When the attempt ended. */
  at: number;
  deliveryId: string;
  attempt: number;
  attemptedAt: number;
  responseStatus: number | null;
  durationMs: number;
  error: string | null;
  outcome: 'succeeded' | 'retry' | 'failed';
  /** When the retry is due (outcome `retry`); null otherwise. */
  nextAttemptAt: number | null;
  /** The header fields it was sent with, names in lower case (the signature is no secret); absent in older journals. */
  headers?: Record<string, string>;
};

export type WebhookEvent =
  | WebhookEndpointCreated
  | WebhookEndpointUpdated
  | WebhookEndpointDeleted
  | WebhookSecretRotated
  | WebhookEventAnnounced
  | WebhookDeliveryAttempted;

export type WebhookEndpoint = {
  id: string;
  tenantId: string;
  environment: KeyEnvironment;
  url: string;
  description: string | null;
  events: WebhookEventType[];
  active: boolean;
  /** Signs every delivery. Plain text in memory (sealed in the journal): see the note at the top of this file. */
  secret: string;
  /** Signs deliveries too while the clock is before `previousSecretExpiresAt`. */
  previousSecret: string | null;
  previousSecretExpiresAt: number | null;
  createdAt: number;
  updatedAt: number;
  /** Creation order, to sort endpoints created in the same millisecond. */
  seq: number;
  /** Delivery ids, oldest first. */
  deliveries: string[];
};

export type DeliveryAttempt = {
  attempt: number;
  attemptedAt: number;
  responseStatus: number | null;
  durationMs: number;
  error: string | null;
  /** The header fields sent (signature, timestamp, ids); absent for attempts recorded before they were kept. */
  headers?: Record<string, string>;
};

export type WebhookDelivery = {
  id: string;
  endpointId: string;
  eventId: string;
  eventType: WebhookEventType;
  status: 'pending' | 'succeeded' | 'failed';
  attempts: DeliveryAttempt[];
  /** When the next attempt is due while `pending`; null once it succeeded or failed. */
  nextAttemptAt: number | null;
  createdAt: number;
};

export type AnnouncedEvent = {
  id: string;
  type: WebhookEventType;
  tenantId: string;
  environment: KeyEnvironment;
  body: string;
  test: boolean;
  createdAt: number;
  /** The request that announced it, if one did. */
  requestId: string | null;
  /** Deliveries of this event not yet deleted with their endpoint. */
  deliveries: number;
};

export function createWebhookProjection() {
  return {
    endpoints: new Map<string, WebhookEndpoint>(),
    /** Endpoint ids per tenant, both environments. */
    endpointsByTenant: new Map<string, Set<string>>(),
    events: new Map<string, AnnouncedEvent>(),
    deliveries: new Map<string, WebhookDelivery>(),
    /** Ids of deliveries with status `pending`. */
    pending: new Set<string>(),
    seq: 0,
  };
}

export type WebhookProjection = ReturnType<typeof createWebhookProjection>;

/** The secrets a delivery made at `now` is signed with: the current one first. */
export function signingSecrets(endpoint: WebhookEndpoint, now: number): string[] {
  const previous = endpoint.previousSecret !== null && endpoint.previousSecretExpiresAt !== null && now < endpoint.previousSecretExpiresAt;
  return previous ? [endpoint.secret, endpoint.previousSecret!] : [endpoint.secret];
}

function endDelivery(w: WebhookProjection, delivery: WebhookDelivery, status: 'succeeded' | 'failed') {
  delivery.status = status;
  delivery.nextAttemptAt = null;
  w.pending.delete(delivery.id);
}

function dropDelivery(w: WebhookProjection, deliveryId: string) {
  const delivery = w.deliveries.get(deliveryId);
  if (!delivery) return;
  w.deliveries.delete(deliveryId);
  w.pending.delete(deliveryId);
  const event = w.events.get(delivery.eventId);
  if (event && --event.deliveries === 0) w.events.delete(event.id);
}

/** Whether a webhook event continues the state (see checkEvent in projections.ts); why not, if it does not. */
export function checkWebhookEvent(w: WebhookProjection, e: WebhookEvent): string | undefined {
  switch (e.type) {
    case 'webhook.endpoint.created':
      return w.endpoints.has(e.endpointId) ? `webhook endpoint ${e.endpointId} exists already` : undefined;
    case 'webhook.endpoint.updated':
    case 'webhook.endpoint.deleted':
    case 'webhook.secret.rotated':
      return w.endpoints.has(e.endpointId) ? undefined : `webhook endpoint ${e.endpointId} does not exist`;
    case 'webhook.event.announced': {
      const taken = e.deliveries.find((d) => w.deliveries.has(d.deliveryId));
      return taken ? `webhook delivery ${taken.deliveryId} exists already` : undefined;
    }
    case 'webhook.delivery.attempted': {
      // A delivery deleted with its endpoint meanwhile is fine: the attempt changes nothing.
      const delivery = w.deliveries.get(e.deliveryId);
      if (!delivery || e.attempt === delivery.attempts.length + 1) return undefined;
      return `attempt ${e.attempt} of webhook delivery ${e.deliveryId} does not follow its ${delivery.attempts.length} attempts`;
    }
  }
}

export function applyWebhookEvent(w: WebhookProjection, e: WebhookEvent): void {
  switch (e.type) {
    case 'webhook.endpoint.created': {
      w.endpoints.set(e.endpointId, {
        id: e.endpointId,
        tenantId: e.tenantId,
        environment: e.environment,
        url: e.url,
        description: e.description,
        events: [...e.events],
        active: true,
        secret: e.secret,
        previousSecret: null,
        previousSecretExpiresAt: null,
        createdAt: e.at,
        updatedAt: e.at,
        seq: ++w.seq,
        deliveries: [],
      });
      const ids = w.endpointsByTenant.get(e.tenantId) ?? new Set<string>();
      ids.add(e.endpointId);
      w.endpointsByTenant.set(e.tenantId, ids);
      return;
    }
    case 'webhook.endpoint.updated': {
      const endpoint = w.endpoints.get(e.endpointId);
      if (!endpoint) return;
      if (e.url !== undefined) endpoint.url = e.url;
      if (e.events !== undefined) endpoint.events = [...e.events];
      if (e.description !== undefined) endpoint.description = e.description;
      if (e.active !== undefined) {
        endpoint.active = e.active;
        // Disabling ends every delivery still awaiting an attempt (the contract's PATCH).
        if (!e.active) {
          for (const id of endpoint.deliveries) {
            const delivery = w.deliveries.get(id);
            if (delivery?.status === 'pending') endDelivery(w, delivery, 'failed');
          }
        }
      }
      endpoint.updatedAt = e.at;
      return;
    }
    case 'webhook.endpoint.deleted': {
      const endpoint = w.endpoints.get(e.endpointId);
      if (!endpoint) return;
      for (const id of endpoint.deliveries) dropDelivery(w, id);
      w.endpoints.delete(endpoint.id);
      w.endpointsByTenant.get(endpoint.tenantId)?.delete(endpoint.id);
      return;
    }
    case 'webhook.secret.rotated': {
      const endpoint = w.endpoints.get(e.endpointId);
      if (!endpoint) return;
      endpoint.previousSecret = endpoint.secret;
      endpoint.previousSecretExpiresAt = e.previousSecretExpiresAt;
      endpoint.secret = e.secret;
      endpoint.updatedAt = e.at;
      return;
    }
    case 'webhook.event.announced': {
      const deliveries = e.deliveries.filter((d) => w.endpoints.has(d.endpointId));
      if (deliveries.length === 0) return;
      w.events.set(e.eventId, {
        id: e.eventId,
        type: e.eventType,
        tenantId: e.tenantId,
        environment: e.environment,
        body: e.body,
        test: e.test,
        createdAt: e.at,
        requestId: e.requestId ?? null,
        deliveries: deliveries.length,
      });
      for (const d of deliveries) {
        w.deliveries.set(d.deliveryId, {
          id: d.deliveryId,
          endpointId: d.endpointId,
          eventId: e.eventId,
          eventType: e.eventType,
          status: 'pending',
          attempts: [],
          nextAttemptAt: e.at,
          createdAt: e.at,
        });
        w.pending.add(d.deliveryId);
        w.endpoints.get(d.endpointId)!.deliveries.push(d.deliveryId);
      }
      return;
    }
    case 'webhook.delivery.attempted': {
      const delivery = w.deliveries.get(e.deliveryId);
      if (!delivery) return;
      delivery.attempts.push({
        attempt: e.attempt,
        attemptedAt: e.attemptedAt,
        responseStatus: e.responseStatus,
        durationMs: e.durationMs,
        error: e.error,
        ...(e.headers ? { headers: e.headers } : {}),
      });
      if (e.outcome === 'succeeded') endDelivery(w, delivery, 'succeeded');
      // A delivery ended meanwhile (endpoint disabled during the attempt) stays failed.
      else if (delivery.status !== 'pending' || e.outcome === 'failed') endDelivery(w, delivery, 'failed');
      else delivery.nextAttemptAt = e.nextAttemptAt;
      return;
    }
  }
}
