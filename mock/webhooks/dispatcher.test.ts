// Webhook work survives a restart with --data: a delivery awaiting its retry and an environment
// activation still to come are re-armed from the replayed journal (resumeWebhooks and
// resumeActivations, mock/domain/environment-activations.ts), and the
// endpoint's signing secret still signs. The receiver checks signatures with its own HMAC.
import { createHmac, timingSafeEqual } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loginDemo } from '../testing/accounts.ts';
import { CSRF, startTestSandbox, type TestSandbox } from '../testing/test-sandbox.ts';
import { waitFor } from '../testing/wait-for.ts';

type Hit = { path: string; headers: IncomingHttpHeaders; raw: string };

let dir: string;
let server: Server;
let base: string;
const hits: Hit[] = [];
/** Status to answer per path, by attempt number at that path (default 200). */
const answers = new Map<string, (n: number) => number>();

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'pacspace-webhooks-'));
  server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const hit = { path: req.url ?? '/', headers: req.headers, raw: Buffer.concat(chunks).toString('utf8') };
      hits.push(hit);
      const n = hits.filter((h) => h.path === hit.path).length;
      res.writeHead(answers.get(hit.path)?.(n) ?? 200).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(async () => {
  await new Promise((resolve) => server.close(resolve));
  await rm(dir, { recursive: true, force: true });
});

function signedBy(hit: Hit, secret: string): boolean {
  const timestamp = hit.headers['x-pacspace-timestamp'] as string;
  const expected = createHmac('sha256', secret).update(`${timestamp}.${hit.raw}`).digest();
  const fresh = Math.abs(Math.floor(Date.now() / 1000) - Number(timestamp)) <= 300;
  return fresh && (hit.headers['x-pacspace-signature'] as string).split(',').some((v) => {
    const given = Buffer.from(v.replace(/^v1=/, ''), 'hex');
    return given.length === expected.length && timingSafeEqual(given, expected);
  });
}


describe('restart with --data', () => {
  it('re-arms a pending retry and an activation to come; the signing secret survives', async () => {
    const data = join(dir, 'resume');
    // One retry, a minute after the first attempt: still pending when the sandbox stops. (A delivery
    // timeout the receiver's answers never outlast on a loaded machine: a timeout is no 503.)
    const options = { dataDir: data, provisioningMs: 120_000, webhooks: { timeoutMs: 15_000, retryDelaysMs: [60_000] } };
    let first: TestSandbox | undefined = await startTestSandbox(options);
    let second: TestSandbox | undefined;
    try {
      await loginDemo(first);
      answers.set('/retry', (n) => (n === 1 ? 503 : 200));
      const retry = (await first.dashboard.post('/dashboard/webhooks', { headers: CSRF, json: { url: `${base}/retry`, events: ['checkpoint.created'] } })).body.data;
      const live = (await first.dashboard.post('/dashboard/webhooks', {
        headers: CSRF,
        json: { url: `${base}/live`, events: ['environment.activated'], environment: 'live' },
      })).body.data;
      const { deliveryId } = (await first.dashboard.post(`/dashboard/webhooks/${retry.id}/test`, { headers: CSRF })).body.data;
      const pending = await waitFor(async () => {
        const [d] = (await first!.dashboard.get(`/dashboard/webhooks/${retry.id}/deliveries`)).body.data.items;
        return d.attempts.length === 1 ? d : undefined;
      }, 'the first attempt');
      expect(pending).toMatchObject({ id: deliveryId, status: 'pending', attempts: [{ responseStatus: 503 }] });
      expect((await first.dashboard.post('/dashboard/contracts/provision', { headers: CSRF, json: { environment: 'mainnet' } })).status).toBe(201);
      await first.close();
      first = undefined;

      second = await startTestSandbox(options);
      await loginDemo(second);
      const [restored] = (await second.dashboard.get(`/dashboard/webhooks/${retry.id}/deliveries`)).body.data.items;
      expect(restored).toEqual(pending);
      expect(hits.filter((h) => h.path === '/retry')).toHaveLength(1);
      expect(hits.filter((h) => h.path === '/live')).toHaveLength(0);

      // Both fall due on the restarted sandbox's clock.
      second.services.clock.advance(120_000);
      const done = await waitFor(async () => {
        const [d] = (await second!.dashboard.get(`/dashboard/webhooks/${retry.id}/deliveries`)).body.data.items;
        return d.status === 'succeeded' ? d : undefined;
      }, 'the resumed retry');
      expect(done.attempts.map((a: any) => a.responseStatus)).toEqual([503, 200]);
      const [, again] = hits.filter((h) => h.path === '/retry');
      expect(again!.headers['x-pacspace-delivery-id']).toBe(deliveryId);
      expect(signedBy(again!, retry.secret)).toBe(true);

      const activated = await waitFor(() => hits.find((h) => h.path === '/live'), 'environment.activated');
      expect(signedBy(activated, live.secret)).toBe(true);
      expect(JSON.parse(activated.raw)).toMatchObject({ type: 'environment.activated', environment: 'live', data: { environment: 'mainnet', status: 'active' } });
      await new Promise((resolve) => setTimeout(resolve, 100));
      expect(hits.filter((h) => h.path === '/live')).toHaveLength(1);
    } finally {
      await first?.close();
      await second?.close();
    }
  });
});
