// Webhook chaos end to end: deliveries to a real receiver on 127.0.0.1 fail (the receiver's
// answer dropped, so it sees the retry), arrive twice, out of order and late — and an
// integrator's handler, written as the guides tell integrators to write one (verify the
// signature with the SDK's verifyWebhook on the raw body, dedupe by event id), processes every
// event exactly once. The sandbox clock is advanced to bring retries and held deliveries due.
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { PacSpace, verifyWebhook } from '../../sdk/index.ts';
import { loginDemo } from '../testing/accounts.ts';
import { CSRF, startTestSandbox, type TestSandbox } from '../testing/test-sandbox.ts';
import { waitFor } from '../testing/wait-for.ts';
import { DROPPED_ANSWER_ERROR } from '../webhooks/delivery-chaos.ts';
import type { ChaosSettings } from './settings.ts';

const CHAOS: ChaosSettings = {
  seed: 3,
  webhooks: { failureRate: 0.3, duplicateRate: 0.3, outOfOrderRate: 0.3, holdMs: 4_000, delay: { distribution: 'uniform', minMs: 0, maxMs: 40 } },
};

let sb: TestSandbox;
let receiver: Server;
let url: string;

/** Every request the receiver got, in arrival order. */
const arrivals: Array<{ eventId: string; deliveryId: string }> = [];
/** What the integrator's handler did: each event id once, in the order it processed them. */
const processed: string[] = [];
const rejected: string[] = [];
let secret = '';

/** The integrator's endpoint: raw body, verify, dedupe by event id, process, 2xx. */
async function handleWebhook(rawBody: string, headers: IncomingHttpHeaders): Promise<number> {
  let event;
  try {
    event = await verifyWebhook(rawBody, headers, secret);
  } catch (error) {
    rejected.push((error as Error).message);
    return 400;
  }
  // Check and mark in one synchronous step: a duplicate arriving meanwhile sees the mark.
  if (!processed.includes(event.id)) processed.push(event.id);
  return 200;
}

beforeAll(async () => {
  sb = await startTestSandbox({ seed: 1, chaos: CHAOS, transport: 'loopback' });
  receiver = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      arrivals.push({ eventId: String(req.headers['x-pacspace-event-id']), deliveryId: String(req.headers['x-pacspace-delivery-id']) });
      void handleWebhook(Buffer.concat(chunks).toString('utf8'), req.headers).then((status) => res.writeHead(status).end());
    });
  });
  await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
  url = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/hooks`;
});
afterAll(async () => {
  await sb.close();
  await new Promise((resolve) => receiver.close(resolve));
});

it('every event is processed exactly once under failed, duplicated, out-of-order and delayed deliveries', async () => {
  await loginDemo(sb);
  const created = await sb.dashboard.post('/dashboard/webhooks', { headers: CSRF, json: { url, events: ['delta.recorded', 'delta.confirmed'] } });
  expect(created.status, created.text).toBe(201);
  secret = created.body.data.secret;
  const endpointId: string = created.body.data.id;

  const pac = new PacSpace({ apiKey: sb.demo!.apiKey, sandboxUrl: sb.sandboxUrl });
  for (let i = 0; i < 8; i++) await pac.balance.emit('customer_001', '1.00', `usage ${i}`, { referenceId: `ref-${i}` });

  const w = sb.services.store.state.webhooks;
  const ours = () => [...w.deliveries.values()].filter((d) => d.endpointId === endpointId);
  // Confirmations, retries and held deliveries fall due on the sandbox clock: move it on until
  // every delivery has ended (a deadline in real time, not a count of rounds: on a loaded machine
  // an attempt in flight can take longer than any fixed number of rounds lasts).
  await waitFor(
    () => {
      const settled = ours().length === 16 && ours().every((d) => d.status !== 'pending');
      if (settled && (sb.services.webhooks as unknown as { inFlight(): number }).inFlight() === 0) return true;
      sb.services.clock.advance(2_000);
      return false;
    },
    'every delivery to end',
    45_000,
  );

  const deliveries = ours();
  expect(deliveries).toHaveLength(16);
  expect(deliveries.map((d) => d.status)).toEqual(Array(16).fill('succeeded'));
  expect(rejected).toEqual([]);

  // Exactly once: every event, no event twice.
  const events = deliveries.map((d) => d.eventId).sort();
  expect([...processed].sort()).toEqual(events);

  // And the chaos was there to be survived:
  const hitsPerEvent = new Map<string, number>();
  for (const a of arrivals) hitsPerEvent.set(a.eventId, (hitsPerEvent.get(a.eventId) ?? 0) + 1);
  const dropped = deliveries.filter((d) => d.attempts.some((a) => a.error === DROPPED_ANSWER_ERROR));
  // a retry after a dropped answer: the receiver saw the same event again, on a later attempt;
  expect(dropped.length).toBeGreaterThan(0);
  for (const d of dropped) expect(hitsPerEvent.get(d.eventId)).toBeGreaterThanOrEqual(d.attempts.length);
  // a duplicate: more arrivals than recorded attempts for some delivery;
  expect(deliveries.some((d) => hitsPerEvent.get(d.eventId)! > d.attempts.length)).toBe(true);
  // out of order: the first arrivals are not in the order the events were made.
  const madeOrder = [...w.events.values()].filter((e) => events.includes(e.id)).map((e) => e.id);
  const firstArrivals = [...new Set(arrivals.map((a) => a.eventId))];
  expect(firstArrivals).not.toEqual(madeOrder);
  expect(new Set(firstArrivals)).toEqual(new Set(madeOrder));
});
