// One webhook delivery attempt on the wire: a POST over node:http(s) on a fresh connection,
// whose address is checked after DNS resolution by the lookup the connection itself uses
// (mock/webhooks/self-target.ts), so a name can never be resolved one way for the check and
// another for the connection. Redirects are not followed: a 3xx is the answer. The answer's
// body is read (at most `maxResponseBytes`) and thrown away.
import { request as httpRequest, type IncomingMessage } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { isIP } from 'node:net';
import { bareHost, checkAddress, ownTargetLookup, portOf, type Lookup } from './self-target.ts';

export type PostOptions = {
  headers: Record<string, string>;
  body: string;
  /** Aborts the attempt (timeout, shutdown): the promise rejects with the signal's reason. */
  signal: AbortSignal;
  /** The sandbox's own listener ports, never connected to on this machine. */
  ownPorts: () => readonly number[];
  maxResponseBytes: number;
  /** Replaces dns.lookup (tests). */
  resolve?: Lookup;
};

/** Sends the POST; resolves to the answer's status, or rejects (a SelfTargetError before anything is sent). */
export async function postWebhook(url: string, options: PostOptions): Promise<number> {
  const target = new URL(url);
  const host = bareHost(target);
  const port = portOf(target);
  checkAddress(host, port, options.ownPorts());
  const { signal } = options;
  if (signal.aborted) throw signal.reason;
  const send = target.protocol === 'https:' ? httpsRequest : httpRequest;
  return new Promise<number>((resolve, reject) => {
    let settled = false;
    /** Known once the answer's head arrived: from then on, the body cannot change the outcome. */
    let status: number | undefined;
    const finish = (error: unknown, status?: number) => {
      if (settled) return;
      settled = true;
      signal.removeEventListener('abort', onAbort);
      if (error === undefined) resolve(status!);
      else reject(error);
    };
    const request = send({
      method: 'POST',
      host,
      port,
      path: `${target.pathname}${target.search}`,
      headers: { ...options.headers, Host: target.host, 'Content-Length': String(Buffer.byteLength(options.body)) },
      // A fresh connection for every attempt: its address is checked by this lookup (names only;
      // an IP literal was checked above), and nothing is pooled across endpoints.
      agent: false,
      ...(isIP(host) ? {} : { lookup: ownTargetLookup(port, options.ownPorts, options.resolve) }),
    });
    const onAbort = () => {
      request.destroy();
      finish(status === undefined ? signal.reason : undefined, status);
    };
    signal.addEventListener('abort', onAbort, { once: true });
    request.on('error', (error) => finish(status === undefined ? error : undefined, status));
    request.on('response', (response: IncomingMessage) => {
      status = response.statusCode ?? 0;
      let read = 0;
      const done = () => {
        finish(undefined, status);
        request.destroy();
      };
      response.on('data', (chunk: Buffer) => {
        read += chunk.length;
        if (read >= options.maxResponseBytes) done();
      });
      response.on('end', done);
      // The status decided the attempt; an unreadable body does not change it.
      response.on('error', done);
      response.on('aborted', done);
    });
    request.end(options.body);
  });
}
