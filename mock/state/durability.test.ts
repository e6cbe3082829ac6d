// No acknowledged write lost, no failed one kept. The journal writes through a file layer that
// fails here like a full or broken disk: ENOSPC, ENOSPC after part of the batch was written, a
// short write, EIO from fdatasync, a cut (ftruncate) that fails too. Through the app's
// in-process handle: a delta whose write fails is answered exactly `503 storage_unavailable`
// with Retry-After; memory (balances, receipts, idempotency records, referenceIds) and journal
// bytes are as before; the same request retried after the fault clears is recorded anew (201,
// not a replay) under the same referenceId; a restart replays exactly the acknowledged deltas.
// A control-surface reset is one such write: when it fails nothing is reset.
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApp } from '../app.ts';
import { controlHandlers } from '../control/handlers.ts';
import { seedDemoAccount } from '../demo/seed-demo.ts';
import { apiHandlers } from '../domain/index.ts';
import { createLogger } from '../logger.ts';
import { createServices } from '../sandbox.ts';
import { createScheduler } from '../scheduler.ts';
import type { SandboxConfig } from '../services.ts';
import { testSandboxConfig } from '../testing/sandbox-config.ts';
import { createClock } from './clock.ts';
import { openJournal } from './journal.ts';
import type { Projections } from './projections.ts';
import { nodeFiles, StorageUnavailableError, type JournalFiles } from './storage.ts';
import { createStore } from './store.ts';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'pacspace-durability-'));
});
afterAll(() => rm(dir, { recursive: true, force: true }));

type Fault = 'enospc' | 'partial-enospc' | 'short' | 'eio-sync';
const errno = (code: string) => Object.assign(new Error(`${code}: injected`), { code });

/** node:fs with faults on demand for `journal.ndjson` and the new journal a reset writes (other files pass through). */
function faultyFiles() {
  const control = {
    fault: undefined as Fault | undefined,
    /** How many of the next cuts (ftruncate) fail with EIO. */
    failingCuts: 0,
    /** Writes wait for this before they do anything. */
    gate: undefined as Promise<void> | undefined,
    writes: 0,
    partialDone: false,
    set(fault: Fault | undefined) {
      control.fault = fault;
      control.partialDone = false;
    },
  };
  const files: JournalFiles = {
    async open(path, options) {
      const file = await nodeFiles.open(path, options);
      if (!/journal\.ndjson(\.reset)?$/.test(path)) return file;
      return {
        async write(data, position) {
          control.writes++;
          if (control.gate) await control.gate;
          switch (control.fault) {
            case 'enospc':
              throw errno('ENOSPC');
            case 'partial-enospc':
            case 'short':
              // The disk takes part of the batch, then nothing more.
              if (control.partialDone) {
                if (control.fault === 'short') return 0;
                throw errno('ENOSPC');
              }
              control.partialDone = true;
              return file.write(data.subarray(0, Math.ceil(data.length / 2)), position);
          }
          return file.write(data, position);
        },
        async sync() {
          if (control.fault === 'eio-sync') throw errno('EIO');
          return file.sync();
        },
        async truncate(length) {
          if (control.failingCuts > 0) {
            control.failingCuts--;
            throw errno('EIO');
          }
          return file.truncate(length);
        },
        close: () => file.close(),
      };
    },
  };
  return { files, control };
}

const config = (): SandboxConfig => testSandboxConfig();

type Call = { status: number; headers: Record<string, string | string[]>; body: any };

/** The sandbox in process on `data`, through `files`; the demo key is seeded on the first start. */
async function start(data: string, files: JournalFiles = nodeFiles, options: { retryAfterMs?: number; apiKey?: string } = {}) {
  const warnings: string[] = [];
  const { replayed, journal } = await openJournal(data, { files, retryAfterMs: options.retryAfterMs ?? 0, warn: (m) => warnings.push(m) });
  const store = createStore(journal, replayed);
  const services = await createServices(config(), { logLevel: 'silent' }, store, createLogger('silent'));
  const app = await createApp(services, { api: apiHandlers, control: controlHandlers });
  const apiKey = options.apiKey ?? (await seedDemoAccount(services, 1)).apiKey;
  const call = async (method: string, url: string, o: { json?: unknown; headers?: Record<string, string> } = {}): Promise<Call> => {
    // The Dashboard API is on the production listener; the pk_test_ key's Balance API on the sandbox one.
    const res = await app.handle({
      method,
      url,
      headers: { 'x-api-key': apiKey, ...(o.json === undefined ? {} : { 'content-type': 'application/json' }), ...o.headers },
      body: o.json === undefined ? undefined : Buffer.from(JSON.stringify(o.json)),
      environment: url.startsWith('/api/') ? 'test' : 'live',
      clientAddress: '127.0.0.1',
    });
    return { status: res.status, headers: res.headers, body: res.body === undefined ? undefined : JSON.parse(res.body) };
  };
  const delta = (i: number, extra: { idempotencyKey?: string; referenceId?: string } = {}) =>
    call('POST', '/api/v1/balance/delta', {
      headers: extra.idempotencyKey ? { 'idempotency-key': extra.idempotencyKey } : {},
      json: { customerId: 'customer_001', delta: `${i}.25`, reason: 'usage', referenceId: extra.referenceId ?? `ref-${i}` },
    });
  const derive = async () => (await call('GET', '/api/v1/balance/derive/customer_001')).body.data;
  const close = async () => {
    services.webhooks.stop?.();
    services.scheduler.stop();
    await store.close();
  };
  return { services, store, apiKey, call, delta, derive, close, warnings, journalPath: join(data, 'journal.ndjson') };
}

/** What memory holds, in the terms the issue names: balances, receipts, idempotency records, referenceIds. */
function fingerprint(s: Projections) {
  return JSON.stringify({
    users: s.users.size,
    sessions: s.sessions.size,
    keys: s.apiKeys.size,
    outbox: s.outbox.length,
    tokens: s.emailTokens.size,
    receipts: [...s.ledger.receipts.keys()],
    idempotency: [...s.ledger.idempotency.keys()],
    customers: [...s.ledger.customers].map(([k, c]) => [k, c.balance.toString(), c.receipts.length, [...c.references]]),
    deliveries: s.webhooks.deliveries.size,
    lastEventAt: s.lastEventAt,
  });
}

function expectStorageUnavailable(res: Call) {
  expect(res.status).toBe(503);
  expect(res.headers['content-type']).toBe('application/problem+json');
  expect(res.headers['retry-after']).toMatch(/^[1-9]\d*$/);
  expect(res.body).toMatchObject({ status: 503, code: 'storage_unavailable', type: 'https://docs.pacspace.io/errors/storage_unavailable' });
  // Every operation documents it (components/responses/StorageUnavailable.yaml): Prism's response validation finds nothing.
  expect(res.headers['sl-violations']).toBeUndefined();
}

describe.each<Fault>(['enospc', 'partial-enospc', 'short', 'eio-sync'])('a delta whose write fails (%s)', (fault) => {
  it('is answered 503 storage_unavailable, changes nothing, and goes through once the disk is back', async () => {
    const data = join(dir, `fault-${fault}`);
    const { files, control } = faultyFiles();
    const sb = await start(data, files);
    for (let i = 1; i <= 3; i++) expect((await sb.delta(i)).status).toBe(201);
    const journalBefore = await readFile(sb.journalPath);
    const deriveBefore = await sb.derive();
    const memoryBefore = fingerprint(sb.store.state);
    const countBefore = sb.store.eventCount;

    control.set(fault);
    const failed = await sb.delta(4, { idempotencyKey: 'key-4' });
    expectStorageUnavailable(failed);
    expect(sb.warnings).toEqual([expect.stringMatching(/a write failed \((ENOSPC|EIO|ESHORTWRITE) \(/)]);
    expect(await sb.derive()).toEqual(deriveBefore);
    expect(fingerprint(sb.store.state)).toBe(memoryBefore);
    expect(sb.store.eventCount).toBe(countBefore);
    expect(await readFile(sb.journalPath)).toEqual(journalBefore);

    control.set(undefined);
    const retried = await sb.delta(4, { idempotencyKey: 'key-4' });
    expect(retried.status).toBe(201);
    expect(retried.headers['idempotent-replayed']).toBeUndefined();
    expect(retried.body.data).toMatchObject({ sequence: 4, referenceId: 'ref-4', balanceAfter: '11.00' });
    // Its referenceId names the receipt that exists; the replay is of the response that was sent.
    const duplicate = await sb.delta(4);
    expect(duplicate.status).toBe(409);
    expect(duplicate.body).toMatchObject({ code: 'duplicate_reference', receiptId: retried.body.data.receiptId });
    const replay = await sb.delta(4, { idempotencyKey: 'key-4' });
    expect(replay.headers['idempotent-replayed']).toBe('true');
    expect(replay.body.data.receiptId).toBe(retried.body.data.receiptId);
    const acknowledged = await sb.derive();
    await sb.close();

    const again = await start(data, nodeFiles, { apiKey: sb.apiKey });
    try {
      expect(again.warnings).toEqual([]);
      expect(await again.derive()).toEqual(acknowledged);
      expect(acknowledged).toMatchObject({ deltaCount: 4, computedBalance: '11.00' });
      expect((await again.call('GET', `/api/v1/receipts/${retried.body.data.receiptId}`)).status).toBe(200);
    } finally {
      await again.close();
    }
  });
});

describe('failed writes among concurrent requests', () => {
  it('fails every request decided on top of the failed one, and no reader sees it', async () => {
    const data = join(dir, 'concurrent');
    const { files, control } = faultyFiles();
    const sb = await start(data, files);
    expect((await sb.delta(1)).status).toBe(201);
    const deriveBefore = await sb.derive();
    const memoryBefore = fingerprint(sb.store.state);
    const journalBefore = await readFile(sb.journalPath);

    let release!: () => void;
    control.gate = new Promise<void>((r) => (release = r));
    control.set('enospc');
    const writes = control.writes;
    const first = sb.delta(2, { idempotencyKey: 'key-2' });
    while (control.writes === writes) await new Promise((r) => setImmediate(r));
    // Decided while the first is being written: a reader, a duplicate referenceId, the same
    // Idempotency-Key, and an independent delta that shares the next write.
    const read = sb.call('GET', '/api/v1/balance/derive/customer_001');
    const sameReference = sb.delta(2);
    const sameKey = sb.delta(2, { idempotencyKey: 'key-2' });
    const other = sb.delta(3);
    const pending = await Promise.race([read.then(() => 'answered'), new Promise((r) => setTimeout(() => r('waiting'), 50))]);
    expect(pending).toBe('waiting'); // a read does not show a write that is not durable yet
    release();
    control.gate = undefined;

    expectStorageUnavailable(await first);
    expectStorageUnavailable(await read);
    // Not `409 duplicate_reference` naming a receipt that never existed.
    expectStorageUnavailable(await sameReference);
    // (Still in progress when it arrived: an honest 409, then nothing was recorded.)
    expect((await sameKey).body.code).toMatch(/^(idempotency_request_in_progress|storage_unavailable)$/);
    expectStorageUnavailable(await other);
    expect(await sb.derive()).toEqual(deriveBefore);
    expect(fingerprint(sb.store.state)).toBe(memoryBefore);
    expect(await readFile(sb.journalPath)).toEqual(journalBefore);

    control.set(undefined);
    const [a, b] = await Promise.all([sb.delta(2, { idempotencyKey: 'key-2' }), sb.delta(3)]);
    expect([a.status, b.status, a.headers['idempotent-replayed']]).toEqual([201, 201, undefined]);
    expect([a.body.data.sequence, b.body.data.sequence].sort()).toEqual([2, 3]);
    const acknowledged = await sb.derive();
    await sb.close();
    const again = await start(data, nodeFiles, { apiKey: sb.apiKey });
    expect(await again.derive()).toEqual(acknowledged);
    await again.close();
  });

  it('cuts a torn fragment left by a failed write (even when the first cut fails) before the next write', async () => {
    const data = join(dir, 'torn-fragment');
    const { files, control } = faultyFiles();
    const sb = await start(data, files);
    expect((await sb.delta(1)).status).toBe(201);
    const journalBefore = await readFile(sb.journalPath);
    control.set('partial-enospc');
    control.failingCuts = 1;
    expectStorageUnavailable(await sb.delta(2));
    // Half a record is still on disk, past the last good one.
    expect((await readFile(sb.journalPath)).length).toBeGreaterThan(journalBefore.length);
    control.set(undefined);
    for (let i = 2; i <= 11; i++) expect((await sb.delta(i)).status).toBe(201);
    const acknowledged = await sb.derive();
    await sb.close();
    const again = await start(data, nodeFiles, { apiKey: sb.apiKey });
    try {
      expect(again.warnings).toEqual([]);
      expect(await again.derive()).toEqual(acknowledged);
      expect(acknowledged.deltaCount).toBe(11);
    } finally {
      await again.close();
    }
  });

  it('refuses writes without touching the disk for Retry-After, then takes them again', async () => {
    const data = join(dir, 'retry-after');
    const { files, control } = faultyFiles();
    const sb = await start(data, files, { retryAfterMs: 300 });
    control.set('enospc');
    expectStorageUnavailable(await sb.delta(1));
    control.set(undefined);
    const writes = control.writes;
    const refused = await sb.delta(1);
    expectStorageUnavailable(refused);
    expect(refused.headers['retry-after']).toBe('1');
    expect(control.writes).toBe(writes);
    await new Promise((r) => setTimeout(r, 350));
    expect((await sb.delta(1)).status).toBe(201);
    await sb.close();
  });

  it('rolls back dashboard writes too: an access request whose write fails sends no e-mail', async () => {
    const data = join(dir, 'dashboard');
    const { files, control } = faultyFiles();
    const sb = await start(data, files);
    const request = () =>
      sb.call('POST', '/dashboard/auth/request-access', {
        json: { name: 'Jane Doe', email: 'jane@example.com', organization: 'Acme Inc', buyerMode: 'DIRECT_INFERENCE_VENDOR', useCase: 'Record usage before invoices go out.' },
      });
    const memoryBefore = fingerprint(sb.store.state);
    control.set('eio-sync');
    expectStorageUnavailable(await request());
    expect(fingerprint(sb.store.state)).toBe(memoryBefore);
    expect(sb.store.state.accessRequests.has('jane@example.com')).toBe(false);
    control.set(undefined);
    expect((await request()).status).toBe(202);
    expect(sb.store.state.outbox.filter((m) => m.to === 'jane@example.com')).toHaveLength(1);
    await sb.close();
  });
});

describe('a reset whose write fails', () => {
  it.each<Fault>(['enospc', 'short', 'eio-sync'])('(%s) is answered 503 and resets nothing; once the disk is back it resets in one step', async (fault) => {
    const data = join(dir, `reset-${fault}`);
    const { files, control } = faultyFiles();
    const sb = await start(data, files);
    for (let i = 1; i <= 3; i++) expect((await sb.delta(i)).status).toBe(201);
    // A spent rate-limit token: a reset that happened would refill its bucket.
    const remaining = () => sb.services.limits.login.peek('spent@example.com').remaining;
    sb.services.limits.login.take('spent@example.com');
    const spent = remaining();
    const journalBefore = await readFile(sb.journalPath);
    const deriveBefore = await sb.derive();
    const memoryBefore = fingerprint(sb.store.state);
    const countBefore = sb.store.eventCount;

    control.set(fault);
    expectStorageUnavailable(await sb.call('POST', '/__sandbox/reset'));
    expect(sb.warnings).toEqual([expect.stringMatching(/a write failed \((ENOSPC|EIO|ESHORTWRITE) \(/)]);
    // Not wiped and half re-seeded: everything as it was, the old key, the rate-limit buckets and the journal included.
    expect(fingerprint(sb.store.state)).toBe(memoryBefore);
    expect(sb.store.eventCount).toBe(countBefore);
    expect(await sb.derive()).toEqual(deriveBefore);
    expect(remaining()).toBe(spent);
    expect(await readFile(sb.journalPath)).toEqual(journalBefore);
    expect(await readdir(data)).not.toContain('journal.ndjson.reset');

    control.set(undefined);
    const reset = await sb.call('POST', '/__sandbox/reset');
    expect(reset.status).toBe(200);
    const newKey: string = reset.body.data.demo.fullKey;
    expect(remaining()).toBeGreaterThan(spent);
    expect((await sb.call('GET', '/api/v1/balance/derive/customer_001')).status).toBe(401);
    const derived = await sb.call('GET', '/api/v1/balance/derive/customer_001', { headers: { 'x-api-key': newKey } });
    expect(derived.body.data).toMatchObject({ deltaCount: 0, computedBalance: '0.00' });
    // The journal is exactly the re-seeded demo account (and the new key's first use, by the
    // derive above: mock/domain/api-key-use.ts), and later writes follow it.
    const records = (await readFile(sb.journalPath, 'utf8')).split('\n').filter(Boolean);
    expect(records.map((r) => JSON.parse(r.slice(17)).type)).toEqual(['access.requested', 'access.approved', 'user.registered', 'email.verified', 'api_key.created', 'api_key.used']);
    expect((await sb.call('POST', '/api/v1/balance/delta', { headers: { 'x-api-key': newKey }, json: { customerId: 'customer_001', delta: '1.00', reason: 'usage' } })).status).toBe(201);
    expect(await readdir(data)).not.toContain('journal.ndjson.reset');
    await sb.close();

    const again = await start(data, nodeFiles, { apiKey: newKey });
    try {
      expect(again.warnings).toEqual([]);
      expect(await again.derive()).toMatchObject({ deltaCount: 1, computedBalance: '1.00' });
      expect(again.store.eventCount).toBe(7); // the demo account's 5, the key's use, the delta
    } finally {
      await again.close();
    }
  });

  it('a reset queued behind a write that fails is undone with it, and so is what was decided on the reset state', async () => {
    const data = join(dir, 'reset-queued');
    const { files, control } = faultyFiles();
    const sb = await start(data, files);
    expect((await sb.delta(1)).status).toBe(201);
    const journalBefore = await readFile(sb.journalPath);
    let release!: () => void;
    control.gate = new Promise<void>((r) => (release = r));
    const writes = control.writes;
    const before = sb.delta(2);
    while (control.writes === writes) await new Promise((r) => setImmediate(r));
    const reset = sb.call('POST', '/__sandbox/reset');
    // Decided on the reset state (the old key is unknown there): refused with the reset's failure, not 401.
    const after = sb.delta(3);
    await new Promise((r) => setTimeout(r, 20));
    control.set('enospc');
    // The delta being written is held at the gate: it fails, and the reset and what followed fail with it.
    release();
    control.gate = undefined;
    expectStorageUnavailable(await before);
    expectStorageUnavailable(await reset);
    expectStorageUnavailable(await after);
    control.set(undefined);
    expect(await sb.derive()).toMatchObject({ deltaCount: 1 });
    expect(await readFile(sb.journalPath)).toEqual(journalBefore);
    await sb.close();
  });
});

describe('background work whose write fails', () => {
  it('is run again after the Retry-After delay, not dropped and not spun', async () => {
    const clock = createClock();
    const errors: unknown[] = [];
    const scheduler = createScheduler(clock, (e) => errors.push(e));
    let runs = 0;
    const done = new Promise<void>((resolve) =>
      scheduler.at(clock.now(), () => {
        runs++;
        if (runs === 1) throw new StorageUnavailableError('ENOSPC (no space left on device)', 30);
        resolve();
      }),
    );
    const started = Date.now();
    await done;
    expect(runs).toBe(2);
    expect(Date.now() - started).toBeGreaterThanOrEqual(25);
    expect(errors).toEqual([]);
    scheduler.stop();
  });
});
