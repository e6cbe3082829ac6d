// The mutant layer must be transparent when no mutant is in place (the clean run proves the
// suite through it), rewrite URLs both ways like a reverse proxy, and pass every exchange and
// webhook delivery through the mutant in place.
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { startMutantLayer, type MutantLayer } from './layer.ts';
import { mapJson, onResponse } from './mutant.ts';

type Seen = { method: string; url: string; headers: http.IncomingHttpHeaders; body: string };

async function server(handler: (req: http.IncomingMessage, body: string, res: http.ServerResponse) => void) {
  const seen: Seen[] = [];
  const s = http.createServer(async (req, res) => {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const body = Buffer.concat(chunks).toString('utf8');
    seen.push({ method: req.method!, url: req.url!, headers: req.headers, body });
    handler(req, body, res);
  });
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', () => r()));
  return { url: `http://127.0.0.1:${(s.address() as AddressInfo).port}`, seen, close: () => new Promise<void>((r) => { s.close(() => r()); s.closeAllConnections(); }) };
}

describe('mutant layer', () => {
  let production: Awaited<ReturnType<typeof server>>;
  let sandbox: Awaited<ReturnType<typeof server>>;
  let receiver: Awaited<ReturnType<typeof server>>;
  let layer: MutantLayer;
  /** The webhook URL the upstream stored, so the test can deliver to it as the sandbox would. */
  let storedWebhookUrl = '';

  beforeAll(async () => {
    receiver = await server((_req, _body, res) => res.writeHead(204).end());
    sandbox = await server((_req, _body, res) => res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ data: { listener: 'sandbox' } })));
    production = await server((req, body, res) => {
      if (req.url === '/dashboard/webhooks' && req.method === 'POST') {
        storedWebhookUrl = JSON.parse(body).url;
        res.writeHead(201, { 'content-type': 'application/json' }).end(JSON.stringify({ data: { id: 'wh_1', url: storedWebhookUrl } }));
        return;
      }
      res.setHeader('set-cookie', ['a=1; Path=/; HttpOnly', 'b=2; Path=/dashboard; Secure']);
      res.writeHead(201, { 'content-type': 'application/json', 'x-request-id': 'req_abcdefgh', location: `${production.url}/dashboard/x/1` });
      res.end(JSON.stringify({ data: { self: `${production.url}/dashboard/x/1`, other: `${sandbox.url}/api/v1/x`, echo: body } }));
    });
    layer = await startMutantLayer({ production: production.url, sandbox: sandbox.url });
  });
  afterAll(async () => {
    await layer.close();
    await Promise.all([production.close(), sandbox.close(), receiver.close()]);
  });
  beforeEach(() => layer.use(undefined));

  it('forwards method, path, query, headers and body, and returns status, every Set-Cookie and the body', async () => {
    const res = await fetch(`${layer.productionUrl}/dashboard/x?page=2`, { method: 'POST', headers: { 'content-type': 'application/json', 'x-pacspace-csrf': '1' }, body: '{"n":1}' });
    expect(res.status).toBe(201);
    expect(res.headers.getSetCookie()).toEqual(['a=1; Path=/; HttpOnly', 'b=2; Path=/dashboard; Secure']);
    expect(res.headers.get('x-request-id')).toBe('req_abcdefgh');
    const sent = production.seen.at(-1)!;
    expect([sent.method, sent.url, sent.headers['x-pacspace-csrf'], sent.body]).toEqual(['POST', '/dashboard/x?page=2', '1', '{"n":1}']);
    const body = (await res.json()) as any;
    expect(body.data.echo).toBe('{"n":1}');
  });

  it('shows the layer\'s own base URLs in bodies and Location, never the upstream\'s', async () => {
    const res = await fetch(`${layer.productionUrl}/dashboard/x`);
    const body = (await res.json()) as any;
    expect(body.data.self).toBe(`${layer.productionUrl}/dashboard/x/1`);
    expect(body.data.other).toBe(`${layer.sandboxUrl}/api/v1/x`);
    expect(res.headers.get('location')).toBe(`${layer.productionUrl}/dashboard/x/1`);
  });

  it('routes each listener to its own upstream', async () => {
    const res = await fetch(`${layer.sandboxUrl}/api/v1/anything`);
    expect(((await res.json()) as any).data.listener).toBe('sandbox');
  });

  it('registers webhook URLs through its relay, shows them back as registered, and relays deliveries with headers and body', async () => {
    const registered = `${receiver.url}/hooks/abc?x=1`;
    const res = await fetch(`${layer.productionUrl}/dashboard/webhooks`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ url: registered }) });
    expect(((await res.json()) as any).data.url).toBe(registered);
    expect(storedWebhookUrl).not.toBe(registered);
    const delivered = await fetch(storedWebhookUrl, { method: 'POST', headers: { 'content-type': 'application/json', 'pacspace-signature': 't=1,v1=ab' }, body: '{"id":"evt_1"}' });
    expect(delivered.status).toBe(204);
    const got = receiver.seen.at(-1)!;
    expect([got.url, got.headers['pacspace-signature'], got.body]).toEqual(['/hooks/abc?x=1', 't=1,v1=ab', '{"id":"evt_1"}']);
  });

  it('passes exchanges and deliveries through the mutant in place, and forgets it on use(undefined)', async () => {
    layer.use({
      ...onResponse('x', [], 'adds a member', () => true, (r) => mapJson(r, (b) => ({ ...b, added: true }))),
      async delivery(d, send) {
        await send(d);
        return send({ ...d, body: Buffer.from('{"id":"evt_2"}') });
      },
    });
    expect(((await (await fetch(`${layer.sandboxUrl}/api/v1/a`)).json()) as any).added).toBe(true);
    const before = receiver.seen.length;
    await fetch(storedWebhookUrl, { method: 'POST', body: '{"id":"evt_1"}' });
    expect(receiver.seen.slice(before).map((s) => s.body)).toEqual(['{"id":"evt_1"}', '{"id":"evt_2"}']);
    layer.use(undefined);
    expect(((await (await fetch(`${layer.sandboxUrl}/api/v1/a`)).json()) as any).added).toBeUndefined();
  });

  it('answers 502 problem+json when the mutant itself throws, so a broken mutant is never mistaken for a server answer', async () => {
    layer.use({ id: 'broken', rules: [], description: '', exchange: async () => { throw new Error('boom'); } });
    const res = await fetch(`${layer.sandboxUrl}/api/v1/a`);
    expect(res.status).toBe(502);
    expect(res.headers.get('content-type')).toBe('application/problem+json');
    expect(((await res.json()) as any).detail).toBe('boom');
  });
});
