// The raw HTTP client of the hardening tests: node:http with a keep-alive pool (one socket
// per "connection"), raw bodies as bytes, every header and the path exactly as sent (no URL
// normalization, unlike mock/testing's client, which suits the fuzz and load tests), and the
// response as text with its headers; or the same without a socket (createInProcessPool).
// Requests only ever go to the sandbox under test.
import { Agent, request } from 'node:http';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import type { IncomingRequest, OutgoingResponse } from '../../mock/app.ts';
import type { KeyEnvironment } from '../../mock/state/events.ts';
import { logRequest } from '../../mock/testing/op-log.ts';

export type RawResponse = { status: number; headers: Record<string, string>; setCookies: string[]; text: string; body: any };

export type RawRequest = { method: string; path: string; headers?: Record<string, string>; body?: string | Buffer };

export function createPool(baseUrl: string, connections: number) {
  const agent = new Agent({ keepAlive: true, maxSockets: connections, maxFreeSockets: connections });
  const base = new URL(baseUrl);
  const send = (r: RawRequest, timeoutMs = 15_000) =>
    new Promise<RawResponse>((resolve, reject) => {
      const headers: Record<string, string | number> = { ...(r.headers ?? {}) };
      if (r.body !== undefined && !Object.keys(headers).some((h) => h.toLowerCase() === 'content-length')) headers['content-length'] = Buffer.byteLength(r.body);
      // The path goes out exactly as given: no URL parsing, so no dot-segment removal or re-encoding.
      const req = request({ host: base.hostname, port: base.port, path: r.path, method: r.method, headers, agent }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          const out: Record<string, string> = {};
          for (const [k, v] of Object.entries(res.headers)) if (v !== undefined && k !== 'set-cookie') out[k] = Array.isArray(v) ? v.join(', ') : v;
          let body: unknown;
          try {
            body = text ? JSON.parse(text) : undefined;
          } catch {
            body = undefined;
          }
          logRequest(r.method, r.path, res.statusCode ?? 0);
          resolve({ status: res.statusCode ?? 0, headers: out, setCookies: res.headers['set-cookie'] ?? [], text, body });
        });
        res.on('error', reject);
      });
      req.setTimeout(timeoutMs, () => req.destroy(new Error(`timed out after ${timeoutMs} ms`)));
      req.on('error', reject);
      req.end(r.body);
    });
  return { send, close: () => agent.destroy() };
}

type Handle = (req: IncomingRequest) => Promise<OutgoingResponse>;

/**
 * The same `send` without a socket: each request handed to the app's `handle` as the listener
 * hands it (the header names lower case and values trimmed as Node's parser leaves them, Host,
 * Connection and Content-Length as node:http's client adds them, the path exactly as given),
 * the answer read as `createPool` reads it. For tests about the app's answers (fuzz), never
 * about the socket (load, limits).
 */
export function createInProcessPool(baseUrl: string, handle: Handle, environment: KeyEnvironment) {
  const base = new URL(baseUrl);
  const send = async (r: RawRequest): Promise<RawResponse> => {
    const headers: Record<string, string> = { host: base.host, connection: 'keep-alive' };
    for (const [k, v] of Object.entries(r.headers ?? {})) headers[k.toLowerCase()] = v.replace(/^[ \t]+|[ \t]+$/g, '');
    if (r.body !== undefined && headers['content-length'] === undefined) headers['content-length'] = String(Buffer.byteLength(r.body));
    const bytes = r.body === undefined ? undefined : Buffer.from(r.body);
    const out = await handle({ method: r.method.toUpperCase(), url: r.path, headers, body: bytes?.length ? bytes : undefined, environment, clientAddress: '127.0.0.1', localPort: Number(base.port) });
    const text = r.method.toUpperCase() === 'HEAD' ? '' : (out.body ?? '');
    const flat: Record<string, string> = {};
    for (const [k, v] of Object.entries(out.headers)) if (k !== 'set-cookie') flat[k] = Array.isArray(v) ? v.join(', ') : v;
    const setCookies = out.headers['set-cookie'] === undefined ? [] : ([] as string[]).concat(out.headers['set-cookie']);
    let body: unknown;
    try {
      body = text ? JSON.parse(text) : undefined;
    } catch {
      body = undefined;
    }
    logRequest(r.method, r.path, out.status);
    return { status: out.status, headers: flat, setCookies, text, body };
  };
  return { send, close: () => {} };
}

/** Runs `count` jobs with at most `concurrency` in flight, in index order. */
export async function runConcurrently(count: number, concurrency: number, job: (i: number) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < count) await job(next++);
    }),
  );
}

let gc: (() => void) | undefined;
/** Heap in use after full garbage collections (V8's gc exposed at run time). */
export function heapAfterGc(): number {
  if (!gc) {
    setFlagsFromString('--expose-gc');
    gc = runInNewContext('gc') as () => void;
  }
  for (let i = 0; i < 4; i++) gc();
  return process.memoryUsage().heapUsed;
}
