// Webhook endpoints (the contract's Webhooks tag): create (the `whsec_` signing secret shown
// once), list, get, update, delete, rotate the secret with an overlap, send a test event, and
// list deliveries with every attempt. Endpoints belong to a tenant; another tenant's endpoint
// is indistinguishable from a missing one. Delivery itself is mock/webhooks/dispatcher.ts.
import type { components } from '../../generated/openapi.d.ts';
import { fail } from '../http/problem.ts';
import { randomId } from '../security/secrets.ts';
import type { User } from '../state/projections.ts';
import type { WebhookDelivery, WebhookEndpoint, WebhookEndpointUpdated } from '../state/webhooks.ts';
import { announcement } from '../webhooks/envelope.ts';
import { sampleData } from '../webhooks/samples.ts';
import { nonPublicReason } from '../webhooks/public-address.ts';
import { ownPorts, selfTargetReason } from '../webhooks/self-target.ts';
import { callerOf, iso, ok, paginate, type HandlerContext, type Handlers } from './handler.ts';

type Schemas = components['schemas'];
type EndpointView = Schemas['WebhookEndpoint'];
type DeliveryView = Schemas['WebhookDelivery'];

/** Default overlap of a rotation: the contract's 86400 s (24 hours). */
const DEFAULT_OVERLAP_SECONDS = 86_400;

/** `whsec_` + 32 base62 characters (about 190 bits). */
const newSigningSecret = () => randomId('whsec_', 32);

/** The endpoint as listed and read back: never a secret. */
function view(endpoint: WebhookEndpoint, now: number): EndpointView {
  const overlapping = endpoint.previousSecret !== null && endpoint.previousSecretExpiresAt !== null && now < endpoint.previousSecretExpiresAt;
  return {
    id: endpoint.id,
    url: endpoint.url,
    description: endpoint.description,
    events: [...endpoint.events],
    environment: endpoint.environment,
    active: endpoint.active,
    previousSecretExpiresAt: overlapping ? iso(endpoint.previousSecretExpiresAt!) : null,
    createdAt: iso(endpoint.createdAt),
    updatedAt: iso(endpoint.updatedAt),
  };
}

/** A delivery with every attempt, as `GET /dashboard/webhooks/{id}/deliveries` lists it. */
export function deliveryView(delivery: WebhookDelivery): DeliveryView {
  return {
    id: delivery.id,
    eventId: delivery.eventId,
    eventType: delivery.eventType,
    status: delivery.status,
    attempts: delivery.attempts.map((a) => ({
      attempt: a.attempt,
      attemptedAt: iso(a.attemptedAt),
      responseStatus: a.responseStatus,
      durationMs: a.durationMs,
      error: a.error,
    })),
    nextAttemptAt: delivery.status === 'pending' && delivery.nextAttemptAt !== null ? iso(delivery.nextAttemptAt) : null,
    createdAt: iso(delivery.createdAt),
  };
}

/**
 * `422` on `url` when it names the sandbox's own listener (mock/webhooks/self-target.ts): a
 * delivery would call the sandbox itself (re-checked, after DNS, on every delivery); or a
 * non-public address other than this machine (mock/webhooks/public-address.ts).
 */
function refuseSelfTarget(ctx: HandlerContext, url: string) {
  const reason = selfTargetReason(url, ownPorts(ctx.services.config));
  if (reason !== undefined) {
    throw fail('validation_failed', `The webhook URL is this sandbox's own listener; deliveries never go to the sandbox itself.`, {
      validation: [{ location: ['body', 'url'], severity: 'Error', code: 'sandbox-itself', message: reason }],
    });
  }
  // A private or link-local address (in any spelling) is refused as by the hosted service (WebhookUrl).
  const nonPublic = nonPublicReason(url);
  if (nonPublic !== undefined) {
    throw fail('validation_failed', 'The webhook URL must be a public address.', {
      validation: [{ location: ['body', 'url'], severity: 'Error', code: 'non-public-address', message: nonPublic }],
    });
  }
}

/** The caller's endpoint by id; another tenant's is answered exactly like a missing one. */
function ownEndpoint(ctx: HandlerContext, user: User): WebhookEndpoint {
  const endpoint = ctx.services.store.state.webhooks.endpoints.get(ctx.params.id ?? '');
  if (!endpoint || endpoint.tenantId !== user.tenantId) throw fail('not_found', 'No webhook endpoint with this id.');
  return endpoint;
}

export const webhookHandlers: Handlers = {
  async createWebhookEndpoint(ctx) {
    const { user } = callerOf(ctx, 'session');
    const body = ctx.body as Schemas['WebhookEndpointCreateRequest'];
    refuseSelfTarget(ctx, body.url);
    const { services } = ctx;
    const endpointId = randomId('wh_', 16);
    const secret = newSigningSecret();
    const at = services.clock.now();
    await services.store.commit({
      type: 'webhook.endpoint.created',
      at,
      endpointId,
      tenantId: user.tenantId,
      environment: body.environment ?? 'test',
      url: body.url,
      description: body.description ?? null,
      events: [...new Set(body.events)],
      secret,
    });
    const endpoint = services.store.state.webhooks.endpoints.get(endpointId)!;
    const created: Schemas['WebhookEndpointCreated'] = { ...view(endpoint, at), secret };
    return ok(201, created);
  },

  listWebhookEndpoints(ctx) {
    const { user } = callerOf(ctx, 'session');
    const w = ctx.services.store.state.webhooks;
    const now = ctx.services.clock.now();
    const endpoints = [...(w.endpointsByTenant.get(user.tenantId) ?? [])]
      .map((id) => w.endpoints.get(id)!)
      .sort((a, b) => b.createdAt - a.createdAt || b.seq - a.seq);
    const page = paginate(endpoints, ctx.query);
    return ok(200, { ...page, items: page.items.map((e) => view(e, now)) });
  },

  getWebhookEndpoint(ctx) {
    const { user } = callerOf(ctx, 'session');
    return ok(200, view(ownEndpoint(ctx, user), ctx.services.clock.now()));
  },

  async updateWebhookEndpoint(ctx) {
    const { user } = callerOf(ctx, 'session');
    const endpoint = ownEndpoint(ctx, user);
    const body = ctx.body as Schemas['WebhookEndpointUpdateRequest'];
    if (body.url !== undefined) refuseSelfTarget(ctx, body.url);
    // The schema (additionalProperties: false, minProperties: 1) already refused anything else.
    const event: WebhookEndpointUpdated = { type: 'webhook.endpoint.updated', at: ctx.services.clock.now(), endpointId: endpoint.id };
    if (body.url !== undefined) event.url = body.url;
    if (body.events !== undefined) event.events = [...new Set(body.events)];
    if (body.description !== undefined) event.description = body.description;
    if (body.active !== undefined) event.active = body.active;
    await ctx.services.store.commit(event);
    return ok(200, view(endpoint, ctx.services.clock.now()));
  },

  async deleteWebhookEndpoint(ctx) {
    const { user } = callerOf(ctx, 'session');
    const endpoint = ownEndpoint(ctx, user);
    await ctx.services.store.commit({ type: 'webhook.endpoint.deleted', at: ctx.services.clock.now(), endpointId: endpoint.id });
    return { status: 200, body: { statusCode: 200, message: 'Webhook endpoint deleted successfully.' } };
  },

  async rotateWebhookSecret(ctx) {
    const { user } = callerOf(ctx, 'session');
    const endpoint = ownEndpoint(ctx, user);
    const body = (ctx.body ?? {}) as Schemas['WebhookSecretRotateRequest'];
    const at = ctx.services.clock.now();
    const secret = newSigningSecret();
    const previousSecretExpiresAt = at + (body.overlapSeconds ?? DEFAULT_OVERLAP_SECONDS) * 1000;
    await ctx.services.store.commit({ type: 'webhook.secret.rotated', at, endpointId: endpoint.id, secret, previousSecretExpiresAt });
    const rotated: Schemas['WebhookSecretRotated'] = { id: endpoint.id, secret, previousSecretExpiresAt: iso(previousSecretExpiresAt) };
    return ok(200, rotated);
  },

  async sendWebhookTestEvent(ctx) {
    const { user } = callerOf(ctx, 'session');
    const endpoint = ownEndpoint(ctx, user);
    const body = (ctx.body ?? {}) as Schemas['WebhookTestEventRequest'];
    const eventType = body.eventType ?? 'delta.recorded';
    const at = ctx.services.clock.now();
    // To this endpoint only, subscribed or not, active or not (the operation's description).
    const event = announcement({
      eventType,
      tenantId: user.tenantId,
      environment: endpoint.environment,
      data: sampleData(eventType, { tenantId: user.tenantId, environment: endpoint.environment, at }),
      at,
      endpointIds: [endpoint.id],
      test: true,
      requestId: ctx.requestId,
    });
    await ctx.services.store.commit(event);
    ctx.services.webhooks.flush();
    const queued: Schemas['WebhookTestEventQueued'] = { eventId: event.eventId, deliveryId: event.deliveries[0]!.deliveryId };
    return ok(202, queued);
  },

  listWebhookDeliveries(ctx) {
    const { user } = callerOf(ctx, 'session');
    const endpoint = ownEndpoint(ctx, user);
    const w = ctx.services.store.state.webhooks;
    // Newest first; the endpoint keeps its deliveries in creation order.
    const deliveries = [...endpoint.deliveries].reverse().map((id) => w.deliveries.get(id)!);
    const page = paginate(deliveries, ctx.query);
    return ok(200, { ...page, items: page.items.map(deliveryView) });
  },
};
