// Chaos without the request path: the settings' checks (the control surface's exact 422s and
// the one-line problems of --chaos FILE and startSandbox), the seeded decisions (same seed,
// same decisions, one stream per operation) and the distributions' bounds.
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadBundle } from '../../contract/document.ts';
import { listOperations } from '../../contract/operations.ts';
import { banner } from '../cli/banner.ts';
import { parseCommandLine, UsageError } from '../cli/command-line.ts';
import type { ChaosDecision } from '../http/exchange.ts';
import { startSandbox } from '../sandbox.ts';
import { startTestSandbox, type TestSandbox } from '../testing/test-sandbox.ts';
import { chaosAnswer } from './answer.ts';
import { checkChaosSettings } from './check.ts';
import { drawLatency, type Latency } from './latency.ts';
import { createChaos } from './policy.ts';
import { seededStreams } from './random.ts';
import type { ChaosSettings } from './settings.ts';

const ask = (chaos: ReturnType<typeof createChaos>, operationId: string | undefined) => chaos.policy({ ...(operationId ? { operationId } : {}), environment: 'test', method: 'POST' });
const run = (chaos: ReturnType<typeof createChaos>, operationId: string, n: number) => Array.from({ length: n }, () => ask(chaos, operationId));

const FLAKY: ChaosSettings = {
  operations: {
    recordDelta: { latency: { distribution: 'uniform', minMs: 0, maxMs: 300 }, error: { rate: 0.3, status: 503 }, hangRate: 0.1, resetRate: 0.1 },
    '*': { error: { rate: 0.5, status: 429, retryAfterSeconds: 2 } },
  },
  webhooks: { failureRate: 0.3, duplicateRate: 0.2, outOfOrderRate: 0.2, holdMs: 1500 },
};

describe('decisions', () => {
  it('the same seed gives the same decisions; another seed others', () => {
    const a = run(createChaos({ sandboxSeed: 7, settings: FLAKY }), 'recordDelta', 300);
    const b = run(createChaos({ sandboxSeed: 7, settings: FLAKY }), 'recordDelta', 300);
    const c = run(createChaos({ sandboxSeed: 8, settings: FLAKY }), 'recordDelta', 300);
    expect(b).toEqual(a);
    expect(c).not.toEqual(a);
    // The settings' own seed wins over the sandbox's.
    expect(run(createChaos({ sandboxSeed: 99, settings: { ...FLAKY, seed: 7 } }), 'recordDelta', 300)).toEqual(a);
  });

  it('an operation decides the same whatever other operations are sent in between', () => {
    const alone = run(createChaos({ settings: FLAKY }), 'recordDelta', 100);
    const chaos = createChaos({ settings: FLAKY });
    const mixed: Array<ChaosDecision | undefined> = [];
    for (let i = 0; i < 100; i++) {
      for (let j = 0; j < i % 3; j++) ask(chaos, 'deriveBalance');
      mixed.push(ask(chaos, 'recordDelta'));
    }
    expect(mixed).toEqual(alone);
  });

  it('a changed latency leaves the faults where they were (latency draws from a stream of its own)', () => {
    const faults = (latency: NonNullable<ChaosSettings['operations']>[string]['latency']) =>
      run(createChaos({ sandboxSeed: 5, settings: { operations: { recordDelta: { error: { rate: 0.5, status: 503 }, ...(latency ? { latency } : {}) } } } }), 'recordDelta', 100).map((d) => d?.fault ?? null);
    const none = faults(undefined);
    expect(none.some((f) => f !== null) && none.some((f) => f === null)).toBe(true);
    expect(faults({ distribution: 'uniform', minMs: 1, maxMs: 50 })).toEqual(none);
    expect(faults({ distribution: 'normal', meanMs: 20, stdDevMs: 5, minMs: 1, maxMs: 50 })).toEqual(none);
  });

  it('PUT again starts the streams again; state() shows the settings and seed', () => {
    const chaos = createChaos({ sandboxSeed: 3 });
    expect(chaos.state()).toEqual({ active: false, seed: 3, settings: {} });
    expect(ask(chaos, 'recordDelta')).toBeUndefined();
    expect(chaos.set(FLAKY)).toEqual({ active: true, seed: 3, settings: FLAKY });
    const first = run(chaos, 'recordDelta', 50);
    chaos.set(FLAKY);
    expect(run(chaos, 'recordDelta', 50)).toEqual(first);
    expect(chaos.clear()).toEqual({ active: false, seed: 3, settings: {} });
    expect(ask(chaos, 'recordDelta')).toBeUndefined();
  });

  it('faults come in the configured shares, each answer as documented', () => {
    const decisions = run(createChaos({ settings: FLAKY }), 'recordDelta', 10_000);
    const share = (kind: string) => decisions.filter((d) => (d?.fault?.kind === 'status' ? `status ${d.fault.status}` : d?.fault?.kind) === kind).length / 10_000;
    // Deterministic for the seed; the bounds say the draws are what the rates ask.
    expect(share('status 503')).toBeGreaterThan(0.28);
    expect(share('status 503')).toBeLessThan(0.32);
    expect(share('hang')).toBeGreaterThan(0.08);
    expect(share('hang')).toBeLessThan(0.12);
    expect(share('reset')).toBeGreaterThan(0.08);
    expect(share('reset')).toBeLessThan(0.12);
    const failed = decisions.find((d) => d?.fault?.kind === 'status')!;
    expect(failed.fault).toEqual({ kind: 'status', status: 503, retryAfterSeconds: 1 });
    expect(failed.description).toBe(failed.delayMs > 0 ? `latency ${failed.delayMs} ms, then status 503 (Retry-After 1 s)` : 'status 503 (Retry-After 1 s)');
    expect(decisions.find((d) => d?.fault?.kind === 'hang' && d.delayMs > 0)!.description).toMatch(/^latency \d+ ms, then hang$/);
  });

  it('`*` covers operations without an entry; no operation, no chaos; a 500 has no Retry-After', () => {
    const chaos = createChaos({ settings: { operations: { '*': { error: { rate: 1, status: 429, retryAfterSeconds: 2 } }, getReceipt: { error: { rate: 1, status: 500 } } } } });
    expect(ask(chaos, 'deriveBalance')).toEqual({ delayMs: 0, fault: { kind: 'status', status: 429, retryAfterSeconds: 2 }, description: 'status 429 (Retry-After 2 s)' });
    expect(ask(chaos, 'getReceipt')).toEqual({ delayMs: 0, fault: { kind: 'status', status: 500 }, description: 'status 500' });
    expect(ask(chaos, undefined)).toBeUndefined();
  });

  it('webhooks: out-of-order holds only first attempts; decisions repeat for the seed', () => {
    const attempts = (chaos: ReturnType<typeof createChaos>) => Array.from({ length: 400 }, (_, i) => chaos.delivery({ deliveryId: `dlv_${i}`, eventType: 'delta.recorded', attempt: (i % 3) + 1 }));
    const a = attempts(createChaos({ settings: FLAKY }));
    expect(attempts(createChaos({ settings: FLAKY }))).toEqual(a);
    const held = a.filter((d) => d && d.holdMs > 0);
    expect(held.length).toBeGreaterThan(0);
    expect(held.every((d) => d!.holdMs === 1500 && d!.description.startsWith('held 1500 ms (out of order)'))).toBe(true);
    a.forEach((d, i) => {
      if (i % 3 !== 0) expect(d?.holdMs ?? 0).toBe(0);
    });
    expect(a.some((d) => d?.dropAnswer && d.description.includes('answer dropped (retried)'))).toBe(true);
    expect(a.some((d) => d?.duplicate && d.description.includes('sent twice'))).toBe(true);
    expect(createChaos({ settings: { operations: { '*': { hangRate: 1 } } } }).delivery({ deliveryId: 'dlv_1', eventType: 'delta.recorded', attempt: 1 })).toBeUndefined();
    expect(createChaos({ settings: { webhooks: { delay: { distribution: 'fixed', ms: 250 } } } }).delivery({ deliveryId: 'dlv_1', eventType: 'delta.recorded', attempt: 2 })).toEqual({
      holdMs: 250,
      dropAnswer: false,
      duplicate: false,
      description: 'delayed 250 ms',
    });
  });
});

describe('latency distributions', () => {
  const draws = (latency: Latency, n = 5_000) => {
    const draw = seededStreams(1).stream('latency');
    return Array.from({ length: n }, () => drawLatency(latency, draw));
  };

  it('fixed is exact; uniform covers its bounds, both ends included', () => {
    expect(new Set(draws({ distribution: 'fixed', ms: 42 }, 100))).toEqual(new Set([42]));
    expect(new Set(draws({ distribution: 'uniform', minMs: 10, maxMs: 13 }))).toEqual(new Set([10, 11, 12, 13]));
    const wide = draws({ distribution: 'uniform', minMs: 100, maxMs: 900 });
    expect(Math.min(...wide)).toBeGreaterThanOrEqual(100);
    expect(Math.max(...wide)).toBeLessThanOrEqual(900);
    expect(wide.every(Number.isInteger)).toBe(true);
  });

  it('normal stays within minMs..maxMs (default 0..120000) around its mean', () => {
    const cut = draws({ distribution: 'normal', meanMs: 200, stdDevMs: 150, minMs: 50, maxMs: 400 });
    expect(Math.min(...cut)).toBe(50);
    expect(Math.max(...cut)).toBe(400);
    const free = draws({ distribution: 'normal', meanMs: 100, stdDevMs: 80 });
    expect(Math.min(...free)).toBe(0);
    const mean = free.reduce((a, b) => a + b, 0) / free.length;
    expect(mean).toBeGreaterThan(95);
    expect(mean).toBeLessThan(115);
    expect(draws({ distribution: 'normal', meanMs: 500, stdDevMs: 0 }, 10)).toEqual(Array(10).fill(500));
  });
});

describe('the answer of a status fault', () => {
  it('429 and 503 are documented by every public operation, 500 by none (the control contract names it)', () => {
    const operations = listOperations(loadBundle('openapi'));
    expect(operations.length).toBeGreaterThan(30);
    for (const op of operations) expect(Object.keys(op.operation.responses), op.operationId).toEqual(expect.arrayContaining(['429', '503']));
    expect(operations.filter((op) => '500' in op.operation.responses).map((op) => op.operationId)).toEqual([]);
  });

  const at = { requestId: 'req_abcdefgh12', instance: '/api/v1/balance/delta', rateLimit: 200 };
  it('429 and 503 as the public contract documents them; 500 internal_error', () => {
    expect(chaosAnswer({ kind: 'status', status: 429, retryAfterSeconds: 2 }, at)).toEqual({
      status: 429,
      headers: { 'Retry-After': '2', 'RateLimit-Limit': '200', 'RateLimit-Remaining': '0', 'RateLimit-Reset': '2' },
      body: expect.objectContaining({ status: 429, code: 'rate_limited', retryAfter: 2, requestId: at.requestId, instance: at.instance, type: 'https://docs.pacspace.io/errors/rate_limited' }),
    });
    expect(chaosAnswer({ kind: 'status', status: 503, retryAfterSeconds: 1 }, at)).toEqual({
      status: 503,
      headers: { 'Retry-After': '1' },
      body: expect.objectContaining({ status: 503, code: 'storage_unavailable', requestId: at.requestId }),
    });
    expect(chaosAnswer({ kind: 'status', status: 500 }, at)).toEqual({
      status: 500,
      headers: {},
      body: {
        type: 'https://docs.pacspace.io/errors/internal_error',
        title: 'Internal error',
        status: 500,
        detail: 'The request could not be handled; retry it (a POST with the same Idempotency-Key).',
        code: 'internal_error',
        requestId: at.requestId,
        instance: at.instance,
      },
    });
  });
});

/** Bad settings and the one line that names what is wrong (--chaos FILE, startSandbox's `chaos`). */
const BAD: Array<[unknown, string]> = [
  [[], 'the settings must be object'],
  [{ bogus: 1 }, 'the settings must NOT have additional properties ("bogus")'],
  [{ operations: { recordDelta: {} } }, 'operations.recordDelta must NOT have fewer than 1 properties'],
  [{ operations: { recordDelta: { error: { rate: 2, status: 503 } } } }, 'operations.recordDelta.error.rate must be <= 1'],
  [{ operations: { recordDelta: { error: { rate: 0.5, status: 404 } } } }, 'operations.recordDelta.error.status must be equal to one of the allowed values (429, 500, 503)'],
  [{ operations: { recordDelta: { error: { status: 503 } } } }, "operations.recordDelta.error must have required property 'rate'"],
  [{ operations: { recordDelta: { latency: { distribution: 'uniform', minMs: 5 } } } }, "operations.recordDelta.latency must have required property 'maxMs'"],
  [{ operations: { recordDelta: { latency: { distribution: 'gamma', ms: 5 } } } }, 'operations.recordDelta.latency.distribution must be one of "fixed", "uniform", "normal"'],
  [{ operations: { recordDelta: { latency: { distribution: 'fixed', ms: 120_001 } } } }, 'operations.recordDelta.latency.ms must be <= 120000'],
  [{ operations: { recordDelta: { latency: { distribution: 'uniform', minMs: 50, maxMs: 5 } } } }, 'operations.recordDelta.latency: minMs (50) is above maxMs (5)'],
  [{ operations: { sendMoney: { hangRate: 0.1 } } }, 'operations.sendMoney: "sendMoney" is not an operationId of the public contract (or "*")'],
  [{ operations: { resetSandbox: { hangRate: 0.1 } } }, 'operations.resetSandbox: "resetSandbox" is not an operationId of the public contract (or "*")'],
  [{ operations: { '*': { hangRate: 0.6, resetRate: 0.6 } } }, 'operations.*: error.rate, hangRate and resetRate add up to 1.2; at most 1'],
  [{ webhooks: { delay: { distribution: 'normal', meanMs: 10, stdDevMs: 5, minMs: 9, maxMs: 8 } } }, 'webhooks.delay: minMs (9) is above maxMs (8)'],
  [{ webhooks: {} }, 'webhooks must NOT have fewer than 1 properties'],
  [{ seed: -1 }, 'seed must be >= 0'],
];

describe('settings from a file or an option', () => {
  it.each(BAD)('%j: %s', (settings, problem) => {
    expect(checkChaosSettings(settings)).toEqual({ ok: false, problem });
  });

  it('every example of the chaos operations in the control contract holds', () => {
    const path = loadBundle('sandbox-control').paths['/__sandbox/chaos'];
    const requests = Object.values(path.put.requestBody.content['application/json'].examples) as Array<{ value: unknown }>;
    const states = ['get', 'put', 'delete'].flatMap((m) => Object.values(path[m].responses['200'].content['application/json'].examples) as Array<{ value: { data: { settings: unknown } } }>);
    expect(requests.length + states.length).toBe(6);
    for (const { value } of requests) expect(checkChaosSettings(value)).toEqual({ ok: true, settings: value });
    for (const { value } of states) expect(checkChaosSettings(value.data.settings)).toEqual({ ok: true, settings: value.data.settings });
  });

  it('good settings pass as they are', () => {
    expect(checkChaosSettings(FLAKY)).toEqual({ ok: true, settings: FLAKY });
    expect(checkChaosSettings({})).toEqual({ ok: true, settings: {} });
  });

  describe('--chaos FILE', () => {
    let dir: string;
    beforeAll(async () => {
      dir = await mkdtemp(join(tmpdir(), 'pacspace-chaos-'));
    });
    afterAll(() => rm(dir, { recursive: true, force: true }));

    const usageError = (args: string[]) => {
      try {
        parseCommandLine(args);
      } catch (error) {
        expect(error).toBeInstanceOf(UsageError);
        return (error as Error).message;
      }
      throw new Error('no usage error');
    };

    it('reads and checks the file', async () => {
      const file = join(dir, 'chaos.json');
      await writeFile(file, JSON.stringify(FLAKY));
      const command = parseCommandLine(['--chaos', file]);
      expect(command.kind === 'start' && command.options.chaos).toEqual(FLAKY);
    });

    it('one line for each way the file is wrong', async () => {
      const bad = join(dir, 'bad.json');
      await writeFile(bad, JSON.stringify({ operations: { recordDelta: { error: { rate: 2, status: 503 } } } }));
      const notJson = join(dir, 'not.json');
      await writeFile(notJson, '{ operations: ');
      expect(usageError(['--chaos', bad])).toBe(`--chaos ${bad}: operations.recordDelta.error.rate must be <= 1`);
      expect(usageError(['--chaos', notJson])).toMatch(new RegExp(`^--chaos ${notJson} is not JSON: .+$`));
      expect(usageError(['--chaos', join(dir, 'missing.json')])).toBe(`--chaos cannot read ${join(dir, 'missing.json')}: no such file`);
      expect(usageError(['--chaos', dir])).toBe(`--chaos cannot read ${dir}: it is a directory`);
      expect(usageError(['--chaos='])).toBe('--chaos must name a file');
    });
  });

  it('startSandbox refuses bad settings with a RangeError before anything is opened', async () => {
    await expect(startSandbox({ port: 0, sandboxPort: 0, chaos: { operations: { nope: { hangRate: 1 } } } })).rejects.toThrow(
      new RangeError('chaos: operations.nope: "nope" is not an operationId of the public contract (or "*")'),
    );
  });
});

describe('GET, PUT and DELETE /__sandbox/chaos', () => {
  let sb: TestSandbox;
  beforeAll(async () => {
    sb = await startTestSandbox({ seed: 4, chaos: { webhooks: { duplicateRate: 0.5 } } });
  });
  afterAll(() => sb.close());

  const data = async (r: Promise<{ status: number; text: string; body: any }>, status = 200) => {
    const answer = await r;
    expect(answer.status, answer.text).toBe(status);
    return answer.body.data;
  };
  const put = (json: unknown) => sb.dashboard.request('PUT', '/__sandbox/chaos', { json });

  it('the start banner says chaos is on', () => {
    expect(banner(sb, undefined).split('\n')).toContain('  Chaos:                                              on, failures on purpose (seed 4; GET /__sandbox/chaos)');
  });

  it('starts with the settings it was given, seeded by --seed; PUT replaces, DELETE switches off', async () => {
    expect(await data(sb.dashboard.get('/__sandbox/chaos'))).toEqual({ active: true, seed: 4, settings: { webhooks: { duplicateRate: 0.5 } } });
    expect(await data(put(FLAKY))).toEqual({ active: true, seed: 4, settings: FLAKY });
    expect(await data(sb.dashboard.get('/__sandbox/chaos'))).toEqual({ active: true, seed: 4, settings: FLAKY });
    expect(await data(put({ seed: 11 }))).toEqual({ active: false, seed: 11, settings: { seed: 11 } });
    expect(await data(sb.dashboard.delete('/__sandbox/chaos'))).toEqual({ active: false, seed: 4, settings: {} });
    expect(await data(sb.dashboard.get('/__sandbox/chaos'))).toEqual({ active: false, seed: 4, settings: {} });
    // A reset keeps the settings.
    await data(put(FLAKY));
    await data(sb.dashboard.post('/__sandbox/reset'));
    expect((await data(sb.dashboard.get('/__sandbox/chaos'))).settings).toEqual(FLAKY);
    await data(sb.dashboard.delete('/__sandbox/chaos'));
  });

  it('settings that do not hold together: 422 naming each violation; nothing changes', async () => {
    await data(put(FLAKY));
    const r = await put({
      operations: {
        sendMoney: { hangRate: 0.1 },
        recordDelta: { latency: { distribution: 'uniform', minMs: 50, maxMs: 5 }, error: { rate: 0.7, status: 500 }, hangRate: 0.2, resetRate: 0.2 },
      },
      webhooks: { delay: { distribution: 'normal', meanMs: 10, stdDevMs: 5, minMs: 9, maxMs: 8 } },
    });
    expect(r.status, r.text).toBe(422);
    expect(r.headers.get('content-type')).toMatch(/^application\/problem\+json/);
    expect(r.body).toEqual({
      type: 'https://docs.pacspace.io/errors/validation_failed',
      title: 'Validation failed',
      status: 422,
      detail: 'The chaos settings do not hold together; nothing was changed.',
      code: 'validation_failed',
      requestId: r.headers.get('x-request-id'),
      instance: '/__sandbox/chaos',
      validation: [
        { location: ['body', 'operations', 'sendMoney'], severity: 'Error', code: 'unknown-operation', message: '"sendMoney" is not an operationId of the public contract (or "*")' },
        { location: ['body', 'operations', 'recordDelta', 'latency'], severity: 'Error', code: 'min-above-max', message: 'minMs (50) is above maxMs (5)' },
        { location: ['body', 'operations', 'recordDelta'], severity: 'Error', code: 'rates-over-one', message: 'error.rate, hangRate and resetRate add up to 1.1; at most 1' },
        { location: ['body', 'webhooks', 'delay'], severity: 'Error', code: 'min-above-max', message: 'minMs (9) is above maxMs (8)' },
      ],
    });
    expect((await data(sb.dashboard.get('/__sandbox/chaos'))).settings).toEqual(FLAKY);
  });

  it('settings the schema refuses: 422 from the contract', async () => {
    const r = await put({ operations: { recordDelta: { error: { rate: 2, status: 404 } } } });
    expect(r.status, r.text).toBe(422);
    expect(r.body).toEqual({
      type: 'https://docs.pacspace.io/errors/validation_failed',
      title: 'Validation failed',
      status: 422,
      detail: 'The request does not match the contract; see validation.',
      code: 'validation_failed',
      requestId: r.headers.get('x-request-id'),
      instance: '/__sandbox/chaos',
      validation: [
        { location: ['body', 'operations', 'recordDelta', 'error', 'rate'], severity: 'Error', code: 'maximum', message: 'Request body property operations.recordDelta.error.rate must be <= 1' },
        {
          location: ['body', 'operations', 'recordDelta', 'error', 'status'],
          severity: 'Error',
          code: 'enum',
          message: 'Request body property operations.recordDelta.error.status must be equal to one of the allowed values: 429, 500, 503',
        },
      ],
    });
    expect((await data(sb.dashboard.get('/__sandbox/chaos'))).settings).toEqual(FLAKY);
  });
});
