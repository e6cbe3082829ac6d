// Second set of legal variations, written apart from variations.ts (and after the suite was
// built): servers that differ from the sandbox only in ways HTTP and the contract allow. `npm
// test` runs them all at once (variations.ts `edge-and-formats`); one alone:
//   npx tsx test/conformance-mutants/run.ts --variations v2-utc-offset-times
// (Connection: close and chunked transfer coding are hop-by-hop: the layer owns them, so they are
// not expressible here.)
import { createHmac } from 'node:crypto';
import { eachObject, header, isOperation, json, mapJson, setCookies, withHeaders, type Delivery, type MutantContext, type ProxiedRequest, type ProxiedResponse, type Variation } from './mutant.ts';

const isProblem = (res: ProxiedResponse) => /problem\+json/i.test(header(res, 'content-type') ?? '');
const isJson = (res: ProxiedResponse) => /json/i.test(header(res, 'content-type') ?? '');
const base62 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';
let counter = 0;

const hmac = (secret: string, msg: string) => createHmac('sha256', Buffer.from(secret, 'utf8')).update(msg, 'utf8').digest('hex');
function rememberSecrets(req: ProxiedRequest, res: ProxiedResponse, ctx: MutantContext) {
  if (!isOperation(req, 'createWebhookEndpoint', 'rotateWebhookSecret')) return;
  const secret = json(res)?.data?.secret;
  if (typeof secret === 'string') ctx.memory.set('secrets', [...(ctx.memory.get('secrets') ?? []), secret]);
}
function resign(d: Delivery, ctx: MutantContext, raw: string): Delivery {
  const ts = String(header(d, 'x-pacspace-timestamp') ?? '');
  const old = d.body.toString('utf8');
  const secrets: string[] = ctx.memory.get('secrets') ?? [];
  const sigs = String(header(d, 'x-pacspace-signature') ?? '').split(',').map((s) => s.trim().replace(/^v1=/, ''));
  const used = sigs.map((sig) => secrets.find((s) => hmac(s, `${ts}.${old}`) === sig));
  if (used.some((s) => !s)) return d; // a secret this layer never saw: leave the delivery as it is
  return { ...withHeaders(d, { 'x-pacspace-signature': used.map((s) => `v1=${hmac(s!, `${ts}.${raw}`)}`).join(',') }), body: Buffer.from(raw) };
}

// RFC 3339 allows "+00:00" for UTC as well as "Z"; every date-time the server writes uses it,
// except a receipt's createdAt, which is part of its leaf (the server would hash what it shows).
const UTC_Z = /^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:\.\d+)?)Z$/;
function offsetTimes(value: unknown) {
  eachObject(value, (o) => {
    const metadata = o.metadata;
    for (const [k, v] of Object.entries(o)) {
      if (typeof v !== 'string' || !UTC_Z.test(v)) continue;
      if (k === 'createdAt' && 'leafHash' in o) continue;
      if (o === metadata) continue;
      o[k] = v.replace(UTC_Z, '$1+00:00');
    }
  });
  // Client data is echoed as sent: undo any rewrite inside metadata.
}

export const moreVariations: Variation[] = [
  {
    id: 'v2-problem-instance',
    description: 'Every problem carries RFC 9457 `instance`: the path of the request (a member the Problem schema defines).',
    async exchange(req, next) {
      const res = await next(req);
      return isProblem(res) ? mapJson(res, (p) => { if (p && typeof p === 'object') p.instance = req.url.split('?')[0]; }) : res;
    },
  },
  {
    id: 'v2-long-request-ids',
    description: 'Request ids are req_ and 64 base62 characters (the pattern allows 8 to 64), the same in the header and the problem body.',
    async exchange(req, next) {
      const res = await next(req);
      let n = ++counter;
      let tail = '';
      for (let i = 0; i < 64; i++) { tail += base62[(n * 31 + i * 7 + (n >> (i % 8))) % 62]; n = (n * 1103515245 + 12345) >>> 0; }
      const id = `req_${tail}`;
      const out = withHeaders(res, { 'x-request-id': id });
      return isProblem(res) ? mapJson(out, (p) => { if (p && typeof p === 'object' && 'requestId' in p) p.requestId = id; }) : out;
    },
  },
  {
    id: 'v2-edge-headers',
    description: 'An edge in front adds Date, Via, Vary: Origin, a weak ETag, Strict-Transport-Security, Cache-Control: no-store and RateLimit-* headers on every response.',
    async exchange(req, next) {
      const res = await next(req);
      return withHeaders(res, {
        date: new Date().toUTCString(),
        via: '1.1 edge-fra-3',
        vary: [header(res, 'vary'), 'Origin'].filter(Boolean).join(', '),
        etag: `W/"${(++counter).toString(16)}"`,
        'strict-transport-security': 'max-age=63072000; includeSubDomains',
        'cache-control': 'no-store',
        ...(res.status === 429 ? {} : { 'ratelimit-limit': '1000', 'ratelimit-remaining': '999', 'ratelimit-reset': '1' }),
      });
    },
  },
  {
    id: 'v2-load-balancer-cookie',
    description: 'A load balancer adds its own affinity cookie (not a session cookie) to every response.',
    async exchange(req, next) {
      const res = await next(req);
      return withHeaders(res, { 'set-cookie': [...setCookies(res), 'AWSALB=node7; Path=/; Max-Age=604800; Secure; SameSite=None'] });
    },
  },
  {
    id: 'v2-utc-offset-times',
    description: 'Every date-time is written with "+00:00" instead of "Z" (RFC 3339 §5.6), in the API and in webhook payloads (signed as sent), except a receipt\'s leaf-hashed createdAt.',
    async exchange(req, next, ctx) {
      const res = await next(req);
      rememberSecrets(req, res, ctx);
      if (!isJson(res)) return res;
      return mapJson(res, (b) => {
        const saved: Array<[Record<string, any>, Record<string, any>]> = [];
        eachObject(b, (o) => { if (o.metadata && typeof o.metadata === 'object') saved.push([o, JSON.parse(JSON.stringify(o.metadata))]); });
        offsetTimes(b);
        for (const [o, m] of saved) o.metadata = m;
      });
    },
    async delivery(d, send, ctx) {
      const b = json(d);
      if (!b) return send(d);
      const saved: Array<[Record<string, any>, Record<string, any>]> = [];
      eachObject(b, (o) => { if (o.metadata && typeof o.metadata === 'object') saved.push([o, JSON.parse(JSON.stringify(o.metadata))]); });
      offsetTimes(b);
      for (const [o, m] of saved) o.metadata = m;
      return send(resign(d, ctx, JSON.stringify(b)));
    },
  },
  {
    id: 'v2-cookie-expires',
    description: 'Session cookies carry an Expires attribute agreeing with their Max-Age (RFC 6265 §5.3: Max-Age takes precedence), 1970 for the cleared ones.',
    async exchange(req, next) {
      const res = await next(req);
      const lines = setCookies(res);
      if (!lines.length) return res;
      return withHeaders(res, {
        'set-cookie': lines.map((l) => {
          const age = /;\s*Max-Age=(\d+)/i.exec(l)?.[1];
          if (age === undefined || /;\s*Expires=/i.test(l)) return l;
          const at = Number(age) === 0 ? new Date(0) : new Date(Date.now() + Number(age) * 1000);
          return `${l}; Expires=${at.toUTCString()}`;
        }),
      });
    },
  },
  {
    id: 'v2-location-on-create',
    description: 'Every 201 carries a Location header naming the created resource (RFC 9110 §15.3.2), a header the contract neither requires nor forbids.',
    async exchange(req, next) {
      const res = await next(req);
      if (res.status !== 201) return res;
      const d = json(res)?.data ?? {};
      const id = d.receiptId ?? d.checkpointId ?? d.id ?? '';
      const path = req.url.split('?')[0]!;
      return withHeaders(res, { location: d.receiptId ? `/api/v1/receipts/${id}` : d.checkpointId ? `/api/v1/checkpoints/${id}` : id ? `${path}/${id}` : path });
    },
  },
  {
    id: 'v2-delivery-extra-headers',
    description: 'Webhook deliveries carry a User-Agent, an attempt counter and a charset on Content-Type (extra headers a receiver ignores).',
    async delivery(d, send) {
      return send(withHeaders(d, { 'user-agent': 'PacSpace-Webhooks/2.1', 'x-pacspace-attempt': '1', 'content-type': 'application/json; charset=utf-8' }));
    },
  },
];
