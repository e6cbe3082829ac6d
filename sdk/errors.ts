// The SDK's typed errors. Every failed API call throws a `PacSpaceError` (or a subclass chosen
// by the HTTP status), built from the RFC 9457 problem document the API answers with. No error
// holds a request, a response or a header: only the problem's fields, so an error can be
// logged, serialized (`toJSON`) or inspected (`util.inspect`) without exposing the API key.
import type { Problem, ProblemCode, ValidationViolation } from '../generated/openapi.d.ts';

/** Codes of errors the SDK raises itself, without an API answer. */
export type ClientErrorCode =
  | 'invalid_api_key'
  | 'environment_mismatch'
  | 'invalid_configuration'
  | 'connection_error'
  | 'timeout'
  | 'unexpected_redirect'
  | 'unexpected_response'
  | WebhookFailure;

/** Why a webhook delivery was rejected by `verifyWebhook`. */
export type WebhookFailure =
  /** `X-PacSpace-Signature` or `X-PacSpace-Timestamp` is absent (see `header`). */
  | 'missing_header'
  /** The timestamp is not whole seconds, or the signature header has no `v1=` value. */
  | 'malformed_header'
  /** No `v1` value matches any secret: wrong secret, or the body or timestamp was changed. */
  | 'bad_signature'
  /** Signed more than `toleranceSeconds` before now: possibly a replay. */
  | 'timestamp_too_old'
  /** Signed more than `toleranceSeconds` after now. */
  | 'timestamp_too_new'
  /** Correctly signed, but the body is not a JSON event. */
  | 'invalid_payload';

export type PacSpaceErrorInit = {
  message?: string;
  /** The HTTP status; `undefined` when no response was received (network, timeout, configuration). */
  status?: number | undefined;
  code: ProblemCode | ClientErrorCode | (string & {});
  detail: string;
  requestId?: string | undefined;
  title?: string | undefined;
  type?: string | undefined;
  problem?: Problem | undefined;
  cause?: unknown;
};

/** The base of every error the SDK throws. Match on `code` (stable), never on `message`. */
export class PacSpaceError extends Error {
  override readonly name: string = 'PacSpaceError';
  /** The HTTP status, or `undefined` when the request got no answer. */
  readonly status: number | undefined;
  /** The problem's stable machine-readable `code` (see the contract's `ProblemCode`), or the SDK's own. */
  readonly code: PacSpaceErrorInit['code'];
  /** The `requestId` to quote to PacSpace support (also the `X-Request-Id` header). */
  readonly requestId: string | undefined;
  /** A human-readable explanation of this occurrence. */
  readonly detail: string;
  readonly title: string | undefined;
  readonly type: string | undefined;
  /** The whole problem document, when the API sent one. */
  readonly problem: Problem | undefined;

  constructor(init: PacSpaceErrorInit) {
    super(init.message ?? describe(init), init.cause === undefined ? undefined : { cause: init.cause });
    this.status = init.status;
    this.code = init.code;
    this.requestId = init.requestId;
    this.detail = init.detail;
    this.title = init.title;
    this.type = init.type;
    this.problem = init.problem;
  }

  toJSON(): Record<string, unknown> {
    return {
      name: this.name,
      message: this.message,
      status: this.status,
      code: this.code,
      requestId: this.requestId,
      detail: this.detail,
      ...(this.title === undefined ? {} : { title: this.title }),
      ...(this.type === undefined ? {} : { type: this.type }),
    };
  }
}

function describe(init: PacSpaceErrorInit): string {
  const where = [init.status === undefined ? undefined : String(init.status), init.code].filter(Boolean).join(' ');
  const request = init.requestId ? `, request ${init.requestId}` : '';
  return `${init.detail} (${where}${request})`;
}

/** 401: missing, unknown, wrong-secret, disabled, deleted or other-environment key; no or expired session; failed login. Do not retry. */
export class AuthenticationError extends PacSpaceError {
  override readonly name: string = 'AuthenticationError';
}

/** 403: the key lacks the operation's permission, or the account is not approved or verified, or CSRF. Do not retry. */
export class PermissionError extends PacSpaceError {
  override readonly name: string = 'PermissionError';
}

/** 402 `plan_limit_exceeded`: the plan's monthly verified deltas are used up. */
export class PlanLimitExceededError extends PacSpaceError {
  override readonly name: string = 'PlanLimitExceededError';
  /** The plan's monthly limit of verified deltas. */
  readonly limit: number | undefined;
  /** When the billing period ends and the limit resets (ISO 8601). */
  readonly periodEnd: string | undefined;
  constructor(init: PacSpaceErrorInit) {
    super(init);
    this.limit = init.problem?.limit;
    this.periodEnd = init.problem?.periodEnd;
  }
  override toJSON() {
    return { ...super.toJSON(), limit: this.limit, periodEnd: this.periodEnd };
  }
}

/** 429 `rate_limited`, after the SDK's own retries: wait `retryAfter` seconds. */
export class RateLimitError extends PacSpaceError {
  override readonly name: string = 'RateLimitError';
  /** Seconds to wait before retrying (the `Retry-After` header), if the API said. */
  readonly retryAfter: number | undefined;
  constructor(init: PacSpaceErrorInit & { retryAfter?: number | undefined }) {
    super(init);
    this.retryAfter = init.retryAfter ?? init.problem?.retryAfter;
  }
  override toJSON() {
    return { ...super.toJSON(), retryAfter: this.retryAfter };
  }
}

/**
 * 503, after the SDK's own retries (or a `Retry-After` too long to wait for): for
 * `storage_unavailable`, the change could not be stored and **nothing was changed**; retry
 * after `retryAfter` seconds (a `POST` with the same `Idempotency-Key`).
 */
export class ServiceUnavailableError extends PacSpaceError {
  override readonly name: string = 'ServiceUnavailableError';
  /** Seconds to wait before retrying (the `Retry-After` header), if the API said. */
  readonly retryAfter: number | undefined;
  constructor(init: PacSpaceErrorInit & { retryAfter?: number | undefined }) {
    super(init);
    this.retryAfter = init.retryAfter;
  }
  override toJSON() {
    return { ...super.toJSON(), retryAfter: this.retryAfter };
  }
}

/** 422 `validation_failed`: the request does not match the contract; `violations` lists every one. */
export class ValidationError extends PacSpaceError {
  override readonly name: string = 'ValidationError';
  readonly violations: ValidationViolation[];
  constructor(init: PacSpaceErrorInit) {
    super(init);
    this.violations = init.problem?.validation ?? [];
  }
  override toJSON() {
    return { ...super.toJSON(), violations: this.violations };
  }
}

/** 404: no such resource (or it belongs to another tenant or environment). */
export class NotFoundError extends PacSpaceError {
  override readonly name: string = 'NotFoundError';
}

/** 409: idempotency key reused, duplicate `referenceId` (see `receiptId`), nothing to checkpoint, environment not active, … */
export class ConflictError extends PacSpaceError {
  override readonly name: string = 'ConflictError';
  /** For `duplicate_reference`: the receipt that already holds the `referenceId`. */
  readonly receiptId: string | undefined;
  constructor(init: PacSpaceErrorInit) {
    super(init);
    this.receiptId = init.problem?.receiptId;
  }
  override toJSON() {
    return { ...super.toJSON(), receiptId: this.receiptId };
  }
}

/** The request got no answer: DNS, refused or reset connection (after the SDK's retries). */
export class ApiConnectionError extends PacSpaceError {
  override readonly name: string = 'ApiConnectionError';
}

/** An attempt took longer than `timeoutMs` and was aborted (after the SDK's retries). */
export class TimeoutError extends ApiConnectionError {
  override readonly name: string = 'TimeoutError';
}

/** Invalid client options, detected before any request: malformed key, key/URL mismatch, bad URL. */
export class ConfigurationError extends PacSpaceError {
  override readonly name: string = 'ConfigurationError';
}

/** `verifyWebhook` rejected a delivery; `code` says why. */
export class WebhookVerificationError extends PacSpaceError {
  override readonly name: string = 'WebhookVerificationError';
  declare readonly code: WebhookFailure;
  /** For `missing_header` and `malformed_header`: the header concerned. */
  readonly header: string | undefined;
  constructor(code: WebhookFailure, detail: string, header?: string) {
    super({ code, detail, message: detail });
    this.header = header;
  }
  override toJSON() {
    return { ...super.toJSON(), header: this.header };
  }
}

// ---------------------------------------------------------------- building errors from answers

/** Replaces every occurrence of the client's secrets in a string. */
export type Redactor = (text: string) => string;

export const noRedaction: Redactor = (text) => text;

/** A redactor for these secrets (each at least 8 characters; shorter ones are ignored as too generic). */
export function redactorFor(secrets: readonly string[]): Redactor {
  const list = secrets.filter((s) => s.length >= 8).sort((a, b) => b.length - a.length);
  return (text) => list.reduce((out, secret) => out.split(secret).join('[redacted]'), text);
}

function redactDeep<T>(value: T, redact: Redactor): T {
  if (typeof value === 'string') return redact(value) as T;
  if (Array.isArray(value)) return value.map((v) => redactDeep(v, redact)) as T;
  if (value && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, redactDeep(v, redact)])) as T;
  }
  return value;
}

function isProblem(body: unknown): body is Problem {
  return (
    !!body &&
    typeof body === 'object' &&
    typeof (body as Problem).code === 'string' &&
    typeof (body as Problem).status === 'number'
  );
}

/** `Retry-After` as milliseconds: delta-seconds or an HTTP date; `undefined` when absent or unreadable. */
export function parseRetryAfter(value: string | null, now = Date.now()): number | undefined {
  if (value === null) return undefined;
  const text = value.trim();
  if (/^\d+(\.\d+)?$/.test(text)) return Math.round(Number(text) * 1000);
  const at = Date.parse(text);
  return Number.isNaN(at) ? undefined : Math.max(0, at - now);
}

const FALLBACK_CODES: Record<number, string> = {
  400: 'invalid_request',
  401: 'unauthenticated',
  402: 'plan_limit_exceeded',
  403: 'forbidden',
  404: 'not_found',
  408: 'request_timeout',
  409: 'conflict',
  422: 'validation_failed',
  429: 'rate_limited',
};

/** The error class thrown for each status the contract documents; any other status is a PacSpaceError. */
export const ERROR_CLASS_BY_STATUS = {
  401: AuthenticationError,
  402: PlanLimitExceededError,
  403: PermissionError,
  404: NotFoundError,
  409: ConflictError,
  422: ValidationError,
  429: RateLimitError,
  503: ServiceUnavailableError,
} as const;

/** The typed error for an API answer that is not a 2xx, from its parsed body (if any). */
export function errorFromResponse(response: Response, body: unknown, redact: Redactor): PacSpaceError {
  const status = response.status;
  const problem = isProblem(body) ? redactDeep(body, redact) : undefined;
  const requestId = problem?.requestId ?? response.headers.get('x-request-id') ?? undefined;
  if (status >= 300 && status < 400) {
    const location = response.headers.get('location');
    return new PacSpaceError({
      status,
      code: 'unexpected_redirect',
      detail: redact(`The API answered with a redirect${location ? ` to ${location}` : ''}; the SDK does not follow redirects (check baseUrl).`),
      requestId,
    });
  }
  const init: PacSpaceErrorInit = {
    status,
    code: problem?.code ?? FALLBACK_CODES[status] ?? (status >= 500 ? 'server_error' : 'unexpected_response'),
    detail: problem?.detail ?? `HTTP ${status}${response.statusText ? ` ${response.statusText}` : ''}`,
    requestId,
    title: problem?.title,
    type: problem?.type,
    problem,
  };
  if (status === 429 || status === 503) {
    const ms = parseRetryAfter(response.headers.get('retry-after'));
    const retryAfter = ms === undefined ? undefined : Math.ceil(ms / 1000);
    return status === 429 ? new RateLimitError({ ...init, retryAfter }) : new ServiceUnavailableError({ ...init, retryAfter });
  }
  const ErrorClass = ERROR_CLASS_BY_STATUS[status as keyof typeof ERROR_CLASS_BY_STATUS] ?? PacSpaceError;
  return new ErrorClass(init);
}

/** A cause safe to attach to an error: the name, message (redacted) and errno code of the original. */
export function safeCause(error: unknown, redact: Redactor): Error | undefined {
  if (!(error instanceof Error)) return undefined;
  const inner = (error as Error & { cause?: unknown }).cause;
  const source = inner instanceof Error ? inner : error;
  const copy = new Error(redact(source.message));
  copy.name = source.name;
  const code = (source as Error & { code?: unknown }).code;
  if (typeof code === 'string') (copy as Error & { code?: string }).code = code;
  copy.stack = `${copy.name}: ${copy.message}`;
  return copy;
}
