// The one request mechanism both clients share. `createTransport` is the `fetch` handed to
// openapi-fetch's `createClient<paths>`: every call of every method goes through it, so
// timeouts, retries, cookies and CSRF are decided here once. `unwrap` turns openapi-fetch's
// `{ data, error, response }` into the envelope's `data` or a typed error.
//
// Retry rules (the contract's "Retries" section and the agent-authentication page):
// - only transient failures: 408, 429, 5xx, and network errors or timeouts;
// - never 401, 403 or any other 4xx;
// - a request is retried only if it is safe to repeat: GET, HEAD, OPTIONS, PUT, DELETE, or a
//   POST/PATCH that carries an `Idempotency-Key` (the same key is sent on every attempt);
// - bounded exponential backoff with jitter: attempt n waits a random time in
//   [d/2, d] with d = min(maxDelayMs, baseDelayMs * 2^n);
// - `Retry-After` (seconds or an HTTP date) is honoured: the wait is at least that long; if it
//   is longer than `maxRetryAfterMs`, the SDK gives up at once and the error says how long to wait.
// Each attempt has its own `timeoutMs`, enforced with an AbortSignal that also covers reading
// the body. Redirects are not followed (a redirect must not carry the API key elsewhere).
import { ApiConnectionError, errorFromResponse, PacSpaceError, parseRetryAfter, safeCause, TimeoutError, type Redactor } from './errors.ts';
import type { CookieJar } from './cookies.ts';

/** A fetch implementation: receives a `Request`, like openapi-fetch's `fetch` option. */
export type FetchLike = (input: Request) => Promise<Response>;

/** What `onRetry` is told before the SDK waits and tries again. Never contains headers or bodies. */
export type RetryEvent = {
  method: string;
  /** The request URL without its query string. */
  url: string;
  /** The attempt that failed, counted from 1. */
  attempt: number;
  /** How long the SDK waits before the next attempt. */
  delayMs: number;
  /** The transient status that failed, or `undefined` for a network error or timeout. */
  status: number | undefined;
  /** `connection_error` or `timeout` when there was no answer. */
  error: 'connection_error' | 'timeout' | undefined;
};

export type RetryOptions = {
  /** Retries after the first attempt (default 2; 0 disables retries). */
  maxRetries?: number;
  /** Base of the exponential backoff (default 500 ms). */
  baseDelayMs?: number;
  /** Cap of one backoff wait (default 8000 ms). */
  maxDelayMs?: number;
  /** Longest `Retry-After` the SDK waits for by itself (default 60000 ms); longer ones are thrown. */
  maxRetryAfterMs?: number;
};

export type TransportOptions = RetryOptions & {
  fetch?: FetchLike;
  /** Per attempt, including reading the body (default 30000 ms). */
  timeoutMs?: number;
  /** Keep cookies from `Set-Cookie` and send them back (the dashboard client). */
  cookies?: CookieJar;
  /** Send `X-Pacspace-CSRF: 1` on unsafe methods (the dashboard client). */
  csrf?: boolean;
  onRetry?: (event: RetryEvent) => void;
  redact: Redactor;
};

export const DEFAULTS = {
  maxRetries: 2,
  baseDelayMs: 500,
  maxDelayMs: 8_000,
  maxRetryAfterMs: 60_000,
  timeoutMs: 30_000,
} as const;

const SAFE_TO_REPEAT = new Set(['GET', 'HEAD', 'OPTIONS', 'PUT', 'DELETE']);
const UNSAFE = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);
const NULL_BODY = new Set([101, 204, 205, 304]);

/** Whether an answer with this status is transient: 408, 429 or 5xx. */
export function isTransientStatus(status: number): boolean {
  return status === 408 || status === 429 || (status >= 500 && status <= 599);
}

/** The backoff before retry number `attempt + 1`: uniformly random in [d/2, d], d = min(max, base·2^attempt). */
export function backoffDelay(attempt: number, baseDelayMs: number, maxDelayMs: number, random: () => number = Math.random): number {
  const ceiling = Math.min(maxDelayMs, baseDelayMs * 2 ** attempt);
  return Math.round(ceiling / 2 + random() * (ceiling / 2));
}

function nonNegative(name: string, value: number | undefined, fallback: number): number {
  if (value === undefined) return fallback;
  if (!Number.isFinite(value) || value < 0) throw new RangeError(`${name} must be a non-negative number`);
  return value;
}

/**
 * A signal that aborts when either does: `AbortSignal.any` where the runtime has it; edge
 * runtimes without it (Vercel's edge-runtime 4) get the same from two listeners, removed by
 * `release` after the attempt.
 */
export function eitherSignal(a: AbortSignal, b: AbortSignal): { signal: AbortSignal; release(): void } {
  if (typeof AbortSignal.any === 'function') return { signal: AbortSignal.any([a, b]), release: () => {} };
  const both = new AbortController();
  const fromA = () => both.abort(a.reason);
  const fromB = () => both.abort(b.reason);
  if (a.aborted) fromA();
  else if (b.aborted) fromB();
  a.addEventListener('abort', fromA, { once: true });
  b.addEventListener('abort', fromB, { once: true });
  return {
    signal: both.signal,
    release: () => {
      a.removeEventListener('abort', fromA);
      b.removeEventListener('abort', fromB);
    },
  };
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal.aborted) return reject(signal.reason);
    const timer = setTimeout(() => {
      signal.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal.reason);
    };
    signal.addEventListener('abort', onAbort, { once: true });
  });
}

class AttemptTimeout extends Error {}

/** The Request and signal of every attempt in flight, so that neither is collected before its timeout fires. */
const attemptsInFlight = new Set<Request | AbortSignal>();

/** The retrying, timing-out fetch that openapi-fetch calls for every request. */
export function createTransport(options: TransportOptions): FetchLike {
  const fetchImpl: FetchLike = options.fetch ?? ((request) => globalThis.fetch(request));
  const maxRetries = Math.floor(nonNegative('maxRetries', options.maxRetries, DEFAULTS.maxRetries));
  const baseDelayMs = nonNegative('baseDelayMs', options.baseDelayMs, DEFAULTS.baseDelayMs);
  const maxDelayMs = nonNegative('maxDelayMs', options.maxDelayMs, DEFAULTS.maxDelayMs);
  const maxRetryAfterMs = nonNegative('maxRetryAfterMs', options.maxRetryAfterMs, DEFAULTS.maxRetryAfterMs);
  const timeoutMs = nonNegative('timeoutMs', options.timeoutMs, DEFAULTS.timeoutMs);
  const { cookies, csrf = false, onRetry, redact } = options;

  return async function transport(request: Request): Promise<Response> {
    const method = request.method.toUpperCase();
    const url = new URL(request.url);
    const repeatable = SAFE_TO_REPEAT.has(method) || request.headers.has('idempotency-key');
    // Read once, sent as is on every attempt (with the same Idempotency-Key header).
    const body = request.body === null ? undefined : await request.arrayBuffer();
    const caller = request.signal;

    for (let attempt = 0; ; attempt++) {
      const headers = new Headers(request.headers);
      const cookieHeader = cookies?.header(url);
      if (cookieHeader) headers.set('cookie', cookieHeader);
      if (csrf && UNSAFE.has(method)) headers.set('x-pacspace-csrf', '1');

      const timeout = new AbortController();
      const timer = setTimeout(() => timeout.abort(new AttemptTimeout()), timeoutMs);
      const { signal, release } = eitherSignal(timeout.signal, caller);
      let response: Response | undefined;
      let failure: PacSpaceError | undefined;
      // Held until the attempt is over: Node's fetch follows the Request's signal only weakly, so a
      // Request garbage-collected mid-attempt never heard its timeout (Node 20: the attempt hung).
      attemptsInFlight.add(signal);
      let sent: Request | undefined;
      try {
        sent = new Request(url, { method, headers, body, signal, redirect: 'manual' });
        attemptsInFlight.add(sent);
        const answer = await fetchImpl(sent);
        // Buffered inside the timeout, so a stalled body times out like a stalled connection.
        const bytes = NULL_BODY.has(answer.status) ? null : await answer.arrayBuffer();
        response = new Response(bytes, { status: answer.status, statusText: answer.statusText, headers: answer.headers });
        cookies?.store(url, answer.headers.getSetCookie());
      } catch (error) {
        if (caller.aborted) throw caller.reason ?? error;
        failure = timeout.signal.aborted
          ? new TimeoutError({ code: 'timeout', detail: `${method} ${url.pathname} got no answer within ${timeoutMs} ms; the attempt was aborted.` })
          : new ApiConnectionError({
              code: 'connection_error',
              detail: `${method} ${url.pathname} failed without an answer from ${url.origin}.`,
              cause: safeCause(error, redact),
            });
      } finally {
        clearTimeout(timer);
        release();
        if (sent) attemptsInFlight.delete(sent);
        attemptsInFlight.delete(signal);
      }

      const transient = failure !== undefined || (response !== undefined && isTransientStatus(response.status));
      if (!transient || !repeatable || attempt >= maxRetries) {
        if (failure) throw failure;
        return response!;
      }
      let delayMs = backoffDelay(attempt, baseDelayMs, maxDelayMs);
      const retryAfterMs = response ? parseRetryAfter(response.headers.get('retry-after')) : undefined;
      if (retryAfterMs !== undefined) {
        if (retryAfterMs > maxRetryAfterMs) return response!;
        delayMs = Math.max(delayMs, retryAfterMs);
      }
      onRetry?.({
        method,
        url: `${url.origin}${url.pathname}`,
        attempt: attempt + 1,
        delayMs,
        status: response?.status,
        error: failure === undefined ? undefined : failure.code === 'timeout' ? 'timeout' : 'connection_error',
      });
      await sleep(delayMs, caller);
    }
  };
}

// ---------------------------------------------------------------- results

/** What openapi-fetch resolves to. */
type ApiResult = { data?: unknown; error?: unknown; response: Response };

/** The payload of a success body: the envelope's `data` (`{statusCode, data}` or `{success, data}`), or the body itself. */
export type Payload<R extends ApiResult> = Exclude<R['data'], undefined> extends infer Body
  ? Body extends { data: infer Data }
    ? Data
    : Body
  : never;

/** Awaits an openapi-fetch call: the envelope's `data` on success, a typed error otherwise. */
export async function unwrap<R extends ApiResult>(pending: Promise<R>, redact: Redactor): Promise<Payload<R>> {
  let result: R;
  try {
    result = await pending;
  } catch (error) {
    // openapi-fetch parses a 2xx body as JSON; a body that is not JSON is the server's fault.
    if (error instanceof SyntaxError) {
      throw new PacSpaceError({ code: 'unexpected_response', detail: 'The API answered with a success status but a body that is not JSON.' });
    }
    throw error;
  }
  const { data, error, response } = result;
  if (!response.ok) throw errorFromResponse(response, error, redact);
  if (data && typeof data === 'object' && 'data' in data) return (data as { data: Payload<R> }).data;
  return data as Payload<R>;
}
