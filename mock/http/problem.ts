// The one place problem+json answers are made. Every error the sandbox sends goes through
// `problem()`, so the shape, the `type` URI and the title of each code never drift.
import type { components } from '../../generated/openapi.d.ts';

/**
 * The contract's codes. Among them `storage_unavailable` (503: a change could not be written,
 * nothing changed, retry after `Retry-After`), which the sandbox answers with `--data` when its
 * disk is full or failing.
 */
export type ProblemCode = components['schemas']['ProblemCode'] | SandboxGuardCode;
/**
 * The sandbox's own refusals, outside the public contract (its control contract documents
 * them): a `Host` it does not serve (421, any path) and a cross-site control request (403).
 */
export type SandboxGuardCode = 'misdirected_request' | 'cross_site_request';
export type ValidationViolation = components['schemas']['ValidationViolation'];

const catalog: Record<ProblemCode, { status: number; title: string; detail: string }> = {
  invalid_json: { status: 400, title: 'Invalid JSON', detail: 'The request body is not valid JSON.' },
  invalid_token: { status: 400, title: 'Invalid token', detail: 'The token is unknown, expired or already used.' },
  unauthenticated: { status: 401, title: 'Unauthenticated', detail: 'Valid credentials are required for this request.' },
  invalid_credentials: { status: 401, title: 'Invalid credentials', detail: 'The email address or password is incorrect.' },
  plan_limit_exceeded: {
    status: 402,
    title: 'Plan limit exceeded',
    detail: 'The plan includes a limited number of verified deltas a month; upgrade or wait for the next period.',
  },
  insufficient_permission: {
    status: 403,
    title: 'Insufficient permission',
    detail: 'This API key does not have the permission this operation requires.',
  },
  csrf_required: {
    status: 403,
    title: 'CSRF header required',
    detail: 'Unsafe dashboard requests must send the header X-Pacspace-CSRF: 1.',
  },
  account_not_approved: { status: 403, title: 'Account not approved', detail: 'Your access request has not been approved yet.' },
  email_not_verified: { status: 403, title: 'Email not verified', detail: 'Verify your email address before creating API keys.' },
  not_found: { status: 404, title: 'Not found', detail: 'No resource was found at this path.' },
  method_not_allowed: { status: 405, title: 'Method not allowed', detail: 'This path does not support this method.' },
  idempotency_key_reused: {
    status: 409,
    title: 'Idempotency key reused',
    detail: 'This Idempotency-Key was already used with a different request body.',
  },
  idempotency_request_in_progress: {
    status: 409,
    title: 'Idempotent request in progress',
    detail: 'A request with this Idempotency-Key is still being processed; retry shortly.',
  },
  duplicate_reference: { status: 409, title: 'Duplicate reference', detail: 'This referenceId is already recorded for this customer.' },
  nothing_to_checkpoint: { status: 409, title: 'Nothing to checkpoint', detail: 'The customer has no deltas since its last checkpoint.' },
  balance_out_of_range: {
    status: 409,
    title: 'Balance out of range',
    detail: "The delta would take the customer's balance outside -1000000000000000 to 1000000000000000.",
  },
  environment_not_active: { status: 409, title: 'Environment not active', detail: 'The environment this request needs is not active.' },
  environment_already_provisioned: {
    status: 409,
    title: 'Environment already provisioned',
    detail: 'The environment is already provisioning or active.',
  },
  account_exists: { status: 409, title: 'Account exists', detail: 'An account with this email address already exists.' },
  payload_too_large: { status: 413, title: 'Payload too large', detail: 'Request bodies are limited to 1048576 bytes.' },
  cross_site_request: {
    status: 403,
    title: 'Cross-site request',
    detail: 'The sandbox control surface refuses requests sent from other sites.',
  },
  misdirected_request: {
    status: 421,
    title: 'Misdirected request',
    detail: 'This sandbox does not answer for the host named in the Host header.',
  },
  unsupported_media_type: {
    status: 415,
    title: 'Unsupported media type',
    detail: 'Request bodies must be sent as application/json.',
  },
  validation_failed: { status: 422, title: 'Validation failed', detail: 'The request does not match the contract; see validation.' },
  rate_limited: { status: 429, title: 'Too many requests', detail: 'Rate limit exceeded; retry after the Retry-After delay.' },
  password_hashing_busy: {
    status: 429,
    title: 'Too many password checks',
    detail: 'Too many password checks are in progress; nothing was done. Retry after the Retry-After delay.',
  },
  storage_unavailable: {
    status: 503,
    title: 'Storage unavailable',
    detail: 'The change could not be stored, so nothing was changed; retry after the Retry-After delay.',
  },
};

export type Problem = components['schemas']['Problem'];

/** A problem the handler or gate decided on; the HTTP layer adds requestId and instance. */
export class ProblemError extends Error {
  constructor(
    readonly code: ProblemCode,
    readonly detail?: string,
    readonly extra: Partial<Problem> = {},
    readonly headers: Record<string, string> = {},
  ) {
    super(code);
  }
}

export const fail = (code: ProblemCode, detail?: string, extra: Partial<Problem> = {}, headers: Record<string, string> = {}) =>
  new ProblemError(code, detail, extra, headers);

export function problemBody(error: ProblemError, requestId: string, instance: string): Problem {
  const entry = catalog[error.code];
  const body: Problem = {
    type: `https://docs.pacspace.io/errors/${error.code}`,
    title: entry.title,
    status: entry.status,
    detail: error.detail ?? entry.detail,
    code: error.code as Problem['code'],
    requestId,
    instance,
    ...error.extra,
  };
  return bounded(body);
}

// An error answer stays small whatever the request held (a 1 MiB body of unknown members
// once made a 17 MB 422): at most MAX_VIOLATIONS violations, the rest counted in
// `violationsOmitted`, and nothing echoed at length (the contract's Problem and
// ValidationViolation state these bounds).
export const MAX_VIOLATIONS = 20;
export const MAX_MESSAGE_CHARS = 200;
export const MAX_LOCATION_SEGMENTS = 32;
export const MAX_DETAIL_CHARS = 500;

/** `text` cut to at most `max` code points, the last being `…` when it was cut. */
export function truncate(text: string, max: number): string {
  if (text.length <= max) return text; // (UTF-16 units ≥ code points)
  let at = 0;
  let count = 0;
  let cut = 0;
  for (const ch of text) {
    if (count === max - 1) cut = at;
    if (count === max) return `${text.slice(0, cut)}…`;
    at += ch.length;
    count++;
  }
  return text;
}

/** A violation with nothing longer than the contract allows. */
export function boundedViolation(v: ValidationViolation): ValidationViolation {
  const deep = v.location.length > MAX_LOCATION_SEGMENTS;
  const location = (deep ? v.location.slice(0, MAX_LOCATION_SEGMENTS) : v.location).map((s) => truncate(s, MAX_MESSAGE_CHARS));
  return { ...v, location: deep ? [...location, '…'] : location, code: truncate(v.code, MAX_MESSAGE_CHARS), message: truncate(v.message, MAX_MESSAGE_CHARS) };
}

function bounded(body: Problem): Problem {
  body.detail = truncate(body.detail, MAX_DETAIL_CHARS);
  if (body.validation) {
    const all = body.validation;
    body.validation = all.slice(0, MAX_VIOLATIONS).map(boundedViolation);
    const omitted = (body.violationsOmitted ?? 0) + Math.max(0, all.length - MAX_VIOLATIONS);
    if (omitted > 0) body.violationsOmitted = omitted;
    else delete body.violationsOmitted;
  }
  return body;
}

export const statusOf = (code: ProblemCode) => catalog[code].status;
