// The control operations of the request inspector (openapi/sandbox-control/paths/
// __sandbox_requests*.yaml) and of the webhook deliveries across tenants
// (__sandbox_webhook-*.yaml), merged into the control handlers (mock/control/handlers.ts).
// Routed and validated by the control contract: filters arrive well-formed (a bad one is
// Prism's 422 before a handler runs).
import type { components } from '../../generated/sandbox-control.d.ts';
import { iso, ok, paginate, type Handlers } from '../domain/handler.ts';
import { deliveryView } from '../domain/webhooks.ts';
import { fail } from '../http/problem.ts';
import type { Services } from '../services.ts';
import type { WebhookDelivery } from '../state/webhooks.ts';
import type { KeptExchange } from './history.ts';

type Schemas = components['schemas'];

const text = (value: string | string[] | undefined) => (typeof value === 'string' && value !== '' ? value : undefined);

/** A delivery with every attempt and what it was sent with: never a signing secret (the state keeps those on the endpoint only). */
export function sandboxDeliveryView(services: Services, delivery: WebhookDelivery): Schemas['SandboxWebhookDelivery'] {
  const w = services.store.state.webhooks;
  const endpoint = w.endpoints.get(delivery.endpointId);
  const event = w.events.get(delivery.eventId);
  // The Dashboard API's view of a delivery, plus where it went, the request that caused it, the
  // headers each attempt was sent with and the payload.
  const view = deliveryView(delivery);
  return {
    ...view,
    endpointId: delivery.endpointId,
    endpointUrl: endpoint?.url ?? '',
    tenantId: endpoint?.tenantId ?? event?.tenantId ?? '',
    environment: endpoint?.environment ?? event?.environment ?? 'test',
    requestId: event?.requestId ?? null,
    attempts: view.attempts.map((a, i) => ({ ...a, headers: Object.entries(delivery.attempts[i]!.headers ?? {}).map(([name, value]) => ({ name, value })) })),
    payload: event?.body ?? '',
  };
}

/** Every delivery, newest first (the state keeps creation order), optionally of one endpoint or one request. */
export function sandboxDeliveries(services: Services, filter: { endpointId?: string; requestId?: string } = {}): WebhookDelivery[] {
  const w = services.store.state.webhooks;
  const ids = filter.endpointId === undefined ? [...w.deliveries.keys()] : [...(w.endpoints.get(filter.endpointId)?.deliveries ?? [])];
  const out: WebhookDelivery[] = [];
  for (let i = ids.length - 1; i >= 0; i--) {
    const delivery = w.deliveries.get(ids[i]!);
    if (!delivery) continue;
    if (filter.requestId !== undefined && w.events.get(delivery.eventId)?.requestId !== filter.requestId) continue;
    out.push(delivery);
  }
  return out;
}

/** How many kept deliveries each request's events caused. */
function deliveriesByRequest(services: Services): Map<string, number> {
  const w = services.store.state.webhooks;
  const counts = new Map<string, number>();
  for (const delivery of w.deliveries.values()) {
    const requestId = w.events.get(delivery.eventId)?.requestId;
    if (requestId) counts.set(requestId, (counts.get(requestId) ?? 0) + 1);
  }
  return counts;
}

function inspectorOf(services: Services) {
  // The sandbox always builds one (capacity 0 when off); a bare set of services has none.
  if (!services.inspector) throw new Error('this sandbox has no request inspector');
  return services.inspector;
}

const summaryOf = (record: KeptExchange, deliveries: number): Schemas['InspectedRequestSummary'] => ({ ...record.summary, deliveries });

export const inspectorHandlers: Handlers = {
  listInspectedRequests(ctx) {
    const inspector = inspectorOf(ctx.services);
    const q = ctx.query;
    const filter = {
      ...(text(q.operationId) ? { operationId: text(q.operationId)! } : {}),
      ...(text(q.status) ? { status: text(q.status)! } : {}),
      ...(text(q.keyId) ? { keyId: text(q.keyId)! } : {}),
    };
    const page = paginate(inspector.list(filter), q);
    const counts = deliveriesByRequest(ctx.services);
    const data: Schemas['InspectedRequestPage'] = {
      ...page,
      items: page.items.map((r) => summaryOf(r, counts.get(r.summary.requestId) ?? 0)),
      capacity: inspector.capacity,
    };
    return ok(200, data);
  },

  getInspectedRequest(ctx) {
    const record = inspectorOf(ctx.services).get(ctx.params.requestId ?? '');
    if (!record) throw fail('not_found', 'The inspector keeps no request with this id; it may have been forgotten (--inspect-history) or cleared.');
    // Oldest first, as they happened.
    const deliveries = sandboxDeliveries(ctx.services, { requestId: record.summary.requestId }).reverse();
    const data: Schemas['InspectedRequest'] = {
      summary: summaryOf(record, deliveries.length),
      violations: record.violations,
      request: record.request,
      response: record.response,
      webhookDeliveries: deliveries.map((d) => sandboxDeliveryView(ctx.services, d)),
      curl: record.curl,
    };
    return ok(200, data);
  },

  clearInspectedRequests(ctx) {
    const data: Schemas['InspectorCleared'] = { cleared: inspectorOf(ctx.services).clear() };
    return ok(200, data);
  },

  listSandboxWebhookDeliveries(ctx) {
    const q = ctx.query;
    const all = sandboxDeliveries(ctx.services, {
      ...(text(q.endpointId) ? { endpointId: text(q.endpointId)! } : {}),
      ...(text(q.requestId) ? { requestId: text(q.requestId)! } : {}),
    });
    const page = paginate(all, q);
    const data: Schemas['SandboxWebhookDeliveryPage'] = { ...page, items: page.items.map((d) => sandboxDeliveryView(ctx.services, d)) };
    return ok(200, data);
  },

  listSandboxWebhookEndpoints(ctx) {
    const w = ctx.services.store.state.webhooks;
    // Newest first; creation order (`seq`) settles endpoints made in the same millisecond.
    const all = [...w.endpoints.values()].sort((a, b) => b.seq - a.seq);
    const page = paginate(all, ctx.query);
    const data: Schemas['SandboxWebhookEndpointPage'] = {
      ...page,
      items: page.items.map((e) => ({
        id: e.id,
        tenantId: e.tenantId,
        environment: e.environment,
        url: e.url,
        description: e.description,
        events: [...e.events],
        active: e.active,
        createdAt: iso(e.createdAt),
        deliveries: e.deliveries.length,
      })),
    };
    return ok(200, data);
  },
};
