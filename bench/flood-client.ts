// One flood of `npm run bench -- --only floods`, run in its own process (so the load generator
// does not share an event loop with the derive probe it disturbs): autocannon (bench/load.ts's
// `flood`) against a sandbox on 127.0.0.1 only, bounded in time and in requests. Prints its
// LoadResult as one JSON line on stdout.
//
//   node --import tsx bench/flood-client.ts '{"kind":"logins","productionUrl":…,"sandboxUrl":…,"connections":100,"rate":1000,"seconds":12,"amount":20000}'
import { flood } from './load.ts';

export type FloodKind = 'logins' | 'login-1mb' | 'delta-1mb-no-key';
export type FloodConfig = { kind: FloodKind; productionUrl: string; sandboxUrl: string; connections: number; rate: number; seconds: number; amount: number };

/** The tester's body: `base` plus unknown members `"0":0,"1":0,…` up to 1 MiB less a little. */
export function unknownMembers(base: Record<string, unknown>, bytes = 1024 * 1024 - 64): string {
  const parts = Object.entries(base).map(([k, v]) => `${JSON.stringify(k)}:${JSON.stringify(v)}`);
  let length = parts.join(',').length + 2;
  for (let i = 0; ; i++) {
    const part = `"${i.toString(36)}":0`;
    if (length + part.length + 1 > bytes) break;
    parts.push(part);
    length += part.length + 1;
  }
  return `{${parts.join(',')}}`;
}

const config = JSON.parse(process.argv[2] ?? '{}') as FloodConfig;
for (const url of [config.productionUrl, config.sandboxUrl]) {
  if (new URL(url).hostname !== '127.0.0.1') throw new Error(`floods go to 127.0.0.1 only, not ${url}`);
}
const json = { 'content-type': 'application/json' };
let n = 0;
const [baseUrl, requests] = ((): [string, Parameters<typeof flood>[1]] => {
  switch (config.kind) {
    case 'logins':
      // Failed logins, each for a new address: the per-email throttle never applies.
      return [
        config.productionUrl,
        [
          {
            method: 'POST',
            path: '/dashboard/auth/login',
            headers: json,
            setupRequest: (request) => ({ ...request, body: JSON.stringify({ email: `flood-${process.pid}-${n++}@example.com`, password: 'not the password' }) }),
          },
        ],
      ];
    case 'login-1mb':
      // A public operation: parsed and validated, whoever sends it.
      return [config.productionUrl, [{ method: 'POST', path: '/dashboard/auth/login', headers: json, body: unknownMembers({ email: 'nobody@example.com', password: 'x' }) }]];
    case 'delta-1mb-no-key':
      // An authenticated operation without a key: refused before the body is parsed.
      return [config.sandboxUrl, [{ method: 'POST', path: '/api/v1/balance/delta', headers: json, body: unknownMembers({ customerId: 'c', delta: '1', reason: 'x' }) }]];
  }
})();
const result = await flood(baseUrl, requests, config.connections, config.seconds, config.amount, config.rate);
process.stdout.write(`${JSON.stringify(result)}\n`);
process.exit(0);
