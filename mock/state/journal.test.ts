// Durable state with --data: every acknowledged write survives a restart exactly. At start-up
// only a torn final record (a crash mid-write) is cut off, with a warning; damage anywhere else
// refuses the start with one line naming the record, unless `repair` is asked for: then every
// record that verifies and follows from the ones before it is kept, the rest moved aside.
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { appendFile, mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { dataKeyFrom } from '../security/data-key.ts';
import { loginDemo } from '../testing/accounts.ts';
import { CSRF, startTestSandbox, type TestSandbox } from '../testing/test-sandbox.ts';
import type { SandboxEvent } from './events.ts';
import { encodeRecord, JournalCorruptError, replayRecords, scanJournal } from './journal.ts';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'pacspace-journal-'));
});
afterAll(() => rm(dir, { recursive: true, force: true }));

const key = dataKeyFrom(randomBytes(32), 'test.key');
const event = (n: number) => ({ type: 'access.requested' as const, at: n, email: `a${n}@example.com`, name: 'A', organization: 'O', buyerMode: 'B', useCase: 'U' });
const text = (events: SandboxEvent[]) => Buffer.from(events.map((e) => encodeRecord(e, key)).join(''), 'utf8');

/** Silences and collects the sandbox's warnings (stderr). */
function captureStderr() {
  const lines: string[] = [];
  const spy = vi.spyOn(process.stderr, 'write').mockImplementation((chunk) => {
    lines.push(String(chunk));
    return true;
  });
  return { lines, restore: () => spy.mockRestore() };
}

describe('journal records', () => {
  it('reads back what it writes', () => {
    const scan = scanJournal(text([event(1), event(2), event(3)]), key);
    expect(scan.torn).toBeUndefined();
    expect(scan.records.map((r) => [r.line, r.event])).toEqual([
      [1, event(1)],
      [2, event(2)],
      [3, event(3)],
    ]);
    expect(scan.records[1]!.offset).toBe(Buffer.byteLength(encodeRecord(event(1), key)));
  });

  it('finds a torn last record', () => {
    const good = encodeRecord(event(1), key);
    const torn = encodeRecord(event(2), key).slice(0, 30);
    const scan = scanJournal(Buffer.from(good + torn), key);
    expect(scan.records).toHaveLength(1);
    expect(scan.torn).toMatchObject({ line: 2, offset: good.length });
  });

  it('names a record whose checksum does not match, and reads on past it', () => {
    const bad = encodeRecord(event(2), key).replace('a2@', 'b2@');
    const scan = scanJournal(Buffer.from(encodeRecord(event(1), key) + bad + encodeRecord(event(3), key)), key);
    expect(scan.records.map((r) => r.problem)).toEqual([undefined, 'its checksum does not match', undefined]);
    expect(scan.records[2]!.event).toEqual(event(3));
  });

  it('seals the secrets it must read back, and opens them again', () => {
    const created: SandboxEvent = {
      type: 'webhook.endpoint.created',
      at: 1,
      endpointId: 'wh_1',
      tenantId: 'tnt_1',
      environment: 'test',
      url: 'https://example.com/hook',
      description: null,
      events: ['delta.recorded'],
      secret: 'whsec_abcdefghijklmnopqrstuvwxyz012345',
    };
    const line = encodeRecord(created, key);
    expect(line).not.toContain('abcdefghijklmnopqrstuvwxyz012345');
    expect(line).toContain('"secret":{"$sealed":"v1.');
    expect(scanJournal(Buffer.from(line), key).records[0]!.event).toEqual(created);
    expect(() => encodeRecord(created)).toThrow(/no data key/);
  });

  it('keeps the records after a bad one that do not depend on it', () => {
    const delta = (customerId: string, sequence: number): SandboxEvent => ({
      type: 'delta.recorded',
      at: sequence,
      receiptId: `rcpt_${customerId}_${sequence}`,
      tenantId: 'tnt_1',
      environment: 'test',
      customerId,
      sequence,
      delta: '1.00000000',
      balanceAfter: `${sequence}.00000000`,
      reason: 'usage',
      referenceId: null,
      metadata: {},
      leafHash: '00'.repeat(32),
      confirmAt: sequence,
      idempotencyKey: null,
      requestHash: null,
    });
    const registered: SandboxEvent = {
      type: 'user.registered',
      at: 0,
      userId: 'usr_1',
      tenantId: 'tnt_1',
      email: 'u@example.com',
      name: 'U',
      passwordHash: 'scrypt$x$y',
      accessTokenHash: null,
      approved: true,
      contractId: 'ctr_1',
    };
    const events = [registered, delta('a', 1), delta('b', 1), delta('a', 2), delta('b', 2), delta('a', 3), delta('b', 3)];
    const scan = scanJournal(text(events), key);
    scan.records[3] = { ...scan.records[3]!, event: undefined, problem: 'its checksum does not match' }; // a's second delta
    const { kept, rejected, state } = replayRecords(scan.records);
    expect(kept.map((r) => r.line)).toEqual([1, 2, 3, 5, 7]);
    expect(rejected.map((r) => [r.line, r.problem])).toEqual([
      [4, 'its checksum does not match'],
      [6, "it does not follow from the records before it (delta sequence 3 does not follow the customer's 1 deltas)"],
    ]);
    expect(state.ledger.receipts.size).toBe(4);
  });
});

describe('restart with --data', () => {
  let first: TestSandbox;
  let apiKey: string;
  let cookie: string;

  it('keeps keys, sessions, environments and the demo account across a restart', async () => {
    const data = join(dir, 'restart');
    first = await startTestSandbox({ dataDir: data, provisioningMs: 0 });
    await loginDemo(first);
    apiKey = (await first.dashboard.post('/dashboard/api-keys', { headers: CSRF, json: { name: 'survivor' } })).body.data.fullKey;
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
      expect((await second.sandboxApi.get('/api/v1/balance/derive/customer_001', { headers: { 'X-Api-Key': apiKey } })).status).toBe(200);
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
    const stderr = captureStderr();
    const again = await startTestSandbox({ dataDir: data }).finally(stderr.restore);
    try {
      expect(stderr.lines).toEqual([expect.stringMatching(/journal: record \d+ \(line \d+ \(byte offset \d+\)\) is torn .*replayed the \d+ records before it/)]);
      expect(again.services.store.eventCount).toBe(count);
      expect((await loginDemo(again)).email).toBe(again.restoredDemo!.email);
      const files = await readdir(data);
      expect(files.some((f) => f.startsWith('journal.ndjson.tail-'))).toBe(true);
      // The journal ends with a complete record again, so new writes follow good ones.
      expect((await readFile(join(data, 'journal.ndjson'), 'utf8')).endsWith('\n')).toBe(true);
    } finally {
      await again.close();
    }
  });

  it('a reset stopped before its rename (a crash) took no effect: the journal stands, the unfinished file goes, with one warning', async () => {
    const data = join(dir, 'unfinished-reset');
    const sb = await startTestSandbox({ dataDir: data });
    const count = sb.services.store.eventCount;
    await sb.close();
    const journal = await readFile(join(data, 'journal.ndjson'));
    await writeFile(join(data, 'journal.ndjson.reset'), journal.subarray(0, Math.floor(journal.length / 2)));
    const stderr = captureStderr();
    const again = await startTestSandbox({ dataDir: data }).finally(stderr.restore);
    try {
      expect(stderr.lines).toEqual([expect.stringMatching(/journal .*journal\.ndjson: removed .*journal\.ndjson\.reset, a reset that was stopped before it took effect/)]);
      expect(again.services.store.eventCount).toBe(count);
      expect(await readdir(data)).not.toContain('journal.ndjson.reset');
      expect(await readFile(join(data, 'journal.ndjson'))).toEqual(journal);
    } finally {
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

describe('a journal damaged in the middle', () => {
  const data = () => join(dir, 'corrupt');
  const journal = () => join(data(), 'journal.ndjson');
  const post = (sb: TestSandbox, apiKey: string, customerId: string, i: number) =>
    sb.sandboxApi.post('/api/v1/balance/delta', {
      headers: { 'X-Api-Key': apiKey },
      json: { customerId, delta: `${i}.5`, reason: 'usage', referenceId: `${customerId}-${i}` },
    });
  let apiKey: string;
  let damagedLine: number;

  it('refuses to start, with one line naming the record, and changes nothing', async () => {
    const sb = await startTestSandbox({ dataDir: data() });
    apiKey = sb.demo!.apiKey;
    // 60 deltas for three customers, interleaved, then a checkpoint of each.
    for (let i = 1; i <= 20; i++) {
      for (const customer of ['alpha', 'beta', 'gamma']) expect((await post(sb, apiKey, customer, i)).status).toBe(201);
    }
    for (const customer of ['alpha', 'beta', 'gamma']) {
      expect((await sb.sandboxApi.post('/api/v1/balance/checkpoint', { headers: { 'X-Api-Key': apiKey }, json: { customerId: customer } })).status).toBe(201);
    }
    await sb.close();

    // Flip one byte in alpha's 10th delta, in the middle of the journal.
    const bytes = await readFile(journal());
    const lines = bytes.toString('utf8').split('\n');
    damagedLine = lines.findIndex((l) => l.includes('"referenceId":"alpha-10"')) + 1;
    const offset = Buffer.byteLength(lines.slice(0, damagedLine - 1).join('\n')) + 1;
    const at = offset + lines[damagedLine - 1]!.indexOf('"reason":"usage"') + 11;
    bytes[at] = bytes[at]! ^ 0x01;
    await writeFile(journal(), bytes);

    const refused = await startTestSandbox({ dataDir: data() }).then(
      () => 'started',
      (error: Error) => error,
    );
    expect(refused).toBeInstanceOf(JournalCorruptError);
    const message = (refused as Error).message;
    expect(message).not.toContain('\n');
    expect(message).toContain(`line ${damagedLine} (byte offset ${offset}) is damaged: its checksum does not match`);
    // alpha's deltas 11…20 and its checkpoint depend on the damaged one.
    expect(message).toContain('(11 more records do not verify or depend on one that does not)');
    expect(message).toMatch(/Start with --repair/);
    expect(await readFile(journal())).toEqual(bytes);
    expect((await readdir(data())).filter((f) => f.startsWith('journal.ndjson.'))).toEqual([]);
  });

  it('the binary says so in one line on stderr and exits 1', async () => {
    const bin = join(import.meta.dirname, '..', '..', 'bin', 'pacspace-sandbox.js');
    const child = spawn(process.execPath, [bin, '--data', data(), '--port', '0', '--sandbox-port', '0'], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (d) => (stderr += d));
    // 'close', not 'exit': the child's stderr may still be arriving when it has exited.
    const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
    expect(code).toBe(1);
    expect(stderr.trimEnd().split('\n')).toEqual([expect.stringMatching(new RegExp(`^pacspace-sandbox: journal .*line ${damagedLine} \\(byte offset \\d+\\) is damaged.*--repair`))]);
  }, 30_000);

  it('with repair, keeps every record that verifies and follows, moves the rest aside and says how many', async () => {
    const before = (await readFile(journal(), 'utf8')).split('\n').filter(Boolean).length;
    const stderr = captureStderr();
    const sb = await startTestSandbox({ dataDir: data(), repair: true }).finally(stderr.restore);
    try {
      expect(stderr.lines).toHaveLength(1);
      expect(stderr.lines[0]).toMatch(
        new RegExp(`journal .*: repaired: kept ${before - 12} records, moved 12 aside to .*journal\\.ndjson\\.repair-\\S+ \\(the first: line ${damagedLine} \\(byte offset \\d+\\), its checksum does not match\\)`),
      );
      const derive = async (customer: string) => (await sb.sandboxApi.get(`/api/v1/balance/derive/${customer}`, { headers: { 'X-Api-Key': apiKey } })).body.data;
      expect(await derive('alpha')).toMatchObject({ deltaCount: 9, lastCheckpoint: null });
      for (const customer of ['beta', 'gamma']) expect(await derive(customer)).toMatchObject({ deltaCount: 20, lastCheckpoint: { lastSequence: 20 } });
      const aside = (await readdir(data())).find((f) => f.startsWith('journal.ndjson.repair-'))!;
      expect((await readFile(join(data(), aside), 'utf8')).split('\n').filter(Boolean)).toHaveLength(12);
      // alpha continues where the kept records end.
      const next = await post(sb, apiKey, 'alpha', 10);
      expect(next.status).toBe(201);
      expect(next.body.data.sequence).toBe(10);
    } finally {
      await sb.close();
    }
    // The repaired journal starts without a word.
    const quiet = captureStderr();
    const again = await startTestSandbox({ dataDir: data() }).finally(quiet.restore);
    await again.close();
    expect(quiet.lines).toEqual([]);
  });

  it('a complete final record that does not verify is damage, not a torn record', async () => {
    const path = journal();
    const lines = (await readFile(path, 'utf8')).split('\n');
    lines[lines.length - 2] = lines[lines.length - 2]!.replace('"at":', '"at": ');
    await writeFile(path, lines.join('\n'));
    await expect(startTestSandbox({ dataDir: data() })).rejects.toThrow(/is damaged: its checksum does not match; nothing was changed/);
  });
});
