// Webhooks over real HTTP: the Dashboard API's endpoint operations, and deliveries to a local
// receiver (node:http on 127.0.0.1) that checks every delivery with its OWN code — node:crypto's
// createHmac and timingSafeEqual, not protocol/webhook-signature.ts — and validates each body
// and header against the contract's `webhooks`. Retries, timeouts, rotation overlaps, tenant
// and environment scoping, non-blocking delivery, and that no secret ever travels.
import { createHmac, timingSafeEqual } from 'node:crypto';
import { createServer, type IncomingHttpHeaders, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Ajv2020 } from 'ajv/dist/2020.js';
import addFormats from 'ajv-formats';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loginDemo, signUp } from '../testing/accounts.ts';
import type { HttpClient } from '../testing/http-client.ts';
import { CSRF, startTestSandbox, type TestSandbox } from '../testing/test-sandbox.ts';
import { waitFor } from '../testing/wait-for.ts';

// Far longer than any answer from the local receiver takes, even on a loaded CI machine: a first
// attempt that timed out would be sent again, and most tests here count what arrived exactly. The
// one test about timeouts lowers it for its receiver that never answers (HANG_TIMEOUT_MS).
const TIMEOUT_MS = 15_000;
const HANG_TIMEOUT_MS = 300;
const RETRY_DELAYS_MS = [50, 100, 200];
const MAX_ATTEMPTS = RETRY_DELAYS_MS.length + 1;
const SECRET = /^whsec_[A-Za-z0-9]{32,64}$/;
const ISO = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/;
const ALL_KEY_EVENTS = ['api_key.created', 'api_key.regenerated', 'api_key.enabled', 'api_key.disabled', 'api_key.deleted'];

let sb: TestSandbox;
let receiver: Receiver;
let tenantId: string;
/** Every secret the tests saw revealed: none may appear in any delivery. */
const revealed = new Set<string>();

beforeAll(async () => {
  sb = await startTestSandbox({ provisioningMs: 60_000, webhooks: { timeoutMs: TIMEOUT_MS, retryDelaysMs: RETRY_DELAYS_MS } });
  revealed.add(sb.demo!.apiKey);
  revealed.add(sb.demo!.apiKey.split('.')[1]!);
  tenantId = (await loginDemo(sb)).tenantId;
  // The receiver judges timestamps by its own (real) clock, though the tests move the sandbox's.
  receiver = await startReceiver(() => Date.now());
});
afterAll(async () => {
  await sb?.close();
  await receiver?.close();
});

// ---------------------------------------------------------------- the receiver's own verification

type Verdict = 'ok' | 'missing header' | 'malformed timestamp' | 'too old' | 'too new' | 'bad signature';

const hmac = (secret: string, timestamp: string, raw: string) => createHmac('sha256', secret).update(`${timestamp}.${raw}`).digest();

/** Whether one `v1=` value is the signature of this delivery with this secret. */
function signedWith(value: string, secret: string, timestamp: string, raw: string): boolean {
  const given = Buffer.from(value.replace(/^v1=/, ''), 'hex');
  const expected = hmac(secret, timestamp, raw);
  return given.length === expected.length && timingSafeEqual(given, expected);
}

/** The receiver's check: a timestamp within 300 s of its clock, and a v1 signature by one of its secrets. */
function verifyDelivery(raw: string, headers: IncomingHttpHeaders, secrets: string[], nowMs: number): Verdict {
  const signature = headers['x-pacspace-signature'];
  const timestamp = headers['x-pacspace-timestamp'];
  if (typeof signature !== 'string' || typeof timestamp !== 'string') return 'missing header';
  if (!/^\d+$/.test(timestamp)) return 'malformed timestamp';
  const age = Math.floor(nowMs / 1000) - Number(timestamp);
  if (age > 300) return 'too old';
  if (age < -300) return 'too new';
  const values = signature.split(',').filter((v) => v.startsWith('v1='));
  return secrets.some((secret) => values.some((v) => signedWith(v, secret, timestamp, raw))) ? 'ok' : 'bad signature';
}

// ---------------------------------------------------------------- the contract's webhook schemas

const bundle = JSON.parse(readFileSync(join(import.meta.dirname, '..', '..', 'generated', 'openapi.json'), 'utf8'));
const ajv = new Ajv2020({ strict: false, allErrors: true, validateSchema: false });
addFormats.default(ajv);
ajv.addSchema(bundle, 'bundle');
const HEADER_PARAMETERS = {
  'x-pacspace-signature': 'WebhookSignatureHeader',
  'x-pacspace-timestamp': 'WebhookTimestampHeader',
  'x-pacspace-event-id': 'WebhookEventIdHeader',
  'x-pacspace-event-type': 'WebhookEventTypeHeader',
  'x-pacspace-delivery-id': 'WebhookDeliveryIdHeader',
} as const;

/** Contract violations of a delivery: its body against the event's schema, its headers against theirs. */
function contractErrors(d: Received): string[] {
  const errors: string[] = [];
  const check = (pointer: string, value: unknown, what: string) => {
    const validate = ajv.getSchema(`bundle${pointer}`) ?? ajv.compile({ $ref: `bundle${pointer}` });
    if (!validate(value)) errors.push(`${what}: ${ajv.errorsText(validate.errors)}`);
  };
  const type = d.headers['x-pacspace-event-type'] as string;
  if (!bundle.webhooks[type]) return [`unknown event type ${type}`];
  check(`#/webhooks/${type}/post/requestBody/content/application~1json/schema`, d.body, 'body');
  for (const [name, parameter] of Object.entries(HEADER_PARAMETERS)) {
    const raw = d.headers[name] as string | undefined;
    if (raw === undefined) errors.push(`${name} missing`);
    else check(`#/components/parameters/${parameter}/schema`, name === 'x-pacspace-timestamp' ? Number(raw) : raw, name);
  }
  if (d.headers['content-type'] !== 'application/json') errors.push(`content-type ${d.headers['content-type']}`);
  if (d.headers['x-pacspace-event-id'] !== d.body.id) errors.push('X-PacSpace-Event-Id differs from the body id');
  if (type !== d.body.type) errors.push('X-PacSpace-Event-Type differs from the body type');
  return errors;
}

// ---------------------------------------------------------------- a local receiver

type Received = { path: string; n: number; headers: IncomingHttpHeaders; raw: string; body: any; receivedAt: number; verdict: Verdict | 'no route' };
type Answer = number | 'hang' | Promise<number>;
type Route = { secrets: string[]; answer: (n: number) => Answer };

async function startReceiver(clock: () => number) {
  const routes = new Map<string, Route>();
  const received: Received[] = [];
  const open = new Set<ServerResponse>();
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', async () => {
      const raw = Buffer.concat(chunks).toString('utf8');
      const path = req.url ?? '/';
      const route = routes.get(path);
      const verdict = route ? verifyDelivery(raw, req.headers, route.secrets, clock()) : 'no route';
      let body: any;
      try {
        body = JSON.parse(raw);
      } catch {
        body = undefined;
      }
      const n = received.filter((r) => r.path === path).length + 1;
      received.push({ path, n, headers: req.headers, raw, body, receivedAt: Date.now(), verdict });
      if (!route) return void res.writeHead(404).end();
      // A receiver that cannot verify a delivery rejects it (the contract's 4XX).
      if (verdict !== 'ok') return void res.writeHead(400).end(verdict);
      const answer = route.answer(n);
      if (answer === 'hang') return void open.add(res);
      open.add(res);
      const status = await answer;
      open.delete(res);
      if (!res.destroyed) res.writeHead(status, status >= 300 && status < 400 ? { location: '/elsewhere' } : {}).end('{"received":true}');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  return {
    url: (path: string) => `http://127.0.0.1:${port}${path}`,
    route(path: string, secrets: string[], answer: Route['answer'] = () => 200) {
      routes.set(path, { secrets, answer });
    },
    setSecrets(path: string, secrets: string[]) {
      routes.get(path)!.secrets = secrets;
    },
    at: (path: string) => received.filter((r) => r.path === path),
    all: () => received,
    close: () =>
      new Promise<void>((resolve) => {
        for (const res of open) res.destroy();
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

type Receiver = Awaited<ReturnType<typeof startReceiver>>;

/** A response the test releases when it chooses. */
function held() {
  let release!: (status: number) => void;
  const answer = new Promise<number>((resolve) => (release = resolve));
  return { answer, release };
}

// ---------------------------------------------------------------- helpers


const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function createEndpoint(path: string, events: string[], extra: Record<string, unknown> = {}, client: HttpClient = sb.dashboard) {
  const res = await client.post('/dashboard/webhooks', { headers: CSRF, json: { url: receiver.url(path), events, ...extra } });
  expect(res.status).toBe(201);
  const endpoint = res.body.data;
  revealed.add(endpoint.secret);
  receiver.route(path, [endpoint.secret]);
  return endpoint as { id: string; secret: string; [k: string]: any };
}

const deliveriesOf = async (id: string, client: HttpClient = sb.dashboard) => {
  const res = await client.get(`/dashboard/webhooks/${id}/deliveries?limit=100`);
  expect(res.status).toBe(200);
  return res.body.data.items as any[];
};

async function settled(id: string, deliveryId: string) {
  return waitFor(async () => {
    const d = (await deliveriesOf(id)).find((x) => x.id === deliveryId);
    return d && d.status !== 'pending' ? d : undefined;
  }, `delivery ${deliveryId} to end`);
}

const sendTest = async (id: string, eventType?: string) => {
  const res = await sb.dashboard.post(`/dashboard/webhooks/${id}/test`, { headers: CSRF, ...(eventType ? { json: { eventType } } : {}) });
  expect(res.status).toBe(202);
  return res.body.data as { eventId: string; deliveryId: string };
};

const createKey = async (json: Record<string, unknown>) => {
  const res = await sb.dashboard.post('/dashboard/api-keys', { headers: CSRF, json });
  expect(res.status).toBe(201);
  revealed.add(res.body.data.secretKey);
  revealed.add(res.body.data.fullKey);
  return res.body.data;
};

// ---------------------------------------------------------------- the tests

describe('endpoint operations', () => {
  let endpoint: Awaited<ReturnType<typeof createEndpoint>>;

  it('creates an endpoint: 201, the whsec_ secret shown this once, test environment by default', async () => {
    endpoint = await createEndpoint('/ops', ['delta.recorded', 'checkpoint.created'], { description: 'Billing service' });
    expect(endpoint).toEqual({
      id: expect.stringMatching(/^wh_[A-Za-z0-9]{6,64}$/),
      url: receiver.url('/ops'),
      description: 'Billing service',
      events: ['delta.recorded', 'checkpoint.created'],
      environment: 'test',
      active: true,
      previousSecretExpiresAt: null,
      createdAt: expect.stringMatching(ISO),
      updatedAt: endpoint.createdAt,
      secret: expect.stringMatching(SECRET),
    });
    expect(endpoint.secret.slice(6).length * Math.log2(62)).toBeGreaterThanOrEqual(128);
  });

  it('lists and gets it without the secret', async () => {
    const list = await sb.dashboard.get('/dashboard/webhooks?page=1&limit=20');
    expect(list.status).toBe(200);
    expect(list.body.data).toMatchObject({ total: 1, page: 1, limit: 20 });
    const { secret: _secret, ...withoutSecret } = endpoint;
    expect(list.body.data.items).toEqual([withoutSecret]);
    const got = await sb.dashboard.get(`/dashboard/webhooks/${endpoint.id}`);
    expect(got.body).toEqual({ statusCode: 200, data: withoutSecret });
    for (const text of [list.text, got.text]) {
      expect(text).not.toContain('"secret"');
      expect(text).not.toContain(endpoint.secret);
      expect(text).not.toContain('whsec_');
    }
  });

  it('lists newest first with pagination', async () => {
    const second = await createEndpoint('/ops-2', ['api_key.deleted'], { environment: 'live' });
    const list = await sb.dashboard.get('/dashboard/webhooks?limit=1');
    expect(list.body.data).toMatchObject({ total: 2, page: 1, limit: 1, items: [{ id: second.id, environment: 'live', description: null }] });
    const page2 = await sb.dashboard.get('/dashboard/webhooks?limit=1&page=2');
    expect(page2.body.data.items.map((e: any) => e.id)).toEqual([endpoint.id]);
    expect((await sb.dashboard.delete(`/dashboard/webhooks/${second.id}`, { headers: CSRF })).status).toBe(200);
  });

  it('updates url, events, description and active; only what was sent changes', async () => {
    await sleep(5);
    const res = await sb.dashboard.patch(`/dashboard/webhooks/${endpoint.id}`, {
      headers: CSRF,
      json: { events: ['delta.confirmed'], description: null, url: receiver.url('/ops-moved') },
    });
    expect(res.status).toBe(200);
    expect(res.body.data).toMatchObject({
      id: endpoint.id,
      url: receiver.url('/ops-moved'),
      events: ['delta.confirmed'],
      description: null,
      active: true,
      environment: 'test',
      createdAt: endpoint.createdAt,
    });
    expect(res.body.data.updatedAt > endpoint.createdAt).toBe(true);
    expect(res.text).not.toContain('whsec_');
    const off = await sb.dashboard.patch(`/dashboard/webhooks/${endpoint.id}`, { headers: CSRF, json: { active: false } });
    expect(off.body.data).toMatchObject({ active: false, events: ['delta.confirmed'], url: receiver.url('/ops-moved') });
    const on = await sb.dashboard.patch(`/dashboard/webhooks/${endpoint.id}`, { headers: CSRF, json: { active: true, description: 'v2' } });
    expect(on.body.data).toMatchObject({ active: true, description: 'v2' });
  });

  it('refuses unsafe requests without X-Pacspace-CSRF: 403, nothing changed', async () => {
    const before = sb.services.store.eventCount;
    const attempts = [
      sb.dashboard.post('/dashboard/webhooks', { json: { url: receiver.url('/x'), events: ['delta.recorded'] } }),
      sb.dashboard.patch(`/dashboard/webhooks/${endpoint.id}`, { json: { active: false } }),
      sb.dashboard.delete(`/dashboard/webhooks/${endpoint.id}`),
      sb.dashboard.post(`/dashboard/webhooks/${endpoint.id}/rotate-secret`, { json: {} }),
      sb.dashboard.post(`/dashboard/webhooks/${endpoint.id}/test`, { json: {} }),
    ];
    for (const res of await Promise.all(attempts)) expect([res.status, res.body.code]).toEqual([403, 'csrf_required']);
    expect(sb.services.store.eventCount).toBe(before);
    expect((await sb.dashboard.get(`/dashboard/webhooks/${endpoint.id}`)).body.data).toMatchObject({ active: true, previousSecretExpiresAt: null });
    expect((await sb.dashboard.get('/dashboard/webhooks')).body.data.total).toBe(1);
  });

  it('refuses bad bodies with 400, 415 and 422, and changes nothing', async () => {
    const before = sb.services.store.eventCount;
    const url = receiver.url('/bad');
    const post = (path: string, options: Parameters<HttpClient['post']>[1]) => sb.dashboard.post(path, { ...options, headers: { ...CSRF, ...options?.headers } });
    const patch = (options: Parameters<HttpClient['patch']>[1]) =>
      sb.dashboard.patch(`/dashboard/webhooks/${endpoint.id}`, { ...options, headers: { ...CSRF, ...options?.headers } });
    const expectCode = async (res: Promise<any>, status: number, code: string) => {
      const r = await res;
      expect([r.status, r.body.code], r.text).toEqual([status, code]);
    };
    await expectCode(post('/dashboard/webhooks', { raw: '{"url":', headers: { 'content-type': 'application/json' } }), 400, 'invalid_json');
    await expectCode(post('/dashboard/webhooks', { raw: `url=${url}`, headers: { 'content-type': 'text/plain' } }), 415, 'unsupported_media_type');
    for (const json of [
      { url: 'ftp://example.com/hooks', events: ['delta.recorded'] },
      { url: 'http://example.com/hooks', events: ['delta.recorded'] },
      { url: 'https://user:pw@example.com/hooks', events: ['delta.recorded'] },
      { url: 'https://example.com/hooks#frag', events: ['delta.recorded'] },
      { url, events: [] },
      { url, events: ['delta.deleted'] },
      { url, events: ['delta.recorded', 'delta.recorded'] },
      { events: ['delta.recorded'] },
      { url },
      { url, events: ['delta.recorded'], environment: 'production' },
      { url, events: ['delta.recorded'], description: '' },
      { url, events: ['delta.recorded'], secret: 'whsec_5WbX2p7QkN4rT9vL1mZ8cH3jF6dS0aYe' },
      // Non-public addresses, in any spelling (the hosted service's rule; the sandbox adds only loopback).
      { url: 'https://10.0.0.1/hooks', events: ['delta.recorded'] },
      { url: 'https://169.254.169.254/latest/meta-data', events: ['delta.recorded'] },
      { url: 'https://0xa9fea9fe/', events: ['delta.recorded'] },
      { url: 'https://167772161/', events: ['delta.recorded'] },
      { url: 'https://100.64.0.1/', events: ['delta.recorded'] },
    ]) {
      await expectCode(post('/dashboard/webhooks', { json }), 422, 'validation_failed');
    }
    await expectCode(patch({ raw: '{', headers: { 'content-type': 'application/json' } }), 400, 'invalid_json');
    await expectCode(patch({ raw: 'active=false', headers: { 'content-type': 'application/x-www-form-urlencoded' } }), 415, 'unsupported_media_type');
    for (const json of [{}, { environment: 'live' }, { url: 'not a url' }, { active: 'no' }, { events: [] }, { secret: 'whsec_x' }, { url: 'https://192.168.1.1/hooks' }]) {
      await expectCode(patch({ json }), 422, 'validation_failed');
    }
    for (const json of [{ overlapSeconds: -1 }, { overlapSeconds: 604_801 }, { overlapSeconds: 1.5 }, { overlap: 60 }]) {
      await expectCode(post(`/dashboard/webhooks/${endpoint.id}/rotate-secret`, { json }), 422, 'validation_failed');
    }
    await expectCode(post(`/dashboard/webhooks/${endpoint.id}/test`, { json: { eventType: 'delta.deleted' } }), 422, 'validation_failed');
    await expectCode(sb.dashboard.get('/dashboard/webhooks/not-an-id'), 422, 'validation_failed');
    await expectCode(sb.dashboard.get('/dashboard/webhooks/wh_doesNotExist1'), 404, 'not_found');
    expect(sb.services.store.eventCount).toBe(before);
    expect(receiver.at('/bad')).toEqual([]);
  });

  it('another tenant\'s endpoint is 404 everywhere, and lists show only one\'s own', async () => {
    const other = await signUp(sb, 'webhooks-other@example.com');
    const before = sb.services.store.eventCount;
    const id = endpoint.id;
    const answers = await Promise.all([
      other.client.get(`/dashboard/webhooks/${id}`),
      other.client.patch(`/dashboard/webhooks/${id}`, { headers: CSRF, json: { active: false } }),
      other.client.delete(`/dashboard/webhooks/${id}`, { headers: CSRF }),
      other.client.post(`/dashboard/webhooks/${id}/rotate-secret`, { headers: CSRF }),
      other.client.post(`/dashboard/webhooks/${id}/test`, { headers: CSRF }),
      other.client.get(`/dashboard/webhooks/${id}/deliveries`),
    ]);
    for (const res of answers) expect([res.status, res.body.code]).toEqual([404, 'not_found']);
    expect(sb.services.store.eventCount).toBe(before);
    expect((await other.client.get('/dashboard/webhooks')).body.data).toEqual({ items: [], total: 0, page: 1, limit: 20 });
    expect(receiver.at('/ops-moved')).toEqual([]);
  });

  it('deletes: 200, then 404 for every operation on it', async () => {
    const res = await sb.dashboard.delete(`/dashboard/webhooks/${endpoint.id}`, { headers: CSRF });
    expect(res.body).toEqual({ statusCode: 200, message: 'Webhook endpoint deleted successfully.' });
    for (const r of [
      await sb.dashboard.get(`/dashboard/webhooks/${endpoint.id}`),
      await sb.dashboard.get(`/dashboard/webhooks/${endpoint.id}/deliveries`),
      await sb.dashboard.delete(`/dashboard/webhooks/${endpoint.id}`, { headers: CSRF }),
      await sb.dashboard.post(`/dashboard/webhooks/${endpoint.id}/test`, { headers: CSRF }),
    ]) {
      expect([r.status, r.body.code]).toEqual([404, 'not_found']);
    }
    expect((await sb.dashboard.get('/dashboard/webhooks')).body.data.total).toBe(0);
  });
});

describe('deliveries', () => {
  it('a test event arrives signed, and is listed like a real one', async () => {
    const endpoint = await createEndpoint('/test-event', ['checkpoint.created']);
    const queued = await sendTest(endpoint.id);
    expect(queued).toEqual({ eventId: expect.stringMatching(/^evt_[A-Za-z0-9]{8,64}$/), deliveryId: expect.stringMatching(/^dlv_[A-Za-z0-9]{8,64}$/) });
    const [d] = await waitFor(() => (receiver.at('/test-event').length ? receiver.at('/test-event') : undefined), 'the test delivery');
    expect(d!.verdict).toBe('ok');
    expect(contractErrors(d!)).toEqual([]);
    expect(d!.headers['x-pacspace-signature']).toMatch(/^v1=[0-9a-f]{64}$/);
    expect(d!.headers['x-pacspace-event-id']).toBe(queued.eventId);
    expect(d!.headers['x-pacspace-delivery-id']).toBe(queued.deliveryId);
    expect(d!.headers['x-pacspace-event-type']).toBe('delta.recorded');
    expect(Object.keys(d!.body)).toEqual(['id', 'type', 'createdAt', 'environment', 'data']);
    expect(d!.body).toMatchObject({ id: queued.eventId, type: 'delta.recorded', environment: 'test', data: { customerId: 'customer_001', status: 'recorded' } });
    const listed = await settled(endpoint.id, queued.deliveryId);
    expect(listed).toEqual({
      id: queued.deliveryId,
      eventId: queued.eventId,
      eventType: 'delta.recorded',
      status: 'succeeded',
      attempts: [{ attempt: 1, attemptedAt: expect.stringMatching(ISO), responseStatus: 200, durationMs: expect.any(Number), error: null }],
      nextAttemptAt: null,
      createdAt: d!.body.createdAt,
    });
  });

  it('sends a sample of every event type on request, each valid against its schema', async () => {
    const endpoint = await createEndpoint('/samples', ['delta.recorded']);
    for (const type of Object.keys(bundle.webhooks)) await sendTest(endpoint.id, type);
    const got = await waitFor(() => (receiver.at('/samples').length === 9 ? receiver.at('/samples') : undefined), 'nine samples');
    expect(new Set(got.map((d) => d.body.type))).toEqual(new Set(Object.keys(bundle.webhooks)));
    for (const d of got) {
      expect(d.verdict).toBe('ok');
      expect(contractErrors(d), d.body.type).toEqual([]);
    }
    const activated = got.find((d) => d.body.type === 'environment.activated')!;
    expect(activated.body.data).toMatchObject({ tenantId, environment: 'testnet', status: 'active' });
  });

  it('api_key.created, disabled, enabled, regenerated and deleted arrive when keys change in the dashboard', async () => {
    const endpoint = await createEndpoint('/keys', ALL_KEY_EVENTS);
    const key = await createKey({ name: 'webhook-watched', permissions: ['balance:read'] });
    // Each event once, as first received: a first attempt that outlasted the delivery timeout would
    // be sent again (a retry the contract allows; the listing below shows it).
    const distinct = () => receiver.at('/keys').filter((d, i, all) => all.findIndex((e) => e.body.id === d.body.id) === i);
    const at = (n: number) => waitFor(() => (distinct().length >= n ? distinct() : undefined), `${n} key events`);
    await at(1);
    expect((await sb.dashboard.post(`/dashboard/api-keys/${key.id}/toggle`, { headers: CSRF })).body.data.active).toBe(false);
    await at(2);
    expect((await sb.dashboard.post(`/dashboard/api-keys/${key.id}/toggle`, { headers: CSRF })).body.data.active).toBe(true);
    await at(3);
    const regenerated = await sb.dashboard.post(`/dashboard/api-keys/${key.id}/regenerate`, { headers: CSRF });
    revealed.add(regenerated.body.data.secretKey);
    revealed.add(regenerated.body.data.fullKey);
    await at(4);
    expect((await sb.dashboard.delete(`/dashboard/api-keys/${key.id}`, { headers: CSRF })).status).toBe(200);
    const got = await at(5);
    expect(got.map((d) => d.body.type)).toEqual(['api_key.created', 'api_key.disabled', 'api_key.enabled', 'api_key.regenerated', 'api_key.deleted']);
    const asListed = { id: key.id, name: 'webhook-watched', environment: 'test', publicKey: key.publicKey, permissions: ['balance:read'], createdAt: key.createdAt, lastUsedAt: null };
    expect(got.map((d) => d.body.data)).toEqual([
      { ...asListed, active: true },
      { ...asListed, active: false },
      { ...asListed, active: true },
      { ...asListed, active: true },
      { ...asListed, active: true },
    ]);
    for (const d of got) {
      expect(d.verdict).toBe('ok');
      expect(contractErrors(d)).toEqual([]);
      expect(d.body.environment).toBe('test');
      expect(d.raw).not.toMatch(/secretKey|fullKey|sk_test_|sk_live_/);
    }
    // The listing shows each of them, newest first, delivered (its last attempt answered 2xx).
    // The receiver sees a request before the sandbox records its answer, so wait for each to end.
    const listed = await waitFor(async () => {
      const items = await deliveriesOf(endpoint.id);
      return items.length === 5 && items.every((l) => l.status !== 'pending') ? items : undefined;
    }, 'the five deliveries to end');
    expect(listed.map((l) => l.eventId)).toEqual(got.map((d) => d.body.id).reverse());
    for (const l of listed) {
      expect(l.status).toBe('succeeded');
      expect(l.attempts.at(-1).responseStatus).toBe(200);
    }
  });

  it('a deleted endpoint receives nothing more', async () => {
    const gone = (await sb.dashboard.get('/dashboard/webhooks')).body.data.items.find((e: any) => e.url === receiver.url('/keys'));
    const witness = await createEndpoint('/witness', ['api_key.created']);
    expect((await sb.dashboard.delete(`/dashboard/webhooks/${gone.id}`, { headers: CSRF })).status).toBe(200);
    const before = receiver.at('/keys').length;
    await createKey({ name: 'after-delete' });
    await waitFor(() => receiver.at('/witness').length === 1, 'the witness delivery');
    await sleep(200);
    expect(receiver.at('/keys').length).toBe(before);
    expect((await sb.dashboard.delete(`/dashboard/webhooks/${witness.id}`, { headers: CSRF })).status).toBe(200);
  });

  it('retries a failing receiver with backoff: 500, 500, 200 → three attempts, succeeded', async () => {
    const endpoint = await createEndpoint('/flaky', ['checkpoint.created']);
    receiver.route('/flaky', [endpoint.secret], (n) => (n <= 2 ? 500 : 200));
    const { deliveryId, eventId } = await sendTest(endpoint.id, 'checkpoint.created');
    const listed = await settled(endpoint.id, deliveryId);
    expect(listed.status).toBe('succeeded');
    expect(listed.nextAttemptAt).toBeNull();
    expect(listed.attempts.map((a: any) => [a.attempt, a.responseStatus, a.error])).toEqual([
      [1, 500, 'non-2xx response status 500'],
      [2, 500, 'non-2xx response status 500'],
      [3, 200, null],
    ]);
    const got = receiver.at('/flaky');
    expect(got).toHaveLength(3);
    // One delivery, one event, the same bytes; each attempt verified, signed afresh.
    expect(new Set(got.map((d) => d.headers['x-pacspace-delivery-id']))).toEqual(new Set([deliveryId]));
    expect(new Set(got.map((d) => d.headers['x-pacspace-event-id']))).toEqual(new Set([eventId]));
    expect(new Set(got.map((d) => d.raw)).size).toBe(1);
    expect(got.every((d) => d.verdict === 'ok')).toBe(true);
    // Exponential backoff: the waits between attempts grow as configured.
    expect(got[1]!.receivedAt - got[0]!.receivedAt).toBeGreaterThanOrEqual(RETRY_DELAYS_MS[0]! - 5);
    expect(got[2]!.receivedAt - got[1]!.receivedAt).toBeGreaterThanOrEqual(RETRY_DELAYS_MS[1]! - 5);
  });

  it('a receiver that never answers: every attempt times out, then the delivery is failed', async () => {
    const endpoint = await createEndpoint('/hang', ['checkpoint.created']);
    receiver.route('/hang', [endpoint.secret], () => 'hang');
    // A short timeout for this test only (the dispatcher reads it at each attempt): nothing else
    // is in flight now, and the receiver never answers, so no load can make it answer in time.
    const { webhooks } = sb.services.config;
    webhooks.timeoutMs = HANG_TIMEOUT_MS;
    try {
      const { deliveryId } = await sendTest(endpoint.id, 'checkpoint.created');
      const listed = await settled(endpoint.id, deliveryId);
      expect(listed.status).toBe('failed');
      expect(listed.nextAttemptAt).toBeNull();
      expect(listed.attempts).toHaveLength(MAX_ATTEMPTS);
      for (const [i, a] of listed.attempts.entries()) {
        expect(a).toMatchObject({ attempt: i + 1, responseStatus: null, error: `timeout after ${HANG_TIMEOUT_MS} ms` });
        expect(a.durationMs).toBeGreaterThanOrEqual(HANG_TIMEOUT_MS - 10);
      }
      expect(receiver.at('/hang')).toHaveLength(MAX_ATTEMPTS);
    } finally {
      webhooks.timeoutMs = TIMEOUT_MS;
    }
  });

  it('connection refused and redirects count as failed attempts too', async () => {
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const port = (closed.address() as AddressInfo).port;
    await new Promise((resolve) => closed.close(resolve));
    const refused = await sb.dashboard.post('/dashboard/webhooks', { headers: CSRF, json: { url: `http://127.0.0.1:${port}/nobody`, events: ['checkpoint.created'] } });
    revealed.add(refused.body.data.secret);
    const redirect = await createEndpoint('/redirect', ['checkpoint.created']);
    receiver.route('/redirect', [redirect.secret], () => 302);
    const a = await sendTest(refused.body.data.id, 'checkpoint.created');
    const b = await sendTest(redirect.id, 'checkpoint.created');
    const [x, y] = await Promise.all([settled(refused.body.data.id, a.deliveryId), settled(redirect.id, b.deliveryId)]);
    expect(x.status).toBe('failed');
    expect(x.attempts.map((t: any) => [t.responseStatus, t.error])).toEqual(Array(MAX_ATTEMPTS).fill([null, 'connection refused']));
    expect(y.status).toBe('failed');
    expect(y.attempts.map((t: any) => [t.responseStatus, t.error])).toEqual(Array(MAX_ATTEMPTS).fill([302, 'non-2xx response status 302']));
    expect(receiver.all().some((r) => r.path === '/elsewhere')).toBe(false);
  });

  it('the API request that caused an event is answered while its delivery is still open', async () => {
    const endpoint = await createEndpoint('/held', ['api_key.created']);
    const gate = held();
    receiver.route('/held', [endpoint.secret], () => gate.answer);
    const res = await sb.dashboard.post('/dashboard/api-keys', { headers: CSRF, json: { name: 'while-held' } });
    expect(res.status).toBe(201);
    revealed.add(res.body.data.secretKey);
    revealed.add(res.body.data.fullKey);
    // The receiver has the delivery and has not answered: it is pending, with no attempt recorded.
    await waitFor(() => receiver.at('/held').length === 1, 'the held delivery');
    const [pending] = await deliveriesOf(endpoint.id);
    expect(pending).toMatchObject({ status: 'pending', attempts: [], nextAttemptAt: expect.stringMatching(ISO) });
    gate.release(204);
    const done = await settled(endpoint.id, pending.id);
    expect(done.attempts).toEqual([expect.objectContaining({ attempt: 1, responseStatus: 204, error: null })]);
    expect(receiver.at('/held')[0]!.body.data.id).toBe(res.body.data.id);
  });

  it('disabling an endpoint ends its pending deliveries as failed; a test event is still sent to it', async () => {
    const endpoint = await createEndpoint('/disabled', ['checkpoint.created', 'api_key.created']);
    const gate = held();
    receiver.route('/disabled', [endpoint.secret], (n) => (n === 1 ? gate.answer : 200));
    const { deliveryId } = await sendTest(endpoint.id, 'checkpoint.created');
    await waitFor(() => receiver.at('/disabled').length === 1, 'the first attempt');
    expect((await sb.dashboard.patch(`/dashboard/webhooks/${endpoint.id}`, { headers: CSRF, json: { active: false } })).status).toBe(200);
    expect((await deliveriesOf(endpoint.id))[0]).toMatchObject({ id: deliveryId, status: 'failed', nextAttemptAt: null, attempts: [] });
    gate.release(500);
    await waitFor(async () => (await deliveriesOf(endpoint.id))[0].attempts.length === 1, 'the attempt to be recorded');
    await sleep(RETRY_DELAYS_MS.reduce((a, b) => a + b, 0) + 100);
    expect(receiver.at('/disabled')).toHaveLength(1);
    expect((await deliveriesOf(endpoint.id))[0]).toMatchObject({ status: 'failed', attempts: [{ responseStatus: 500 }] });
    // Disabled: key events are not sent, a test event is.
    await createKey({ name: 'not-for-disabled' });
    const test = await sendTest(endpoint.id);
    expect((await settled(endpoint.id, test.deliveryId)).status).toBe('succeeded');
    expect(receiver.at('/disabled').map((d) => d.body.type)).toEqual(['checkpoint.created', 'delta.recorded']);
  });

  it('deleting an endpoint cancels its pending retries', async () => {
    const endpoint = await createEndpoint('/deleted', ['checkpoint.created']);
    const gate = held();
    receiver.route('/deleted', [endpoint.secret], (n) => (n === 1 ? gate.answer : 200));
    await sendTest(endpoint.id, 'checkpoint.created');
    await waitFor(() => receiver.at('/deleted').length === 1, 'the first attempt');
    expect((await sb.dashboard.delete(`/dashboard/webhooks/${endpoint.id}`, { headers: CSRF })).status).toBe(200);
    gate.release(500);
    await sleep(RETRY_DELAYS_MS.reduce((a, b) => a + b, 0) + 200);
    expect(receiver.at('/deleted')).toHaveLength(1);
    expect((await sb.dashboard.get(`/dashboard/webhooks/${endpoint.id}/deliveries`)).status).toBe(404);
  });

  it('a tampered body, a changed timestamp or one older than 300 s fails the receiver\'s verification', async () => {
    const d = receiver.at('/test-event')[0]!;
    const secret = [...revealed].find((s) => signedWith(d.headers['x-pacspace-signature'] as string, s, d.headers['x-pacspace-timestamp'] as string, d.raw))!;
    const timestamp = Number(d.headers['x-pacspace-timestamp']);
    const at = (seconds: number) => (timestamp + seconds) * 1000;
    expect(verifyDelivery(d.raw, d.headers, [secret], at(0))).toBe('ok');
    expect(verifyDelivery(d.raw.replace('"100.00"', '"900.00"'), d.headers, [secret], at(0))).toBe('bad signature');
    expect(verifyDelivery(d.raw, { ...d.headers, 'x-pacspace-timestamp': String(timestamp + 1) }, [secret], at(0))).toBe('bad signature');
    expect(verifyDelivery(d.raw, d.headers, ['whsec_' + 'x'.repeat(32)], at(0))).toBe('bad signature');
    expect(verifyDelivery(d.raw, d.headers, [secret], at(300))).toBe('ok');
    expect(verifyDelivery(d.raw, d.headers, [secret], at(301))).toBe('too old');
    expect(verifyDelivery(d.raw, d.headers, [secret], at(-301))).toBe('too new');
    // Over HTTP too: replaying the captured delivery 301 s later is rejected by the receiver.
    const replay = (headers: Record<string, string>, body: string) =>
      fetch(receiver.url('/test-event'), { method: 'POST', headers: { 'content-type': 'application/json', 'x-test-replay': '1', ...headers }, body });
    const old = String(timestamp - 301);
    const stale = await replay({ 'x-pacspace-timestamp': old, 'x-pacspace-signature': `v1=${hmac(secret, old, d.raw).toString('hex')}` }, d.raw);
    expect([stale.status, await stale.text()]).toEqual([400, 'too old']);
    const signed = { 'x-pacspace-timestamp': String(timestamp), 'x-pacspace-signature': d.headers['x-pacspace-signature'] as string };
    const tampered = await replay(signed, d.raw.replace('customer_001', 'customer_002'));
    expect([tampered.status, await tampered.text()]).toEqual([400, 'bad signature']);
  });
});

describe('scoping: an endpoint gets its own tenant\'s and environment\'s events only', () => {
  it('another tenant\'s key events go to its endpoints, never to ours', async () => {
    const ours = await createEndpoint('/ours', ['api_key.created']);
    const other = await signUp(sb, 'webhooks-scoping@example.com');
    const theirs = await createEndpoint('/theirs', ['api_key.created'], {}, other.client);
    const res = await other.client.post('/dashboard/api-keys', { headers: CSRF, json: { name: 'their-key' } });
    revealed.add(res.body.data.secretKey);
    revealed.add(res.body.data.fullKey);
    await waitFor(() => receiver.at('/theirs').length === 1, 'their delivery');
    const mine = await createKey({ name: 'our-key' });
    await waitFor(() => receiver.at('/ours').length === 1, 'our delivery');
    await sleep(100);
    expect(receiver.at('/theirs').map((d) => d.body.data.id)).toEqual([res.body.data.id]);
    expect(receiver.at('/ours').map((d) => d.body.data.id)).toEqual([mine.id]);
    expect((await deliveriesOf(theirs.id, other.client)).length).toBe(1);
    await sb.dashboard.delete(`/dashboard/webhooks/${ours.id}`, { headers: CSRF });
  });

  it('a live endpoint gets environment.activated and live key events, not test ones', async () => {
    const live = await createEndpoint('/live', ['environment.activated', 'api_key.created'], { environment: 'live' });
    const test = await createEndpoint('/test-env', ['environment.activated', 'api_key.created']);
    await createKey({ name: 'a-test-key' });
    await waitFor(() => receiver.at('/test-env').length === 1, 'the test key event');
    const provision = await sb.dashboard.post('/dashboard/contracts/provision', { headers: CSRF, json: { environment: 'mainnet' } });
    expect(provision.status).toBe(201);
    expect(receiver.at('/live')).toEqual([]);
    sb.services.clock.advance(60_000);
    const [activated] = await waitFor(() => (receiver.at('/live').length ? receiver.at('/live') : undefined), 'environment.activated');
    expect(activated!.verdict).toBe('ok');
    expect(contractErrors(activated!)).toEqual([]);
    expect(activated!.body).toMatchObject({ type: 'environment.activated', environment: 'live', data: { tenantId, environment: 'mainnet', status: 'active' } });
    expect(activated!.body.data.provisionedAt).toBe(activated!.body.createdAt);
    const liveKey = await createKey({ name: 'a-live-key', environment: 'live' });
    await waitFor(() => receiver.at('/live').length === 2, 'the live key event');
    expect(receiver.at('/live')[1]!.body).toMatchObject({ type: 'api_key.created', environment: 'live', data: { id: liveKey.id, environment: 'live' } });
    await sleep(100);
    expect(receiver.at('/test-env').map((d) => d.body.type)).toEqual(['api_key.created']);
    await sb.dashboard.delete(`/dashboard/webhooks/${live.id}`, { headers: CSRF });
    await sb.dashboard.delete(`/dashboard/webhooks/${test.id}`, { headers: CSRF });
  });
});

describe('secret rotation', () => {
  it('signs with the new and the previous secret until the overlap ends, then with the new one only', async () => {
    const endpoint = await createEndpoint('/rotating', ['checkpoint.created']);
    const oldSecret = endpoint.secret;
    const rotated = await sb.dashboard.post(`/dashboard/webhooks/${endpoint.id}/rotate-secret`, { headers: CSRF, json: { overlapSeconds: 3600 } });
    expect(rotated.status).toBe(200);
    const { secret: newSecret, previousSecretExpiresAt } = rotated.body.data;
    revealed.add(newSecret);
    expect(rotated.body.data).toEqual({ id: endpoint.id, secret: expect.stringMatching(SECRET), previousSecretExpiresAt: expect.stringMatching(ISO) });
    expect(newSecret).not.toBe(oldSecret);
    expect(Date.parse(previousSecretExpiresAt) - sb.services.clock.now()).toBeGreaterThan(3_590_000);
    const got = await sb.dashboard.get(`/dashboard/webhooks/${endpoint.id}`);
    expect(got.body.data.previousSecretExpiresAt).toBe(previousSecretExpiresAt);
    expect(got.text).not.toContain('whsec_');

    // During the overlap: two v1 values, the new secret's first; a receiver with either secret accepts.
    receiver.setSecrets('/rotating', [oldSecret]);
    await sendTest(endpoint.id);
    const [during] = await waitFor(() => (receiver.at('/rotating').length === 1 ? receiver.at('/rotating') : undefined), 'a delivery during the overlap');
    const ts = during!.headers['x-pacspace-timestamp'] as string;
    const values = (during!.headers['x-pacspace-signature'] as string).split(',');
    expect(values).toHaveLength(2);
    expect(signedWith(values[0]!, newSecret, ts, during!.raw)).toBe(true);
    expect(signedWith(values[1]!, oldSecret, ts, during!.raw)).toBe(true);
    expect(signedWith(values[0]!, oldSecret, ts, during!.raw)).toBe(false);
    expect(during!.verdict).toBe('ok');
    expect(verifyDelivery(during!.raw, during!.headers, [newSecret], Number(ts) * 1000)).toBe('ok');
    expect(contractErrors(during!)).toEqual([]);

    // After the overlap: one value, the new secret's; the old secret no longer verifies.
    sb.services.clock.advance(3_601_000);
    await loginDemo(sb); // the access cookie expired with the hour
    expect((await sb.dashboard.get(`/dashboard/webhooks/${endpoint.id}`)).body.data.previousSecretExpiresAt).toBeNull();
    receiver.setSecrets('/rotating', [newSecret]);
    await sendTest(endpoint.id);
    const after = await waitFor(() => receiver.at('/rotating')[1], 'a delivery after the overlap');
    expect(after.headers['x-pacspace-signature']).toMatch(/^v1=[0-9a-f]{64}$/);
    expect(after.verdict).toBe('ok');
    // The sandbox clock is an hour ahead now; the signature's timestamp is still real time.
    expect(Math.abs(Number(after.headers['x-pacspace-timestamp']) - Date.now() / 1000)).toBeLessThan(5);
    expect(verifyDelivery(after.raw, after.headers, [oldSecret], Date.now())).toBe('bad signature');
  });

  it('overlapSeconds 0 retires the previous secret at once; rotating during an overlap keeps two signatures at most', async () => {
    const endpoint = await createEndpoint('/rotating-2', ['checkpoint.created']);
    const first = endpoint.secret;
    const leaked = await sb.dashboard.post(`/dashboard/webhooks/${endpoint.id}/rotate-secret`, { headers: CSRF, json: { overlapSeconds: 0 } });
    const second = leaked.body.data.secret as string;
    revealed.add(second);
    expect(Date.parse(leaked.body.data.previousSecretExpiresAt)).toBeLessThanOrEqual(sb.services.clock.now());
    expect((await sb.dashboard.get(`/dashboard/webhooks/${endpoint.id}`)).body.data.previousSecretExpiresAt).toBeNull();
    receiver.setSecrets('/rotating-2', [second]);
    await sendTest(endpoint.id);
    const d1 = await waitFor(() => receiver.at('/rotating-2')[0], 'a delivery after an immediate rotation');
    expect(d1.headers['x-pacspace-signature']).toMatch(/^v1=[0-9a-f]{64}$/);
    expect(verifyDelivery(d1.raw, d1.headers, [first], Date.now())).toBe('bad signature');

    // Default overlap (24 h), then rotate again: the new and the just-replaced secret sign, never the first two.
    const third = (await sb.dashboard.post(`/dashboard/webhooks/${endpoint.id}/rotate-secret`, { headers: CSRF })).body.data;
    revealed.add(third.secret);
    expect(Date.parse(third.previousSecretExpiresAt) - sb.services.clock.now()).toBeGreaterThan(86_390_000);
    const fourth = (await sb.dashboard.post(`/dashboard/webhooks/${endpoint.id}/rotate-secret`, { headers: CSRF, json: { overlapSeconds: 600 } })).body.data;
    revealed.add(fourth.secret);
    receiver.setSecrets('/rotating-2', [fourth.secret]);
    await sendTest(endpoint.id);
    const d2 = await waitFor(() => receiver.at('/rotating-2')[1], 'a delivery after two rotations');
    const ts = d2.headers['x-pacspace-timestamp'] as string;
    const values = (d2.headers['x-pacspace-signature'] as string).split(',');
    expect(values).toHaveLength(2);
    expect(signedWith(values[0]!, fourth.secret, ts, d2.raw)).toBe(true);
    expect(signedWith(values[1]!, third.secret, ts, d2.raw)).toBe(true);
    expect(verifyDelivery(d2.raw, d2.headers, [second], Number(ts) * 1000)).toBe('bad signature');
  });
});

describe('ledger events', () => {
  it('delta.recorded, delta.confirmed and checkpoint.created arrive after Balance API calls with the demo key', async () => {
    const endpoint = await createEndpoint('/ledger', ['delta.recorded', 'delta.confirmed', 'checkpoint.created']);
    const key = { 'X-Api-Key': sb.demo!.apiKey };
    const recorded = await sb.sandboxApi.post('/api/v1/balance/delta', {
      headers: key,
      json: { customerId: 'webhook_customer', delta: '12.50', reason: 'usage', referenceId: 'wh-ref-1', metadata: { source: 'webhooks-test' } },
    });
    expect(recorded.status).toBe(201);
    const receipt = recorded.body.data;
    const [first] = await waitFor(() => (receiver.at('/ledger').length ? receiver.at('/ledger') : undefined), 'delta.recorded');
    expect(first!.body).toMatchObject({ type: 'delta.recorded', environment: 'test', data: { receiptId: receipt.receiptId, status: 'recorded', confirmedAt: null } });
    expect(first!.body.data).toEqual(receipt);
    sb.services.clock.advance(sb.services.config.confirmationMs);
    const confirmed = await waitFor(() => receiver.at('/ledger').find((d) => d.body.type === 'delta.confirmed'), 'delta.confirmed');
    expect(confirmed.body.data).toMatchObject({ receiptId: receipt.receiptId, status: 'confirmed', confirmedAt: expect.stringMatching(ISO) });
    const checkpoint = await sb.sandboxApi.post('/api/v1/balance/checkpoint', { headers: key, json: { customerId: 'webhook_customer' } });
    expect(checkpoint.status).toBe(201);
    const created = await waitFor(() => receiver.at('/ledger').find((d) => d.body.type === 'checkpoint.created'), 'checkpoint.created');
    expect(created.body.data).toEqual(checkpoint.body.data);
    for (const d of receiver.at('/ledger')) {
      expect(d.verdict).toBe('ok');
      expect(contractErrors(d), d.body.type).toEqual([]);
    }
    expect(receiver.at('/ledger').map((d) => d.body.type)).toEqual(['delta.recorded', 'delta.confirmed', 'checkpoint.created']);
  });
});

describe('no secret travels', () => {
  it('no delivery body or header contains a whsec_ secret or an API key secret', async () => {
    const all = receiver.all().filter((d) => !d.headers['x-test-replay']);
    expect(all.length).toBeGreaterThan(30);
    expect(revealed.size).toBeGreaterThan(20);
    for (const d of all) {
      const text = `${d.raw}\n${JSON.stringify(d.headers)}`;
      expect(text).not.toMatch(/whsec_|sk_test_|sk_live_|secretKey|fullKey/);
      for (const secret of revealed) expect(text.includes(secret), `${d.body?.type} carries a secret`).toBe(false);
    }
    // Every delivery the sandbox made verified at the receiver (the hand-made replays aside).
    expect(all.every((d) => d.verdict === 'ok')).toBe(true);
  });
});
