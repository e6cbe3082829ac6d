// The runner on its own, with a tiny fake catalogue: failures and timeouts stay with their
// check, the run goes on, cleanup always happens, skips carry their reason, messages are
// redacted.
import { describe, expect, it } from 'vitest';
import { defineCheck, type Check } from './check.ts';
import type { ConformanceConfig } from './config.ts';
import { createContext } from './context.ts';
import type { CheckResult } from './report/format.ts';
import { executeChecks, runConformance, selectChecks, unknownCheckIds } from './run.ts';

const config: ConformanceConfig = {
  // Nothing listens here: the fake checks make no requests.
  baseUrl: 'http://127.0.0.1:9',
  password: 'hunter2-password',
  allowWrites: false,
  probeRateLimit: false,
  only: [],
  skip: [],
};

const fake = (id: string, run: Check['run'], needs: Check['needs'] = []) => defineCheck({ id, rule: `rule of ${id}`, source: 'test', needs, run });

describe('executeChecks', () => {
  it('fails a throwing check, runs the next one, and cleans up at the end', async () => {
    const ctx = createContext(config);
    const events: string[] = [];
    const checks = [
      fake('T-001', async (c) => {
        events.push('T-001');
        c.onCleanup(async () => void events.push('cleanup'));
        throw new Error('boom');
      }),
      // Not async: a synchronous throw must fail the check the same way.
      fake('T-002', () => {
        events.push('T-002');
        throw new TypeError('sync boom');
      }),
      fake('T-003', async () => void events.push('T-003')),
      fake('T-004', async () => void events.push('T-004'), ['writes']),
    ];
    const streamed: CheckResult[] = [];
    const results = await executeChecks(checks, config, ctx, { onResult: (r) => streamed.push(r) });

    expect(events).toEqual(['T-001', 'T-002', 'T-003', 'cleanup']);
    expect(results.map((r) => [r.id, r.status, r.message])).toEqual([
      ['T-001', 'failed', 'boom'],
      ['T-002', 'failed', 'sync boom'],
      ['T-003', 'passed', undefined],
      ['T-004', 'skipped', 'needs --allow-writes (it creates, rotates or deletes on the target)'],
    ]);
    expect(streamed).toEqual(results);
    expect(results[0]).toMatchObject({ rule: 'rule of T-001', source: 'test' });
    for (const r of results) expect(r.durationMs).toBeGreaterThanOrEqual(0);
  });

  it('fails a check that exceeds its timeout and goes on', async () => {
    const ctx = createContext(config);
    let cleaned = false;
    ctx.onCleanup(async () => void (cleaned = true));
    const checks = [fake('T-SLOW', () => new Promise(() => undefined)), fake('T-NEXT', async () => undefined)];
    const results = await executeChecks(checks, config, ctx, { timeoutMs: 50 });
    expect(results[0]).toMatchObject({ id: 'T-SLOW', status: 'failed', message: 'T-SLOW timed out after 50 ms' });
    expect(results[0]!.durationMs).toBeGreaterThanOrEqual(45);
    expect(results[1]).toMatchObject({ id: 'T-NEXT', status: 'passed' });
    expect(cleaned).toBe(true);
  });

  it('cleans up even when the run itself is interrupted', async () => {
    const ctx = createContext(config);
    let cleaned = false;
    ctx.onCleanup(async () => void (cleaned = true));
    const onResult = () => {
      throw new Error('the caller broke');
    };
    await expect(executeChecks([fake('T-001', async () => undefined)], config, ctx, { onResult })).rejects.toThrow('the caller broke');
    expect(cleaned).toBe(true);
  });

  it('redacts secrets from failure messages', async () => {
    const ctx = createContext(config);
    const checks = [fake('T-001', async () => Promise.reject(new Error('login with hunter2-password and sk_test_AbC123 failed')))];
    const [result] = await executeChecks(checks, config, ctx);
    expect(result!.message).toBe('login with [REDACTED] and sk_test_[REDACTED] failed');
  });
});

describe('selection', () => {
  const checks = [fake('A-1', async () => undefined), fake('A-2', async () => undefined), fake('B-1', async () => undefined)];

  it('keeps catalogue order whatever the order of --only', () => {
    expect(selectChecks({ only: ['B-1', 'A-1'], skip: [] }, checks).map((c) => c.id)).toEqual(['A-1', 'B-1']);
    expect(selectChecks({ only: [], skip: ['A-2'] }, checks).map((c) => c.id)).toEqual(['A-1', 'B-1']);
  });

  it('names unknown ids, and runConformance refuses them', async () => {
    expect(unknownCheckIds({ only: ['A-1', 'X-9'], skip: ['X-9', 'Y-1'] }, checks)).toEqual(['X-9', 'Y-1']);
    await expect(runConformance({ ...config, only: ['AUTH-001', 'AUTH-999'] })).rejects.toThrow('unknown check id(s): AUTH-999');
  });
});
