// Environment activations: a provisioned environment is `active` once its `activeAt` has
// passed on the sandbox clock (its status is judged against the clock when read), and
// `environment.activated` is announced then. provisionEnvironment arms the announcement;
// resumeActivations re-arms the ones still to come after a journal replay (called where the
// sandbox starts, mock/sandbox.ts).
import type { Services } from '../services.ts';
import type { KeyEnvironment, Network } from '../state/events.ts';
import { iso } from './handler.ts';

const NETWORKS: Network[] = ['testnet', 'mainnet'];
const KEY_ENVIRONMENT: Record<Network, KeyEnvironment> = { testnet: 'test', mainnet: 'live' };

/** Announces `environment.activated` when a provisioned environment becomes active (at `activeAt` on the sandbox clock). */
export function scheduleActivation(services: Services, tenantId: string, network: Network, activeAt: number) {
  services.scheduler.at(activeAt, async () => {
    // Gone (reset) or provisioned anew since: this activation is not the current one.
    if (services.store.state.tenants.get(tenantId)?.environments[network]?.activeAt !== activeAt) return;
    const events = services.webhooks.announce({
      type: 'environment.activated',
      tenantId,
      environment: KEY_ENVIRONMENT[network],
      at: activeAt,
      data: { tenantId, environment: network, status: 'active', provisionedAt: iso(activeAt) },
    });
    if (events.length === 0) return;
    await services.store.commit(...events);
    services.webhooks.flush();
  });
}

/** Re-arms every environment activation that had not happened by the last journaled instant, after a journal replay. */
export function resumeActivations(services: Services): void {
  const state = services.store.state;
  for (const tenant of state.tenants.values()) {
    for (const network of NETWORKS) {
      const env = tenant.environments[network];
      // Nothing after lastEventAt was journaled, so an activation past it has not been announced.
      if (env && env.activeAt > state.lastEventAt) scheduleActivation(services, tenant.id, network, env.activeAt);
    }
  }
}
