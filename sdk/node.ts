// The SDK's Node entry (`@pacspace-io/sdk/node`): everything of the main entry, plus
// `verifyWebhookSync`, which verifies a delivery synchronously with node:crypto for code that
// cannot await (e.g. an existing synchronous middleware). The only SDK module that imports a
// Node built-in (sdk/runtime-neutral.test.ts checks it), so the main entry stays
// runtime-neutral.
import { createHmac } from 'node:crypto';
import { verifyWith, type Hmac } from '../protocol/webhook-verification.ts';
// Public types from the main entry, so the published declarations of this entry refer to its.
import type { VerifyWebhookOptions, WebhookBody, WebhookEvent, WebhookHeaders } from './index.ts';
import { webhookEvent, webhookInput } from './webhooks.ts';

export * from './index.ts';

const nodeHmac: Hmac = (secret, message) => createHmac('sha256', Buffer.from(secret, 'utf8')).update(message).digest();

/**
 * `verifyWebhook`, synchronous: returns the parsed event of a delivery, or throws the same
 * `WebhookVerificationError` (`missing_header`, `malformed_header`, `bad_signature`,
 * `timestamp_too_old`, `timestamp_too_new` or `invalid_payload`). Node only.
 */
export function verifyWebhookSync(
  rawBody: WebhookBody,
  headers: WebhookHeaders,
  secret: string | readonly string[],
  options: VerifyWebhookOptions = {},
): WebhookEvent {
  const input = webhookInput('verifyWebhookSync', rawBody, secret, options);
  return webhookEvent(verifyWith(nodeHmac, input.body, headers, input.secrets, input), input);
}
