// Verifying webhook deliveries: the contract's signature scheme, checked by the shared
// protocol/webhook-verification.ts (the same parsing and checks as the sandbox's
// protocol/webhook-signature.ts): HMAC-SHA256 over `timestamp + "." + raw body`, any `v1=`
// value may match any of the given secrets (rotation), constant-time comparison, and a
// timestamp within `toleranceSeconds` either way. `verifyWebhook` uses Web Crypto, so it is
// async and runs anywhere; the synchronous node:crypto variant is in sdk/node.ts. Both check
// their arguments and turn the result into an event or an error with the helpers below.
import type { webhooks } from '../generated/openapi.d.ts';
import { DEFAULT_TOLERANCE_SECONDS, verifyAsync, type HeaderSource, type VerifyResult } from '../protocol/webhook-verification.ts';
import { WebhookVerificationError } from './errors.ts';

/** Every event PacSpace sends, discriminated by `type`. */
export type WebhookEvent = {
  [K in keyof webhooks]: webhooks[K]['post']['requestBody']['content']['application/json'];
}[keyof webhooks];

export type { HeaderSource as WebhookHeaders };

/** The raw body as received: a string, or its bytes (`Uint8Array`, Node's `Buffer`, `ArrayBuffer`). */
export type WebhookBody = string | Uint8Array | ArrayBuffer;

export type VerifyWebhookOptions = {
  /** How far the delivery's timestamp may be from `now`, either way (default 300 seconds). */
  toleranceSeconds?: number;
  /** The receiver's clock: a `Date` or milliseconds since the epoch (default `Date.now()`). */
  now?: Date | number;
};

/** The arguments, checked and normalized: what the signature check needs. */
export type WebhookInput = { body: string | Uint8Array; secrets: string[]; toleranceSeconds: number; now: number };

/**
 * Bytes of any view or ArrayBuffer. Checked without `instanceof`, which fails across realms
 * (edge runtimes run in a vm context whose Uint8Array is not the host's).
 */
function bytesOf(rawBody: unknown): Uint8Array | undefined {
  if (ArrayBuffer.isView(rawBody)) return new Uint8Array(rawBody.buffer, rawBody.byteOffset, rawBody.byteLength);
  if (Object.prototype.toString.call(rawBody) === '[object ArrayBuffer]') return new Uint8Array(rawBody as ArrayBuffer);
  return undefined;
}

/** Checks the arguments (programming errors throw `TypeError`/`RangeError`, not a verification error). */
export function webhookInput(fn: string, rawBody: WebhookBody, secret: string | readonly string[], options: VerifyWebhookOptions): WebhookInput {
  const body = typeof rawBody === 'string' ? rawBody : bytesOf(rawBody);
  if (body === undefined) throw new TypeError(`${fn} needs the raw request body (a string or bytes), not a parsed object`);
  const secrets = typeof secret === 'string' ? [secret] : [...secret];
  if (secrets.length === 0 || secrets.some((s) => typeof s !== 'string' || s.length === 0)) {
    throw new TypeError(`${fn} needs at least one non-empty signing secret`);
  }
  const toleranceSeconds = options.toleranceSeconds ?? DEFAULT_TOLERANCE_SECONDS;
  if (!Number.isFinite(toleranceSeconds) || toleranceSeconds < 0) throw new RangeError('toleranceSeconds must be a non-negative number');
  const now = options.now instanceof Date ? options.now.getTime() : (options.now ?? Date.now());
  return { body, secrets, toleranceSeconds, now };
}

/** The parsed event of a verified delivery, or the `WebhookVerificationError` for a rejected one. */
export function webhookEvent(result: VerifyResult, input: WebhookInput): WebhookEvent {
  if (!result.ok) {
    const tolerance = input.toleranceSeconds;
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
  // ignoreBOM keeps a leading BOM in the text, so such a body is not JSON, as before.
  const text = typeof input.body === 'string' ? input.body : new TextDecoder('utf-8', { ignoreBOM: true }).decode(input.body);
  let event: unknown;
  try {
    event = JSON.parse(text);
  } catch {
    throw new WebhookVerificationError('invalid_payload', 'The delivery is correctly signed but its body is not JSON.');
  }
  if (!event || typeof event !== 'object' || typeof (event as { type?: unknown }).type !== 'string') {
    throw new WebhookVerificationError('invalid_payload', 'The delivery is correctly signed but its body is not an event.');
  }
  return event as WebhookEvent;
}

/**
 * Verifies a webhook delivery and resolves to its parsed event, or rejects with a
 * `WebhookVerificationError` whose `code` is `missing_header`, `malformed_header`,
 * `bad_signature`, `timestamp_too_old`, `timestamp_too_new` or `invalid_payload`.
 *
 * Pass the body exactly as received (a string or the raw bytes), before any JSON parsing, the
 * request headers (a `Headers` object or node:http's `req.headers`), and your endpoint's signing
 * secret — or several during a rotation: the delivery is accepted if any secret signed it.
 * Uses Web Crypto (`globalThis.crypto.subtle`): Node 20+, Bun, Deno, browsers, edge runtimes.
 * On Node, `verifyWebhookSync` of `@pacspace-io/sdk/node` does the same synchronously.
 */
export async function verifyWebhook(
  rawBody: WebhookBody,
  headers: HeaderSource,
  secret: string | readonly string[],
  options: VerifyWebhookOptions = {},
): Promise<WebhookEvent> {
  const input = webhookInput('verifyWebhook', rawBody, secret, options);
  return webhookEvent(await verifyAsync(input.body, headers, input.secrets, input), input);
}
