// SIGKILL during a burst of writes with --data, then a restart from the journal: every
// delta the sandbox acknowledged (201) is there, exactly once, and the ledger adds up. (The Free
// plan's monthly allowance is lifted: a slow burst sees its deltas confirmed and would run into it.)
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { parseDecimal } from '../../protocol/decimal.ts';

const bin = join(import.meta.dirname, '..', '..', 'bin', 'pacspace-sandbox.js');
const children: ChildProcess[] = [];
let dir = '';

afterAll(async () => {
  for (const c of children) c.kill('SIGKILL');
  if (dir) await rm(dir, { recursive: true, force: true });
});

/**
 * Starts the real binary and reads the URLs (and the demo key, on a first start) it prints —
 * whole lines only, so a key split across two pipe reads is never taken for the whole key.
 */
function start(data: string) {
  const child = spawn(process.execPath, [bin, '--data', data, '--port', '0', '--sandbox-port', '0', '--seed', '7', '--free-plan-deltas', '1000000'], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  children.push(child);
  return new Promise<{ child: ChildProcess; sandboxUrl: string; key?: string; stderr: () => string }>((resolve, reject) => {
    let out = '';
    let err = '';
    const timer = setTimeout(() => reject(new Error(`sandbox did not print its banner in 60 s\nstdout: ${out}\nstderr: ${err}`)), 60_000);
    child.stderr!.on('data', (d) => (err += d));
    child.stdout!.on('data', (d) => {
      out += d;
      const url = /Sandbox Balance API \(pk_test_\):\s+(\S+)\n/.exec(out)?.[1];
      const done = /API key:\s+(\S+)\n/.exec(out)?.[1] ?? (/restored from/.test(out) && /password:.*\n/.test(out) ? '' : undefined);
      if (url && done !== undefined) {
        clearTimeout(timer);
        resolve({ child, sandboxUrl: url, ...(done ? { key: done } : {}), stderr: () => err });
      }
    });
    child.on('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`sandbox exited early (${code}): ${err}`));
    });
  });
}

describe('crash recovery', () => {
  it('loses no acknowledged delta and duplicates none after SIGKILL mid-burst', async () => {
    dir = await mkdtemp(join(tmpdir(), 'pacspace-crash-'));
    const first = await start(dir);
    const key = first.key!;
    const acknowledged = new Map<string, { referenceId: string; delta: string }>();
    let killed = false;
    const post = (i: number) =>
      fetch(`${first.sandboxUrl}/api/v1/balance/delta`, {
        method: 'POST',
        headers: { 'X-Api-Key': key, 'content-type': 'application/json' },
        body: JSON.stringify({ customerId: 'crash_customer', delta: `${(i % 7) + 1}.25`, reason: 'burst', referenceId: `burst-${i}` }),
        signal: AbortSignal.timeout(20_000),
      });
    // Writers stop at the kill, at a deadline, or at an answer a burst should never get (so a
    // refused key or a full plan fails the test with the status instead of spinning to a timeout).
    const statuses = new Map<number, number>();
    const deadline = Date.now() + 60_000;
    const writers = Array.from({ length: 16 }, async (_, w) => {
      for (let i = w; !killed && Date.now() < deadline; i += 16) {
        let res: Response;
        try {
          res = await post(i);
        } catch {
          return; // the process is gone
        }
        statuses.set(res.status, (statuses.get(res.status) ?? 0) + 1);
        if (res.status === 201) {
          const body = (await res.json().catch(() => undefined)) as any;
          if (body) acknowledged.set(body.data.receiptId, { referenceId: `burst-${i}`, delta: body.data.delta });
        } else {
          await res.arrayBuffer().catch(() => undefined);
          if (res.status !== 429 && res.status !== 503) return;
        }
        if (acknowledged.size >= 150 && !killed) {
          killed = true;
          first.child.kill('SIGKILL');
        }
      }
    });
    await Promise.all(writers);
    expect(acknowledged.size, `answers before the kill: ${JSON.stringify(Object.fromEntries(statuses))}; stderr: ${first.stderr()}`).toBeGreaterThanOrEqual(150);

    const second = await start(dir);
    const get = (path: string) => fetch(`${second.sandboxUrl}${path}`, { headers: { 'X-Api-Key': key }, signal: AbortSignal.timeout(20_000) }).then(async (r) => ({ status: r.status, body: (await r.json()) as any }));
    for (const [receiptId, expected] of acknowledged) {
      const r = await get(`/api/v1/receipts/${receiptId}`);
      expect(r.status, receiptId).toBe(200);
      expect(r.body.data).toMatchObject({ referenceId: expected.referenceId, delta: expected.delta });
    }
    // Everything that was recorded — acknowledged or not — is there once, in order, and adds up.
    const cp = await fetch(`${second.sandboxUrl}/api/v1/balance/checkpoint`, {
      method: 'POST',
      headers: { 'X-Api-Key': key, 'content-type': 'application/json' },
      body: JSON.stringify({ customerId: 'crash_customer' }),
      signal: AbortSignal.timeout(20_000),
    }).then((r) => r.json() as Promise<any>);
    const receipts: any[] = [];
    for (let page = 1; receipts.length < cp.data.deltaCount; page++) {
      receipts.push(...(await get(`/api/v1/checkpoints/${cp.data.checkpointId}/receipts?page=${page}&limit=1000`)).body.data.items);
    }
    expect(receipts.length).toBeGreaterThanOrEqual(acknowledged.size);
    expect(receipts.map((r) => r.sequence)).toEqual(receipts.map((_, i) => i + 1));
    expect(new Set(receipts.map((r) => r.referenceId)).size).toBe(receipts.length);
    const sum = receipts.reduce((acc, r) => acc + parseDecimal(r.delta), 0n);
    expect(parseDecimal(cp.data.closingBalance)).toBe(sum);
    const derived = await get('/api/v1/balance/derive/crash_customer');
    expect(derived.body.data.deltaCount).toBe(receipts.length);
    second.child.kill('SIGTERM');
  }, 120_000);
});
