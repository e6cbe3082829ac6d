// The one HTTP layer: every request the suite makes goes through `exchange`, which records it
// (at the end of a run each recorded response is validated against the contract and scanned
// for secrets), counts it against the request budget, honours 429 + Retry-After (seconds or
// an HTTP date; a default backoff when absent) and 503 + Retry-After within a bounded wait per
// check, applies the run's deadline scale, and stops at once when the run or the check is
// aborted.
//
// Requests belong to a scope: the preflight, one check, or the cleanup. The scope travels
// with the async work (AsyncLocalStorage), so a check that timed out and goes on in the
// background still finds its own, aborted, scope.
import { AsyncLocalStorage } from 'node:async_hooks';
import { Inconclusive } from './outcome.ts';

export type Exchange = {
  id: number;
  method: string;
  url: string;
  /** The request path without the base URL's own path prefix, for matching operations. */
  path: string;
  requestHeaders: Record<string, string>;
  /** The request body as sent (text), if any. */
  requestBody?: string;
  status: number;
  headers: Record<string, string>;
  setCookies: string[];
  text: string;
  /** Parsed JSON body, or undefined. */
  body: any;
  /** The scope that sent it: `preflight`, a check id, or `cleanup`. */
  scope?: string;
};

export type SendOptions = {
  headers?: Record<string, string>;
  json?: unknown;
  raw?: string | Buffer;
  /** Per-attempt timeout before the scale (default 15 s). */
  timeoutMs?: number;
  /**
   * Wait out 429 (+ Retry-After) and 503 + Retry-After and send again (default true). Checks
   * that provoke 429 on purpose (the rate-limit probes, the login throttle) ask for
   * `'unavailable-only'`: their 429s come back to them, a 503 is still waited out; `false` waits
   * out nothing.
   */
  retry?: boolean | 'unavailable-only';
};

export type HttpSettings = {
  /** Multiplies every deadline: request timeouts and the 429 wait budget (default 1). */
  timeoutScale?: number;
  /** Requests the checks may send in all; the preflight and the cleanup are not held to it (default unlimited). */
  maxRequests?: number;
  /** How long one scope may spend waiting out 429s in all, before the scale (default 60 s). */
  retryWaitMs?: number;
  /** Waits `ms` unless `signal` aborts first (tests replace it). */
  sleep?: (ms: number, signal: AbortSignal) => Promise<void>;
};

export type ScopeKind = 'preflight' | 'check' | 'cleanup';

export type Scope = {
  /** `preflight`, the check's id, or `cleanup`. */
  name: string;
  kind: ScopeKind;
  /** Aborted when the check times out or the run is interrupted. */
  signal: AbortSignal;
  /** Milliseconds spent waiting out 429s so far. */
  waitedMs: number;
};

export const DEFAULT_REQUEST_TIMEOUT_MS = 15_000;
export const DEFAULT_RETRY_WAIT_MS = 60_000;
/** One request is sent at most this many times while the target answers 429. */
const MAX_ATTEMPTS = 10;

const storage = new AsyncLocalStorage<Scope>();

/** The scope of the running async work (a check, the preflight, the cleanup); outside any, a fresh one. */
export const currentScope = (): Scope => storage.getStore() ?? newScope('unscoped', 'check');

/** Runs `work` in `scope`: its requests count and wait there, and stop when its signal aborts. */
export const inScope = <T>(scope: Scope, work: () => Promise<T>): Promise<T> => storage.run(scope, work);

export const newScope = (name: string, kind: ScopeKind, signal: AbortSignal = new AbortController().signal): Scope => ({ name, kind, signal, waitedMs: 0 });

/** Resolves after `ms`, or rejects with the signal's reason when it aborts first. */
export function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal.aborted) return reject(signal.reason);
    const done = () => {
      signal.removeEventListener('abort', abort);
      resolve();
    };
    const timer = setTimeout(done, ms);
    const abort = () => {
      clearTimeout(timer);
      reject(signal.reason);
    };
    signal.addEventListener('abort', abort, { once: true });
  });
}

/**
 * How long a 429 asks to wait: Retry-After as delay-seconds or an HTTP-date (RFC 9110
 * §10.2.3); absent or unparsable, an exponential default (1 s, 2 s, 4 s … at most 16 s).
 */
export function retryDelayMs(retryAfter: string | undefined, attempt: number, now = Date.now()): number {
  const value = retryAfter?.trim();
  if (value && /^\d+$/.test(value)) return Number(value) * 1000;
  if (value) {
    const at = Date.parse(value);
    if (!Number.isNaN(at)) return Math.max(0, at - now);
  }
  return Math.min(1000 * 2 ** attempt, 16_000);
}

/** A network failure in words: `connection refused`, `host not found`, … */
export function describeNetworkError(error: unknown): string {
  const cause = (error as { cause?: { code?: string; message?: string } })?.cause;
  const code = cause?.code ?? (error as { code?: string })?.code;
  const words: Record<string, string> = {
    ECONNREFUSED: 'connection refused',
    ENOTFOUND: 'host not found',
    EAI_AGAIN: 'host name lookup failed',
    ECONNRESET: 'connection reset',
    EHOSTUNREACH: 'host unreachable',
    ENETUNREACH: 'network unreachable',
    ETIMEDOUT: 'connection timed out',
    UND_ERR_CONNECT_TIMEOUT: 'connection timed out',
    UND_ERR_SOCKET: 'connection closed',
    EPIPE: 'connection closed',
  };
  if (code && words[code]) return words[code]!;
  if (code && /CERT|SSL|TLS/.test(code)) return `TLS error (${code})`;
  if (cause?.message === 'bad port') return 'fetch refuses this port (a "bad port" of the Fetch standard)';
  return cause?.message || (error as Error)?.message || String(error);
}

/** A request that got no HTTP answer. */
export class NetworkError extends Error {
  override name = 'NetworkError';
  constructor(
    message: string,
    /** `connection refused`, `no answer within 15 s`, … */
    readonly reason: string,
  ) {
    super(message);
  }
}

export function createRecorder(settings: HttpSettings = {}) {
  const exchanges: Exchange[] = [];
  const scale = settings.timeoutScale ?? 1;
  const maxRequests = settings.maxRequests ?? Number.POSITIVE_INFINITY;
  const waitBudget = (settings.retryWaitMs ?? DEFAULT_RETRY_WAIT_MS) * scale;
  const wait = settings.sleep ?? sleep;
  /** Requests sent (attempts, retries included), by the kind of scope that sent them. */
  const sent: Record<ScopeKind, number> = { preflight: 0, check: 0, cleanup: 0 };
  let budgetExhausted = false;

  async function attempt(scope: Scope, method: string, url: string, path: string, headers: Record<string, string>, body: string | Buffer | undefined, timeoutMs: number): Promise<Exchange> {
    if (scope.signal.aborted) throw scope.signal.reason;
    if (scope.kind === 'check') {
      if (sent.check >= maxRequests) {
        budgetExhausted = true;
        throw new Inconclusive(`the request budget is used up (--max-requests ${maxRequests}); ${method} ${path} was not sent`);
      }
    }
    sent[scope.kind]++;
    const timeout = AbortSignal.timeout(timeoutMs);
    let res: Response;
    let text: string;
    try {
      res = await fetch(url, { method, headers, body, redirect: 'manual', signal: AbortSignal.any([scope.signal, timeout]) });
      text = await res.text();
    } catch (error) {
      if (scope.signal.aborted) throw scope.signal.reason;
      const reason = timeout.aborted ? `no answer within ${seconds(timeoutMs)}` : describeNetworkError(error);
      throw new NetworkError(`${method} ${url}: ${reason}`, reason);
    }
    let parsed: unknown;
    try {
      parsed = text ? JSON.parse(text) : undefined;
    } catch {
      parsed = undefined;
    }
    const record: Exchange = {
      id: exchanges.length + 1,
      method,
      url,
      path: path.split('?')[0]!,
      requestHeaders: headers,
      ...(body === undefined ? {} : { requestBody: typeof body === 'string' ? body : body.toString('utf8') }),
      status: res.status,
      headers: Object.fromEntries([...res.headers].map(([k, v]) => [k.toLowerCase(), v])),
      setCookies: res.headers.getSetCookie(),
      text,
      body: parsed,
      scope: scope.name,
    };
    exchanges.push(record);
    return record;
  }

  async function exchange(method: string, baseUrl: string, path: string, options: SendOptions = {}): Promise<Exchange> {
    const scope = currentScope();
    const headers: Record<string, string> = { ...(options.headers ?? {}) };
    let body: string | Buffer | undefined;
    if (options.json !== undefined) {
      body = JSON.stringify(options.json);
      headers['content-type'] ??= 'application/json';
    } else if (options.raw !== undefined) {
      body = options.raw;
    }
    const url = `${baseUrl.replace(/\/$/, '')}${path}`;
    const timeoutMs = (options.timeoutMs ?? DEFAULT_REQUEST_TIMEOUT_MS) * scale;
    for (let n = 0; ; n++) {
      const ex = await attempt(scope, method, url, path, headers, body, timeoutMs);
      // 429, and 503 with Retry-After (the contract's `storage_unavailable`: nothing was changed,
      // come back then), are waited out. A 429 past the budget leaves the check undecided (rate
      // limits are the run's limit); a 503 past it is the answer the check judges (the target
      // stayed unavailable), so a deployment that is down for good cannot pass as undecided.
      const unavailable = ex.status === 503 && ex.headers['retry-after'] !== undefined;
      if ((ex.status !== 429 && !unavailable) || options.retry === false) return ex;
      if (ex.status === 429 && options.retry === 'unavailable-only') return ex;
      const label = `${method} ${ex.path}`;
      if (n + 1 >= MAX_ATTEMPTS) {
        if (unavailable) return ex;
        throw new Inconclusive(`the target answered 429 (rate limited) to ${label} ${MAX_ATTEMPTS} times in a row`);
      }
      // At least 100 ms, so a Retry-After of 0 cannot turn into a tight loop.
      const delay = Math.max(100, retryDelayMs(ex.headers['retry-after'], n));
      if (scope.waitedMs + delay > waitBudget) {
        if (unavailable) return ex;
        throw new Inconclusive(
          `the target answered 429 (rate limited) to ${label}; waiting ${seconds(delay)} more would pass this check's wait budget ` +
            `of ${seconds(waitBudget)} (${seconds(scope.waitedMs)} already waited; --timeout-scale raises it)`,
        );
      }
      scope.waitedMs += delay;
      await wait(delay, scope.signal);
    }
  }

  return {
    exchanges,
    exchange,
    /** Requests sent so far, retries included. */
    sent,
    /** The --max-requests budget of the checks. */
    maxRequests,
    /** Whether a check was refused a request because the budget was used up. */
    budgetExhausted: () => budgetExhausted,
    timeoutScale: scale,
  };
}

const seconds = (ms: number) => `${ms % 1000 === 0 ? ms / 1000 : (ms / 1000).toFixed(1)} s`;

export type Recorder = ReturnType<typeof createRecorder>;

/** A client bound to one base URL, with a cookie jar like curl's -b/-c. */
export function createClient(recorder: Recorder, baseUrl: string) {
  const jar = new Map<string, string>();
  const send = async (method: string, path: string, options: SendOptions & { noCookies?: boolean } = {}) => {
    const headers = { ...(options.headers ?? {}) };
    if (!options.noCookies && jar.size && !Object.keys(headers).some((h) => h.toLowerCase() === 'cookie')) {
      headers.cookie = [...jar].map(([k, v]) => `${k}=${v}`).join('; ');
    }
    const ex = await recorder.exchange(method, baseUrl, path, { ...options, headers });
    for (const cookie of ex.setCookies) {
      const [pair, ...attrs] = cookie.split(';');
      const i = pair!.indexOf('=');
      const name = pair!.slice(0, i).trim();
      const value = pair!.slice(i + 1).trim();
      if (!value || attrs.some((a) => /^\s*max-age=0\s*$/i.test(a))) jar.delete(name);
      else jar.set(name, value);
    }
    return ex;
  };
  return {
    baseUrl,
    jar,
    send,
    get: (path: string, o?: SendOptions & { noCookies?: boolean }) => send('GET', path, o),
    post: (path: string, o?: SendOptions & { noCookies?: boolean }) => send('POST', path, o),
    patch: (path: string, o?: SendOptions & { noCookies?: boolean }) => send('PATCH', path, o),
    delete: (path: string, o?: SendOptions & { noCookies?: boolean }) => send('DELETE', path, o),
  };
}

export type Client = ReturnType<typeof createClient>;
