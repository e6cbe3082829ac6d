// Starts a real sandbox on free loopback ports for a test file, with clients for both
// listeners. Every response is checked against the contract by the client.
import { startSandbox, type RunningSandbox, type SandboxOptions } from '../sandbox.ts';
import { createHttpClient, type HttpClient } from './http-client.ts';

export type TestSandbox = RunningSandbox & {
  /** Client of the production listener (Dashboard API, pk_live_ keys), with its own cookie jar. */
  dashboard: HttpClient;
  /** Client of the sandbox listener (pk_test_ keys). */
  sandboxApi: HttpClient;
  /** Client of the production listener's Balance API (pk_live_ keys). */
  productionApi: HttpClient;
  /** A fresh client with an empty cookie jar, for a second user or session. */
  newDashboardClient(): HttpClient;
};

export async function startTestSandbox(options: SandboxOptions = {}): Promise<TestSandbox> {
  const sandbox = await startSandbox({ port: 0, sandboxPort: 0, seed: 1, provisioningMs: 1_000, ...options });
  return {
    ...sandbox,
    dashboard: createHttpClient(sandbox.productionUrl),
    sandboxApi: createHttpClient(sandbox.sandboxUrl),
    productionApi: createHttpClient(sandbox.productionUrl),
    newDashboardClient: () => createHttpClient(sandbox.productionUrl),
  };
}

export const CSRF = { 'X-Pacspace-CSRF': '1' } as const;
