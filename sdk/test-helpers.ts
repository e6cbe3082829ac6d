// Test helpers for the SDK's own tests: a fetch that records what the SDK sent and fails on
// any response the sandbox flagged as violating the contract (`sl-violations`), and a small
// scripted node:http server for retry and timeout tests.
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { FetchLike } from './transport.ts';

export type SentRequest = { method: string; url: string; headers: Headers; body: string };

/** A fetch over globalThis.fetch that records requests and rejects contract violations. */
export function recordingFetch(): FetchLike & { sent: SentRequest[] } {
  const sent: SentRequest[] = [];
  const fetcher = async (request: Request) => {
    const body = request.body === null ? '' : await request.clone().text();
    sent.push({ method: request.method, url: request.url, headers: new Headers(request.headers), body });
    const response = await globalThis.fetch(request);
    const violations = response.headers.get('sl-violations');
    if (violations) throw new Error(`${request.method} ${new URL(request.url).pathname} → ${response.status} violates the contract: ${violations}`);
    return response;
  };
  return Object.assign(fetcher, { sent });
}

export type ScriptedRequest = { method: string; url: string; headers: IncomingMessage['headers']; body: string; at: number };
/** One scripted answer: status, headers and JSON body; or a function that answers by itself. */
export type Step =
  | { status: number; headers?: Record<string, string>; body?: unknown; delayMs?: number }
  | ((req: IncomingMessage, res: ServerResponse, body: string) => void);

/**
 * A loopback server answering each request with the next step of the script (the last step
 * repeats), recording every request with its arrival time.
 */
export async function scriptedServer(script: Step[]) {
  const requests: ScriptedRequest[] = [];
  let steps = [...script];
  const server = createServer((req, res) => {
    let body = '';
    req.setEncoding('utf8');
    req.on('data', (chunk: string) => (body += chunk));
    req.on('end', () => {
      requests.push({ method: req.method ?? '', url: req.url ?? '', headers: req.headers, body, at: performance.now() });
      const step = steps.length > 1 ? steps.shift()! : steps[0]!;
      if (typeof step === 'function') return step(req, res, body);
      const send = () => {
        const headers: Record<string, string> = { ...(step.headers ?? {}) };
        const text = step.body === undefined ? '' : JSON.stringify(step.body);
        if (text) headers['content-type'] ??= step.status >= 400 ? 'application/problem+json' : 'application/json';
        res.writeHead(step.status, headers).end(text);
      };
      if (step.delayMs) setTimeout(send, step.delayMs);
      else send();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    /** Replaces the script (and forgets the recorded requests). */
    reset(next: Step[]) {
      steps = [...next];
      requests.length = 0;
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** A problem+json body as the API sends it. */
export function problem(status: number, code: string, extra: Record<string, unknown> = {}) {
  return {
    type: `https://docs.pacspace.io/errors/${code}`,
    title: code,
    status,
    detail: `scripted ${code}`,
    code,
    requestId: `req_${status}`,
    ...extra,
  };
}
