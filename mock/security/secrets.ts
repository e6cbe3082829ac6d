// Secret material: generation, one-way storage and constant-time comparison. Secrets are
// stored only as hashes; nothing here logs or returns a plaintext secret it did not create.
import { hash, randomBytes, randomFillSync, scrypt, timingSafeEqual, type ScryptOptions } from 'node:crypto';

const BASE62 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';

// CSPRNG bytes drawn in blocks (one randomFillSync per 4 KiB instead of one randomInt call
// per character: ids are made on every request).
const pool = Buffer.alloc(4096);
let poolAt = pool.length;

const ALPHABET = Buffer.from(BASE62, 'latin1');

/** n base62 characters from the CSPRNG, without modulo bias (log2(62) ≈ 5.95 bits each). */
export const randomBase62 = (n: number): string => randomId('', n);

/**
 * An id: `prefix` then n base62 characters from the CSPRNG, as one flat string (a template
 * literal would make a two-part string, larger and joined again when written; ids are made on
 * every request and kept by the million). The prefix is ASCII (written as Latin-1).
 */
export function randomId(prefix: string, n: number): string {
  const out = Buffer.allocUnsafe(prefix.length + n);
  let i = out.write(prefix, 'latin1');
  const end = i + n;
  while (i < end) {
    if (poolAt === pool.length) {
      randomFillSync(pool);
      poolAt = 0;
    }
    const byte = pool[poolAt++]!;
    // 248 = 4 × 62: bytes from 248 up are rejected, so every character is equally likely.
    if (byte < 248) out[i++] = ALPHABET[byte % 62]!;
  }
  return out.toString('latin1');
}

/** An opaque token for cookies and e-mailed links: 32 random bytes, base64url. */
export const randomToken = () => randomBytes(32).toString('base64url');

/** High-entropy secrets (API key secrets, session and email tokens) are stored as SHA-256. */
// One-shot `hash` (Node ≥ 20.12): a third of createHash's cost, and it runs on every API key check.
export const hashSecret = (secret: string) => hash('sha256', secret, 'hex');

export function safeEqual(a: string, b: string): boolean {
  const x = Buffer.from(a, 'utf8');
  const y = Buffer.from(b, 'utf8');
  // Compare equal-length buffers always, so the time does not reveal the length either.
  const same = x.length === y.length;
  return timingSafeEqual(same ? x : y, y) && same;
}

// Passwords are low-entropy: scrypt with a per-password salt. Always the asynchronous scrypt,
// which runs on libuv's thread pool: a hash takes about 50 ms, far too long for the event loop.
// Requests hash through the bounded queue of password-hashing.ts, never directly.
const SCRYPT = { N: 16384, r: 8, p: 1 } as const;

const scryptKey = (password: string, salt: Buffer, options: ScryptOptions) =>
  new Promise<Buffer>((resolve, reject) => scrypt(password, salt, 32, options, (error, key) => (error ? reject(error) : resolve(key))));

export async function hashPassword(password: string): Promise<string> {
  const salt = randomBytes(16);
  const key = await scryptKey(password, salt, SCRYPT);
  return `scrypt$${salt.toString('base64url')}$${key.toString('base64url')}`;
}

export async function verifyPassword(password: string, stored: string | undefined): Promise<boolean> {
  // Unknown users are checked against a dummy hash, so both paths take the same time.
  const [, salt, key] = (stored ?? (await dummyHash())).split('$');
  const actual = await scryptKey(password, Buffer.from(salt ?? '', 'base64url'), SCRYPT);
  const expected = Buffer.from(key ?? '', 'base64url');
  return actual.length === expected.length && timingSafeEqual(actual, expected) && stored !== undefined;
}

let dummy: Promise<string> | undefined;
// Made on first use, not at start-up (scrypt is deliberately slow).
const dummyHash = () => (dummy ??= hashPassword(randomToken()));
