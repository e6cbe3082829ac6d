// Secret material: generation, one-way storage and constant-time comparison. Secrets are
// stored only as hashes; nothing here logs or returns a plaintext secret it did not create.
import { createHash, randomBytes, randomFillSync, scryptSync, timingSafeEqual } from 'node:crypto';

const BASE62 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';

// CSPRNG bytes drawn in blocks (one randomFillSync per 4 KiB instead of one randomInt call
// per character: ids are made on every request).
const pool = Buffer.alloc(4096);
let poolAt = pool.length;

const ALPHABET = Buffer.from(BASE62, 'latin1');

/** n base62 characters from the CSPRNG, without modulo bias (log2(62) ≈ 5.95 bits each). */
export function randomBase62(n: number): string {
  // Written into a buffer and decoded once: a flat string (ids are kept by the million).
  const out = Buffer.allocUnsafe(n);
  for (let i = 0; i < n; ) {
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
export const hashSecret = (secret: string) => createHash('sha256').update(secret, 'utf8').digest('hex');

export function safeEqual(a: string, b: string): boolean {
  const x = Buffer.from(a, 'utf8');
  const y = Buffer.from(b, 'utf8');
  // Compare equal-length buffers always, so the time does not reveal the length either.
  const same = x.length === y.length;
  return timingSafeEqual(same ? x : y, y) && same;
}

// Passwords are low-entropy: scrypt with a per-password salt.
const SCRYPT = { N: 16384, r: 8, p: 1 } as const;

export function hashPassword(password: string): string {
  const salt = randomBytes(16);
  const key = scryptSync(password, salt, 32, SCRYPT);
  return `scrypt$${salt.toString('base64url')}$${key.toString('base64url')}`;
}

export function verifyPassword(password: string, stored: string | undefined): boolean {
  // Unknown users are checked against a dummy hash, so both paths take the same time.
  const [, salt, key] = (stored ?? dummyHash()).split('$');
  const actual = scryptSync(password, Buffer.from(salt ?? '', 'base64url'), 32, SCRYPT);
  return timingSafeEqual(actual, Buffer.from(key ?? '', 'base64url')) && stored !== undefined;
}

let dummy: string | undefined;
// Made on first use, not at start-up (scrypt is deliberately slow).
const dummyHash = () => (dummy ??= hashPassword(randomToken()));
