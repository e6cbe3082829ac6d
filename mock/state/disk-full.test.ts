// A real full disk: --data on a 64 KiB tmpfs. Deltas until the disk is full (503
// storage_unavailable), a restart finds every acknowledged delta once; space is freed (a
// filler file made beforehand is deleted), the request that failed goes through (201, not a
// replay), writing continues, and a second restart again finds everything acknowledged.
// Mounting needs root (or CAP_SYS_ADMIN): elsewhere the test is skipped, saying why.
import { execFileSync } from 'node:child_process';
import { mkdtemp, readdir, rm, unlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { startTestSandbox, type TestSandbox } from '../testing/test-sandbox.ts';

let mountPoint = '';
let mounted = false;
let whyNot = '';
const open: TestSandbox[] = [];

beforeAll(async () => {
  mountPoint = await mkdtemp(join(tmpdir(), 'pacspace-tmpfs-'));
  try {
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=64k,mode=0700', 'tmpfs', mountPoint], { stdio: 'pipe' });
    mounted = true;
  } catch (error) {
    whyNot = String((error as { stderr?: Buffer }).stderr ?? (error as Error).message).trim() || 'mount failed';
  }
});

afterAll(async () => {
  for (const sb of open) await sb.close().catch(() => {});
  if (mounted) execFileSync('umount', [mountPoint]);
  await rm(mountPoint, { recursive: true, force: true });
});

async function start(data: string) {
  // Failed writes are logged (stderr): keep the test output clean.
  const quiet = vi.spyOn(process.stderr, 'write').mockImplementation(() => true);
  try {
    const sb = await startTestSandbox({ dataDir: data });
    open.push(sb);
    return sb;
  } finally {
    quiet.mockRestore();
  }
}

describe('--data on a disk that fills up', () => {
  it('loses no acknowledged delta, keeps no failed one, and carries on once space returns', async (ctx) => {
    if (!mounted) {
      console.log(`disk-full test skipped: cannot mount a tmpfs here (${whyNot})`);
      ctx.skip();
    }
    const filler = join(mountPoint, 'filler');
    await writeFile(filler, Buffer.alloc(16 * 1024, 1));
    const data = join(mountPoint, 'data');
    const first = await start(data);
    const apiKey = first.demo!.apiKey;
    const acknowledged = new Map<string, string>(); // receiptId → referenceId
    const send = (sb: TestSandbox, i: number) =>
      sb.sandboxApi.post('/api/v1/balance/delta', {
        headers: { 'X-Api-Key': apiKey, 'Idempotency-Key': `fill-${i}` },
        json: { customerId: 'customer_001', delta: '1.5', reason: 'filling the disk', referenceId: `fill-${i}`, metadata: { padding: 'x'.repeat(200) } },
      });

    const quiet = vi.spyOn(process.stderr, 'write').mockImplementation(() => true);
    let failedAt = -1;
    let failure;
    try {
      for (let i = 1; i <= 500 && failedAt < 0; i++) {
        const res = await send(first, i);
        if (res.status === 201) acknowledged.set(res.body.data.receiptId, `fill-${i}`);
        else {
          failedAt = i;
          failure = res;
        }
      }
    } finally {
      quiet.mockRestore();
    }
    expect(failedAt).toBeGreaterThan(10);
    expect(failure!.status).toBe(503);
    expect(failure!.body.code).toBe('storage_unavailable');
    expect(failure!.headers.get('retry-after')).toBe('1');
    // Memory agrees with what was acknowledged.
    const derived = await first.sandboxApi.get('/api/v1/balance/derive/customer_001', { headers: { 'X-Api-Key': apiKey } });
    expect(derived.body.data.deltaCount).toBe(acknowledged.size);
    await first.close();

    const checkAll = async (sb: TestSandbox, expected: Map<string, string>) => {
      const d = await sb.sandboxApi.get('/api/v1/balance/derive/customer_001', { headers: { 'X-Api-Key': apiKey } });
      expect(d.body.data.deltaCount).toBe(expected.size);
      expect(d.body.data.computedBalance).toBe((expected.size * 1.5).toFixed(2));
      for (const [receiptId, referenceId] of expected) {
        const r = await sb.sandboxApi.get(`/api/v1/receipts/${receiptId}`, { headers: { 'X-Api-Key': apiKey } });
        expect(r.status, receiptId).toBe(200);
        expect(r.body.data.referenceId).toBe(referenceId);
      }
    };

    // Restart on the full disk: everything acknowledged, once, and nothing was cut or set aside.
    const second = await start(data);
    await checkAll(second, acknowledged);
    expect((await readdir(data)).sort()).toEqual(['data.key', 'journal.ndjson']);

    // Space returns: the request that failed is recorded now (not replayed), and more after it.
    await unlink(filler);
    for (let i = failedAt; i < failedAt + 10; i++) {
      const res = await send(second, i);
      expect(res.status, `delta ${i}`).toBe(201);
      expect(res.headers.get('idempotent-replayed')).toBeNull();
      acknowledged.set(res.body.data.receiptId, `fill-${i}`);
    }
    await second.close();

    const third = await start(data);
    await checkAll(third, acknowledged);
    await third.close();
  }, 60_000);
});
