// Verifying webhook deliveries: the contract's signature scheme, checked by the shared
// protocol/webhook-signature.ts (the same code the sandbox signs with): HMAC-SHA256 over
// `timestamp + "." + raw body`, any `v1=` value may match any of the given secrets (rotation),
// constant-time comparison, and a timestamp within `toleranceSeconds` either way.
import type { webhooks } from '../generated/openapi.d.ts';
import { DEFAULT_TOLERANCE_SECONDS, verify, type HeaderSource } from '../protocol/webhook-signature.ts';
import { WebhookVerificationError } from './errors.ts';

/** Every event PacSpace sends, discriminated by `type`. */
export type WebhookEvent = {
  [K in keyof webhooks]: webhooks[K]['post']['requestBody']['content']['application/json'];
}[keyof webhooks];

export type { HeaderSource as WebhookHeaders };

export type VerifyWebhookOptions = {
  /** How far the delivery's timestamp may be from `now`, either way (default 300 seconds). */
  toleranceSeconds?: number;
  /** The receiver's clock: a `Date` or milliseconds since the epoch (default `Date.now()`). */
  now?: Date | number;
};

/**
 * Verifies a webhook delivery and returns its parsed event, or throws a
 * `WebhookVerificationError` whose `code` is `missing_header`, `malformed_header`,
 * `bad_signature`, `timestamp_too_old`, `timestamp_too_new` or `invalid_payload`.
 *
 * Pass the body exactly as received (a string or the raw bytes), before any JSON parsing, the
 * request headers (a `Headers` object or node:http's `req.headers`), and your endpoint's signing
 * secret — or several during a rotation: the delivery is accepted if any secret signed it.
 */
export function verifyWebhook(
  rawBody: string | Uint8Array,
  headers: HeaderSource,
  secret: string | readonly string[],
  options: VerifyWebhookOptions = {},
): WebhookEvent {
  if (typeof rawBody !== 'string' && !(rawBody instanceof Uint8Array)) {
    throw new TypeError('verifyWebhook needs the raw request body (a string or bytes), not a parsed object');
  }
  const secrets = typeof secret === 'string' ? [secret] : [...secret];
  if (secrets.length === 0 || secrets.some((s) => typeof s !== 'string' || s.length === 0)) {
    throw new TypeError('verifyWebhook needs at least one non-empty signing secret');
  }
  const tolerance = options.toleranceSeconds ?? DEFAULT_TOLERANCE_SECONDS;
  if (!Number.isFinite(tolerance) || tolerance < 0) throw new RangeError('toleranceSeconds must be a non-negative number');
  const now = options.now instanceof Date ? options.now.getTime() : (options.now ?? Date.now());
  const body = typeof rawBody === 'string' ? rawBody : Buffer.from(rawBody.buffer, rawBody.byteOffset, rawBody.byteLength).toString('utf8');

  const result = verify(body, headers, secrets, { toleranceSeconds: tolerance, now });
  if (!result.ok) {
    switch (result.reason) {
      case 'missing_header':
        throw new WebhookVerificationError('missing_header', `The delivery has no ${result.header} header.`, result.header);
      case 'malformed_header':
        throw new WebhookVerificationError('malformed_header', `The delivery's ${result.header} header is malformed.`, result.header);
      case 'bad_signature':
        throw new WebhookVerificationError('bad_signature', 'No signature of the delivery matches the signing secret(s): wrong secret, or the body or timestamp was changed.');
      case 'timestamp_too_old':
        throw new WebhookVerificationError('timestamp_too_old', `The delivery was signed more than ${tolerance} seconds ago; it may be a replay.`);
      case 'timestamp_too_new':
        throw new WebhookVerificationError('timestamp_too_new', `The delivery is timestamped more than ${tolerance} seconds in the future; check the clock.`);
    }
  }
  let event: unknown;
  try {
    event = JSON.parse(body);
  } catch {
    throw new WebhookVerificationError('invalid_payload', 'The delivery is correctly signed but its body is not JSON.');
  }
  if (!event || typeof event !== 'object' || typeof (event as { type?: unknown }).type !== 'string') {
    throw new WebhookVerificationError('invalid_payload', 'The delivery is correctly signed but its body is not an event.');
  }
  return event as WebhookEvent;
}
