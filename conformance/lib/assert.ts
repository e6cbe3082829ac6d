// Assertions that say what rule broke in terms of the API, and never print a raw body:
// reports are redacted as well, but a message should not need it.
import type { Exchange } from './http.ts';
import { isMediaType } from '../../contract/media-type.ts';

export class CheckFailure extends Error {
  override name = 'CheckFailure';
}

export function ensure(condition: unknown, message: string): asserts condition {
  if (!condition) throw new CheckFailure(message);
}

const describeExchange = (ex: Exchange) =>
  `${ex.method} ${ex.path} → ${ex.status}${ex.body?.code ? ` ${ex.body.code}` : ''} (request ${ex.body?.requestId ?? ex.headers['x-request-id'] ?? 'without id'})`;

export function expectStatus(ex: Exchange, status: number | number[], why = '') {
  const allowed = Array.isArray(status) ? status : [status];
  ensure(allowed.includes(ex.status), `expected ${allowed.join(' or ')}${why ? ` (${why})` : ''}, got ${describeExchange(ex)}`);
}

/** An RFC 9457 problem with the given status and stable code. */
export function expectProblem(ex: Exchange, status: number, code: string, why = '') {
  expectStatus(ex, status, why);
  const type = ex.headers['content-type'] ?? '';
  ensure(isMediaType(type, 'application/problem+json'), `${describeExchange(ex)}: errors must be application/problem+json, got "${type}"`);
  const b = ex.body;
  ensure(b && typeof b === 'object', `${describeExchange(ex)}: the problem body is not JSON`);
  for (const field of ['type', 'title', 'status', 'detail', 'code', 'requestId']) {
    ensure(field in b, `${describeExchange(ex)}: the problem lacks "${field}"`);
  }
  ensure(b.status === status, `${describeExchange(ex)}: body status ${b.status} differs from the HTTP status`);
  ensure(b.code === code, `expected code ${code}${why ? ` (${why})` : ''}, got ${describeExchange(ex)}`);
}

export const withoutRequestId = (body: any) => {
  if (!body || typeof body !== 'object') return body;
  const { requestId: _r, instance: _i, ...rest } = body;
  return rest;
};
