// One node:http server per environment. It reads at most the app's body limit (MAX_BODY_BYTES) + 1 bytes of a body
// (so an oversized upload is refused without being buffered), hands the request to the app
// and writes its answer. A broken connection or a handler bug never takes the process down.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { MAX_BODY_BYTES, type IncomingRequest, type OutgoingResponse } from '../app.ts';
import type { Logger } from '../logger.ts';
import type { KeyEnvironment } from '../state/events.ts';

type Handle = (req: IncomingRequest) => Promise<OutgoingResponse>;

/**
 * What one client may hold of a listener. A client that sends its headers a byte at a time, or
 * never finishes its request, or opens connection after connection, would otherwise keep them
 * (and their buffers) forever.
 */
export type ListenerLimits = {
  /** Time to receive a request's headers; past it the client is answered `408` and disconnected. Default 10,000 ms. */
  headersTimeoutMs?: number;
  /** Time to receive a whole request, headers and body; past it the same. Default 30,000 ms; at least `headersTimeoutMs`. */
  requestTimeoutMs?: number;
  /** How long an idle keep-alive connection stays open. Default 5,000 ms. */
  keepAliveTimeoutMs?: number;
  /** Connections one client address may have open to a listener at once; one more is reset at once, unanswered. Default 256. */
  maxConnectionsPerClient?: number;
};

export const LISTENER_DEFAULTS = { headersTimeoutMs: 10_000, requestTimeoutMs: 30_000, keepAliveTimeoutMs: 5_000, maxConnectionsPerClient: 256 } as const;

/** The limits with their defaults, or a RangeError naming the bad one. */
export function listenerLimits(limits: ListenerLimits = {}): Required<ListenerLimits> {
  if (typeof limits !== 'object' || limits === null) throw new RangeError('connections must be an object');
  const out = { ...LISTENER_DEFAULTS, ...Object.fromEntries(Object.entries(limits).filter(([, v]) => v !== undefined)) } as Required<ListenerLimits>;
  for (const [name, value] of Object.entries(out)) {
    if (!(Number.isInteger(value) && value >= 1 && value <= 2_147_483_647)) throw new RangeError(`connections.${name} must be a whole number of at least 1, got ${value}`);
  }
  if (out.headersTimeoutMs > out.requestTimeoutMs) {
    throw new RangeError(`connections.headersTimeoutMs (${out.headersTimeoutMs}) must not exceed connections.requestTimeoutMs (${out.requestTimeoutMs})`);
  }
  return out;
}

/** A request that declares no body (no Content-Length, or 0, and no Transfer-Encoding). */
function hasNoBody(req: IncomingMessage): boolean {
  const length = req.headers['content-length'];
  return (length === undefined || length === '0') && req.headers['transfer-encoding'] === undefined;
}

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

export function createListener(
  environment: KeyEnvironment,
  handle: Handle,
  log?: Logger,
  maxBodyBytes: number = MAX_BODY_BYTES,
  limits: ListenerLimits = {},
): Server {
  const { headersTimeoutMs, requestTimeoutMs, keepAliveTimeoutMs, maxConnectionsPerClient } = listenerLimits(limits);
  const options = {
    headersTimeout: headersTimeoutMs,
    requestTimeout: requestTimeoutMs,
    keepAliveTimeout: keepAliveTimeoutMs,
    // Node looks for expired headers and requests this often (default every 30 s, which would let
    // a header-dripping client stay that much longer than headersTimeout).
    connectionsCheckingInterval: Math.min(1_000, Math.max(50, Math.floor(headersTimeoutMs / 4))),
  };
  /** The app's answer written: status, headers with the body's length, body (or the chaos asked for). */
  async function answer(req: IncomingMessage, res: ServerResponse, body: IncomingRequest['body'], started: number): Promise<void> {
    const out = await handle({
      method: req.method ?? 'GET',
      url: req.url ?? '/',
      headers: req.headers,
      body,
      environment,
      clientAddress: req.socket.remoteAddress ?? 'unknown',
      localPort: req.socket.localPort,
    });
    // Chaos (an integrator asked for it): reset the connection, or never answer.
    if (out.abort === 'reset') return void req.socket.resetAndDestroy();
    if (out.abort === 'hang') return;
    const unread = body === 'too-large' && !req.readableEnded;
    // As a flat list (no copy of the app's header map, which the inspector keeps as answered),
    // with a known length: without it Node frames the body in chunks, which costs more writes and bytes.
    const headers: Array<string | string[]> = [];
    for (const name of Object.keys(out.headers)) {
      // Ours replace the app's own (as the spread they stand for did).
      if ((name === 'content-length' && out.body !== undefined) || (name === 'connection' && unread)) continue;
      headers.push(name, out.headers[name]!);
    }
    if (out.body !== undefined) headers.push('content-length', String(Buffer.byteLength(out.body)));
    if (unread) headers.push('connection', 'close');
    res.writeHead(out.status, headers as string[]);
    res.end(out.body);
    if (unread) res.on('finish', () => req.destroy());
    // Path only: query strings can carry tokens.
    log?.debug(`${environment} ${req.method} ${(req.url ?? '/').split('?')[0]} ${out.status} ${(performance.now() - started).toFixed(1)}ms ${out.headers['x-request-id'] ?? ''}`);
  }

  function failed(res: ServerResponse): void {
    if (!res.headersSent) res.writeHead(400, { 'content-type': 'text/plain' });
    res.end();
  }

  const server = createServer(options, (req, res) => {
    const started = log ? performance.now() : 0;
    // Without Content-Length or Transfer-Encoding a request has no body (RFC 9112 §6.3): nothing to wait for.
    const body = hasNoBody(req) ? undefined : readBody(req, maxBodyBytes);
    if (body === undefined) answer(req, res, undefined, started).catch(() => failed(res));
    else body.then((read) => answer(req, res, read, started)).catch(() => failed(res));
  });
  server.on('clientError', (err: NodeJS.ErrnoException, socket) => {
    // Headers or a request not received in time (headersTimeout, requestTimeout): 408, closed.
    const status = err.code === 'ERR_HTTP_REQUEST_TIMEOUT' ? '408 Request Timeout' : '400 Bad Request';
    if (socket.writable) socket.end(`HTTP/1.1 ${status}\r\nConnection: close\r\n\r\n`, () => socket.destroy());
    else socket.destroy();
  });
  // At most maxConnectionsPerClient open connections per client address; one more is reset
  // (TCP RST) before anything is read from it: no request was read, so there is nothing to
  // answer, and a reset fails the client at once (after a plain close, Node's fetch waits).
  const open = new Map<string, number>();
  server.on('connection', (socket: Socket) => {
    const client = socket.remoteAddress ?? 'unknown';
    const count = open.get(client) ?? 0;
    if (count >= maxConnectionsPerClient) {
      socket.resetAndDestroy();
      return;
    }
    open.set(client, count + 1);
    socket.once('close', () => {
      const left = (open.get(client) ?? 1) - 1;
      if (left > 0) open.set(client, left);
      else open.delete(client);
    });
  });
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
