// A webhook receiver the suite starts on --webhook-host: it keeps every delivery's raw body
// and headers and answers 200. Signatures are checked by the checks, with lib/signature.ts.
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';

export type Delivery = { headers: Record<string, string>; raw: string; body: any; receivedAt: number };

export async function startReceiver(host: string) {
  const deliveries: Delivery[] = [];
  const waiters: Array<() => void> = [];
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const raw = Buffer.concat(chunks).toString('utf8');
      let body: unknown;
      try {
        body = JSON.parse(raw);
      } catch {
        body = undefined;
      }
      const headers = Object.fromEntries(Object.entries(req.headers).map(([k, v]) => [k, Array.isArray(v) ? v.join(', ') : (v ?? '')]));
      deliveries.push({ headers, raw, body, receivedAt: Date.now() });
      res.writeHead(200).end();
      for (const w of waiters.splice(0)) w();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, host, resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://${host}:${port}/pacspace-webhooks`,
    deliveries,
    /** Waits until a delivery matches, or fails after `timeoutMs`. */
    async waitFor(match: (d: Delivery) => boolean, timeoutMs = 15_000): Promise<Delivery> {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const found = deliveries.find(match);
        if (found) return found;
        if (Date.now() > deadline) throw new Error('no matching webhook delivery arrived in time');
        await new Promise<void>((resolve) => {
          waiters.push(resolve);
          setTimeout(resolve, 200);
        });
      }
    },
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

export type Receiver = Awaited<ReturnType<typeof startReceiver>>;
