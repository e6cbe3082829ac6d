// verifyWebhook: valid, tampered, too old, too new, missing or malformed headers, two
// signatures during a rotation — first with deliveries signed here, then with real deliveries
// from the sandbox to a local receiver, set up and rotated through the dashboard client.
import { createHmac } from 'node:crypto';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { inspect } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestSandbox, type TestSandbox } from '../mock/testing/test-sandbox.ts';
import { PacSpace, PacSpaceDashboard, verifyWebhook, WebhookVerificationError, type WebhookEvent } from './index.ts';

const SECRET = 'whsec_0123456789abcdefghijABCDEFGHIJ01';
const NEXT = 'whsec_ZYXWVUTSRQponmlkjihg9876543210zz';
const NOW = 1_780_315_200_000;
const T = NOW / 1000;
const event = { id: 'evt_1a2B3c4D5e6F', type: 'delta.recorded', createdAt: '2026-06-01T12:00:00.000Z', environment: 'test', data: { receiptId: 'rcpt_1' } };
const raw = JSON.stringify(event);
// Signed here with node:crypto directly, not with the module under test.
const sig = (secret: string, timestamp: number, body = raw) => createHmac('sha256', secret).update(`${timestamp}.${body}`).digest('hex');
const headers = (timestamp: number, ...signatures: string[]) => ({
  'x-pacspace-timestamp': String(timestamp),
  'x-pacspace-signature': signatures.map((s) => `v1=${s}`).join(','),
  'content-type': 'application/json',
});

function rejection(call: () => unknown): WebhookVerificationError {
  let caught: unknown;
  try {
    call();
  } catch (error) {
    caught = error;
  }
  expect(caught).toBeInstanceOf(WebhookVerificationError);
  const err = caught as WebhookVerificationError;
  for (const text of [err.message, inspect(err, { depth: Infinity, showHidden: true }), JSON.stringify(err)]) {
    expect(text).not.toContain(SECRET);
    expect(text).not.toContain(NEXT);
  }
  return err;
}

describe('verifyWebhook', () => {
  it('accepts a valid delivery and returns the parsed event', () => {
    const parsed: WebhookEvent = verifyWebhook(raw, headers(T, sig(SECRET, T)), SECRET, { now: NOW });
    expect(parsed).toEqual(event);
    expect(parsed.type).toBe('delta.recorded');
  });

  it('takes the body as bytes and the headers as a fetch Headers object or node:http’s record', () => {
    const h = headers(T, sig(SECRET, T));
    expect(verifyWebhook(Buffer.from(raw), h, SECRET, { now: NOW })).toEqual(event);
    expect(verifyWebhook(new TextEncoder().encode(raw), new Headers(h), SECRET, { now: new Date(NOW) })).toEqual(event);
    expect(verifyWebhook(raw, { 'X-PacSpace-Timestamp': String(T), 'X-PacSpace-Signature': [`v1=${sig(SECRET, T)}`] }, SECRET, { now: NOW })).toEqual(event);
  });

  it('rejects a tampered body, a changed timestamp or the wrong secret: bad_signature', () => {
    const good = sig(SECRET, T);
    expect(rejection(() => verifyWebhook(raw.replace('rcpt_1', 'rcpt_2'), headers(T, good), SECRET, { now: NOW })).code).toBe('bad_signature');
    expect(rejection(() => verifyWebhook(raw, headers(T + 1, good), SECRET, { now: NOW })).code).toBe('bad_signature');
    expect(rejection(() => verifyWebhook(raw, headers(T, good), NEXT, { now: NOW })).code).toBe('bad_signature');
    expect(rejection(() => verifyWebhook(raw, headers(T, good.replace(/^./, (c) => (c === '0' ? '1' : '0'))), SECRET, { now: NOW })).code).toBe('bad_signature');
    expect(rejection(() => verifyWebhook(raw, headers(T, good.slice(0, 10)), SECRET, { now: NOW })).code).toBe('bad_signature');
  });

  it('rejects old and future timestamps outside the tolerance (300 s by default)', () => {
    const at = (offset: number) => verifyWebhook(raw, headers(T + offset, sig(SECRET, T + offset)), SECRET, { now: NOW });
    expect(at(-300)).toEqual(event);
    expect(at(300)).toEqual(event);
    expect(rejection(() => at(-301)).code).toBe('timestamp_too_old');
    expect(rejection(() => at(301)).code).toBe('timestamp_too_new');
    expect(rejection(() => verifyWebhook(raw, headers(T - 61, sig(SECRET, T - 61)), SECRET, { now: NOW, toleranceSeconds: 60 })).code).toBe('timestamp_too_old');
  });

  it('rejects missing and malformed headers', () => {
    const missingSignature = rejection(() => verifyWebhook(raw, { 'x-pacspace-timestamp': String(T) }, SECRET, { now: NOW }));
    expect(missingSignature).toMatchObject({ code: 'missing_header', header: 'X-PacSpace-Signature' });
    const missingTimestamp = rejection(() => verifyWebhook(raw, { 'x-pacspace-signature': `v1=${sig(SECRET, T)}` }, SECRET, { now: NOW }));
    expect(missingTimestamp).toMatchObject({ code: 'missing_header', header: 'X-PacSpace-Timestamp' });
    expect(rejection(() => verifyWebhook(raw, { ...headers(T, sig(SECRET, T)), 'x-pacspace-timestamp': 'yesterday' }, SECRET, { now: NOW })).code).toBe('malformed_header');
    expect(rejection(() => verifyWebhook(raw, { ...headers(T), 'x-pacspace-signature': `v0=${sig(SECRET, T)}` }, SECRET, { now: NOW })).code).toBe('malformed_header');
  });

  it('during a rotation: two signatures, either secret (or both) verifies', () => {
    const h = headers(T, sig(NEXT, T), sig(SECRET, T));
    expect(verifyWebhook(raw, h, SECRET, { now: NOW })).toEqual(event);
    expect(verifyWebhook(raw, h, NEXT, { now: NOW })).toEqual(event);
    expect(verifyWebhook(raw, h, [NEXT, SECRET], { now: NOW })).toEqual(event);
    // A receiver that already holds both secrets accepts deliveries signed with only one of them.
    expect(verifyWebhook(raw, headers(T, sig(SECRET, T)), [NEXT, SECRET], { now: NOW })).toEqual(event);
    expect(rejection(() => verifyWebhook(raw, h, ['whsec_other0000000000000000000000000'], { now: NOW })).code).toBe('bad_signature');
  });

  it('rejects a correctly signed body that is not an event, and misuse', () => {
    expect(rejection(() => verifyWebhook('not json', headers(T, sig(SECRET, T, 'not json')), SECRET, { now: NOW })).code).toBe('invalid_payload');
    expect(() => verifyWebhook(event as never, headers(T, sig(SECRET, T)), SECRET, { now: NOW })).toThrow(/raw request body/);
    expect(() => verifyWebhook(raw, headers(T, sig(SECRET, T)), [], { now: NOW })).toThrow(/signing secret/);
  });
});

// ---------------------------------------------------------------- real deliveries

type Delivery = { raw: string; headers: IncomingHttpHeaders };

describe('real deliveries from the sandbox', () => {
  let sb: TestSandbox;
  let receiver: Server;
  let receiverUrl: string;
  const deliveries: Delivery[] = [];
  let waiting: ((d: Delivery) => void) | undefined;
  const nextDelivery = () => new Promise<Delivery>((resolve) => (waiting = resolve));

  beforeAll(async () => {
    sb = await startTestSandbox();
    receiver = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const delivery = { raw: Buffer.concat(chunks).toString('utf8'), headers: req.headers };
        deliveries.push(delivery);
        res.writeHead(200).end();
        waiting?.(delivery);
      });
    });
    await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
    receiverUrl = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/pacspace`;
  });
  afterAll(async () => {
    await sb?.close();
    await new Promise<void>((resolve) => (receiver ? receiver.close(() => resolve()) : resolve()));
  });

  it('a test event, a real delta.recorded, and both signatures after rotate-secret', async () => {
    const dashboard = new PacSpaceDashboard({ baseUrl: sb.productionUrl });
    await dashboard.auth.login(sb.demo!.email, sb.demo!.password);
    const endpoint = await dashboard.webhooks.create({ url: receiverUrl, events: ['delta.recorded'], description: 'SDK test' });
    expect(endpoint.secret).toMatch(/^whsec_/);
    const first = endpoint.secret;

    let arrived = nextDelivery();
    const queued = await dashboard.webhooks.sendTest(endpoint.id);
    let delivery = await arrived;
    const test = verifyWebhook(delivery.raw, delivery.headers, first);
    expect(test).toMatchObject({ id: queued.eventId, type: 'delta.recorded' });

    const pac = new PacSpace({ apiKey: sb.demo!.apiKey, sandboxUrl: sb.sandboxUrl });
    arrived = nextDelivery();
    const receipt = await pac.balance.emit('customer_001', '12.50', 'usage');
    delivery = await arrived;
    const recorded = verifyWebhook(delivery.raw, delivery.headers, first);
    expect(recorded.type).toBe('delta.recorded');
    expect(recorded.type === 'delta.recorded' && recorded.data.receiptId).toBe(receipt.receiptId);
    expect(() => verifyWebhook(delivery.raw.replace('12.50', '99.99'), delivery.headers, first)).toThrow(WebhookVerificationError);

    const rotated = await dashboard.webhooks.rotateSecret(endpoint.id, { overlapSeconds: 3600 });
    arrived = nextDelivery();
    await dashboard.webhooks.sendTest(endpoint.id);
    delivery = await arrived;
    expect(String(delivery.headers['x-pacspace-signature']).split(',')).toHaveLength(2);
    expect(verifyWebhook(delivery.raw, delivery.headers, first).type).toBe('delta.recorded');
    expect(verifyWebhook(delivery.raw, delivery.headers, rotated.secret).type).toBe('delta.recorded');
    expect(verifyWebhook(delivery.raw, delivery.headers, [rotated.secret, first]).type).toBe('delta.recorded');

    const history = await dashboard.webhooks.deliveries(endpoint.id);
    expect(history.total).toBe(3);
    const all = [];
    for await (const d of dashboard.webhooks.allDeliveries(endpoint.id, { limit: 2 })) all.push(d);
    expect(all).toHaveLength(3);
    expect(await dashboard.webhooks.delete(endpoint.id)).toMatchObject({ statusCode: 200 });
  });
});
