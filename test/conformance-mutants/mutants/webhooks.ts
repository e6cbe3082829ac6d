// Mutants of the webhook, event and environment rows (R-HOOK, R-EVT, R-ENV): each breaks exactly
// one rule row of conformance/rules/*.ts the way a buggy server would. Webhook mutants sit mostly
// on the delivery path: the layer relays every delivery through `delivery(d, send, ctx)`. They
// remember each endpoint as the API showed it (URL, events, environment, active, every signing
// secret from the create and rotate answers), so a changed body is signed again the way the
// buggy server would have signed it. Among them, the sandbox's former fault switches:
// webhook-signature-without-timestamp, webhook-single-signature-during-rotation and
// webhook-secret-in-payload (hook-signature-over-body-only, hook-single-signature-during-rotation,
// hook-secret-in-payload).
import { createHmac, randomBytes } from 'node:crypto';
import {
  answer,
  defineMutants,
  header,
  isOperation,
  json,
  mapJson,
  observing,
  onResponse,
  queryOf,
  withHeaders,
  withJson,
  type Delivery,
  type Mutant,
  type MutantContext,
  type ProxiedRequest,
  type ProxiedResponse,
} from '../mutant.ts';

// ---------------------------------------------------------------------------------------------
// What the mutants remember of the endpoints.

type Remembered = { id: string; url: string; events: string[]; environment: string; active: boolean; deleted: boolean; secrets: string[]; view?: any; rotations: Array<{ overlapSeconds: number; answer: any }> };

const hooksOf = (ctx: MutantContext): Map<string, Remembered> => {
  let m = ctx.memory.get('hooks');
  if (!m) ctx.memory.set('hooks', (m = new Map()));
  return m;
};

const idFromPath = (req: ProxiedRequest) => /^\/dashboard\/webhooks\/([^/?]+)/.exec(req.url)?.[1];

/** Keeps the endpoints' state as the server revealed it (create, rotate, update, get, delete). */
function observe(req: ProxiedRequest, res: ProxiedResponse, ctx: MutantContext) {
  if (res.status >= 300) return;
  const data = json(res)?.data;
  const hooks = hooksOf(ctx);
  const remember = (d: any) => {
    if (!d?.id) return;
    const h: Remembered = hooks.get(d.id) ?? { id: d.id, url: d.url, events: [], environment: 'test', active: true, deleted: false, secrets: [], rotations: [] };
    Object.assign(h, { url: d.url ?? h.url, events: d.events ?? h.events, environment: d.environment ?? h.environment, active: d.active ?? h.active, view: { ...h.view, ...d } });
    delete h.view.secret;
    hooks.set(d.id, h);
    return h;
  };
  if (isOperation(req, 'createWebhookEndpoint')) {
    const h = remember(data);
    if (h && data.secret) h.secrets.unshift(data.secret);
  } else if (isOperation(req, 'rotateWebhookSecret')) {
    const h = hooks.get(data?.id);
    if (h && data.secret) {
      h.secrets.unshift(data.secret);
      h.rotations.unshift({ overlapSeconds: json(req)?.overlapSeconds ?? 86_400, answer: data });
    }
  } else if (isOperation(req, 'updateWebhookEndpoint', 'getWebhookEndpoint')) {
    remember(data);
  } else if (isOperation(req, 'deleteWebhookEndpoint')) {
    const h = hooks.get(idFromPath(req) ?? '');
    if (h) h.deleted = true;
  } else if (isOperation(req, 'sendWebhookTestEvent') && data?.eventId) {
    ctx.memory.set(`test-event:${data.eventId}`, idFromPath(req));
  } else if (isOperation(req, 'createApiKey', 'regenerateApiKey') && data?.id && data.secretKey) {
    ctx.memory.set(`key-secret:${data.id}`, data.secretKey);
  }
}

/** A mutant whose hooks see the endpoints remembered (every exchange is observed on its way back). */
const hookMutant = (m: Mutant): Mutant => observing(observe, m);

/** The remembered endpoint a delivery is addressed to. */
const hookOf = (d: Delivery, ctx: MutantContext) => [...hooksOf(ctx).values()].find((h) => h.url === d.url);

// ---------------------------------------------------------------------------------------------
// Signing as the server does, and changing deliveries.

const hmac = (secret: string, message: string) => createHmac('sha256', Buffer.from(secret, 'utf8')).update(message, 'utf8').digest('hex');
const sigsOf = (d: Delivery) => String(header(d, 'x-pacspace-signature') ?? '').split(',').map((s) => s.trim().replace(/^v1=/, ''));
const tsOf = (d: Delivery) => String(header(d, 'x-pacspace-timestamp') ?? '');

/** The secrets that made the delivery's signatures, in their order (those the mutant knows). */
function signingSecrets(d: Delivery, ctx: MutantContext): string[] {
  const h = hookOf(d, ctx);
  const known = h ? h.secrets : [...hooksOf(ctx).values()].flatMap((x) => x.secrets);
  const raw = d.body.toString('utf8');
  return sigsOf(d).map((sig) => known.find((s) => hmac(s, `${tsOf(d)}.${raw}`) === sig)).filter((s): s is string => !!s);
}

const signatureHeader = (secrets: string[], ts: string, raw: string) => secrets.map((s) => `v1=${hmac(s, `${ts}.${raw}`)}`).join(',');

/** The delivery with another body (and maybe timestamp or secrets), signed again as the server would. */
function resigned(d: Delivery, ctx: MutantContext, change: { body?: any; ts?: string; secrets?: string[] }): Delivery {
  const secrets = change.secrets ?? signingSecrets(d, ctx);
  const raw = change.body === undefined ? d.body.toString('utf8') : JSON.stringify(change.body);
  const ts = change.ts ?? tsOf(d);
  const body = change.body;
  return {
    ...withHeaders(d, {
      'x-pacspace-signature': signatureHeader(secrets, ts, raw),
      'x-pacspace-timestamp': ts,
      ...(body?.id ? { 'x-pacspace-event-id': body.id } : {}),
    }),
    body: Buffer.from(raw),
  };
}

/** A delivery mutant that changes the event body of matching deliveries (and signs it again). */
function onEvent(id: string, rules: string[], description: string, applies: (body: any, d: Delivery, ctx: MutantContext) => boolean, change: (body: any, d: Delivery, ctx: MutantContext) => void): Mutant {
  return hookMutant({
    id,
    rules,
    description,
    async delivery(d, send, ctx) {
      const body = json(d);
      if (!body || !applies(body, d, ctx)) return send(d);
      change(body, d, ctx);
      return send(resigned(d, ctx, { body }));
    },
  });
}

/** A delivery mutant that changes only headers. */
const onDeliveryHeaders = (id: string, rules: string[], description: string, change: (d: Delivery, ctx: MutantContext) => Delivery): Mutant =>
  hookMutant({ id, rules, description, delivery: (d, send, ctx) => send(change(d, ctx)) });

/** A response mutant that also remembers endpoints. */
const onHookResponse = (id: string, rules: string[], description: string, ops: string[], change: (res: ProxiedResponse, req: ProxiedRequest, ctx: MutantContext) => ProxiedResponse | Promise<ProxiedResponse>) =>
  hookMutant(onResponse(id, rules, description, ops, change));

const onData = (res: ProxiedResponse, change: (data: any) => any) => (res.status < 300 ? mapJson(res, (b) => (b && 'data' in b ? ((b.data = change(b.data) ?? b.data), b) : undefined)) : res);

const KEY_EVENT = /^api_key\./;
const shiftIso = (iso: string, ms: number) => new Date(Date.parse(iso) + ms).toISOString();

// ---------------------------------------------------------------------------------------------
// R-HOOK-001 / 002: secrets in answers.

const secretShown: Mutant[] = (
  [
    ['hook-secret-in-endpoint-list', 'listWebhookEndpoints', 'GET /dashboard/webhooks lists each endpoint with its signing secret.'],
    ['hook-secret-in-endpoint-get', 'getWebhookEndpoint', 'GET /dashboard/webhooks/{id} shows the signing secret.'],
    ['hook-secret-in-update-answer', 'updateWebhookEndpoint', 'The update answer shows the signing secret.'],
  ] as const
).map(([id, op, description]) =>
  onHookResponse(id, ['R-HOOK-001'], description, [op], (res, _req, ctx) =>
    onData(res, (data) => {
      for (const e of Array.isArray(data?.items) ? data.items : [data]) {
        const h = hooksOf(ctx).get(e?.id);
        if (h?.secrets[h.secrets.length - 1]) e.secret = h.secrets[h.secrets.length - 1];
      }
    }),
  ),
);

// ---------------------------------------------------------------------------------------------
// R-HOOK-003: the five headers.

const headerDropped = ['x-pacspace-signature', 'x-pacspace-timestamp', 'x-pacspace-event-id', 'x-pacspace-event-type', 'x-pacspace-delivery-id'].map((h) =>
  onDeliveryHeaders(`hook-delivery-without-${h.replace('x-pacspace-', '')}`, ['R-HOOK-003'], `Deliveries lack ${h}.`, (d) => withHeaders(d, { [h]: undefined })),
);

// ---------------------------------------------------------------------------------------------
// R-HOOK-004 / 005 / 006: signature, timestamp, ids.

const resignEach = (d: Delivery, ctx: MutantContext, sign: (secret: string, ts: string, raw: string) => string, ts = tsOf(d)) =>
  withHeaders(d, { 'x-pacspace-timestamp': ts, 'x-pacspace-signature': signingSecrets(d, ctx).map((s) => `v1=${sign(s, ts, d.body.toString('utf8'))}`).join(',') });

const signatureMutants: Mutant[] = [
  onDeliveryHeaders('hook-signature-over-body-only', ['R-HOOK-004'], 'The HMAC covers the raw body alone, not timestamp + "." + body (the former webhook-signature-without-timestamp fault).', (d, ctx) => resignEach(d, ctx, (s, _ts, raw) => hmac(s, raw))),
  onDeliveryHeaders('hook-signature-uppercase-hex', ['R-HOOK-004'], 'Signatures are written in uppercase hex.', (d) => withHeaders(d, { 'x-pacspace-signature': String(header(d, 'x-pacspace-signature')).replace(/v1=([0-9a-f]+)/g, (_m, h: string) => `v1=${h.toUpperCase()}`) })),
  onDeliveryHeaders('hook-signature-key-without-prefix', ['R-HOOK-004'], 'The HMAC is keyed with the secret without its whsec_ prefix.', (d, ctx) => resignEach(d, ctx, (s, ts, raw) => hmac(s.replace(/^whsec_/, ''), `${ts}.${raw}`))),
  onDeliveryHeaders('hook-signatures-space-separated', ['R-HOOK-004'], 'Several signatures are separated by spaces instead of commas.', (d) => withHeaders(d, { 'x-pacspace-signature': String(header(d, 'x-pacspace-signature')).split(',').join(' ') })),
  onDeliveryHeaders('hook-timestamp-in-milliseconds', ['R-HOOK-005'], 'X-PacSpace-Timestamp is Unix milliseconds (and signed so).', (d, ctx) => resignEach(d, ctx, (s, ts, raw) => hmac(s, `${ts}.${raw}`), String(Date.now()))),
  onDeliveryHeaders('hook-timestamp-stale', ['R-HOOK-005'], 'X-PacSpace-Timestamp is when the event was queued by a lagging worker, 10 minutes before the attempt (signed so).', (d, ctx) => resignEach(d, ctx, (s, ts, raw) => hmac(s, `${ts}.${raw}`), String(Math.floor(Date.now() / 1000) - 600))),
  onDeliveryHeaders('hook-event-id-header-is-delivery-id', ['R-HOOK-006'], 'X-PacSpace-Event-Id carries the delivery id.', (d) => withHeaders(d, { 'x-pacspace-event-id': header(d, 'x-pacspace-delivery-id') })),
  onDeliveryHeaders('hook-event-type-header-for-tests', ['R-HOOK-006'], 'Test deliveries carry X-PacSpace-Event-Type: webhook.test instead of the event\'s type.', (d, ctx) => (ctx.memory.has(`test-event:${header(d, 'x-pacspace-event-id')}`) ? withHeaders(d, { 'x-pacspace-event-type': 'webhook.test' }) : d)),
  onDeliveryHeaders('hook-delivery-id-per-attempt', ['R-HOOK-006'], 'Every attempt gets a new X-PacSpace-Delivery-Id.', (d) => withHeaders(d, { 'x-pacspace-delivery-id': `dlv_${randomBytes(10).toString('hex')}` })),
  onEvent('hook-event-id-per-endpoint', ['R-HOOK-006'], 'Each endpoint gets the event under its own event id.', (b) => !!b.id, (b, d) => {
    b.id = `evt_${createHmac('sha256', d.url).update(b.id).digest('hex').slice(0, 20)}`;
  }),
];

// ---------------------------------------------------------------------------------------------
// R-HOOK-007 / 008 / 009: rotations.

/** Signs the delivery with these secrets instead (chosen from the endpoint's remembered ones). */
function signWith(id: string, rules: string[], description: string, choose: (current: string[], h: Remembered) => string[] | undefined): Mutant {
  return hookMutant({
    id,
    rules,
    description,
    async delivery(d, send, ctx) {
      const h = hookOf(d, ctx);
      const current = signingSecrets(d, ctx);
      const chosen = h && choose(current, h);
      return send(chosen ? resigned(d, ctx, { secrets: chosen }) : d);
    },
  });
}

const rotationMutants: Mutant[] = [
  signWith('hook-single-signature-during-rotation', ['R-HOOK-007'], 'During a rotation\'s overlap only the new secret signs (the former webhook-single-signature-during-rotation fault).', (cur) => (cur.length === 2 ? cur.slice(0, 1) : undefined)),
  signWith('hook-rotation-old-signature-first', ['R-HOOK-007'], 'During an overlap the previous secret\'s signature comes first.', (cur) => (cur.length === 2 ? [cur[1]!, cur[0]!] : undefined)),
  signWith('hook-overlap-zero-ignored', ['R-HOOK-007'], 'overlapSeconds 0 is treated as the default: the previous secret keeps signing.', (cur, h) =>
    cur.length === 1 && h.rotations[0]?.overlapSeconds === 0 && h.secrets[1] ? [cur[0]!, h.secrets[1]] : undefined,
  ),
  signWith('hook-previous-secret-never-retired', ['R-HOOK-007'], 'The previous secret keeps signing after its overlap ended.', (cur, h) =>
    cur.length === 1 && (h.rotations[0]?.overlapSeconds ?? 0) > 0 && h.secrets[1] ? [cur[0]!, h.secrets[1]] : undefined,
  ),
  signWith('hook-three-signatures-after-double-rotation', ['R-HOOK-008'], 'Rotating during an overlap keeps every earlier secret signing (three signatures).', (cur, h) =>
    cur.length === 2 && h.secrets[2] && h.rotations[1]?.overlapSeconds ? [...cur, h.secrets[2]] : undefined,
  ),
  signWith('hook-double-rotation-keeps-original', ['R-HOOK-008'], 'Rotating during an overlap retires the newer previous secret and keeps the original signing.', (cur, h) =>
    cur.length === 2 && h.secrets[2] && h.rotations[1]?.overlapSeconds ? [cur[0]!, h.secrets[2]] : undefined,
  ),
  onHookResponse('hook-previous-expiry-ignores-overlap', ['R-HOOK-009'], 'The rotation answer gives previousSecretExpiresAt as rotation time + 86400 s whatever overlapSeconds was asked.', ['rotateWebhookSecret'], (res, req) =>
    onData(res, (d) => {
      const asked = json(req)?.overlapSeconds ?? 86_400;
      if (asked !== 86_400) d.previousSecretExpiresAt = shiftIso(d.previousSecretExpiresAt, (86_400 - asked) * 1000);
    }),
  ),
  onHookResponse('hook-endpoint-hides-previous-expiry', ['R-HOOK-009'], 'The endpoint never shows previousSecretExpiresAt (always null).', ['getWebhookEndpoint', 'listWebhookEndpoints'], (res) =>
    onData(res, (d) => {
      for (const e of Array.isArray(d?.items) ? d.items : [d]) if (e) e.previousSecretExpiresAt = null;
    }),
  ),
  onHookResponse('hook-endpoint-keeps-expired-expiry', ['R-HOOK-009'], 'The endpoint keeps showing the last rotation\'s previousSecretExpiresAt after the overlap ended.', ['getWebhookEndpoint'], (res, _req, ctx) =>
    onData(res, (d) => {
      const last = hooksOf(ctx).get(d?.id)?.rotations[0];
      if (d && d.previousSecretExpiresAt === null && last) d.previousSecretExpiresAt = last.answer.previousSecretExpiresAt;
    }),
  ),
];

// ---------------------------------------------------------------------------------------------
// R-HOOK-010 / 011: acknowledgement, retries, the deliveries list.

const deliveryListMutants: Mutant[] = [
  hookMutant({ id: 'hook-no-retry-after-failure', rules: ['R-HOOK-010'], description: 'Any answer of the receiver counts as acknowledged: failed attempts are never retried.', delivery: async (d, send) => (await send(d), 200) }),
  hookMutant({
    id: 'hook-only-200-acknowledges',
    rules: ['R-HOOK-010'],
    description: 'Only 200 acknowledges: a 204 (or any other 2xx) is retried.',
    async delivery(d, send) {
      const status = await send(d);
      return status >= 201 && status < 300 ? 500 : status;
    },
  }),
  onHookResponse('hook-deliveries-oldest-first', ['R-HOOK-011'], 'Deliveries are listed oldest first.', ['listWebhookDeliveries'], (res) => onData(res, (d) => void d?.items?.reverse())),
  onHookResponse('hook-delivery-attempts-only-last', ['R-HOOK-011'], 'Each delivery lists only its last attempt.', ['listWebhookDeliveries'], (res) =>
    onData(res, (d) => {
      for (const x of d?.items ?? []) x.attempts = x.attempts.slice(-1);
    }),
  ),
  onHookResponse('hook-delivery-next-attempt-kept', ['R-HOOK-011'], 'A delivery that succeeded after a retry still shows the retry\'s nextAttemptAt.', ['listWebhookDeliveries'], (res) =>
    onData(res, (d) => {
      for (const x of d?.items ?? []) if (x.status === 'succeeded' && x.attempts.length > 1) x.nextAttemptAt = x.attempts.at(-1).attemptedAt;
    }),
  ),
  onHookResponse('hook-deliveries-total-is-page-size', ['R-HOOK-011'], 'The deliveries list gives as total the number of items on the page.', ['listWebhookDeliveries'], (res) =>
    onData(res, (d) => {
      if (d?.items) d.total = d.items.length;
    }),
  ),
  hookMutant({
    id: 'hook-delivery-error-quotes-body',
    rules: ['R-HOOK-011'],
    description: 'A failed attempt\'s error quotes the receiver\'s response body.',
    async delivery(d, _send, ctx) {
      // Sent here (not through the layer's send) to read the receiver's body, as such a server does.
      const res = await fetch(d.url, { method: 'POST', headers: d.headers as Record<string, string>, body: new Uint8Array(d.body), redirect: 'manual' }).catch(() => undefined);
      const text = res ? await res.text() : '';
      if (res && (res.status < 200 || res.status > 299)) ctx.memory.set(`body:${header(d, 'x-pacspace-delivery-id')}`, text.slice(0, 200));
      return res?.status ?? 502;
    },
    async exchange(req, next, ctx) {
      const res = await next(req);
      if (!isOperation(req, 'listWebhookDeliveries')) return res;
      return onData(res, (d) => {
        for (const x of d?.items ?? []) {
          const quoted = ctx.memory.get(`body:${x.id}`);
          if (quoted) for (const a of x.attempts) if (a.error) a.error = `${a.error}: ${quoted}`;
        }
      });
    },
  }),
];

// ---------------------------------------------------------------------------------------------
// R-HOOK-012: secrets in payloads.

const payloadSecretMutants: Mutant[] = [
  onEvent('hook-secret-in-payload', ['R-HOOK-012'], 'Delivery bodies carry the endpoint\'s signing secret (the former webhook-secret-in-payload fault).', () => true, (b, d, ctx) => {
    const h = hookOf(d, ctx);
    if (h?.secrets[0]) b.signingSecret = h.secrets[0];
  }),
  onEvent('hook-key-secret-in-key-event', ['R-HOOK-012'], 'api_key.* events carry the key\'s secretKey.', (b, _d, ctx) => KEY_EVENT.test(b.type) && ctx.memory.has(`key-secret:${b.data?.id}`), (b, _d, ctx) => {
    b.data.secretKey = ctx.memory.get(`key-secret:${b.data.id}`);
  }),
];

// ---------------------------------------------------------------------------------------------
// R-HOOK-013 / 014 / 015: who receives what.

/** Sends a delivery to another remembered endpoint, signed with its newest secret. */
function sendTo(h: Remembered, d: Delivery, send: (d: Delivery) => Promise<number>) {
  const raw = d.body.toString('utf8');
  const ts = tsOf(d);
  return send({ ...withHeaders(d, { 'x-pacspace-signature': signatureHeader(h.secrets.slice(0, 1), ts, raw), 'x-pacspace-delivery-id': `dlv_${randomBytes(10).toString('hex')}` }), url: h.url });
}

/** Posts an event straight to an endpoint's URL, signed with its newest secret (a server's own send). */
async function post(h: Remembered, event: any) {
  const raw = JSON.stringify(event);
  const ts = String(Math.floor(Date.now() / 1000));
  await fetch(h.url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-pacspace-signature': signatureHeader(h.secrets.slice(0, 1), ts, raw), 'x-pacspace-timestamp': ts, 'x-pacspace-event-id': event.id, 'x-pacspace-event-type': event.type, 'x-pacspace-delivery-id': `dlv_${randomBytes(10).toString('hex')}` },
    body: raw,
  }).catch(() => undefined);
}

const newEvent = (type: string, environment: string, data: any) => ({ id: `evt_${randomBytes(10).toString('hex')}`, type, createdAt: new Date().toISOString(), environment, data });

/** Shows the endpoint back as the client asked, whatever the server made of the request. */
const asAsked = (req: ProxiedRequest, res: ProxiedResponse, fields: string[]) =>
  onData(res, (d) => {
    const asked = json(req) ?? {};
    for (const f of fields) if (f in asked) d[f] = asked[f];
  });

const deliveryTargetMutants: Mutant[] = [
  hookMutant({
    id: 'hook-unsubscribed-types-delivered',
    rules: ['R-HOOK-013'],
    description: 'Endpoints get every event type, whatever they subscribe to.',
    async exchange(req, next) {
      if (!isOperation(req, 'createWebhookEndpoint')) return next(req);
      const asked = json(req);
      const res = await next(withJson(req, { ...asked, events: ['delta.recorded', 'delta.confirmed', 'checkpoint.created', 'environment.activated', 'api_key.created', 'api_key.regenerated', 'api_key.enabled', 'api_key.disabled', 'api_key.deleted'] }));
      return asAsked(req, res, ['events']);
    },
  }),
  hookMutant({
    id: 'hook-environment-ignored',
    rules: ['R-HOOK-013'],
    description: 'The endpoint\'s environment is ignored: every endpoint gets Sandbox events.',
    async exchange(req, next) {
      if (!isOperation(req, 'createWebhookEndpoint')) return next(req);
      const asked = json(req);
      const res = await next(withJson(req, { ...asked, environment: 'test' }));
      return asAsked(req, res, ['environment']);
    },
  }),
  hookMutant({
    id: 'hook-backfill-on-create',
    rules: ['R-HOOK-013'],
    description: 'A new endpoint is sent the recent earlier events of its types (a history replay).',
    async exchange(req, next, ctx) {
      const res = await next(req);
      const data = json(res)?.data;
      const log: any[] = (ctx.memory.get('event-log') as any[]) ?? [];
      if (isOperation(req, 'createApiKey') && res.status === 201 && data?.id) {
        const { secretKey: _s, fullKey: _f, ...key } = data;
        log.push(newEvent('api_key.created', key.environment, key));
        ctx.memory.set('event-log', log);
      }
      if (isOperation(req, 'createWebhookEndpoint') && res.status === 201) {
        const h = hooksOf(ctx).get(data.id);
        if (h) for (const e of log.slice(-20)) if (h.events.includes(e.type) && h.environment === e.environment) await post(h, e);
      }
      return res;
    },
  }),
  hookMutant({
    id: 'hook-disabled-endpoint-still-delivers',
    rules: ['R-HOOK-014'],
    description: 'Disabling an endpoint is shown but not applied: it keeps receiving events.',
    async exchange(req, next, ctx) {
      const asked = json(req);
      if (isOperation(req, 'updateWebhookEndpoint') && asked?.active === false) {
        ctx.memory.set(`off:${idFromPath(req)}`, true);
        const { active: _a, ...rest } = asked;
        const res = Object.keys(rest).length ? await next(withJson(req, rest)) : await next({ ...req, method: 'GET', body: Buffer.alloc(0) });
        return onData({ ...res, status: res.status }, (d) => ({ ...d, active: false }));
      }
      if (isOperation(req, 'updateWebhookEndpoint') && asked?.active === true) ctx.memory.delete(`off:${idFromPath(req)}`);
      const res = await next(req);
      if (isOperation(req, 'getWebhookEndpoint') && ctx.memory.has(`off:${idFromPath(req)}`)) return onData(res, (d) => ({ ...d, active: false }));
      return res;
    },
  }),
  hookMutant({
    id: 'hook-disabled-events-delivered-on-enable',
    rules: ['R-HOOK-014'],
    description: 'Events that occur while an endpoint is disabled are queued and delivered when it is enabled again.',
    async exchange(req, next, ctx) {
      const asked = json(req);
      const id = idFromPath(req) ?? '';
      if (isOperation(req, 'updateWebhookEndpoint') && asked?.active === false) {
        ctx.memory.set(`queue:${id}`, []);
        const res = await next({ ...req, method: 'GET', body: Buffer.alloc(0) });
        return onData(res, (d) => ({ ...d, active: false }));
      }
      if (isOperation(req, 'updateWebhookEndpoint') && asked?.active === true && ctx.memory.has(`queue:${id}`)) {
        const queued: Delivery[] = ctx.memory.get(`queue:${id}`);
        ctx.memory.delete(`queue:${id}`);
        const res = await next(req);
        for (const d of queued) await fetch(d.url, { method: 'POST', headers: d.headers as Record<string, string>, body: new Uint8Array(d.body) }).catch(() => undefined);
        return res;
      }
      const res = await next(req);
      if (isOperation(req, 'getWebhookEndpoint') && ctx.memory.has(`queue:${id}`)) return onData(res, (d) => ({ ...d, active: false }));
      return res;
    },
    async delivery(d, send, ctx) {
      const h = hookOf(d, ctx);
      const queue: Delivery[] | undefined = h && ctx.memory.get(`queue:${h.id}`);
      // Test events still go out at once (they ignore the state); real events wait.
      if (!queue || ctx.memory.has(`test-event:${header(d, 'x-pacspace-event-id')}`)) return send(d);
      queue.push(d);
      return 200;
    },
  }),
  onHookResponse('hook-disable-leaves-retries-pending', ['R-HOOK-014'], 'Disabling an endpoint leaves its deliveries awaiting a retry pending.', ['listWebhookDeliveries'], (res, req, ctx) =>
    hooksOf(ctx).get(idFromPath(req) ?? '')?.active === false
      ? onData(res, (d) => {
          for (const x of d?.items ?? []) if (x.status === 'failed' && x.attempts.length < 6) Object.assign(x, { status: 'pending', nextAttemptAt: new Date(Date.now() + 60_000).toISOString() });
        })
      : res,
  ),
  hookMutant({
    id: 'hook-test-event-to-all-endpoints',
    rules: ['R-HOOK-015'],
    description: 'A test event goes to every endpoint of the environment, not only the one asked.',
    async delivery(d, send, ctx) {
      const status = await send(d);
      const target = hookOf(d, ctx);
      if (target && ctx.memory.has(`test-event:${header(d, 'x-pacspace-event-id')}`) && !ctx.memory.has(`fanned:${header(d, 'x-pacspace-event-id')}`)) {
        ctx.memory.set(`fanned:${header(d, 'x-pacspace-event-id')}`, true);
        for (const h of hooksOf(ctx).values()) if (h !== target && !h.deleted && h.active && h.environment === target.environment && h.secrets.length) await sendTo(h, d, send);
      }
      return status;
    },
  }),
  hookMutant({
    id: 'hook-test-event-skips-disabled',
    rules: ['R-HOOK-015'],
    description: 'A test event to a disabled endpoint is dropped.',
    async delivery(d, send, ctx) {
      const h = hookOf(d, ctx);
      return h && !h.active && ctx.memory.has(`test-event:${header(d, 'x-pacspace-event-id')}`) ? 200 : send(d);
    },
  }),
  hookMutant({
    id: 'hook-test-event-unsubscribed-dropped',
    rules: ['R-HOOK-015'],
    description: 'A test event of a type the endpoint does not subscribe to is dropped.',
    async delivery(d, send, ctx) {
      const h = hookOf(d, ctx);
      return h && !h.events.includes(String(header(d, 'x-pacspace-event-type'))) && ctx.memory.has(`test-event:${header(d, 'x-pacspace-event-id')}`) ? 200 : send(d);
    },
  }),
];

// ---------------------------------------------------------------------------------------------
// R-HOOK-016: public https URLs only, no redirects.

/** Whether a URL's host is an IP literal the server should refuse (as the WHATWG parser reads it). */
function isNonPublicLiteral(url: string, spelledOnly?: (host: string) => boolean) {
  let host: string;
  try {
    host = new URL(url).hostname;
  } catch {
    return false;
  }
  const spelled = /^https?:\/\/([^/:?#]+|\[[^\]]+\])/.exec(url)?.[1] ?? '';
  if (spelledOnly && !spelledOnly(spelled)) return false;
  return /^(10\.|169\.254\.|192\.168\.|100\.(6[4-9]|[7-9]\d|1[01]\d|12[0-7])\.|172\.(1[6-9]|2\d|3[01])\.)/.test(host) || /^\[(f[cd]|fe[89ab]|::ffff:(a|c0a8|a9fe))/i.test(host);
}

/** Lets a refused URL through: the server is asked for a harmless public one and shows back the one asked. */
function acceptsUrl(id: string, description: string, ops: string[], refused: (url: string) => boolean): Mutant {
  return hookMutant({
    id,
    rules: ['R-HOOK-016'],
    description,
    async exchange(req, next) {
      const asked = json(req);
      if (!isOperation(req, ...ops) || typeof asked?.url !== 'string' || !refused(asked.url)) return next(req);
      const res = await next(withJson(req, { ...asked, url: `https://example.com/accepted-${randomBytes(4).toString('hex')}` }));
      return asAsked(req, res, ['url']);
    },
  });
}

const urlMutants: Mutant[] = [
  acceptsUrl('hook-private-url-accepted', 'Endpoints for private and link-local addresses are created.', ['createWebhookEndpoint'], (u) => isNonPublicLiteral(u)),
  acceptsUrl('hook-numeric-host-spelling-accepted', 'A private address written as one decimal or hex number (167772161, 0xa9fea9fe) is not recognized and accepted.', ['createWebhookEndpoint'], (u) => isNonPublicLiteral(u, (h) => /^(0x[0-9a-f]+|\d+)$/i.test(h))),
  acceptsUrl('hook-ipv4-mapped-accepted', 'A private address written as IPv4-mapped IPv6 ([::ffff:a9fe:a9fe]) is accepted.', ['createWebhookEndpoint'], (u) => /\[::ffff:/i.test(u)),
  acceptsUrl('hook-update-private-url-accepted', 'Changing an endpoint\'s url to a private address is accepted (only create checks it).', ['updateWebhookEndpoint'], (u) => isNonPublicLiteral(u)),
  hookMutant({
    id: 'hook-redirect-followed',
    rules: ['R-HOOK-016'],
    description: 'Deliveries follow the receiver\'s redirects (307 keeps the POST and its body).',
    async delivery(d) {
      const res = await fetch(d.url, { method: 'POST', headers: d.headers as Record<string, string>, body: new Uint8Array(d.body), redirect: 'follow' }).catch(() => undefined);
      await res?.arrayBuffer().catch(() => undefined);
      return res?.status ?? 502;
    },
  }),
];

// ---------------------------------------------------------------------------------------------
// R-HOOK-017 / 018 / 019: update, delete, list.

const endpointMutants: Mutant[] = [
  hookMutant({
    id: 'hook-update-empty-accepted',
    rules: ['R-HOOK-017'],
    description: 'An update with no property is accepted (200) instead of 422.',
    async exchange(req, next) {
      const asked = json(req);
      if (isOperation(req, 'updateWebhookEndpoint') && asked && typeof asked === 'object' && !Array.isArray(asked) && Object.keys(asked).length === 0) return next({ ...req, method: 'GET', body: Buffer.alloc(0) });
      return next(req);
    },
  }),
  hookMutant({
    id: 'hook-update-changes-secret',
    rules: ['R-HOOK-017'],
    description: 'Updating an endpoint gives it a new signing secret (never shown): later deliveries no longer verify with the one revealed.',
    async exchange(req, next, ctx) {
      const res = await next(req);
      if (isOperation(req, 'updateWebhookEndpoint') && res.status === 200) ctx.memory.set(`resecret:${idFromPath(req)}`, `whsec_${randomBytes(16).toString('hex')}`);
      return res;
    },
    async delivery(d, send, ctx) {
      const h = hookOf(d, ctx);
      const secret = h && ctx.memory.get(`resecret:${h.id}`);
      return send(secret ? resigned(d, ctx, { secrets: [secret] }) : d);
    },
  }),
  hookMutant({
    id: 'hook-update-url-ignored',
    rules: ['R-HOOK-017'],
    description: 'A new url is shown but not used: deliveries keep going to the old one.',
    async exchange(req, next) {
      const asked = json(req);
      if (!isOperation(req, 'updateWebhookEndpoint') || !asked?.url) return next(req);
      const { url: _u, ...rest } = asked;
      const res = Object.keys(rest).length ? await next(withJson(req, rest)) : await next({ ...req, method: 'GET', body: Buffer.alloc(0) });
      return asAsked(req, res, ['url']);
    },
  }),
  hookMutant({
    id: 'hook-deleted-endpoint-still-readable',
    rules: ['R-HOOK-018'],
    description: 'A deleted endpoint can still be read (GET answers 200 with it).',
    async exchange(req, next, ctx) {
      const res = await next(req);
      const h = hooksOf(ctx).get(idFromPath(req) ?? '');
      if (isOperation(req, 'getWebhookEndpoint') && res.status === 404 && h?.deleted && h.view) return answer(200, { statusCode: 200, data: h.view });
      return res;
    },
  }),
  onHookResponse('hook-deleted-endpoint-still-listed', ['R-HOOK-018'], 'Deleted endpoints are still listed.', ['listWebhookEndpoints'], (res, _req, ctx) =>
    onData(res, (d) => {
      const gone = [...hooksOf(ctx).values()].filter((h) => h.deleted && h.view);
      if (d?.items && gone.length) {
        d.items.unshift(...gone.map((h) => h.view));
        d.total += gone.length;
      }
    }),
  ),
  onHookResponse('hook-list-oldest-first', ['R-HOOK-019'], 'Endpoints are listed oldest first.', ['listWebhookEndpoints'], (res) => onData(res, (d) => void d?.items?.reverse())),
  onHookResponse('hook-list-total-is-page-size', ['R-HOOK-019'], 'The endpoint list gives as total the number of items on the page.', ['listWebhookEndpoints'], (res) =>
    onData(res, (d) => {
      if (d?.items) d.total = d.items.length;
    }),
  ),
  hookMutant({
    id: 'hook-list-omits-live',
    rules: ['R-HOOK-019'],
    description: 'The endpoint list shows only Sandbox (test) endpoints.',
    async exchange(req, next) {
      const res = await next(req);
      if (!isOperation(req, 'listWebhookEndpoints')) return res;
      return onData(res, (d) => {
        const kept = (d?.items ?? []).filter((x: any) => x.environment !== 'live');
        d.total -= (d?.items?.length ?? 0) - kept.length;
        d.items = kept;
      });
    },
  }),
  hookMutant({
    id: 'hook-list-ignores-page',
    rules: ['R-HOOK-019'],
    description: 'The endpoint list ignores `page`: every page is the first one (numbered as asked).',
    async exchange(req, next) {
      if (!isOperation(req, 'listWebhookEndpoints')) return next(req);
      const q = queryOf(req);
      const page = q.get('page');
      if (!page || page === '1') return next(req);
      q.set('page', '1');
      const res = await next({ ...req, url: `${req.url.split('?')[0]}?${q}` });
      return onData(res, (d) => ({ ...d, page: Number(page) }));
    },
  }),
];

// ---------------------------------------------------------------------------------------------
// R-EVT: event payloads.

const eventMutants: Mutant[] = [
  onEvent('evt-recorded-balance-after-is-delta', ['R-EVT-001'], 'delta.recorded shows balanceAfter as the delta alone (the balance before is left out).', (b) => b.type === 'delta.recorded', (b) => {
    b.data.balanceAfter = b.data.delta;
  }),
  onEvent('evt-recorded-after-confirmation', ['R-EVT-001'], 'delta.recorded is built once the delta is confirmed: status confirmed with confirmedAt.', (b) => b.type === 'delta.recorded', (b) => {
    Object.assign(b.data, { status: 'confirmed', confirmedAt: b.createdAt });
  }),
  hookMutant({
    id: 'evt-recorded-again-on-replay',
    rules: ['R-EVT-001'],
    description: 'An idempotent replay of a delta sends delta.recorded again, as a new event.',
    async exchange(req, next, ctx) {
      const res = await next(req);
      if (isOperation(req, 'recordDelta') && header(res, 'idempotent-replayed') === 'true') {
        const receipt = json(res)?.data;
        for (const h of hooksOf(ctx).values()) if (!h.deleted && h.active && h.events.includes('delta.recorded') && h.environment === receipt?.environment) await post(h, newEvent('delta.recorded', receipt.environment, receipt));
      }
      return res;
    },
  }),
  onEvent('evt-confirmed-without-confirmed-at', ['R-EVT-002'], 'delta.confirmed leaves confirmedAt null.', (b) => b.type === 'delta.confirmed', (b) => {
    b.data.confirmedAt = null;
  }),
  onEvent('evt-confirmed-at-is-event-time', ['R-EVT-002'], 'delta.confirmed gives as confirmedAt a moment other than the receipt\'s (the time the event was built).', (b) => b.type === 'delta.confirmed', (b) => {
    b.data.confirmedAt = shiftIso(b.data.confirmedAt, 1_000);
  }),
  onEvent('evt-checkpoint-closing-is-opening', ['R-EVT-003'], 'checkpoint.created shows the opening balance as the closing one.', (b) => b.type === 'checkpoint.created', (b) => {
    b.data.closingBalance = b.data.openingBalance;
  }),
  onEvent('evt-checkpoint-chain-dropped', ['R-EVT-003'], 'checkpoint.created of a later checkpoint gives previousProofRoot null (the API answers the chain).', (b) => b.type === 'checkpoint.created' && !!b.data?.previousProofRoot, (b) => {
    b.data.previousProofRoot = null;
  }),
  onEvent('evt-activated-envelope-is-network', ['R-EVT-004'], 'environment.activated gives the network (mainnet) as the envelope\'s environment.', (b) => b.type === 'environment.activated', (b) => {
    b.environment = b.data.environment;
  }),
  onEvent('evt-activated-at-request-time', ['R-EVT-004'], 'environment.activated gives as provisionedAt a moment before the environment became active.', (b) => b.type === 'environment.activated', (b) => {
    b.data.provisionedAt = shiftIso(b.data.provisionedAt, -1_000);
  }),
  hookMutant({
    id: 'evt-key-created-to-every-environment',
    rules: ['R-EVT-005'],
    description: 'api_key.created goes to the endpoints of both environments.',
    async delivery(d, send, ctx) {
      const status = await send(d);
      const id = header(d, 'x-pacspace-event-id');
      if (header(d, 'x-pacspace-event-type') === 'api_key.created' && !ctx.memory.has(`copied:${id}`)) {
        ctx.memory.set(`copied:${id}`, true);
        const from = hookOf(d, ctx);
        for (const h of hooksOf(ctx).values()) if (from && h.environment !== from.environment && !h.deleted && h.events.includes('api_key.created')) await sendTo(h, d, send);
      }
      return status;
    },
  }),
  onEvent('evt-key-created-name-stale', ['R-EVT-005'], 'api_key.created shows the key\'s name before it was trimmed and tagged (the request\'s draft).', (b) => b.type === 'api_key.created', (b) => {
    b.data.name = `${b.data.name} (draft)`;
  }),
  onEvent('evt-regenerated-new-public-key', ['R-EVT-006'], 'api_key.regenerated shows a new publicKey.', (b) => b.type === 'api_key.regenerated', (b) => {
    b.data.publicKey = `${String(b.data.publicKey).slice(0, -4)}AAAA`;
  }),
  onEvent('evt-enabled-shows-inactive', ['R-EVT-007'], 'api_key.enabled shows the key as it was before (active false).', (b) => b.type === 'api_key.enabled', (b) => {
    b.data.active = false;
  }),
  onEvent('evt-disabled-shows-active', ['R-EVT-008'], 'api_key.disabled shows the key as it was before (active true).', (b) => b.type === 'api_key.disabled', (b) => {
    b.data.active = true;
  }),
  onEvent('evt-deleted-shows-after-deletion', ['R-EVT-009'], 'api_key.deleted shows the key as deactivated by the deletion, not as it was just before.', (b) => b.type === 'api_key.deleted', (b) => {
    b.data.active = !b.data.active;
  }),
  onEvent('evt-created-at-per-attempt', ['R-EVT-010'], 'createdAt is the time of each sending, not of the event.', () => true, (b) => {
    b.createdAt = new Date().toISOString();
  }),
  onEvent('evt-id-without-prefix', ['R-EVT-010'], 'Event ids are bare UUID-like strings without the evt_ prefix.', (b) => typeof b.id === 'string', (b) => {
    b.id = b.id.replace(/^evt_/, 'event-');
  }),
];

// ---------------------------------------------------------------------------------------------
// R-ENV: environments.

const envList = (op: string) => (req: ProxiedRequest) => isOperation(req, op);

const environmentMutants: Mutant[] = [
  onResponse('env-provision-answers-active', ['R-ENV-001'], 'Provisioning answers status active at once instead of provisioning.', ['provisionEnvironment'], (res) => onData(res, (d) => ({ ...d, status: 'active' }))),
  {
    id: 'env-reprovision-accepted',
    rules: ['R-ENV-002'],
    description: 'Provisioning an active environment answers 201 provisioning again.',
    async exchange(req, next) {
      const res = await next(req);
      if (!isOperation(req, 'provisionEnvironment') || res.status !== 409) return res;
      const asked = json(req);
      return answer(201, { statusCode: 201, data: { tenantId: 'tnt_unknown0', environment: asked?.environment, status: 'provisioning', message: 'Environment is being provisioned.' } });
    },
  },
  onResponse('env-reprovision-wrong-code', ['R-ENV-002'], 'Provisioning an active environment is a 409 with code conflict.', ['provisionEnvironment'], (res) =>
    res.status === 409 ? mapJson(res, (p) => ({ ...p, code: 'conflict', type: 'https://docs.pacspace.io/errors/conflict' })) : res,
  ),
  {
    id: 'env-live-key-before-active',
    rules: ['R-ENV-003'],
    description: 'A live key is created before mainnet is active.',
    async exchange(req, next) {
      const res = await next(req);
      if (!isOperation(req, 'createApiKey') || res.status !== 409) return res;
      const asked = json(req) ?? {};
      const pub = `pk_live_${randomBytes(12).toString('hex')}`;
      const sec = `sk_live_${randomBytes(16).toString('hex')}`;
      return answer(201, { statusCode: 201, data: { id: `key_${randomBytes(8).toString('hex')}`, name: asked.name, environment: 'live', publicKey: pub, permissions: asked.permissions ?? ['balance:read', 'balance:write'], active: true, createdAt: new Date().toISOString(), lastUsedAt: null, secretKey: sec, fullKey: `${pub}.${sec}` } });
    },
  },
  onResponse('env-contracts-list-unprovisioned', ['R-ENV-005'], 'GET /dashboard/contracts also lists environments that were never provisioned.', envList('listContracts'), (res) =>
    onData(res, (d) => {
      if (Array.isArray(d) && d.length === 1) d.push({ ...d[0], id: `ctr_${randomBytes(6).toString('hex')}`, environment: d[0].environment === 'testnet' ? 'mainnet' : 'testnet', status: 'provisioning', provisionedAt: null });
    }),
  ),
  onResponse('env-contracts-mainnet-first', ['R-ENV-005'], 'GET /dashboard/contracts lists mainnet first.', envList('listContracts'), (res) => onData(res, (d) => (Array.isArray(d) ? [...d].reverse() : d))),
  onResponse('env-status-mainnet-first', ['R-ENV-006'], 'The status report lists mainnet first.', envList('getEnvironmentStatus'), (res) => onData(res, (d) => ({ ...d, environments: [...(d?.environments ?? [])].reverse() }))),
  onResponse('env-status-provisioned-at-when-inactive', ['R-ENV-006'], 'The status report gives provisionedAt to environments that are not active (the tenant\'s creation time).', envList('getEnvironmentStatus'), (res) =>
    onData(res, (d) => {
      const at = d?.environments?.find((e: any) => e.provisionedAt)?.provisionedAt ?? new Date().toISOString();
      for (const e of d?.environments ?? []) e.provisionedAt ??= at;
    }),
  ),
  onResponse('env-environments-names-swapped', ['R-ENV-007'], 'GET /dashboard/environments calls testnet Production and mainnet Sandbox.', envList('listEnvironments'), (res) =>
    onData(res, (d) => {
      for (const e of Array.isArray(d) ? d : []) e.name = e.name === 'Sandbox' ? 'Production' : 'Sandbox';
    }),
  ),
  onResponse('env-environments-same-base-url', ['R-ENV-007'], 'GET /dashboard/environments gives both environments the Sandbox base URL.', envList('listEnvironments'), (res) =>
    onData(res, (d) => {
      if (Array.isArray(d) && d[0]) for (const e of d) e.apiBaseUrl = d[0].apiBaseUrl;
    }),
  ),
  onResponse('env-environments-provisioned-at-when-inactive', ['R-ENV-007'], 'GET /dashboard/environments gives provisionedAt to environments that are not active.', envList('listEnvironments'), (res) =>
    onData(res, (d) => {
      for (const e of Array.isArray(d) ? d : []) e.provisionedAt ??= new Date(0).toISOString();
    }),
  ),
];

export const webhooksMutants = defineMutants([
  ...secretShown,
  hookMutant(
    onResponse('hook-rotation-answers-old-secret', ['R-HOOK-002'], 'The rotation answer shows the previous secret instead of the new one.', ['rotateWebhookSecret'], (res, _req, ctx) =>
      onData(res, (d) => {
        // The endpoint's secrets are remembered newest first: [1] is the one just replaced.
        const h = hooksOf(ctx).get(d?.id);
        if (h?.secrets[1]) d.secret = h.secrets[1];
      }),
    ),
  ),
  ...headerDropped,
  ...signatureMutants,
  ...rotationMutants,
  ...deliveryListMutants,
  ...payloadSecretMutants,
  ...deliveryTargetMutants,
  ...urlMutants,
  ...endpointMutants,
  ...eventMutants,
  ...environmentMutants,
]);
