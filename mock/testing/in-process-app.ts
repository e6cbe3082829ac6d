// An app without listeners for tests that swap a handler (a handler that throws, one that
// answers what its contract does not allow): the real handlers otherwise, the demo account
// seeded, and its derive as an in-process request.
import { createApp, type AppOptions } from '../app.ts';
import { controlHandlers } from '../control/handlers.ts';
import { seedDemoAccount } from '../demo/seed-demo.ts';
import type { Handlers } from '../domain/handler.ts';
import { apiHandlers } from '../domain/index.ts';
import { createLogger } from '../logger.ts';
import { createServices } from '../sandbox.ts';
import type { SandboxConfig } from '../services.ts';
import { testSandboxConfig } from './sandbox-config.ts';

export async function startInProcessApp(api: Handlers, options: { config?: Partial<SandboxConfig>; app?: AppOptions } = {}) {
  const services = await createServices(testSandboxConfig(options.config), { logLevel: 'silent', inspectHistory: 0 }, undefined, createLogger('silent'));
  const app = await createApp(services, { api: { ...apiHandlers, ...api }, control: controlHandlers }, options.app);
  const { apiKey } = await seedDemoAccount(services, 1);
  return {
    services,
    app,
    apiKey,
    /** The demo key's derive of customer_001, on the sandbox listener. */
    derive: () => app.handle({ method: 'GET', url: '/api/v1/balance/derive/customer_001', headers: { 'x-api-key': apiKey }, body: undefined, environment: 'test', clientAddress: '127.0.0.1' }),
    stop: () => {
      services.webhooks.stop?.();
      services.scheduler.stop();
    },
  };
}

export type InProcessApp = Awaited<ReturnType<typeof startInProcessApp>>;
