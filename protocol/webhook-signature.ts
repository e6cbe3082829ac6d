// The webhook signature scheme of the contract's Events section, shared by the sandbox (which
// signs) and the SDK (which verifies). Every delivery carries `X-PacSpace-Timestamp` (Unix
// seconds) and `X-PacSpace-Signature`: one or more `v1=<hex>` values separated by `,`, each
// HMAC-SHA256 with the endpoint's signing secret (its UTF-8 bytes, `whsec_` prefix included)
// as key over `${timestamp}.${rawBody}`, as 64 lowercase hex characters. During a secret
// rotation's overlap there are two values, the new secret's first.
import { createHmac, timingSafeEqual } from 'node:crypto';

export const SIGNATURE_HEADER = 'X-PacSpace-Signature';
export const TIMESTAMP_HEADER = 'X-PacSpace-Timestamp';
/** How far a delivery's timestamp may be from the receiver's clock, either way. */
export const DEFAULT_TOLERANCE_SECONDS = 300;

/** The `v1` signature of one attempt: lowercase hex HMAC-SHA256 over `${timestamp}.${rawBody}`. */
export function sign(secret: string, timestamp: number, rawBody: string): string {
  return createHmac('sha256', Buffer.from(secret, 'utf8')).update(`${timestamp}.${rawBody}`, 'utf8').digest('hex');
}

/** The `X-PacSpace-Signature` value: one `v1=` entry per secret, in the order given (newest first). */
export function signatureHeader(secrets: readonly string[], timestamp: number, rawBody: string): string {
  if (secrets.length === 0) throw new Error('at least one signing secret is needed');
  return secrets.map((secret) => `v1=${sign(secret, timestamp, rawBody)}`).join(',');
}

export type VerifyFailure =
  /** `X-PacSpace-Signature` or `X-PacSpace-Timestamp` is absent (see `header`). */
  | 'missing_header'
  /** The timestamp is not a whole number of seconds, or the signature header has no `v1` value. */
  | 'malformed_header'
  /** No `v1` value matches any of the secrets: wrong secret, or the body or timestamp was changed. */
  | 'bad_signature'
  /** Signed more than `toleranceSeconds` before the receiver's clock: possibly a replay. */
  | 'timestamp_too_old'
  /** Signed more than `toleranceSeconds` after the receiver's clock. */
  | 'timestamp_too_new';

export type VerifyResult =
  | { ok: true; timestamp: number; /** Index, in `secrets`, of the secret that matched. */ secretIndex: number }
  | { ok: false; reason: VerifyFailure; header?: string };

export type VerifyOptions = {
  /** Default 300 (five minutes). */
  toleranceSeconds?: number;
  /** The receiver's clock in milliseconds since the epoch; default `Date.now()`. */
  now?: number;
};

/** Headers as a `Headers` object (fetch) or a plain record (node:http), names in any case. */
export type HeaderSource = Headers | Record<string, string | string[] | undefined>;

function header(headers: HeaderSource, name: string): string | undefined {
  if (typeof (headers as Headers).get === 'function') return (headers as Headers).get(name) ?? undefined;
  const wanted = name.toLowerCase();
  for (const [key, value] of Object.entries(headers as Record<string, string | string[] | undefined>)) {
    if (key.toLowerCase() === wanted && value !== undefined) return Array.isArray(value) ? value.join(',') : value;
  }
  return undefined;
}

/** The `v1` values of a signature header; other schemes are ignored, as the contract says. */
export function parseSignatureHeader(value: string): string[] {
  return value
    .split(',')
    .map((part) => part.trim())
    .filter((part) => part.startsWith('v1='))
    .map((part) => part.slice(3));
}

/**
 * Verifies a delivery: the timestamp must be within `toleranceSeconds` of `now`, and some
 * `v1` value must equal the expected signature for some secret (constant-time comparison).
 * Pass the raw body exactly as received, before any JSON parsing.
 */
export function verify(rawBody: string, headers: HeaderSource, secrets: readonly string[], options: VerifyOptions = {}): VerifyResult {
  const tolerance = options.toleranceSeconds ?? DEFAULT_TOLERANCE_SECONDS;
  const now = options.now ?? Date.now();
  const signatureValue = header(headers, SIGNATURE_HEADER);
  if (signatureValue === undefined) return { ok: false, reason: 'missing_header', header: SIGNATURE_HEADER };
  const timestampValue = header(headers, TIMESTAMP_HEADER);
  if (timestampValue === undefined) return { ok: false, reason: 'missing_header', header: TIMESTAMP_HEADER };
  if (!/^\d{1,11}$/.test(timestampValue.trim())) return { ok: false, reason: 'malformed_header', header: TIMESTAMP_HEADER };
  const timestamp = Number(timestampValue.trim());
  const candidates = parseSignatureHeader(signatureValue);
  if (candidates.length === 0) return { ok: false, reason: 'malformed_header', header: SIGNATURE_HEADER };

  // Compare every candidate with every secret, without stopping early.
  let secretIndex = -1;
  secrets.forEach((secret, index) => {
    const expected = Buffer.from(sign(secret, timestamp, rawBody), 'utf8');
    for (const candidate of candidates) {
      const given = Buffer.from(candidate, 'utf8');
      const sameLength = given.length === expected.length;
      if (timingSafeEqual(sameLength ? given : expected, expected) && sameLength && secretIndex < 0) secretIndex = index;
    }
  });
  if (secretIndex < 0) return { ok: false, reason: 'bad_signature' };

  // Judged after the signature, so an unsigned timestamp never tells an attacker anything.
  const age = Math.floor(now / 1000) - timestamp;
  if (age > tolerance) return { ok: false, reason: 'timestamp_too_old' };
  if (age < -tolerance) return { ok: false, reason: 'timestamp_too_new' };
  return { ok: true, timestamp, secretIndex };
}
