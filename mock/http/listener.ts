// One node:http server per environment. It reads at most the app's body limit (MAX_BODY_BYTES) + 1 bytes of a body
// (so an oversized upload is refused without being buffered), hands the request to the app
// and writes its answer. A broken connection or a handler bug never takes the process down.
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { MAX_BODY_BYTES, type IncomingRequest, type OutgoingResponse } from '../app.ts';
import type { Logger } from '../logger.ts';
import type { KeyEnvironment } from '../state/events.ts';

type Handle = (req: IncomingRequest) => Promise<OutgoingResponse>;

function readBody(req: IncomingMessage, maxBytes: number): Promise<IncomingRequest['body']> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    // A declared length past the limit is refused at once (and the connection closed);
    // past the limit in a chunked upload, the rest is read and discarded, never buffered,
    // so the client gets its 413 instead of a reset connection.
    if (Number(req.headers['content-length'] ?? 0) > maxBytes) {
      resolve('too-large');
      return;
    }
    let oversized = false;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > maxBytes) oversized = true;
      if (!oversized) chunks.push(chunk);
    });
    req.on('end', () => resolve(oversized ? 'too-large' : size ? Buffer.concat(chunks) : undefined));
    req.on('error', reject);
  });
}

export function createListener(environment: KeyEnvironment, handle: Handle, log?: Logger, maxBodyBytes: () => number = () => MAX_BODY_BYTES): Server {
  const server = createServer(async (req, res) => {
    const started = performance.now();
    try {
      const body = await readBody(req, maxBodyBytes());
      const out = await handle({
        method: req.method ?? 'GET',
        url: req.url ?? '/',
        headers: req.headers,
        body,
        environment,
        clientAddress: req.socket.remoteAddress ?? 'unknown',
        localPort: req.socket.localPort,
      });
      const unread = body === 'too-large' && !req.readableEnded;
      res.writeHead(out.status, unread ? { ...out.headers, connection: 'close' } : out.headers);
      res.end(out.body);
      if (unread) res.on('finish', () => req.destroy());
      // Path only: query strings can carry tokens.
      log?.debug(`${environment} ${req.method} ${(req.url ?? '/').split('?')[0]} ${out.status} ${(performance.now() - started).toFixed(1)}ms ${out.headers['x-request-id'] ?? ''}`);
    } catch {
      if (!res.headersSent) res.writeHead(400, { 'content-type': 'text/plain' });
      res.end();
    }
  });
  server.on('clientError', (_err, socket) => {
    if (socket.writable) socket.end('HTTP/1.1 400 Bad Request\r\nConnection: close\r\n\r\n');
  });
  server.keepAliveTimeout = 5_000;
  return server;
}

/** A TCP port a listener may be given: 0 (a free one, chosen by the system) to 65535. */
export const isPort = (port: number) => Number.isInteger(port) && port >= 0 && port <= 65_535;

/** Which of the sandbox's two listeners: production (Dashboard API, pk_live_ keys) or sandbox (pk_test_ keys). */
export type ListenerName = 'production' | 'sandbox';

/**
 * A listener could not bind: which one, where, and the system's reason (`code`: EADDRINUSE,
 * EACCES, EADDRNOTAVAIL, ENOTFOUND, …). The message says it in words, without a stack's worth of
 * detail, so a command line can print it as it is.
 */
export class ListenError extends Error {
  override readonly name = 'ListenError';
  readonly listener: ListenerName;
  readonly host: string;
  readonly port: number;
  readonly code: string | undefined;

  constructor(listener: ListenerName, host: string, port: number, cause: NodeJS.ErrnoException) {
    const address = hostPort(host, port);
    const reasons: Record<string, string> = {
      EADDRINUSE: `${address} is already in use`,
      EACCES: `no permission to listen on ${address}`,
      EADDRNOTAVAIL: `cannot listen on ${address}: the address is not available on this machine`,
      ENOTFOUND: `cannot listen on ${address}: the host name does not resolve`,
      EAI_AGAIN: `cannot listen on ${address}: the host name could not be resolved now`,
    };
    super((cause.code && reasons[cause.code]) ?? `cannot listen on ${address}: ${cause.message}`, { cause });
    this.listener = listener;
    this.host = host;
    this.port = port;
    this.code = cause.code;
  }
}

/** `host:port`, with an IPv6 literal in brackets. */
const hostPort = (host: string, port: number) => (host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`);

/** Binds `server`; resolves to the port it got (a free one for 0), or rejects with a ListenError. */
export async function listen(server: Server, host: string, port: number, listener: ListenerName): Promise<number> {
  await new Promise<void>((resolve, reject) => {
    const failed = (error: NodeJS.ErrnoException) => reject(new ListenError(listener, host, port, error));
    server.once('error', failed);
    server.listen(port, host, () => {
      server.off('error', failed);
      resolve();
    });
  });
  return (server.address() as AddressInfo).port;
}
