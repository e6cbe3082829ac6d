// Durable state with --data: every acknowledged write survives a restart exactly, and a
// journal cut off mid-record (a crash) or damaged is replayed up to the damage, with a
// warning and without a crash.
import { appendFile, mkdtemp, readFile, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { loginDemo } from '../testing/accounts.ts';
import { CSRF, startTestSandbox, type TestSandbox } from '../testing/test-sandbox.ts';
import { decodeJournal, encodeRecord } from './journal.ts';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'pacspace-journal-'));
});
afterAll(() => rm(dir, { recursive: true, force: true }));

const event = (n: number) => ({ type: 'api_key.toggled' as const, at: n, keyId: `key_${n}`, active: true });

describe('journal records', () => {
  it('decodes what it encodes', () => {
    const text = [1, 2, 3].map((n) => encodeRecord(event(n))).join('');
    expect(decodeJournal(text)).toEqual({ events: [event(1), event(2), event(3)], validBytes: Buffer.byteLength(text) });
  });

  it('stops at a torn last record', () => {
    const good = encodeRecord(event(1));
    const torn = encodeRecord(event(2)).slice(0, 30);
    expect(decodeJournal(good + torn)).toMatchObject({ events: [event(1)], validBytes: good.length, problem: 'record 2 is torn (no line end)' });
  });

  it('stops at a record whose checksum does not match', () => {
    const good = encodeRecord(event(1));
    const bad = encodeRecord(event(2)).replace('"active":true', '"active":false');
    expect(decodeJournal(good + bad + encodeRecord(event(3)))).toMatchObject({ events: [event(1)], problem: 'record 2 is corrupt' });
  });
});

describe('restart with --data', () => {
  let first: TestSandbox;
  let key: string;
  let cookie: string;

  it('keeps keys, sessions, environments and the demo account across a restart', async () => {
    const data = join(dir, 'restart');
    first = await startTestSandbox({ dataDir: data, provisioningMs: 0 });
    await loginDemo(first);
    key = (await first.dashboard.post('/dashboard/api-keys', { headers: CSRF, json: { name: 'survivor' } })).body.data.fullKey;
    expect((await first.dashboard.post('/dashboard/contracts/provision', { headers: CSRF, json: { environment: 'mainnet' } })).status).toBe(201);
    const disabled = (await first.dashboard.post('/dashboard/api-keys', { headers: CSRF, json: { name: 'disabled' } })).body.data;
    await first.dashboard.post(`/dashboard/api-keys/${disabled.id}/toggle`, { headers: CSRF });
    cookie = [...first.dashboard.jar].map(([k, v]) => `${k}=${v}`).join('; ');
    const before = (await first.dashboard.get('/dashboard/api-keys')).body.data;
    const eventsBefore = first.services.store.eventCount;
    await first.close();

    const second = await startTestSandbox({ dataDir: data, provisioningMs: 0 });
    try {
      expect(second.services.store.eventCount).toBe(eventsBefore);
      expect(second.demo).toBeUndefined();
      expect(second.restoredDemo?.email).toBe(first.demo!.email);
      const me = await second.dashboard.get('/dashboard/auth/me', { headers: { cookie } });
      expect(me.status).toBe(200);
      const after = await second.dashboard.get('/dashboard/api-keys', { headers: { cookie } });
      expect(after.body.data.items.map((k: any) => [k.id, k.active])).toEqual(before.items.map((k: any) => [k.id, k.active]));
      expect((await second.sandboxApi.get('/api/v1/balance/derive/customer_001', { headers: { 'X-Api-Key': key } })).status).toBe(200);
      expect((await second.sandboxApi.get('/api/v1/balance/derive/customer_001', { headers: { 'X-Api-Key': disabled.fullKey } })).status).toBe(401);
      const envs = await second.dashboard.get('/dashboard/environments', { headers: { cookie } });
      expect(envs.body.data.map((e: any) => e.status)).toEqual(['active', 'active']);
      // The password still works: the account was not seeded a second time.
      expect((await second.newDashboardClient().post('/dashboard/auth/login', { json: { email: first.demo!.email, password: first.demo!.password } })).status).toBe(200);
    } finally {
      await second.close();
    }
  });

  it('replays a journal with a torn last record up to it, warns, and keeps working', async () => {
    const data = join(dir, 'torn');
    const sb = await startTestSandbox({ dataDir: data });
    const count = sb.services.store.eventCount;
    await sb.close();
    await appendFile(join(data, 'journal.ndjson'), '0123456789abcdef {"type":"api_key.toggled","at":1,"keyId":"key_');
    const warn = vi.spyOn(process.stderr, 'write').mockImplementation(() => true);
    const again = await startTestSandbox({ dataDir: data });
    try {
      expect(warn).toHaveBeenCalledWith(expect.stringMatching(/journal: record \d+ is torn .*replayed the \d+ records before it/));
      expect(again.services.store.eventCount).toBe(count);
      expect((await loginDemo(again)).email).toBe(again.restoredDemo!.email);
      const files = await readdir(data);
      expect(files.some((f) => f.startsWith('journal.ndjson.tail-'))).toBe(true);
      // The journal ends with a complete record again, so new writes follow good ones.
      expect((await readFile(join(data, 'journal.ndjson'), 'utf8')).endsWith('\n')).toBe(true);
    } finally {
      warn.mockRestore();
      await again.close();
    }
  });

  it('reset empties the journal too', async () => {
    const data = join(dir, 'reset');
    const sb = await startTestSandbox({ dataDir: data });
    await sb.dashboard.post('/__sandbox/reset');
    const count = sb.services.store.eventCount;
    await sb.close();
    const again = await startTestSandbox({ dataDir: data });
    try {
      expect(again.services.store.eventCount).toBe(count);
    } finally {
      await again.close();
    }
  });
});
