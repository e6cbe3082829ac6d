// The webhook signature scheme of the contract's Events section, shared by the sandbox (which
// signs) and the SDK (which verifies). Every delivery carries `X-PacSpace-Timestamp` (Unix
// seconds) and `X-PacSpace-Signature`: one or more `v1=<hex>` values separated by `,`, each
// HMAC-SHA256 with the endpoint's signing secret (its UTF-8 bytes, `whsec_` prefix included)
// as key over `${timestamp}.${rawBody}`, as 64 lowercase hex characters. During a secret
// rotation's overlap there are two values, the new secret's first.
//
// This module signs and verifies with node:crypto (the sandbox, Node receivers). The header
// parsing, comparison and clock checks live in the runtime-neutral webhook-verification.ts,
// which also verifies with Web Crypto for the SDK's main entry.
import { createHmac } from 'node:crypto';
import { verifyWith, type HeaderSource, type Hmac, type VerifyOptions, type VerifyResult } from './webhook-verification.ts';

export {
  DEFAULT_TOLERANCE_SECONDS,
  SIGNATURE_HEADER,
  TIMESTAMP_HEADER,
  parseSignatureHeader,
  verifyAsync,
  type HeaderSource,
  type VerifyFailure,
  type VerifyOptions,
  type VerifyResult,
} from './webhook-verification.ts';

/** HMAC-SHA256 with node:crypto: the 32 raw bytes. */
export const nodeHmac: Hmac = (secret, message) => createHmac('sha256', Buffer.from(secret, 'utf8')).update(message).digest();

/** The `v1` signature of one attempt: lowercase hex HMAC-SHA256 over `${timestamp}.${rawBody}`. */
export function sign(secret: string, timestamp: number, rawBody: string): string {
  return createHmac('sha256', Buffer.from(secret, 'utf8')).update(`${timestamp}.${rawBody}`, 'utf8').digest('hex');
}

/** The `X-PacSpace-Signature` value: one `v1=` entry per secret, in the order given (newest first). */
export function signatureHeader(secrets: readonly string[], timestamp: number, rawBody: string): string {
  if (secrets.length === 0) throw new Error('at least one signing secret is needed');
  return secrets.map((secret) => `v1=${sign(secret, timestamp, rawBody)}`).join(',');
}

/**
 * Verifies a delivery synchronously: the timestamp must be within `toleranceSeconds` of `now`,
 * and some `v1` value must equal the expected signature for some secret (constant-time
 * comparison). Pass the raw body exactly as received, before any JSON parsing.
 */
export function verify(rawBody: string | Uint8Array, headers: HeaderSource, secrets: readonly string[], options: VerifyOptions = {}): VerifyResult {
  return verifyWith(nodeHmac, rawBody, headers, secrets, options);
}
