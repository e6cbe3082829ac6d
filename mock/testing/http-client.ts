// The one HTTP client for tests against a sandbox: a cookie jar like curl's -b/-c, and strict
// contract checking — any response the sandbox flagged with `sl-violations` (Prism's response
// validation) fails the test at once. Two transports, one behaviour:
//  - 'loopback': real requests over the listener's socket (fetch);
//  - 'in-process': the same request handed to the app's `handle` (mock/app.ts), as the listener
//    would hand it (method, URL as fetch sends it, the headers fetch adds, the body as bytes,
//    the listener's port and a loopback client address), and the answer turned into the same
//    TestResponse. For everything but the socket itself (listener limits, timeouts, connection
//    handling), which only 'loopback' tests.
import type { IncomingRequest, OutgoingResponse } from '../app.ts';
import type { KeyEnvironment } from '../state/events.ts';
import { logRequest } from './op-log.ts';

export type TestResponse = {
  status: number;
  headers: Headers;
  text: string;
  /** The parsed JSON body (undefined when there is none). */
  body: any;
  setCookies: string[];
};

export type RequestOptions = {
  headers?: Record<string, string>;
  /** Sent as JSON with content-type application/json. */
  json?: unknown;
  /** Sent as is (for malformed-body tests). */
  raw?: string | Buffer;
  /** Do not send the cookie jar. */
  noCookies?: boolean;
};

export type Transport = 'loopback' | 'in-process';

export type InProcess = {
  handle: (req: IncomingRequest) => Promise<OutgoingResponse>;
  /** Which listener the base URL stands for: production ('live') or sandbox ('test'). */
  environment: KeyEnvironment;
};

/** The headers undici's fetch adds to every request unless the caller sets them. */
const FETCH_DEFAULTS: Record<string, string> = {
  accept: '*/*',
  'accept-language': '*',
  'sec-fetch-mode': 'cors',
  'user-agent': 'node',
  'accept-encoding': 'gzip, deflate',
};

/** What `fetch(url, { method, headers, body })` would get back, without a socket. */
async function inProcessFetch(app: InProcess, url: URL, method: string, headers: Record<string, string>, body: string | Buffer | undefined) {
  const sent: Record<string, string> = { ...FETCH_DEFAULTS, host: url.host };
  for (const [k, v] of Object.entries(headers)) sent[k.toLowerCase()] = v;
  const bytes = body === undefined ? undefined : Buffer.from(body);
  if (bytes !== undefined) sent['content-length'] = String(bytes.length);
  if (bytes !== undefined && sent['content-type'] === undefined && typeof body === 'string') sent['content-type'] = 'text/plain;charset=UTF-8';
  const out = await app.handle({
    method,
    url: `${url.pathname}${url.search}`,
    headers: sent,
    body: bytes?.length ? bytes : undefined,
    environment: app.environment,
    clientAddress: '127.0.0.1',
    localPort: Number(url.port),
  });
  const responseHeaders = new Headers();
  for (const [k, v] of Object.entries(out.headers)) {
    for (const value of Array.isArray(v) ? v : [v]) responseHeaders.append(k, value);
  }
  const text = method.toUpperCase() === 'HEAD' ? '' : (out.body ?? '');
  return { status: out.status, headers: responseHeaders, text };
}

export function createHttpClient(baseUrl: string, inProcess?: InProcess) {
  const jar = new Map<string, string>();

  async function request(method: string, path: string, options: RequestOptions = {}): Promise<TestResponse> {
    const headers: Record<string, string> = { ...(options.headers ?? {}) };
    let body: string | Buffer | undefined;
    if (options.json !== undefined) {
      body = JSON.stringify(options.json);
      headers['content-type'] ??= 'application/json';
    } else if (options.raw !== undefined) {
      body = options.raw;
    }
    if (!options.noCookies && jar.size && !('cookie' in headers)) {
      headers.cookie = [...jar].map(([k, v]) => `${k}=${v}`).join('; ');
    }
    const url = new URL(`${baseUrl}${path}`);
    let status: number;
    let responseHeaders: Headers;
    let text: string;
    if (inProcess) {
      ({ status, headers: responseHeaders, text } = await inProcessFetch(inProcess, url, method, headers, body));
    } else {
      const res = await loopbackFetch(url, { method, headers, body });
      text = await res.text();
      status = res.status;
      responseHeaders = res.headers;
    }
    logRequest(method, `${url.pathname}${url.search}`, status);
    const setCookies = responseHeaders.getSetCookie();
    for (const cookie of setCookies) {
      const [pair, ...attrs] = cookie.split(';');
      const i = pair!.indexOf('=');
      const name = pair!.slice(0, i).trim();
      const value = pair!.slice(i + 1).trim();
      if (attrs.some((a) => /^\s*max-age=0\s*$/i.test(a)) || value === '') jar.delete(name);
      else jar.set(name, value);
    }
    const violations = responseHeaders.get('sl-violations');
    if (violations) {
      throw new Error(`${method} ${path} → ${status} violates the contract: ${violations}\n${text}`);
    }
    let parsed: unknown;
    try {
      parsed = text ? JSON.parse(text) : undefined;
    } catch {
      parsed = undefined;
    }
    return { status, headers: responseHeaders, text, body: parsed, setCookies };
  }

  return {
    baseUrl,
    jar,
    /** 'in-process' (the app's handle) or 'loopback' (the listener's socket). */
    transport: (inProcess ? 'in-process' : 'loopback') as Transport,
    request,
    get: (path: string, o?: RequestOptions) => request('GET', path, o),
    post: (path: string, o?: RequestOptions) => request('POST', path, o),
    patch: (path: string, o?: RequestOptions) => request('PATCH', path, o),
    delete: (path: string, o?: RequestOptions) => request('DELETE', path, o),
  };
}

export type HttpClient = ReturnType<typeof createHttpClient>;

/**
 * fetch over loopback, sent once more when a kept-alive connection turns out to be closed under
 * it. The test process is also the server: a long synchronous step (loading Prism on a first
 * refusal, on a loaded machine) lets the server's keep-alive timer close a connection the
 * client has just reused, a race any keep-alive client has, not an answer. The sandbox never
 * resets a connection it has read a request from (chaos aside, which its own tests drive
 * through the SDK and raw sockets).
 */
async function loopbackFetch(url: URL, init: RequestInit): Promise<Response> {
  // A deadline well inside a test's own: a request the sandbox never answers fails with its
  // URL, not as a test that timed out without saying where.
  const send = () => fetch(url, { ...init, signal: AbortSignal.timeout(LOOPBACK_DEADLINE_MS) });
  try {
    return await send();
  } catch (error) {
    const code = (error as { cause?: { code?: string } }).cause?.code;
    if ((error as Error).name === 'TimeoutError') throw new Error(`${init.method} ${url.pathname}: no answer within ${LOOPBACK_DEADLINE_MS} ms`, { cause: error });
    if (code !== 'ECONNRESET' && code !== 'UND_ERR_SOCKET') throw error;
    return send();
  }
}

const LOOPBACK_DEADLINE_MS = 30_000;
