// Typed errors from real sandbox answers (401, 402, 403, 404, 409, 422, 429, and the contract's
// documented 503), that 4xx answers are never retried, and that no error, serialization or
// inspection of the client or of an error ever contains the API key's secret.
import { inspect } from 'node:util';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { startTestSandbox, type TestSandbox } from '../mock/testing/test-sandbox.ts';
import {
  AuthenticationError,
  ConfigurationError,
  ConflictError,
  NotFoundError,
  PacSpace,
  PacSpaceDashboard,
  PacSpaceError,
  PermissionError,
  PlanLimitExceededError,
  RateLimitError,
  ServiceUnavailableError,
  ValidationError,
} from './index.ts';
import { recordingFetch } from './test-helpers.ts';

let sb: TestSandbox;
let dashboard: PacSpaceDashboard;
let pac: PacSpace;
const fetch = recordingFetch();
/** Every secret the tests handled: none may appear in any error or inspection. */
const secrets = new Set<string>();

function remember(fullKey: string) {
  secrets.add(fullKey);
  secrets.add(fullKey.slice(fullKey.indexOf('.') + 1));
  return fullKey;
}

/** Everything a program could print or ship about a value. */
function renderings(value: unknown): string[] {
  const out = [inspect(value, { depth: Infinity, showHidden: true }), inspect(value, { depth: Infinity, getters: true }), JSON.stringify(value) ?? '', String(value)];
  if (value instanceof Error) out.push(value.message, value.stack ?? '', inspect(value.cause, { depth: Infinity, showHidden: true }));
  return out;
}

function expectNoSecret(value: unknown) {
  for (const text of renderings(value)) for (const secret of secrets) expect(text).not.toContain(secret);
}

/** Runs the call, expects it to throw, checks the error holds no secret, and returns it. */
async function failure<T>(call: () => Promise<T>): Promise<PacSpaceError> {
  const sentBefore = fetch.sent.length;
  let caught: unknown;
  try {
    await call();
  } catch (error) {
    caught = error;
  }
  expect(caught).toBeInstanceOf(PacSpaceError);
  expectNoSecret(caught);
  // A 4xx answer is final: exactly one request went out.
  if ((caught as PacSpaceError).status !== 429) expect(fetch.sent.length - sentBefore).toBe(1);
  return caught as PacSpaceError;
}

/**
 * Runs `call` and returns the delay of every timer the SDK's transport (transport.ts) set
 * meanwhile. The SDK waits before a retry with setTimeout, so "a long Retry-After is not waited
 * for" is a fact about what it scheduled, whatever the machine's speed (an elapsed-time bound
 * failed on a loaded CI machine). Its other timer is each attempt's time limit (`timeoutMs`).
 * Timers set by others in this process (undici's keep-alive, the in-process sandbox) are left
 * out, recognised by their call stack.
 */
async function sdkTimersDuring(call: () => Promise<unknown>): Promise<number[]> {
  const delays: number[] = [];
  const original = globalThis.setTimeout;
  const setTimeoutSpy = vi.spyOn(globalThis, 'setTimeout').mockImplementation(((handler: () => void, ms?: number, ...args: unknown[]) => {
    if (/[\\/]sdk[\\/]transport\.ts\b/.test(new Error().stack ?? '')) delays.push(ms ?? 0);
    return Reflect.apply(original, globalThis, [handler, ms, ...args]) as ReturnType<typeof setTimeout>;
  }) as typeof setTimeout);
  try {
    await call();
  } finally {
    setTimeoutSpy.mockRestore();
  }
  return delays;
}

beforeAll(async () => {
  sb = await startTestSandbox();
  remember(sb.demo!.apiKey);
  dashboard = new PacSpaceDashboard({ baseUrl: sb.productionUrl, fetch });
  await dashboard.auth.login(sb.demo!.email, sb.demo!.password);
  pac = new PacSpace({ apiKey: sb.demo!.apiKey, sandboxUrl: sb.sandboxUrl, fetch });
});
afterAll(async () => {
  await sb?.close();
});

describe('errors from real answers', () => {
  it('401 → AuthenticationError for an unknown key, and for a key sent to the other environment', async () => {
    const unknown = remember(`pk_test_Unknown123.sk_test_${'Z'.repeat(32)}`);
    const err = await failure(() => new PacSpace({ apiKey: unknown, sandboxUrl: sb.sandboxUrl, fetch }).balance.derive('customer_001'));
    expect(err).toBeInstanceOf(AuthenticationError);
    expect(err).toMatchObject({ name: 'AuthenticationError', status: 401, code: 'unauthenticated', requestId: expect.stringMatching(/^req_/) });
    expect(err.detail).toEqual(expect.any(String));

    // The SDK cannot know a local URL is Production unless told; the API refuses the key with 401.
    const crossed = await failure(() => new PacSpace({ apiKey: sb.demo!.apiKey, baseUrl: sb.productionUrl, fetch }).balance.derive('customer_001'));
    expect(crossed).toMatchObject({ name: 'AuthenticationError', status: 401 });
    // Told, it refuses at construction.
    expect(() => new PacSpace({ apiKey: sb.demo!.apiKey, baseUrl: sb.productionUrl, productionUrl: sb.productionUrl })).toThrow(ConfigurationError);
  });

  it('401 → AuthenticationError for a failed login (never retried)', async () => {
    const err = await failure(() => new PacSpaceDashboard({ baseUrl: sb.productionUrl, fetch }).auth.login(sb.demo!.email, 'wrong-password'));
    expect(err).toBeInstanceOf(AuthenticationError);
    expect(err.code).toBe('invalid_credentials');
    expect(inspect(err)).not.toContain('wrong-password');
  });

  it('403 → PermissionError for a key without balance:write', async () => {
    const readOnly = remember((await dashboard.apiKeys.create({ name: 'read-only', permissions: ['balance:read'] })).fullKey);
    const client = new PacSpace({ apiKey: readOnly, sandboxUrl: sb.sandboxUrl, fetch });
    expect((await client.balance.derive('customer_001')).computedBalance).toBe('0.00');
    const err = await failure(() => client.balance.emit('customer_001', 1, 'usage'));
    expect(err).toBeInstanceOf(PermissionError);
    expect(err).toMatchObject({ status: 403, code: 'insufficient_permission' });
  });

  it('404 → NotFoundError for an unknown receipt, checkpoint and proof root', async () => {
    expect(await failure(() => pac.receipts.get('rcpt_DoesNotExist1'))).toBeInstanceOf(NotFoundError);
    expect(await failure(() => pac.checkpoints.get('chk_DoesNotExist1'))).toMatchObject({ name: 'NotFoundError', status: 404, code: 'not_found' });
    expect(await failure(() => pac.verify('0'.repeat(64)))).toBeInstanceOf(NotFoundError);
    expect(await failure(() => dashboard.apiKeys.get('key_DoesNotExist1'))).toBeInstanceOf(NotFoundError);
  });

  it('409 → ConflictError: duplicate reference (with the receipt), idempotency key reused, nothing to checkpoint, environment not active', async () => {
    const first = await pac.balance.emit('c409', '5.00', 'usage', { referenceId: 'ref-1', idempotencyKey: 'idem-409' });
    const duplicate = (await failure(() => pac.balance.emit('c409', '5.00', 'usage', { referenceId: 'ref-1' }))) as ConflictError;
    expect(duplicate).toBeInstanceOf(ConflictError);
    expect(duplicate).toMatchObject({ status: 409, code: 'duplicate_reference', receiptId: first.receiptId });

    // The same idempotency key and body replays the receipt; another body is a conflict.
    expect(await pac.balance.emit('c409', '5.00', 'usage', { referenceId: 'ref-1', idempotencyKey: 'idem-409' })).toEqual(first);
    expect(await failure(() => pac.balance.emit('c409', '6.00', 'usage', { idempotencyKey: 'idem-409' }))).toMatchObject({ name: 'ConflictError', code: 'idempotency_key_reused' });

    await pac.balance.checkpoint('c409');
    expect(await failure(() => pac.balance.checkpoint('c409'))).toMatchObject({ name: 'ConflictError', code: 'nothing_to_checkpoint' });
    expect(await failure(() => dashboard.apiKeys.create({ name: 'live', environment: 'live' }))).toMatchObject({ name: 'ConflictError', code: 'environment_not_active' });
  });

  it('422 → ValidationError with the violations', async () => {
    const err = (await failure(() => pac.balance.emit('c422', '0.123456789', 'usage'))) as ValidationError;
    expect(err).toBeInstanceOf(ValidationError);
    expect(err).toMatchObject({ status: 422, code: 'validation_failed' });
    expect(err.violations).toContainEqual(expect.objectContaining({ location: ['body', 'delta'] }));
    expect(JSON.parse(JSON.stringify(err)).violations).toEqual(err.violations);

    const limit = (await failure(() => pac.checkpoints.listReceipts('chk_abc', { limit: 5000 }))) as ValidationError;
    expect(limit.violations).toContainEqual(expect.objectContaining({ location: ['query', 'limit'] }));
  });

  it('nothing about the client prints its secret', () => {
    // The check itself catches a leak.
    expect(() => expectNoSecret({ headers: new Headers({ 'x-api-key': sb.demo!.apiKey }) })).toThrow();
    expectNoSecret(pac);
    expectNoSecret(dashboard);
    expect(inspect(pac)).toContain(pac.publicKey);
    expect(inspect(pac)).toContain('[redacted]');
    expect(JSON.parse(JSON.stringify(pac))).toEqual({ environment: 'test', baseUrl: sb.sandboxUrl, publicKey: pac.publicKey });
    expect(inspect(dashboard)).not.toMatch(/pacspace_access=|pacspace_refresh=/);
  });
});

describe('402: the Free plan limit', () => {
  let limited: TestSandbox;
  afterAll(async () => {
    await limited?.close();
  });

  it('PlanLimitExceededError with the limit and the period end, not retried', async () => {
    limited = await startTestSandbox({ freePlanDeltas: 1, confirmationMs: 0 });
    const client = new PacSpace({ apiKey: remember(limited.demo!.apiKey), sandboxUrl: limited.sandboxUrl, fetch });
    await client.balance.emit('cust_123', 1000, 'deposit');
    const err = (await failure(() => client.balance.emit('cust_123', -1000, 'charge'))) as PlanLimitExceededError;
    expect(err).toBeInstanceOf(PlanLimitExceededError);
    expect(err).toMatchObject({ status: 402, code: 'plan_limit_exceeded', limit: 1, periodEnd: expect.any(String) });
  });
});

describe('503: storage unavailable', () => {
  // The contract's own 503 for the operation, served by the sandbox (`Prefer: code=503`, as a
  // full or failing disk answers it with --data: mock/state/durability.test.ts).
  const documented503 = Object.assign(
    (request: Request) => {
      request.headers.set('Prefer', 'code=503');
      return fetch(request);
    },
    { sent: fetch.sent },
  );

  it('ServiceUnavailableError with the code and retryAfter; a Retry-After longer than maxRetryAfterMs is not waited for', async () => {
    const retries: number[] = [];
    const timeoutMs = 20_000;
    const client = new PacSpace({
      apiKey: sb.demo!.apiKey,
      sandboxUrl: sb.sandboxUrl,
      fetch: documented503,
      timeoutMs,
      retry: { maxRetryAfterMs: 1_000 },
      onRetry: (event) => void retries.push(event.delayMs),
    });
    const before = fetch.sent.length;
    let err: ServiceUnavailableError | undefined;
    const waits = await sdkTimersDuring(async () => {
      err = (await failure(() => client.balance.emit('customer_001', '1.00', 'usage'))) as ServiceUnavailableError;
    });
    expect(err).toBeInstanceOf(ServiceUnavailableError);
    expect(err).toMatchObject({ name: 'ServiceUnavailableError', status: 503, code: 'storage_unavailable', retryAfter: 12 });
    expect(err!.toJSON()).toMatchObject({ code: 'storage_unavailable', retryAfter: 12 });
    expect(fetch.sent.length - before).toBe(1);
    // Not waited for: no retry announced, and no timer but the one attempt's time limit (the
    // 12 s wait would be a 12,000 ms timer).
    expect(retries).toEqual([]);
    expect(waits).toEqual([timeoutMs]);
  });

  it('is retried as a transient failure: reads, and a POST with its Idempotency-Key', async () => {
    const retried: Array<number | undefined> = [];
    const client = new PacSpace({
      apiKey: sb.demo!.apiKey,
      sandboxUrl: sb.sandboxUrl,
      fetch: documented503,
      maxRetries: 1,
      retry: { maxRetryAfterMs: 60_000 },
      // The retry would wait the example's Retry-After (12 s): onRetry reports it and ends the call there.
      onRetry: (event) => {
        retried.push(event.status);
        throw new Error(`waits ${event.delayMs} ms`);
      },
    });
    await expect(client.balance.derive('customer_001')).rejects.toThrow('waits 12000 ms');
    await expect(client.balance.emit('customer_001', '1.00', 'usage')).rejects.toThrow('waits 12000 ms');
    expect(retried).toEqual([503, 503]);
  });
});

describe('429: rate limits', () => {
  let throttled: TestSandbox;
  afterAll(async () => {
    await throttled?.close();
  });

  it('RateLimitError with retryAfter; a Retry-After longer than maxRetryAfterMs is not waited for', async () => {
    throttled = await startTestSandbox({ rateLimits: { apiKey: { capacity: 2, refillPerSecond: 0.01 } } });
    const retries: number[] = [];
    const timeoutMs = 20_000;
    const client = new PacSpace({
      apiKey: remember(throttled.demo!.apiKey),
      sandboxUrl: throttled.sandboxUrl,
      fetch,
      timeoutMs,
      onRetry: (event) => void retries.push(event.delayMs),
    });
    await client.balance.derive('c');
    await client.balance.derive('c');
    const before = fetch.sent.length;
    let err: RateLimitError | undefined;
    // A Retry-After over 60 s, longer than the default maxRetryAfterMs (60,000 ms).
    const waits = await sdkTimersDuring(async () => {
      err = (await failure(() => client.balance.derive('c'))) as RateLimitError;
    });
    expect(err).toBeInstanceOf(RateLimitError);
    expect(err).toMatchObject({ status: 429, code: 'rate_limited' });
    expect(err!.retryAfter).toBeGreaterThan(60);
    expect(fetch.sent.length - before).toBe(1);
    // Not waited for: no retry announced, no timer but the attempt's time limit.
    expect(retries).toEqual([]);
    expect(waits).toEqual([timeoutMs]);
  });

  it('the quick start’s catch block works as written', async () => {
    const client = new PacSpace({ apiKey: throttled.demo!.apiKey, sandboxUrl: throttled.sandboxUrl, fetch, maxRetries: 0 });
    const messages: string[] = [];
    try {
      await client.balance.emit('cust_123', -1000, 'charge');
    } catch (err) {
      if (err instanceof PlanLimitExceededError) {
        messages.push('Plan limit reached - upgrade or wait for next period');
      } else if (err instanceof RateLimitError) {
        messages.push(`Wait ${err.retryAfter}s`);
      }
    }
    expect(messages).toEqual([expect.stringMatching(/^Wait \d+s$/)]);
  });

  it('login throttling: five failures, then RateLimitError', async () => {
    const client = new PacSpaceDashboard({ baseUrl: throttled.productionUrl, fetch });
    for (let i = 0; i < 5; i++) await expect(client.auth.login(throttled.demo!.email, 'nope')).rejects.toBeInstanceOf(AuthenticationError);
    const err = (await failure(() => client.auth.login(throttled.demo!.email, 'nope'))) as RateLimitError;
    expect(err).toBeInstanceOf(RateLimitError);
    expect(err.retryAfter).toBeGreaterThan(0);
  });
});
