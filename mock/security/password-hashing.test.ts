// Password hashing off the event loop (found by a tester: a flood of failed logins with
// unique emails took another client's derive from 10 ms to 2.2 s, scrypt ran synchronously).
// Hashes run on libuv's thread pool, a few at once, a few more waiting; past that, login,
// register and password reset answer 429 `password_hashing_busy` with Retry-After at once and
// change nothing. The per-email failed-login throttle stays.
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { TestResponse } from '../testing/http-client.ts';
import { startTestSandbox, type TestSandbox } from '../testing/test-sandbox.ts';
import { createPasswordHashing, PasswordHashingBusy } from './password-hashing.ts';
import { hashPassword, verifyPassword } from './secrets.ts';

describe('the bounded hashing queue', () => {
  it('runs at most `concurrency` at once, queues `queueLimit` more and refuses the next at once', async () => {
    const hashing = createPasswordHashing({ concurrency: 1, queueLimit: 2 });
    const first = hashing.hash('one');
    const second = hashing.hash('two');
    const third = hashing.verify('three', undefined);
    expect(hashing.stats()).toEqual({ running: 1, waiting: 2 });
    expect(hashing.full()).toBe(true);
    await expect(hashing.hash('four')).rejects.toBeInstanceOf(PasswordHashingBusy);
    await expect(hashing.verify('four', undefined)).rejects.toMatchObject({ retryAfterSeconds: expect.any(Number) });
    const [a, b, ok] = await Promise.all([first, second, third]);
    expect(await verifyPassword('one', a)).toBe(true);
    expect(await verifyPassword('two', b)).toBe(true);
    expect(ok).toBe(false); // unknown user: the dummy hash, never a match
    expect(hashing.stats()).toEqual({ running: 0, waiting: 0 });
    expect(hashing.full()).toBe(false);
    expect(await hashing.verify('one', a)).toBe(true);
  });

  it('hashes are salted scrypt and a malformed stored hash never matches', async () => {
    const [x, y] = await Promise.all([hashPassword('same'), hashPassword('same')]);
    expect(x).toMatch(/^scrypt\$[\w-]{22}\$[\w-]{43}$/);
    expect(x).not.toBe(y);
    expect(await verifyPassword('other', x)).toBe(false);
    expect(await verifyPassword('same', 'scrypt$AAAA$AAAA')).toBe(false);
  });

  it('refuses options out of range', () => {
    expect(() => createPasswordHashing({ concurrency: 0 })).toThrow(RangeError);
    expect(() => createPasswordHashing({ queueLimit: -1 })).toThrow(RangeError);
    expect(() => createPasswordHashing({ concurrency: 1.5 })).toThrow(RangeError);
  });
});

describe('login, register and password reset over HTTP', () => {
  let sb: TestSandbox;
  const QUEUE = { concurrency: 1, queueLimit: 2 };

  beforeAll(async () => {
    sb = await startTestSandbox({
      passwordHashing: QUEUE,
      rateLimits: { client: { capacity: 10_000, refillPerSecond: 10_000 }, apiKey: { capacity: 10_000, refillPerSecond: 10_000 } },
    });
  });
  afterAll(() => sb?.close());
  beforeEach(() => sb.services.limits.login.reset());

  const login = (email: string, password = 'wrong password') => sb.newDashboardClient().post('/dashboard/auth/login', { json: { email, password } });

  function expectBusy(res: TestResponse, instance: string) {
    expect(res.status, res.text).toBe(429);
    expect(res.headers.get('content-type')).toBe('application/problem+json');
    const retryAfter = Number(res.headers.get('retry-after'));
    expect(Number.isInteger(retryAfter) && retryAfter >= 1).toBe(true);
    expect(res.body).toEqual({
      type: 'https://docs.pacspace.io/errors/password_hashing_busy',
      title: 'Too many password checks',
      status: 429,
      detail: `Too many password checks are in progress; nothing was done. Retry after ${retryAfter} second${retryAfter === 1 ? '' : 's'}.`,
      code: 'password_hashing_busy',
      requestId: expect.stringMatching(/^req_/),
      instance,
      retryAfter,
    });
    expect(res.headers.get('ratelimit-limit')).toBe(String(QUEUE.concurrency + QUEUE.queueLimit));
    expect(res.headers.get('ratelimit-remaining')).toBe('0');
    expect(res.headers.get('ratelimit-reset')).toBe(String(retryAfter));
  }

  it('a flood of failed logins with unique emails: the excess gets 429 with Retry-After, the rest 401, and a derive sent meanwhile is answered while a hash is in flight', async () => {
    const flood = 24;
    // The logins are checked by the product's scrypt (secrets.ts), but a hash that gets a slot
    // checks again and again until the derive below has been answered: the slots stay taken
    // and the flood stays in flight however fast or slow this machine is, so what is asserted
    // is an order of events, not a speed. Off the event loop, the derive is answered while one
    // of those scrypt calls is pending. On the event loop, nothing else runs until the hash
    // gives up (HOLD_LIMIT_MS, far beyond any derive, only so a broken product fails rather
    // than hangs): neither the rest of the flood nor the derive is answered before that.
    const HOLD_LIMIT_MS = 20_000;
    let deriveAnswered = false;
    let gaveUp = false;
    let scryptsPending = 0;
    let scryptsDone = 0;
    async function untilDerived<T>(check: () => Promise<T>): Promise<T> {
      const giveUpAt = performance.now() + HOLD_LIMIT_MS;
      for (;;) {
        scryptsPending++;
        let result: T;
        try {
          result = await check();
        } finally {
          scryptsPending--;
        }
        scryptsDone++;
        // (Once one has given up, the others do not hold on either.)
        if (deriveAnswered || gaveUp) return result;
        if (performance.now() > giveUpAt) {
          gaveUp = true;
          return result;
        }
      }
    }
    const real = sb.services.passwords;
    sb.services.passwords = createPasswordHashing(QUEUE, {
      hash: (password) => untilDerived(() => hashPassword(password)),
      verify: (password, stored) => untilDerived(() => verifyPassword(password, stored)),
    });
    let answers: TestResponse[];
    try {
      let settled = 0;
      const logins = Array.from({ length: flood }, (_, i) =>
        login(`flood-${i}@example.com`).then((res) => {
          settled++;
          return res;
        }),
      );
      // The whole flood has arrived: 1 hashing, 2 waiting, the other 21 answered 429 (or, were
      // the event loop blocked, the hash gave up first). Polled without a deadline of its own
      // (the test's timeout is the hang guard): how long the flood takes to arrive is speed.
      const held = QUEUE.concurrency + QUEUE.queueLimit;
      while (!gaveUp && !(settled === flood - held && sb.services.passwords.full())) await new Promise((r) => setTimeout(r, 1));
      expect(gaveUp, 'a hash held the event loop until it gave up: the flood was not answered meanwhile').toBe(false);
      expect(sb.services.passwords.stats()).toEqual({ running: QUEUE.concurrency, waiting: QUEUE.queueLimit });

      const derive = await sb.sandboxApi.get('/api/v1/balance/derive/customer_001', { headers: { 'X-Api-Key': sb.demo!.apiKey } });
      const pendingWhenDerived = scryptsPending;
      const settledWhenDerived = settled;
      deriveAnswered = true;
      expect(derive.status).toBe(200);
      expect(derive.body.data.computedBalance).toBe('0.00');
      // Answered while a real scrypt was running (it started before and had not finished), and
      // while the checked logins were still waiting for their answers: the event loop was free.
      expect(gaveUp, 'a hash held the event loop until it gave up: the derive was not answered meanwhile').toBe(false);
      expect(pendingWhenDerived).toBe(1);
      expect(settledWhenDerived).toBe(flood - held);
      answers = await Promise.all(logins);
    } finally {
      deriveAnswered = true;
      sb.services.passwords = real;
    }
    expect(scryptsDone).toBeGreaterThanOrEqual(QUEUE.concurrency + QUEUE.queueLimit);
    const busy = answers.filter((r) => r.status === 429);
    const refused = answers.filter((r) => r.status === 401);
    // Every request that got a hashing slot or a place in the queue was checked (1 + 2), the
    // rest refused at once.
    expect(refused.length).toBe(QUEUE.concurrency + QUEUE.queueLimit);
    expect(busy.length).toBe(flood - refused.length);
    for (const res of busy) expectBusy(res, '/dashboard/auth/login');
    for (const res of refused) expect(res.body.code).toBe('invalid_credentials');
    // A busy answer is not a failed attempt: only the checked logins count against their email.
    for (const [i, res] of answers.entries()) {
      expect(sb.services.limits.login.peek(`flood-${i}@example.com`).remaining, `flood-${i}`).toBe(res.status === 401 ? 4 : 5);
    }
  });

  it('while the queue is full, login, register and reset are refused at once and change nothing; afterwards they work', async () => {
    const demo = sb.demo!;
    // A queue whose hashes wait for `release`, filled from here: one running, two waiting.
    let release!: () => void;
    const released = new Promise<void>((resolve) => (release = resolve));
    const real = sb.services.passwords;
    sb.services.passwords = createPasswordHashing(QUEUE, {
      hash: async (password) => (await released, hashPassword(password)),
      verify: async (password, stored) => (await released, verifyPassword(password, stored)),
    });
    const held = [sb.services.passwords.hash('a'), sb.services.passwords.hash('b'), sb.services.passwords.hash('c')];
    let resetToken: string;
    try {
      expect(sb.services.passwords.full()).toBe(true);
      const events = sb.services.store.eventCount;
      await sb.dashboard.post('/dashboard/auth/request-password-reset', { json: { email: demo.email } });
      resetToken = [...sb.services.store.state.outbox].reverse().find((m) => m.to === demo.email && m.kind === 'reset')!.token;
      const afterMail = sb.services.store.eventCount;
      expect(afterMail).toBeGreaterThan(events);

      expectBusy(await login(demo.email, demo.password), '/dashboard/auth/login');
      const register = await sb.newDashboardClient().post('/dashboard/auth/register', { json: { email: 'busy@example.com', password: 'correct horse battery staple', name: 'Busy Bee' } });
      expectBusy(register, '/dashboard/auth/register');
      const reset = await sb.newDashboardClient().post('/dashboard/auth/reset-password', { json: { token: resetToken, password: 'a brand new passphrase' } });
      expectBusy(reset, '/dashboard/auth/reset-password');
      expect(sb.services.store.eventCount).toBe(afterMail);
      expect(sb.services.store.state.usersByEmail.has('busy@example.com')).toBe(false);
      expect(sb.services.limits.login.peek(demo.email.toLowerCase()).remaining).toBe(5);
    } finally {
      release();
      await Promise.all(held);
      expect(sb.services.passwords.full()).toBe(false);
      sb.services.passwords = real;
    }
    // The token was not spent: the reset works now, and the new password logs in.
    const done = await sb.newDashboardClient().post('/dashboard/auth/reset-password', { json: { token: resetToken, password: 'a brand new passphrase' } });
    expect(done.status, done.text).toBe(200);
    expect((await login(demo.email, 'a brand new passphrase')).status).toBe(200);
    expect((await login(demo.email, demo.password)).body.code).toBe('invalid_credentials');
    const registered = await sb.newDashboardClient().post('/dashboard/auth/register', { json: { email: 'busy@example.com', password: 'correct horse battery staple', name: 'Busy Bee' } });
    expect(registered.status, registered.text).toBe(201);
  });

  it('the per-email failed-login throttle stays: 5 failures, then 429 rate_limited, also for concurrent attempts', async () => {
    const email = 'throttled@example.com';
    // Concurrent wrong guesses cannot outrun the limit while their hashes are checked.
    const first = await Promise.all(Array.from({ length: 3 }, () => login(email)));
    expect(first.map((r) => r.status)).toEqual([401, 401, 401]);
    const next = await Promise.all(Array.from({ length: 3 }, () => login(email)));
    expect(next.map((r) => r.status).sort()).toEqual([401, 401, 429]);
    const limited = next.find((r) => r.status === 429)!;
    expect(limited.body.code).toBe('rate_limited');
    expect(limited.headers.get('retry-after')).toMatch(/^\d+$/);
    expect((await login(email)).body.code).toBe('rate_limited');
  });
});
