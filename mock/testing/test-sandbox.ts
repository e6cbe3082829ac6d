// Starts a real sandbox for a test file (services, store, scheduler, webhooks, both listeners
// bound to free loopback ports), with clients for both listeners. Every response is checked
// against the contract by the client.
//
// transport 'in-process' (the default): the clients hand each request to the app's `handle`,
// as the listeners do, without a socket — the sandbox is wired exactly as `startSandbox` wires
// it and its listeners are up (webhook self-target checks, `Host` ports), only not used by the
// clients. 'loopback': the clients go over the listeners' sockets, for tests about the wire
// (listener limits and timeouts, connections, what a real HTTP client sees).
import { startSandbox, type RunningSandbox, type SandboxOptions } from '../sandbox.ts';
import { createHttpClient, type HttpClient, type Transport } from './http-client.ts';

export type TestSandbox = RunningSandbox & {
  /** Client of the production listener (Dashboard API, pk_live_ keys), with its own cookie jar. */
  dashboard: HttpClient;
  /** Client of the sandbox listener (pk_test_ keys). */
  sandboxApi: HttpClient;
  /** Client of the production listener's Balance API (pk_live_ keys). */
  productionApi: HttpClient;
  /** A fresh client with an empty cookie jar, for a second user or session. */
  newDashboardClient(): HttpClient;
  /** A fresh client of the sandbox listener (pk_test_ keys). */
  newSandboxClient(): HttpClient;
  transport: Transport;
};

export type TestSandboxOptions = SandboxOptions & { transport?: Transport };

export async function startTestSandbox(options: TestSandboxOptions = {}): Promise<TestSandbox> {
  // PACSPACE_TEST_TRANSPORT=loopback runs every test that does not choose over the sockets too.
  const { transport = defaultTransport(), ...sandboxOptions } = options;
  // Idle connections are kept a minute, not 5 s: a client that reuses one just as the sandbox
  // closes it gets ECONNRESET (Node's fetch near its keep-alive expiry, nodejs/undici#3141), and on
  // a loaded machine a test's pause between two requests can land there. The SDK retries such a
  // reset; the tests' plain fetch calls do not, and are not about keep-alive (listener-limits is).
  const sandbox = await startSandbox({ port: 0, sandboxPort: 0, seed: 1, provisioningMs: 1_000, ...sandboxOptions, connections: { keepAliveTimeoutMs: 60_000, ...sandboxOptions.connections } });
  const production = () => createHttpClient(sandbox.productionUrl, transport === 'in-process' ? { handle: sandbox.handle, environment: 'live' } : undefined);
  const test = () => createHttpClient(sandbox.sandboxUrl, transport === 'in-process' ? { handle: sandbox.handle, environment: 'test' } : undefined);
  return {
    ...sandbox,
    transport,
    dashboard: production(),
    sandboxApi: test(),
    productionApi: production(),
    newDashboardClient: production,
    newSandboxClient: test,
  };
}

function defaultTransport(): Transport {
  const chosen = process.env.PACSPACE_TEST_TRANSPORT;
  if (chosen === undefined || chosen === '') return 'in-process';
  if (chosen !== 'loopback' && chosen !== 'in-process') throw new RangeError(`PACSPACE_TEST_TRANSPORT must be loopback or in-process, got ${chosen}`);
  return chosen;
}

export const CSRF = { 'X-Pacspace-CSRF': '1' } as const;
