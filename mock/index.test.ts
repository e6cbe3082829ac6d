// The package's programmatic API (`@pacspace-io/sandbox`, mock/index.ts), used the way an
// integrator's own test suite uses it: start it, drive it with the SDK, move its clock, read
// its outbox and webhook deliveries, reset it, close it. Then its options and its errors.
import { createServer, type Server } from 'node:http';
import { createServer as createTcpServer, type AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AuthenticationError, PacSpace, PacSpaceDashboard, verifyWebhook } from '../sdk/index.ts';
import { ListenError, startSandbox, type ClockState, type Sandbox } from './index.ts';

describe('an integrator’s test suite', () => {
  let sandbox: Sandbox;
  let receiver: Server;
  let receiverUrl: string;
  /** Raw bodies and headers the receiver got; it answers 500 to the first `failFirst` of them. */
  const received: Array<{ body: string; headers: Record<string, string | string[] | undefined> }> = [];
  let failFirst = 0;
  /** While set, the receiver holds its answers to the requests after the first `failFirst` until it resolves. */
  let held: Promise<void> | undefined;

  beforeAll(async () => {
    sandbox = await startSandbox({ seed: 1 });
    receiver = createServer((req, res) => {
      let body = '';
      req.setEncoding('utf8').on('data', (chunk: string) => (body += chunk));
      req.on('end', async () => {
        received.push({ body, headers: req.headers });
        const status = received.length <= failFirst ? 500 : 204;
        if (status === 204 && held) await held;
        res.writeHead(status).end();
      });
    });
    await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
    receiverUrl = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/pacspace-webhooks`;
  });

  afterAll(async () => {
    await sandbox?.close();
    await new Promise((resolve) => receiver?.close(resolve));
  });

  const balanceClient = () => new PacSpace({ apiKey: sandbox.demo.apiKey, sandboxUrl: sandbox.urls.sandbox, maxRetries: 0 });

  async function dashboardSession() {
    const dashboard = new PacSpaceDashboard({ baseUrl: sandbox.urls.dashboard, maxRetries: 0 });
    await dashboard.auth.login(sandbox.demo.email, sandbox.demo.password);
    return dashboard;
  }

  it('listens on free loopback ports and has the seeded demo account with a fresh pk_test_ key', () => {
    expect(sandbox.urls.dashboard).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(sandbox.urls.production).toBe(sandbox.urls.dashboard);
    expect(sandbox.urls.sandbox).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(sandbox.urls.sandbox).not.toBe(sandbox.urls.production);
    expect(sandbox.urls.control).toBe(`${sandbox.urls.production}/__sandbox`);
    expect(sandbox.demo).toMatchObject({ email: 'aaliyah_bosco@demo.pacspace.test', password: 'HV3mbtu1tISbbphhkKwa' });
    expect(sandbox.demo.apiKey).toMatch(/^pk_test_[A-Za-z0-9]+\.sk_test_[A-Za-z0-9]+$/);
  });

  it('records a delta with the demo key; moving the clock confirms it', async () => {
    const pac = balanceClient();
    const receipt = await pac.balance.emit('customer_001', '100.00', 'initial-deposit', { referenceId: 'txn-001' });
    expect(receipt.status).toBe('recorded');

    const before = sandbox.clock.now().getTime();
    const clock = await sandbox.clock.advance(2_000);
    expect(Date.parse(clock.now)).toBeGreaterThanOrEqual(before + 2_000);
    expect(clock.offsetSeconds).toBe(2);
    expect(sandbox.clock.now().getTime()).toBeGreaterThanOrEqual(before + 2_000);

    expect((await pac.receipts.get(receipt.receiptId)).status).toBe('confirmed');
    expect((await pac.balance.derive('customer_001')).computedBalance).toBe('100.00');
    // The same instant over HTTP, for tests in another process.
    const overHttp = (await (await fetch(`${sandbox.urls.control}/clock`)).json()) as { data: ClockState };
    expect(overHttp.data.offsetSeconds).toBe(2);
  });

  it('keeps the e-mails it would have sent: sign up through the access link, reset a password', async () => {
    const dashboard = new PacSpaceDashboard({ baseUrl: sandbox.urls.dashboard, maxRetries: 0 });
    const email = 'Jane.Doe@Example.com';
    await dashboard.auth.requestAccess({ name: 'Jane Doe', email, organization: 'Acme Inc', buyerMode: 'DIRECT_INFERENCE_VENDOR', useCase: 'Usage billing.' });
    const [access] = await sandbox.outbox({ to: 'jane.doe@example.com' });
    expect(access).toMatchObject({ to: email, kind: 'access' });
    expect(access!.link).toBe(`${sandbox.urls.dashboard}/register?token=${access!.token}`);

    await dashboard.auth.register({ accessToken: access!.token, email, password: 'correct horse battery', name: 'Jane Doe' });
    const verify = (await sandbox.outbox({ to: email })).find((m) => m.kind === 'verify')!;
    await dashboard.auth.verifyEmail(verify.token);
    expect((await dashboard.auth.login(email, 'correct horse battery')).email).toBe(email);

    await dashboard.auth.requestPasswordReset(email);
    const reset = (await sandbox.outbox({ to: email })).at(-1)!;
    expect(reset.kind).toBe('reset');
    await dashboard.auth.resetPassword(reset.token, 'a brand new passphrase');
    expect((await dashboard.auth.login(email, 'a brand new passphrase')).email).toBe(email);

    expect((await sandbox.outbox()).map((m) => m.kind)).toEqual(['access', 'verify', 'reset']);
    expect(await sandbox.outbox({ to: 'nobody@example.com' })).toEqual([]);
  });

  it('delivers signed webhooks to a local receiver, retries on the sandbox clock, and lists every attempt', async () => {
    const dashboard = await dashboardSession();
    const endpoint = await dashboard.webhooks.create({ url: receiverUrl, events: ['delta.recorded'] });
    failFirst = 1;
    // The sandbox clock follows real time, so the retry (1 s later) can come before the test looks
    // on a loaded machine: the receiver holds its answer to it until the test has seen it pending.
    let release!: () => void;
    held = new Promise((resolve) => (release = resolve));
    const receipt = await balanceClient().balance.emit('customer_002', '5', 'usage');

    // The first attempt gets a 500; the retry waits on the sandbox clock.
    await expect.poll(async () => (await sandbox.webhookDeliveries({ endpointId: endpoint.id }))[0]?.attempts.length, { timeout: 15_000 }).toBe(1);
    const [pending] = await sandbox.webhookDeliveries({ endpointId: endpoint.id });
    expect(pending).toMatchObject({ eventType: 'delta.recorded', status: 'pending', attempts: [{ attempt: 1, responseStatus: 500 }] });
    expect(pending!.nextAttemptAt).not.toBeNull();

    // (At least 1 ms: real time may have brought the retry due already.)
    await sandbox.clock.advance(Math.max(1, Date.parse(pending!.nextAttemptAt!) - sandbox.clock.now().getTime() + 1));
    release();
    held = undefined;
    await expect.poll(async () => (await sandbox.webhookDeliveries({ endpointId: endpoint.id }))[0]?.status, { timeout: 15_000 }).toBe('succeeded');
    const [delivered] = await sandbox.webhookDeliveries({ endpointId: endpoint.id });
    expect(delivered!.attempts.map((a) => a.responseStatus)).toEqual([500, 204]);
    expect(delivered!.nextAttemptAt).toBeNull();

    // What the receiver got verifies with the endpoint's secret; the Dashboard API lists the same.
    const event = await verifyWebhook(received.at(-1)!.body, received.at(-1)!.headers, endpoint.secret);
    expect(event.type === 'delta.recorded' && event.data.receiptId).toBe(receipt.receiptId);
    expect((await dashboard.webhooks.deliveries(endpoint.id)).items).toEqual([delivered]);
    expect(await sandbox.webhookDeliveries()).toEqual([delivered]);
    expect(await sandbox.webhookDeliveries({ endpointId: 'wh_unknown' })).toEqual([]);
  });

  it('reset wipes everything and re-creates the demo account with a new key', async () => {
    const oldKey = sandbox.demo.apiKey;
    const demo = await sandbox.reset();
    expect(demo).toBe(sandbox.demo);
    expect(demo).toMatchObject({ email: 'aaliyah_bosco@demo.pacspace.test', password: 'HV3mbtu1tISbbphhkKwa' });
    expect(demo!.apiKey).not.toBe(oldKey);

    const stale = new PacSpace({ apiKey: oldKey, sandboxUrl: sandbox.urls.sandbox, maxRetries: 0 });
    await expect(stale.balance.derive('customer_001')).rejects.toBeInstanceOf(AuthenticationError);
    expect((await balanceClient().balance.derive('customer_001')).computedBalance).toBe('0.00');
    expect(await sandbox.outbox()).toEqual([]);
    expect(await sandbox.webhookDeliveries()).toEqual([]);
    // The clock keeps its time.
    expect((await sandbox.clock.advance(1_000)).offsetSeconds).toBeGreaterThanOrEqual(3);
  });

  it('close stops listening, and a second close is harmless', async () => {
    const { production, sandbox: sandboxUrl } = sandbox.urls;
    await sandbox.close();
    await sandbox.close();
    await expect(fetch(`${production}/api/v1/verify/${'0'.repeat(64)}`)).rejects.toThrow();
    await expect(fetch(`${sandboxUrl}/api/v1/verify/${'0'.repeat(64)}`)).rejects.toThrow();
  });
});

describe('options and errors', () => {
  it('without a seed there is no demo account; without control no /__sandbox over HTTP, the methods still work', async () => {
    const sandbox = await startSandbox({ seed: null, control: false });
    try {
      expect(() => sandbox.demo).toThrow('This sandbox has no demo account: it was started with seed: null.');
      expect(sandbox.urls.control).toBeNull();
      expect((await fetch(`${sandbox.urls.production}/__sandbox/clock`)).status).toBe(404);
      expect(await sandbox.reset()).toBeNull();
      expect((await sandbox.clock.advance(500)).offsetSeconds).toBe(0.5);
    } finally {
      await sandbox.close();
    }
  });

  it('refuses invalid options with a RangeError before binding anything', async () => {
    await expect(startSandbox({ port: 70_000 })).rejects.toThrow(new RangeError('port must be an integer from 0 to 65535, got 70000'));
    await expect(startSandbox({ sandboxPort: -1 })).rejects.toThrow(new RangeError('sandboxPort must be an integer from 0 to 65535, got -1'));
    await expect(startSandbox({ port: 5000, sandboxPort: 5000 })).rejects.toThrow(new RangeError('port and sandboxPort must differ (both are 5000)'));
    await expect(startSandbox({ seed: 1.5 })).rejects.toThrow(RangeError);
    await expect(startSandbox({ confirmationMs: -1 })).rejects.toThrow(new RangeError('confirmationMs must be a whole number, got -1'));
    await expect(startSandbox({ logLevel: 'loud' as 'info' })).rejects.toThrow(RangeError);
    await expect(startSandbox({ repair: true })).rejects.toThrow(new RangeError('repair needs dataDir'));
    await expect(startSandbox({ dataKeyFile: 'data.key' })).rejects.toThrow(new RangeError('dataKeyFile needs dataDir'));
    await expect(startSandbox({ dataDir: 'x', dataKeyFile: '' })).rejects.toThrow(RangeError);
    const sandbox = await startSandbox();
    try {
      for (const ms of [0, -1, Number.NaN, 315_360_000_001]) await expect(sandbox.clock.advance(ms)).rejects.toThrow(RangeError);
    } finally {
      await sandbox.close();
    }
  });

  it('a busy port rejects with a ListenError naming the listener; the other listener is released', async () => {
    const busy = createTcpServer();
    await new Promise<void>((resolve) => busy.listen(0, '127.0.0.1', resolve));
    const busyPort = (busy.address() as AddressInfo).port;
    const free = await freePort();
    try {
      const error = await startSandbox({ port: free, sandboxPort: busyPort }).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(ListenError);
      expect(error).toMatchObject({ listener: 'sandbox', host: '127.0.0.1', port: busyPort, code: 'EADDRINUSE', message: `127.0.0.1:${busyPort} is already in use` });
      // The production listener had started on `free`; it was closed again.
      const again = await startSandbox({ port: free });
      await again.close();
    } finally {
      await new Promise((resolve) => busy.close(resolve));
    }
  });
});

/** A port the system just had free (bound and released). */
async function freePort(): Promise<number> {
  const server = createTcpServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}
