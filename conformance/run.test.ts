// The runner on its own, with a tiny fake catalogue: failures and timeouts stay with their
// check, the run goes on, cleanup always happens, skips carry their reason, messages are
// redacted; inconclusive outcomes, interruption, leftovers, and how every reporter shows them.
import { describe, expect, it } from 'vitest';
import { defineCheck, type Check } from './check.ts';
import type { ConformanceConfig } from './config.ts';
import { createContext } from './context.ts';
import type { Exchange } from './lib/http.ts';
import { Inconclusive, Interrupted } from './lib/outcome.ts';
import { json, junit, pretty, totals, type CheckResult, type RunReport } from './report/format.ts';
import { html } from './report/html.ts';
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

describe('inconclusive, interrupted, leftovers', () => {
  it('an Inconclusive makes the check inconclusive, not failed, and the run goes on', async () => {
    const ctx = createContext(config);
    const results = await executeChecks(
      [fake('T-001', async () => Promise.reject(new Inconclusive('rate limited past the budget'))), fake('T-002', async () => undefined)],
      config,
      ctx,
    );
    expect(results.map((r) => [r.id, r.status, r.message])).toEqual([
      ['T-001', 'inconclusive', 'rate limited past the budget'],
      ['T-002', 'passed', undefined],
    ]);
  });

  it('an interrupt abandons the running check (inconclusive), starts no other, and still cleans up', async () => {
    const ctx = createContext(config);
    const controller = new AbortController();
    const events: string[] = [];
    ctx.onCleanup(async () => void events.push('cleanup'));
    const checks = [
      fake('T-001', async () => void events.push('T-001')),
      fake('T-002', async () => {
        events.push('T-002');
        controller.abort(new Interrupted('SIGINT'));
        await new Promise(() => undefined);
      }),
      fake('T-003', async () => void events.push('T-003')),
    ];
    const results = await executeChecks(checks, config, ctx, { signal: controller.signal });
    expect(events).toEqual(['T-001', 'T-002', 'cleanup']);
    expect(results.map((r) => [r.id, r.status, r.message])).toEqual([
      ['T-001', 'passed', undefined],
      ['T-002', 'inconclusive', 'interrupted (SIGINT) before it finished'],
      ['T-003', 'skipped', 'not run: the run was interrupted (SIGINT)'],
    ]);
  });

  it('lists what the cleanup could not delete (kind, id, name: no secret); 404 counts as deleted', async () => {
    const ctx = createContext(config);
    const answer = (status: number) => async () => ({ status }) as Exchange;
    ctx.track('api key', 'key_gone', 'conformance-a', answer(404));
    ctx.track('api key', 'key_ok', 'conformance-b', answer(200));
    ctx.track('webhook endpoint', 'whe_1', 'pacspace conformance', answer(500));
    ctx.track('api key', 'key_err', undefined, async () => Promise.reject(new Error('DELETE /dashboard/api-keys/key_err: connection refused')));
    await executeChecks([], config, ctx);
    expect(ctx.leftovers).toEqual([
      { kind: 'api key', id: 'key_err', reason: 'DELETE /dashboard/api-keys/key_err: connection refused' },
      { kind: 'webhook endpoint', id: 'whe_1', name: 'pacspace conformance', reason: 'DELETE answered 500' },
    ]);
  });

  it('refuses numbers out of range before anything is sent', async () => {
    await expect(runConformance({ ...config, timeoutScale: 0 })).rejects.toThrow('timeoutScale (--timeout-scale) must be a number above 0');
    await expect(runConformance({ ...config, maxRequests: -1 })).rejects.toThrow('maxRequests (--max-requests) must be a whole number');
  });

  it('a target nobody answers at: the preflight stops the run with one line', async () => {
    await expect(runConformance({ ...config, baseUrl: 'http://127.0.0.1:9' })).rejects.toMatchObject({
      name: 'PreflightError',
      message: 'cannot reach http://127.0.0.1:9: fetch refuses this port (a "bad port" of the Fetch standard); no check was run',
    });
  });
});

describe('reporters', () => {
  const report: RunReport = {
    target: 'http://127.0.0.1:4011',
    startedAt: '2026-01-01T00:00:00.000Z',
    durationMs: 1234,
    results: [
      { id: 'A-1', rule: 'rule <b>one</b>', source: 'src', status: 'passed', durationMs: 3 },
      {
        id: 'A-2',
        rule: 'rule two',
        source: 'src & more',
        status: 'failed',
        message: 'got <script>alert(1)</script>',
        durationMs: 4,
        exchanges: [{ id: 7, method: 'GET', url: 'http://x/y', status: 500, curl: `curl -i 'http://x/y' \\\n  -H 'X-Api-Key: '"$PACSPACE_API_KEY"`, response: 'HTTP 500\n\n<img src=x>' }],
      },
      { id: 'A-3', rule: 'rule three', source: 'src', status: 'inconclusive', message: 'the request budget is used up (--max-requests 5)', durationMs: 1 },
      { id: 'A-4', rule: 'rule four', source: 'src', status: 'skipped', message: 'needs --api-key', durationMs: 0 },
    ],
    requests: { sent: 9, preflight: 2, checks: 5, cleanup: 2, budget: 5 },
    leftovers: [{ kind: 'api key', id: 'key_1', name: 'conformance-x', reason: 'DELETE answered 500' }],
  };

  it('counts inconclusive apart, and every format ends with the totals, the requests and the leftovers', () => {
    expect(totals(report)).toEqual({ passed: 1, failed: 1, skipped: 1, inconclusive: 1 });
    const text = pretty(report);
    expect(text).toContain('? A-3         rule three\n    INCONCLUSIVE: the request budget is used up (--max-requests 5)\n');
    expect(text).toContain(
      '1 passed, 1 failed, 1 skipped, 1 inconclusive in 1.2 s\n9 requests sent (2 preflight, 5 by checks of a budget of 5, 2 cleanup)\n' +
        '1 check(s) could not decide (inconclusive): not a failure, but not a pass either; see why above\n' +
        'left on the target (no operation deletes it, or its deletion failed): 1\n  api key key_1 "conformance-x": DELETE answered 500\n',
    );
    expect(JSON.parse(json(report))).toMatchObject({ totals: { inconclusive: 1 }, requests: { sent: 9 }, leftovers: [{ id: 'key_1' }] });
    const xml = junit(report);
    expect(xml).toMatch(/<testsuites [^>]*tests="4" failures="1" skipped="2"/);
    expect(xml).toContain('<property name="outcome" value="inconclusive"/></properties>\n      <skipped message="inconclusive: the request budget is used up (--max-requests 5)"/>');
    expect(xml).toContain('<property name="inconclusive" value="1"/>');
    expect(xml).toContain('<property name="leftover" value="api key key_1 &quot;conformance-x&quot;: DELETE answered 500"/>');
    expect(xml).toContain('&lt;script&gt;');
  });

  it('html: one self-contained page, everything escaped, failures with their curl commands', () => {
    const page = html(report);
    expect(page).not.toMatch(/<script|<img|<b>/i);
    expect(page).toContain('got &lt;script&gt;alert(1)&lt;/script&gt;');
    expect(page).toContain('rule &lt;b&gt;one&lt;/b&gt;');
    expect(page).toContain('&lt;img src=x&gt;');
    expect(page).toContain(`-H &#39;X-Api-Key: &#39;&quot;$PACSPACE_API_KEY&quot;`);
    expect(page).toContain('<section class="detail inconclusive" id="A-3">');
    expect(page).not.toMatch(/(src|href)=["']?(https?:)?\/\//i);
  });
});
