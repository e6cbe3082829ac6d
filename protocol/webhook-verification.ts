// Verifying a webhook delivery, runtime-neutral: reading and checking the headers, comparing
// signatures in constant time and judging the timestamp are written once here, with the
// HMAC-SHA256 step passed in, so the Web Crypto verifier (async, any runtime) and the
// node:crypto one (sync, protocol/webhook-signature.ts and the SDK's Node entry) cannot drift.
// No `node:` import and no Node global: the SDK's main entry bundles this file for browsers
// and edge runtimes.

export const SIGNATURE_HEADER = 'X-PacSpace-Signature';
export const TIMESTAMP_HEADER = 'X-PacSpace-Timestamp';
/** How far a delivery's timestamp may be from the receiver's clock, either way. */
export const DEFAULT_TOLERANCE_SECONDS = 300;

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

/** HMAC-SHA256 of `message` keyed with the secret's UTF-8 bytes: the 32 raw bytes. */
export type Hmac = (secret: string, message: Uint8Array) => Uint8Array;
export type AsyncHmac = (secret: string, message: Uint8Array) => Promise<Uint8Array>;

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

const encoder = new TextEncoder();

/** The signed message: the UTF-8 bytes of `${timestamp}.`, then the raw body's bytes. */
export function signedMessage(timestamp: number, rawBody: string | Uint8Array): Uint8Array {
  if (typeof rawBody === 'string') return encoder.encode(`${timestamp}.${rawBody}`);
  const prefix = encoder.encode(`${timestamp}.`);
  const message = new Uint8Array(prefix.length + rawBody.length);
  message.set(prefix);
  message.set(rawBody, prefix.length);
  return message;
}

/**
 * A `v1` value as bytes: exactly what the contract allows (lowercase hex, an even number of
 * digits) or an empty array, which then matches nothing. Uppercase is not the contract's form.
 */
function hexBytes(hex: string): Uint8Array {
  if (!/^(?:[0-9a-f]{2})+$/.test(hex)) return new Uint8Array(0);
  const bytes = new Uint8Array(hex.length / 2);
  for (let i = 0; i < bytes.length; i++) bytes[i] = parseInt(hex.slice(2 * i, 2 * i + 2), 16);
  return bytes;
}

/**
 * Constant-time equality of a given value with an expected digest: every byte of `expected` is
 * looked at, whatever differs first. Only the given value's length (public, in the header)
 * influences the timing.
 */
export function equalBytes(given: Uint8Array, expected: Uint8Array): boolean {
  let diff = given.length ^ expected.length;
  for (let i = 0; i < expected.length; i++) diff |= (given[i] ?? 0) ^ expected[i]!;
  return diff === 0;
}

type Delivery = { ok: true; timestamp: number; candidates: Uint8Array[]; message: Uint8Array };

/** Step 1: the headers are present and well-formed; what to sign and what to compare. */
function readDelivery(rawBody: string | Uint8Array, headers: HeaderSource): Delivery | (VerifyResult & { ok: false }) {
  const signatureValue = header(headers, SIGNATURE_HEADER);
  if (signatureValue === undefined) return { ok: false, reason: 'missing_header', header: SIGNATURE_HEADER };
  const timestampValue = header(headers, TIMESTAMP_HEADER);
  if (timestampValue === undefined) return { ok: false, reason: 'missing_header', header: TIMESTAMP_HEADER };
  if (!/^\d{1,11}$/.test(timestampValue.trim())) return { ok: false, reason: 'malformed_header', header: TIMESTAMP_HEADER };
  const timestamp = Number(timestampValue.trim());
  const candidates = parseSignatureHeader(signatureValue);
  if (candidates.length === 0) return { ok: false, reason: 'malformed_header', header: SIGNATURE_HEADER };
  return { ok: true, timestamp, candidates: candidates.map(hexBytes), message: signedMessage(timestamp, rawBody) };
}

/** Step 3: given the expected digest of each secret, the signature match, then the clock. */
function judge(delivery: Delivery, digests: readonly Uint8Array[], options: VerifyOptions): VerifyResult {
  const tolerance = options.toleranceSeconds ?? DEFAULT_TOLERANCE_SECONDS;
  const now = options.now ?? Date.now();
  // Every candidate against every secret, without stopping at the first match.
  let secretIndex = -1;
  digests.forEach((expected, index) => {
    for (const candidate of delivery.candidates) {
      if (equalBytes(candidate, expected) && secretIndex < 0) secretIndex = index;
    }
  });
  if (secretIndex < 0) return { ok: false, reason: 'bad_signature' };

  // Judged after the signature, so an unsigned timestamp never tells an attacker anything.
  const age = Math.floor(now / 1000) - delivery.timestamp;
  if (age > tolerance) return { ok: false, reason: 'timestamp_too_old' };
  if (age < -tolerance) return { ok: false, reason: 'timestamp_too_new' };
  return { ok: true, timestamp: delivery.timestamp, secretIndex };
}

/**
 * Verifies a delivery with a synchronous HMAC (node:crypto's): the timestamp must be within
 * `toleranceSeconds` of `now`, and some `v1` value must equal the expected signature for some
 * secret. Pass the raw body exactly as received, before any JSON parsing.
 */
export function verifyWith(hmac: Hmac, rawBody: string | Uint8Array, headers: HeaderSource, secrets: readonly string[], options: VerifyOptions = {}): VerifyResult {
  const delivery = readDelivery(rawBody, headers);
  if (!delivery.ok) return delivery;
  return judge(delivery, secrets.map((secret) => hmac(secret, delivery.message)), options);
}

/** `verifyWith` for an asynchronous HMAC (Web Crypto's). */
export async function verifyWithAsync(
  hmac: AsyncHmac,
  rawBody: string | Uint8Array,
  headers: HeaderSource,
  secrets: readonly string[],
  options: VerifyOptions = {},
): Promise<VerifyResult> {
  const delivery = readDelivery(rawBody, headers);
  if (!delivery.ok) return delivery;
  return judge(delivery, await Promise.all(secrets.map((secret) => hmac(secret, delivery.message))), options);
}

/** HMAC-SHA256 through Web Crypto (`globalThis.crypto.subtle`): Node 20+, Bun, Deno, browsers, edge runtimes. */
export const webCryptoHmac: AsyncHmac = async (secret, message) => {
  const subtle = globalThis.crypto?.subtle;
  if (!subtle) throw new Error('Web Crypto (globalThis.crypto.subtle) is not available in this runtime');
  const key = await subtle.importKey('raw', encoder.encode(secret), { name: 'HMAC', hash: 'SHA-256' }, false, ['sign']);
  return new Uint8Array(await subtle.sign('HMAC', key, message));
};

/** Verifies a delivery with Web Crypto; the same checks and results as `verifyWith`. */
export function verifyAsync(rawBody: string | Uint8Array, headers: HeaderSource, secrets: readonly string[], options: VerifyOptions = {}): Promise<VerifyResult> {
  return verifyWithAsync(webCryptoHmac, rawBody, headers, secrets, options);
}
