// Legal variations: servers that differ from the sandbox only in ways HTTP and the contract
// allow. The whole suite must pass under each; a failure is a false alarm of the suite.
// `singleVariations` are the variations one by one (with a second set written apart from the
// suite, variations-2.ts); `variations`, what `npm test` runs, puts the ones that compose into
// one server each (all of the wire format at once, all of the webhook delivery at once, all of
// the second set at once) — a whole suite run apiece costs CPU a small machine does not have —
// while `--variations id,…` runs any of them alone.
import { gzipSync } from 'node:zlib';
import { moreVariations } from './variations-2.ts';
import { contractOperations, eachObject, header, mapJson, operationOf, setCookies, withHeaders, type ProxiedRequest, type ProxiedResponse, type Variation } from './mutant.ts';

/** A small seeded generator, so a variation behaves the same on every run. */
function random(seed: number) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const isJsonResponse = (res: ProxiedResponse) => /json/i.test(header(res, 'content-type') ?? '');

/** Operations that document a 429 (a variation may answer 429 only where the contract allows it). */
const documents429 = new Set(contractOperations.filter((o) => '429' in (o.operation.responses ?? {})).map((o) => o.operationId));
/** And those that document a 503. */
const documents503 = new Set(contractOperations.filter((o) => '503' in (o.operation.responses ?? {})).map((o) => o.operationId));

function reverseMembers(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(reverseMembers);
  if (value && typeof value === 'object') return Object.fromEntries(Object.entries(value).reverse().map(([k, v]) => [k, reverseMembers(v)]));
  return value;
}

const firstVariations: Variation[] = [
  {
    id: 'reordered-members',
    description: 'Every JSON object of every response lists its members in reverse order (RFC 8259: order carries no meaning).',
    async exchange(req, next) {
      const res = await next(req);
      return isJsonResponse(res) ? mapJson(res, reverseMembers) : res;
    },
  },
  {
    id: 'extra-fields-and-headers',
    description: 'Every JSON object of every response carries an extra member and every response extra headers (the response schemas are open; unknown headers are ignored).',
    async exchange(req, next) {
      const res = await next(req);
      const withExtras = withHeaders(res, { 'x-served-by': 'variation-edge-7', 'cache-control': header(res, 'cache-control') ?? 'no-store', vary: 'Accept-Encoding' });
      return isJsonResponse(res)
        ? mapJson(withExtras, (body) => {
            const objects: Record<string, any>[] = [];
            // Client data (a delta's `metadata`) is echoed as sent: only the server's own objects grow.
            eachObject(body, (o) => objects.push(o));
            eachObject(body, (o) => {
              if (o.metadata && typeof o.metadata === 'object') eachObject(o.metadata, (m) => objects.splice(objects.indexOf(m), 1));
            });
            for (const o of objects) o.x_extension = { note: 'an extra member a client must ignore' };
          })
        : withExtras;
    },
  },
  {
    id: 'lower-rate-limit',
    description: 'A rate limit of 60 requests per second per listener (bursts of 30), answered 429 rate_limited with Retry-After (only where the contract documents 429).',
    async exchange(req, next) {
      const now = Date.now();
      const bucket = lowerLimit[req.listener];
      bucket.tokens = Math.min(30, bucket.tokens + ((now - bucket.at) / 1000) * 60);
      bucket.at = now;
      const op = operationOf(req);
      if (op && documents429.has(op)) {
        if (bucket.tokens < 1) {
          const wait = Math.ceil((1 - bucket.tokens) / 60);
          return {
            status: 429,
            headers: { 'content-type': 'application/problem+json', 'retry-after': String(wait), 'ratelimit-limit': '60', 'ratelimit-remaining': '0', 'ratelimit-reset': String(wait), 'x-request-id': 'req_variation429' },
            body: Buffer.from(JSON.stringify({ type: 'https://docs.pacspace.io/errors/rate_limited', title: 'Too many requests', status: 429, code: 'rate_limited', detail: `Rate limit exceeded; retry after ${wait} seconds.`, requestId: 'req_variation429', retryAfter: wait })),
          };
        }
        bucket.tokens -= 1;
      }
      return next(req);
    },
  },
  {
    id: 'latency',
    description: 'Every response is 1–15 ms late, one in fifty 120 ms: a slower deployment.',
    async exchange(req, next) {
      const res = await next(req);
      const r = latencyRandom();
      await sleep(r < 0.02 ? 120 : 1 + r * 14);
      return res;
    },
  },
  {
    id: 'compressed',
    description: 'Bodies are gzip-compressed whenever the request accepts gzip (RFC 9110 content coding).',
    async exchange(req, next) {
      const res = await next(req);
      if (!res.body.length || !/\bgzip\b/i.test(header(req, 'accept-encoding') ?? '')) return res;
      return { ...withHeaders(res, { 'content-encoding': 'gzip', vary: 'Accept-Encoding' }), body: gzipSync(res.body) };
    },
  },
  {
    id: 'media-type-spellings',
    description: 'Media types spelled otherwise: other case, spaces and a quoted charset parameter (RFC 9110 §8.3.1: the same media type).',
    async exchange(req, next) {
      const res = await next(req);
      const type = header(res, 'content-type');
      if (!type || !/json/i.test(type)) return res;
      return withHeaders(res, { 'content-type': /problem/i.test(type) ? 'Application/Problem+JSON ; charset="UTF-8"' : 'application/JSON;charset=utf-8' });
    },
  },
  {
    id: 'reworded-problems',
    description: 'Problem titles and details are worded differently (only `type`, `status` and `code` are machine-readable).',
    async exchange(req, next) {
      const res = await next(req);
      if (!/problem\+json/i.test(header(res, 'content-type') ?? '')) return res;
      return mapJson(res, (p) => {
        if (p && typeof p === 'object' && typeof p.code === 'string') {
          p.title = `Request refused: ${p.code.replace(/_/g, ' ')}`;
          p.detail = `The server refused this request (${p.code}).`;
        }
      });
    },
  },
  {
    id: 'cookie-attributes-varied',
    description: 'Set-Cookie attributes in another order and case, with Expires beside Max-Age (RFC 6265: attribute names are case-insensitive, order is free).',
    async exchange(req, next) {
      const res = await next(req);
      const cookies = setCookies(res);
      if (!cookies.length) return res;
      return withHeaders(res, { 'set-cookie': cookies.map(varyCookie) });
    },
  },
  {
    id: 'late-webhooks',
    description: 'Webhook deliveries arrive 0.6 s after the event (delivery is asynchronous; the contract gives no deadline).',
    async delivery(d, send) {
      await sleep(600);
      return send(d);
    },
  },
  {
    id: 'duplicate-webhooks',
    description: 'Every webhook delivery is sent twice ("Events may arrive more than once").',
    async delivery(d, send) {
      const first = await send(d);
      await send(d);
      return first;
    },
  },
  {
    id: 'brief-unavailability',
    description:
      'One request in 60 is answered 503 storage_unavailable with Retry-After: 1 and not passed on (nothing changed), where the contract documents 503 (every operation): a deployment whose storage fails now and then.',
    async exchange(req, next) {
      const op = operationOf(req);
      if (!op || !documents503.has(op) || ++unavailable.count % 60 !== 0) return next(req);
      const requestId = `req_variation503n${unavailable.count}`;
      return {
        status: 503,
        headers: { 'content-type': 'application/problem+json', 'retry-after': '1', 'x-request-id': requestId },
        body: Buffer.from(
          JSON.stringify({
            type: 'https://docs.pacspace.io/errors/storage_unavailable',
            title: 'Storage unavailable',
            status: 503,
            code: 'storage_unavailable',
            detail: 'The change could not be stored, so nothing was changed; retry after the Retry-After delay.',
            requestId,
          }),
        ),
      };
    },
  },
  {
    id: 'reordered-webhooks',
    description: 'Webhook deliveries are held and sent in a shuffled order ("Events may arrive … out of order").',
    async delivery(d, send) {
      await sleep(webhookRandom() * 600);
      return send(d);
    },
  },
];

export const singleVariations: Variation[] = [...firstVariations, ...moreVariations];

const unavailable = { count: 0 };
const lowerLimit: Record<ProxiedRequest['listener'], { tokens: number; at: number }> = { production: { tokens: 30, at: Date.now() }, sandbox: { tokens: 30, at: Date.now() } };
const latencyRandom = random(7);
const webhookRandom = random(11);

/** `a=b; Path=/x; HttpOnly; Secure; SameSite=Strict; Max-Age=60` → `a=b; max-age=60; expires=…; samesite=strict; secure; httponly; path=/x`. */
function varyCookie(line: string): string {
  const [pair, ...attributes] = line.split(';').map((s) => s.trim());
  const lowered = attributes.map((a) => {
    const [name, ...value] = a.split('=');
    return value.length ? `${name!.toLowerCase()}=${value.join('=')}` : name!.toLowerCase();
  });
  const maxAge = lowered.find((a) => a.startsWith('max-age='));
  const expires = maxAge && !lowered.some((a) => a.startsWith('expires=')) ? [`expires=${new Date(Date.now() + Number(maxAge.slice(8)) * 1000).toUTCString()}`] : [];
  return [pair, ...[...lowered, ...expires].reverse()].join('; ');
}


/**
 * One server with every part's changes: the first part is outermost (sees the request first and
 * the response last), so a part that rewrites bytes (gzip) goes before those that read JSON.
 */
function combine(id: string, ids: string[]): Variation & { parts: string[] } {
  const parts = ids.map((part) => {
    const found = singleVariations.find((v) => v.id === part);
    if (!found) throw new Error(`variation ${id}: no variation ${part}`);
    return found;
  });
  const exchangers = parts.filter((v) => v.exchange);
  const deliverers = parts.filter((v) => v.delivery);
  return {
    id,
    parts: ids,
    description: `All at once: ${ids.join(', ')}.`,
    ...(exchangers.length && {
      exchange: (req, next, ctx) => exchangers.reduceRight<typeof next>((inner, v) => (r) => v.exchange!(r, inner, ctx), next)(req),
    }),
    ...(deliverers.length && {
      delivery: (d, send, ctx) => deliverers.reduceRight<typeof send>((inner, v) => (x) => v.delivery!(x, inner, ctx), send)(d),
    }),
  };
}

export const variations: Array<Variation & { parts?: string[] }> = [
  combine('wire-format', ['compressed', 'media-type-spellings', 'cookie-attributes-varied', 'reworded-problems', 'extra-fields-and-headers', 'reordered-members']),
  combine('limits-and-outages', ['lower-rate-limit', 'brief-unavailability']),
  ...singleVariations.filter((v) => v.id === 'latency'),
  combine('webhook-delivery', ['reordered-webhooks', 'duplicate-webhooks', 'late-webhooks']),
  combine('edge-and-formats', moreVariations.map((v) => v.id)),
];
