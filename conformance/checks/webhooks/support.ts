// What the webhook and event checks share: endpoints of this run, each registered with its own
// query tag on the receiver's URL (so every delivery can be told apart by where it was sent,
// whatever it is signed with), the contract's event schemas, and reading what arrived as a set
// of events deduplicated on the event id (events may arrive more than once, in any order).
import { randomBytes } from 'node:crypto';
import type { Check } from '../../check.ts';
import { CSRF, type CheckContext } from '../../context.ts';
import { ensure, expectStatus } from '../../lib/assert.ts';
import { loadContract } from '../../lib/contract.ts';
import { currentScope, sleep, type Client, type Exchange } from '../../lib/http.ts';
import type { Delivery, Receiver } from '../../lib/receiver.ts';
import { signaturesOf, signedBy } from '../../lib/signature.ts';

export const ALL_EVENTS = [
  'delta.recorded',
  'delta.confirmed',
  'checkpoint.created',
  'environment.activated',
  'api_key.created',
  'api_key.regenerated',
  'api_key.enabled',
  'api_key.disabled',
  'api_key.deleted',
] as const;
export type EventType = (typeof ALL_EVENTS)[number];

/** The five headers every delivery carries (lowercase, as received). */
export const DELIVERY_HEADERS = ['x-pacspace-signature', 'x-pacspace-timestamp', 'x-pacspace-event-id', 'x-pacspace-event-type', 'x-pacspace-delivery-id'];

let contract: ReturnType<typeof loadContract> | undefined;
/** The bundled contract, loaded once per process. */
export const theContract = () => (contract ??= loadContract());

/** Problems of an event body against its type's schema in the contract's `webhooks`, or []. */
export function eventProblems(body: any): string[] {
  const type = body?.type;
  if (typeof type !== 'string' || !(ALL_EVENTS as readonly string[]).includes(type)) return [`"type" ${JSON.stringify(type)} is not an event type of the contract`];
  return theContract().validateSchema(`#/webhooks/${type}/post/requestBody/content/application~1json/schema`, body);
}

/** The properties a schema of the contract documents (server extensions are ignored when comparing). */
export function schemaFields(name: string): string[] {
  return Object.keys(theContract().doc.components.schemas[name]?.properties ?? {});
}

/** Whether two API objects agree on the given fields, compared as JSON values. */
export function differingFields(a: any, b: any, fields: string[]): string[] {
  return fields.filter((f) => !sameValue(a?.[f], b?.[f]));
}

/** JSON equality that ignores members a server adds beyond what the other side has (`x_…` extensions). */
function sameValue(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (typeof a !== typeof b || a === null || b === null || typeof a !== 'object') return false;
  if (Array.isArray(a) !== Array.isArray(b)) return false;
  if (Array.isArray(a)) return a.length === (b as unknown[]).length && a.every((v, i) => sameValue(v, (b as unknown[])[i]));
  const x = a as Record<string, unknown>;
  const y = b as Record<string, unknown>;
  const keys = new Set([...Object.keys(x), ...Object.keys(y)].filter((k) => !k.startsWith('x_')));
  return [...keys].every((k) => Object.hasOwn(x, k) && Object.hasOwn(y, k) && sameValue(x[k], y[k]));
}

export type Hook = {
  id: string;
  label: string;
  /** The query tag of the URL deliveries are currently sent to (a new `url` gets a new tag). */
  tag: string;
  url: string;
  environment: 'test' | 'live';
  events: string[];
  /** Signing secrets seen, newest first. */
  secrets: string[];
  receiver: Receiver;
  created: Exchange;
};

/** The endpoints each check created (keyed by its scope), deleted when it ends. */
const createdBy = new WeakMap<object, Hook[]>();

/**
 * The check, deleting the endpoints it created as soon as it ends (pass or fail): later checks
 * then neither receive their deliveries nor page through them. The run's cleanup would delete
 * them anyway; this only does it earlier.
 */
export function deletingItsEndpoints<C extends Check>(check: C): C {
  return {
    ...check,
    async run(ctx: CheckContext) {
      try {
        await check.run(ctx);
      } finally {
        const hooks = createdBy.get(currentScope()) ?? [];
        if (hooks.length) {
          const dash = await ctx.dashboard().catch(() => undefined);
          for (const h of hooks) await dash?.delete(`/dashboard/webhooks/${h.id}`, { headers: CSRF }).catch(() => undefined);
        }
      }
    },
  };
}

const newTag = (label: string) => `${label}-${randomBytes(4).toString('hex')}`;

/** The receiver's URL with a query tag: deliveries to it are told apart by `tagOf`. */
export function taggedUrl(receiver: Receiver, tag: string) {
  return `${receiver.url}${receiver.url.includes('?') ? '&' : '?'}hook=${encodeURIComponent(tag)}`;
}

export const tagOf = (d: Delivery) => new URL(d.path, 'http://receiver.invalid').searchParams.get('hook') ?? '';

/** Creates an endpoint of the run (deleted at the end) and records its secret. */
export async function createHook(ctx: CheckContext, label: string, input: { events?: readonly string[]; environment?: 'test' | 'live' } = {}): Promise<Hook> {
  const receiver = await ctx.receiver();
  const dash = await ctx.dashboard();
  const tag = newTag(label);
  const url = taggedUrl(receiver, tag);
  const events = [...(input.events ?? ALL_EVENTS)];
  const environment = input.environment ?? 'test';
  const description = `pacspace conformance ${ctx.runTag} ${label}`;
  const res = await dash.post('/dashboard/webhooks', { headers: CSRF, json: { url, events, description, environment } });
  expectStatus(res, 201, `creating the ${label} webhook endpoint`);
  const id = res.body?.data?.id;
  if (typeof id === 'string') ctx.track('webhook endpoint', id, description, () => dash.delete(`/dashboard/webhooks/${id}`, { headers: CSRF }));
  const secret = res.body?.data?.secret;
  ensure(typeof secret === 'string' && /^whsec_/.test(secret), 'the create response must reveal the whsec_ signing secret');
  ctx.secrets.add(secret, `the signing secret of webhook endpoint ${label}`, res.id);
  const hook: Hook = { id, label, tag, url, environment, events, secrets: [secret], receiver, created: res };
  const scope = currentScope();
  createdBy.set(scope, [...(createdBy.get(scope) ?? []), hook]);
  return hook;
}

/** Points the endpoint at a new tagged URL (PATCH url) and returns the answer. */
export async function moveHook(ctx: CheckContext, hook: Hook, label: string): Promise<Exchange> {
  const dash = await ctx.dashboard();
  const tag = newTag(label);
  const url = taggedUrl(hook.receiver, tag);
  const res = await dash.patch(`/dashboard/webhooks/${hook.id}`, { headers: CSRF, json: { url } });
  expectStatus(res, 200, 'changing the endpoint\'s url');
  hook.tag = tag;
  hook.url = url;
  return res;
}

/** Rotates the endpoint's secret and records the new one. */
export async function rotate(ctx: CheckContext, hook: Hook, overlapSeconds: number): Promise<Exchange> {
  const dash = await ctx.dashboard();
  const res = await dash.post(`/dashboard/webhooks/${hook.id}/rotate-secret`, { headers: CSRF, json: { overlapSeconds } });
  expectStatus(res, 200, 'rotating the signing secret');
  const fresh = res.body?.data?.secret;
  ensure(typeof fresh === 'string' && /^whsec_/.test(fresh), 'the rotation must reveal the new whsec_ secret');
  ensure(!hook.secrets.includes(fresh), 'the rotation revealed a secret the endpoint already had');
  ctx.secrets.add(fresh, `a rotated signing secret of webhook endpoint ${hook.label}`, res.id);
  hook.secrets.unshift(fresh);
  return res;
}

/** Sends a test event to the endpoint; returns the 202 answer's eventId and deliveryId. */
export async function sendTest(ctx: CheckContext, hook: Hook, eventType?: string) {
  const dash = await ctx.dashboard();
  const res = await dash.post(`/dashboard/webhooks/${hook.id}/test`, { headers: CSRF, json: eventType ? { eventType } : {} });
  expectStatus(res, 202, `sending a ${eventType ?? 'default'} test event`);
  const { eventId, deliveryId } = res.body?.data ?? {};
  ensure(typeof eventId === 'string' && /^evt_/.test(eventId), 'the test event\'s answer lacks an evt_ eventId');
  ensure(typeof deliveryId === 'string' && deliveryId.length > 0, 'the test event\'s answer lacks a deliveryId');
  return { eventId: eventId as string, deliveryId: deliveryId as string, exchange: res };
}

/** Deliveries that arrived at the endpoint's URL (any of its tags when given). */
export const arrivedAt = (hook: Hook, tags: string[] = [hook.tag]) => hook.receiver.deliveries.filter((d) => tags.includes(tagOf(d)));

/** Waits for a delivery at the endpoint's current URL that matches. */
export function waitAt(hook: Hook, match: (d: Delivery) => boolean, timeoutMs?: number) {
  return hook.receiver.waitFor((d) => tagOf(d) === hook.tag && match(d), timeoutMs);
}

export const ofEvent = (eventId: string) => (d: Delivery) => d.body?.id === eventId || d.headers['x-pacspace-event-id'] === eventId;
export const ofType = (type: string, where: (data: any) => boolean = () => true) => (d: Delivery) => d.body?.type === type && where(d.body?.data);

/** Distinct events among deliveries (duplicates share an event id). */
export function distinctEvents(deliveries: Delivery[]): Map<string, Delivery[]> {
  const byId = new Map<string, Delivery[]>();
  for (const d of deliveries) {
    const id = String(d.body?.id ?? d.headers['x-pacspace-event-id'] ?? '');
    byId.set(id, [...(byId.get(id) ?? []), d]);
  }
  return byId;
}

/** Whether the delivery's signature header verifies with this secret. */
export const verifiesWith = (d: Delivery, secret: string) => signedBy(secret, d.headers['x-pacspace-timestamp'] ?? '', d.raw, d.headers['x-pacspace-signature']);

/** What is wrong with a signature header's syntax: `v1=` + 64 lowercase hex, several separated by `,`. */
export function signatureSyntaxProblem(header: string | undefined): string | undefined {
  if (!header) return 'X-PacSpace-Signature is missing';
  const parts = header.split(',').map((s) => s.trim());
  const bad = parts.find((p) => !/^v1=[0-9a-f]{64}$/.test(p));
  return bad === undefined ? undefined : `X-PacSpace-Signature "${header.slice(0, 80)}" has a value that is not v1= and 64 lowercase hex characters`;
}

/** The signatures of a delivery in order, each with the index of the secret (of `secrets`) that made it, or -1. */
export function signers(d: Delivery, secrets: string[]): number[] {
  const ts = d.headers['x-pacspace-timestamp'] ?? '';
  return signaturesOf(d.headers['x-pacspace-signature']).map((sig) => secrets.findIndex((s) => signedBy(s, ts, d.raw, `v1=${sig}`)));
}

/**
 * Waits long enough after `marker` arrived for anything sent before it to have arrived too:
 * as long again as the marker took (at least 250 ms, at most 5 s, times --timeout-scale).
 * Deliveries may be late or reordered, so "nothing arrived" is only judged after this.
 */
export async function settle(ctx: CheckContext, triggeredAt: number, marker: Delivery) {
  const took = Math.max(0, marker.receivedAt - triggeredAt);
  await sleep(Math.min(ctx.scaled(5_000), Math.max(ctx.scaled(250), took)), currentScope().signal);
}

/** Every delivery the target lists for an endpoint (newest first), at most 5 pages of 100. */
export async function listedDeliveries(dash: Client, hookId: string): Promise<any[]> {
  const items: any[] = [];
  for (let page = 1; page <= 5; page++) {
    const res = await dash.get(`/dashboard/webhooks/${hookId}/deliveries?page=${page}&limit=100`);
    expectStatus(res, 200, 'listing the endpoint\'s deliveries');
    const got: any[] = res.body?.data?.items ?? [];
    items.push(...got);
    if (got.length < 100 || items.length >= (res.body?.data?.total ?? 0)) break;
  }
  return items;
}

/** Polls `read` until `done` holds (every 100 ms, growing to 1 s), or fails after `timeoutMs` × scale. */
export async function pollUntil<T>(ctx: CheckContext, read: () => Promise<T>, done: (v: T) => boolean, what: string, timeoutMs = 15_000): Promise<T> {
  const deadline = Date.now() + ctx.scaled(timeoutMs);
  let wait = 100;
  for (;;) {
    const value = await read();
    if (done(value)) return value;
    ensure(Date.now() < deadline, `${what} within ${Math.round(ctx.scaled(timeoutMs) / 1000)} s`);
    await sleep(wait, currentScope().signal);
    wait = Math.min(1_000, wait * 2);
  }
}

/** A promise and its resolver: holds a receiver's answer until the check has acted. */
export function gate<T>() {
  let open!: (v: T) => void;
  const promise = new Promise<T>((resolve) => (open = resolve));
  return { promise, open };
}

/** Records a delta with the run's key; returns the 201 answer. */
export async function recordDelta(ctx: CheckContext, customerId: string, delta: string, extra: Record<string, unknown> = {}) {
  const res = await ctx.api.post('/api/v1/balance/delta', { headers: ctx.keyHeaders(), json: { customerId, delta, reason: 'conformance', ...extra } });
  expectStatus(res, 201, 'recording a delta');
  return res;
}

export const customer = (label: string) => `conf-${label}-${Date.now().toString(36)}${randomBytes(3).toString('hex')}`;
