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

export async function listen(server: Server, host: string, port: number): Promise<number> {
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  return (server.address() as AddressInfo).port;
}
