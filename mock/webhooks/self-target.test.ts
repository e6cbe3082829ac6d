// Webhook deliveries never reach the sandbox's own listeners (the security report: an endpoint
// at http://127.0.0.1:4010/__sandbox/reset plus a test event wiped every tenant). Over real
// HTTP: refused at create and update (422 on `url`) for every spelling of this machine on
// either listener's port; a receiver that redirects to the control surface is not followed; a
// target that only turns out to be the sandbox at delivery time (a name that resolves to this
// machine, or an endpoint kept in the journal across a restart onto its port) is refused
// before anything is sent, recorded as a failed attempt with the reason. Nothing is wiped.
import { lookup } from 'node:dns/promises';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { hostname, networkInterfaces, tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loginDemo, signUp } from '../testing/accounts.ts';
import type { HttpClient } from '../testing/http-client.ts';
import { CSRF, startTestSandbox, type TestSandbox } from '../testing/test-sandbox.ts';
import { postWebhook } from './post.ts';
import { isThisMachine, selfTargetReason, SelfTargetError, type Lookup } from './self-target.ts';
import { waitFor } from '../testing/wait-for.ts';

// A delivery timeout no answer of the local receiver outlasts, even on a loaded CI machine (1 s
// could be: a timed-out attempt is recorded as a timeout, not as the answer the test expects).
const WEBHOOKS = { timeoutMs: 15_000, retryDelaysMs: [20, 40] };
const SELF = /^refused: .+ is this sandbox's own listener \(deliveries never go to the sandbox itself\); nothing was sent$/;


const listen = async (server: Server) => {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return (server.address() as AddressInfo).port;
};
const close = (server: Server) => new Promise((resolve) => server.close(resolve));

/** Retries `start` while its port is in use (EADDRINUSE), for about 5 s. */
async function whenPortsFree<T>(start: () => Promise<T>): Promise<T> {
  for (let attempt = 0; ; attempt++) {
    try {
      return await start();
    } catch (error) {
      const inUse = /already in use|EADDRINUSE/.test(String((error as Error)?.message)) || (error as { cause?: { code?: string } })?.cause?.code === 'EADDRINUSE';
      if (!inUse || attempt >= 50) throw error;
      await new Promise((r) => setTimeout(r, 100));
    }
  }
}

/** A port nobody listens on now (the journal test's sandbox takes it next). */
async function freePort(): Promise<number> {
  const server = createServer();
  const port = await listen(server);
  await close(server);
  return port;
}

/**
 * A name the create check cannot judge by its spelling: this machine's host name, when it
 * resolves to one of this machine's addresses (it usually does; otherwise that test is skipped).
 */
const dnsName = await (async () => {
  const name = hostname();
  if (/localhost/i.test(name) || !/^[A-Za-z0-9]([A-Za-z0-9.-]*[A-Za-z0-9])?$/.test(name)) return undefined;
  const addresses = await lookup(name, { all: true }).catch(() => []);
  return addresses.length && addresses.every((a) => isThisMachine(a.address)) ? name : undefined;
})();

/** What a reset would wipe (every tenant's data), and the ledger. */
const fingerprint = (sb: TestSandbox) => {
  const s = sb.services.store.state;
  return { users: s.users.size, tenants: s.tenants.size, keys: s.apiKeys.size, sessions: s.sessions.size, receipts: s.ledger.receipts.size };
};

/** Every spelling of this machine at `port`: refused at create; some by the URL pattern, the others by the sandbox-itself rule. */
function spellings(port: number): Array<{ url: string; rule: 'pattern' | 'sandbox-itself' }> {
  const mine = [
    `http://127.0.0.1:${port}/__sandbox/reset`,
    `http://localhost:${port}/__sandbox/reset`,
    `https://localhost:${port}/__sandbox/reset`,
    `https://LocalHost:${port}/__sandbox/reset`,
    `https://hooks.localhost:${port}/__sandbox/reset`,
    `https://127.0.0.1:${port}/__sandbox/reset`,
    `https://127.0.0.2:${port}/__sandbox/reset`,
    `https://0.0.0.0:${port}/__sandbox/reset`,
    `https://2130706433:${port}/__sandbox/reset`,
    `https://0x7f000001:${port}/__sandbox/reset`,
    `https://0177.0.0.1:${port}/__sandbox/reset`,
    `https://127.1:${port}/__sandbox/reset`,
    // This machine's own interface addresses reach a sandbox bound to them too.
    ...Object.values(networkInterfaces())
      .flat()
      .filter((i) => i && i.family === 'IPv4' && !i.internal)
      .map((i) => `https://${i!.address}:${port}/__sandbox/reset`),
  ];
  const pattern = [
    `http://[::1]:${port}/__sandbox/reset`,
    `https://[::1]:${port}/__sandbox/reset`,
    `http://[::ffff:127.0.0.1]:${port}/__sandbox/reset`,
    `https://[::ffff:7f00:1]:${port}/__sandbox/reset`,
    `http://0.0.0.0:${port}/__sandbox/reset`,
    `http://127.0.0.2:${port}/__sandbox/reset`,
    `http://2130706433:${port}/__sandbox/reset`,
    `http://0x7f000001:${port}/__sandbox/reset`,
  ];
  return [...mine.map((url) => ({ url, rule: 'sandbox-itself' as const })), ...pattern.map((url) => ({ url, rule: 'pattern' as const }))];
}

describe('the spelling check (no sandbox)', () => {
  it('finds this machine in every spelling, on the sandbox’s ports only', () => {
    for (const { url, rule } of spellings(4010)) {
      if (rule === 'sandbox-itself') expect(selfTargetReason(url, [4010, 4011]), url).toMatch(/own listener/);
      expect(selfTargetReason(url, [4011, 5000]), url).toBeUndefined();
    }
    expect(selfTargetReason('https://example.com:4010/hooks', [4010])).toBeUndefined();
    expect(selfTargetReason('https://localhost/hooks', [443])).toMatch(/own listener/);
    expect(selfTargetReason('http://localhost/hooks', [80])).toMatch(/own listener/);
    for (const address of ['127.0.0.1', '127.255.0.9', '0.0.0.0', '::1', '::', '::ffff:127.0.0.1', '::ffff:7f00:1', '::ffff:0.0.0.0']) expect(isThisMachine(address), address).toBe(true);
    for (const address of ['8.8.8.8', '10.255.255.254', '2001:db8::1', '::ffff:8.8.8.8', 'localhost']) expect(isThisMachine(address), address).toBe(false);
  });
});

describe('one delivery on the wire (postWebhook) checks the address the connection uses', () => {
  let server: Server;
  let port: number;
  let hits = 0;
  beforeAll(async () => {
    server = createServer((req, res) => {
      hits++;
      req.resume();
      res.writeHead(204).end();
    });
    port = await listen(server);
  });
  afterAll(() => close(server));

  /** A resolver that answers `address` for every name (DNS rebinding in a box). */
  const resolvingTo =
    (address: string): Lookup =>
    (_name, options, callback) => {
      const family = address.includes(':') ? 6 : 4;
      if (options.all) callback(null, [{ address, family }]);
      else callback(null, address, family);
    };
  const post = (url: string, ownPorts: number[], resolve?: Lookup) =>
    postWebhook(url, { headers: { 'Content-Type': 'application/json' }, body: '{}', signal: AbortSignal.timeout(2_000), ownPorts: () => ownPorts, maxResponseBytes: 1024, ...(resolve ? { resolve } : {}) });

  it('refuses a name that resolves to this machine on an own port, before connecting', async () => {
    const before = hits;
    for (const address of ['127.0.0.1', '::ffff:127.0.0.1', '0.0.0.0']) {
      await expect(post(`http://rebind.example:${port}/__sandbox/reset`, [port], resolvingTo(address))).rejects.toBeInstanceOf(SelfTargetError);
    }
    await expect(post(`http://localhost:${port}/__sandbox/reset`, [port])).rejects.toThrow(SELF);
    await expect(post(`http://2130706433:${port}/__sandbox/reset`, [port])).rejects.toThrow(SELF);
    await expect(post(`http://[::1]:${port}/__sandbox/reset`, [port])).rejects.toThrow(SELF);
    expect(hits).toBe(before);
  });

  it('sends to loopback receivers on other ports', async () => {
    const before = hits;
    expect(await post(`http://rebind.example:${port}/hook`, [port + 1], resolvingTo('127.0.0.1'))).toBe(204);
    expect(await post(`http://127.0.0.1:${port}/hook`, [])).toBe(204);
    expect(hits).toBe(before + 2);
  });
});

describe('the tester’s attack against a running sandbox', () => {
  let sb: TestSandbox;
  let attacker: HttpClient;
  let receiver: Server;
  let receiverPort: number;
  let victimKey: string;
  /** Where the receiver redirects. */
  let location = '';
  beforeAll(async () => {
    sb = await startTestSandbox({ webhooks: WEBHOOKS });
    // The victim: the demo tenant, with a recorded delta.
    victimKey = sb.demo!.apiKey;
    const delta = await sb.sandboxApi.post('/api/v1/balance/delta', { headers: { 'X-Api-Key': victimKey }, json: { customerId: 'customer_001', delta: '10.00', reason: 'usage' } });
    expect(delta.status).toBe(201);
    // The attacker: another tenant with a dashboard session.
    ({ client: attacker } = await signUp(sb, 'attacker@example.com'));
    receiver = createServer((req, res) => {
      req.resume();
      res.writeHead(302, { location }).end();
    });
    receiverPort = await listen(receiver);
  });
  afterAll(async () => {
    await sb?.close();
    await close(receiver);
  });

  const victimIntact = async () => {
    const r = await sb.sandboxApi.get('/api/v1/balance/derive/customer_001', { headers: { 'X-Api-Key': victimKey } });
    expect(r.status, r.text).toBe(200);
    expect(r.body.data.computedBalance).toBe('10.00');
  };

  it('refuses an endpoint at either listener, by every spelling of this machine (create and update), and wipes nothing', async () => {
    const before = fingerprint(sb);
    const legit = await attacker.post('/dashboard/webhooks', { headers: CSRF, json: { url: `http://127.0.0.1:${receiverPort}/hooks`, events: ['delta.recorded'] } });
    expect(legit.status, legit.text).toBe(201);
    for (const port of [Number(new URL(sb.productionUrl).port), Number(new URL(sb.sandboxUrl).port)]) {
      for (const { url, rule } of spellings(port)) {
        for (const res of [
          await attacker.post('/dashboard/webhooks', { headers: CSRF, json: { url, events: ['delta.recorded'] } }),
          await attacker.patch(`/dashboard/webhooks/${legit.body.data.id}`, { headers: CSRF, json: { url } }),
        ]) {
          expect([res.status, res.body.code], `${url}: ${res.text}`).toEqual([422, 'validation_failed']);
          const violation = res.body.validation.find((v: { location: string[] }) => v.location.join('.') === 'body.url');
          expect(violation, url).toBeDefined();
          if (rule === 'sandbox-itself') {
            expect(violation.code).toBe('sandbox-itself');
            expect(violation.message).toMatch(/must not be this sandbox's own listener/);
            expect(res.body.detail).toMatch(/deliveries never go to the sandbox itself/);
          }
        }
      }
    }
    // The legit endpoint kept its URL; nothing else was created.
    expect((await attacker.get(`/dashboard/webhooks/${legit.body.data.id}`)).body.data.url).toBe(`http://127.0.0.1:${receiverPort}/hooks`);
    expect((await attacker.get('/dashboard/webhooks')).body.data.total).toBe(1);
    expect((await attacker.delete(`/dashboard/webhooks/${legit.body.data.id}`, { headers: CSRF })).status).toBe(200);
    expect({ ...fingerprint(sb), sessions: before.sessions }).toEqual(before);
    await victimIntact();
  });

  it('loopback receivers on other ports stay allowed', async () => {
    for (const url of [`http://127.0.0.1:${receiverPort}/hooks`, `http://localhost:${receiverPort}/hooks`]) {
      const res = await attacker.post('/dashboard/webhooks', { headers: CSRF, json: { url, events: ['delta.recorded'] } });
      expect(res.status, res.text).toBe(201);
      expect((await attacker.delete(`/dashboard/webhooks/${res.body.data.id}`, { headers: CSRF })).status).toBe(200);
    }
  });

  it('does not follow a receiver that redirects to the control surface', async () => {
    const before = fingerprint(sb);
    const endpoint = (await attacker.post('/dashboard/webhooks', { headers: CSRF, json: { url: `http://127.0.0.1:${receiverPort}/redirect`, events: ['delta.recorded'] } })).body.data;
    for (const target of [sb.productionUrl, sb.sandboxUrl]) {
      location = `${target}/__sandbox/reset`;
      const { deliveryId } = (await attacker.post(`/dashboard/webhooks/${endpoint.id}/test`, { headers: CSRF })).body.data;
      const delivery = await waitFor(async () => {
        const items = (await attacker.get(`/dashboard/webhooks/${endpoint.id}/deliveries`)).body.data.items as any[];
        const d = items.find((x) => x.id === deliveryId);
        return d?.status === 'failed' ? d : undefined;
      }, 'the redirected delivery to fail');
      expect(delivery.attempts.map((a: any) => [a.responseStatus, a.error])).toEqual(Array(3).fill([302, 'non-2xx response status 302']));
    }
    expect({ ...fingerprint(sb), sessions: before.sessions }).toEqual(before);
    await victimIntact();
  });

  it.skipIf(dnsName === undefined)('refuses at delivery a name that resolves to this machine, records why, sends nothing', async () => {
    const before = fingerprint(sb);
    const url = `https://${dnsName}:${new URL(sb.productionUrl).port}/__sandbox/reset`;
    const created = await attacker.post('/dashboard/webhooks', { headers: CSRF, json: { url, events: ['delta.recorded'] } });
    expect(created.status, created.text).toBe(201);
    const { deliveryId } = (await attacker.post(`/dashboard/webhooks/${created.body.data.id}/test`, { headers: CSRF })).body.data;
    const delivery = await waitFor(async () => {
      const d = ((await attacker.get(`/dashboard/webhooks/${created.body.data.id}/deliveries`)).body.data.items as any[]).find((x) => x.id === deliveryId);
      return d?.status === 'failed' ? d : undefined;
    }, 'the refused delivery');
    // Failed at once: one attempt, no response, the reason.
    expect(delivery.attempts).toHaveLength(1);
    expect(delivery.attempts[0]).toMatchObject({ attempt: 1, responseStatus: null, error: expect.stringMatching(SELF) });
    expect(delivery.nextAttemptAt).toBeNull();
    expect({ ...fingerprint(sb), sessions: before.sessions }).toEqual(before);
    await victimIntact();
  });
});

describe('an endpoint that becomes the sandbox itself (kept in the journal, the sandbox restarted on its port)', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'pacspace-self-target-'));
  });
  afterAll(() => rm(dir, { recursive: true, force: true }));

  it('is refused at delivery time on either listener, recorded as failed with the reason, and nothing is wiped', async () => {
    const data = join(dir, 'journal');
    const [productionPort, sandboxPort] = [await freePort(), await freePort()];
    let first: TestSandbox | undefined = await startTestSandbox({ dataDir: data, webhooks: WEBHOOKS });
    let second: TestSandbox | undefined;
    try {
      await loginDemo(first);
      const apiKey = first.demo!.apiKey;
      const urls = [`http://127.0.0.1:${productionPort}/__sandbox/reset`, `http://localhost:${productionPort}/__sandbox/reset`, `http://127.0.0.1:${sandboxPort}/__sandbox/reset`];
      const ids: string[] = [];
      for (const url of urls) {
        const res = await first.dashboard.post('/dashboard/webhooks', { headers: CSRF, json: { url, events: ['delta.recorded'] } });
        expect(res.status, res.text).toBe(201);
        ids.push(res.body.data.id);
      }
      // A delivery still in flight when the sandbox stops: pending in the journal, due at once
      // on the next start (a receiver on that port holds it, then goes away).
      let holding = 0;
      const holder = createServer(() => void holding++);
      await whenPortsFree(() => new Promise<void>((resolve, reject) => holder.once('error', reject).listen(productionPort, '127.0.0.1', () => resolve())));
      const held = await first.dashboard.post(`/dashboard/webhooks/${ids[0]}/test`, { headers: CSRF });
      expect(held.status).toBe(202);
      await waitFor(() => holding === 1, 'the held attempt');
      await first.close();
      first = undefined;
      holder.closeAllConnections();
      await close(holder);

      // The two ports were free when picked; another test file's client socket may hold one for a moment.
      second = await whenPortsFree(() => startTestSandbox({ dataDir: data, port: productionPort, sandboxPort, webhooks: WEBHOOKS }));
      await loginDemo(second);
      const before = fingerprint(second);
      // A delta (delta.recorded to every endpoint) and a test event to each.
      const delta = await second.sandboxApi.post('/api/v1/balance/delta', { headers: { 'X-Api-Key': apiKey }, json: { customerId: 'customer_001', delta: '5.00', reason: 'usage' } });
      expect(delta.status, delta.text).toBe(201);
      for (const id of ids) expect((await second.dashboard.post(`/dashboard/webhooks/${id}/test`, { headers: CSRF })).status).toBe(202);
      const sb = second;
      for (const [i, id] of ids.entries()) {
        // (The first endpoint also has the delivery that was pending at the restart.)
        const expected = i === 0 ? 3 : 2;
        const deliveries = await waitFor(async () => {
          const items = (await sb.dashboard.get(`/dashboard/webhooks/${id}/deliveries`)).body.data.items as any[];
          return items.length === expected && items.every((d) => d.status === 'failed') ? items : undefined;
        }, `the deliveries of ${id} to fail`);
        for (const d of deliveries) {
          expect(d.attempts).toHaveLength(1);
          expect(d.attempts[0]).toMatchObject({ responseStatus: null, error: expect.stringMatching(SELF) });
        }
      }
      // Nothing was wiped: the same users, tenants, keys; the delta is the only change.
      expect({ ...fingerprint(second), sessions: before.sessions }).toEqual({ ...before, receipts: before.receipts + 1 });
      expect((await second.sandboxApi.get('/api/v1/balance/derive/customer_001', { headers: { 'X-Api-Key': apiKey } })).status).toBe(200);
    } finally {
      await first?.close();
      await second?.close();
    }
  });
});
