// The event envelope every delivery carries, exactly as the contract's `webhooks` describe it:
// `{id, type, createdAt, environment, data}`, serialized once when the event is announced so
// that every endpoint and every retry gets the same bytes (and the same `createdAt`).
import type { components } from '../../generated/openapi.d.ts';
import { randomId } from '../security/secrets.ts';
import type { KeyEnvironment } from '../state/events.ts';
import type { WebhookEventAnnounced, WebhookEventType } from '../state/webhooks.ts';
import { isoOf } from '../state/clock.ts';

/** Every event type of the contract, in its order. */
export const WEBHOOK_EVENT_TYPES = [
  'delta.recorded',
  'delta.confirmed',
  'checkpoint.created',
  'environment.activated',
  'api_key.created',
  'api_key.regenerated',
  'api_key.enabled',
  'api_key.disabled',
  'api_key.deleted',
] as const satisfies readonly WebhookEventType[];

// The state's event-type union and the contract's enum must be the same set.
type ContractEventType = components['schemas']['WebhookEventType'];
type Same<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;
const sameTypes: Same<WebhookEventType, ContractEventType> & Same<(typeof WEBHOOK_EVENT_TYPES)[number], ContractEventType> = true;
void sameTypes;

export const isWebhookEventType = (type: string): type is WebhookEventType => (WEBHOOK_EVENT_TYPES as readonly string[]).includes(type);

export const newEventId = () => randomId('evt_', 20);
export const newDeliveryId = () => randomId('dlv_', 20);

/** The `webhook.event.announced` journal event for one event and the endpoints that receive it. */
export function announcement(input: {
  eventType: WebhookEventType;
  tenantId: string;
  environment: KeyEnvironment;
  data: unknown;
  at: number;
  endpointIds: string[];
  test?: boolean;
  requestId?: string;
}): WebhookEventAnnounced {
  const eventId = newEventId();
  const envelope = {
    id: eventId,
    type: input.eventType,
    createdAt: isoOf(input.at),
    environment: input.environment,
    data: input.data,
  };
  return {
    type: 'webhook.event.announced',
    at: input.at,
    eventId,
    eventType: input.eventType,
    tenantId: input.tenantId,
    environment: input.environment,
    body: JSON.stringify(envelope),
    test: input.test ?? false,
    deliveries: input.endpointIds.map((endpointId) => ({ deliveryId: newDeliveryId(), endpointId })),
    ...(input.requestId === undefined ? {} : { requestId: input.requestId }),
  };
}
