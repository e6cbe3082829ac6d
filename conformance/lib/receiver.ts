// A webhook receiver the suite starts on --webhook-host (and --webhook-port): it keeps every
// delivery's raw body and headers and answers 200. Signatures are checked by the checks, with
// lib/signature.ts. With --webhook-url the target is given that public (tunnelled) URL
// instead, and the tunnel must forward it to this receiver; `probe()` proves it does.
import { randomBytes } from 'node:crypto';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { currentScope, describeNetworkError } from './http.ts';

export type Delivery = {
  headers: Record<string, string>;
  raw: string;
  body: any;
  receivedAt: number;
  /** The request target as received (path and query): tells apart endpoints registered with different query strings. */
  path: string;
  /** The status this receiver answered (0 while the answer is held). */
  answered: number;
};

/**
 * How the receiver answers one delivery: a status, or a status with headers (a redirect).
 * Refusals carry REFUSAL_BODY, which a target must never copy into what it lists.
 */
export type Answer = number | { status: number; headers?: Record<string, string> };
/** The body of every non-2xx answer of the receiver. */
export const REFUSAL_BODY = 'pacspace-conformance-receiver-refusal-7f3a';

export type ReceiverOptions = {
  /** Port to listen on (default 0: a free one). */
  port?: number;
  /** The URL to register with the target instead of http://host:port/… (a tunnel to this receiver). */
  publicUrl?: string;
  /** Multiplies the default delivery deadline. */
  timeoutScale?: number;
};

/** A request carrying this header is the suite's own tunnel probe, not a delivery. */
const PROBE_HEADER = 'x-pacspace-conformance-probe';

/** How long a delivery may take to arrive by default, before the scale. */
export const DELIVERY_TIMEOUT_MS = 30_000;

export async function startReceiver(host: string, options: ReceiverOptions = {}) {
  const deliveries: Delivery[] = [];
  const probes = new Set<string>();
  const waiters: Array<() => void> = [];
  /** Rules choosing a delivery's answer (the first that gives one wins); 200 otherwise. */
  const answerRules: Array<(d: Delivery) => Answer | Promise<Answer> | undefined> = [];
  const scale = options.timeoutScale ?? 1;
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const headers = Object.fromEntries(Object.entries(req.headers).map(([k, v]) => [k, Array.isArray(v) ? v.join(', ') : (v ?? '')]));
      if (headers[PROBE_HEADER]) {
        probes.add(headers[PROBE_HEADER]);
        res.writeHead(200).end();
        return;
      }
      const raw = Buffer.concat(chunks).toString('utf8');
      let body: unknown;
      try {
        body = JSON.parse(raw);
      } catch {
        body = undefined;
      }
      // Kept at once, before it is answered: a check may act while an answer is held.
      const delivery: Delivery = { headers, raw, body, receivedAt: Date.now(), path: req.url ?? '/', answered: 0 };
      deliveries.push(delivery);
      let chosen: Answer | Promise<Answer> = 200;
      for (const rule of answerRules) {
        const given = rule(delivery);
        if (given !== undefined) {
          chosen = given;
          break;
        }
      }
      for (const w of waiters.splice(0)) w();
      void Promise.resolve(chosen).then((answer) => {
        const status = typeof answer === 'number' ? answer : answer.status;
        delivery.answered = status;
        if (status >= 200 && status < 300) res.writeHead(status).end();
        else res.writeHead(status, { 'content-type': 'text/plain', ...(typeof answer === 'number' ? {} : answer.headers) }).end(REFUSAL_BODY);
      });
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', (e: NodeJS.ErrnoException) => reject(new Error(`the webhook receiver cannot listen on ${host}:${options.port ?? 0}: ${e.code ?? e.message}`)));
    server.listen(options.port ?? 0, host, resolve);
  });
  const { port } = server.address() as AddressInfo;
  const localUrl = `http://${host.includes(':') ? `[${host}]` : host}:${port}/pacspace-webhooks`;
  return {
    /** The URL registered with the target: --webhook-url, or the local one. */
    url: options.publicUrl ?? localUrl,
    /** Where the receiver listens. */
    localUrl,
    port,
    deliveries,
    /** Waits until a delivery matches, or fails after `timeoutMs` (30 s × --timeout-scale by default). */
    async waitFor(match: (d: Delivery) => boolean, timeoutMs = DELIVERY_TIMEOUT_MS * scale): Promise<Delivery> {
      const deadline = Date.now() + timeoutMs;
      const { signal } = currentScope();
      for (;;) {
        const found = deliveries.find(match);
        if (found) return found;
        if (signal.aborted) throw signal.reason;
        if (Date.now() > deadline) throw new Error(`no matching webhook delivery arrived within ${Math.round(timeoutMs / 1000)} s`);
        await new Promise<void>((resolve) => {
          waiters.push(resolve);
          setTimeout(resolve, 200);
        });
      }
    },
    /**
     * Answers matching deliveries otherwise than 200 (or holds the answer until the promise
     * settles) until the returned function is called.
     */
    answerWith(rule: (d: Delivery) => Answer | Promise<Answer> | undefined): () => void {
      answerRules.push(rule);
      return () => {
        const i = answerRules.indexOf(rule);
        if (i >= 0) answerRules.splice(i, 1);
      };
    },
    /**
     * Sends one request to the public URL and says whether it arrived here; undefined when it
     * did, otherwise why not. It is not a delivery and is not kept.
     */
    async probe(timeoutMs = 10_000 * scale): Promise<string | undefined> {
      if (!options.publicUrl) return undefined;
      const token = randomBytes(12).toString('hex');
      try {
        const res = await fetch(options.publicUrl, {
          method: 'POST',
          headers: { [PROBE_HEADER]: token, 'content-type': 'application/json' },
          body: '{}',
          redirect: 'manual',
          signal: AbortSignal.timeout(timeoutMs),
        });
        await res.arrayBuffer();
        if (probes.has(token)) return undefined;
        return `it answered ${res.status} but the request never reached the local receiver`;
      } catch (error) {
        return (error as Error).name === 'TimeoutError' ? `no answer within ${Math.round(timeoutMs / 1000)} s` : describeNetworkError(error);
      }
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        // A keep-alive connection of the target's delivery client must not hold the run open.
        server.closeAllConnections();
      }),
  };
}

export type Receiver = Awaited<ReturnType<typeof startReceiver>>;
