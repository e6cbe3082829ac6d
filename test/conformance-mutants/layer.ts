// The mutant layer: a reverse proxy on 127.0.0.1 in front of a sandbox's two listeners, plus a
// relay for the webhook deliveries it sends. With no mutant in place it is transparent (the
// clean run goes through it and must pass); with one, every exchange and delivery passes
// through the mutant's hooks. It knows nothing of the sandbox's code: only its URLs.
//
// URLs are rewritten both ways like any reverse proxy does: upstream base URLs in response
// bodies and Location become the layer's, and webhook endpoint URLs a client registers are
// replaced by relay URLs (and shown back to the client as registered), so deliveries pass
// through the layer on their way to the client's receiver.
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Delivery, HeaderMap, Listener, Mutant, MutantContext, ProxiedRequest, ProxiedResponse, Variation } from './mutant.ts';

class StaleSocket extends Error {}

const HOP_BY_HOP = new Set(['connection', 'keep-alive', 'proxy-connection', 'transfer-encoding', 'upgrade', 'te', 'trailer', 'content-length', 'host']);

const cleanHeaders = (headers: http.IncomingHttpHeaders): HeaderMap => {
  const out: HeaderMap = {};
  for (const [k, v] of Object.entries(headers)) if (v !== undefined && !HOP_BY_HOP.has(k)) out[k] = v;
  return out;
};

async function readBody(req: http.IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const c of req) chunks.push(c as Buffer);
  return Buffer.concat(chunks);
}

async function listen(server: http.Server): Promise<string> {
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

const isJson = (headers: HeaderMap) => /json/i.test(String(headers['content-type'] ?? ''));

/** Replaces every string in a JSON value for which `rewrite` gives another. */
function rewriteStrings(value: unknown, rewrite: (s: string) => string): unknown {
  if (typeof value === 'string') return rewrite(value);
  if (Array.isArray(value)) return value.map((v) => rewriteStrings(v, rewrite));
  if (value && typeof value === 'object') return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, rewriteStrings(v, rewrite)]));
  return value;
}

function rewriteJsonBody<T extends { headers: HeaderMap; body: Buffer }>(m: T, rewrite: (s: string) => string): T {
  if (!m.body.length || !isJson(m.headers)) return m;
  let parsed: unknown;
  try {
    parsed = JSON.parse(m.body.toString('utf8'));
  } catch {
    return m;
  }
  const text = JSON.stringify(rewriteStrings(parsed, rewrite));
  // Untouched bodies go through byte for byte (member order, spacing and all).
  return text === JSON.stringify(parsed) ? m : { ...m, body: Buffer.from(text) };
}

export type MutantLayer = {
  productionUrl: string;
  sandboxUrl: string;
  /** Puts a mutant or variation in place (undefined: transparent); clears its memory. */
  use(mutant: Mutant | Variation | undefined): void;
  close(): Promise<void>;
};

export async function startMutantLayer(upstream: Record<Listener, string>): Promise<MutantLayer> {
  // Idle sockets are dropped after 4 s, before the sandbox's 5 s keep-alive timeout closes them
  // from its side (a socket reused just as the server closes it fails; see StaleSocket).
  const agent = new http.Agent({ keepAlive: true, maxSockets: 64, timeout: 4_000 });
  let current: Mutant | Variation | undefined;
  let memory = new Map<string, any>();
  const urls = { production: '', sandbox: '', relay: '' };

  const relayPrefix = () => `${urls.relay}/relay/`;
  /** Client view → upstream view: registered webhook URLs go through the relay. */
  // Only receivers on this machine (loopback URLs) are relayed: any other URL (a private or
  // link-local address a check expects to be refused) reaches the sandbox as the client wrote it.
  const isLocalReceiver = (s: string) => /^https?:\/\/(127\.0\.0\.1|localhost)(:\d+)?([/?]|$)/.test(s);
  const toUpstream = (s: string) => (isLocalReceiver(s) && !s.startsWith(relayPrefix()) && !s.startsWith(urls.production) && !s.startsWith(urls.sandbox) ? `${relayPrefix()}${encodeURIComponent(s)}` : s);
  /** Upstream view → client view: relay URLs back to what was registered, upstream bases to ours. */
  const toClient = (s: string) => {
    if (s.startsWith(relayPrefix())) return decodeURIComponent(s.slice(relayPrefix().length));
    if (s.startsWith(upstream.production)) return urls.production + s.slice(upstream.production.length);
    if (s.startsWith(upstream.sandbox)) return urls.sandbox + s.slice(upstream.sandbox.length);
    return s;
  };

  async function forward(req: ProxiedRequest): Promise<ProxiedResponse> {
    const isWebhookWrite = /^\/dashboard\/webhooks/.test(req.url) && (req.method === 'POST' || req.method === 'PATCH' || req.method === 'PUT');
    const sent = isWebhookWrite ? rewriteJsonBody(req, toUpstream) : req;
    const target = new URL(sent.url, upstream[sent.listener]);
    const send = () =>
      new Promise<ProxiedResponse>((resolve, reject) => {
        const out = http.request(target, { method: sent.method, headers: { ...sent.headers, 'content-length': String(sent.body.length) }, agent }, (r) => {
          readBody(r).then((body) => resolve({ status: r.statusCode ?? 502, headers: cleanHeaders(r.headers), body }), reject);
        });
        // A kept-alive socket the server closed just as it was reused fails before the request
        // reached the server (Node's documented race): that one is sent again, on a new socket.
        out.on('error', (error: NodeJS.ErrnoException) => reject(out.reusedSocket && (error.code === 'ECONNRESET' || error.code === 'EPIPE') ? new StaleSocket() : error));
        out.end(sent.body);
      });
    const res = await send().catch((error) => (error instanceof StaleSocket ? send() : Promise.reject(error)));
    const location = res.headers.location;
    const headers = typeof location === 'string' ? { ...res.headers, location: toClient(location) } : res.headers;
    return rewriteJsonBody({ ...res, headers }, toClient);
  }

  const context = (): MutantContext => ({ memory, forward });

  const serve = (listener: Listener) =>
    http.createServer(async (req, res) => {
      try {
        const request: ProxiedRequest = { listener, method: req.method ?? 'GET', url: req.url ?? '/', headers: cleanHeaders(req.headers), body: await readBody(req) };
        const mutant = current;
        const response = mutant?.exchange ? await mutant.exchange(request, forward, context()) : await forward(request);
        res.writeHead(response.status, { ...response.headers, 'content-length': String(response.body.length) });
        res.end(response.body);
      } catch (error) {
        // A layer failure must be visible as one, never as a server's answer (and say why).
        console.error(`[mutant layer] ${req.method} ${req.url}: ${(error as Error)?.stack ?? error}`);
        const body = JSON.stringify({ type: 'about:blank', title: 'mutant layer error', status: 502, detail: String((error as Error)?.message ?? error) });
        if (!res.headersSent) res.writeHead(502, { 'content-type': 'application/problem+json', 'content-length': String(Buffer.byteLength(body)) });
        res.end(body);
      }
    });

  async function send(d: Delivery): Promise<number> {
    try {
      const res = await fetch(d.url, { method: 'POST', headers: d.headers as Record<string, string>, body: new Uint8Array(d.body), redirect: 'manual', signal: AbortSignal.timeout(5_000) });
      await res.arrayBuffer();
      return res.status;
    } catch {
      return 502;
    }
  }

  const relay = http.createServer(async (req, res) => {
    const body = await readBody(req);
    const prefix = '/relay/';
    const url = req.url?.startsWith(prefix) ? decodeURIComponent(req.url.slice(prefix.length)) : '';
    let status = 404;
    if (url) {
      const delivery: Delivery = { url, headers: cleanHeaders(req.headers), body };
      const mutant = current;
      status = mutant?.delivery ? await mutant.delivery(delivery, send, context()) : await send(delivery);
    }
    res.writeHead(status, { 'content-length': '0' });
    res.end();
  });

  const servers = { production: serve('production'), sandbox: serve('sandbox'), relay };
  urls.production = await listen(servers.production);
  urls.sandbox = await listen(servers.sandbox);
  urls.relay = await listen(servers.relay);

  return {
    productionUrl: urls.production,
    sandboxUrl: urls.sandbox,
    use(mutant) {
      current = mutant;
      memory = new Map();
    },
    async close() {
      agent.destroy();
      await Promise.all(
        Object.values(servers).map(
          (s) =>
            new Promise<void>((resolve) => {
              s.close(() => resolve());
              s.closeAllConnections();
            }),
        ),
      );
    },
  };
}
