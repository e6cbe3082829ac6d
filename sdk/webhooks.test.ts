// verifyWebhook (Web Crypto, async) and verifyWebhookSync (node:crypto, `@pacspace-io/sdk/node`)
// run the same table: valid, tampered, too old, too new, missing or malformed headers, two
// signatures during a rotation — first with deliveries signed here, then with real deliveries
// from the sandbox to a local receiver, set up and rotated through the dashboard client.
import { createHmac } from 'node:crypto';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { inspect } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestSandbox, type TestSandbox } from '../mock/testing/test-sandbox.ts';
import { signatureHeader } from '../protocol/webhook-signature.ts';
import { PacSpace, PacSpaceDashboard, verifyWebhook, WebhookVerificationError, type WebhookEvent } from './index.ts';
import { verifyWebhookSync } from './node.ts';

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

type Verify = (...args: Parameters<typeof verifyWebhookSync>) => WebhookEvent | Promise<WebhookEvent>;
const variants: Array<[string, Verify]> = [
  ['verifyWebhook (Web Crypto, async)', verifyWebhook],
  ['verifyWebhookSync (node:crypto)', verifyWebhookSync],
];

/** Runs a call of either variant; a synchronous throw becomes a rejection. */
const attempt = (call: () => unknown) => Promise.resolve().then(call);

async function rejection(call: () => unknown): Promise<WebhookVerificationError> {
  const caught = await attempt(call).then(
    () => undefined,
    (error: unknown) => error,
  );
  expect(caught).toBeInstanceOf(WebhookVerificationError);
  const err = caught as WebhookVerificationError;
  for (const text of [err.message, inspect(err, { depth: Infinity, showHidden: true }), JSON.stringify(err)]) {
    expect(text).not.toContain(SECRET);
    expect(text).not.toContain(NEXT);
  }
  return err;
}

describe('the two variants', () => {
  it('verifyWebhook returns a promise (and rejects rather than throws); verifyWebhookSync returns the event', async () => {
    const h = headers(T, sig(SECRET, T));
    const pending = verifyWebhook(raw, h, SECRET, { now: NOW });
    expect(pending).toBeInstanceOf(Promise);
    expect(await pending).toEqual(event);
    expect(verifyWebhookSync(raw, h, SECRET, { now: NOW })).toEqual(event);
    const rejected = verifyWebhook(raw, h, NEXT, { now: NOW });
    expect(rejected).toBeInstanceOf(Promise);
    await expect(rejected).rejects.toMatchObject({ code: 'bad_signature' });
    expect(() => verifyWebhookSync(raw, h, NEXT, { now: NOW })).toThrow(WebhookVerificationError);
  });
});

describe.each(variants)('%s', (_name, verify) => {
  it('accepts a valid delivery and returns the parsed event', async () => {
    const parsed: WebhookEvent = await verify(raw, headers(T, sig(SECRET, T)), SECRET, { now: NOW });
    expect(parsed).toEqual(event);
    expect(parsed.type).toBe('delta.recorded');
  });

  it('accepts deliveries signed by protocol/webhook-signature.ts, the sandbox’s signer', async () => {
    const signed = (secrets: string[]) => ({ 'X-PacSpace-Timestamp': String(T), 'X-PacSpace-Signature': signatureHeader(secrets, T, raw) });
    expect(await verify(raw, signed([SECRET]), SECRET, { now: NOW })).toEqual(event);
    expect(await verify(raw, new Headers(signed([NEXT, SECRET])), SECRET, { now: NOW })).toEqual(event);
    expect((await rejection(() => verify(raw, signed([NEXT]), SECRET, { now: NOW }))).code).toBe('bad_signature');
  });

  it('takes the body as bytes and the headers as a fetch Headers object or node:http’s record', async () => {
    const h = headers(T, sig(SECRET, T));
    const bytes = new TextEncoder().encode(raw);
    expect(await verify(Buffer.from(raw), h, SECRET, { now: NOW })).toEqual(event);
    expect(await verify(bytes, new Headers(h), SECRET, { now: new Date(NOW) })).toEqual(event);
    expect(await verify(bytes.slice().buffer, h, SECRET, { now: NOW })).toEqual(event);
    // A view into a larger buffer: only its own bytes are the body.
    const padded = new Uint8Array(bytes.length + 8);
    padded.set(bytes, 4);
    expect(await verify(padded.subarray(4, 4 + bytes.length), h, SECRET, { now: NOW })).toEqual(event);
    expect(await verify(raw, { 'X-PacSpace-Timestamp': String(T), 'X-PacSpace-Signature': [`v1=${sig(SECRET, T)}`] }, SECRET, { now: NOW })).toEqual(event);
  });

  it('signs the raw bytes: a non-ASCII body verifies as bytes and as text', async () => {
    const body = JSON.stringify({ ...event, data: { receiptId: 'rcpt_1', note: 'Grüße ✓ 😀' } });
    const h = headers(T, sig(SECRET, T, body));
    expect(await verify(body, h, SECRET, { now: NOW })).toMatchObject({ data: { note: 'Grüße ✓ 😀' } });
    expect(await verify(new TextEncoder().encode(body), h, SECRET, { now: NOW })).toMatchObject({ data: { note: 'Grüße ✓ 😀' } });
  });

  it('rejects a tampered body, a changed timestamp or the wrong secret: bad_signature', async () => {
    const good = sig(SECRET, T);
    expect((await rejection(() => verify(raw.replace('rcpt_1', 'rcpt_2'), headers(T, good), SECRET, { now: NOW }))).code).toBe('bad_signature');
    expect((await rejection(() => verify(raw, headers(T + 1, good), SECRET, { now: NOW }))).code).toBe('bad_signature');
    expect((await rejection(() => verify(raw, headers(T, good), NEXT, { now: NOW }))).code).toBe('bad_signature');
    const lastFlipped = good.slice(0, 63) + (good.endsWith('0') ? '1' : '0');
    for (const wrong of [good.replace(/^./, (c) => (c === '0' ? '1' : '0')), lastFlipped, good.slice(0, 10), good.toUpperCase(), `${good}00`, 'zz'.repeat(32), '']) {
      expect((await rejection(() => verify(raw, headers(T, wrong), SECRET, { now: NOW }))).code, wrong).toBe('bad_signature');
    }
  });

  it('rejects old and future timestamps outside the tolerance (300 s by default)', async () => {
    const at = (offset: number) => verify(raw, headers(T + offset, sig(SECRET, T + offset)), SECRET, { now: NOW });
    expect(await at(-300)).toEqual(event);
    expect(await at(300)).toEqual(event);
    expect((await rejection(() => at(-301))).code).toBe('timestamp_too_old');
    expect((await rejection(() => at(301))).code).toBe('timestamp_too_new');
    expect((await rejection(() => verify(raw, headers(T - 61, sig(SECRET, T - 61)), SECRET, { now: NOW, toleranceSeconds: 60 }))).code).toBe('timestamp_too_old');
    // A stale delivery signed with the wrong secret is a bad signature: the clock is judged second.
    expect((await rejection(() => verify(raw, headers(T - 3600, sig(NEXT, T - 3600)), SECRET, { now: NOW }))).code).toBe('bad_signature');
  });

  it('rejects missing and malformed headers', async () => {
    const missingSignature = await rejection(() => verify(raw, { 'x-pacspace-timestamp': String(T) }, SECRET, { now: NOW }));
    expect(missingSignature).toMatchObject({ code: 'missing_header', header: 'X-PacSpace-Signature' });
    const missingTimestamp = await rejection(() => verify(raw, { 'x-pacspace-signature': `v1=${sig(SECRET, T)}` }, SECRET, { now: NOW }));
    expect(missingTimestamp).toMatchObject({ code: 'missing_header', header: 'X-PacSpace-Timestamp' });
    const badTimestamp = await rejection(() => verify(raw, { ...headers(T, sig(SECRET, T)), 'x-pacspace-timestamp': 'yesterday' }, SECRET, { now: NOW }));
    expect(badTimestamp).toMatchObject({ code: 'malformed_header', header: 'X-PacSpace-Timestamp' });
    const noV1 = await rejection(() => verify(raw, { ...headers(T), 'x-pacspace-signature': `v0=${sig(SECRET, T)}` }, SECRET, { now: NOW }));
    expect(noV1).toMatchObject({ code: 'malformed_header', header: 'X-PacSpace-Signature' });
  });

  it('during a rotation: two signatures, either secret (or both) verifies', async () => {
    const h = headers(T, sig(NEXT, T), sig(SECRET, T));
    expect(await verify(raw, h, SECRET, { now: NOW })).toEqual(event);
    expect(await verify(raw, h, NEXT, { now: NOW })).toEqual(event);
    expect(await verify(raw, h, [NEXT, SECRET], { now: NOW })).toEqual(event);
    // A receiver that already holds both secrets accepts deliveries signed with only one of them.
    expect(await verify(raw, headers(T, sig(SECRET, T)), [NEXT, SECRET], { now: NOW })).toEqual(event);
    expect(await verify(raw, headers(T, sig(NEXT, T)), [NEXT, SECRET], { now: NOW })).toEqual(event);
    expect((await rejection(() => verify(raw, h, ['whsec_other0000000000000000000000000'], { now: NOW }))).code).toBe('bad_signature');
  });

  it('rejects a correctly signed body that is not an event, and misuse', async () => {
    expect((await rejection(() => verify('not json', headers(T, sig(SECRET, T, 'not json')), SECRET, { now: NOW }))).code).toBe('invalid_payload');
    expect((await rejection(() => verify('[1]', headers(T, sig(SECRET, T, '[1]')), SECRET, { now: NOW }))).code).toBe('invalid_payload');
    await expect(attempt(() => verify(event as never, headers(T, sig(SECRET, T)), SECRET, { now: NOW }))).rejects.toThrow(/raw request body/);
    await expect(attempt(() => verify(raw, headers(T, sig(SECRET, T)), [], { now: NOW }))).rejects.toThrow(/signing secret/);
    await expect(attempt(() => verify(raw, headers(T, sig(SECRET, T)), [SECRET, ''], { now: NOW }))).rejects.toThrow(/signing secret/);
    await expect(attempt(() => verify(raw, headers(T, sig(SECRET, T)), SECRET, { now: NOW, toleranceSeconds: -1 }))).rejects.toThrow(RangeError);
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
    const test = await verifyWebhook(delivery.raw, delivery.headers, first);
    expect(test).toMatchObject({ id: queued.eventId, type: 'delta.recorded' });

    const pac = new PacSpace({ apiKey: sb.demo!.apiKey, sandboxUrl: sb.sandboxUrl });
    arrived = nextDelivery();
    const receipt = await pac.balance.emit('customer_001', '12.50', 'usage');
    delivery = await arrived;
    const recorded = await verifyWebhook(delivery.raw, delivery.headers, first);
    expect(verifyWebhookSync(delivery.raw, delivery.headers, first)).toEqual(recorded);
    expect(recorded.type).toBe('delta.recorded');
    expect(recorded.type === 'delta.recorded' && recorded.data.receiptId).toBe(receipt.receiptId);
    await expect(verifyWebhook(delivery.raw.replace('12.50', '99.99'), delivery.headers, first)).rejects.toThrow(WebhookVerificationError);
    expect(() => verifyWebhookSync(delivery.raw.replace('12.50', '99.99'), delivery.headers, first)).toThrow(WebhookVerificationError);

    const rotated = await dashboard.webhooks.rotateSecret(endpoint.id, { overlapSeconds: 3600 });
    arrived = nextDelivery();
    await dashboard.webhooks.sendTest(endpoint.id);
    delivery = await arrived;
    expect(String(delivery.headers['x-pacspace-signature']).split(',')).toHaveLength(2);
    for (const secrets of [first, rotated.secret, [rotated.secret, first]]) {
      expect((await verifyWebhook(delivery.raw, delivery.headers, secrets)).type).toBe('delta.recorded');
      expect(verifyWebhookSync(delivery.raw, delivery.headers, secrets).type).toBe('delta.recorded');
    }

    const history = await dashboard.webhooks.deliveries(endpoint.id);
    expect(history.total).toBe(3);
    const all = [];
    for await (const d of dashboard.webhooks.allDeliveries(endpoint.id, { limit: 2 })) all.push(d);
    expect(all).toHaveLength(3);
    expect(await dashboard.webhooks.delete(endpoint.id)).toMatchObject({ statusCode: 200 });
  });
});
