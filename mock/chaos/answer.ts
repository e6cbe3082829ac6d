// The answer of a chaos status fault, as the control contract's ChaosErrorSettings documents
// it: 429 `rate_limited` and 503 `storage_unavailable` exactly as the public contract documents
// them on every operation (TooManyRequests, StorageUnavailable), and 500 `internal_error`,
// which only the control contract names. For the request path (mock/app.ts), which answers
// with it instead of running the handler.
import type { ChaosDecision } from '../http/exchange.ts';
import { fail, problemBody } from '../http/problem.ts';

export type StatusFault = Extract<NonNullable<ChaosDecision['fault']>, { kind: 'status' }>;

export type ChaosAnswer = { status: number; headers: Record<string, string>; body: Record<string, unknown> };

/** The code of a chaos 500 (not a public ProblemCode: see ChaosErrorSettings). */
export const INTERNAL_ERROR_CODE = 'internal_error';

/**
 * `rateLimit`: the `RateLimit-Limit` a 429 reports (the bucket the request would have spent
 * from; TooManyRequests requires the header). `requestId`, `instance`: as every problem.
 */
export function chaosAnswer(fault: StatusFault, at: { requestId: string; instance: string; rateLimit: number }): ChaosAnswer {
  const retryAfter = String(fault.retryAfterSeconds ?? 0);
  switch (fault.status) {
    case 429:
      return {
        status: 429,
        headers: { 'Retry-After': retryAfter, 'RateLimit-Limit': String(at.rateLimit), 'RateLimit-Remaining': '0', 'RateLimit-Reset': retryAfter },
        body: problemBody(fail('rate_limited', undefined, { retryAfter: fault.retryAfterSeconds ?? 0 }), at.requestId, at.instance),
      };
    case 503:
      return { status: 503, headers: { 'Retry-After': retryAfter }, body: problemBody(fail('storage_unavailable'), at.requestId, at.instance) };
    case 500:
      return {
        status: 500,
        headers: {},
        body: {
          type: `https://docs.pacspace.io/errors/${INTERNAL_ERROR_CODE}`,
          title: 'Internal error',
          status: 500,
          detail: 'The request could not be handled; retry it (a POST with the same Idempotency-Key).',
          code: INTERNAL_ERROR_CODE,
          requestId: at.requestId,
          instance: at.instance,
        },
      };
  }
}
