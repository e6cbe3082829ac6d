// The contract's webhook signature, verified with the suite's own code: HMAC-SHA256 keyed
// with the signing secret over `timestamp + "." + raw body`, lowercase hex, sent as one or
// more `v1=<hex>` values in X-PacSpace-Signature.
import { createHmac, timingSafeEqual } from 'node:crypto';

export const expectedSignature = (secret: string, timestamp: string, raw: string) =>
  createHmac('sha256', Buffer.from(secret, 'utf8')).update(`${timestamp}.${raw}`, 'utf8').digest('hex');

export const signaturesOf = (header: string | undefined) =>
  (header ?? '')
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s.startsWith('v1='))
    .map((s) => s.slice(3));

export function signedBy(secret: string, timestamp: string, raw: string, header: string | undefined): boolean {
  const expected = Buffer.from(expectedSignature(secret, timestamp, raw), 'utf8');
  return signaturesOf(header).some((s) => {
    const given = Buffer.from(s, 'utf8');
    return given.length === expected.length && timingSafeEqual(given, expected);
  });
}
