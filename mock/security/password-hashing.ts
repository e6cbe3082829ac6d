// Password hashing off the event loop, with bounded concurrency. scrypt is deliberately slow
// (about 50 ms and 16 MiB a hash here): run on the event loop, a flood of failed logins stalls
// every other request. node:crypto's `scrypt` runs on libuv's thread pool instead; at most
// `concurrency` run at once (the pool's other threads stay free for the journal's file I/O),
// at most `queueLimit` more wait, and past that a request is refused at once (429
// `password_hashing_busy`) instead of piling up work and memory.
import { availableParallelism } from 'node:os';
import { hashPassword, verifyPassword } from './secrets.ts';

export type PasswordHashingOptions = {
  /**
   * Hashes computed at once, on libuv's thread pool. Default: one fewer than the machine's
   * cores, at least 1 and at most 2 (the pool has 4 threads and the journal's writes need some;
   * on 2 cores one is left to the event loop).
   */
  concurrency?: number;
  /** Hashes that may wait for a free slot; past this, requests are refused (default 64). */
  queueLimit?: number;
};

export const PASSWORD_HASHING_DEFAULTS = { concurrency: Math.min(2, Math.max(1, availableParallelism() - 1)), queueLimit: 64 } as const;

export type PasswordHashing = {
  /** Whether a new hash would be refused now: every slot busy and the queue full. */
  full(): boolean;
  /** Seconds a refused caller should wait: the queue's expected drain time, at least 1. */
  retryAfterSeconds(): number;
  /** Hashes and slots (for the 429's RateLimit-* headers). */
  capacity(): number;
  /** A new scrypt hash of `password`; rejects with PasswordHashingBusy when full. */
  hash(password: string): Promise<string>;
  /** Whether `password` matches `stored` (a dummy hash stands in for a missing one, same cost); rejects with PasswordHashingBusy when full. */
  verify(password: string, stored: string | undefined): Promise<boolean>;
  /** Running and waiting hashes (tests, benchmarks). */
  stats(): { running: number; waiting: number };
};

export class PasswordHashingBusy extends Error {
  override readonly name = 'PasswordHashingBusy';
  constructor(readonly retryAfterSeconds: number) {
    super('password hashing is at capacity');
  }
}

export function checkPasswordHashingOptions(options: PasswordHashingOptions | undefined): Required<PasswordHashingOptions> {
  if (options !== undefined && (typeof options !== 'object' || options === null)) throw new RangeError('passwordHashing must be an object');
  const concurrency = options?.concurrency ?? PASSWORD_HASHING_DEFAULTS.concurrency;
  const queueLimit = options?.queueLimit ?? PASSWORD_HASHING_DEFAULTS.queueLimit;
  if (!Number.isInteger(concurrency) || concurrency < 1 || concurrency > 64) throw new RangeError(`passwordHashing.concurrency must be an integer from 1 to 64, got ${concurrency}`);
  if (!Number.isInteger(queueLimit) || queueLimit < 0 || queueLimit > 10_000) throw new RangeError(`passwordHashing.queueLimit must be an integer from 0 to 10000, got ${queueLimit}`);
  return { concurrency, queueLimit };
}

/** What runs in a slot: scrypt (secrets.ts); tests pass slower stand-ins to hold the queue full. */
export type PasswordHasher = { hash(password: string): Promise<string>; verify(password: string, stored: string | undefined): Promise<boolean> };

export function createPasswordHashing(options?: PasswordHashingOptions, hasher: PasswordHasher = { hash: hashPassword, verify: verifyPassword }): PasswordHashing {
  const { concurrency, queueLimit } = checkPasswordHashingOptions(options);
  let running = 0;
  const waiting: Array<() => void> = [];
  // A moving average of one hash's duration, for Retry-After (start: a typical 50 ms).
  let averageMs = 50;

  const full = () => running >= concurrency && waiting.length >= queueLimit;
  const retryAfterSeconds = () => Math.max(1, Math.ceil(((running + waiting.length) * averageMs) / concurrency / 1000));

  async function withSlot<T>(work: () => Promise<T>): Promise<T> {
    if (full()) throw new PasswordHashingBusy(retryAfterSeconds());
    if (running < concurrency) running++;
    // The slot is handed over by the hash that finishes (running stays counted).
    else await new Promise<void>((resolve) => waiting.push(resolve));
    const started = performance.now();
    try {
      return await work();
    } finally {
      averageMs = 0.8 * averageMs + 0.2 * (performance.now() - started);
      const next = waiting.shift();
      if (next) next();
      else running--;
    }
  }

  return {
    full,
    retryAfterSeconds,
    capacity: () => concurrency + queueLimit,
    hash: (password) => withSlot(() => hasher.hash(password)),
    verify: (password, stored) => withSlot(() => hasher.verify(password, stored)),
    stats: () => ({ running, waiting: waiting.length }),
  };
}
